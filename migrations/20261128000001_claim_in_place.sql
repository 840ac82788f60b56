-- Sending rewrites a message's row three times (queued, claimed, sent). Two changes make the
-- middle one cheap:
--
-- A claimed message keeps its status 'queued' and is told apart by its lease (locked_until set;
-- the API shows it as "sending"). The claim then changes no indexed column, so PostgreSQL
-- rewrites the row in place (a HOT update) instead of adding an entry to each of the table's
-- indexes — those entries were most of a claim's cost. The lease is no longer indexed (an index
-- on it would undo this); the sender looks for expired leases every few seconds instead.
-- Room is left on each page for those in-place versions.
--
-- A message's texts leave its row (compressed, into the table's TOAST storage) once the row
-- passes 512 bytes, instead of staying inline up to 2 KB: every version of the row copied them
-- (~2.5 KB for a 5 KB email); out of line a version is a few hundred bytes and the texts are
-- written once, when the message is prepared.
alter table campaign_messages set (toast_tuple_target = 512, fillfactor = 85);
update campaign_messages set status = 'queued' where status = 'sending';
drop index campaign_messages_lease_idx;

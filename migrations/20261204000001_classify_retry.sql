-- The classifier tries an answer again after a failure (the organization's model unreachable or
-- refusing its key), a few times with growing waits; then the answer is left unlabelled, with the
-- reason kept.
alter table inbound_messages
    add column classify_attempts int not null default 0,
    add column classify_after timestamptz,
    add column classify_error text;

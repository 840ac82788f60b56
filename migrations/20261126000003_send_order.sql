-- The sender takes queued messages in (send_after, id) order: an index in that order lets each
-- claim read only the rows it takes, however long the queue.
drop index campaign_messages_send_idx;
create index campaign_messages_send_idx on campaign_messages (mailbox_id, send_after, id)
    where status = 'queued';

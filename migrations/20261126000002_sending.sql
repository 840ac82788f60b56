-- What sending needs on targets and messages, the sandbox outbox and tracking events.

-- The lead's sticky mailbox and the thread its emails continue.
alter table campaign_targets
    add column mailbox_id   uuid,
    add column thread_refs  text[] not null default '{}',
    add column last_subject text,
    add constraint campaign_targets_mailbox_fkey foreign key (org_id, mailbox_id)
        references mailboxes (org_id, id) on delete set null (mailbox_id);

alter table campaign_messages
    add column mailbox_id    uuid,
    -- The Message-ID header (without angle brackets), fixed when queued, and the thread it answers.
    add column message_id   text,
    add column in_reply_to  text,
    add column refs         text[] not null default '{}',
    add column queued_at    timestamptz,
    -- Not before this moment (retries back off).
    add column send_after   timestamptz,
    add column attempts     integer not null default 0,
    add column locked_until timestamptz,
    add column sent_at      timestamptz,
    -- The server's last answer, or why it was not sent.
    add column smtp_reply   text,
    add constraint campaign_messages_mailbox_fkey foreign key (org_id, mailbox_id)
        references mailboxes (org_id, id) on delete set null (mailbox_id);

create index campaign_messages_send_idx on campaign_messages (mailbox_id, send_after)
    where status = 'queued';
create index campaign_messages_lease_idx on campaign_messages (locked_until)
    where status = 'sending';
-- Counting a mailbox's sends of the day.
create index campaign_messages_mailbox_day_idx on campaign_messages (org_id, mailbox_id, queued_at)
    where queued_at is not null;

-- What a sandbox mailbox caught, as it would have gone out.
create table outbox (
    org_id      uuid not null references organizations (id) on delete cascade,
    id          uuid not null,
    mailbox_id  uuid,
    message_id  uuid,
    recipient   text not null,
    subject     text not null,
    raw         bytea not null,
    caught_at   timestamptz not null default now(),
    primary key (org_id, id),
    foreign key (org_id, mailbox_id) references mailboxes (org_id, id) on delete set null (mailbox_id)
);
create index outbox_recent_idx on outbox (org_id, caught_at desc);

create type message_event_kind as enum ('open', 'click', 'unsubscribe');

-- Opens, clicks and unsubscribes of campaign messages.
create table message_events (
    org_id     uuid not null references organizations (id) on delete cascade,
    message_id uuid not null,
    kind       message_event_kind not null,
    url        text,
    at         timestamptz not null default now()
);
create index message_events_message_idx on message_events (org_id, message_id);

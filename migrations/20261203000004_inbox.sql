-- The inbox: conversations (a contact on a channel, across campaigns) and the mail that arrived
-- in them. What Aura sent stays in campaign_messages; a thread is both, in time order.

create type conversation_status as enum ('open', 'done', 'snoozed');
create type inbound_kind as enum ('reply', 'auto_reply', 'bounce', 'complaint', 'machine');
create type reply_label as enum (
    'interested', 'not_interested', 'question', 'out_of_office', 'bounce', 'unsubscribe', 'other');

create table conversations (
    org_id          uuid not null references organizations (id) on delete cascade,
    id              uuid not null,
    contact_id      uuid not null,
    channel         channel not null,
    -- The mailbox the last message came through (answers go out through it).
    mailbox_id      uuid,
    -- The campaign the last matched message belonged to.
    campaign_id     uuid,
    status          conversation_status not null default 'open',
    unread          boolean not null default true,
    classification  reply_label,
    -- An out-of-office's return date, while one is known.
    away_until      date,
    snippet         text not null default '',
    last_message_at timestamptz not null,
    created_at      timestamptz not null default now(),
    primary key (org_id, id),
    unique (org_id, contact_id, channel),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade,
    foreign key (org_id, mailbox_id) references mailboxes (org_id, id) on delete set null (mailbox_id),
    foreign key (org_id, campaign_id) references campaigns (org_id, id) on delete set null (campaign_id)
);
create index conversations_recent_idx on conversations (org_id, last_message_at desc, id);

create table inbound_messages (
    org_id          uuid not null references organizations (id) on delete cascade,
    id              uuid not null,
    -- None for mail that belongs to no contact (lists, notifications from strangers).
    conversation_id uuid,
    mailbox_id      uuid,
    kind            inbound_kind not null,
    -- The Message-ID header without angle brackets, as campaign_messages stores ours.
    message_id      text,
    -- The message of ours it answers or reports on, when found.
    campaign_message_id uuid,
    from_address    text,
    from_name       text,
    subject         text not null default '',
    body_text       text not null default '',
    classification  reply_label,
    -- What the mail said beyond its kind: a bounce's status and diagnostic, a return date.
    detail          text,
    raw             bytea not null,
    -- SHA-256 of the raw bytes: the same mail fetched twice is stored once even without an id.
    content_hash    bytea not null,
    received_at     timestamptz not null,
    created_at      timestamptz not null default now(),
    primary key (org_id, id),
    unique (org_id, content_hash),
    foreign key (org_id, conversation_id) references conversations (org_id, id) on delete cascade,
    foreign key (org_id, mailbox_id) references mailboxes (org_id, id) on delete set null (mailbox_id)
);
alter table inbound_messages alter column raw set compression lz4;
create unique index inbound_messages_message_id_idx on inbound_messages (org_id, message_id)
    where message_id is not null;
create index inbound_messages_thread_idx on inbound_messages (org_id, conversation_id, received_at);
-- Matching arrived mail to the message of ours it answers, by Message-ID.
create index campaign_messages_message_id_idx on campaign_messages (org_id, message_id)
    where message_id is not null;

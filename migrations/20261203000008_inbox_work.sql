-- Working the inbox: answers written by a person in a conversation (sent through the
-- conversation's mailbox by the sender, with a lease, as campaign messages are), who a
-- conversation is assigned to, until when it is snoozed, whether it waits for an answer, and the
-- classifications people corrected (kept for analytics).

-- Two more things an answer can mean (added values are used only after this migration commits).
alter type reply_label add value 'meeting_request' after 'interested';
alter type reply_label add value 'wrong_person' after 'not_interested';

create type reply_status as enum ('queued', 'sent', 'failed', 'unknown');

create table conversation_replies (
    org_id          uuid not null references organizations (id) on delete cascade,
    id              uuid not null,
    conversation_id uuid not null,
    mailbox_id      uuid,
    author_id       uuid references users (id) on delete set null,
    to_address      text not null,
    subject         text not null,
    body_text       text not null,
    -- The Message-ID header (without angle brackets) and the thread it answers.
    message_id      text not null,
    in_reply_to     text,
    refs            text[] not null default '{}',
    status          reply_status not null default 'queued',
    attempts        integer not null default 0,
    send_after      timestamptz not null,
    -- While set on a queued reply, a sender holds it; a lease that runs out leaves it unknown.
    locked_until    timestamptz,
    sent_at         timestamptz,
    -- The server's last answer, or why it was not sent.
    smtp_reply      text,
    created_at      timestamptz not null,
    primary key (org_id, id),
    foreign key (org_id, conversation_id) references conversations (org_id, id) on delete cascade,
    foreign key (org_id, mailbox_id) references mailboxes (org_id, id) on delete set null (mailbox_id)
);
create index conversation_replies_thread_idx on conversation_replies (org_id, conversation_id, created_at);
create index conversation_replies_due_idx on conversation_replies (send_after)
    where status = 'queued' and locked_until is null;
create index conversation_replies_lease_idx on conversation_replies (locked_until)
    where status = 'queued' and locked_until is not null;
-- A lead's answer to one of these is matched by its In-Reply-To.
create index conversation_replies_message_id_idx on conversation_replies (org_id, message_id);

alter table conversations
    add column assignee_id   uuid references users (id) on delete set null,
    add column snoozed_until timestamptz,
    -- A person's answer arrived and nobody has answered it yet.
    add column needs_reply   boolean not null default false,
    -- A person set the classification (what it replaced is kept in classification_corrections).
    add column classified_by_hand boolean not null default false;
-- The list is read newest first in keyset pages: (last_message_at, id) both descending.
drop index conversations_recent_idx;
create index conversations_recent_idx on conversations (org_id, last_message_at desc, id desc);
create index conversations_snoozed_idx on conversations (snoozed_until) where status = 'snoozed';

-- A person's answer the rules could not label waits for the AI layer's classifier (the
-- organization's model, or the built-in writer), which runs outside the sync's transactions.
alter table inbound_messages
    add column needs_model boolean not null default false,
    add column classification_confidence real,
    -- The HTML part as it arrived (shown in a sandboxed frame), and what was attached (listed).
    add column body_html text,
    add column attachments jsonb not null default '[]';
alter table inbound_messages alter column body_html set compression lz4;
create index inbound_messages_needs_model_idx on inbound_messages (received_at) where needs_model;

create table classification_corrections (
    org_id          uuid not null references organizations (id) on delete cascade,
    id              uuid not null,
    conversation_id uuid not null,
    from_label      reply_label,
    to_label        reply_label not null,
    corrected_by    uuid references users (id) on delete set null,
    corrected_at    timestamptz not null,
    primary key (org_id, id),
    foreign key (org_id, conversation_id) references conversations (org_id, id) on delete cascade
);
create index classification_corrections_idx on classification_corrections (org_id, corrected_at);

-- Conversations whose last arrival was a person's answer wait for ours.
update conversations v set needs_reply = true
where v.status = 'open' and exists (
    select 1 from inbound_messages i
    where i.org_id = v.org_id and i.conversation_id = v.id and i.kind = 'reply'
      and i.received_at = v.last_message_at);

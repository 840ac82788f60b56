-- Texts (SMS and WhatsApp) go out through the organization's numbers, at each number's pace.

-- A number Twilio says cannot receive texts (invalid, a landline, unknown to its carrier) is
-- suppressed with this reason: it is never tried again, by any campaign.
alter type suppression_reason add value if not exists 'unreachable';

alter table campaign_messages
    -- The sending number of a queued or sent text (none for email).
    add column phone_number_id uuid,
    -- Twilio's latest status for the text (queued, sent, delivered, undelivered, failed, read),
    -- with its rank: a status callback never moves it backwards.
    add column provider_status text,
    add column provider_status_rank smallint not null default 0,
    -- Twilio's error code for a refused or undelivered text.
    add column error_code integer,
    -- When a text whose send has an unknown outcome was looked for in the account's messages.
    add column reconciled_at timestamptz,
    add constraint campaign_messages_number_fkey foreign key (org_id, phone_number_id)
        references phone_numbers (org_id, id) on delete set null (phone_number_id);

-- The text sender's claim: a number's earliest queued message.
create index campaign_messages_text_send_idx on campaign_messages (phone_number_id, send_after, id)
    where status = 'queued' and phone_number_id is not null;
-- Texts whose outcome is unknown and not yet looked for at Twilio.
create index campaign_messages_text_unknown_idx on campaign_messages (send_after)
    where status = 'unknown' and phone_number_id is not null and reconciled_at is null;

-- Status callbacks already applied: Twilio retries, and each (message, status) counts once.
create table text_status_events (
    org_id      uuid not null references organizations (id) on delete cascade,
    sid         text not null,
    status      text not null,
    -- Twilio's I-Twilio-Idempotency-Token, when it sent one.
    token       text,
    -- The status's rank and error code: a callback that arrives before the send is recorded is
    -- applied when it is.
    rank        smallint not null default 0,
    error_code  integer,
    received_at timestamptz not null default now(),
    primary key (org_id, sid, status)
);
create unique index text_status_events_token on text_status_events (org_id, token) where token is not null;

-- What the sandbox number "sent": kept here, never sent, shown as phone bubbles.
create table phone_outbox (
    org_id      uuid not null references organizations (id) on delete cascade,
    id          uuid not null,
    number_id   uuid,
    message_id  uuid,
    channel     channel not null,
    from_number text not null,
    to_number   text not null,
    body        text not null,
    created_at  timestamptz not null default now(),
    primary key (org_id, id),
    foreign key (org_id, number_id) references phone_numbers (org_id, id) on delete set null (number_id)
);
create index phone_outbox_recent_idx on phone_outbox (org_id, created_at desc);

-- The first text to a number names the sender and says how to opt out (on by default).
alter table organizations
    add column text_opt_out_footer boolean not null default true,
    add column text_opt_out_wording text not null default 'Reply STOP to opt out.';

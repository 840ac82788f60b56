-- Mailboxes: the organization's own email accounts that campaigns send through, their limits and
-- health; which mailboxes a campaign uses; the sending statuses of messages.

create type mailbox_kind as enum ('smtp', 'sandbox');
create type smtp_security as enum ('tls', 'starttls', 'none');
create type mailbox_status as enum ('active', 'paused');

create table mailboxes (
    org_id               uuid not null references organizations (id) on delete cascade,
    id                   uuid not null,
    -- smtp: the organization's own server. sandbox: nothing leaves the machine; messages are kept
    -- in the outbox (and handed to a local mail catcher when smtp_host is set).
    kind                 mailbox_kind not null,
    from_name            text not null,
    from_email           text not null,
    reply_to             text,
    signature            text not null default '',
    smtp_host            text not null default '',
    smtp_port            integer not null default 587 check (smtp_port between 1 and 65535),
    smtp_security        smtp_security not null default 'starttls',
    smtp_username        text not null default '',
    -- The SMTP password: AES-256-GCM, nonce || ciphertext, with the id of the master key that
    -- sealed it; `smtp_secret_hint` is its last four characters.
    smtp_secret_key_id   text,
    smtp_secret_sealed   bytea,
    smtp_secret_hint     text,
    -- Kept for reading replies (the inbound side).
    imap_host            text not null default '',
    imap_port            integer not null default 993 check (imap_port between 1 and 65535),
    imap_security        smtp_security not null default 'tls',
    imap_username        text not null default '',
    imap_secret_key_id   text,
    imap_secret_sealed   bytea,
    imap_secret_hint     text,
    -- Pace: at most daily_limit a day (UTC days); with ramp_start > 0 the limit starts there on
    -- ramp_from and grows by ramp_step a day; min_interval_secs (+ up to jitter_secs) between sends.
    daily_limit          integer not null default 50 check (daily_limit > 0),
    ramp_start           integer not null default 0 check (ramp_start >= 0),
    ramp_step            integer not null default 0 check (ramp_step >= 0),
    ramp_from            date not null default current_date,
    min_interval_secs    integer not null default 60 check (min_interval_secs >= 0),
    jitter_secs          integer not null default 30 check (jitter_secs >= 0),
    -- Health.
    status               mailbox_status not null default 'active',
    paused_reason        text,
    last_success_at      timestamptz,
    last_error_at        timestamptz,
    last_error           text,
    consecutive_failures integer not null default 0,
    -- The earliest moment of its next send (pace shared by every worker).
    next_send_at         timestamptz not null default '-infinity',
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    primary key (org_id, id),
    constraint mailboxes_smtp_secret_whole check ((smtp_secret_key_id is null) = (smtp_secret_sealed is null)),
    constraint mailboxes_imap_secret_whole check ((imap_secret_key_id is null) = (imap_secret_sealed is null))
);
create unique index mailboxes_email_key on mailboxes (org_id, lower(from_email));

create table campaign_mailboxes (
    org_id      uuid not null,
    campaign_id uuid not null,
    mailbox_id  uuid not null,
    primary key (org_id, campaign_id, mailbox_id),
    foreign key (org_id, campaign_id) references campaigns (org_id, id) on delete cascade,
    foreign key (org_id, mailbox_id) references mailboxes (org_id, id) on delete cascade
);

alter type message_status add value 'queued';
alter type message_status add value 'sending';
alter type message_status add value 'sent';
alter type message_status add value 'failed';
alter type message_status add value 'bounced';
alter type message_status add value 'unknown';
alter type message_status add value 'cancelled';

-- Reading each mailbox over IMAP: who holds its sync (a lease, so any number of workers share
-- the mailboxes and a dead holder's are taken over), its health, and per folder the watermark
-- (UIDVALIDITY and the last UID taken in).

create table mailbox_syncs (
    org_id       uuid not null,
    mailbox_id   uuid not null,
    -- The worker that holds the mailbox, until lease_until.
    holder       uuid,
    lease_until  timestamptz,
    -- A fingerprint of the IMAP settings the holder connected with: an edit makes the holder
    -- let go, and the next one connects with the new settings.
    settings     text,
    last_sync_at timestamptz,
    last_error   text,
    last_error_at timestamptz,
    -- Whether the holder is waiting on IDLE (new mail is taken in as it arrives).
    idling       boolean not null default false,
    primary key (org_id, mailbox_id),
    foreign key (org_id, mailbox_id) references mailboxes (org_id, id) on delete cascade
);
create index mailbox_syncs_lease_idx on mailbox_syncs (lease_until);

create table mailbox_folders (
    org_id       uuid not null,
    mailbox_id   uuid not null,
    name         text not null,
    -- inbox, junk or sent.
    role         text not null check (role in ('inbox', 'junk', 'sent')),
    uid_validity bigint not null,
    last_uid     bigint not null default 0,
    messages     bigint not null default 0,
    synced_at    timestamptz,
    primary key (org_id, mailbox_id, name),
    foreign key (org_id, mailbox_id) references mailboxes (org_id, id) on delete cascade
);

-- The Message-ID the provider really used, learned from the mailbox's Sent folder (Microsoft 365
-- and Amazon SES replace ours): replies to it are matched too.
alter table campaign_messages add column provider_message_id text;
create index campaign_messages_provider_id_idx on campaign_messages (org_id, provider_message_id)
    where provider_message_id is not null;

-- Text-message channels (SMS and WhatsApp): the organization's Twilio accounts, or its sandbox,
-- and their sending numbers. The pace of each number is kept here, shared by every worker.

create type phone_account_kind as enum ('twilio', 'sandbox');
create type number_kind as enum ('long_code', 'toll_free', 'short_code');

create table phone_accounts (
    org_id                 uuid not null references organizations (id) on delete cascade,
    id                     uuid not null,
    kind                   phone_account_kind not null,
    name                   text not null,
    -- AC…; none for the sandbox.
    account_sid            text,
    -- The Auth Token, sealed (Twilio signs its webhooks with it, so it is required), and
    -- optionally an API key (SK…) and its sealed secret to send with.
    auth_token_key_id      text,
    auth_token_sealed      bytea,
    api_key_sid            text,
    api_key_secret_key_id  text,
    api_key_secret_sealed  bytea,
    last_tested_at         timestamptz,
    last_test_error        text,
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now(),
    primary key (org_id, id),
    constraint phone_accounts_token_whole check ((auth_token_key_id is null) = (auth_token_sealed is null)),
    constraint phone_accounts_key_whole check ((api_key_secret_key_id is null) = (api_key_secret_sealed is null)),
    constraint phone_accounts_twilio_has_token check (kind = 'sandbox' or (account_sid is not null and auth_token_sealed is not null))
);
create unique index phone_accounts_one_sandbox on phone_accounts (org_id) where kind = 'sandbox';

create table phone_numbers (
    org_id                 uuid not null,
    id                     uuid not null,
    account_id             uuid not null,
    -- E.164.
    number                 text not null,
    sms                    boolean not null default true,
    whatsapp               boolean not null default false,
    kind                   number_kind not null default 'long_code',
    -- Messages a second at most: Twilio's default for the kind (1, 3, 100), editable.
    per_second             double precision not null,
    -- Sent through this Messaging Service (MG…) instead of the number alone, when set.
    messaging_service_sid  text,
    -- The earliest moment this number's next message may leave, moved by each send.
    next_send_at           timestamptz not null default '-infinity',
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now(),
    primary key (org_id, id),
    unique (org_id, number),
    foreign key (org_id, account_id) references phone_accounts (org_id, id) on delete cascade,
    constraint phone_numbers_pace check (per_second > 0 and per_second <= 1000),
    constraint phone_numbers_a_channel check (sms or whatsapp)
);

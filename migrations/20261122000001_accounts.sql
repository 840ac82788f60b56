-- Accounts, organizations (tenants), memberships, sessions, invitations and API keys.
-- Every tenant-owned table leads with org_id and has it in its primary key, so an installation can
-- be distributed by tenant without a schema change.

create type member_role as enum ('member', 'admin', 'owner');

create table organizations (
    id             uuid primary key,
    name           text not null,
    slug           text not null,
    brand_voice    text,
    public_name    text,
    postal_address text,
    timezone       text not null default 'UTC',
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    constraint organizations_slug_key unique (slug)
);

create table users (
    id            uuid primary key,
    email         text not null,
    name          text not null,
    password_hash text not null,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
-- Emails are unique regardless of case.
create unique index users_email_key on users (lower(email));

create table memberships (
    org_id     uuid not null references organizations (id) on delete cascade,
    user_id    uuid not null references users (id) on delete cascade,
    role       member_role not null,
    created_at timestamptz not null default now(),
    primary key (org_id, user_id)
);
create index memberships_user_idx on memberships (user_id);

-- Rotating refresh tokens. A token is used once: refreshing marks it rotated and issues the next
-- one in the same family. Presenting a rotated token again revokes the whole family.
create table refresh_tokens (
    id         uuid primary key,
    family_id  uuid not null,
    user_id    uuid not null references users (id) on delete cascade,
    org_id     uuid not null references organizations (id) on delete cascade,
    token_hash bytea not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    rotated_at timestamptz,
    revoked_at timestamptz,
    constraint refresh_tokens_token_hash_key unique (token_hash)
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_user_idx on refresh_tokens (user_id, org_id);

create table invitations (
    org_id      uuid not null references organizations (id) on delete cascade,
    id          uuid not null,
    email       text not null,
    role        member_role not null,
    token_hash  bytea not null,
    invited_by  uuid references users (id) on delete set null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    accepted_at timestamptz,
    accepted_by uuid references users (id) on delete set null,
    revoked_at  timestamptz,
    primary key (org_id, id),
    constraint invitations_token_hash_key unique (token_hash)
);
-- One open invitation per email and organization.
create unique index invitations_open_email_key on invitations (org_id, lower(email))
    where accepted_at is null and revoked_at is null;

create table api_keys (
    org_id       uuid not null references organizations (id) on delete cascade,
    id           uuid not null,
    name         text not null,
    prefix       text not null,
    token_hash   bytea not null,
    role         member_role not null,
    created_by   uuid references users (id) on delete set null,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    primary key (org_id, id),
    constraint api_keys_token_hash_key unique (token_hash)
);

-- Failed log-in attempts, shared by every replica, for throttling by email and by client address.
create table login_failures (
    key       text not null,
    failed_at timestamptz not null default now()
);
create index login_failures_key_idx on login_failures (key, failed_at);

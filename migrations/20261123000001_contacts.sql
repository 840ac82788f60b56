-- Contacts and audiences: contacts, notes, segments, suppressions and imports.

-- Local phone numbers are read with the organization's country as their region.
alter table organizations add column country text;

create extension if not exists pg_trgm;

create type contact_type as enum ('lead', 'customer', 'past_customer', 'partner', 'other');
create type contact_status as enum ('active', 'unsubscribed', 'bounced', 'complained', 'do_not_contact');

create table contacts (
    org_id            uuid not null references organizations (id) on delete cascade,
    id                uuid not null,
    first_name        text,
    last_name         text,
    email             text,
    phone             text,
    whatsapp          text,
    company           text,
    job_title         text,
    website           text,
    linkedin_url      text,
    city              text,
    state             text,
    country           text,
    timezone          text,
    tags              text[] not null default '{}',
    source            text,
    contact_type      contact_type not null default 'lead',
    status            contact_status not null default 'active',
    -- {"email": {"status", "source", "at", "evidence"}, "sms": {...}, "whatsapp": {...}}
    consent           jsonb not null default '{}',
    custom            jsonb not null default '{}',
    ai_intent_score   smallint check (ai_intent_score between 0 and 100),
    ai_segment        text,
    ai_notes          text,
    ai_next_action    text,
    owner_id          uuid references users (id) on delete set null,
    last_contacted_at timestamptz,
    last_replied_at   timestamptz,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    -- What text search looks in (the same words as aura_types::segment::search_text; search terms
    -- never contain spaces, so the extra separators of empty fields change no match).
    search_text       text generated always as (lower(
        coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, '') || ' ' ||
        coalesce(phone, '') || ' ' || coalesce(whatsapp, '') || ' ' || coalesce(company, ''))) stored,
    primary key (org_id, id),
    constraint contacts_has_address check (email is not null or phone is not null)
);
create unique index contacts_email_key on contacts (org_id, lower(email));
create unique index contacts_phone_key on contacts (org_id, phone);
create index contacts_tags_idx on contacts using gin (tags);
create index contacts_search_idx on contacts using gin (search_text gin_trgm_ops);
create index contacts_owner_idx on contacts (org_id, owner_id);

create table contact_notes (
    org_id     uuid not null,
    id         uuid not null,
    contact_id uuid not null,
    author_id  uuid references users (id) on delete set null,
    body       text not null,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade
);
create index contact_notes_contact_idx on contact_notes (org_id, contact_id, created_at);

create type segment_kind as enum ('static', 'dynamic');

create table segments (
    org_id      uuid not null references organizations (id) on delete cascade,
    id          uuid not null,
    name        text not null,
    description text,
    kind        segment_kind not null,
    rules       jsonb,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (org_id, id),
    constraint segments_rules check ((kind = 'dynamic') = (rules is not null))
);
create unique index segments_name_key on segments (org_id, lower(name));

create table segment_members (
    org_id     uuid not null,
    segment_id uuid not null,
    contact_id uuid not null,
    added_at   timestamptz not null default now(),
    primary key (org_id, segment_id, contact_id),
    foreign key (org_id, segment_id) references segments (org_id, id) on delete cascade,
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade
);
create index segment_members_contact_idx on segment_members (org_id, contact_id);

create type suppression_kind as enum ('email', 'phone', 'domain');
create type suppression_reason as enum ('unsubscribed', 'bounced', 'complaint', 'stop_keyword', 'manual');

create table suppressions (
    org_id     uuid not null references organizations (id) on delete cascade,
    id         uuid not null,
    kind       suppression_kind not null,
    value      text not null,
    reason     suppression_reason not null,
    source     text,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    constraint suppressions_value_key unique (org_id, kind, value)
);

create type import_status as enum ('uploaded', 'queued', 'running', 'completed', 'failed');
create type row_outcome as enum ('created', 'updated', 'skipped', 'invalid');

create table imports (
    org_id       uuid not null references organizations (id) on delete cascade,
    id           uuid not null,
    created_by   uuid references users (id) on delete set null,
    filename     text not null,
    status       import_status not null default 'uploaded',
    -- The file, decoded to UTF-8; dropped when the import finishes.
    content      text,
    delimiter    text not null,
    encoding     text not null,
    headers      text[] not null,
    total_rows   bigint not null,
    mapping      jsonb not null,
    options      jsonb not null default '{}',
    read         bigint not null default 0,
    created      bigint not null default 0,
    updated      bigint not null default 0,
    skipped      bigint not null default 0,
    invalid      bigint not null default 0,
    error        text,
    locked_until timestamptz,
    attempts     int not null default 0,
    created_at   timestamptz not null default now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    primary key (org_id, id)
);
create index imports_queue_idx on imports (created_at) where status in ('queued', 'running');

create table import_rows (
    org_id     uuid not null,
    import_id  uuid not null,
    row_number bigint not null,
    outcome    row_outcome not null,
    reason     text,
    contact_id uuid,
    primary key (org_id, import_id, row_number),
    foreign key (org_id, import_id) references imports (org_id, id) on delete cascade
);

-- Campaigns and their ordered steps.

create type campaign_status as enum ('draft', 'active', 'paused', 'completed', 'archived');
create type approval_mode as enum ('manual', 'auto');

create table campaigns (
    org_id          uuid not null references organizations (id) on delete cascade,
    id              uuid not null,
    name            text not null,
    description     text not null default '',
    icp             text not null default '',
    offer           text not null default '',
    goal            text not null default '',
    status          campaign_status not null default 'draft',
    timezone        text not null,
    -- ISO weekdays (1 = Monday … 7 = Sunday) and local times of the send window.
    send_days       smallint[] not null default '{1,2,3,4,5}',
    send_start      time not null default '09:00',
    send_end        time not null default '17:00',
    daily_new_leads integer not null default 50 check (daily_new_leads > 0),
    stop_on_reply   boolean not null default true,
    track_opens     boolean not null default false,
    track_clicks    boolean not null default false,
    approval        approval_mode not null default 'manual',
    created_by      uuid references users (id) on delete set null,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    primary key (org_id, id),
    constraint campaigns_window check (send_start < send_end)
);
create index campaigns_status_idx on campaigns (org_id, status);

create table campaign_steps (
    org_id            uuid not null,
    id                uuid not null,
    campaign_id       uuid not null,
    position          integer not null,
    channel           channel not null,
    -- After the previous step (the first step: after enrollment).
    delay_minutes     integer not null default 0 check (delay_minutes >= 0),
    persona_id        uuid,
    ai_instructions   text not null default '',
    personalize       boolean not null default false,
    subject           text not null default '',
    body              text not null default '',
    -- Weight of the main variant (A); further variants in `variants` as [{label, subject, body, weight}].
    weight            integer not null default 1 check (weight >= 0),
    variants          jsonb not null default '[]',
    whatsapp_template text,
    metadata          jsonb not null default '{}',
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    primary key (org_id, id),
    foreign key (org_id, campaign_id) references campaigns (org_id, id) on delete cascade,
    foreign key (org_id, persona_id) references ai_personas (org_id, id) on delete set null (persona_id),
    constraint campaign_steps_position_key unique (org_id, campaign_id, position) deferrable initially deferred
);

-- Campaign templates of an organization (system templates live in the code) and how often each
-- template, system or own, was used by an organization.

create table campaign_templates (
    org_id      uuid not null references organizations (id) on delete cascade,
    id          uuid not null,
    name        text not null,
    description text not null default '',
    industry    text not null default '',
    use_case    text not null default '',
    offer       text not null default '',
    icp         text not null default '',
    goal        text not null default '',
    -- [{channel, delay_minutes, subject, body}]
    steps       jsonb not null default '[]',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (org_id, id)
);

create table template_uses (
    org_id      uuid not null references organizations (id) on delete cascade,
    template_id uuid not null,
    uses        integer not null default 0,
    primary key (org_id, template_id)
);

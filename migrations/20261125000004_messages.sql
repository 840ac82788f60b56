-- Prepared messages (what each lead gets at each step, reviewed before sending) and the runs of
-- "prepare" that write them.

create type message_status as enum ('prepared', 'approved', 'rejected');

create table campaign_messages (
    org_id       uuid not null,
    id           uuid not null,
    campaign_id  uuid not null,
    step_id      uuid not null,
    contact_id   uuid not null,
    channel      channel not null,
    -- The A/B variant: 'A' (the step's own text), 'B'…
    variant      text not null,
    subject      text,
    body_text    text not null,
    body_html    text,
    status       message_status not null default 'prepared',
    -- Changed by a person after preparation; preparing again leaves it alone.
    edited       boolean not null default false,
    -- What is wrong (a merge tag with no value, no address, AI failure); not approvable while any.
    problems     text[] not null default '{}',
    -- AI provenance (provider, model, persona, tokens…) when AI wrote it.
    provenance   jsonb,
    prepared_at  timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    decided_by   uuid references users (id) on delete set null,
    decided_at   timestamptz,
    primary key (org_id, id),
    constraint campaign_messages_one_per_step unique (org_id, campaign_id, contact_id, step_id),
    foreign key (org_id, campaign_id, contact_id)
        references campaign_targets (org_id, campaign_id, contact_id) on delete cascade,
    foreign key (org_id, step_id) references campaign_steps (org_id, id) on delete cascade
);
create index campaign_messages_review_idx on campaign_messages (org_id, campaign_id, status);
create index campaign_messages_step_idx on campaign_messages (org_id, step_id);

create type preparation_status as enum ('queued', 'running', 'done', 'failed');

create table campaign_preparations (
    org_id       uuid not null,
    id           uuid not null,
    campaign_id  uuid not null,
    status       preparation_status not null default 'queued',
    total        bigint not null default 0,
    done         bigint not null default 0,
    failed       bigint not null default 0,
    error        text,
    attempts     integer not null default 0,
    locked_until timestamptz,
    created_by   uuid references users (id) on delete set null,
    created_at   timestamptz not null default now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    primary key (org_id, id),
    foreign key (org_id, campaign_id) references campaigns (org_id, id) on delete cascade
);
-- At most one open run per campaign.
create unique index campaign_preparations_open_idx on campaign_preparations (org_id, campaign_id)
    where status in ('queued', 'running');
create index campaign_preparations_claim_idx on campaign_preparations (created_at)
    where status in ('queued', 'running');

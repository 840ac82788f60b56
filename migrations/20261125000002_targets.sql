-- Campaign targets: the leads enrolled in a campaign and where each one is.

create type target_status as enum ('active', 'paused', 'completed');

create table campaign_targets (
    org_id       uuid not null,
    campaign_id  uuid not null,
    contact_id   uuid not null,
    status       target_status not null default 'active',
    -- Steps already sent (0: none yet).
    current_step integer not null default 0,
    -- When the next step is due (the scheduler moves it into the send window).
    next_run_at  timestamptz,
    enrolled_at  timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    primary key (org_id, campaign_id, contact_id),
    foreign key (org_id, campaign_id) references campaigns (org_id, id) on delete cascade,
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade
);
create index campaign_targets_contact_idx on campaign_targets (org_id, contact_id);
create index campaign_targets_due_idx on campaign_targets (next_run_at) where status = 'active';

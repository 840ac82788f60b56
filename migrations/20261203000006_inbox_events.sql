-- What changed in each organization's inbox, in order: the live stream of the app and of API
-- clients replays it from the last event a client saw (Last-Event-ID). Kept for seven days.

create table inbox_events (
    org_id          uuid not null references organizations (id) on delete cascade,
    -- One sequence for every organization; an organization's events are written one
    -- transaction at a time, so they become visible in the order of their ids.
    id              bigserial,
    -- 'message' (mail arrived in a conversation) or 'conversation' (its state changed).
    kind            text not null check (kind in ('message', 'conversation')),
    conversation_id uuid,
    created_at      timestamptz not null default now(),
    primary key (org_id, id)
);

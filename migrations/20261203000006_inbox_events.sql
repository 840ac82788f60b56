-- What changed in each organization's inbox, in order: the live stream of the app and of API
-- clients replays it from the last event a client saw (Last-Event-ID). Kept for seven days.

create table inbox_events (
    id              bigserial primary key,
    org_id          uuid not null references organizations (id) on delete cascade,
    -- 'message' (mail arrived in a conversation) or 'conversation' (its state changed).
    kind            text not null check (kind in ('message', 'conversation')),
    conversation_id uuid,
    created_at      timestamptz not null default now()
);
create index inbox_events_org_idx on inbox_events (org_id, id);

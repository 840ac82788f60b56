-- The organization leads inbox_events' primary key, as on every tenant table. Ids stay one
-- sequence for every organization; an organization's events are written one transaction at a
-- time, so they become visible in the order of their ids.
alter table inbox_events drop constraint inbox_events_pkey;
alter table inbox_events add primary key (org_id, id);
drop index inbox_events_org_idx;

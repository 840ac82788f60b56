-- Opens and clicks arrive by the tens of thousands a second and are written in batches; a
-- foreign-key check per row halved what one writer keeps up with. The writer inserts only events
-- of messages that exist, and events now go with their messages — and so with their campaign
-- and organization — through this trigger instead of a foreign key.
alter table message_events drop constraint message_events_org_id_fkey;

create function message_events_follow_messages() returns trigger language plpgsql as $$
begin
    delete from message_events e using gone g where e.org_id = g.org_id and e.message_id = g.id;
    return null;
end
$$;

create trigger message_events_follow_messages after delete on campaign_messages
    referencing old table as gone for each statement execute function message_events_follow_messages();

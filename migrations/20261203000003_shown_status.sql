-- One definition of the status a message shows. A message leased by a sender keeps `queued` in
-- the table (the claim rewrites its row in place, touching no index) and shows as `sending`.
-- Every read that shows or filters by status calls this; being a plain SQL expression, the planner
-- inlines it.
create function shown_status(status message_status, locked_until timestamptz)
returns message_status
language sql immutable parallel safe
return case when status = 'queued' and locked_until is not null then 'sending'::message_status
            else status end;

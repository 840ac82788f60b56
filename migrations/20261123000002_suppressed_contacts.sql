-- Active contacts that a suppression stops, with the status the suppression gives them.
-- Statements filter this view by organization and contact ids, and PostgreSQL pushes those
-- conditions into the join, so stopping the contacts of one import batch stays an index lookup.
create view suppressed_contacts as
select c.org_id, c.id as contact_id,
       (case s.reason
            when 'bounced' then 'bounced'
            when 'complaint' then 'complained'
            when 'manual' then 'do_not_contact'
            else 'unsubscribed' end)::contact_status as status
from contacts c
join suppressions s on s.org_id = c.org_id
where c.status = 'active'
  and ((s.kind = 'email' and lower(c.email) = s.value)
    or (s.kind = 'domain' and split_part(lower(c.email), '@', 2) = s.value)
    or (s.kind = 'phone' and (c.phone = s.value or c.whatsapp = s.value)));

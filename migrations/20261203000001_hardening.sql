-- Hardening: a mailbox password shows no part of itself (its last characters were kept to
-- show; a short password came back whole).
alter table mailboxes drop column smtp_secret_hint, drop column imap_secret_hint;

-- The one answer to "may this organization message this address on this channel, and if not,
-- why?": enrollment's skips, the sender's re-check at claim time and the check endpoint all call
-- it, so they cannot disagree. At most one row: the first reason, as a code and a detail that
-- Rust turns into words (no sentences here).
--   suppressed          the address is suppressed            detail: the suppression's reason
--   suppressed_domain   the email's domain is suppressed     detail: the suppression's reason
--   contact_status      a contact with the address is not active   detail: its status
--   consent_refused     a contact with the address denied or revoked consent on the channel
--                                                            detail: denied | revoked
--   no_consent          SMS and WhatsApp need consent granted by a contact with the address
-- Every contact with the address counts, not only the one being messaged: a duplicate must
-- not reach a person who said no. Written as one SELECT so PostgreSQL inlines it where it is
-- joined (the sender calls it for each message of a batch).
create function contact_block(p_org uuid, p_channel channel, p_address text)
returns table (code text, detail text)
language sql stable parallel safe
as $$
    with a as (
        select case when p_channel = 'email' then lower(trim(p_address)) else trim(p_address) end as addr
    ), holders as (
        select c.status, c.consent -> p_channel::text ->> 'status' as consent
        from contacts c, a
        where c.org_id = p_org and (
               (p_channel = 'email' and lower(c.email) = a.addr)
            or (p_channel = 'sms' and c.phone = a.addr)
            or (p_channel = 'whatsapp' and c.whatsapp = a.addr))
    )
    select r.code, r.detail from (
        select 1 as rank, 'suppressed' as code, s.reason::text as detail
        from suppressions s, a
        where s.org_id = p_org
          and s.kind = (case when p_channel = 'email' then 'email' else 'phone' end)::suppression_kind
          and s.value = a.addr
        union all
        select 2, 'suppressed_domain', s.reason::text
        from suppressions s, a
        where p_channel = 'email' and s.org_id = p_org and s.kind = 'domain'
          and s.value = split_part(a.addr, '@', 2)
        union all
        select 3, 'contact_status', h.status::text from holders h where h.status <> 'active'
        union all
        select 4, 'consent_refused', h.consent from holders h where h.consent in ('denied', 'revoked')
        union all
        select 5, 'no_consent', null
        where p_channel <> 'email' and not exists (select 1 from holders h where h.consent = 'granted')
    ) r
    order by r.rank
    limit 1
$$;

-- A follow-up email step can go out as a reply: its subject is "Re: " and the subject of the
-- lead's previous email (kept on the target when an email is sent).
alter table campaign_steps add column reply_subject boolean not null default false;

-- Twilio's webhooks name an account by its id alone (the organization is learnt from it before
-- the signature is checked): an index for that lookup.
create unique index phone_accounts_id_key on phone_accounts (id);

-- Hints of AI keys made before hints were limited to long vendor keys: a short or chosen secret
-- could come back whole. They are shown again only once a key is saved anew.
update ai_providers set secret_hint = null;

-- "May we contact" looks contacts up by WhatsApp number too (not unique, so it had no index).
create index contacts_whatsapp_idx on contacts (org_id, whatsapp) where whatsapp is not null;

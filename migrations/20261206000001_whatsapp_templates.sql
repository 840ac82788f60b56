-- WhatsApp content templates (sent when a lead's 24-hour window is closed) and answers by text
-- from the inbox.

-- A step's template was a bare name; it becomes the chosen template itself (Content SID, name,
-- category, text) and what fills each of its variables.
alter table campaign_steps alter column whatsapp_template type jsonb using
    case when whatsapp_template is null then null
         else jsonb_build_object('sid', whatsapp_template, 'name', whatsapp_template,
                                 'language', '', 'category', '', 'body', '',
                                 'variables', '{}'::jsonb) end;

-- The lead's values of the step's template variables, filled in when the message is prepared.
alter table campaign_messages add column content_variables jsonb;

-- Answers written in the inbox go on the conversation's channel: by email through a mailbox, or
-- by text from a number (with a template when the WhatsApp window is closed).
alter table conversation_replies
    add column channel channel not null default 'email',
    add column phone_number_id uuid,
    add column content_sid text,
    add column content_variables jsonb,
    add column provider_sid text,
    add foreign key (org_id, phone_number_id) references phone_numbers (org_id, id)
        on delete set null (phone_number_id);

-- A shared key of the account's Twilio Webhooks settings: Twilio then signs webhooks with it
-- (HMAC-SHA256, named by X-Twilio-Webhooks-Signature-Settings) instead of the Auth Token.
alter table phone_accounts
    add column webhook_key_id text,
    add column webhook_secret_key_id text,
    add column webhook_secret_sealed bytea;

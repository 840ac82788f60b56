-- A message's HTML part is its text rendered as HTML (aura_types::template::text_to_html); no
-- way of writing or editing a message sets it otherwise. It is now made from the text where it
-- is shown and sent, not stored beside it: one source of truth, and half the bytes a message
-- row carries through preparation, approval and every send (a claim read both texts back from
-- TOAST storage).
alter table campaign_messages drop column body_html;

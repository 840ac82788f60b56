-- Text messages arrive too: each arrival says its channel (a conversation is a contact × channel
-- thread; its messages carry the channel they came on).
alter table inbound_messages add column channel channel not null default 'email';

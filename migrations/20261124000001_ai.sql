-- The AI layer: provider configurations, personas, knowledge-base articles and the call log.

create type ai_provider_kind as enum ('builtin', 'openai', 'anthropic', 'custom');
create type writing_style as enum ('offer_first', 'consultative', 'hook_first', 'conversational');
create type ai_outcome as enum ('ok', 'fallback', 'error');
create type channel as enum ('email', 'sms', 'whatsapp');

-- A way of reaching a model: an OpenAI-compatible or Anthropic API, or the organization's own
-- endpoint. The built-in writer needs no configuration and has no row.
create table ai_providers (
    org_id            uuid not null references organizations (id) on delete cascade,
    id                uuid not null,
    name              text not null,
    kind              ai_provider_kind not null check (kind <> 'builtin'),
    base_url          text not null,
    model             text not null default '',
    temperature       real check (temperature between 0 and 2),
    -- Anthropic's `anthropic-version` header.
    api_version       text,
    -- The API key (or, for a custom endpoint, the signing secret): AES-256-GCM, nonce || ciphertext,
    -- with the id of the master key that sealed it. `secret_hint` is its last four characters.
    secret_key_id     text,
    secret_sealed     bytea,
    secret_hint       text,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    primary key (org_id, id),
    constraint ai_providers_secret_whole check ((secret_key_id is null) = (secret_sealed is null))
);
create unique index ai_providers_name_key on ai_providers (org_id, lower(name));

-- The organization's default provider (none: the built-in writer) and whether a failing provider
-- falls back to the built-in writer.
alter table organizations
    add column ai_provider_id uuid,
    add column ai_fallback_builtin boolean not null default false,
    add constraint organizations_ai_provider_fkey foreign key (id, ai_provider_id)
        references ai_providers (org_id, id) on delete set null (ai_provider_id);

create table ai_personas (
    org_id         uuid not null references organizations (id) on delete cascade,
    id             uuid not null,
    name           text not null,
    description    text not null default '',
    system_prompt  text not null,
    -- How the built-in writer writes for this persona.
    style          writing_style not null default 'conversational',
    channels       channel[] not null default '{email,whatsapp,sms}',
    provider_id    uuid,
    model          text,
    temperature    real check (temperature between 0 and 2),
    can_auto_reply boolean not null default false,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    primary key (org_id, id),
    foreign key (org_id, provider_id) references ai_providers (org_id, id) on delete set null (provider_id)
);
create unique index ai_personas_name_key on ai_personas (org_id, lower(name));

create table knowledge_articles (
    org_id     uuid not null references organizations (id) on delete cascade,
    id         uuid not null,
    title      text not null,
    topic      text not null default '',
    content    text not null,
    source     text not null default '',
    search     tsvector generated always as (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', topic), 'B') ||
        setweight(to_tsvector('english', content), 'C')) stored,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (org_id, id)
);
create index knowledge_articles_search_idx on knowledge_articles using gin (search);

-- One row per AI operation a caller asked for (not per HTTP attempt).
create table ai_calls (
    org_id        uuid not null references organizations (id) on delete cascade,
    id            uuid not null,
    operation     text not null,
    provider_kind ai_provider_kind not null,
    provider_name text not null,
    model         text not null default '',
    persona_id    uuid,
    persona_name  text,
    tokens_in     integer not null default 0,
    tokens_out    integer not null default 0,
    latency_ms    integer not null,
    attempts      smallint not null default 1,
    outcome       ai_outcome not null,
    error         text,
    created_at    timestamptz not null default now(),
    primary key (org_id, id)
);
create index ai_calls_month_idx on ai_calls (org_id, created_at);

-- Every organization starts with four personas it can edit; their prompts are the owner's to
-- replace with their own.
create function aura_seed_personas(org uuid) returns void language sql as $$
    insert into ai_personas (org_id, id, name, description, system_prompt, style, channels, can_auto_reply)
    values
    (org, gen_random_uuid(), 'Hormozi',
     'Offer-first campaign builder: a value stack, risk reversal and one clear call to action.',
     'You write outreach the way Alex Hormozi builds offers. Lead with the outcome the reader wants, '
     'in their words. Stack the value: what they get, how fast, with how little effort. Remove the '
     'risk with a concrete guarantee. Make one specific call to action that takes under a minute. '
     'No fluff, no hype words, no exclamation marks. Short sentences. Sound like a founder writing '
     'one email to one person, never like a marketing department.',
     'offer_first', '{email,whatsapp,sms}', false),
    (org, gen_random_uuid(), 'Sales Agent',
     'Consultative sales specialist: earns the reply with relevance and one good question.',
     'You are a senior consultative salesperson. Open with something specific to the reader''s '
     'company or situation. Name the problem you solve in one sentence, pre-empt the most likely '
     'objection, and ask exactly one easy question that invites a reply. Never pitch features in a '
     'list, never push for a meeting in the first message, never pretend to know what you do not.',
     'consultative', '{email,whatsapp,sms}', true),
    (org, gen_random_uuid(), 'Viral',
     'Hook-first content specialist: a scroll-stopping first line, short and punchy.',
     'You write like a viral content specialist. The first line is a hook that stops the scroll: a '
     'surprising number, a bold claim you can back up, or a question that stings. Then deliver one '
     'idea in as few words as possible. Use line breaks generously. End with a call to action that '
     'feels like curiosity, not a sales pitch.',
     'hook_first', '{email,whatsapp,sms}', false),
    (org, gen_random_uuid(), 'Conversational',
     'Friendly, plain-spoken messages that read like a person texting, ideal for WhatsApp and SMS.',
     'You write short, warm, conversational messages, the way a helpful person texts a customer '
     'they know. Plain words, contractions, no jargon, no sales pressure. One idea per message and '
     'an easy way to answer. On WhatsApp and SMS stay under 300 characters.',
     'conversational', '{whatsapp,sms,email}', true)
$$;

create function aura_seed_personas_trigger() returns trigger language plpgsql as $$
begin
    perform aura_seed_personas(new.id);
    return new;
end
$$;

create trigger organizations_seed_personas after insert on organizations
    for each row execute function aura_seed_personas_trigger();

select aura_seed_personas(id) from organizations;

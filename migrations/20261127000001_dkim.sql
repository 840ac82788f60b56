-- DKIM signing keys the organization uploads, one per sending domain: every mailbox whose From
-- address is on the domain signs its messages with the domain's key.

create type dkim_algorithm as enum ('rsa', 'ed25519');

create table dkim_keys (
    org_id        uuid not null references organizations (id) on delete cascade,
    id            uuid not null,
    -- Lower case, as in the From addresses it signs for.
    domain        text not null check (domain = lower(domain) and domain <> ''),
    selector      text not null check (selector <> ''),
    algorithm     dkim_algorithm not null,
    -- The private key (PKCS#1 PEM for RSA, the base64 seed for Ed25519): AES-256-GCM,
    -- nonce || ciphertext, with the id of the master key that sealed it.
    key_id        text not null,
    key_sealed    bytea not null,
    -- The public half, as the `p=` of the DNS record (not secret).
    public_key    text not null,
    description   text not null,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    primary key (org_id, id)
);
create unique index dkim_keys_domain_key on dkim_keys (org_id, domain);

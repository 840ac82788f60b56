//! DKIM signing keys, one per sending domain of an organization.

use crate::crypto::Sealed;
use aura_types::{DkimAlgorithm, DkimKeyId, MailboxId, OrgId};
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// A key as stored (the private half sealed), with the mailboxes that sign with it.
pub struct DkimRow {
    pub id: DkimKeyId,
    pub domain: String,
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    pub public_key: String,
    pub description: String,
    pub mailbox_ids: Vec<MailboxId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The organization's keys (all, or only `only`), by domain.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    only: Option<DkimKeyId>,
) -> Result<Vec<DkimRow>, sqlx::Error> {
    sqlx::query_as!(
        DkimRow,
        r#"select d.id as "id: DkimKeyId", d.domain, d.selector,
                  d.algorithm as "algorithm: DkimAlgorithm", d.public_key, d.description,
                  coalesce(array(select m.id from mailboxes m
                                 where m.org_id = d.org_id and lower(split_part(m.from_email, '@', 2)) = d.domain
                                 order by m.created_at, m.id), '{}') as "mailbox_ids!: Vec<MailboxId>",
                  d.created_at, d.updated_at
           from dkim_keys d
           where d.org_id = $1 and ($2::uuid is null or d.id = $2)
           order by d.domain"#,
        org as OrgId,
        only.map(|i| i.0)
    )
    .fetch_all(db)
    .await
}

/// A key to store for a domain.
pub struct NewKey<'a> {
    pub domain: &'a str,
    pub selector: &'a str,
    pub algorithm: DkimAlgorithm,
    pub sealed: Sealed,
    pub public_key: &'a str,
    pub description: &'a str,
}

/// Stores the domain's key, replacing the one it had (which keeps its id). Returns the id and
/// whether it is new.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    k: &NewKey<'_>,
) -> Result<(DkimKeyId, bool), sqlx::Error> {
    let r = sqlx::query!(
        r#"insert into dkim_keys (org_id, id, domain, selector, algorithm, key_id, key_sealed, public_key, description)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (org_id, domain) do update set
               selector = excluded.selector, algorithm = excluded.algorithm, key_id = excluded.key_id,
               key_sealed = excluded.key_sealed, public_key = excluded.public_key,
               description = excluded.description, updated_at = now()
           returning id as "id: DkimKeyId", (xmax = 0) as "created!""#,
        org as OrgId,
        DkimKeyId::new() as DkimKeyId,
        k.domain,
        k.selector,
        k.algorithm as DkimAlgorithm,
        k.sealed.key_id,
        k.sealed.bytes,
        k.public_key,
        k.description
    )
    .fetch_one(db)
    .await?;
    Ok((r.id, r.created))
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: DkimKeyId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "delete from dkim_keys where org_id = $1 and id = $2",
        org as OrgId,
        id as DkimKeyId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

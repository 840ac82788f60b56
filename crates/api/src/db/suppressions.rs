//! Suppressions, their effect on contacts, and the one answer to "may we contact this address?".

use crate::domain::contactability::Block;
use aura_types::{
    Channel, ContactId, OrgId, Suppression, SuppressionId, SuppressionKind, SuppressionReason,
};
use sqlx::{PgConnection, PgExecutor};

/// Adds suppressions, ignoring those that exist; returns how many were new.
pub async fn insert_many(
    db: &mut PgConnection,
    org: OrgId,
    entries: &[(SuppressionKind, String)],
    reason: SuppressionReason,
    source: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let kinds: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    let values: Vec<String> = entries.iter().map(|(_, v)| v.clone()).collect();
    let ids: Vec<uuid::Uuid> = entries.iter().map(|_| SuppressionId::new().0).collect();
    let done = sqlx::query!(
        r#"insert into suppressions (org_id, id, kind, value, reason, source)
           select $1, r.id, r.kind::suppression_kind, r.value, $5, $6
           from unnest($2::uuid[], $3::text[], $4::text[]) as r(id, kind, value)
           on conflict (org_id, kind, value) do nothing"#,
        org as OrgId,
        &ids,
        &kinds as &[&str],
        &values,
        reason as SuppressionReason,
        source
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Stops active contacts whose address is suppressed (all of them, or only `only`): the status
/// follows the reason (bounced, complained, do-not-contact for manual, else unsubscribed).
pub async fn apply_to_contacts(
    db: &mut PgConnection,
    org: OrgId,
    only: Option<&[ContactId]>,
) -> Result<u64, sqlx::Error> {
    let done = match only {
        // Two statements, so that each gets a plan that uses its indexes.
        Some(ids) => {
            let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
            sqlx::query!(
                r#"update contacts c set updated_at = now(), status = v.status
                   from suppressed_contacts v
                   where c.org_id = $1 and v.org_id = $1 and v.contact_id = c.id
                     and c.id = any($2) and v.contact_id = any($2)"#,
                org as OrgId,
                &ids,
            )
            .execute(db)
            .await?
        }
        None => {
            sqlx::query!(
                r#"update contacts c set updated_at = now(), status = v.status
                   from suppressed_contacts v
                   where c.org_id = $1 and v.org_id = $1 and v.contact_id = c.id"#,
                org as OrgId,
            )
            .execute(db)
            .await?
        }
    };
    Ok(done.rows_affected())
}

/// The suppression of one parsed value.
pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    kind: SuppressionKind,
    value: &str,
) -> Result<Option<Suppression>, sqlx::Error> {
    sqlx::query_as!(
        Suppression,
        r#"select id as "id: SuppressionId", kind as "kind: SuppressionKind", value,
                  reason as "reason: SuppressionReason", source, created_at
           from suppressions where org_id = $1 and kind = $2 and value = $3"#,
        org as OrgId,
        kind as SuppressionKind,
        value
    )
    .fetch_optional(db)
    .await
}

/// A page of suppressions, newest first, optionally those containing `q`.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    q: Option<&str>,
    cursor: Option<SuppressionId>,
    limit: i64,
) -> Result<Vec<Suppression>, sqlx::Error> {
    sqlx::query_as!(
        Suppression,
        r#"select id as "id: SuppressionId", kind as "kind: SuppressionKind", value,
                  reason as "reason: SuppressionReason", source, created_at
           from suppressions
           where org_id = $1 and ($2::text is null or strpos(value, lower($2)) > 0) and ($3::uuid is null or id < $3)
           order by id desc limit $4"#,
        org as OrgId,
        q,
        cursor.map(|c| c.0),
        limit
    )
    .fetch_all(db)
    .await
}

pub async fn count(
    db: impl PgExecutor<'_>,
    org: OrgId,
    q: Option<&str>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from suppressions where org_id = $1 and ($2::text is null or strpos(value, lower($2)) > 0)"#,
        org as OrgId,
        q
    )
    .fetch_one(db)
    .await
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: SuppressionId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"delete from suppressions where org_id = $1 and id = $2"#,
        org as OrgId,
        id as SuppressionId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// May the organization message `address` (an email, or an E.164 number for SMS / WhatsApp) on
/// `channel`, and if not, why: the database's one definition (`contact_block`), which
/// enrollment and the sender's re-check use too.
pub async fn may_contact(
    db: impl PgExecutor<'_>,
    org: OrgId,
    channel: Channel,
    address: &str,
) -> Result<Option<Block>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select code, detail from contact_block($1, $2, $3)"#,
        org as OrgId,
        channel as Channel,
        address
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|r| Block::from_row(r.code.as_deref(), r.detail)))
}

//! Refresh tokens: stored hashed, rotated on every use, revoked by family on reuse.

use crate::crypto::{hash_secret, random_secret};
use aura_types::{OrgId, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

/// Issues a refresh token for `user` acting for `org`, in `family` (a new family when `None`).
pub async fn create(
    conn: &mut PgConnection,
    user: UserId,
    org: OrgId,
    family: Option<Uuid>,
    ttl_days: u32,
) -> Result<String, sqlx::Error> {
    let token = random_secret("");
    sqlx::query!(
        r#"insert into refresh_tokens (id, family_id, user_id, org_id, token_hash, expires_at)
           values ($1, $2, $3, $4, $5, now() + make_interval(days => $6))"#,
        Uuid::now_v7(),
        family.unwrap_or_else(Uuid::now_v7),
        user as UserId,
        org as OrgId,
        hash_secret(&token),
        i32::try_from(ttl_days).unwrap_or(30),
    )
    .execute(conn)
    .await?;
    Ok(token)
}

pub enum Presented {
    /// A live token, now marked as used: issue its successor in `family`.
    Valid {
        user: UserId,
        org: OrgId,
        family: Uuid,
    },
    /// A token that was already used or revoked: its family has now been revoked.
    Reused,
    /// Unknown or expired.
    Invalid,
}

/// Consumes a presented refresh token.
pub async fn consume(conn: &mut PgConnection, token: &str) -> Result<Presented, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id, family_id, user_id as "user_id: UserId", org_id as "org_id: OrgId",
                  rotated_at is not null or revoked_at is not null as "spent!",
                  expires_at < now() as "expired!"
           from refresh_tokens where token_hash = $1 for update"#,
        hash_secret(token)
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Presented::Invalid);
    };
    if row.spent {
        revoke_family(conn, row.family_id).await?;
        return Ok(Presented::Reused);
    }
    if row.expired {
        return Ok(Presented::Invalid);
    }
    sqlx::query!(
        r#"update refresh_tokens set rotated_at = now() where id = $1"#,
        row.id
    )
    .execute(conn)
    .await?;
    Ok(Presented::Valid {
        user: row.user_id,
        org: row.org_id,
        family: row.family_id,
    })
}

pub async fn revoke_family(conn: &mut PgConnection, family: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null"#,
        family
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes the family of a presented token (log-out), whatever its state.
pub async fn revoke_by_token(conn: &mut PgConnection, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update refresh_tokens set revoked_at = now()
           where family_id = (select family_id from refresh_tokens where token_hash = $1)
             and revoked_at is null"#,
        hash_secret(token)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every session of `user` in `org` (after they are removed from it).
pub async fn revoke_member(
    conn: &mut PgConnection,
    org: OrgId,
    user: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update refresh_tokens set revoked_at = now()
           where org_id = $1 and user_id = $2 and revoked_at is null"#,
        org as OrgId,
        user as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

use aura_types::{ApiKey, ApiKeyId, OrgId, Role, UserId};
use sqlx::PgExecutor;

pub async fn insert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    name: &str,
    prefix: &str,
    token_hash: &[u8],
    role: Role,
    created_by: UserId,
) -> Result<ApiKey, sqlx::Error> {
    sqlx::query_as!(
        ApiKey,
        r#"with inserted as (
               insert into api_keys (org_id, id, name, prefix, token_hash, role, created_by)
               values ($1, $2, $3, $4, $5, $6, $7)
               returning *
           )
           select k.id as "id: ApiKeyId", k.name, k.prefix, k.role as "role: Role", u.name as "created_by?",
                  k.created_at, k.last_used_at
           from inserted k left join users u on u.id = k.created_by"#,
        org as OrgId,
        ApiKeyId::new() as ApiKeyId,
        name,
        prefix,
        token_hash,
        role as Role,
        created_by as UserId,
    )
    .fetch_one(db)
    .await
}

pub async fn list(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<ApiKey>, sqlx::Error> {
    sqlx::query_as!(
        ApiKey,
        r#"select k.id as "id: ApiKeyId", k.name, k.prefix, k.role as "role: Role", u.name as "created_by?",
                  k.created_at, k.last_used_at
           from api_keys k left join users u on u.id = k.created_by
           where k.org_id = $1 and k.revoked_at is null
           order by k.created_at desc"#,
        org as OrgId
    )
    .fetch_all(db)
    .await
}

/// Revokes a key; false when there is no live key with this id in `org`.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ApiKeyId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update api_keys set revoked_at = now() where org_id = $1 and id = $2 and revoked_at is null"#,
        org as OrgId,
        id as ApiKeyId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The organization, key id and role of a live key with this hash. Notes when it was used, at most
/// once a minute, so that busy integrations do not write on every call.
pub async fn authenticate(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<(OrgId, ApiKeyId, Role)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"with key as (
               select org_id, id, role, last_used_at from api_keys
               where token_hash = $1 and revoked_at is null
           ), touched as (
               update api_keys k set last_used_at = now()
               from key
               where k.org_id = key.org_id and k.id = key.id
                 and (key.last_used_at is null or key.last_used_at < now() - interval '1 minute')
           )
           select org_id as "org_id!: OrgId", id as "id!: ApiKeyId", role as "role!: Role" from key"#,
        token_hash
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.org_id, r.id, r.role)))
}

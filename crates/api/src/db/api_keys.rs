use aura_types::{ApiKey, ApiKeyId, OrgId, Role, UserId};
use sqlx::PgExecutor;

/// Why a key whose creator is no longer a member does not work.
const CREATOR_LEFT: &str = "Its creator is no longer a member of this organization.";

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
                  k.created_at, k.last_used_at, null::text as inactive_reason
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

/// Live keys of `org`, newest first: all of them, or only those `creator` made. A key whose
/// creator left says so.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    creator: Option<UserId>,
) -> Result<Vec<ApiKey>, sqlx::Error> {
    sqlx::query_as!(
        ApiKey,
        r#"select k.id as "id: ApiKeyId", k.name, k.prefix, k.role as "role: Role", u.name as "created_by?",
                  k.created_at, k.last_used_at,
                  case when m.user_id is null then $3::text end as inactive_reason
           from api_keys k
           left join users u on u.id = k.created_by
           left join memberships m on m.org_id = k.org_id and m.user_id = k.created_by
           where k.org_id = $1 and k.revoked_at is null
             and ($2::uuid is null or k.created_by = $2)
           order by k.created_at desc"#,
        org as OrgId,
        creator.map(|c| c.0),
        CREATOR_LEFT
    )
    .fetch_all(db)
    .await
}

/// Revokes a key (one `creator` made, when given); false when there is no such live key.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ApiKeyId,
    creator: Option<UserId>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update api_keys set revoked_at = now()
           where org_id = $1 and id = $2 and revoked_at is null
             and ($3::uuid is null or created_by = $3)"#,
        org as OrgId,
        id as ApiKeyId,
        creator.map(|c| c.0)
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The organization, key id and role of a live key with this hash whose creator is still a
/// member; the role is the lesser of the key's and its creator's current one. Notes when it was
/// used, at most once a minute, so that busy integrations do not write on every call.
pub async fn authenticate(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<(OrgId, ApiKeyId, Role)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"with key as (
               select k.org_id, k.id, least(k.role, m.role) as role, k.last_used_at
               from api_keys k
               join memberships m on m.org_id = k.org_id and m.user_id = k.created_by
               where k.token_hash = $1 and k.revoked_at is null
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

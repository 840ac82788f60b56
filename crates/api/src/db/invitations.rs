use crate::crypto::hash_secret;
use aura_types::{EmailAddress, Invitation, InvitationId, OrgId, Role, UserId};
use sqlx::{PgConnection, PgExecutor};

pub async fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    email: &EmailAddress,
    role: Role,
    token: &str,
    invited_by: Option<UserId>,
    ttl_days: u32,
) -> Result<Invitation, sqlx::Error> {
    sqlx::query_as!(
        Invitation,
        r#"with inserted as (
               insert into invitations (org_id, id, email, role, token_hash, invited_by, expires_at)
               values ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7))
               returning *
           )
           select i.id as "id: InvitationId", i.email, i.role as "role: Role", u.name as "invited_by?",
                  i.created_at, i.expires_at
           from inserted i left join users u on u.id = i.invited_by"#,
        org as OrgId,
        InvitationId::new() as InvitationId,
        email.as_str(),
        role as Role,
        hash_secret(token),
        invited_by as Option<UserId>,
        i32::try_from(ttl_days).unwrap_or(7),
    )
    .fetch_one(conn)
    .await
}

/// Open (not accepted, not revoked, not expired) invitations of an organization.
pub async fn list_open(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> Result<Vec<Invitation>, sqlx::Error> {
    sqlx::query_as!(
        Invitation,
        r#"select i.id as "id: InvitationId", i.email, i.role as "role: Role", u.name as "invited_by?",
                  i.created_at, i.expires_at
           from invitations i left join users u on u.id = i.invited_by
           where i.org_id = $1 and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()
           order by i.created_at desc"#,
        org as OrgId
    )
    .fetch_all(db)
    .await
}

pub async fn get_open(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: InvitationId,
) -> Result<Option<Invitation>, sqlx::Error> {
    sqlx::query_as!(
        Invitation,
        r#"select i.id as "id: InvitationId", i.email, i.role as "role: Role", u.name as "invited_by?",
                  i.created_at, i.expires_at
           from invitations i left join users u on u.id = i.invited_by
           where i.org_id = $1 and i.id = $2 and i.accepted_at is null and i.revoked_at is null"#,
        org as OrgId,
        id as InvitationId
    )
    .fetch_optional(db)
    .await
}

/// Revokes an open invitation; false when there is none with this id in `org`.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: InvitationId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update invitations set revoked_at = now()
           where org_id = $1 and id = $2 and accepted_at is null and revoked_at is null"#,
        org as OrgId,
        id as InvitationId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An open invitation found by its secret token.
pub struct Open {
    pub org_id: OrgId,
    pub id: InvitationId,
    pub organization_name: String,
    pub email: String,
    pub role: Role,
    pub expires_at: time::OffsetDateTime,
    pub existing_user: Option<UserId>,
}

/// Finds an open invitation by token, locking it for the rest of the transaction (so it is accepted
/// once).
pub async fn find_open_by_token(
    db: impl PgExecutor<'_>,
    token: &str,
) -> Result<Option<Open>, sqlx::Error> {
    sqlx::query_as!(
        Open,
        r#"select i.org_id as "org_id: OrgId", i.id as "id: InvitationId", o.name as organization_name,
                  i.email, i.role as "role: Role", i.expires_at,
                  (select u.id from users u where lower(u.email) = lower(i.email)) as "existing_user: UserId"
           from invitations i join organizations o on o.id = i.org_id
           where i.token_hash = $1 and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()
           for update of i"#,
        hash_secret(token)
    )
    .fetch_optional(db)
    .await
}

pub async fn mark_accepted(
    conn: &mut PgConnection,
    org: OrgId,
    id: InvitationId,
    user: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update invitations set accepted_at = now(), accepted_by = $3 where org_id = $1 and id = $2"#,
        org as OrgId,
        id as InvitationId,
        user as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

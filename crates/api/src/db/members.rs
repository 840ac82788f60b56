use aura_types::{Member, Membership, OrgId, Role, UserId};
use sqlx::{PgConnection, PgExecutor};

/// The role of `user` in `org`, if they are a member.
pub async fn role_of(
    db: impl PgExecutor<'_>,
    org: OrgId,
    user: UserId,
) -> Result<Option<Role>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select role as "role: Role" from memberships where org_id = $1 and user_id = $2"#,
        org as OrgId,
        user as UserId
    )
    .fetch_optional(db)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    user: UserId,
    role: Role,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into memberships (org_id, user_id, role) values ($1, $2, $3)"#,
        org as OrgId,
        user as UserId,
        role as Role
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as!(
        Member,
        r#"select u.id as "user_id: UserId", u.email, u.name, m.role as "role: Role", m.created_at as joined_at
           from memberships m join users u on u.id = m.user_id
           where m.org_id = $1
           order by m.role desc, lower(u.name), u.id"#,
        org as OrgId
    )
    .fetch_all(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    org: OrgId,
    user: UserId,
) -> Result<Option<Member>, sqlx::Error> {
    sqlx::query_as!(
        Member,
        r#"select u.id as "user_id: UserId", u.email, u.name, m.role as "role: Role", m.created_at as joined_at
           from memberships m join users u on u.id = m.user_id
           where m.org_id = $1 and m.user_id = $2"#,
        org as OrgId,
        user as UserId
    )
    .fetch_optional(db)
    .await
}

/// Every organization `user` belongs to.
pub async fn memberships_of(
    db: impl PgExecutor<'_>,
    user: UserId,
) -> Result<Vec<Membership>, sqlx::Error> {
    sqlx::query_as!(
        Membership,
        r#"select o.id as "organization_id: OrgId", o.name as organization_name, o.slug as organization_slug,
                  m.role as "role: Role"
           from memberships m join organizations o on o.id = m.org_id
           where m.user_id = $1
           order by lower(o.name), o.id"#,
        user as UserId
    )
    .fetch_all(db)
    .await
}

/// Locks the organization's memberships (for the rest of the transaction) and returns the roles,
/// so that two concurrent changes cannot both remove the last owner.
pub async fn lock_roles(
    conn: &mut PgConnection,
    org: OrgId,
) -> Result<Vec<(UserId, Role)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select user_id as "user_id: UserId", role as "role: Role" from memberships
           where org_id = $1 for update"#,
        org as OrgId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.role)).collect())
}

pub async fn set_role(
    conn: &mut PgConnection,
    org: OrgId,
    user: UserId,
    role: Role,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update memberships set role = $3 where org_id = $1 and user_id = $2"#,
        org as OrgId,
        user as UserId,
        role as Role
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove(conn: &mut PgConnection, org: OrgId, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"delete from memberships where org_id = $1 and user_id = $2"#,
        org as OrgId,
        user as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

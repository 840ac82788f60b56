use crate::domain::org::OrgChanges;
use aura_types::{slugify, OrgId, Organization};
use sqlx::{PgConnection, PgExecutor};

/// Creates an organization with a unique slug derived from its name.
pub async fn insert(
    conn: &mut PgConnection,
    name: &str,
    timezone: &str,
) -> Result<OrgId, sqlx::Error> {
    let id = OrgId::new();
    let base = slugify(name);
    // The slug is unique: take the first free one of `base`, `base-2`, `base-3`, … in one statement.
    sqlx::query!(
        r#"
        insert into organizations (id, name, slug, timezone)
        select $1, $2, candidate, $4
        from (
            select case when n = 1 then $3 else $3 || '-' || n end as candidate, n
            from generate_series(1, 10000) as n
        ) c
        where not exists (select 1 from organizations o where o.slug = c.candidate)
        order by n
        limit 1
        "#,
        id as OrgId,
        name,
        base,
        timezone,
    )
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn get(db: impl PgExecutor<'_>, org: OrgId) -> Result<Option<Organization>, sqlx::Error> {
    sqlx::query_as!(
        Organization,
        r#"select id as "id: OrgId", name, slug, brand_voice, public_name, postal_address, timezone,
                  country, created_at, updated_at
           from organizations where id = $1"#,
        org as OrgId
    )
    .fetch_optional(db)
    .await
}

/// Applies a parsed partial update. `Some(None)` clears an optional field; `None` leaves it.
pub async fn update(
    db: impl PgExecutor<'_>,
    org: OrgId,
    c: &OrgChanges,
) -> Result<Option<Organization>, sqlx::Error> {
    sqlx::query_as!(
        Organization,
        r#"update organizations set
              name = coalesce($2, name),
              brand_voice = case when $3 then $4 else brand_voice end,
              public_name = case when $5 then $6 else public_name end,
              postal_address = case when $7 then $8 else postal_address end,
              timezone = coalesce($9, timezone),
              country = case when $10 then $11 else country end,
              updated_at = now()
           where id = $1
           returning id as "id: OrgId", name, slug, brand_voice, public_name, postal_address, timezone,
                     country, created_at, updated_at"#,
        org as OrgId,
        c.name.as_deref(),
        c.brand_voice.is_some(),
        c.brand_voice.clone().flatten(),
        c.public_name.is_some(),
        c.public_name.clone().flatten(),
        c.postal_address.is_some(),
        c.postal_address.clone().flatten(),
        c.timezone.as_ref().map(|t| t.as_str()),
        c.country.is_some(),
        c.country.flatten(),
    )
    .fetch_optional(db)
    .await
}

/// The organization's country: the region of local phone numbers.
pub async fn region(db: impl PgExecutor<'_>, org: OrgId) -> Result<Option<String>, sqlx::Error> {
    Ok(get(db, org).await?.and_then(|o| o.country))
}

//! Segments and static segment membership.

use crate::db::contacts::{self, push_where, Selection};
use aura_types::{OrgId, Rule, Segment, SegmentId, SegmentKind};
use sqlx::{types::Json, PgConnection, PgExecutor, Postgres, QueryBuilder};
use time::OffsetDateTime;

/// A stored segment (without its size).
pub struct SegmentRow {
    pub id: SegmentId,
    pub name: String,
    pub description: Option<String>,
    pub kind: SegmentKind,
    pub rules: Option<Rule>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl SegmentRow {
    pub fn with_count(self, member_count: i64) -> Segment {
        Segment {
            id: self.id,
            name: self.name,
            description: self.description,
            kind: self.kind,
            rules: self.rules,
            member_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The rule that selects the segment's members.
    pub fn member_rule(&self) -> Rule {
        match (&self.kind, &self.rules) {
            (SegmentKind::Dynamic, Some(r)) => r.clone(),
            _ => Rule::InSegment {
                segment_id: self.id,
            },
        }
    }
}

struct Raw {
    id: SegmentId,
    name: String,
    description: Option<String>,
    kind: SegmentKind,
    rules: Option<Json<Rule>>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<Raw> for SegmentRow {
    fn from(r: Raw) -> Self {
        SegmentRow {
            id: r.id,
            name: r.name,
            description: r.description,
            kind: r.kind,
            rules: r.rules.map(|j| j.0),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub async fn get(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: SegmentId,
) -> Result<Option<SegmentRow>, sqlx::Error> {
    let row = sqlx::query_as!(
        Raw,
        r#"select id as "id: SegmentId", name, description, kind as "kind: SegmentKind",
                  rules as "rules: Json<Rule>", created_at, updated_at
           from segments where org_id = $1 and id = $2"#,
        org as OrgId,
        id as SegmentId
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(SegmentRow::from))
}

pub async fn list(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<SegmentRow>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Raw,
        r#"select id as "id: SegmentId", name, description, kind as "kind: SegmentKind",
                  rules as "rules: Json<Rule>", created_at, updated_at
           from segments where org_id = $1 order by lower(name)"#,
        org as OrgId
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(SegmentRow::from).collect())
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    name: &str,
    description: Option<&str>,
    kind: SegmentKind,
    rules: Option<&Rule>,
) -> Result<SegmentId, sqlx::Error> {
    let id = SegmentId::new();
    sqlx::query!(
        r#"insert into segments (org_id, id, name, description, kind, rules) values ($1, $2, $3, $4, $5, $6)"#,
        org as OrgId,
        id as SegmentId,
        name,
        description,
        kind as SegmentKind,
        rules.map(Json) as Option<Json<&Rule>>,
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// Applies changes; `description: Some(None)` clears it. False when there is no such segment.
pub async fn update(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: SegmentId,
    name: Option<&str>,
    description: Option<Option<&str>>,
    rules: Option<&Rule>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update segments set name = coalesce($3, name),
               description = case when $4 then $5 else description end,
               rules = coalesce($6, rules), updated_at = now()
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as SegmentId,
        name,
        description.is_some(),
        description.flatten(),
        rules.map(Json) as Option<Json<&Rule>>,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: SegmentId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"delete from segments where org_id = $1 and id = $2"#,
        org as OrgId,
        id as SegmentId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds the selected contacts to a static segment; returns how many were not members yet.
pub async fn add_members(
    db: &mut PgConnection,
    org: OrgId,
    segment: SegmentId,
    sel: &Selection,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(
        "insert into segment_members (org_id, segment_id, contact_id) select c.org_id, ",
    );
    qb.push_bind(segment).push(", c.id from contacts c where ");
    push_where(&mut qb, org, sel, now);
    qb.push(" on conflict do nothing");
    Ok(qb.build().execute(db).await?.rows_affected())
}

/// Removes the selected contacts from a static segment; returns how many were members.
pub async fn remove_members(
    db: &mut PgConnection,
    org: OrgId,
    segment: SegmentId,
    sel: &Selection,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let mut qb: QueryBuilder<'_, Postgres> =
        QueryBuilder::new("delete from segment_members m using contacts c where m.org_id = ");
    qb.push_bind(org)
        .push(" and m.segment_id = ")
        .push_bind(segment)
        .push(" and c.org_id = m.org_id and c.id = m.contact_id and ");
    push_where(&mut qb, org, sel, now);
    Ok(qb.build().execute(db).await?.rows_affected())
}

/// How many contacts are in the segment now.
pub async fn member_count(
    db: &mut PgConnection,
    org: OrgId,
    segment: &SegmentRow,
    now: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    contacts::count(db, org, &Selection::Rule(segment.member_rule()), now).await
}

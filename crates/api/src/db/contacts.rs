//! Contacts, their notes and tags. Filters and segment rules arrive as a `Rule` and are compiled
//! by `db::rules`; every statement is scoped by the organization.

use crate::db::rules::push_rule;
use crate::domain::contact::ContactRecord;
use aura_types::{
    full_name, Consent, Contact, ContactId, ContactStatus, ContactType, Note, NoteId, OrgId, Rule,
    UserId,
};
use sqlx::{types::Json, FromRow, PgConnection, PgExecutor, Postgres, QueryBuilder};
use time::OffsetDateTime;

/// The columns every contact read selects, in `ContactRow`'s shape.
const SELECT: &str = "select c.id, c.first_name, c.last_name, c.email, c.phone, c.whatsapp, c.company,
    c.job_title, c.website, c.linkedin_url, c.city, c.state, c.country, c.timezone, c.tags, c.source,
    c.contact_type, c.status, c.consent, c.custom, c.ai_intent_score, c.ai_segment, c.ai_notes,
    c.ai_next_action, c.owner_id, u.name as owner_name, c.last_contacted_at, c.last_replied_at,
    c.created_at, c.updated_at
    from contacts c left join users u on u.id = c.owner_id ";

#[derive(FromRow)]
struct ContactRow {
    id: ContactId,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    whatsapp: Option<String>,
    company: Option<String>,
    job_title: Option<String>,
    website: Option<String>,
    linkedin_url: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    timezone: Option<String>,
    tags: Vec<String>,
    source: Option<String>,
    contact_type: ContactType,
    status: ContactStatus,
    consent: Json<Consent>,
    custom: Json<serde_json::Map<String, serde_json::Value>>,
    ai_intent_score: Option<i16>,
    ai_segment: Option<String>,
    ai_notes: Option<String>,
    ai_next_action: Option<String>,
    owner_id: Option<UserId>,
    owner_name: Option<String>,
    last_contacted_at: Option<OffsetDateTime>,
    last_replied_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ContactRow> for Contact {
    fn from(r: ContactRow) -> Self {
        Contact {
            full_name: full_name(
                r.first_name.as_deref(),
                r.last_name.as_deref(),
                r.email.as_deref(),
                r.phone.as_deref(),
            ),
            id: r.id,
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email,
            phone: r.phone,
            whatsapp: r.whatsapp,
            company: r.company,
            job_title: r.job_title,
            website: r.website,
            linkedin_url: r.linkedin_url,
            city: r.city,
            state: r.state,
            country: r.country,
            timezone: r.timezone,
            tags: r.tags,
            source: r.source,
            contact_type: r.contact_type,
            status: r.status,
            consent: r.consent.0,
            custom: r.custom.0,
            ai_intent_score: r.ai_intent_score,
            ai_segment: r.ai_segment,
            ai_notes: r.ai_notes,
            ai_next_action: r.ai_next_action,
            owner_id: r.owner_id,
            owner_name: r.owner_name,
            last_contacted_at: r.last_contacted_at,
            last_replied_at: r.last_replied_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl From<Contact> for ContactRecord {
    fn from(c: Contact) -> Self {
        ContactRecord {
            id: c.id,
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            phone: c.phone,
            whatsapp: c.whatsapp,
            company: c.company,
            job_title: c.job_title,
            website: c.website,
            linkedin_url: c.linkedin_url,
            city: c.city,
            state: c.state,
            country: c.country,
            timezone: c.timezone,
            tags: c.tags,
            source: c.source,
            contact_type: c.contact_type,
            status: c.status,
            consent: c.consent,
            custom: c.custom,
            ai_intent_score: c.ai_intent_score,
            ai_segment: c.ai_segment,
            ai_notes: c.ai_notes,
            ai_next_action: c.ai_next_action,
            owner_id: c.owner_id,
        }
    }
}

/// Which contacts a statement touches: a rule (a filter or a segment) or explicit ids.
#[derive(Clone, Debug)]
pub enum Selection {
    Rule(Rule),
    Ids(Vec<ContactId>),
}

/// Pushes `c.org_id = $org and (<selection>)`.
pub fn push_where(
    qb: &mut QueryBuilder<'_, Postgres>,
    org: OrgId,
    sel: &Selection,
    now: OffsetDateTime,
) {
    qb.push(" c.org_id = ").push_bind(org).push(" and ");
    match sel {
        Selection::Rule(rule) => push_rule(qb, rule, now),
        Selection::Ids(ids) => {
            let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
            qb.push("c.id = any(").push_bind(ids).push(")");
        }
    };
}

/// Runs a query built on `SELECT` and maps its rows.
async fn fetch(
    db: &mut PgConnection,
    mut qb: QueryBuilder<'_, Postgres>,
) -> Result<Vec<Contact>, sqlx::Error> {
    let rows: Vec<ContactRow> = qb.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().map(Contact::from).collect())
}

/// A page of contacts matching `sel`, newest first, after `cursor`.
pub async fn list(
    db: &mut PgConnection,
    org: OrgId,
    sel: &Selection,
    now: OffsetDateTime,
    cursor: Option<ContactId>,
    limit: i64,
) -> Result<Vec<Contact>, sqlx::Error> {
    let mut qb = QueryBuilder::new(SELECT);
    qb.push(" where ");
    push_where(&mut qb, org, sel, now);
    if let Some(cursor) = cursor {
        qb.push(" and c.id < ").push_bind(cursor);
    }
    qb.push(" order by c.id desc limit ").push_bind(limit);
    fetch(db, qb).await
}

/// How many contacts match `sel`.
pub async fn count(
    db: &mut PgConnection,
    org: OrgId,
    sel: &Selection,
    now: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    let mut qb = QueryBuilder::new("select count(*) from contacts c where ");
    push_where(&mut qb, org, sel, now);
    qb.build_query_scalar().fetch_one(db).await
}

/// Those of `ids` that have a phone number, in the same order.
pub async fn with_phone(
    db: impl PgExecutor<'_>,
    org: OrgId,
    ids: &[ContactId],
) -> Result<Vec<ContactId>, sqlx::Error> {
    let all: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
    let with: std::collections::HashSet<uuid::Uuid> = sqlx::query_scalar!(
        "select id from contacts where org_id = $1 and id = any($2) and phone is not null",
        org as OrgId,
        &all
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .collect();
    Ok(ids
        .iter()
        .copied()
        .filter(|c| with.contains(&c.0))
        .collect())
}

/// The ids of the contacts matching `sel`.
pub async fn ids(
    db: &mut PgConnection,
    org: OrgId,
    sel: &Selection,
    now: OffsetDateTime,
) -> Result<Vec<ContactId>, sqlx::Error> {
    let mut qb = QueryBuilder::new("select c.id from contacts c where ");
    push_where(&mut qb, org, sel, now);
    qb.build_query_scalar().fetch_all(db).await
}

pub async fn get(
    db: &mut PgConnection,
    org: OrgId,
    id: ContactId,
) -> Result<Option<Contact>, sqlx::Error> {
    let mut qb = QueryBuilder::new(SELECT);
    qb.push(" where c.org_id = ")
        .push_bind(org)
        .push(" and c.id = ")
        .push_bind(id);
    Ok(fetch(db, qb).await?.pop())
}

/// Contacts by id (those of other organizations are not found).
pub async fn by_ids(
    db: &mut PgConnection,
    org: OrgId,
    ids: &[ContactId],
) -> Result<Vec<Contact>, sqlx::Error> {
    let mut qb = QueryBuilder::new(SELECT);
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    qb.push(" where c.org_id = ")
        .push_bind(org)
        .push(" and c.id = any(")
        .push_bind(ids)
        .push(")");
    fetch(db, qb).await
}

/// Contacts by id, locked for update until the transaction ends.
pub async fn lock(
    db: &mut PgConnection,
    org: OrgId,
    ids: &[ContactId],
) -> Result<Vec<Contact>, sqlx::Error> {
    let mut qb = QueryBuilder::new(SELECT);
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    qb.push(" where c.org_id = ")
        .push_bind(org)
        .push(" and c.id = any(")
        .push_bind(ids)
        .push(") for update of c");
    fetch(db, qb).await
}

/// Contacts whose email (any case) or phone is among those given, locked for update. Each
/// address is looked up through its own unique index (an `or` of the two would scan the table).
pub async fn lock_by_address(
    db: &mut PgConnection,
    org: OrgId,
    emails_lower: &[String],
    phones: &[String],
) -> Result<Vec<Contact>, sqlx::Error> {
    let mut qb = QueryBuilder::new(SELECT);
    qb.push(" where c.org_id = ")
        .push_bind(org)
        .push(" and c.id in (select id from contacts where org_id = ")
        .push_bind(org)
        .push(" and lower(email) = any(")
        .push_bind(emails_lower)
        .push(") union all select id from contacts where org_id = ")
        .push_bind(org)
        .push(" and phone = any(")
        .push_bind(phones)
        .push(")) for update of c");
    fetch(db, qb).await
}

/// Inserts new records and rewrites existing ones (matched by id) in one statement.
pub async fn upsert(
    db: &mut PgConnection,
    org: OrgId,
    records: &[ContactRecord],
) -> Result<(), sqlx::Error> {
    if records.is_empty() {
        return Ok(());
    }
    macro_rules! col {
        ($f:ident) => {
            records
                .iter()
                .map(|r| r.$f.clone())
                .collect::<Vec<Option<String>>>()
        };
    }
    let ids: Vec<uuid::Uuid> = records.iter().map(|r| r.id.0).collect();
    let tags: Vec<String> = records.iter().map(|r| r.tags.join(",")).collect();
    let kinds: Vec<&str> = records.iter().map(|r| r.contact_type.as_str()).collect();
    let statuses: Vec<&str> = records.iter().map(|r| r.status.as_str()).collect();
    let consent: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(&r.consent).unwrap_or_else(|_| "{}".into()))
        .collect();
    let custom: Vec<String> = records
        .iter()
        .map(|r| serde_json::Value::Object(r.custom.clone()).to_string())
        .collect();
    let scores: Vec<Option<i16>> = records.iter().map(|r| r.ai_intent_score).collect();
    let owners: Vec<Option<uuid::Uuid>> = records.iter().map(|r| r.owner_id.map(|o| o.0)).collect();
    sqlx::query!(
        r#"insert into contacts (org_id, id, first_name, last_name, email, phone, whatsapp, company,
               job_title, website, linkedin_url, city, state, country, timezone, tags, source,
               contact_type, status, consent, custom, ai_intent_score, ai_segment, ai_notes,
               ai_next_action, owner_id)
           select $1, r.id, r.first_name, r.last_name, r.email, r.phone, r.whatsapp, r.company,
               r.job_title, r.website, r.linkedin_url, r.city, r.state, r.country, r.timezone,
               string_to_array(r.tags, ','), r.source, r.contact_type::contact_type,
               r.status::contact_status, r.consent::jsonb, r.custom::jsonb, r.ai_intent_score,
               r.ai_segment, r.ai_notes, r.ai_next_action, r.owner_id
           from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
               $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
               $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[],
               $20::text[], $21::text[], $22::int2[], $23::text[], $24::text[], $25::text[],
               $26::uuid[])
             as r(id, first_name, last_name, email, phone, whatsapp, company, job_title, website,
               linkedin_url, city, state, country, timezone, tags, source, contact_type, status,
               consent, custom, ai_intent_score, ai_segment, ai_notes, ai_next_action, owner_id)
           on conflict (org_id, id) do update set
               first_name = excluded.first_name, last_name = excluded.last_name,
               email = excluded.email, phone = excluded.phone, whatsapp = excluded.whatsapp,
               company = excluded.company, job_title = excluded.job_title,
               website = excluded.website, linkedin_url = excluded.linkedin_url,
               city = excluded.city, state = excluded.state, country = excluded.country,
               timezone = excluded.timezone, tags = excluded.tags, source = excluded.source,
               contact_type = excluded.contact_type, status = excluded.status,
               consent = excluded.consent, custom = excluded.custom,
               ai_intent_score = excluded.ai_intent_score, ai_segment = excluded.ai_segment,
               ai_notes = excluded.ai_notes, ai_next_action = excluded.ai_next_action,
               owner_id = excluded.owner_id, updated_at = now()"#,
        org as OrgId,
        &ids,
        &col!(first_name) as &[Option<String>],
        &col!(last_name) as &[Option<String>],
        &col!(email) as &[Option<String>],
        &col!(phone) as &[Option<String>],
        &col!(whatsapp) as &[Option<String>],
        &col!(company) as &[Option<String>],
        &col!(job_title) as &[Option<String>],
        &col!(website) as &[Option<String>],
        &col!(linkedin_url) as &[Option<String>],
        &col!(city) as &[Option<String>],
        &col!(state) as &[Option<String>],
        &col!(country) as &[Option<String>],
        &col!(timezone) as &[Option<String>],
        &tags,
        &col!(source) as &[Option<String>],
        &kinds as &[&str],
        &statuses as &[&str],
        &consent,
        &custom,
        &scores as &[Option<i16>],
        &col!(ai_segment) as &[Option<String>],
        &col!(ai_notes) as &[Option<String>],
        &col!(ai_next_action) as &[Option<String>],
        &owners as &[Option<uuid::Uuid>],
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes the selected contacts (their notes and memberships go with them).
pub async fn delete(
    db: &mut PgConnection,
    org: OrgId,
    sel: &Selection,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let mut qb = QueryBuilder::new("delete from contacts c where ");
    push_where(&mut qb, org, sel, now);
    Ok(qb.build().execute(db).await?.rows_affected())
}

/// Adds tags to the selected contacts that lack any of them; returns how many changed.
pub async fn add_tags(
    db: &mut PgConnection,
    org: OrgId,
    sel: &Selection,
    now: OffsetDateTime,
    tags: &[String],
) -> Result<u64, sqlx::Error> {
    let mut qb = QueryBuilder::new(
        "update contacts c set updated_at = now(), tags = c.tags || array(select t from unnest(",
    );
    qb.push_bind(tags)
        .push("::text[]) with ordinality u(t, n) where t <> all(c.tags) order by n) where not (c.tags @> ")
        .push_bind(tags)
        .push("::text[]) and ");
    push_where(&mut qb, org, sel, now);
    Ok(qb.build().execute(db).await?.rows_affected())
}

/// Removes tags from the selected contacts that carry any of them.
pub async fn remove_tags(
    db: &mut PgConnection,
    org: OrgId,
    sel: &Selection,
    now: OffsetDateTime,
    tags: &[String],
) -> Result<u64, sqlx::Error> {
    let mut qb = QueryBuilder::new("update contacts c set updated_at = now(), tags = array(select t from unnest(c.tags) with ordinality u(t, n) where t <> all(");
    qb.push_bind(tags)
        .push("::text[]) order by n) where c.tags && ")
        .push_bind(tags)
        .push("::text[] and ");
    push_where(&mut qb, org, sel, now);
    Ok(qb.build().execute(db).await?.rows_affected())
}

pub async fn set_status(
    db: &mut PgConnection,
    org: OrgId,
    sel: &Selection,
    now: OffsetDateTime,
    status: ContactStatus,
) -> Result<u64, sqlx::Error> {
    let mut qb = QueryBuilder::new("update contacts c set updated_at = now(), status = ");
    qb.push_bind(status)
        .push(" where c.status <> ")
        .push_bind(status)
        .push(" and ");
    push_where(&mut qb, org, sel, now);
    Ok(qb.build().execute(db).await?.rows_affected())
}

pub async fn set_owner(
    db: &mut PgConnection,
    org: OrgId,
    sel: &Selection,
    now: OffsetDateTime,
    owner: Option<UserId>,
) -> Result<u64, sqlx::Error> {
    let mut qb = QueryBuilder::new("update contacts c set updated_at = now(), owner_id = ");
    qb.push_bind(owner)
        .push(" where c.owner_id is distinct from ")
        .push_bind(owner)
        .push(" and ");
    push_where(&mut qb, org, sel, now);
    Ok(qb.build().execute(db).await?.rows_affected())
}

/// Every tag in use with its number of contacts, most used first.
pub async fn tag_counts(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> Result<Vec<aura_types::TagCount>, sqlx::Error> {
    sqlx::query_as!(
        aura_types::TagCount,
        r#"select t as "tag!", count(*) as "count!" from contacts, unnest(tags) t
           where org_id = $1 group by t order by count(*) desc, t"#,
        org as OrgId
    )
    .fetch_all(db)
    .await
}

/// Renames `from` to `to` on every contact (merging when a contact has both); returns how many
/// contacts changed.
pub async fn rename_tag(
    db: impl PgExecutor<'_>,
    org: OrgId,
    from: &str,
    to: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"update contacts set updated_at = now(), tags = array(
               select t from (select case when t = $2 then $3 else t end as t, n
                              from unnest(tags) with ordinality u(t, n)) x
               group by t order by min(n))
           where org_id = $1 and tags @> array[$2]::text[]"#,
        org as OrgId,
        from,
        to
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn notes(
    db: impl PgExecutor<'_>,
    org: OrgId,
    contact: ContactId,
) -> Result<Vec<Note>, sqlx::Error> {
    sqlx::query_as!(
        Note,
        r#"select n.id as "id: NoteId", n.author_id as "author_id: UserId", u.name as "author_name?",
                  n.body, n.created_at
           from contact_notes n left join users u on u.id = n.author_id
           where n.org_id = $1 and n.contact_id = $2 order by n.created_at desc, n.id desc"#,
        org as OrgId,
        contact as ContactId
    )
    .fetch_all(db)
    .await
}

/// Adds a note; `None` when the contact does not exist in `org`.
pub async fn add_note(
    db: impl PgExecutor<'_>,
    org: OrgId,
    contact: ContactId,
    author: Option<UserId>,
    body: &str,
) -> Result<Option<Note>, sqlx::Error> {
    sqlx::query_as!(
        Note,
        r#"with c as (select id from contacts where org_id = $1 and id = $2),
                n as (insert into contact_notes (org_id, id, contact_id, author_id, body)
                      select $1, $3, c.id, $4, $5 from c returning *)
           select n.id as "id!: NoteId", n.author_id as "author_id: UserId", u.name as "author_name?",
                  n.body as "body!", n.created_at as "created_at!"
           from n left join users u on u.id = n.author_id"#,
        org as OrgId,
        contact as ContactId,
        NoteId::new() as NoteId,
        author as Option<UserId>,
        body
    )
    .fetch_optional(db)
    .await
}

/// Moves notes and static-segment memberships from one contact to another (a merge).
pub async fn move_children(
    db: &mut PgConnection,
    org: OrgId,
    from: ContactId,
    to: ContactId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update contact_notes set contact_id = $3 where org_id = $1 and contact_id = $2"#,
        org as OrgId,
        from as ContactId,
        to as ContactId
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        r#"insert into segment_members (org_id, segment_id, contact_id, added_at)
           select org_id, segment_id, $3, added_at from segment_members
           where org_id = $1 and contact_id = $2
           on conflict do nothing"#,
        org as OrgId,
        from as ContactId,
        to as ContactId
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// The contacts enrolled in a campaign who have not completed it.
pub async fn in_campaign(
    db: &mut PgConnection,
    org: OrgId,
    campaign: aura_types::CampaignId,
) -> Result<Vec<Contact>, sqlx::Error> {
    let mut qb = QueryBuilder::new(SELECT);
    qb.push(" where c.org_id = ")
        .push_bind(org)
        .push(" and c.id in (select t.contact_id from campaign_targets t where t.org_id = ")
        .push_bind(org)
        .push(" and t.campaign_id = ")
        .push_bind(campaign.0)
        .push(" and t.status <> 'completed')");
    fetch(db, qb).await
}

/// The first `limit` contacts with an email address (oldest first): their address and name.
pub async fn with_email(
    db: impl PgExecutor<'_>,
    org: OrgId,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select lower(email) as "email!", coalesce(first_name, '') as "first_name!" from contacts
           where org_id = $1 and email is not null order by created_at, id limit $2"#,
        org as OrgId,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.email, r.first_name)).collect())
}

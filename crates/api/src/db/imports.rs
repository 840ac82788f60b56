//! Contact imports: the uploaded file, its job state and progress, and the per-row report.

use aura_types::{
    ColumnMapping, ContactId, Import, ImportId, ImportOptions, ImportProgress, ImportStatus, OrgId,
    ReportRow, RowOutcome, UserId,
};
use sqlx::{types::Json, PgConnection, PgExecutor};
use time::OffsetDateTime;

struct Raw {
    id: ImportId,
    filename: String,
    status: ImportStatus,
    delimiter: String,
    encoding: String,
    headers: Vec<String>,
    total_rows: i64,
    mapping: Json<Vec<ColumnMapping>>,
    options: Json<ImportOptions>,
    read: i64,
    created: i64,
    updated: i64,
    skipped: i64,
    invalid: i64,
    error: Option<String>,
    created_at: OffsetDateTime,
    started_at: Option<OffsetDateTime>,
    finished_at: Option<OffsetDateTime>,
}

impl From<Raw> for Import {
    fn from(r: Raw) -> Self {
        Import {
            id: r.id,
            filename: r.filename,
            status: r.status,
            delimiter: r.delimiter,
            encoding: r.encoding,
            headers: r.headers,
            total_rows: r.total_rows,
            mapping: r.mapping.0,
            options: r.options.0,
            progress: ImportProgress {
                read: r.read,
                created: r.created,
                updated: r.updated,
                skipped: r.skipped,
                invalid: r.invalid,
            },
            error: r.error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// An uploaded file, analysed and waiting for its mapping.
pub struct NewImport<'a> {
    pub filename: &'a str,
    pub content: &'a str,
    pub delimiter: &'a str,
    pub encoding: &'a str,
    pub headers: &'a [String],
    pub total_rows: i64,
    pub mapping: &'a [ColumnMapping],
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    by: Option<UserId>,
    n: &NewImport<'_>,
) -> Result<ImportId, sqlx::Error> {
    let id = ImportId::new();
    sqlx::query!(
        r#"insert into imports (org_id, id, created_by, filename, content, delimiter, encoding, headers, total_rows, mapping)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
        org as OrgId,
        id as ImportId,
        by as Option<UserId>,
        n.filename,
        n.content,
        n.delimiter,
        n.encoding,
        n.headers,
        n.total_rows,
        Json(n.mapping) as Json<&[ColumnMapping]>,
    )
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn get(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ImportId,
) -> Result<Option<Import>, sqlx::Error> {
    let row = sqlx::query_as!(
        Raw,
        r#"select id as "id: ImportId", filename, status as "status: ImportStatus", delimiter, encoding, headers,
                  total_rows, mapping as "mapping: Json<Vec<ColumnMapping>>", options as "options: Json<ImportOptions>",
                  read, created, updated, skipped, invalid, error, created_at, started_at, finished_at
           from imports where org_id = $1 and id = $2"#,
        org as OrgId,
        id as ImportId
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Import::from))
}

pub async fn list(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<Import>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Raw,
        r#"select id as "id: ImportId", filename, status as "status: ImportStatus", delimiter, encoding, headers,
                  total_rows, mapping as "mapping: Json<Vec<ColumnMapping>>", options as "options: Json<ImportOptions>",
                  read, created, updated, skipped, invalid, error, created_at, started_at, finished_at
           from imports where org_id = $1 order by id desc limit 50"#,
        org as OrgId
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Import::from).collect())
}

/// The stored file of an import that has not finished.
pub async fn content(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ImportId,
) -> Result<Option<String>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        r#"select content from imports where org_id = $1 and id = $2"#,
        org as OrgId,
        id as ImportId
    )
    .fetch_optional(db)
    .await?
    .flatten())
}

/// Queues an uploaded import with its mapping and options; false unless it was `uploaded`.
pub async fn start(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ImportId,
    mapping: &[ColumnMapping],
    options: &ImportOptions,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update imports set status = 'queued', mapping = $3, options = $4, error = null
           where org_id = $1 and id = $2 and status = 'uploaded'"#,
        org as OrgId,
        id as ImportId,
        Json(mapping) as Json<&[ColumnMapping]>,
        Json(options) as Json<&ImportOptions>,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A claimed job: enough to run (or resume) it.
pub struct Claimed {
    pub org_id: OrgId,
    pub id: ImportId,
    pub filename: String,
    pub content: Option<String>,
    pub delimiter: String,
    pub mapping: Json<Vec<ColumnMapping>>,
    pub options: Json<ImportOptions>,
    /// Rows already done by an earlier attempt.
    pub read: i64,
    pub attempts: i32,
}

/// Claims the oldest queued import (or one whose worker's lease ran out) for `lease_secs`.
pub async fn claim(
    db: impl PgExecutor<'_>,
    lease_secs: f64,
) -> Result<Option<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        r#"update imports i set status = 'running', attempts = i.attempts + 1,
               locked_until = now() + make_interval(secs => $1), started_at = coalesce(i.started_at, now())
           from (select org_id, id from imports
                 where status in ('queued', 'running') and (locked_until is null or locked_until < now())
                 order by created_at limit 1 for update skip locked) next
           where i.org_id = next.org_id and i.id = next.id
           returning i.org_id as "org_id: OrgId", i.id as "id: ImportId", i.filename, i.content, i.delimiter,
                     i.mapping as "mapping: Json<Vec<ColumnMapping>>", i.options as "options: Json<ImportOptions>",
                     i.read, i.attempts"#,
        lease_secs
    )
    .fetch_optional(db)
    .await
}

/// Adds a batch's counts and extends the lease.
pub async fn progress(
    db: &mut PgConnection,
    org: OrgId,
    id: ImportId,
    p: &ImportProgress,
    lease_secs: f64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update imports set read = read + $3, created = created + $4, updated = updated + $5,
               skipped = skipped + $6, invalid = invalid + $7, locked_until = now() + make_interval(secs => $8)
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as ImportId,
        p.read,
        p.created,
        p.updated,
        p.skipped,
        p.invalid,
        lease_secs,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Ends a job: completed (the file is dropped) or failed with a message.
pub async fn finish(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ImportId,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update imports set status = case when $3::text is null then 'completed' else 'failed' end::import_status,
               error = $3, finished_at = now(), locked_until = null, content = null
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as ImportId,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Puts a job that hit a transient error back in the queue after `delay_secs`.
pub async fn retry_later(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ImportId,
    error: &str,
    delay_secs: f64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update imports set status = 'queued', error = $3, locked_until = now() + make_interval(secs => $4)
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as ImportId,
        error,
        delay_secs
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Stores report rows (row number, outcome, reason, contact).
pub async fn add_report(
    db: &mut PgConnection,
    org: OrgId,
    id: ImportId,
    rows: &[ReportRow],
) -> Result<(), sqlx::Error> {
    let numbers: Vec<i64> = rows.iter().map(|r| r.row_number).collect();
    let outcomes: Vec<&str> = rows.iter().map(|r| r.outcome.as_str()).collect();
    let reasons: Vec<Option<String>> = rows.iter().map(|r| r.reason.clone()).collect();
    let contacts: Vec<Option<uuid::Uuid>> =
        rows.iter().map(|r| r.contact_id.map(|c| c.0)).collect();
    sqlx::query!(
        r#"insert into import_rows (org_id, import_id, row_number, outcome, reason, contact_id)
           select $1, $2, r.n, r.outcome::row_outcome, r.reason, r.contact_id
           from unnest($3::int8[], $4::text[], $5::text[], $6::uuid[]) as r(n, outcome, reason, contact_id)
           on conflict do nothing"#,
        org as OrgId,
        id as ImportId,
        &numbers,
        &outcomes as &[&str],
        &reasons as &[Option<String>],
        &contacts as &[Option<uuid::Uuid>],
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Report rows in file order, optionally of one outcome.
pub async fn report(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ImportId,
    outcome: Option<RowOutcome>,
    offset: i64,
    limit: i64,
) -> Result<Vec<ReportRow>, sqlx::Error> {
    sqlx::query_as!(
        ReportRow,
        r#"select row_number, outcome as "outcome: RowOutcome", reason, contact_id as "contact_id: ContactId"
           from import_rows where org_id = $1 and import_id = $2 and ($3::row_outcome is null or outcome = $3)
           order by row_number offset $4 limit $5"#,
        org as OrgId,
        id as ImportId,
        outcome as Option<RowOutcome>,
        offset,
        limit
    )
    .fetch_all(db)
    .await
}

pub async fn report_count(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ImportId,
    outcome: Option<RowOutcome>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from import_rows where org_id = $1 and import_id = $2 and ($3::row_outcome is null or outcome = $3)"#,
        org as OrgId,
        id as ImportId,
        outcome as Option<RowOutcome>,
    )
    .fetch_one(db)
    .await
}

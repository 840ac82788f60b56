//! The contact import engine and its background job. Rows are handled in batches: each batch looks
//! up existing contacts by email and phone in one query, decides every row (create, update, skip,
//! invalid) in memory, and writes contacts, report rows and progress in one transaction with bulk
//! statements — never a statement per row.

use super::{Outcome, Wakeup};
use crate::db;
use crate::domain::contact::{Apply, ContactChanges, ContactRecord};
use crate::domain::csvfile;
use crate::domain::import::RowParser;
use anyhow::Context;
use aura_types::{ContactId, DuplicateStrategy, ImportProgress, OrgId, ReportRow, RowOutcome};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Rows per batch (one transaction).
pub const BATCH_ROWS: usize = 5000;
/// How long a worker owns a claimed job before another may take it over.
const LEASE_SECS: f64 = 120.0;
/// Attempts before a job that keeps failing is marked failed.
const MAX_ATTEMPTS: i32 = 5;

/// A parsed row: its number in the file, and its changes or problems.
pub type ParsedRow = (i64, Result<ContactChanges, String>);

/// Imports one batch of parsed rows. Returns the report rows and counts.
pub async fn import_batch(
    conn: &mut PgConnection,
    org: OrgId,
    rows: Vec<ParsedRow>,
    strategy: DuplicateStrategy,
) -> Result<(Vec<ReportRow>, ImportProgress), sqlx::Error> {
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    for (_, r) in &rows {
        if let Ok(c) = r {
            emails.extend(c.email.clone().flatten().map(|e| e.to_lowercase()));
            phones.extend(c.phone.clone().flatten());
        }
    }
    let existing = db::contacts::lock_by_address(conn, org, &emails, &phones).await?;
    let mut records: Vec<ContactRecord> = existing.into_iter().map(ContactRecord::from).collect();
    // Record index → the row that created it in this batch (None: it existed before).
    let mut created_by: Vec<Option<i64>> = vec![None; records.len()];
    let mut dirty = vec![false; records.len()];
    let mut by_email: HashMap<String, usize> = HashMap::new();
    let mut by_phone: HashMap<String, usize> = HashMap::new();
    let index = |r: &ContactRecord,
                 i: usize,
                 be: &mut HashMap<String, usize>,
                 bp: &mut HashMap<String, usize>| {
        if let Some(e) = &r.email {
            be.insert(e.to_lowercase(), i);
        }
        if let Some(p) = &r.phone {
            bp.insert(p.clone(), i);
        }
    };
    for (i, r) in records.iter().enumerate() {
        index(r, i, &mut by_email, &mut by_phone);
    }
    let mut report = Vec::with_capacity(rows.len());
    let mut progress = ImportProgress {
        read: rows.len() as i64,
        ..Default::default()
    };
    let mut rows_out: Vec<(i64, RowOutcome, Option<String>, Option<usize>)> =
        Vec::with_capacity(rows.len());
    for (line, parsed) in rows {
        let changes = match parsed {
            Err(problem) => {
                rows_out.push((line, RowOutcome::Invalid, Some(problem), None));
                continue;
            }
            Ok(c) => c,
        };
        let by_e = changes
            .email
            .clone()
            .flatten()
            .and_then(|e| by_email.get(&e.to_lowercase()).copied());
        let by_p = changes
            .phone
            .clone()
            .flatten()
            .and_then(|p| by_phone.get(&p).copied());
        let target = match (by_e, by_p) {
            (Some(a), Some(b)) if a != b => {
                let name = |i: usize| {
                    aura_types::full_name(
                        records[i].first_name.as_deref(),
                        records[i].last_name.as_deref(),
                        records[i].email.as_deref(),
                        records[i].phone.as_deref(),
                    )
                };
                rows_out.push((
                    line,
                    RowOutcome::Invalid,
                    Some(format!(
                        "the email belongs to {} and the phone number to {}",
                        name(a),
                        name(b)
                    )),
                    None,
                ));
                continue;
            }
            (Some(a), _) | (None, Some(a)) => Some(a),
            (None, None) => None,
        };
        match target {
            None => {
                let mut record = ContactRecord::new(ContactId::new());
                record.apply(&changes, Apply::Set);
                let i = records.len();
                index(&record, i, &mut by_email, &mut by_phone);
                records.push(record);
                created_by.push(Some(line));
                dirty.push(true);
                rows_out.push((line, RowOutcome::Created, None, Some(i)));
            }
            Some(i) => {
                let duplicate_of = match created_by[i] {
                    Some(first) => format!("duplicate of row {first}"),
                    None => "matches an existing contact".to_owned(),
                };
                let mode = match strategy {
                    DuplicateStrategy::Skip => {
                        rows_out.push((line, RowOutcome::Skipped, Some(duplicate_of), Some(i)));
                        continue;
                    }
                    DuplicateStrategy::FillEmpty => Apply::FillEmpty,
                    DuplicateStrategy::Overwrite => Apply::Overwrite,
                };
                let before = records[i].clone();
                let mut updated = before.clone();
                updated.apply(&changes, mode);
                // A change must not take another contact's email or phone.
                let clash = updated
                    .email
                    .as_ref()
                    .and_then(|e| by_email.get(&e.to_lowercase()))
                    .is_some_and(|&j| j != i)
                    || updated
                        .phone
                        .as_ref()
                        .and_then(|p| by_phone.get(p))
                        .is_some_and(|&j| j != i);
                if clash {
                    rows_out.push((
                        line,
                        RowOutcome::Invalid,
                        Some("its email or phone number belongs to another contact".into()),
                        None,
                    ));
                } else if updated == before {
                    rows_out.push((
                        line,
                        RowOutcome::Skipped,
                        Some(format!("{duplicate_of}; nothing new")),
                        Some(i),
                    ));
                } else {
                    index(&updated, i, &mut by_email, &mut by_phone);
                    records[i] = updated;
                    dirty[i] = true;
                    let (outcome, reason) = match created_by[i] {
                        Some(_) => (
                            RowOutcome::Skipped,
                            Some(format!("{duplicate_of}; merged into it")),
                        ),
                        None => (RowOutcome::Updated, None),
                    };
                    rows_out.push((line, outcome, reason, Some(i)));
                }
            }
        }
    }
    let to_write: Vec<ContactRecord> = records
        .iter()
        .zip(&dirty)
        .filter(|(_, d)| **d)
        .map(|(r, _)| r.clone())
        .collect();
    db::contacts::upsert(conn, org, &to_write).await?;
    let ids: Vec<ContactId> = to_write.iter().map(|r| r.id).collect();
    db::suppressions::apply_to_contacts(conn, org, Some(&ids)).await?;
    for (line, outcome, reason, record) in rows_out {
        match outcome {
            RowOutcome::Created => progress.created += 1,
            RowOutcome::Updated => progress.updated += 1,
            RowOutcome::Skipped => progress.skipped += 1,
            RowOutcome::Invalid => progress.invalid += 1,
        }
        report.push(ReportRow {
            row_number: line,
            outcome,
            reason,
            contact_id: record.map(|i| records[i].id),
        });
    }
    Ok((report, progress))
}

/// Claims one queued import and runs it to the end (resuming after the rows an earlier attempt
/// committed).
pub async fn run_next(pool: &PgPool) -> anyhow::Result<Outcome> {
    let Some(job) = db::imports::claim(pool, LEASE_SECS)
        .await
        .context("claiming an import")?
    else {
        return Ok(Outcome::Idle);
    };
    let span = tracing::info_span!("import", org_id = %job.org_id, import_id = %job.id);
    let _guard = span.enter();
    match run(pool, &job).await {
        Ok(()) => db::imports::finish(pool, job.org_id, job.id, None).await?,
        Err(e) if job.attempts >= MAX_ATTEMPTS => {
            tracing::error!(error = ?e, "import failed for good");
            db::imports::finish(pool, job.org_id, job.id, Some("The import stopped after repeated errors; the rows reported so far were imported.")).await?;
        }
        Err(e) => {
            tracing::warn!(error = ?e, attempts = job.attempts, "import failed; will retry");
            let delay = 2f64.powi(job.attempts) * 5.0;
            db::imports::retry_later(pool, job.org_id, job.id, "Retrying after an error…", delay)
                .await?;
        }
    }
    Ok(Outcome::Worked)
}

async fn run(pool: &PgPool, job: &db::imports::Claimed) -> anyhow::Result<()> {
    let text = job
        .content
        .as_deref()
        .context("the import's file is gone")?;
    let region = db::orgs::get(pool, job.org_id)
        .await?
        .and_then(|o| o.country);
    let parser = RowParser {
        mapping: &job.mapping.0,
        options: &job.options.0,
        region: region.as_deref(),
        default_source: format!("import: {}", job.filename),
        now: OffsetDateTime::now_utc(),
    };
    let (_, rows) = csvfile::rows(text, csvfile::delimiter_from_name(&job.delimiter))
        .map_err(anyhow::Error::msg)?;
    let mut rows = rows.skip(usize::try_from(job.read).unwrap_or(0)).peekable();
    while rows.peek().is_some() {
        let batch: Vec<ParsedRow> = rows
            .by_ref()
            .take(BATCH_ROWS)
            .map(|(line, record)| {
                let cells: Vec<&str> = record.iter().collect();
                (line, parser.parse(&cells).map_err(|p| p.join("; ")))
            })
            .collect();
        let mut tx = pool.begin().await?;
        let (report, progress) =
            import_batch(&mut tx, job.org_id, batch, job.options.0.duplicate_strategy).await?;
        db::imports::add_report(&mut tx, job.org_id, job.id, &report).await?;
        db::imports::progress(&mut tx, job.org_id, job.id, &progress, LEASE_SECS).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Runs imports until none is waiting (tests and the benchmark use this).
pub async fn run_until_idle(pool: &PgPool) -> anyhow::Result<()> {
    while run_next(pool).await? == Outcome::Worked {}
    Ok(())
}

/// Wakes this process's import worker at once (another process's worker finds the job on its
/// next poll).
static QUEUED: Wakeup = Wakeup::new();

/// Tells the worker that an import was queued.
pub fn wake() {
    QUEUED.wake();
}

/// The job loop: runs imports as they arrive — at once when woken, else polling every second.
pub async fn run_forever(pool: PgPool) {
    loop {
        match run_next(&pool).await {
            Ok(Outcome::Worked) => continue,
            Ok(Outcome::Idle) => {}
            Err(e) => tracing::warn!(error = ?e, "import worker error; will retry"),
        }
        QUEUED.wait().await;
    }
}

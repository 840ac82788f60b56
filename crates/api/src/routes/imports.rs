//! Contact imports: upload a CSV file, map its columns, preview, run in the background with
//! progress, read the per-row report (JSON or CSV); and the JSON bulk import for integrations.

use crate::routes::Routes;
use crate::{
    db,
    domain::{
        csvfile,
        import::{check_mapping, import_changes, propose_mapping, RowParser},
    },
    error::{ApiError, ApiResult},
    extract::{read_upload, Json},
    routes::Caller,
    state::AppState,
    workers::import::{import_batch, ParsedRow},
};
use actix_web::{web, HttpResponse};
use aura_types::{
    parse_tags, ErrorBody, Import, ImportId, ImportOptions, ImportPreview, ImportStatus,
    JsonImportRequest, JsonImportResult, MappingRequest, Page, PageQuery, PreviewRow, ReportRow,
    RowOutcome, StartImportRequest,
};
use serde::Deserialize;
use time::OffsetDateTime;

/// Largest CSV file accepted.
pub const MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;
/// Most contacts one JSON import may carry.
pub const JSON_IMPORT_MAX: usize = 10_000;
/// Rows shown in a preview.
const PREVIEW_ROWS: usize = 20;

pub fn scope() -> Routes {
    Routes::new("/imports")
        .get("", list)
        .post("", upload)
        .get("/{import_id}", get)
        .post("/{import_id}/preview", preview)
        .post("/{import_id}/start", start)
        .get("/{import_id}/report", report)
        .get("/{import_id}/report.csv", report_csv)
}

/// The upload form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The CSV file (comma, semicolon or tab separated; UTF-8 or Latin-1), at most 50 MB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(post, operation_id = "uploadImport", summary = "Upload a CSV file to import", path = "/contacts/imports", tag = "imports", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    description = "Uploads a CSV file and analyses it: encoding, delimiter, headers, row count and a proposed column mapping. Nothing is imported until `start`.",
    responses(
        (status = 201, description = "Analysed", body = Import),
        (status = 400, description = "Not a multipart form, or not CSV", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 413, description = "Larger than 50 MB", body = ErrorBody),
        (status = 422, description = "No email or phone column, or no file", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    let file = read_upload(form, MAX_UPLOAD_BYTES).await?;
    let (text, encoding) = csvfile::decode(&file.bytes);
    let delimiter = csvfile::sniff_delimiter(&text);
    let (headers, rows) =
        csvfile::rows(&text, delimiter).map_err(|m| ApiError::field("file", m))?;
    let mut sample = Vec::new();
    let mut total_rows = 0i64;
    for (_, r) in rows {
        if sample.len() < 50 {
            sample.push(r.iter().map(str::to_owned).collect::<Vec<_>>());
        }
        total_rows += 1;
    }
    let mapping = propose_mapping(&headers, &sample);
    if !mapping
        .iter()
        .any(|m| matches!(m.target.as_deref(), Some("email" | "phone")))
    {
        return Err(ApiError::field(
            "file",
            "The file has neither an email nor a phone column: every contact needs one of them.",
        ));
    }
    let filename: String = file
        .filename
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let id = db::imports::insert(
        &state.pool,
        caller.org_id,
        caller.user_id().ok(),
        &db::imports::NewImport {
            filename: &filename,
            content: &text,
            delimiter: csvfile::delimiter_name(delimiter),
            encoding,
            headers: &headers,
            total_rows,
            mapping: &mapping,
        },
    )
    .await?;
    let import = db::imports::get(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created().json(import))
}

#[utoipa::path(get, operation_id = "listImports", summary = "List CSV imports", path = "/contacts/imports", tag = "imports", security(("bearer" = [])),
    description = "The organization's 50 latest CSV imports, newest first, with their status and progress.",
    responses(
        (status = 200, description = "The 50 latest imports, newest first", body = Vec<Import>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(db::imports::list(&state.pool, caller.org_id).await?))
}

#[utoipa::path(get, operation_id = "getImport", summary = "Get an import", path = "/contacts/imports/{import_id}", tag = "imports", security(("bearer" = [])),
    params(("import_id" = uuid::Uuid, Path, description = "The import's id")),
    description = "The import with its status and progress; poll it while it runs.",
    responses(
        (status = 200, description = "The import", body = Import),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such import", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ImportId>,
) -> ApiResult<HttpResponse> {
    let import = db::imports::get(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(import))
}

/// The import and its file, which must still be waiting to start.
async fn uploaded(state: &AppState, caller: &Caller, id: ImportId) -> ApiResult<(Import, String)> {
    let import = db::imports::get(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if import.status != ImportStatus::Uploaded {
        return Err(ApiError::Conflict(format!(
            "This import is already {}.",
            import.status.label().to_lowercase()
        )));
    }
    let text = db::imports::content(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((import, text))
}

#[utoipa::path(post, operation_id = "previewImport", summary = "Preview an import under a mapping", path = "/contacts/imports/{import_id}/preview", tag = "imports", security(("bearer" = [])),
    params(("import_id" = uuid::Uuid, Path, description = "The import's id")),
    request_body = MappingRequest,
    description = "The first 20 rows as they would be imported under a mapping, each with its problems.",
    responses(
        (status = 200, description = "Preview", body = ImportPreview),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such import", body = ErrorBody),
        (status = 409, description = "The import already started", body = ErrorBody),
        (status = 422, description = "Invalid mapping", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn preview(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ImportId>,
    body: Json<MappingRequest>,
) -> ApiResult<HttpResponse> {
    let (import, text) = uploaded(&state, &caller, path.into_inner()).await?;
    let mapping = body.0.mapping;
    check_mapping(&mapping, import.headers.len())?;
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let options = ImportOptions::default();
    let parser = RowParser {
        mapping: &mapping,
        options: &options,
        region: region.as_deref(),
        default_source: format!("import: {}", import.filename),
        now: OffsetDateTime::now_utc(),
    };
    let (_, rows) = csvfile::rows(&text, csvfile::delimiter_from_name(&import.delimiter))
        .map_err(|m| ApiError::field("file", m))?;
    let rows = rows
        .take(PREVIEW_ROWS)
        .map(|(line, record)| {
            let cells: Vec<&str> = record.iter().collect();
            PreviewRow {
                row_number: line,
                values: parser
                    .values(&cells)
                    .into_iter()
                    .map(|(t, v)| aura_types::MappedValue {
                        target: t.to_owned(),
                        value: v.to_owned(),
                    })
                    .collect(),
                problems: parser.parse(&cells).err().unwrap_or_default(),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(ImportPreview { rows }))
}

fn check_options(options: &mut ImportOptions) -> ApiResult<()> {
    options.tags = parse_tags(&options.tags).map_err(|e| ApiError::field("options.tags", e))?;
    for (field, v) in [
        ("options.consent_source", &mut options.consent_source),
        ("options.source", &mut options.source),
    ] {
        *v = match v.as_deref() {
            None => None,
            Some(s) => {
                aura_types::parse_optional_text(s, 200).map_err(|e| ApiError::field(field, e))?
            }
        };
    }
    Ok(())
}

#[utoipa::path(post, operation_id = "startImport", summary = "Start an import", path = "/contacts/imports/{import_id}/start", tag = "imports", security(("bearer" = [])),
    params(("import_id" = uuid::Uuid, Path, description = "The import's id")),
    request_body = StartImportRequest,
    description = "Queues the import with a mapping and options; a background worker runs it. Poll the import for progress.",
    responses(
        (status = 202, description = "Queued", body = Import),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such import", body = ErrorBody),
        (status = 409, description = "The import already started", body = ErrorBody),
        (status = 422, description = "Invalid mapping or options", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn start(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ImportId>,
    body: Json<StartImportRequest>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (import, _) = uploaded(&state, &caller, id).await?;
    let StartImportRequest {
        mapping,
        mut options,
    } = body.0;
    check_mapping(&mapping, import.headers.len())?;
    check_options(&mut options)?;
    if !db::imports::start(&state.pool, caller.org_id, id, &mapping, &options).await? {
        return Err(ApiError::Conflict("This import already started.".into()));
    }
    crate::workers::import::wake();
    let import = db::imports::get(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Accepted().json(import))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Only rows with this outcome.
    outcome: Option<RowOutcome>,
}

#[utoipa::path(get, operation_id = "getImportReport", summary = "Get an import's report", path = "/contacts/imports/{import_id}/report", tag = "imports", security(("bearer" = [])),
    params(("import_id" = uuid::Uuid, Path, description = "The import's id"), ReportQuery, PageQuery),
    description = "What became of each row of the file (outcome, reason, contact), in file order, optionally only rows with one outcome, in pages; `total` counts the matching rows.",
    responses(
        (status = 200, description = "Report rows in file order", body = Page<ReportRow>),
        (status = 422, description = "A limit out of range or a cursor this list did not give", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such import", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn report(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ImportId>,
    query: web::Query<ReportQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (limit, offset) = (page.limit()?, page.offset()?);
    db::imports::get(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let items = db::imports::report(
        &state.pool,
        caller.org_id,
        id,
        query.outcome,
        offset,
        limit.into(),
    )
    .await?;
    let total = db::imports::report_count(&state.pool, caller.org_id, id, query.outcome).await?;
    Ok(HttpResponse::Ok().json(Page::at_offset(items, total, offset)))
}

#[utoipa::path(get, operation_id = "downloadImportReport", summary = "Download an import's report as CSV", path = "/contacts/imports/{import_id}/report.csv", tag = "imports", security(("bearer" = [])),
    params(("import_id" = uuid::Uuid, Path, description = "The import's id")),
    description = "The whole report as one CSV attachment with the columns row, outcome, reason and contact_id.",
    responses(
        (status = 200, description = "The whole report as CSV: row, outcome, reason, contact_id", content_type = "text/csv", body = String),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such import", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn report_csv(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ImportId>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let import = db::imports::get(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let rows = db::imports::report(&state.pool, caller.org_id, id, None, 0, i64::MAX).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>, rec: [&str; 4]| {
        w.write_record(rec)
            .map_err(|e| ApiError::Unexpected(e.into()))
    };
    write(&mut w, ["row", "outcome", "reason", "contact_id"])?;
    for r in &rows {
        let contact = r.contact_id.map(|c| c.to_string()).unwrap_or_default();
        write(
            &mut w,
            [
                &r.row_number.to_string(),
                r.outcome.as_str(),
                r.reason.as_deref().unwrap_or(""),
                &contact,
            ],
        )?;
    }
    let body = w
        .into_inner()
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("{e}")))?;
    let name: String = import
        .filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"report-{name}\""),
        ))
        .body(body))
}

#[utoipa::path(post, operation_id = "importContacts", summary = "Import contacts from JSON", path = "/contacts/import", tag = "imports", security(("bearer" = [])),
    request_body = JsonImportRequest,
    description = "Imports up to 10,000 contacts at once with the CSV import's rules and options (for n8n and other integrations), in one transaction: either every valid contact is written or, on a server failure, none is. Invalid contacts are reported and never block the valid ones.",
    responses(
        (status = 200, description = "Counts and one report row per contact sent", body = JsonImportResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Too many contacts, or invalid options", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn import_json(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<JsonImportRequest>,
) -> ApiResult<HttpResponse> {
    let JsonImportRequest {
        contacts,
        mut options,
    } = body.0;
    if contacts.len() > JSON_IMPORT_MAX {
        return Err(ApiError::field(
            "contacts",
            format!("at most {JSON_IMPORT_MAX} contacts per request"),
        ));
    }
    check_options(&mut options)?;
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let now = OffsetDateTime::now_utc();
    let parsed: Vec<ParsedRow> = contacts
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let row = import_changes(input, &options, "api import", region.as_deref(), now)
                .map_err(|problems| problems.join("; "));
            (i as i64 + 1, row)
        })
        .collect();
    // All or nothing: the request is one transaction, so a failure part-way leaves no contact
    // of it written (and a retry by the integration cannot double-apply the first part).
    let mut tx = state.pool.begin().await?;
    let (rows, progress) =
        import_batch(&mut tx, caller.org_id, parsed, options.duplicate_strategy).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(JsonImportResult { progress, rows }))
}

//! Suppressions: addresses never to message again; CSV import; the "may we contact?" check.

use crate::routes::Routes;
use crate::{
    db,
    domain::{contact::PhoneE164, csvfile},
    error::{ApiError, ApiResult},
    extract::{read_upload, Json},
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    parse_optional_text, Channel, ContactPermission, EmailAddress, ErrorBody, Page, PageQuery,
    Suppression, SuppressionId, SuppressionImportResult, SuppressionInput, SuppressionKind,
    SuppressionReason,
};
use serde::Deserialize;

pub fn scope() -> Routes {
    Routes::new("/suppressions")
        .get("", list)
        .post("", create)
        .post("/import", import)
        .get("/check", check)
        .delete("/{suppression_id}", delete)
}

/// The stored form of a suppressed value: a lower-case email or domain, or an E.164 number.
pub fn parse_value(
    kind: SuppressionKind,
    input: &str,
    region: Option<&str>,
) -> Result<String, String> {
    match kind {
        SuppressionKind::Email => EmailAddress::parse(input)
            .map(|e| e.as_str().to_lowercase())
            .map_err(str::to_owned),
        SuppressionKind::Phone => PhoneE164::parse(input, region).map(|p| p.as_str().to_owned()),
        SuppressionKind::Domain => {
            let d = input.trim().trim_start_matches('@').to_lowercase();
            EmailAddress::parse(&format!("x@{d}"))
                .map(|_| d)
                .map_err(|_| "must be a domain such as example.com".to_owned())
        }
    }
}

/// The kind of a value found in a file: an email, a domain, or else a phone number.
fn guess_kind(v: &str) -> SuppressionKind {
    if v.contains('@') && !v.trim().starts_with('@') {
        SuppressionKind::Email
    } else if v.chars().any(char::is_alphabetic) {
        SuppressionKind::Domain
    } else {
        SuppressionKind::Phone
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Part of the value.
    q: Option<String>,
}

#[utoipa::path(get, operation_id = "listSuppressions", summary = "List suppressions", path = "/suppressions", tag = "suppressions", security(("bearer" = [])),
    params(ListQuery, PageQuery),
    description = "The organization's suppressed emails, phone numbers and domains, newest first, optionally only those containing `q`, in pages; `total` counts all matches.",
    responses(
        (status = 200, description = "Newest first", body = Page<Suppression>),
        (status = 422, description = "A limit out of range or a cursor this list did not give", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (limit, cursor) = (page.limit()?, page.after::<SuppressionId>()?);
    let items =
        db::suppressions::list(&state.pool, caller.org_id, q, cursor, i64::from(limit) + 1).await?;
    let total = db::suppressions::count(&state.pool, caller.org_id, q).await?;
    Ok(HttpResponse::Ok().json(Page::keyset(items, total, limit, |s| s.id)))
}

#[utoipa::path(post, operation_id = "createSuppression", summary = "Suppress an address", path = "/suppressions", tag = "suppressions", security(("bearer" = [])),
    request_body = SuppressionInput,
    description = "Suppresses an email, phone number or email domain. Matching active contacts stop (their status follows the reason).",
    responses(
        (status = 201, description = "Added", body = Suppression),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "Already suppressed", body = ErrorBody),
        (status = 422, description = "Invalid value", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<SuppressionInput>,
) -> ApiResult<HttpResponse> {
    let input = body.0;
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let value = parse_value(input.kind, &input.value, region.as_deref())
        .map_err(|e| ApiError::field("value", e))?;
    let source = input
        .source
        .as_deref()
        .map(|s| parse_optional_text(s, 200))
        .transpose()
        .map_err(|e| ApiError::field("source", e))?
        .flatten();
    let mut tx = state.pool.begin().await?;
    if db::suppressions::insert_many(
        &mut tx,
        caller.org_id,
        &[(input.kind, value.clone())],
        input.reason,
        source.as_deref(),
    )
    .await?
        == 0
    {
        return Err(ApiError::Conflict(format!(
            "{value} is already suppressed."
        )));
    }
    db::suppressions::apply_to_contacts(&mut tx, caller.org_id, None).await?;
    tx.commit().await?;
    let created = db::suppressions::find(&state.pool, caller.org_id, input.kind, &value)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created().json(created))
}

/// The suppression-import form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SuppressionUploadForm {
    /// A CSV file whose first column (or a column named email, phone, domain or value) holds the addresses.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The reason recorded for every row (default `unsubscribed`).
    reason: Option<SuppressionReason>,
    source: Option<String>,
}

#[utoipa::path(post, operation_id = "importSuppressions", summary = "Import suppressions from a CSV file", path = "/suppressions/import", tag = "suppressions", security(("bearer" = [])),
    request_body(content = SuppressionUploadForm, content_type = "multipart/form-data"),
    description = "Suppresses every value of a CSV file (at most 50 MB) with one `reason` (default `unsubscribed`): the column named email, phone, domain, value or address, else the first. Each value is read as an email, a domain or a phone number; invalid ones are reported by line and those already suppressed are counted. Matching active contacts stop, as with a single suppression.",
    responses(
        (status = 200, description = "What was added", body = SuppressionImportResult),
        (status = 400, description = "Not a multipart form", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 413, description = "Larger than 50 MB", body = ErrorBody),
        (status = 422, description = "No file, or an unknown reason", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn import(
    state: web::Data<AppState>,
    caller: Caller,
    form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    let file = read_upload(form, crate::routes::imports::MAX_UPLOAD_BYTES).await?;
    let reason = match file
        .fields
        .get("reason")
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        None => SuppressionReason::Unsubscribed,
        Some(r) => SuppressionReason::parse(r)
            .ok_or_else(|| ApiError::field("reason", "is not a suppression reason"))?,
    };
    let source = file
        .fields
        .get("source")
        .cloned()
        .unwrap_or_else(|| format!("import: {}", file.filename));
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let (text, _) = csvfile::decode(&file.bytes);
    let (headers, rows) = csvfile::rows(&text, csvfile::sniff_delimiter(&text))
        .map_err(|m| ApiError::field("file", m))?;
    let named = headers.iter().position(|h| {
        ["email", "phone", "domain", "value", "address"].contains(&h.to_lowercase().as_str())
    });
    let column = named.unwrap_or(0);
    // Without a recognised header, the first line is a value too.
    let first = named
        .is_none()
        .then(|| (1i64, headers.get(column).cloned().unwrap_or_default()));
    let mut entries = Vec::new();
    let mut invalid = Vec::new();
    for (line, value) in first
        .into_iter()
        .chain(rows.map(|(line, r)| (line, r.get(column).unwrap_or("").to_owned())))
    {
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        let kind = guess_kind(v);
        match parse_value(kind, v, region.as_deref()) {
            Ok(v) => entries.push((kind, v)),
            Err(e) => invalid.push(aura_types::suppression::InvalidRow {
                row: line,
                reason: format!("`{v}`: {e}"),
            }),
        }
    }
    let mut tx = state.pool.begin().await?;
    let added =
        db::suppressions::insert_many(&mut tx, caller.org_id, &entries, reason, Some(&source))
            .await? as i64;
    let contacts_updated =
        db::suppressions::apply_to_contacts(&mut tx, caller.org_id, None).await? as i64;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(SuppressionImportResult {
        added,
        existing: entries.len() as i64 - added,
        invalid,
        contacts_updated,
    }))
}

#[utoipa::path(delete, operation_id = "deleteSuppression", summary = "Lift a suppression", path = "/suppressions/{suppression_id}", tag = "suppressions", security(("bearer" = [])),
    params(("suppression_id" = uuid::Uuid, Path, description = "The suppression's id")),
    description = "Lifts a suppression. Contacts it stopped keep their status until someone changes it.",
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such suppression", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SuppressionId>,
) -> ApiResult<HttpResponse> {
    if !db::suppressions::delete(&state.pool, caller.org_id, path.into_inner()).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    channel: Channel,
    /// An email address, or a phone number for SMS and WhatsApp.
    address: String,
}

#[utoipa::path(get, operation_id = "checkContactPermission", summary = "Check whether an address may be contacted", path = "/suppressions/check", tag = "suppressions", security(("bearer" = [])),
    params(CheckQuery),
    description = "May the organization message this address on this channel? The same answer every sender gets right before sending.",
    responses(
        (status = 200, description = "Allowed, or why not", body = ContactPermission),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid address", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn check(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<CheckQuery>,
) -> ApiResult<HttpResponse> {
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let kind = if query.channel == Channel::Email {
        SuppressionKind::Email
    } else {
        SuppressionKind::Phone
    };
    let address = parse_value(kind, &query.address, region.as_deref())
        .map_err(|e| ApiError::field("address", e))?;
    let block =
        db::suppressions::may_contact(&state.pool, caller.org_id, query.channel, &address).await?;
    Ok(
        HttpResponse::Ok().json(crate::domain::contactability::permission(
            block.as_ref(),
            query.channel,
        )),
    )
}

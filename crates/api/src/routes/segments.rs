//! Segments: static lists and dynamic rule sets, with live counts and previews.

use crate::routes::Routes;
use crate::{
    db::{self, contacts::Selection, segments::SegmentRow},
    domain::audience::{NewSegment, SegmentChanges},
    error::{ApiError, ApiResult},
    extract::Json,
    routes::contacts::resolve_selection,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    ErrorBody, MembersRequest, MembersResult, OrgId, PreviewRequest, Segment, SegmentId,
    SegmentInput, SegmentKind, SegmentPatch, SegmentPreview,
};
use sqlx::PgConnection;
use time::OffsetDateTime;

pub fn scope() -> Routes {
    Routes::new("/segments")
        .get("", list)
        .post("", create)
        .post("/preview", preview)
        .get("/{segment_id}", get)
        .patch("/{segment_id}", update)
        .delete("/{segment_id}", delete)
        .post("/{segment_id}/members", add_members)
        .post("/{segment_id}/members/remove", remove_members)
}

async fn counted(conn: &mut PgConnection, org: OrgId, row: SegmentRow) -> ApiResult<Segment> {
    let n = db::segments::member_count(conn, org, &row, OffsetDateTime::now_utc()).await?;
    Ok(row.with_count(n))
}

#[utoipa::path(get, operation_id = "listSegments", summary = "List segments", path = "/segments", tag = "segments", security(("bearer" = [])),
    description = "The organization's segments by name, each with its current number of contacts.",
    responses(
        (status = 200, description = "Segments by name, each with its current size", body = Vec<Segment>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.acquire().await?;
    let rows = db::segments::list(&mut *conn, caller.org_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(counted(&mut conn, caller.org_id, row).await?);
    }
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, operation_id = "createSegment", summary = "Create a segment", path = "/segments", tag = "segments", security(("bearer" = [])),
    request_body = SegmentInput,
    description = "Creates a static segment (a list whose members are added and removed by hand) or a dynamic one (its `rules`: whichever contacts match them). Names are unique within the organization.",
    responses(
        (status = 201, description = "Created", body = Segment),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid name or rules (the rule is named by its path)", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<SegmentInput>,
) -> ApiResult<HttpResponse> {
    let new = NewSegment::try_from(body.0)?;
    let mut conn = state.pool.acquire().await?;
    let id = db::segments::insert(
        &mut *conn,
        caller.org_id,
        &new.name,
        new.description.as_deref(),
        new.kind,
        new.rules.as_ref(),
    )
    .await?;
    let row = db::segments::get(&mut *conn, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created().json(counted(&mut conn, caller.org_id, row).await?))
}

#[utoipa::path(post, operation_id = "previewSegment", summary = "Preview a segment's rules", path = "/segments/preview", tag = "segments", security(("bearer" = [])),
    request_body = PreviewRequest,
    description = "Counts the contacts matching rules, with a sample, without saving anything.",
    responses(
        (status = 200, description = "Count and up to 10 contacts", body = SegmentPreview),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid rules", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn preview(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<PreviewRequest>,
) -> ApiResult<HttpResponse> {
    let rules = body.0.rules;
    if let Err((field, message)) = rules.check() {
        return Err(ApiError::field(&field, message));
    }
    let now = OffsetDateTime::now_utc();
    let sel = Selection::Rule(rules);
    let mut conn = state.pool.acquire().await?;
    let count = db::contacts::count(&mut conn, caller.org_id, &sel, now).await?;
    let sample = db::contacts::list(&mut conn, caller.org_id, &sel, now, None, 10).await?;
    Ok(HttpResponse::Ok().json(SegmentPreview { count, sample }))
}

#[utoipa::path(get, operation_id = "getSegment", summary = "Get a segment", path = "/segments/{segment_id}", tag = "segments", security(("bearer" = [])),
    params(("segment_id" = uuid::Uuid, Path, description = "The segment's id")),
    description = "The segment with its current number of contacts.",
    responses(
        (status = 200, description = "The segment", body = Segment),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such segment", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SegmentId>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.acquire().await?;
    let row = db::segments::get(&mut *conn, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(counted(&mut conn, caller.org_id, row).await?))
}

#[utoipa::path(patch, operation_id = "updateSegment", summary = "Update a segment", path = "/segments/{segment_id}", tag = "segments", security(("bearer" = [])),
    params(("segment_id" = uuid::Uuid, Path, description = "The segment's id")),
    request_body = SegmentPatch,
    description = "Changes the name, the description or, for a dynamic segment, the rules; absent fields stay. A static segment's members change through its members endpoints.",
    responses(
        (status = 200, description = "Updated", body = Segment),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such segment", body = ErrorBody),
        (status = 422, description = "Invalid fields; rules on a static segment", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SegmentId>,
    body: Json<SegmentPatch>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let changes = SegmentChanges::try_from(body.0)?;
    let mut conn = state.pool.acquire().await?;
    let row = db::segments::get(&mut *conn, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if row.kind == SegmentKind::Static && changes.rules.is_some() {
        return Err(ApiError::field(
            "rules",
            "a static segment has members, not rules",
        ));
    }
    db::segments::update(
        &mut *conn,
        caller.org_id,
        id,
        changes.name.as_deref(),
        changes.description.as_ref().map(|d| d.as_deref()),
        changes.rules.as_ref(),
    )
    .await?;
    let row = db::segments::get(&mut *conn, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(counted(&mut conn, caller.org_id, row).await?))
}

#[utoipa::path(delete, operation_id = "deleteSegment", summary = "Delete a segment", path = "/segments/{segment_id}", tag = "segments", security(("bearer" = [])),
    params(("segment_id" = uuid::Uuid, Path, description = "The segment's id")),
    description = "Deletes the segment; its contacts stay.",
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such segment", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SegmentId>,
) -> ApiResult<HttpResponse> {
    if !db::segments::delete(&state.pool, caller.org_id, path.into_inner()).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn change_members(
    state: &AppState,
    caller: &Caller,
    id: SegmentId,
    req: MembersRequest,
    add: bool,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let now = OffsetDateTime::now_utc();
    let mut tx = state.pool.begin().await?;
    let row = db::segments::get(&mut *tx, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if row.kind != SegmentKind::Static {
        return Err(ApiError::Conflict(
            "A dynamic segment's members follow from its rules; edit the rules instead.".into(),
        ));
    }
    let sel = resolve_selection(&mut tx, org, &req.selection).await?;
    let changed = if add {
        db::segments::add_members(&mut tx, org, id, &sel, now).await?
    } else {
        db::segments::remove_members(&mut tx, org, id, &sel, now).await?
    };
    let member_count = db::segments::member_count(&mut tx, org, &row, now).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(MembersResult {
        changed: changed as i64,
        member_count,
    }))
}

#[utoipa::path(post, operation_id = "addSegmentMembers", summary = "Add contacts to a static segment", path = "/segments/{segment_id}/members", tag = "segments", security(("bearer" = [])),
    params(("segment_id" = uuid::Uuid, Path, description = "A static segment's id")),
    request_body = MembersRequest,
    description = "Adds contacts chosen by ids (at most 10,000) or by a filter to a static segment; contacts already in it stay as they are. Answers how many joined and the new size.",
    responses(
        (status = 200, description = "How many joined, and the new size", body = MembersResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such segment", body = ErrorBody),
        (status = 409, description = "The segment is dynamic", body = ErrorBody),
        (status = 422, description = "Too many ids, or an invalid filter", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn add_members(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SegmentId>,
    body: Json<MembersRequest>,
) -> ApiResult<HttpResponse> {
    change_members(&state, &caller, path.into_inner(), body.0, true).await
}

#[utoipa::path(post, operation_id = "removeSegmentMembers", summary = "Remove contacts from a static segment", path = "/segments/{segment_id}/members/remove", tag = "segments", security(("bearer" = [])),
    params(("segment_id" = uuid::Uuid, Path, description = "A static segment's id")),
    request_body = MembersRequest,
    description = "Removes contacts chosen by ids (at most 10,000) or by a filter from a static segment; the contacts themselves stay. Answers how many left and the new size.",
    responses(
        (status = 200, description = "How many left, and the new size", body = MembersResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such segment", body = ErrorBody),
        (status = 409, description = "The segment is dynamic", body = ErrorBody),
        (status = 422, description = "Too many ids, or an invalid filter", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn remove_members(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SegmentId>,
    body: Json<MembersRequest>,
) -> ApiResult<HttpResponse> {
    change_members(&state, &caller, path.into_inner(), body.0, false).await
}

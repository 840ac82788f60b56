//! The caller's organization and its settings; creating further organizations.

use crate::routes::Routes;
use crate::{
    db,
    domain::org::OrgChanges,
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    parse_text, CreateOrganizationRequest, ErrorBody, FieldErrors, Organization, Role,
    UpdateOrganizationRequest, NAME_MAX_CHARS,
};

pub fn scope() -> Routes {
    Routes::new("/organizations")
        .post("", create)
        .get("/current", get)
        .patch("/current", update)
}

#[utoipa::path(get, operation_id = "getOrganization", summary = "Get the current organization", path = "/organizations/current", tag = "organization", security(("bearer" = [])),
    description = "The organization the caller acts for, with its settings.",
    responses(
        (status = 200, description = "The organization the caller acts for", body = Organization),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn get(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let org = db::orgs::get(&state.pool, caller.org_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(org))
}

#[utoipa::path(patch, operation_id = "updateOrganization", summary = "Update the current organization", path = "/organizations/current", tag = "organization", security(("bearer" = [])),
    request_body = UpdateOrganizationRequest,
    description = "Updates settings; absent fields stay, an empty string clears an optional field. Admins and owners.",
    responses(
        (status = 200, description = "Updated", body = Organization),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Members cannot change settings", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<UpdateOrganizationRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let changes = OrgChanges::try_from(body.0)?;
    let org = db::orgs::update(&state.pool, caller.org_id, &changes)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(org))
}

#[utoipa::path(post, operation_id = "createOrganization", summary = "Create an organization", path = "/organizations", tag = "organization", security(("bearer" = [])),
    request_body = CreateOrganizationRequest,
    description = "Creates another organization with the caller as its owner (agencies run several brands). Switch to it with /auth/switch-organization.",
    responses(
        (status = 201, description = "Created", body = Organization),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateOrganizationRequest>,
) -> ApiResult<HttpResponse> {
    let user = caller.user_id()?;
    let mut errs = FieldErrors::new();
    let name = errs.check("name", parse_text(&body.0.name, NAME_MAX_CHARS));
    let name = errs.finish(|| name)?;
    let mut tx = state.pool.begin().await?;
    let current = db::orgs::get(&mut *tx, caller.org_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let org = db::orgs::insert(&mut tx, &name, &current.timezone).await?;
    db::members::insert(&mut tx, org, user, Role::Owner).await?;
    let created = db::orgs::get(&mut *tx, org)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(created))
}

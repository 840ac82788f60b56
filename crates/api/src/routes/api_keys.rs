//! API keys for integrations such as n8n: create (secret shown once), list, revoke.

use crate::{
    auth::{
        tokens::{hash_secret, random_secret, API_KEY_PREFIX},
        Caller,
    },
    db,
    domain::account::NewApiKey,
    error::{ApiError, ApiResult},
    extract::Json,
    startup::AppState,
};
use actix_web::{web, HttpResponse, Scope};
use aura_types::{ApiKey, ApiKeyId, CreateApiKeyRequest, CreatedApiKey, ErrorBody};

pub fn scope() -> Scope {
    web::scope("/api-keys")
        .route("", web::get().to(list))
        .route("", web::post().to(create))
        .route("/{api_key_id}", web::delete().to(revoke))
}

/// Characters of the key kept for display: the prefix and the first 6 hex digits.
const DISPLAY_PREFIX_LEN: usize = API_KEY_PREFIX.len() + 6;

#[utoipa::path(get, operation_id = "listApiKeys", path = "/api-keys", tag = "api-keys", security(("bearer" = [])),
    responses(
        (status = 200, description = "Live keys, newest first (secrets are never returned)", body = Vec<ApiKey>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(db::api_keys::list(&state.pool, caller.org_id).await?))
}

#[utoipa::path(post, operation_id = "createApiKey", path = "/api-keys", tag = "api-keys", security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    description = "Creates a key acting for the organization with the given role (at most the creator's). The secret is in this answer only.",
    responses(
        (status = 201, description = "Created", body = CreatedApiKey),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only; not with an API key; role above the creator's", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateApiKeyRequest>,
) -> ApiResult<HttpResponse> {
    let user = caller.user_id()?;
    caller.require_admin()?;
    let new = NewApiKey::try_from(body.0)?;
    if !caller.role.can_grant(new.role) {
        return Err(ApiError::Forbidden("A key cannot have a role above yours."));
    }
    let token = random_secret(API_KEY_PREFIX);
    let prefix = token.get(..DISPLAY_PREFIX_LEN).unwrap_or(API_KEY_PREFIX);
    let api_key = db::api_keys::insert(
        &state.pool,
        caller.org_id,
        &new.name,
        prefix,
        &hash_secret(&token),
        new.role,
        user,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(CreatedApiKey { api_key, token }))
}

#[utoipa::path(delete, operation_id = "revokeApiKey", path = "/api-keys/{api_key_id}", tag = "api-keys", security(("bearer" = [])),
    params(("api_key_id" = uuid::Uuid, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked: the key stops working at once"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only", body = ErrorBody),
        (status = 404, description = "No live key with this id", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    if !db::api_keys::revoke(&state.pool, caller.org_id, path.into_inner()).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

//! API keys for integrations such as n8n: create (secret shown once), list, revoke.

use crate::routes::Routes;
use crate::{
    auth::tokens::API_KEY_PREFIX,
    crypto::{hash_secret, random_secret},
    db,
    domain::account::NewApiKey,
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{ApiKey, ApiKeyId, CreateApiKeyRequest, CreatedApiKey, ErrorBody};

pub fn scope() -> Routes {
    Routes::new("/api-keys")
        .get("", list)
        .post("", create)
        .delete("/{api_key_id}", revoke)
}

/// Characters of the key kept for display: the prefix and the first 6 hex digits.
const DISPLAY_PREFIX_LEN: usize = API_KEY_PREFIX.len() + 6;

#[utoipa::path(get, operation_id = "listApiKeys", summary = "List API keys", path = "/api-keys", tag = "api-keys", security(("bearer" = [])),
    description = "Owners see every key of the organization; admins see the keys they created. A key acts with the lesser of its role and its creator's current role, and stops working (401) when its creator leaves the organization: such a key is listed with `inactive_reason`.",
    responses(
        (status = 200, description = "Live keys, newest first (secrets are never returned)", body = Vec<ApiKey>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only, signed in as a person (not with an API key)", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let creator = keys_of(&caller)?;
    Ok(HttpResponse::Ok().json(db::api_keys::list(&state.pool, caller.org_id, creator).await?))
}

/// Whose keys the caller manages: an owner every key (`None`), an admin only their own. Only
/// people manage keys (an API key never lists or revokes keys: 403).
fn keys_of(caller: &Caller) -> ApiResult<Option<aura_types::UserId>> {
    let user = caller.user_id()?;
    caller.require_admin()?;
    Ok((caller.role != aura_types::Role::Owner).then_some(user))
}

#[utoipa::path(post, operation_id = "createApiKey", summary = "Create an API key", path = "/api-keys", tag = "api-keys", security(("bearer" = [])),
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

#[utoipa::path(delete, operation_id = "revokeApiKey", summary = "Revoke an API key", path = "/api-keys/{api_key_id}", tag = "api-keys", security(("bearer" = [])),
    params(("api_key_id" = uuid::Uuid, Path, description = "The key's id")),
    description = "Owners revoke any key of the organization; admins the keys they created.",
    responses(
        (status = 204, description = "Revoked: the key stops working at once"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only, signed in as a person (not with an API key)", body = ErrorBody),
        (status = 404, description = "No live key with this id that the caller manages", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    let creator = keys_of(&caller)?;
    if !db::api_keys::revoke(&state.pool, caller.org_id, path.into_inner(), creator).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

//! The organization's AI settings: the default provider and the fallback to the built-in writer.

use crate::{
    db::{self},
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::ai::*;
use aura_types::ErrorBody;

#[utoipa::path(get, operation_id = "getAiSettings", summary = "Get the AI settings", path = "/ai/settings", tag = "ai", security(("bearer" = [])),
    description = "The organization's default provider (none: the built-in writer) and whether a failing provider falls back to the built-in writer.",
    responses(
        (status = 200, description = "The default provider (none: the built-in writer) and the fallback choice", body = AiSettings),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn get_settings(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(db::ai::settings(&state.pool, caller.org_id).await?))
}

#[utoipa::path(patch, operation_id = "updateAiSettings", summary = "Update the AI settings", path = "/ai/settings", tag = "ai", security(("bearer" = [])),
    request_body = AiSettingsInput,
    description = "Sets the default provider (`null`: the built-in writer) and the fallback to the built-in writer; absent fields stay. Admins and owners only.",
    responses(
        (status = 200, description = "Saved", body = AiSettings),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only", body = ErrorBody),
        (status = 422, description = "Unknown provider", body = ErrorBody),
    ))]
pub async fn update_settings(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<AiSettingsInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let mut settings = db::ai::settings(&state.pool, caller.org_id).await?;
    if let Some(id) = body.0.default_provider_id {
        if let Some(id) = id {
            db::ai::get_provider(&state.pool, caller.org_id, id)
                .await?
                .ok_or_else(|| {
                    ApiError::field("default_provider_id", "no provider with this id")
                })?;
        }
        settings.default_provider_id = id;
    }
    if let Some(f) = body.0.fallback_to_builtin {
        settings.fallback_to_builtin = f;
    }
    db::ai::save_settings(&state.pool, caller.org_id, &settings).await?;
    Ok(HttpResponse::Ok().json(settings))
}

//! Provider configurations (admins): create, read, change, delete and test; keys sealed, never returned.

use crate::{
    ai::{self},
    db::{self, ai::ProviderWrite},
    domain::ai as parse,
    error::{ApiError, ApiResult},
    extract::Json,
    providers::ai::{net, ProviderError},
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::ai::*;
use aura_types::{AiProviderId, ErrorBody};
use std::time::Instant;

#[utoipa::path(get, operation_id = "listAiProviders", summary = "List AI providers", path = "/ai/providers", tag = "ai", security(("bearer" = [])),
    description = "The organization's provider configurations. Keys and signing secrets are never returned: `secret` only says whether one is stored (with the last four characters of a long key).",
    responses(
        (status = 200, description = "Configured providers; keys are never returned", body = Vec<AiProviderConfig>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_providers(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = db::ai::list_providers(&state.pool, caller.org_id).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|r| r.to_config()).collect::<Vec<_>>()))
}

async fn provider_write<'a>(
    state: &AppState,
    fields: &'a parse::ProviderFields,
) -> ApiResult<ProviderWrite<'a>> {
    net::check_url(&fields.base_url, &state.settings.ai_network)
        .await
        .map_err(|m| ApiError::field("base_url", m))?;
    // A vendor's key is long and random: its last characters may be shown. A custom
    // endpoint's signing secret is chosen by a person: nothing of it is.
    let secret = fields.secret.as_ref().map(|s| {
        s.as_ref().map(|plain| {
            let hint = match fields.kind {
                ProviderKind::Custom => None,
                _ => crate::crypto::hint(plain),
            };
            (state.sealer.seal(plain), hint)
        })
    });
    Ok(ProviderWrite {
        name: &fields.name,
        kind: fields.kind,
        base_url: &fields.base_url,
        model: &fields.model,
        temperature: fields.temperature,
        api_version: fields.api_version.as_deref(),
        secret,
    })
}

#[utoipa::path(post, operation_id = "createAiProvider", summary = "Add an AI provider", path = "/ai/providers", tag = "ai", security(("bearer" = [])),
    request_body = AiProviderInput,
    description = "Adds a provider. The key (or a custom endpoint's signing secret) is encrypted at rest and never returned. \
Addresses on private, loopback or link-local networks (in any spelling, or behind a name that resolves to one) are refused unless the server's administrator allows them (AURA_OUTBOUND_ALLOW).",
    responses(
        (status = 201, description = "Created", body = AiProviderConfig),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only", body = ErrorBody),
        (status = 422, description = "Invalid or refused fields", body = ErrorBody),
    ))]
pub async fn create_provider(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<AiProviderInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let fields = parse::provider_fields(None, &body.0)?;
    let write = provider_write(&state, &fields).await?;
    let id = db::ai::insert_provider(&state.pool, caller.org_id, &write).await?;
    let row = db::ai::get_provider(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created().json(row.to_config()))
}

#[utoipa::path(get, operation_id = "getAiProvider", summary = "Get an AI provider", path = "/ai/providers/{provider_id}", tag = "ai", security(("bearer" = [])),
    params(("provider_id" = uuid::Uuid, Path, description = "The provider's id")),
    description = "One provider configuration. Its key is never returned: `secret` only says whether one is stored.",
    responses(
        (status = 200, description = "The provider", body = AiProviderConfig),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ))]
pub async fn get_provider(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AiProviderId>,
) -> ApiResult<HttpResponse> {
    let row = db::ai::get_provider(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(row.to_config()))
}

#[utoipa::path(patch, operation_id = "updateAiProvider", summary = "Update an AI provider", path = "/ai/providers/{provider_id}", tag = "ai", security(("bearer" = [])),
    params(("provider_id" = uuid::Uuid, Path, description = "The provider's id")),
    request_body = AiProviderInput,
    description = "Changes the fields the body names; absent fields stay. `secret`: absent keeps the stored key, `\"\"` or `null` removes it; the address is checked as when adding a provider. Admins and owners only.",
    responses(
        (status = 200, description = "Saved", body = AiProviderConfig),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
        (status = 422, description = "Invalid or refused fields", body = ErrorBody),
    ))]
pub async fn update_provider(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AiProviderId>,
    body: Json<AiProviderInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    let current = db::ai::get_provider(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let fields = parse::provider_fields(Some(&current.to_config()), &body.0)?;
    let write = provider_write(&state, &fields).await?;
    db::ai::update_provider(&state.pool, caller.org_id, id, &write).await?;
    let row = db::ai::get_provider(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(row.to_config()))
}

#[utoipa::path(delete, operation_id = "deleteAiProvider", summary = "Delete an AI provider", path = "/ai/providers/{provider_id}", tag = "ai", security(("bearer" = [])),
    params(("provider_id" = uuid::Uuid, Path, description = "The provider's id")),
    description = "Deletes the configuration; personas using it and the default fall back to the organization's default or the built-in writer.",
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ))]
pub async fn delete_provider(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AiProviderId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    if !db::ai::delete_provider(&state.pool, caller.org_id, path.into_inner()).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "testAiProvider", summary = "Test an AI provider's connection", path = "/ai/providers/{provider_id}/test", tag = "ai", security(("bearer" = [])),
    params(("provider_id" = uuid::Uuid, Path, description = "The provider's id")),
    description = "Makes one tiny real call and reports what happened (`ok: false` with the reason when it failed). The call is recorded in the usage.",
    responses(
        (status = 200, description = "The outcome of the call", body = ConnectionTest),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins test providers", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ))]
pub async fn test_provider(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AiProviderId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let row = db::ai::get_provider(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let started = Instant::now();
    let mut task = ai::task(
        AiOperation::TestConnection,
        "This is a connection test. Answer with {\"body\": \"OK\"}.",
    );
    task.persona.name = "Connection test".into();
    let outcome = match state.ai.provider(&row, None, None) {
        Ok(provider) => provider.run(&task).await,
        Err(e) => Err(e),
    };
    let latency_ms = started.elapsed().as_millis() as i32;
    let (ok, message, answer) = match outcome {
        Ok(a) => {
            let message = match &a.unusable {
                None => format!(
                    "Connected. The model answered: {}",
                    a.result.body.clone().unwrap_or_default()
                ),
                Some(why) => {
                    format!("Connected, but the answer was not in the expected format ({why}).")
                }
            };
            (true, message, Some(a))
        }
        Err(ProviderError::Malformed(m)) => (
            true,
            format!("Connected, but the answer was not in the expected format ({m})."),
            None,
        ),
        Err(e) => (false, e.to_string(), None),
    };
    let model = answer
        .as_ref()
        .map_or(row.model.clone(), |a| a.model.clone());
    db::ai::record_call(
        &state.pool,
        caller.org_id,
        &db::ai::CallRecord {
            operation: AiOperation::TestConnection,
            provider_kind: row.kind,
            provider_name: &row.name,
            model: &model,
            persona_id: None,
            persona_name: None,
            tokens_in: answer.as_ref().map_or(0, |a| a.tokens_in),
            tokens_out: answer.as_ref().map_or(0, |a| a.tokens_out),
            latency_ms,
            attempts: answer.as_ref().map_or(1, |a| a.attempts),
            outcome: if ok { AiOutcome::Ok } else { AiOutcome::Error },
            error: (!ok).then_some(message.as_str()),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(ConnectionTest {
        ok,
        model,
        latency_ms,
        message,
    }))
}

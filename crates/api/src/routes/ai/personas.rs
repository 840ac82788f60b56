//! Personas: who writes (voice, instructions, provider and model), listed, edited and duplicated.

use crate::{
    db::{self},
    domain::ai as parse,
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::ai::*;
use aura_types::{ErrorBody, OrgId, PersonaId};
use time::OffsetDateTime;

async fn check_persona_provider(state: &AppState, org: OrgId, p: &Persona) -> ApiResult<()> {
    if let Some(id) = p.provider_id {
        db::ai::get_provider(&state.pool, org, id)
            .await?
            .ok_or_else(|| ApiError::field("provider_id", "no provider with this id"))?;
    }
    Ok(())
}

#[utoipa::path(get, operation_id = "listPersonas", summary = "List AI personas", path = "/ai/personas", tag = "ai", security(("bearer" = [])),
    description = "The organization's personas, oldest first. An AI operation that names no persona writes as the first of them.",
    responses(
        (status = 200, description = "Personas, oldest first", body = Vec<Persona>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_personas(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(db::ai::list_personas(&state.pool, caller.org_id).await?))
}

#[utoipa::path(post, operation_id = "createPersona", summary = "Create an AI persona", path = "/ai/personas", tag = "ai", security(("bearer" = [])),
    request_body = PersonaInput,
    description = "Adds a persona: a voice and a system prompt, a style for the built-in writer, and optionally its own provider, model and temperature, which override the organization's default. Names are unique within the organization, and a provider must be one of its own.",
    responses(
        (status = 201, description = "Created", body = Persona),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn create_persona(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<PersonaInput>,
) -> ApiResult<HttpResponse> {
    let persona = parse::persona(None, &body.0, OffsetDateTime::now_utc())?;
    check_persona_provider(&state, caller.org_id, &persona).await?;
    db::ai::save_persona(&state.pool, caller.org_id, &persona).await?;
    let saved = db::ai::get_persona(&state.pool, caller.org_id, persona.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created().json(saved))
}

#[utoipa::path(get, operation_id = "getPersona", summary = "Get an AI persona", path = "/ai/personas/{persona_id}", tag = "ai", security(("bearer" = [])),
    params(("persona_id" = uuid::Uuid, Path, description = "The persona's id")),
    description = "One persona of the organization.",
    responses(
        (status = 200, description = "The persona", body = Persona),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona", body = ErrorBody),
    ))]
pub async fn get_persona(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PersonaId>,
) -> ApiResult<HttpResponse> {
    let p = db::ai::get_persona(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(p))
}

#[utoipa::path(patch, operation_id = "updatePersona", summary = "Update an AI persona", path = "/ai/personas/{persona_id}", tag = "ai", security(("bearer" = [])),
    params(("persona_id" = uuid::Uuid, Path, description = "The persona's id")),
    request_body = PersonaInput,
    description = "Changes the fields the body names; absent fields stay, and `null` clears an override (provider, model, temperature). A provider must be one of the organization's.",
    responses(
        (status = 200, description = "Saved", body = Persona),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn update_persona(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PersonaId>,
    body: Json<PersonaInput>,
) -> ApiResult<HttpResponse> {
    let current = db::ai::get_persona(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let persona = parse::persona(Some(&current), &body.0, OffsetDateTime::now_utc())?;
    check_persona_provider(&state, caller.org_id, &persona).await?;
    db::ai::save_persona(&state.pool, caller.org_id, &persona).await?;
    let saved = db::ai::get_persona(&state.pool, caller.org_id, persona.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(saved))
}

#[utoipa::path(delete, operation_id = "deletePersona", summary = "Delete an AI persona", path = "/ai/personas/{persona_id}", tag = "ai", security(("bearer" = [])),
    params(("persona_id" = uuid::Uuid, Path, description = "The persona's id")),
    description = "Deletes the persona. Campaign steps that wrote as it no longer name a persona.",
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona", body = ErrorBody),
    ))]
pub async fn delete_persona(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PersonaId>,
) -> ApiResult<HttpResponse> {
    if !db::ai::delete_persona(&state.pool, caller.org_id, path.into_inner()).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "duplicatePersona", summary = "Duplicate an AI persona", path = "/ai/personas/{persona_id}/duplicate", tag = "ai", security(("bearer" = [])),
    params(("persona_id" = uuid::Uuid, Path, description = "The persona's id")),
    description = "Copies a persona under a new name (\"… (copy)\", \"… (copy 2)\"…).",
    responses(
        (status = 201, description = "The copy", body = Persona),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such persona", body = ErrorBody),
    ))]
pub async fn duplicate_persona(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PersonaId>,
) -> ApiResult<HttpResponse> {
    let original = db::ai::get_persona(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let names: Vec<String> = db::ai::list_personas(&state.pool, caller.org_id)
        .await?
        .into_iter()
        .map(|p| p.name.to_lowercase())
        .collect();
    let name = (1..)
        .map(|n| {
            if n == 1 {
                format!("{} (copy)", original.name)
            } else {
                format!("{} (copy {n})", original.name)
            }
        })
        .find(|candidate| !names.contains(&candidate.to_lowercase()))
        .unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let copy = Persona {
        id: PersonaId::new(),
        name,
        created_at: now,
        updated_at: now,
        ..original
    };
    db::ai::save_persona(&state.pool, caller.org_id, &copy).await?;
    let saved = db::ai::get_persona(&state.pool, caller.org_id, copy.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created().json(saved))
}

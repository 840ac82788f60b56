//! The AI layer over HTTP: settings and provider configurations (admins), personas, the knowledge
//! base, the operations and the monthly usage.

use crate::routes::Routes;
use crate::{
    ai::{self, Job, Output},
    db::{self, ai::ProviderWrite},
    domain::ai as parse,
    domain::replies as rules,
    error::{unique_violation, ApiError, ApiResult},
    extract::Json,
    providers::ai::{net, ProviderError},
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::ai::*;
use aura_types::template::{MergeValues, Sender};
use aura_types::{AiProviderId, ArticleId, Channel, ErrorBody, FieldErrors, OrgId, PersonaId};
use serde::Deserialize;
use std::time::Instant;
use time::{Date, Month, OffsetDateTime, Time};

pub fn scope() -> Routes {
    Routes::new("/ai")
        .get("/settings", get_settings)
        .patch("/settings", update_settings)
        .get("/providers", list_providers)
        .post("/providers", create_provider)
        .get("/providers/{provider_id}", get_provider)
        .patch("/providers/{provider_id}", update_provider)
        .delete("/providers/{provider_id}", delete_provider)
        .post("/providers/{provider_id}/test", test_provider)
        .get("/personas", list_personas)
        .post("/personas", create_persona)
        .get("/personas/{persona_id}", get_persona)
        .patch("/personas/{persona_id}", update_persona)
        .delete("/personas/{persona_id}", delete_persona)
        .post("/personas/{persona_id}/duplicate", duplicate_persona)
        .get("/knowledge", list_articles)
        .post("/knowledge", create_article)
        .get("/knowledge/{article_id}", get_article)
        .patch("/knowledge/{article_id}", update_article)
        .delete("/knowledge/{article_id}", delete_article)
        .post("/generate/step-template", generate_step_template)
        .post("/generate/message", generate_message)
        .post("/improve", improve)
        .post("/suggest-replies", suggest_replies)
        .post("/classify", classify)
        .get("/usage", usage)
}

// ---- settings ----

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

// ---- providers ----

fn provider_name_taken(e: sqlx::Error) -> ApiError {
    match unique_violation(&e) {
        Some("ai_providers_name_key") => ApiError::field("name", "another provider has this name"),
        _ => e.into(),
    }
}

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
    let id = db::ai::insert_provider(&state.pool, caller.org_id, &write)
        .await
        .map_err(provider_name_taken)?;
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
    db::ai::update_provider(&state.pool, caller.org_id, id, &write)
        .await
        .map_err(provider_name_taken)?;
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

// ---- personas ----

fn persona_name_taken(e: sqlx::Error) -> ApiError {
    match unique_violation(&e) {
        Some("ai_personas_name_key") => ApiError::field("name", "another persona has this name"),
        _ => e.into(),
    }
}

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
    db::ai::save_persona(&state.pool, caller.org_id, &persona)
        .await
        .map_err(persona_name_taken)?;
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
    db::ai::save_persona(&state.pool, caller.org_id, &persona)
        .await
        .map_err(persona_name_taken)?;
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
    db::ai::save_persona(&state.pool, caller.org_id, &copy)
        .await
        .map_err(persona_name_taken)?;
    let saved = db::ai::get_persona(&state.pool, caller.org_id, copy.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created().json(saved))
}

// ---- knowledge ----

#[derive(Deserialize, utoipa::IntoParams)]
pub struct KnowledgeQuery {
    /// Full-text search (web search syntax: words, "phrases", -exclusions), best matches first.
    q: Option<String>,
}

#[utoipa::path(get, operation_id = "listKnowledge", summary = "List knowledge-base articles", path = "/ai/knowledge", tag = "ai", security(("bearer" = [])),
    params(KnowledgeQuery),
    description = "The organization's knowledge-base articles by title; with `q`, only the matching ones, best matches first. When AI writes a campaign step or suggests replies, the most relevant articles are given to it as context.",
    responses(
        (status = 200, description = "Articles by title, or by relevance when searching", body = Vec<KnowledgeArticle>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_articles(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<KnowledgeQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    Ok(HttpResponse::Ok().json(db::ai::list_articles(&state.pool, caller.org_id, q).await?))
}

#[utoipa::path(post, operation_id = "createKnowledge", summary = "Add a knowledge-base article", path = "/ai/knowledge", tag = "ai", security(("bearer" = [])),
    request_body = ArticleInput,
    description = "Adds an article of facts the AI may use as context (offers, FAQs, listings, policies): its title, topic, content and source.",
    responses(
        (status = 201, description = "Created", body = KnowledgeArticle),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn create_article(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ArticleInput>,
) -> ApiResult<HttpResponse> {
    let article = parse::article(None, &body.0, OffsetDateTime::now_utc())?;
    db::ai::save_article(&state.pool, caller.org_id, &article).await?;
    let saved = db::ai::get_article(&state.pool, caller.org_id, article.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created().json(saved))
}

#[utoipa::path(get, operation_id = "getKnowledge", summary = "Get a knowledge-base article", path = "/ai/knowledge/{article_id}", tag = "ai", security(("bearer" = [])),
    params(("article_id" = uuid::Uuid, Path, description = "The article's id")),
    description = "One article of the organization's knowledge base.",
    responses(
        (status = 200, description = "The article", body = KnowledgeArticle),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
    ))]
pub async fn get_article(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ArticleId>,
) -> ApiResult<HttpResponse> {
    let a = db::ai::get_article(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(a))
}

#[utoipa::path(patch, operation_id = "updateKnowledge", summary = "Update a knowledge-base article", path = "/ai/knowledge/{article_id}", tag = "ai", security(("bearer" = [])),
    params(("article_id" = uuid::Uuid, Path, description = "The article's id")),
    request_body = ArticleInput,
    description = "Changes the fields the body names; absent fields stay as they are.",
    responses(
        (status = 200, description = "Saved", body = KnowledgeArticle),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn update_article(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ArticleId>,
    body: Json<ArticleInput>,
) -> ApiResult<HttpResponse> {
    let current = db::ai::get_article(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let article = parse::article(Some(&current), &body.0, OffsetDateTime::now_utc())?;
    db::ai::save_article(&state.pool, caller.org_id, &article).await?;
    let saved = db::ai::get_article(&state.pool, caller.org_id, article.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(saved))
}

#[utoipa::path(delete, operation_id = "deleteKnowledge", summary = "Delete a knowledge-base article", path = "/ai/knowledge/{article_id}", tag = "ai", security(("bearer" = [])),
    params(("article_id" = uuid::Uuid, Path, description = "The article's id")),
    description = "Deletes the article; AI operations no longer get it as context.",
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
    ))]
pub async fn delete_article(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ArticleId>,
) -> ApiResult<HttpResponse> {
    if !db::ai::delete_article(&state.pool, caller.org_id, path.into_inner()).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

// ---- operations ----

/// Who messages are from: the calling user (or, for an API key, the organization).
async fn sender(state: &AppState, caller: &Caller) -> ApiResult<Sender> {
    ai::sender(&state.pool, caller.org_id, caller.person()).await
}

async fn lead_values(
    state: &AppState,
    caller: &Caller,
    id: Option<aura_types::ContactId>,
) -> ApiResult<Option<MergeValues>> {
    let Some(id) = id else { return Ok(None) };
    let mut conn = state.pool.acquire().await?;
    let contact = db::contacts::get(&mut conn, caller.org_id, id)
        .await?
        .ok_or_else(|| ApiError::field("contact_id", "no contact with this id"))?;
    Ok(Some(MergeValues::for_contact(
        &contact,
        &sender(state, caller).await?,
    )))
}

fn check_text(e: &mut FieldErrors, field: &str, text: &str, max: usize) {
    if text.trim().is_empty() {
        e.add(field, "is required");
    } else if text.chars().count() > max {
        e.add(field, format!("must be at most {max} characters"));
    }
}

fn brief_problems(body: &GenerateRequest) -> Result<(), ApiError> {
    let mut e = FieldErrors::new();
    for (field, text) in [
        ("campaign.name", &body.campaign.name),
        ("campaign.offer", &body.campaign.offer),
        ("campaign.icp", &body.campaign.icp),
        ("campaign.goal", &body.campaign.goal),
        ("step.instructions", &body.step.instructions),
    ] {
        if text.chars().count() > 4000 {
            e.add(field, "must be at most 4000 characters");
        }
    }
    if body.step.number == 0 || body.step.number > 50 {
        e.add("step.number", "must be between 1 and 50");
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(e.into())
    }
}

/// `validate::check` answers each operation with its own kind of output; anything else is a bug
/// reported as the provider's.
fn wrong_kind() -> ApiError {
    ApiError::Upstream("the provider answered with the wrong kind of result".into())
}

fn draft(output: Output) -> ApiResult<MessageDraft> {
    match output {
        Output::Draft(d) => Ok(d),
        _ => Err(wrong_kind()),
    }
}

async fn generate(
    state: &AppState,
    caller: &Caller,
    body: GenerateRequest,
    op: AiOperation,
) -> ApiResult<HttpResponse> {
    brief_problems(&body)?;
    let for_lead = op == AiOperation::GenerateMessageForLead;
    if for_lead && body.contact_id.is_none() {
        return Err(ApiError::field(
            "contact_id",
            "is required: the lead to write for",
        ));
    }
    let lead = lead_values(state, caller, body.contact_id).await?;
    let job = ai::generation_job(
        caller.org_id,
        op,
        body.persona_id,
        body.campaign,
        body.step,
        lead,
    );
    let (output, provenance) = ai::run(&state.pool, &state.ai, job).await?;
    Ok(HttpResponse::Ok().json(DraftResult {
        draft: draft(output)?,
        provenance,
    }))
}

#[utoipa::path(post, operation_id = "generateStepTemplate", summary = "Write a campaign step template with AI", path = "/ai/generate/step-template", tag = "ai", security(("bearer" = [])),
    request_body = GenerateRequest,
    description = "Writes a campaign step as a template with merge tags (and fallbacks), as \"Generate with AI\" in the campaign builder does. `contact_id`, when given, is an example lead for context.",
    responses(
        (status = 200, description = "The template and who wrote it", body = DraftResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown persona or contact", body = ErrorBody),
        (status = 502, description = "The provider failed (after retries and one corrective retry) and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn generate_step_template(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<GenerateRequest>,
) -> ApiResult<HttpResponse> {
    generate(&state, &caller, body.0, AiOperation::GenerateStepTemplate).await
}

#[utoipa::path(post, operation_id = "generateMessageForLead", summary = "Write a personalised message for one lead", path = "/ai/generate/message", tag = "ai", security(("bearer" = [])),
    request_body = GenerateRequest,
    description = "Writes a campaign step for one lead (`contact_id` required), fully personalised: any merge tag in the answer is filled in and must resolve.",
    responses(
        (status = 200, description = "The message and who wrote it", body = DraftResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown persona or contact", body = ErrorBody),
        (status = 502, description = "The provider failed and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn generate_message(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<GenerateRequest>,
) -> ApiResult<HttpResponse> {
    generate(&state, &caller, body.0, AiOperation::GenerateMessageForLead).await
}

#[utoipa::path(post, operation_id = "improveMessage", summary = "Improve a message with AI", path = "/ai/improve", tag = "ai", security(("bearer" = [])),
    request_body = ImproveRequest,
    description = "Rewrites a message toward a `goal` (shorter, more casual, more compliant, higher reply rate), keeping its meaning, merge tags and facts. It is written as the given persona (the first persona when absent) by its provider or the organization's default, and recorded in the usage. When the provider fails, the built-in writer answers if the organization allows the fallback; otherwise 502.",
    responses(
        (status = 200, description = "The improved message", body = DraftResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields or unknown persona", body = ErrorBody),
        (status = 502, description = "The provider failed and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn improve(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ImproveRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut e = FieldErrors::new();
    check_text(&mut e, "text", &body.text, 20_000);
    if body
        .subject
        .as_ref()
        .is_some_and(|s| s.chars().count() > 500)
    {
        e.add("subject", "must be at most 500 characters");
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let mut task = ai::task(
        AiOperation::ImproveMessage,
        format!(
            "Rewrite this {} message: {}. Keep its meaning, merge tags and facts.",
            body.channel.label(),
            body.goal.label().to_lowercase()
        ),
    );
    task.step = Some(StepBrief {
        channel: body.channel,
        number: 1,
        instructions: String::new(),
    });
    task.text = Some(body.text);
    task.subject = body.subject;
    task.goal = Some(body.goal);
    let (output, provenance) = ai::run(
        &state.pool,
        &state.ai,
        Job {
            org: caller.org_id,
            persona_id: body.persona_id,
            task,
            channel: body.channel,
            lead: None,
            knowledge_query: None,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(DraftResult {
        draft: draft(output)?,
        provenance,
    }))
}

#[utoipa::path(post, operation_id = "suggestReplies", summary = "Suggest replies to a conversation", path = "/ai/suggest-replies", tag = "ai", security(("bearer" = [])),
    request_body = SuggestRepliesRequest,
    description = "Suggests up to 3 replies to send next in a conversation (oldest message first, 1 to 50 messages), best first, written as the given persona (the first persona when absent). The lead's last message picks the knowledge-base articles given as context; `contact_id`, when given, adds the lead's details.",
    responses(
        (status = 200, description = "Up to 3 replies, best first", body = RepliesResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Empty conversation, unknown persona or contact", body = ErrorBody),
        (status = 502, description = "The provider failed and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn suggest_replies(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<SuggestRepliesRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut e = FieldErrors::new();
    if body.conversation.is_empty() {
        e.add("conversation", "must contain at least one message");
    } else if body.conversation.len() > 50 {
        e.add("conversation", "must contain at most 50 messages");
    }
    for (i, m) in body.conversation.iter().enumerate() {
        check_text(&mut e, &format!("conversation[{i}].text"), &m.text, 10_000);
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let lead = lead_values(&state, &caller, body.contact_id).await?;
    let query = body
        .conversation
        .iter()
        .rev()
        .find(|m| m.direction == Direction::Inbound)
        .map(|m| m.text.clone());
    let mut task = ai::task(
        AiOperation::SuggestReplies,
        format!(
            "Suggest up to 3 replies we could send next on {}, best first.",
            body.channel.label()
        ),
    );
    task.step = Some(StepBrief {
        channel: body.channel,
        number: 1,
        instructions: String::new(),
    });
    task.conversation = body.conversation;
    task.lead = lead.as_ref().map(|l| l.0.clone()).unwrap_or_default();
    let (output, provenance) = ai::run(
        &state.pool,
        &state.ai,
        Job {
            org: caller.org_id,
            persona_id: body.persona_id,
            task,
            channel: body.channel,
            lead,
            knowledge_query: query,
        },
    )
    .await?;
    match output {
        Output::Replies(replies) => Ok(HttpResponse::Ok().json(RepliesResult {
            replies,
            provenance,
        })),
        _ => Err(wrong_kind()),
    }
}

#[utoipa::path(post, operation_id = "classifyReply", summary = "Classify a reply", path = "/ai/classify", tag = "ai", security(("bearer" = [])),
    request_body = ClassifyRequest,
    description = "Labels a reply. Rules decide first, without a model, where they are certain: bounce reports, \
auto-replies (Auto-Submitted and similar headers, out-of-office wording) and unsubscribe requests; `provenance` is then null.",
    responses(
        (status = 200, description = "The label, confidence and reason", body = ClassifyResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Empty text", body = ErrorBody),
        (status = 502, description = "The provider failed and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn classify(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ClassifyRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut e = FieldErrors::new();
    check_text(&mut e, "text", &body.text, 50_000);
    if !e.is_empty() {
        return Err(e.into());
    }
    if let Some(c) = rules::classify(
        &body.text,
        body.subject.as_deref(),
        body.from.as_deref(),
        &body.headers,
    ) {
        return Ok(HttpResponse::Ok().json(ClassifyResult {
            classification: c,
            provenance: None,
        }));
    }
    let mut task = ai::task(
        AiOperation::ClassifyReply,
        "Classify this reply to our outreach.",
    );
    task.text = Some(rules::own_words(&body.text).to_string());
    task.subject = body.subject;
    task.original_outreach = body.original_outreach;
    let (output, provenance) = ai::run(
        &state.pool,
        &state.ai,
        Job {
            org: caller.org_id,
            persona_id: None,
            task,
            channel: Channel::Email,
            lead: None,
            knowledge_query: None,
        },
    )
    .await?;
    match output {
        Output::Classification(c) => Ok(HttpResponse::Ok().json(ClassifyResult {
            classification: c,
            provenance: Some(provenance),
        })),
        _ => Err(wrong_kind()),
    }
}

// ---- usage ----

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UsageQuery {
    /// `YYYY-MM` (UTC); the current month when absent.
    month: Option<String>,
}

fn month_range(month: Option<&str>) -> Result<(String, OffsetDateTime, OffsetDateTime), ApiError> {
    let bad = || ApiError::field("month", "must be a month like 2026-11");
    let (year, m) = match month {
        None => {
            let now = OffsetDateTime::now_utc();
            (now.year(), now.month())
        }
        Some(s) => {
            let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
            let y: i32 = y.parse().map_err(|_| bad())?;
            let m: u8 = m.parse().map_err(|_| bad())?;
            (y, Month::try_from(m).map_err(|_| bad())?)
        }
    };
    let start = Date::from_calendar_date(year, m, 1).map_err(|_| bad())?;
    let (ny, nm) = if m == Month::December {
        (year + 1, Month::January)
    } else {
        (year, m.next())
    };
    let end = Date::from_calendar_date(ny, nm, 1).map_err(|_| bad())?;
    Ok((
        format!("{year:04}-{:02}", m as u8),
        start.with_time(Time::MIDNIGHT).assume_utc(),
        end.with_time(Time::MIDNIGHT).assume_utc(),
    ))
}

#[utoipa::path(get, operation_id = "aiUsage", summary = "Get a month's AI usage", path = "/ai/usage", tag = "ai", security(("bearer" = [])),
    params(UsageQuery),
    description = "Calls, failures, fallbacks, tokens and average latency of one calendar month (UTC), in total and by provider, model and operation. Connection tests count too.",
    responses(
        (status = 200, description = "Calls, failures, tokens and latency of one month, by provider, model and operation", body = UsageSummary),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid month", body = ErrorBody),
    ))]
pub async fn usage(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<UsageQuery>,
) -> ApiResult<HttpResponse> {
    let (month, from, to) = month_range(query.month.as_deref())?;
    let rows = db::ai::usage(&state.pool, caller.org_id, from, to).await?;
    Ok(HttpResponse::Ok().json(UsageSummary {
        month,
        calls: rows.iter().map(|r| r.calls).sum(),
        failed: rows.iter().map(|r| r.failed).sum(),
        tokens_in: rows.iter().map(|r| r.tokens_in).sum(),
        tokens_out: rows.iter().map(|r| r.tokens_out).sum(),
        rows,
    }))
}

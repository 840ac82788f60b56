//! The knowledge base: articles the writer may quote, searched by full text.

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
use aura_types::{ArticleId, ErrorBody};
use serde::Deserialize;
use time::OffsetDateTime;

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

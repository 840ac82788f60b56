//! The AI layer: providers, settings, usage, personas, the knowledge base and the operations.

use super::{Api, ApiResult, Query};
use aura_types::ai::*;
use aura_types::{AiProviderId, ArticleId, PersonaId};

pub async fn providers(api: Api) -> ApiResult<Vec<AiProviderConfig>> {
    api.get("/ai/providers").await
}

pub async fn create_provider(api: Api, input: &AiProviderInput) -> ApiResult<AiProviderConfig> {
    api.post("/ai/providers", input).await
}

pub async fn update_provider(
    api: Api,
    id: AiProviderId,
    input: &AiProviderInput,
) -> ApiResult<AiProviderConfig> {
    api.patch(&format!("/ai/providers/{id}"), input).await
}

pub async fn delete_provider(api: Api, id: AiProviderId) -> ApiResult<()> {
    api.delete(&format!("/ai/providers/{id}")).await
}

pub async fn test_provider(api: Api, id: AiProviderId) -> ApiResult<ConnectionTest> {
    api.post(&format!("/ai/providers/{id}/test"), &serde_json::json!({}))
        .await
}

pub async fn settings(api: Api) -> ApiResult<AiSettings> {
    api.get("/ai/settings").await
}

pub async fn update_settings(api: Api, input: &AiSettingsInput) -> ApiResult<AiSettings> {
    api.patch("/ai/settings", input).await
}

pub async fn usage(api: Api) -> ApiResult<UsageSummary> {
    api.get("/ai/usage").await
}

pub async fn personas(api: Api) -> ApiResult<Vec<Persona>> {
    api.get("/ai/personas").await
}

pub async fn create_persona(api: Api, input: &PersonaInput) -> ApiResult<Persona> {
    api.post("/ai/personas", input).await
}

pub async fn update_persona(api: Api, id: PersonaId, input: &PersonaInput) -> ApiResult<Persona> {
    api.patch(&format!("/ai/personas/{id}"), input).await
}

pub async fn duplicate_persona(api: Api, id: PersonaId) -> ApiResult<Persona> {
    api.post(
        &format!("/ai/personas/{id}/duplicate"),
        &serde_json::json!({}),
    )
    .await
}

pub async fn delete_persona(api: Api, id: PersonaId) -> ApiResult<()> {
    api.delete(&format!("/ai/personas/{id}")).await
}

/// The knowledge base, or the articles matching `q`.
pub async fn articles(api: Api, q: Option<&str>) -> ApiResult<Vec<KnowledgeArticle>> {
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    api.get(&Query::new().opt("q", q).path("/ai/knowledge"))
        .await
}

pub async fn create_article(api: Api, input: &ArticleInput) -> ApiResult<KnowledgeArticle> {
    api.post("/ai/knowledge", input).await
}

pub async fn update_article(
    api: Api,
    id: ArticleId,
    input: &ArticleInput,
) -> ApiResult<KnowledgeArticle> {
    api.patch(&format!("/ai/knowledge/{id}"), input).await
}

pub async fn delete_article(api: Api, id: ArticleId) -> ApiResult<()> {
    api.delete(&format!("/ai/knowledge/{id}")).await
}

pub async fn generate_step_template(api: Api, req: &GenerateRequest) -> ApiResult<DraftResult> {
    api.post("/ai/generate/step-template", req).await
}

pub async fn generate_message(api: Api, req: &GenerateRequest) -> ApiResult<DraftResult> {
    api.post("/ai/generate/message", req).await
}

pub async fn improve(api: Api, req: &ImproveRequest) -> ApiResult<DraftResult> {
    api.post("/ai/improve", req).await
}

pub async fn suggest_replies(api: Api, req: &SuggestRepliesRequest) -> ApiResult<RepliesResult> {
    api.post("/ai/suggest-replies", req).await
}

pub async fn classify(api: Api, req: &ClassifyRequest) -> ApiResult<ClassifyResult> {
    api.post("/ai/classify", req).await
}

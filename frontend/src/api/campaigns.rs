//! Campaigns, their steps and leads, and templates.

use super::{Api, ApiResult, Query};
use aura_types::*;

pub async fn list(api: Api) -> ApiResult<Vec<Campaign>> {
    api.get("/campaigns").await
}

pub async fn get(api: Api, id: CampaignId) -> ApiResult<CampaignDetail> {
    api.get(&format!("/campaigns/{id}")).await
}

pub async fn create(api: Api, input: &CampaignInput) -> ApiResult<CampaignDetail> {
    api.post("/campaigns", input).await
}

pub async fn update(api: Api, id: CampaignId, input: &CampaignInput) -> ApiResult<CampaignDetail> {
    api.patch(&format!("/campaigns/{id}"), input).await
}

pub async fn duplicate(api: Api, id: CampaignId) -> ApiResult<CampaignDetail> {
    api.post(
        &format!("/campaigns/{id}/duplicate"),
        &serde_json::json!({}),
    )
    .await
}

pub async fn set_status(
    api: Api,
    id: CampaignId,
    change: &StatusChange,
) -> ApiResult<CampaignDetail> {
    api.post(&format!("/campaigns/{id}/status"), change).await
}

pub async fn problems(api: Api, id: CampaignId) -> ApiResult<Vec<TagProblem>> {
    api.get(&format!("/campaigns/{id}/problems")).await
}

pub async fn save_as_template(api: Api, id: CampaignId) -> ApiResult<CampaignTemplate> {
    api.post(
        &format!("/campaigns/{id}/save-as-template"),
        &SaveAsTemplate::default(),
    )
    .await
}

pub async fn add_step(api: Api, id: CampaignId, input: &StepInput) -> ApiResult<CampaignDetail> {
    api.post(&format!("/campaigns/{id}/steps"), input).await
}

pub async fn update_step(
    api: Api,
    id: CampaignId,
    step: StepId,
    input: &StepInput,
) -> ApiResult<CampaignDetail> {
    api.patch(&format!("/campaigns/{id}/steps/{step}"), input)
        .await
}

/// Deletes a step; answers the campaign as it is now.
pub async fn delete_step(api: Api, id: CampaignId, step: StepId) -> ApiResult<CampaignDetail> {
    api.delete(&format!("/campaigns/{id}/steps/{step}")).await?;
    get(api, id).await
}

pub async fn duplicate_step(api: Api, id: CampaignId, step: StepId) -> ApiResult<CampaignDetail> {
    api.post(
        &format!("/campaigns/{id}/steps/{step}/duplicate"),
        &serde_json::json!({}),
    )
    .await
}

pub async fn reorder_steps(
    api: Api,
    id: CampaignId,
    order: &ReorderSteps,
) -> ApiResult<CampaignDetail> {
    api.post(&format!("/campaigns/{id}/steps/reorder"), order)
        .await
}

pub async fn targets(api: Api, id: CampaignId, page: &PageQuery) -> ApiResult<Page<Target>> {
    let query = Query::new().with(page);
    api.get(&query.path(&format!("/campaigns/{id}/targets")))
        .await
}

/// One lead's place in a campaign, if they are in it.
pub async fn target(api: Api, id: CampaignId, contact: ContactId) -> ApiResult<Option<Target>> {
    let query = Query::new().set("contact_id", contact).set("limit", 1);
    let page: Page<Target> = api
        .get(&query.path(&format!("/campaigns/{id}/targets")))
        .await?;
    Ok(page.items.into_iter().next())
}

pub async fn enroll(api: Api, id: CampaignId, req: &EnrollRequest) -> ApiResult<EnrollResult> {
    api.post(&format!("/campaigns/{id}/targets"), req).await
}

pub async fn remove_target(api: Api, id: CampaignId, contact: ContactId) -> ApiResult<()> {
    api.delete(&format!("/campaigns/{id}/targets/{contact}"))
        .await
}

pub async fn change_target(
    api: Api,
    id: CampaignId,
    contact: ContactId,
    change: &TargetChange,
) -> ApiResult<Target> {
    api.patch(&format!("/campaigns/{id}/targets/{contact}"), change)
        .await
}

pub async fn templates(api: Api) -> ApiResult<Vec<CampaignTemplate>> {
    api.get("/templates").await
}

pub async fn use_template(api: Api, id: TemplateId) -> ApiResult<CampaignDetail> {
    api.post(&format!("/templates/{id}/use"), &UseTemplate::default())
        .await
}

pub async fn delete_template(api: Api, id: TemplateId) -> ApiResult<()> {
    api.delete(&format!("/templates/{id}")).await
}

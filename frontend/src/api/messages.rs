//! A campaign's messages: preparation and review, delivery and its pre-flight check.

use super::{Api, ApiResult, Query};
use aura_types::*;

/// A page of a campaign's messages matching `filter`.
pub async fn list(
    api: Api,
    campaign: CampaignId,
    filter: &MessageFilter,
    page: &PageQuery,
) -> ApiResult<Page<Message>> {
    let query = Query::new().with(filter).with(page);
    api.get(&query.path(&format!("/campaigns/{campaign}/messages")))
        .await
}

pub async fn review_summary(api: Api, campaign: CampaignId) -> ApiResult<ReviewSummary> {
    api.get(&format!("/campaigns/{campaign}/review")).await
}

pub async fn prepare(api: Api, campaign: CampaignId) -> ApiResult<Preparation> {
    api.post(
        &format!("/campaigns/{campaign}/prepare"),
        &serde_json::json!({}),
    )
    .await
}

pub async fn review(
    api: Api,
    campaign: CampaignId,
    req: &ReviewRequest,
) -> ApiResult<ReviewResult> {
    api.post(&format!("/campaigns/{campaign}/messages/review"), req)
        .await
}

pub async fn edit(
    api: Api,
    campaign: CampaignId,
    message: MessageId,
    edit: &MessageEdit,
) -> ApiResult<Message> {
    api.patch(&format!("/campaigns/{campaign}/messages/{message}"), edit)
        .await
}

pub async fn preflight(api: Api, campaign: CampaignId) -> ApiResult<Preflight> {
    api.get(&format!("/campaigns/{campaign}/preflight")).await
}

pub async fn delivery(api: Api, campaign: CampaignId) -> ApiResult<Delivery> {
    api.get(&format!("/campaigns/{campaign}/delivery")).await
}

pub async fn resolve(
    api: Api,
    campaign: CampaignId,
    message: MessageId,
    action: &DeliveryAction,
) -> ApiResult<()> {
    api.post_no_content(
        &format!("/campaigns/{campaign}/messages/{message}/delivery"),
        action,
    )
    .await
}

pub async fn campaign_mailboxes(api: Api, campaign: CampaignId) -> ApiResult<CampaignMailboxes> {
    api.get(&format!("/campaigns/{campaign}/mailboxes")).await
}

pub async fn set_campaign_mailboxes(
    api: Api,
    campaign: CampaignId,
    chosen: &CampaignMailboxes,
) -> ApiResult<CampaignMailboxes> {
    api.put(&format!("/campaigns/{campaign}/mailboxes"), chosen)
        .await
}

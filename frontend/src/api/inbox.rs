//! The inbox: conversations, their threads, and the sandbox's simulated answers.

use super::{Api, ApiResult, Query};
use aura_types::*;

/// Which conversations a list shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub unread: bool,
    pub needs_reply: bool,
    pub assignee: Option<UserId>,
    pub campaign: Option<CampaignId>,
    pub mailbox: Option<MailboxId>,
    pub contact: Option<ContactId>,
    pub status: Option<ConversationStatus>,
    pub classification: Option<ai::ReplyLabel>,
    /// Words in the contact's name or address, or the last message.
    pub search: String,
}

/// A page of conversations, the most recent first.
pub async fn list(api: Api, f: &Filter, page: &PageQuery) -> ApiResult<Page<Conversation>> {
    let search = f.search.trim();
    let query = Query::new()
        .opt("unread", f.unread.then_some(true))
        .opt("needs_reply", f.needs_reply.then_some(true))
        .opt("assignee_id", f.assignee)
        .opt("campaign_id", f.campaign)
        .opt("mailbox_id", f.mailbox)
        .opt("contact_id", f.contact)
        .opt("status", f.status.map(|s| s.as_str()))
        .opt("classification", f.classification.map(|c| c.as_str()))
        .opt("q", (!search.is_empty()).then_some(search))
        .with(page);
    api.get(&query.path("/conversations")).await
}

pub async fn get(api: Api, id: ConversationId) -> ApiResult<ConversationDetail> {
    api.get(&format!("/conversations/{id}")).await
}

pub async fn change(
    api: Api,
    id: ConversationId,
    change: &ConversationChange,
) -> ApiResult<Conversation> {
    api.patch(&format!("/conversations/{id}"), change).await
}

/// A contact's conversations (one per channel), each with its thread.
pub async fn of_contact(api: Api, contact: ContactId) -> ApiResult<Vec<ConversationDetail>> {
    let filter = Filter {
        contact: Some(contact),
        ..Filter::default()
    };
    let page = list(api, &filter, &PageQuery::first(10)).await?;
    let mut out = Vec::with_capacity(page.items.len());
    for c in page.items {
        out.push(get(api, c.id).await?);
    }
    Ok(out)
}

/// Queues an answer, sent through the conversation's mailbox.
pub async fn reply(api: Api, id: ConversationId, req: &ReplyRequest) -> ApiResult<ThreadItem> {
    api.post(&format!("/conversations/{id}/reply"), req).await
}

/// Up to three answers to send next, written by the campaign's persona.
pub async fn suggest(api: Api, id: ConversationId) -> ApiResult<ai::RepliesResult> {
    api.post(
        &format!("/conversations/{id}/suggest"),
        &serde_json::json!({}),
    )
    .await
}

/// The lead of a caught sandbox message answers it.
pub async fn simulate(
    api: Api,
    outbox: OutboxId,
    kind: SimulatedKind,
) -> ApiResult<SimulateResult> {
    api.post(
        &format!("/outbox/{outbox}/simulate"),
        &SimulateRequest { kind },
    )
    .await
}

/// A token that opens the inbox's event stream for a minute.
pub async fn stream_token(api: Api) -> ApiResult<StreamToken> {
    api.post("/inbox/stream-token", &serde_json::json!({}))
        .await
}

/// A media file a lead sent by text, fetched through Aura (which asks Twilio for it).
pub async fn media(
    api: Api,
    conversation: ConversationId,
    message: uuid::Uuid,
    index: usize,
) -> ApiResult<super::Fetched> {
    api.file(&format!(
        "/conversations/{conversation}/media/{message}/{index}"
    ))
    .await
}

//! The inbox: conversations, their threads, and the sandbox's simulated answers.

use super::{Api, ApiResult, Query};
use aura_types::*;

/// Which conversations a list shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub unread: bool,
    pub classification: Option<ai::ReplyLabel>,
    /// Words in the contact's name or address, or the last message.
    pub search: String,
}

/// A page of conversations, the most recent first.
pub async fn list(api: Api, f: &Filter, page: &PageQuery) -> ApiResult<Page<Conversation>> {
    let search = f.search.trim();
    let query = Query::new()
        .opt("unread", f.unread.then_some(true))
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

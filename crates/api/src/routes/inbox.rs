//! The inbox over HTTP: conversations and their threads, marking them read or done, and the
//! sandbox's simulated answers.

use crate::routes::Routes;
use crate::{
    db,
    error::{ApiError, ApiResult},
    extract::Json,
    inbox::{self, simulate, Ingested},
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    Conversation, ConversationChange, ConversationDetail, ConversationId, ErrorBody, OutboxId,
    Page, PageQuery, SimulateRequest, SimulateResult,
};
use serde::Deserialize;

pub fn scope() -> Routes {
    Routes::new("/conversations")
        .get("", list)
        .get("/{conversation_id}", get)
        .patch("/{conversation_id}", change)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only conversations with a message nobody has read.
    #[serde(default)]
    unread: bool,
}

#[utoipa::path(get, operation_id = "listConversations", summary = "List conversations", path = "/conversations", tag = "inbox", security(("bearer" = [])),
    params(ListQuery, PageQuery),
    description = "The organization's conversations (a contact on one channel, across campaigns), the most recent message first, in pages; `total` counts every match.",
    responses(
        (status = 200, description = "A page of conversations", body = Page<Conversation>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A limit out of range or a cursor this list did not give", body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (limit, offset) = (page.limit()?, page.offset()?);
    let mut conn = state.pool.acquire().await?;
    let (items, total) = db::inbox::list(
        &mut conn,
        caller.org_id,
        None,
        query.unread,
        limit.into(),
        offset,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::at_offset(items, total, offset)))
}

#[utoipa::path(get, operation_id = "getConversation", summary = "Get a conversation", path = "/conversations/{conversation_id}", tag = "inbox", security(("bearer" = [])),
    params(("conversation_id" = uuid::Uuid, Path, description = "The conversation's id")),
    description = "A conversation and its whole thread, oldest first: what campaigns sent the contact on the channel, and what arrived (replies, auto-replies, delivery reports).",
    responses(
        (status = 200, description = "The conversation and its thread", body = ConversationDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
    ))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.acquire().await?;
    let conversation = db::inbox::get(&mut conn, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let items = db::inbox::thread(&mut *conn, caller.org_id, &conversation).await?;
    Ok(HttpResponse::Ok().json(ConversationDetail {
        conversation,
        items,
    }))
}

#[utoipa::path(patch, operation_id = "updateConversation", summary = "Mark a conversation read, unread, done or open", path = "/conversations/{conversation_id}", tag = "inbox", security(("bearer" = [])),
    params(("conversation_id" = uuid::Uuid, Path, description = "The conversation's id")),
    request_body = ConversationChange,
    description = "Changes what is given: `unread`, `status` (`open`, `done`). A new message makes the conversation unread and open again.",
    responses(
        (status = 200, description = "The conversation as it is now", body = Conversation),
        (status = 400, description = "A body that is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "A field with a wrong type or value", body = ErrorBody),
    ))]
pub async fn change(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ConversationId>,
    body: Json<ConversationChange>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let body = body.0;
    if !db::inbox::change(&state.pool, caller.org_id, id, body.unread, body.status).await? {
        return Err(ApiError::NotFound);
    }
    let mut conn = state.pool.acquire().await?;
    let conversation = db::inbox::get(&mut conn, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(conversation))
}

#[utoipa::path(post, operation_id = "simulateAnswer", summary = "Simulate a lead's answer to a sandbox message", path = "/outbox/{outbox_id}/simulate", tag = "inbox", security(("bearer" = [])),
    params(("outbox_id" = uuid::Uuid, Path, description = "The caught message's id")),
    request_body = SimulateRequest,
    description = "For demos and trying Aura without a real mail account: the lead of a message a sandbox mailbox caught answers it, as real mail (a reply, an out-of-office with a return date, a bounce report, an unsubscribe request). The mail goes through what mail fetched from a mailbox goes through: it is read, matched, lands in the lead's conversation, and stops, postpones or suppresses as real mail would.",
    responses(
        (status = 200, description = "What the answer was read as, and its conversation", body = SimulateResult),
        (status = 400, description = "A body that is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such message", body = ErrorBody),
        (status = 409, description = "This answer was simulated already", body = ErrorBody),
        (status = 422, description = "An unknown kind", body = ErrorBody),
    ))]
pub async fn simulate_answer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<OutboxId>,
    body: Json<SimulateRequest>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let mut tx = state.pool.begin().await?;
    let (item, raw) = db::outbox::outbox_raw(&mut *tx, org, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let key = item.id.to_string();
    let original = simulate::Original {
        key: &key,
        recipient: &item.recipient,
        subject: &item.subject,
        raw: &raw,
    };
    let now = state.clock.now();
    let mail = simulate::answer(body.0.kind, &original, now);
    let own = match item.mailbox_id {
        Some(m) => db::mailboxes::get(&mut *tx, org, m)
            .await?
            .map(|m| vec![m.from_email.to_ascii_lowercase()])
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let own: Vec<&str> = own.iter().map(String::as_str).collect();
    let done = inbox::ingest(&mut tx, org, item.mailbox_id, &own, &mail, now).await?;
    let Ingested::Stored { kind, conversation } = done else {
        return Err(ApiError::Conflict(
            "This answer was simulated already.".into(),
        ));
    };
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(SimulateResult {
        outbox_id: item.id,
        conversation_id: conversation,
        kind,
    }))
}

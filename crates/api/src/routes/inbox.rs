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
use actix_web::{web, HttpRequest, HttpResponse};
use aura_types::{
    ai::ReplyLabel, CampaignId, Conversation, ConversationChange, ConversationDetail,
    ConversationId, ConversationStatus, ErrorBody, InboxEvent, MailboxId, OutboxId, Page,
    PageQuery, SimulateRequest, SimulateResult, StreamToken,
};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// The live stream of the inbox: a token for it, and the stream itself.
pub fn stream_scope() -> Routes {
    Routes::new("/inbox")
        .post("/stream-token", stream_token)
        .get("/stream", stream)
}

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
    /// Only conversations whose last answer was classified so (e.g. `interested`).
    classification: Option<ReplyLabel>,
    /// Only open, done or snoozed conversations.
    status: Option<ConversationStatus>,
    /// Only conversations about this campaign.
    campaign_id: Option<CampaignId>,
    /// Only conversations of this mailbox.
    mailbox_id: Option<MailboxId>,
    /// Words in the contact's name or address, or in the last message (at most 200 characters).
    q: Option<String>,
}

#[utoipa::path(get, operation_id = "listConversations", summary = "List conversations", path = "/conversations", tag = "inbox", security(("bearer" = [])),
    params(ListQuery, PageQuery),
    description = "The organization's conversations (a contact on one channel, across campaigns), the most recent message first, in pages; `total` counts every match. Filters narrow the list together: unread, classification, status, campaign, mailbox, and words (`q`) in the contact's name or address or the last message.",
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
    let query = query.into_inner();
    let search = query
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if search.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::field("q", "at most 200 characters"));
    }
    let filter = db::inbox::Filter {
        one: None,
        unread_only: query.unread,
        classification: query.classification,
        status: query.status,
        campaign: query.campaign_id,
        mailbox: query.mailbox_id,
        search,
    };
    let mut conn = state.pool.acquire().await?;
    let (items, total) =
        db::inbox::list(&mut conn, caller.org_id, &filter, limit.into(), offset).await?;
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
    db::inbox::event(&state.pool, caller.org_id, "conversation", Some(id)).await?;
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

#[utoipa::path(post, operation_id = "createInboxStreamToken", summary = "Get a token for the inbox stream", path = "/inbox/stream-token", tag = "inbox", security(("bearer" = [])),
    description = "A token that opens the organization's inbox stream for the next minute (`GET /inbox/stream?token=…`). A browser's EventSource cannot send an Authorization header, so the stream takes this single-purpose token in its address instead of an access token.",
    responses(
        (status = 200, description = "The token", body = StreamToken),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn stream_token(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let token = state.jwt.issue_stream(caller.org_id)?;
    Ok(HttpResponse::Ok().json(StreamToken {
        token,
        expires_in: crate::auth::tokens::STREAM_TOKEN_SECS,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// A token from `POST /inbox/stream-token`.
    token: String,
    /// Replay the events after this one (a reconnecting EventSource sends it as the
    /// `Last-Event-ID` header instead, which wins).
    last_event_id: Option<i64>,
}

/// How long one stream stays open; the client reconnects (with the last event's id) after.
const STREAM_LIFE: Duration = Duration::from_secs(10 * 60);
/// How often the stream looks for new events.
const STREAM_POLL: Duration = Duration::from_millis(250);
/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What a stream has said so far.
struct Cursor {
    pool: sqlx::PgPool,
    org: aura_types::OrgId,
    after: i64,
    opened: Instant,
    last_write: Instant,
    greeted: bool,
}

impl Cursor {
    /// The next chunk of the stream: new events, a keep-alive, or the end.
    async fn next(mut self) -> Option<(Result<web::Bytes, actix_web::Error>, Self)> {
        if !self.greeted {
            self.greeted = true;
            // Reconnect two seconds after the stream ends.
            return Some((Ok(web::Bytes::from_static(b"retry: 2000\n\n")), self));
        }
        loop {
            if self.opened.elapsed() > STREAM_LIFE {
                return None;
            }
            match db::inbox::events_after(&self.pool, self.org, self.after, 100).await {
                Ok(events) if !events.is_empty() => {
                    let mut out = String::new();
                    for e in events {
                        self.after = e.id;
                        let data = serde_json::to_string(&InboxEvent {
                            id: e.id,
                            kind: e.kind.clone(),
                            conversation_id: e.conversation_id,
                        })
                        .unwrap_or_default();
                        out.push_str(&format!(
                            "id: {}\nevent: {}\ndata: {data}\n\n",
                            e.id, e.kind
                        ));
                    }
                    self.last_write = Instant::now();
                    return Some((Ok(web::Bytes::from(out)), self));
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the inbox stream cannot read events; closing it");
                    return None;
                }
            }
            if self.last_write.elapsed() > KEEP_ALIVE {
                self.last_write = Instant::now();
                return Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), self));
            }
            tokio::time::sleep(STREAM_POLL).await;
        }
    }
}

#[utoipa::path(get, operation_id = "streamInbox", summary = "Stream the inbox's events", path = "/inbox/stream", tag = "inbox",
    params(StreamQuery),
    description = "Server-sent events (`text/event-stream`) as the organization's inbox changes: `message` when mail arrives in a conversation, `conversation` when one is changed (read, done, reopened). Each event's `id` is its place in the organization's event log and its `data` an `InboxEvent`; a client that reconnects with `Last-Event-ID` (EventSource does so by itself) gets what it missed, up to a week back. Without one, the stream starts from now. Authenticated by a token from `POST /inbox/stream-token` in the address; a stream lasts ten minutes, then the client reconnects with a new token.",
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = String),
        (status = 401, description = "No valid stream token", body = ErrorBody),
    ))]
pub async fn stream(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<StreamQuery>,
) -> ApiResult<HttpResponse> {
    let org = state
        .jwt
        .verify_stream(&query.token)
        .ok_or(ApiError::Unauthorized(
        "Open the stream with a token from POST /inbox/stream-token (it is valid for a minute).",
    ))?;
    let replay_from = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(query.last_event_id);
    let after = match replay_from {
        Some(id) => id.max(0),
        None => db::inbox::last_event(&state.pool, org).await?,
    };
    let cursor = Cursor {
        pool: state.pool.clone(),
        org,
        after,
        opened: Instant::now(),
        last_write: Instant::now(),
        greeted: false,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        // Compressed, events would wait in the compressor's buffer.
        .insert_header((actix_web::http::header::CONTENT_ENCODING, "identity"))
        .streaming(futures_util::stream::unfold(cursor, Cursor::next)))
}

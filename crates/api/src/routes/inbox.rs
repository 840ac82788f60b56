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
    ai::{ConversationMessage, Direction, RepliesResult, ReplyLabel, SuggestRepliesRequest},
    CampaignId, Channel, ContactId, Conversation, ConversationChange, ConversationDetail,
    ConversationId, ConversationStatus, ErrorBody, FieldErrors, InboundKind, InboxEvent, MailboxId,
    OutboxId, Page, PageQuery, ReplyId, ReplyRequest, SimulateRequest, SimulateResult, StreamToken,
    ThreadItem, UserId,
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
        .post("/{conversation_id}/reply", reply)
        .post("/{conversation_id}/suggest", suggest)
        .get("/{conversation_id}/media/{message_id}/{index}", media)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only conversations with a message nobody has read.
    #[serde(default)]
    unread: bool,
    /// Only conversations whose lead's answer waits for ours.
    #[serde(default)]
    needs_reply: bool,
    /// Only conversations assigned to this member.
    assignee_id: Option<UserId>,
    /// Only this contact's conversations (one per channel).
    contact_id: Option<ContactId>,
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
    description = "The organization's conversations (a contact on one channel, across campaigns), the most recent message first, in keyset pages (`next_cursor`); `total` counts every match. Filters narrow the list together: unread, needs a reply, classification, status, campaign, mailbox, assignee, contact, and words (`q`) in the contact's name or address or the last message.",
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
    let limit = page.limit()?;
    let after = page.after::<db::inbox::ListKey>()?;
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
        needs_reply: query.needs_reply,
        classification: query.classification,
        status: query.status,
        campaign: query.campaign_id,
        mailbox: query.mailbox_id,
        assignee: query.assignee_id,
        contact: query.contact_id,
        search,
    };
    let mut conn = state.pool.acquire().await?;
    let items = db::inbox::list(
        &mut conn,
        caller.org_id,
        &filter,
        after,
        i64::from(limit) + 1,
    )
    .await?;
    let total = db::inbox::count(&mut conn, caller.org_id, &filter).await?;
    Ok(
        HttpResponse::Ok().json(Page::keyset(items, total, limit, |c| db::inbox::ListKey {
            at: c.last_message_at,
            id: c.id,
        })),
    )
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
    let window_closes_at = if conversation.channel == Channel::Whatsapp {
        crate::domain::phone::window_closes(
            items
                .iter()
                .filter(|i| i.direction == Direction::Inbound)
                .map(|i| i.at)
                .max(),
        )
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(ConversationDetail {
        conversation,
        items,
        window_closes_at,
    }))
}

#[utoipa::path(patch, operation_id = "updateConversation", summary = "Change a conversation: read, done, snoozed, assigned, classified", path = "/conversations/{conversation_id}", tag = "inbox", security(("bearer" = [])),
    params(("conversation_id" = uuid::Uuid, Path, description = "The conversation's id")),
    request_body = ConversationChange,
    description = "Changes what is given: `unread`; `status` (`open`, `done`, or `snoozed` with `snoozed_until`, a moment in the next year; giving only `snoozed_until` snoozes too); `assignee_id` (a member, or null); `classification` (a person's correction, kept with the label it replaced). A new message from the lead makes the conversation unread and open again, and a snoozed one opens by itself when its time comes.",
    responses(
        (status = 200, description = "The conversation as it is now", body = Conversation),
        (status = 400, description = "A body that is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "A field with a wrong type or value (the field is named)", body = ErrorBody),
    ))]
pub async fn change(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ConversationId>,
    body: Json<ConversationChange>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let body = body.0;
    let now = state.clock.now();
    let mut errors = FieldErrors::new();
    let status = match (body.status, body.snoozed_until) {
        (None, Some(_)) => Some(ConversationStatus::Snoozed),
        (status, _) => status,
    };
    if status == Some(ConversationStatus::Snoozed) {
        match body.snoozed_until {
            None => errors.add("snoozed_until", "is required to snooze"),
            Some(t) if t <= now => errors.add("snoozed_until", "must be in the future"),
            Some(t) if t > now + time::Duration::days(366) => {
                errors.add("snoozed_until", "must be within a year")
            }
            Some(_) => {}
        }
    } else if body.snoozed_until.is_some() {
        errors.add("snoozed_until", "goes with the status snoozed");
    }
    let mut tx = state.pool.begin().await?;
    if let Some(Some(user)) = body.assignee_id {
        if !db::inbox::is_member(&mut *tx, caller.org_id, user).await? {
            errors.add("assignee_id", "is not a member of this organization");
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let change = db::inbox::Change {
        unread: body.unread,
        status,
        snoozed_until: body.snoozed_until,
        assignee: body.assignee_id,
        classification: body.classification,
        by: caller.person(),
    };
    if !db::inbox::change(&mut tx, caller.org_id, id, &change, now).await? {
        return Err(ApiError::NotFound);
    }
    db::inbox::event(&mut *tx, caller.org_id, "conversation", Some(id)).await?;
    tx.commit().await?;
    let mut conn = state.pool.acquire().await?;
    let conversation = db::inbox::get(&mut conn, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(conversation))
}

/// The longest answer written in the inbox, in characters.
const REPLY_MAX_CHARS: usize = 20_000;

#[utoipa::path(post, operation_id = "replyToConversation", summary = "Answer a conversation", path = "/conversations/{conversation_id}/reply", tag = "inbox", security(("bearer" = [])),
    params(("conversation_id" = uuid::Uuid, Path, description = "The conversation's id")),
    request_body = ReplyRequest,
    description = "Queues an answer to the lead on the conversation's channel. Email: sent through the conversation's mailbox, with the mailbox's signature, threaded under the thread's last message (In-Reply-To, References, \"Re:\" and its subject unless one is given). SMS and WhatsApp: sent from the number the lead wrote to (else the one that last texted them), at that number's pace, at most 1,600 characters; on WhatsApp once the lead's 24-hour window has closed only an approved `template` of that number's account may go (409 without one). Each answer is checked once more right before it goes out (suppressions, STOP, do-not-contact), is never sent twice, and its outcome (sent, failed with the words of the server or of Twilio, or unknown when the handover's answer did not come) appears in the thread and the stream. The conversation no longer needs a reply.",
    responses(
        (status = 202, description = "Queued: the answer as the thread shows it", body = ThreadItem),
        (status = 400, description = "A body that is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 409, description = "Nothing to answer through (no mailbox or number, or the contact has no address or number on the channel), or the WhatsApp window has closed and no template is given", body = ErrorBody),
        (status = 422, description = "Empty or too long text, a subject on several lines, or a template that is not approved on the sending number's account (the field is named)", body = ErrorBody),
        (status = 502, description = "Twilio's templates could not be read to check the one given", body = ErrorBody),
    ))]
pub async fn reply(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ConversationId>,
    body: Json<ReplyRequest>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let org = caller.org_id;
    let body = body.0;
    let text = body.text.trim_end();
    let mut errors = FieldErrors::new();
    // A template says what it says: no words of one's own are needed.
    if text.trim().is_empty() && body.template.is_none() {
        errors.add("text", "is required");
    } else if text.chars().count() > REPLY_MAX_CHARS {
        errors.add(
            "text",
            format!("must be at most {REPLY_MAX_CHARS} characters"),
        );
    }
    let subject = body.subject.as_deref().map(str::trim);
    match subject {
        Some("") => errors.add(
            "subject",
            "must not be empty (leave it out for \"Re:\" and the thread's subject)",
        ),
        Some(s) if s.contains(['\r', '\n']) => errors.add("subject", "must be one line"),
        Some(s) if s.chars().count() > 300 => {
            errors.add("subject", "must be at most 300 characters")
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let conversation = db::inbox::get(&mut tx, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if conversation.channel != Channel::Email {
        let reply_id = reply_by_text(
            &state,
            &mut tx,
            &caller,
            &conversation,
            text,
            body.template.as_ref(),
            now,
        )
        .await?;
        tx.commit().await?;
        crate::workers::text::wake();
        return answered(&state, org, id, reply_id.0).await;
    }
    if body.template.is_some() {
        let mut e = FieldErrors::new();
        e.add("template", "only a WhatsApp answer sends a template");
        return Err(e.into());
    }
    let thread = db::replies::thread(&mut tx, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mailbox = match thread.mailbox_id {
        Some(m) => db::mailboxes::get(&mut *tx, org, m).await?,
        None => None,
    };
    let Some(mailbox) = mailbox else {
        return Err(ApiError::Conflict(
            "This conversation has no mailbox to answer from (it was deleted, or no message of ours went through one).".into(),
        ));
    };
    let Some(to) = thread.to.clone() else {
        return Err(ApiError::Conflict(
            "The contact has no email address to answer.".into(),
        ));
    };
    let subject = match subject {
        Some(s) => s.to_owned(),
        None => {
            crate::domain::inbound::subject::reply_subject(thread.subject.as_deref().unwrap_or(""))
        }
    };
    let reply_id = ReplyId::new();
    let message_id = crate::delivery::email::new_message_id(&mailbox.from_email);
    db::replies::insert(
        &mut tx,
        org,
        &db::replies::NewReply {
            id: reply_id,
            conversation: id,
            mailbox: mailbox.id,
            author: caller.person(),
            to: &to,
            subject: &subject,
            text,
            message_id: &message_id,
            in_reply_to: thread.parent.as_deref(),
            refs: &thread.refs,
        },
        &inbox::snippet(text),
        now,
    )
    .await?;
    db::inbox::event(&mut *tx, org, "message", Some(id)).await?;
    tx.commit().await?;
    crate::workers::send::wake();
    answered(&state, org, id, reply_id.0).await
}

/// The template `chosen` as the sending number's account has it (its Content SID, text and
/// category, with the values given): refused when that account has no such approved template.
async fn approved_template(
    state: &AppState,
    org: aura_types::OrgId,
    number: aura_types::PhoneNumberId,
    chosen: &aura_types::WhatsAppContent,
) -> ApiResult<aura_types::WhatsAppContent> {
    let refuse = |why: &str| {
        let mut e = FieldErrors::new();
        e.add("template", why.to_owned());
        ApiError::from(e)
    };
    let sender = db::text::sending_number(&state.pool, org, number)
        .await?
        .ok_or(ApiError::NotFound)?;
    let account = db::phone::account(&state.pool, org, sender.account_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let listed = match account.kind {
        aura_types::PhoneAccountKind::Sandbox => {
            crate::domain::phone::sandbox_templates(account.id)
        }
        aura_types::PhoneAccountKind::Twilio => {
            let creds = account
                .credentials(&state.sealer)
                .map_err(|e| ApiError::Conflict(format!("The account's credentials: {e}")))?;
            state
                .twilio
                .templates(&creds)
                .await
                .map_err(|e| {
                    ApiError::Upstream(format!("Twilio's templates could not be read: {e}"))
                })?
                .iter()
                .map(|c| c.template(account.id))
                .collect()
        }
    };
    let found = listed
        .into_iter()
        .find(|t| t.sid == chosen.sid)
        .ok_or_else(|| refuse("is not a template of the account this answer goes from"))?;
    if !found.approved() {
        return Err(refuse(&format!(
            "is not approved by WhatsApp ({})",
            found.status
        )));
    }
    Ok(found.chosen(chosen.variables.clone()))
}

/// The answer just queued, as the thread shows it.
async fn answered(
    state: &AppState,
    org: aura_types::OrgId,
    id: ConversationId,
    reply: uuid::Uuid,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.acquire().await?;
    let conversation = db::inbox::get(&mut conn, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let item = db::inbox::thread(&mut *conn, org, &conversation)
        .await?
        .into_iter()
        .find(|i| i.id == reply)
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Accepted().json(item))
}

/// Queues an answer by SMS or WhatsApp: from the number the lead wrote to (else the one that
/// last texted them, else the organization's first that sends on it), to the lead's number; on WhatsApp
/// after the lead's 24-hour window has closed, only as an approved template.
async fn reply_by_text(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    caller: &Caller,
    conversation: &Conversation,
    text: &str,
    template: Option<&aura_types::WhatsAppContent>,
    now: time::OffsetDateTime,
) -> ApiResult<ReplyId> {
    let org = caller.org_id;
    let channel = conversation.channel;
    let mut errors = FieldErrors::new();
    let limit = aura_types::template::SMS_MAX_CHARS;
    if text.chars().count() > limit {
        errors.add(
            "text",
            format!("must be at most {limit} characters for a text message"),
        );
    }
    if let Some(t) = template {
        if channel != Channel::Whatsapp {
            errors.add("template", "only a WhatsApp answer sends a template");
        }
        crate::domain::phone::check_content(&mut errors, "template", t);
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let found = db::text::reply_route(&mut *tx, org, conversation.contact_id, channel).await?;
    let Some(to) = found.to else {
        return Err(ApiError::Conflict(format!(
            "The contact has no {} number to answer.",
            channel.label()
        )));
    };
    let Some(number) = found.wrote_to.or(found.number) else {
        return Err(ApiError::Conflict(format!(
            "No number sends {} (Settings → Channels).",
            channel.label()
        )));
    };
    let open = crate::domain::phone::whatsapp_window_open(found.last_inbound, now);
    if channel == Channel::Whatsapp && !open && template.is_none() {
        return Err(ApiError::Conflict(
            "The lead's 24-hour WhatsApp window has closed: only an approved template can reach them until they write again. Pick one.".into(),
        ));
    }
    // A template goes as chosen (it may go at any time), checked against the sending
    // number's account: approved there, and its text as the account has it.
    let template = match template {
        Some(t) => Some(approved_template(state, org, number, t).await?),
        None => None,
    };
    let body = match &template {
        Some(t) => aura_types::fill_content(&t.body, &t.variables),
        None => text.to_owned(),
    };
    if body.trim().is_empty() {
        let mut e = FieldErrors::new();
        e.add("text", "is required");
        return Err(e.into());
    }
    let reply_id = ReplyId::new();
    db::replies::insert_text(
        &mut *tx,
        org,
        &db::replies::NewTextReply {
            id: reply_id,
            conversation: conversation.id,
            channel,
            number,
            author: caller.person(),
            to: &to,
            text: &body,
            content: template.as_ref().map(|t| {
                (
                    t.sid.as_str(),
                    serde_json::to_value(&t.variables).unwrap_or_default(),
                )
            }),
        },
        &inbox::snippet(&body),
        now,
    )
    .await?;
    db::inbox::event(&mut *tx, org, "message", Some(conversation.id)).await?;
    Ok(reply_id)
}

#[utoipa::path(get, operation_id = "getConversationMedia", summary = "A text's media file", path = "/conversations/{conversation_id}/media/{message_id}/{index}", tag = "inbox", security(("bearer" = [])),
    params(
        ("conversation_id" = uuid::Uuid, Path, description = "The conversation's id"),
        ("message_id" = uuid::Uuid, Path, description = "The arrived text's id (a thread item's)"),
        ("index" = usize, Path, description = "Which of its media files (0, 1…), in the order its attachments are listed"),
    ),
    description = "A picture, voice note or document the lead sent by MMS or WhatsApp, fetched from Twilio with the account's credentials (Twilio keeps it; Aura does not copy it) and answered as it came, with its type. Only Twilio's own address is ever given the credentials.",
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such conversation, message or file", body = ErrorBody),
        (status = 409, description = "The Twilio account the text came through is no longer connected", body = ErrorBody),
        (status = 502, description = "Twilio did not give the file (the words say why)", body = ErrorBody),
    ))]
pub async fn media(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ConversationId, uuid::Uuid, usize)>,
) -> ApiResult<HttpResponse> {
    let (conversation, message, index) = path.into_inner();
    let org = caller.org_id;
    // Only a text's own media: its webhook (signed by Twilio) names the account, the message
    // and each file, and the address must be that message's media resource, so the
    // credentials can reach nothing else.
    let raw = db::inbox::text_raw(&state.pool, org, conversation, message)
        .await?
        .ok_or(ApiError::NotFound)?;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&raw).into_owned().collect();
    let param = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let account_sid = param("AccountSid").ok_or(ApiError::NotFound)?;
    let message_sid = param("MessageSid").ok_or(ApiError::NotFound)?;
    let url = param(&format!("MediaUrl{index}"))
        .and_then(|u| url::Url::parse(&u).ok())
        .filter(|u| {
            crate::domain::phone::is_media_of(u.path(), &account_sid, &message_sid)
                && u.query().is_none()
        })
        .ok_or(ApiError::NotFound)?;
    let account = db::phone::accounts(&state.pool, org)
        .await?
        .into_iter()
        .find(|a| a.account_sid.as_deref() == Some(account_sid.as_str()))
        .ok_or_else(|| {
            ApiError::Conflict(
                "The Twilio account this text came through is no longer connected.".into(),
            )
        })?;
    let creds = account
        .credentials(&state.sealer)
        .map_err(|e| ApiError::Conflict(format!("The account's credentials: {e}")))?;
    let file = state
        .twilio
        .media(&creds, &url)
        .await
        .map_err(|e| ApiError::Upstream(format!("Twilio did not give the file: {e}")))?;
    // Its size, known now, is listed with it from here on.
    db::inbox::media_size(&state.pool, org, message, index, file.bytes.len()).await?;
    // Shown inline only when it is a picture, a sound or a film; anything else downloads.
    let inline = ["image/", "audio/", "video/"]
        .iter()
        .any(|p| file.content_type.starts_with(p))
        && file.content_type != "image/svg+xml";
    Ok(HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .insert_header(("Content-Security-Policy", "sandbox"))
        .insert_header((
            "Content-Disposition",
            if inline { "inline" } else { "attachment" },
        ))
        .body(file.bytes))
}

#[utoipa::path(post, operation_id = "suggestConversationReplies", summary = "Suggest answers to a conversation", path = "/conversations/{conversation_id}/suggest", tag = "inbox", security(("bearer" = [])),
    params(("conversation_id" = uuid::Uuid, Path, description = "The conversation's id")),
    description = "Up to three answers to send next, best first, written by the persona of the campaign step that last wrote to the lead (else the campaign's first persona, else the default), from the thread's last 50 messages (the lead's own words, without what they quote) and the lead's details. The built-in writer answers when no model is configured, and says so in `provenance`.",
    responses(
        (status = 200, description = "Up to 3 answers, best first", body = RepliesResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 409, description = "The thread has nothing to answer yet", body = ErrorBody),
        (status = 502, description = "The provider failed and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn suggest(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let mut conn = state.pool.acquire().await?;
    let conversation = db::inbox::get(&mut conn, org, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let items = db::inbox::thread(&mut *conn, org, &conversation).await?;
    let messages = for_model(&items);
    if messages.is_empty() {
        return Err(ApiError::Conflict(
            "This conversation has nothing to answer yet.".into(),
        ));
    }
    let persona_id = match conversation.campaign_id {
        Some(c) => db::inbox::persona_for(&mut *conn, org, c, conversation.contact_id).await?,
        None => None,
    };
    drop(conn);
    let lead =
        crate::routes::ai::lead_values(&state, &caller, Some(conversation.contact_id)).await?;
    let request = SuggestRepliesRequest {
        persona_id,
        channel: conversation.channel,
        contact_id: Some(conversation.contact_id),
        conversation: messages,
    };
    let job = crate::ai::replies_job(org, request, lead);
    let (output, provenance) = crate::ai::run(&state.pool, &state.ai, job).await?;
    match output {
        crate::ai::Output::Replies(replies) => Ok(HttpResponse::Ok().json(RepliesResult {
            replies,
            provenance,
        })),
        _ => Err(crate::routes::ai::wrong_kind()),
    }
}

/// A thread as a model reads it: the last 50 messages written by people (no reports or
/// automatic answers), the lead's without what they quote, each at most 10,000 characters.
fn for_model(items: &[ThreadItem]) -> Vec<ConversationMessage> {
    let written: Vec<&ThreadItem> = items
        .iter()
        .filter(|i| i.kind.is_none_or(|k| k == InboundKind::Reply))
        .collect();
    let skip = written.len().saturating_sub(50);
    written[skip..]
        .iter()
        .filter_map(|i| {
            let text = match i.direction {
                Direction::Inbound => crate::domain::replies::own_words(&i.text),
                Direction::Outbound => i.text.as_str(),
            };
            let text: String = text.trim().chars().take(10_000).collect();
            (!text.is_empty()).then_some(ConversationMessage {
                direction: i.direction,
                text,
            })
        })
        .collect()
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
    crate::workers::classify::wake();
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

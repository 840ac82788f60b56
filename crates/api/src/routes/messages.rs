//! Prepared messages: start "prepare", follow its progress, list and read messages exactly as
//! the lead will get them, edit, approve, reject or regenerate them — one, a selection, or every
//! message a filter matches.

use crate::{
    db::{self, messages::Which},
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
    workers,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    CampaignId, ContactId, ErrorBody, Message, MessageEdit, MessageFilter, MessageId,
    MessageStatus, OrgId, Page, PageQuery, Preparation, ReviewAction, ReviewRequest, ReviewResult,
    ReviewSummary, StepId,
};
use serde::Deserialize;
use sqlx::PgConnection;

/// The longest message text a person may save.
/// The most messages one review request may list.
const MAX_IDS: usize = 10_000;

/// The campaign, if its messages may still change (not completed or archived).
async fn open_campaign(conn: &mut PgConnection, org: OrgId, id: CampaignId) -> ApiResult<()> {
    let c = db::campaigns::get(&mut *conn, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    match crate::domain::campaign::refusal(c.status, crate::domain::campaign::Change::Messages) {
        Some(why) => Err(ApiError::Conflict(why)),
        None => Ok(()),
    }
}

/// A message as the API shows it: with the HTML part made from its text (only the text is
/// stored; the sender makes the same part).
fn shown(mut m: Message) -> Message {
    m.html = crate::domain::message::html(m.channel, &m.text);
    m
}

/// Queues a preparation (or answers the one already running) and wakes the worker.
async fn start(conn: &mut PgConnection, caller: &Caller, id: CampaignId) -> ApiResult<Preparation> {
    let p = db::messages::open_preparation(conn, caller.org_id, id, caller.person()).await?;
    workers::prepare::wake();
    Ok(p)
}

#[utoipa::path(post, operation_id = "prepareMessages", summary = "Prepare a campaign's messages", path = "/campaigns/{campaign_id}/prepare", tag = "messages", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    description = "Writes, in the background, the message every enrolled lead will get at every step not yet sent: rendered from the step's template (the A/B variant chosen by weight, the same for the lead every time), or written for the lead by AI where the step asks for personalisation. Messages already there are kept unless they are undecided, unedited and older than their step's last change. In auto-approve mode messages without problems are approved as they are written. Follow the progress with `GET /campaigns/{campaign_id}/review`; a preparation already running is answered as it is.",
    responses(
        (status = 202, description = "The preparation, queued or running", body = Preparation),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "No steps or no enrolled leads yet, or the campaign is completed or archived", body = ErrorBody),
    ))]
pub async fn prepare(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
) -> ApiResult<HttpResponse> {
    let (org, id) = (caller.org_id, path.into_inner());
    let mut conn = state.pool.acquire().await?;
    open_campaign(&mut conn, org, id).await?;
    if db::campaigns::steps(&mut *conn, org, id).await?.is_empty() {
        return Err(ApiError::Conflict(
            "Add a step before preparing messages.".into(),
        ));
    }
    if db::targets::count(&mut *conn, org, id, None, None).await? == 0 {
        return Err(ApiError::Conflict(
            "Enroll leads (Audience) before preparing messages.".into(),
        ));
    }
    let p = start(&mut conn, &caller, id).await?;
    Ok(HttpResponse::Accepted().json(p))
}

#[utoipa::path(get, operation_id = "reviewSummary", summary = "Get a campaign's review summary", path = "/campaigns/{campaign_id}/review", tag = "messages", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    description = "Where the campaign's messages stand: counts by status, with problems, stale (written before their step last changed) and missing, and the latest preparation with its progress. Poll it while a preparation runs.",
    responses(
        (status = 200, description = "Counts by status, problems, stale and missing messages, and the latest preparation with its progress", body = ReviewSummary),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
pub async fn summary(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
) -> ApiResult<HttpResponse> {
    let (org, id) = (caller.org_id, path.into_inner());
    let mut conn = state.pool.acquire().await?;
    db::campaigns::get(&mut *conn, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let s: ReviewSummary = db::messages::summary(&mut conn, org, id).await?;
    Ok(HttpResponse::Ok().json(s))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Only this step's messages.
    #[param(value_type = Option<uuid::Uuid>)]
    step_id: Option<StepId>,
    status: Option<MessageStatus>,
    /// "A", "B"… or "AI".
    variant: Option<String>,
    /// true: only messages with problems; false: only those without.
    problems: Option<bool>,
    /// Only this lead's messages.
    #[param(value_type = Option<uuid::Uuid>)]
    contact_id: Option<ContactId>,
}

#[utoipa::path(get, operation_id = "listMessages", summary = "List a campaign's messages", path = "/campaigns/{campaign_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"), MessageQuery, PageQuery),
    description = "The campaign's prepared messages, lead by lead and step by step, optionally only one step, status, variant or lead, or only those with (or without) problems, in pages; `total` counts all matches.",
    responses(
        (status = 200, description = "A page of messages (lead by lead, step by step) and how many match", body = Page<Message>),
        (status = 422, description = "A limit out of range or a cursor this list did not give", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    query: web::Query<MessageQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (org, id) = (caller.org_id, path.into_inner());
    let (limit, offset) = (page.limit()?, page.offset()?);
    let q = query.into_inner();
    let mut conn = state.pool.acquire().await?;
    db::campaigns::get(&mut *conn, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let filter = MessageFilter {
        step_id: q.step_id,
        status: q.status,
        variant: q.variant.filter(|v| !v.trim().is_empty()),
        problems: q.problems,
        contact_id: q.contact_id,
    };
    let which = Which::Filter(&filter);
    let items = db::messages::list(&mut conn, org, id, &which, limit.into(), offset)
        .await?
        .into_iter()
        .map(shown)
        .collect();
    let total = db::messages::count(&mut conn, org, id, &which).await?;
    Ok(HttpResponse::Ok().json(Page::at_offset(items, total, offset)))
}

#[utoipa::path(get, operation_id = "getMessage", summary = "Get a message", path = "/campaigns/{campaign_id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"), ("message_id" = uuid::Uuid, Path, description = "The message's id")),
    description = "One prepared message exactly as the lead will get it: subject, text and the HTML part made from the text.",
    responses(
        (status = 200, description = "The message exactly as the lead will get it (subject, text, HTML part)", body = Message),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign or message", body = ErrorBody),
    ))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CampaignId, MessageId)>,
) -> ApiResult<HttpResponse> {
    let (id, message) = path.into_inner();
    let mut conn = state.pool.acquire().await?;
    let m = db::messages::get(&mut conn, caller.org_id, id, message)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(shown(m)))
}

#[utoipa::path(patch, operation_id = "editMessage", summary = "Edit a message", path = "/campaigns/{campaign_id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"), ("message_id" = uuid::Uuid, Path, description = "The message's id")),
    request_body = MessageEdit,
    description = "Saves a person's final text (no merge tags are filled in: what is written is what is sent). The message is marked edited, its problems are cleared, and preparing again leaves it alone. Its status does not change.",
    responses(
        (status = 200, description = "The edited message", body = Message),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign or message", body = ErrorBody),
        (status = 409, description = "The campaign is completed or archived, or the message was already handed to the sender", body = ErrorBody),
        (status = 422, description = "Empty text, or an email without a subject or with one over 150 characters", body = ErrorBody),
    ))]
pub async fn edit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CampaignId, MessageId)>,
    body: Json<MessageEdit>,
) -> ApiResult<HttpResponse> {
    let (org, (id, message)) = (caller.org_id, path.into_inner());
    let mut tx = state.pool.begin().await?;
    open_campaign(&mut tx, org, id).await?;
    let current = db::messages::get(&mut tx, org, id, message)
        .await?
        .ok_or(ApiError::NotFound)?;
    let edited = crate::domain::message::edit(&current, body.0).map_err(|e| match e {
        crate::domain::message::EditRefused::Decided(why) => ApiError::Conflict(why),
        crate::domain::message::EditRefused::Invalid(fields) => fields.into(),
    })?;
    db::messages::edit(
        &mut tx,
        org,
        id,
        message,
        edited.subject.as_deref(),
        &edited.text,
    )
    .await?;
    let m = db::messages::get(&mut tx, org, id, message)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(shown(m)))
}

#[utoipa::path(post, operation_id = "reviewMessages", summary = "Approve, reject or regenerate messages", path = "/campaigns/{campaign_id}/messages/review", tag = "messages", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    request_body = ReviewRequest,
    description = "Approves, rejects or regenerates the listed messages (`ids`) or every message a `filter` matches. Approval skips messages with problems. Regenerate removes the messages and queues a preparation that writes them again from the steps as they are now (a person's edits are lost).",
    responses(
        (status = 200, description = "How many changed and how many were left as they were", body = ReviewResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is completed or archived", body = ErrorBody),
        (status = 422, description = "Neither or both of ids and filter, or too many ids", body = ErrorBody),
    ))]
pub async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    body: Json<ReviewRequest>,
) -> ApiResult<HttpResponse> {
    let (org, id) = (caller.org_id, path.into_inner());
    let body = body.0;
    let which = match (&body.ids, &body.filter) {
        (Some(ids), None) if ids.len() > MAX_IDS => {
            return Err(ApiError::field(
                "ids",
                format!("at most {MAX_IDS} at a time; use a filter for more"),
            ))
        }
        (Some(ids), None) => Which::Ids(ids),
        (None, Some(f)) => Which::Filter(f),
        _ => {
            return Err(ApiError::field(
                "ids",
                "give either ids or a filter (use {} for every message)",
            ))
        }
    };
    let mut tx = state.pool.begin().await?;
    open_campaign(&mut tx, org, id).await?;
    let matched = db::messages::count(&mut tx, org, id, &which).await?;
    let (changed, preparation) = match body.action {
        ReviewAction::Approve => (
            db::messages::decide(
                &mut tx,
                org,
                id,
                &which,
                MessageStatus::Approved,
                caller.person(),
            )
            .await?,
            None,
        ),
        ReviewAction::Reject => (
            db::messages::decide(
                &mut tx,
                org,
                id,
                &which,
                MessageStatus::Rejected,
                caller.person(),
            )
            .await?,
            None,
        ),
        ReviewAction::Regenerate => {
            let n = db::messages::delete(&mut tx, org, id, &which).await?;
            let p = if n > 0 {
                Some(start(&mut tx, &caller, id).await?)
            } else {
                None
            };
            (n, p)
        }
    };
    tx.commit().await?;
    if preparation.is_some() {
        workers::prepare::wake();
    }
    let changed = changed as i64;
    Ok(HttpResponse::Ok().json(ReviewResult {
        changed,
        skipped: matched - changed,
        preparation,
    }))
}

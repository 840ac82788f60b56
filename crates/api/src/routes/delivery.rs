//! Delivery as people see it: the pre-flight check before launch, a campaign's delivery
//! counters, resolving messages whose outcome is unknown, and the sandbox outbox.

use crate::routes::Routes;
use crate::{
    db,
    domain::preflight,
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    CampaignId, Delivery, DeliveryAction, DeliveryActionKind, ErrorBody, MessageId, OutboxId,
    OutboxItem, OutboxMessage, Page, PageQuery, Preflight,
};
use time::OffsetDateTime;

pub fn outbox_scope() -> Routes {
    Routes::new("/outbox")
        .get("", outbox)
        .get("/{outbox_id}", outbox_message)
        .post(
            "/{outbox_id}/simulate",
            crate::routes::inbox::simulate_answer,
        )
}

#[utoipa::path(get, operation_id = "campaignPreflight", summary = "Get a campaign's pre-flight checks", path = "/campaigns/{campaign_id}/preflight", tag = "delivery", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    description = "What launching checks: steps with messages, mailboxes chosen and not all paused, the postal address for the footer, no merge tag without a value (or no prepared message with problems), approved messages (manual approval), a sane send window. Launch is refused while any check fails.",
    responses(
        (status = 200, description = "The checks", body = Preflight),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
pub async fn get_preflight(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.acquire().await?;
    let facts = db::reports::preflight_facts(&mut conn, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(preflight::checks(&facts)))
}

#[utoipa::path(get, operation_id = "campaignDelivery", summary = "Get a campaign's delivery counters", path = "/campaigns/{campaign_id}/delivery", tag = "delivery", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    description = "Per-step counters of queued, sending, sent, failed, bounced, unknown and cancelled messages (and opens and clicks where tracked), and where the leads are. List the messages themselves with `GET /campaigns/{campaign_id}/messages?status=…`.",
    responses(
        (status = 200, description = "The counters", body = Delivery),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
pub async fn delivery(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
) -> ApiResult<HttpResponse> {
    let (org, id) = (caller.org_id, path.into_inner());
    let mut conn = state.pool.acquire().await?;
    db::campaigns::get(&mut *conn, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let steps = db::reports::step_counters(&mut *conn, org, id).await?;
    let (active, waiting_for_approval, completed, unsubscribed) =
        db::reports::target_counters(&mut *conn, org, id).await?;
    Ok(HttpResponse::Ok().json(Delivery {
        steps,
        active,
        waiting_for_approval,
        completed,
        unsubscribed,
    }))
}

#[utoipa::path(post, operation_id = "resolveDelivery", summary = "Resolve a message whose outcome is unknown", path = "/campaigns/{campaign_id}/messages/{message_id}/delivery", tag = "delivery", security(("bearer" = [])),
    params(
        ("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"),
        ("message_id" = uuid::Uuid, Path, description = "The message's id"),
    ),
    request_body = DeliveryAction,
    description = "For a message whose outcome is unknown (the sender stopped while handing it over): `retry` queues it again — the lead may get it twice if it did go out — or `mark_sent` counts it as sent and moves the lead on.",
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign or message", body = ErrorBody),
        (status = 409, description = "The message's outcome is not unknown", body = ErrorBody),
        (status = 422, description = "Unknown action", body = ErrorBody),
    ))]
pub async fn resolve(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CampaignId, MessageId)>,
    body: Json<DeliveryAction>,
) -> ApiResult<HttpResponse> {
    let (id, message) = path.into_inner();
    let org = caller.org_id;
    let mut tx = state.pool.begin().await?;
    db::messages::get(&mut tx, org, id, message)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mark_sent = body.0.action == DeliveryActionKind::MarkSent;
    if !db::send::resolve_unknown(
        &mut tx,
        org,
        id,
        message,
        mark_sent,
        OffsetDateTime::now_utc(),
    )
    .await?
    {
        return Err(ApiError::Conflict(
            "Only a message whose outcome is unknown can be retried or marked as sent.".into(),
        ));
    }
    tx.commit().await?;
    crate::workers::send::wake();
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, operation_id = "listOutbox", summary = "List the sandbox outbox", path = "/outbox", tag = "delivery", security(("bearer" = [])),
    description = "What the organization's sandbox mailboxes caught, newest first, a page at a time.",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of caught messages and how many there are", body = Page<OutboxItem>),
        (status = 400, description = "A limit that is not a number", body = ErrorBody),
        (status = 422, description = "A limit out of range or a cursor this list did not give", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn outbox(
    state: web::Data<AppState>,
    caller: Caller,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (limit, offset) = (page.limit()?, page.offset()?);
    let mut conn = state.pool.acquire().await?;
    let items = db::outbox::list_outbox(&mut *conn, caller.org_id, limit.into(), offset).await?;
    let total = db::outbox::count_outbox(&mut *conn, caller.org_id).await?;
    Ok(HttpResponse::Ok().json(Page::at_offset(items, total, offset)))
}

#[utoipa::path(get, operation_id = "getOutboxMessage", summary = "Get a sandbox outbox message", path = "/outbox/{outbox_id}", tag = "delivery", security(("bearer" = [])),
    params(("outbox_id" = uuid::Uuid, Path, description = "The caught message's id")),
    description = "One message a sandbox mailbox caught, with its whole source (RFC 5322) exactly as it would have gone out.",
    responses(
        (status = 200, description = "The message exactly as it would have gone out", body = OutboxMessage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such message", body = ErrorBody),
    ))]
pub async fn outbox_message(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<OutboxId>,
) -> ApiResult<HttpResponse> {
    let (item, raw) = db::outbox::outbox_raw(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(OutboxMessage {
        item,
        raw: String::from_utf8_lossy(&raw).into_owned(),
    }))
}

//! Delivery as people see it: the pre-flight check before launch, a campaign's delivery
//! counters, resolving messages whose outcome is unknown, and the sandbox outbox.

use crate::routes::Routes;
use crate::{
    auth::Caller,
    db,
    domain::campaign::{describe_problems, launch_problem},
    error::{ApiError, ApiResult},
    extract::Json,
    routes::campaigns::tag_problems_of,
    startup::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    ApprovalMode, CampaignId, Channel, Delivery, DeliveryAction, DeliveryActionKind, ErrorBody,
    MailboxStatus, MessageId, OrgId, OutboxId, OutboxMessage, OutboxPage, Preflight,
    PreflightCheck,
};
use serde::Deserialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

pub fn outbox_scope() -> Routes {
    Routes::new("/outbox")
        .get("", outbox)
        .get("/{outbox_id}", outbox_message)
}

fn check(check: &str, ok: bool, detail: impl Into<String>) -> PreflightCheck {
    PreflightCheck {
        check: check.into(),
        ok,
        detail: detail.into(),
    }
}

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Everything that must hold before a campaign goes out.
pub async fn preflight(
    conn: &mut PgConnection,
    org: OrgId,
    id: CampaignId,
) -> ApiResult<Preflight> {
    let campaign = db::campaigns::get(&mut *conn, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let steps = db::campaigns::steps(&mut *conn, org, id).await?;
    let mut checks = vec![match launch_problem(&steps) {
        Some(p) => check("steps", false, p),
        None => check(
            "steps",
            true,
            format!("{} step(s) with a message", steps.len()),
        ),
    }];
    if steps.iter().any(|s| s.channel == Channel::Email) {
        let ids = db::mailboxes::of_campaign(&mut *conn, org, id).await?;
        let boxes =
            db::mailboxes::list(&mut *conn, org, Some(&ids), OffsetDateTime::now_utc()).await?;
        let active: Vec<_> = boxes
            .iter()
            .filter(|m| m.status == MailboxStatus::Active)
            .collect();
        let paused: Vec<&str> = boxes
            .iter()
            .filter(|m| m.status == MailboxStatus::Paused)
            .map(|m| m.from_email.as_str())
            .collect();
        checks.push(if boxes.is_empty() {
            check("mailboxes", false, "Choose the mailboxes this campaign sends from (Settings → Mailboxes to add one).")
        } else if active.is_empty() {
            check("mailboxes", false, format!("Every mailbox of this campaign is paused ({}); resume one in Settings → Mailboxes.", paused.join(", ")))
        } else {
            let names: Vec<&str> = active.iter().map(|m| m.from_email.as_str()).collect();
            let mut detail = format!("Sends from {}", names.join(", "));
            if !paused.is_empty() {
                detail.push_str(&format!(" ({} paused)", paused.join(", ")));
            }
            check("mailboxes", true, detail)
        });
        let org_row = db::orgs::get(&mut *conn, org).await?;
        let address = org_row
            .and_then(|o| o.postal_address)
            .filter(|a| !a.trim().is_empty());
        checks.push(match address {
            Some(a) => check("postal_address", true, format!("Footer: {a}")),
            None => check("postal_address", false, "Add your organization's postal address (Settings → Organization); the law requires it in the footer of marketing email."),
        });
    }
    let (all, approved, with_problems) = db::delivery::review_counters(&mut *conn, org, id).await?;
    let leads =
        db::targets::count(&mut *conn, org, id, Some(aura_types::TargetStatus::Active)).await?;
    checks.push(if all == 0 {
        let problems = tag_problems_of(conn, org, id, &steps).await?;
        match describe_problems(&problems) {
            Some(p) => check("tags", false, p),
            None => check("tags", true, "Every merge tag has a value or a fallback for every lead"),
        }
    } else if with_problems > 0 {
        check("tags", false, format!("{with_problems} message(s) have problems (a tag with no value, a missing address); fix or reject them in Review."))
    } else {
        check("tags", true, "No message has problems")
    });
    checks.push(match (campaign.approval, leads, approved) {
        (_, 0, _) => check(
            "messages",
            true,
            "No leads enrolled yet; they are sent to once enrolled and their messages approved",
        ),
        (ApprovalMode::Auto, _, _) => check(
            "messages",
            true,
            "Messages are written and approved as leads come due",
        ),
        (ApprovalMode::Manual, _, 0) => check(
            "messages",
            false,
            "No approved messages yet: prepare and approve them in Review.",
        ),
        (ApprovalMode::Manual, _, n) => check(
            "messages",
            true,
            format!("{n} approved message(s); leads whose message is not approved wait"),
        ),
    });
    let w = &campaign.window;
    checks.push(if w.days.is_empty() {
        check("window", false, "Choose at least one sending day.")
    } else {
        let days: Vec<&str> = w
            .days
            .iter()
            .filter_map(|d| DAY_NAMES.get(usize::from(*d).wrapping_sub(1)).copied())
            .collect();
        check(
            "window",
            true,
            format!(
                "{} {}–{} in each lead's time zone ({} when unknown)",
                days.join(" "),
                w.start,
                w.end,
                campaign.timezone
            ),
        )
    });
    Ok(Preflight::new(checks))
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
    Ok(HttpResponse::Ok().json(preflight(&mut conn, caller.org_id, path.into_inner()).await?))
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
    let steps = db::delivery::step_counters(&mut *conn, org, id).await?;
    let (active, waiting_for_approval, completed, unsubscribed) =
        db::delivery::target_counters(&mut *conn, org, id).await?;
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
    if !db::delivery::resolve_unknown(
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// At most 200 (default 50).
    limit: Option<i64>,
    offset: Option<i64>,
}

#[utoipa::path(get, operation_id = "listOutbox", summary = "List the sandbox outbox", path = "/outbox", tag = "delivery", security(("bearer" = [])),
    description = "What the organization's sandbox mailboxes caught, newest first, a page at a time.",
    params(OutboxQuery),
    responses(
        (status = 200, description = "A page of caught messages and how many there are", body = OutboxPage),
        (status = 400, description = "A limit or offset that is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn outbox(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<OutboxQuery>,
) -> ApiResult<HttpResponse> {
    let (limit, offset) = (
        super::page_limit(query.limit),
        super::page_offset(query.offset),
    );
    let mut conn = state.pool.acquire().await?;
    let items = db::delivery::list_outbox(&mut *conn, caller.org_id, limit, offset).await?;
    let total = db::delivery::count_outbox(&mut *conn, caller.org_id).await?;
    Ok(HttpResponse::Ok().json(OutboxPage { items, total }))
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
    let (item, raw) = db::delivery::outbox_raw(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(OutboxMessage {
        item,
        raw: String::from_utf8_lossy(&raw).into_owned(),
    }))
}

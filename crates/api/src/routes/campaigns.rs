//! Campaigns and their steps: create, edit (in draft and paused only), the status state machine,
//! duplicate, and step add / edit / duplicate / delete / reorder.

use crate::routes::Routes;
use crate::{
    db,
    domain::campaign::{self as parse, campaign_fields},
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    Campaign, CampaignDetail, CampaignId, CampaignInput, CampaignStatus, ContactId, EnrollRequest,
    EnrollResult, ErrorBody, OrgId, Page, PageQuery, ReorderSteps, StatusChange, Step, StepId,
    StepInput, TagProblem, Target, TargetChange, TargetStatus,
};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn scope() -> Routes {
    Routes::new("/campaigns")
        .get("", list)
        .post("", create)
        .get("/{campaign_id}", get)
        .patch("/{campaign_id}", update)
        .delete("/{campaign_id}", delete)
        .post("/{campaign_id}/status", change_status)
        .post("/{campaign_id}/duplicate", duplicate)
        .post("/{campaign_id}/steps", add_step)
        .post("/{campaign_id}/steps/reorder", reorder_steps)
        .patch("/{campaign_id}/steps/{step_id}", update_step)
        .delete("/{campaign_id}/steps/{step_id}", delete_step)
        .post("/{campaign_id}/steps/{step_id}/duplicate", duplicate_step)
        .post(
            "/{campaign_id}/save-as-template",
            crate::routes::templates::save_as_template,
        )
        .get("/{campaign_id}/problems", problems)
        .get(
            "/{campaign_id}/mailboxes",
            crate::routes::mailboxes::campaign_mailboxes,
        )
        .put(
            "/{campaign_id}/mailboxes",
            crate::routes::mailboxes::set_campaign_mailboxes,
        )
        .get(
            "/{campaign_id}/preflight",
            crate::routes::delivery::get_preflight,
        )
        .get("/{campaign_id}/delivery", crate::routes::delivery::delivery)
        .post(
            "/{campaign_id}/messages/{message_id}/delivery",
            crate::routes::delivery::resolve,
        )
        .post("/{campaign_id}/prepare", crate::routes::messages::prepare)
        .get("/{campaign_id}/review", crate::routes::messages::summary)
        .get("/{campaign_id}/messages", crate::routes::messages::list)
        .post(
            "/{campaign_id}/messages/review",
            crate::routes::messages::review,
        )
        .get(
            "/{campaign_id}/messages/{message_id}",
            crate::routes::messages::get,
        )
        .patch(
            "/{campaign_id}/messages/{message_id}",
            crate::routes::messages::edit,
        )
        .get("/{campaign_id}/targets", list_targets)
        .post("/{campaign_id}/targets", enroll)
        .patch("/{campaign_id}/targets/{contact_id}", update_target)
        .delete("/{campaign_id}/targets/{contact_id}", remove_target)
}

async fn detail(conn: &mut PgConnection, org: OrgId, id: CampaignId) -> ApiResult<CampaignDetail> {
    let campaign = db::campaigns::get(&mut *conn, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let steps = db::campaigns::steps(&mut *conn, org, id).await?;
    Ok(CampaignDetail { campaign, steps })
}

fn too_many_steps() -> ApiError {
    ApiError::Conflict(format!(
        "A campaign has at most {} steps.",
        parse::MAX_STEPS
    ))
}

/// Locks the campaign and refuses changes unless it is a draft or paused.
async fn editable(conn: &mut PgConnection, org: OrgId, id: CampaignId) -> ApiResult<()> {
    let status = db::campaigns::lock(conn, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    match parse::refusal(status, parse::Change::Design) {
        None => Ok(()),
        Some(why) => Err(ApiError::Conflict(why)),
    }
}

async fn org_timezone(state: &AppState, org: OrgId) -> ApiResult<String> {
    Ok(db::orgs::get(&state.pool, org)
        .await?
        .ok_or(ApiError::NotFound)?
        .timezone)
}

async fn check_persona(conn: &mut PgConnection, org: OrgId, step: &Step) -> ApiResult<()> {
    if let Some(p) = step.persona_id {
        db::ai::get_persona(&mut *conn, org, p)
            .await?
            .ok_or_else(|| ApiError::field("persona_id", "no persona with this id"))?;
    }
    Ok(())
}

#[utoipa::path(get, operation_id = "listCampaigns", summary = "List campaigns", path = "/campaigns", tag = "campaigns", security(("bearer" = [])),
    description = "Every campaign of the organization, most recently changed first, archived ones last.",
    responses(
        (status = 200, description = "Campaigns, most recently changed first (archived last)", body = Vec<Campaign>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(db::campaigns::list(&state.pool, caller.org_id).await?))
}

#[utoipa::path(post, operation_id = "createCampaign", summary = "Create a campaign", path = "/campaigns", tag = "campaigns", security(("bearer" = [])),
    request_body = CampaignInput,
    description = "Creates a draft campaign from its brief and settings; add steps, mailboxes and leads before launching. Without a `timezone` it takes the organization's.",
    responses(
        (status = 201, description = "Created as a draft", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CampaignInput>,
) -> ApiResult<HttpResponse> {
    let tz = org_timezone(&state, caller.org_id).await?;
    let fields = campaign_fields(None, &body.0, &tz)?;
    let id = CampaignId::new();
    let created_by = caller.person();
    let mut conn = state.pool.acquire().await?;
    db::campaigns::insert(&mut *conn, caller.org_id, id, &fields, created_by).await?;
    Ok(HttpResponse::Created().json(detail(&mut conn, caller.org_id, id).await?))
}

#[utoipa::path(get, operation_id = "getCampaign", summary = "Get a campaign", path = "/campaigns/{campaign_id}", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    description = "The campaign with its steps in sending order.",
    responses(
        (status = 200, description = "The campaign and its steps", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.acquire().await?;
    Ok(HttpResponse::Ok().json(detail(&mut conn, caller.org_id, path.into_inner()).await?))
}

#[utoipa::path(patch, operation_id = "updateCampaign", summary = "Update a campaign", path = "/campaigns/{campaign_id}", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    request_body = CampaignInput,
    description = "Changes the fields the body names; absent fields stay. Only a draft or paused campaign can be edited.",
    responses(
        (status = 200, description = "Saved", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is active (pause it first), completed or archived", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    body: Json<CampaignInput>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let tz = org_timezone(&state, caller.org_id).await?;
    let mut tx = state.pool.begin().await?;
    editable(&mut tx, caller.org_id, id).await?;
    let current = db::campaigns::get(&mut *tx, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let fields = campaign_fields(Some(&current), &body.0, &tz)?;
    db::campaigns::update(&mut *tx, caller.org_id, id, &fields).await?;
    let out = detail(&mut tx, caller.org_id, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(delete, operation_id = "deleteCampaign", summary = "Delete a campaign", path = "/campaigns/{campaign_id}", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    description = "Deletes the campaign with its steps, enrolled leads and prepared messages; the contacts stay. An active campaign must be paused first.",
    responses(
        (status = 204, description = "Deleted with its steps"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "An active campaign cannot be deleted; pause it first", body = ErrorBody),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut tx = state.pool.begin().await?;
    match db::campaigns::lock(&mut tx, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?
    {
        CampaignStatus::Active => {
            return Err(ApiError::Conflict(
                "The campaign is active: pause it before deleting it.".into(),
            ))
        }
        _ => db::campaigns::delete(&mut *tx, caller.org_id, id).await?,
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "changeCampaignStatus", summary = "Change a campaign's status", path = "/campaigns/{campaign_id}/status", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    request_body = StatusChange,
    description = "Moves the campaign along draft → active ⇄ paused → completed, or to archived (from draft, paused or completed). Launching (and resuming) runs the pre-flight check (`GET /campaigns/{campaign_id}/preflight`) and is refused with its failed checks; pausing holds every message not yet handed to the mail server.",
    responses(
        (status = 200, description = "The campaign in its new status", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Not allowed from the current status, or not ready to launch", body = ErrorBody),
        (status = 422, description = "Unknown status", body = ErrorBody),
    ))]
pub async fn change_status(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    body: Json<StatusChange>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let to = body.0.status;
    let mut tx = state.pool.begin().await?;
    let from = db::campaigns::lock(&mut tx, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !from.can_become(to) {
        return Err(ApiError::Conflict(format!(
            "A {} campaign cannot become {}.",
            from.label().to_lowercase(),
            to.label().to_lowercase()
        )));
    }
    if to == CampaignStatus::Active {
        let facts = db::reports::preflight_facts(&mut tx, caller.org_id, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let checks = crate::domain::preflight::checks(&facts);
        if !checks.ready {
            return Err(ApiError::Conflict(checks.problems()));
        }
    }
    db::campaigns::set_status(&mut *tx, caller.org_id, id, to).await?;
    let out = detail(&mut tx, caller.org_id, id).await?;
    tx.commit().await?;
    if to == CampaignStatus::Active {
        crate::workers::schedule::wake();
        crate::workers::send::wake();
    }
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, operation_id = "duplicateCampaign", summary = "Duplicate a campaign", path = "/campaigns/{campaign_id}/duplicate", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    description = "Copies the campaign's settings and steps into a new draft named \"… (copy)\".",
    responses(
        (status = 201, description = "The copy", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
pub async fn duplicate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let mut tx = state.pool.begin().await?;
    let original = detail(&mut tx, org, path.into_inner()).await?;
    let c = &original.campaign;
    let name: String = format!("{} (copy)", c.name)
        .chars()
        .take(parse::NAME_MAX)
        .collect();
    let input = CampaignInput {
        name: Some(name),
        window: Some(c.window.clone()),
        ..Default::default()
    };
    let fields = campaign_fields(Some(c), &input, &c.timezone)?;
    let id = CampaignId::new();
    let created_by = caller.person();
    db::campaigns::insert(&mut *tx, org, id, &fields, created_by).await?;
    for s in &original.steps {
        let copy = Step {
            id: StepId::new(),
            ..s.clone()
        };
        db::campaigns::save_step(&mut tx, org, id, &copy).await?;
    }
    let out = detail(&mut tx, org, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(post, operation_id = "addStep", summary = "Add a step to a campaign", path = "/campaigns/{campaign_id}/steps", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    request_body = StepInput,
    description = "Adds a step at `position` (default: the end). Templates are checked with the shared renderer: a bad merge tag is refused with its line and column.",
    responses(
        (status = 201, description = "The campaign with the new step", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is active, completed or archived", body = ErrorBody),
        (status = 422, description = "Invalid fields or templates", body = ErrorBody),
    ))]
pub async fn add_step(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    body: Json<StepInput>,
) -> ApiResult<HttpResponse> {
    let (org, id) = (caller.org_id, path.into_inner());
    let mut tx = state.pool.begin().await?;
    editable(&mut tx, org, id).await?;
    let count = db::campaigns::steps(&mut *tx, org, id).await?.len() as i32;
    if count as usize >= parse::MAX_STEPS {
        return Err(too_many_steps());
    }
    let position = body.0.position.unwrap_or(count + 1).clamp(1, count + 1);
    let step = parse::step(None, &body.0, position)?;
    check_persona(&mut tx, org, &step).await?;
    db::campaigns::open_position(&mut tx, org, id, position).await?;
    db::campaigns::save_step(&mut tx, org, id, &step).await?;
    db::campaigns::touch(&mut *tx, org, id).await?;
    let out = detail(&mut tx, org, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(out))
}

async fn current_step(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    step: StepId,
) -> ApiResult<Step> {
    db::campaigns::steps(&mut *conn, org, campaign)
        .await?
        .into_iter()
        .find(|s| s.id == step)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(patch, operation_id = "updateStep", summary = "Update a step", path = "/campaigns/{campaign_id}/steps/{step_id}", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"), ("step_id" = uuid::Uuid, Path, description = "The step's id")),
    request_body = StepInput,
    description = "Changes the fields the body names; absent fields stay. Templates are checked with the shared renderer (a bad merge tag is refused with its line and column), and a persona must be one of the organization's. Only a draft or paused campaign can be edited.",
    responses(
        (status = 200, description = "The campaign with the saved step", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign or step", body = ErrorBody),
        (status = 409, description = "The campaign is active, completed or archived", body = ErrorBody),
        (status = 422, description = "Invalid fields or templates", body = ErrorBody),
    ))]
pub async fn update_step(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CampaignId, StepId)>,
    body: Json<StepInput>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let (id, step_id) = path.into_inner();
    let mut tx = state.pool.begin().await?;
    editable(&mut tx, org, id).await?;
    let current = current_step(&mut tx, org, id, step_id).await?;
    let step = parse::step(Some(&current), &body.0, current.position)?;
    check_persona(&mut tx, org, &step).await?;
    db::campaigns::save_step(&mut tx, org, id, &step).await?;
    db::campaigns::touch(&mut *tx, org, id).await?;
    let out = detail(&mut tx, org, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(delete, operation_id = "deleteStep", summary = "Delete a step", path = "/campaigns/{campaign_id}/steps/{step_id}", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"), ("step_id" = uuid::Uuid, Path, description = "The step's id")),
    description = "Deletes the step and its prepared messages; later steps move up. Only a draft or paused campaign can be edited.",
    responses(
        (status = 200, description = "The campaign without the step; later steps move up", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign or step", body = ErrorBody),
        (status = 409, description = "The campaign is active, completed or archived", body = ErrorBody),
    ))]
pub async fn delete_step(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CampaignId, StepId)>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let (id, step_id) = path.into_inner();
    let mut tx = state.pool.begin().await?;
    editable(&mut tx, org, id).await?;
    if !db::campaigns::delete_step(&mut tx, org, id, step_id).await? {
        return Err(ApiError::NotFound);
    }
    db::campaigns::touch(&mut *tx, org, id).await?;
    let out = detail(&mut tx, org, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, operation_id = "duplicateStep", summary = "Duplicate a step", path = "/campaigns/{campaign_id}/steps/{step_id}/duplicate", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"), ("step_id" = uuid::Uuid, Path, description = "The step's id")),
    description = "Inserts a copy of the step right after it.",
    responses(
        (status = 201, description = "The campaign with the copy", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign or step", body = ErrorBody),
        (status = 409, description = "The campaign is active, completed or archived, or has 20 steps", body = ErrorBody),
    ))]
pub async fn duplicate_step(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CampaignId, StepId)>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let (id, step_id) = path.into_inner();
    let mut tx = state.pool.begin().await?;
    editable(&mut tx, org, id).await?;
    let original = current_step(&mut tx, org, id, step_id).await?;
    if db::campaigns::steps(&mut *tx, org, id).await?.len() >= parse::MAX_STEPS {
        return Err(too_many_steps());
    }
    let copy = Step {
        id: StepId::new(),
        position: original.position + 1,
        ..original
    };
    db::campaigns::open_position(&mut tx, org, id, copy.position).await?;
    db::campaigns::save_step(&mut tx, org, id, &copy).await?;
    db::campaigns::touch(&mut *tx, org, id).await?;
    let out = detail(&mut tx, org, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(post, operation_id = "reorderSteps", summary = "Reorder a campaign's steps", path = "/campaigns/{campaign_id}/steps/reorder", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    request_body = ReorderSteps,
    description = "Puts the steps in the order of `step_ids`, which must list every step of the campaign exactly once. Only a draft or paused campaign can be edited.",
    responses(
        (status = 200, description = "The campaign with its steps in the new order", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is active, completed or archived", body = ErrorBody),
        (status = 422, description = "The list is not exactly the campaign's steps", body = ErrorBody),
    ))]
pub async fn reorder_steps(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    body: Json<ReorderSteps>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let id = path.into_inner();
    let mut tx = state.pool.begin().await?;
    editable(&mut tx, org, id).await?;
    let mut have: Vec<StepId> = db::campaigns::steps(&mut *tx, org, id)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut want = body.0.step_ids.clone();
    have.sort();
    want.sort();
    if have != want {
        return Err(ApiError::field(
            "step_ids",
            "must list every step of the campaign exactly once",
        ));
    }
    db::campaigns::reorder(&mut tx, org, id, &body.0.step_ids).await?;
    db::campaigns::touch(&mut *tx, org, id).await?;
    let out = detail(&mut tx, org, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(out))
}

// ---- enrollment ----

#[utoipa::path(post, operation_id = "enrollTargets", summary = "Enroll leads in a campaign", path = "/campaigns/{campaign_id}/targets", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    request_body = EnrollRequest,
    description = "Enrolls an audience (all contacts, contacts with tags, a segment, or ids). Contacts that cannot be reached on the \
first step's channel — no address, unsubscribed or stopped, suppressed, without consent where the channel needs it (SMS and WhatsApp: granted; \
email: not denied or revoked) — already enrolled, or optionally active in another campaign, are skipped and counted by reason. \
Re-applying is idempotent. With `dry_run` nothing is written.",
    responses(
        (status = 200, description = "Counts: matched, enrolled, skipped by reason", body = EnrollResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign has no steps, or is completed or archived", body = ErrorBody),
        (status = 422, description = "Invalid selection", body = ErrorBody),
    ))]
pub async fn enroll(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    body: Json<EnrollRequest>,
) -> ApiResult<HttpResponse> {
    let (org, id) = (caller.org_id, path.into_inner());
    let body = body.0;
    let mut tx = state.pool.begin().await?;
    let status = db::campaigns::lock(&mut tx, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(why) = parse::refusal(status, parse::Change::Leads) {
        return Err(ApiError::Conflict(why));
    }
    let steps = db::campaigns::steps(&mut *tx, org, id).await?;
    let Some(first) = steps.first() else {
        return Err(ApiError::Conflict(
            "Add a step first: the first step's channel decides who can be reached.".into(),
        ));
    };
    let selection =
        crate::routes::contacts::resolve_selection(&mut tx, org, &body.selection).await?;
    let now = state.clock.now();
    let ids = db::contacts::ids(&mut tx, org, &selection, now).await?;
    let classified = db::targets::classify(
        &mut tx,
        org,
        id,
        first.channel,
        &ids,
        body.skip_active_elsewhere,
    )
    .await?;
    let mut skipped = std::collections::BTreeMap::new();
    let mut eligible = Vec::new();
    for (contact, reason) in &classified {
        match reason {
            Some(r) => *skipped.entry(*r).or_insert(0i64) += 1,
            None => eligible.push(*contact),
        }
    }
    let enrolled = if body.dry_run {
        eligible.len() as i64
    } else {
        let n = db::targets::insert(&mut tx, org, id, &eligible, first.delay_minutes, now).await?
            as i64;
        db::campaigns::touch(&mut *tx, org, id).await?;
        n
    };
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(EnrollResult {
        matched: classified.len() as i64,
        enrolled,
        skipped,
        dry_run: body.dry_run,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TargetQuery {
    /// Only targets with this status.
    status: Option<TargetStatus>,
    /// Only this lead.
    #[param(value_type = Option<uuid::Uuid>)]
    contact_id: Option<ContactId>,
}

#[utoipa::path(get, operation_id = "listTargets", summary = "List a campaign's enrolled leads", path = "/campaigns/{campaign_id}/targets", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"), TargetQuery, PageQuery),
    description = "The enrolled leads, most recently enrolled first, optionally only those with one status or one lead, each with its status, the steps already sent and when it runs next, in pages; `total` counts every match.",
    responses(
        (status = 200, description = "A page of targets and how many match", body = Page<Target>),
        (status = 422, description = "A limit out of range or a cursor this list did not give", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
pub async fn list_targets(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    query: web::Query<TargetQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (org, id) = (caller.org_id, path.into_inner());
    let (limit, offset) = (page.limit()?, page.offset()?);
    db::campaigns::get(&state.pool, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let (status, contact) = (query.status, query.contact_id);
    let items =
        db::targets::list(&state.pool, org, id, status, contact, limit.into(), offset).await?;
    let total = db::targets::count(&state.pool, org, id, status, contact).await?;
    Ok(HttpResponse::Ok().json(Page::at_offset(items, total, offset)))
}

#[utoipa::path(patch, operation_id = "updateTarget", summary = "Pause or resume a lead", path = "/campaigns/{campaign_id}/targets/{contact_id}", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"), ("contact_id" = uuid::Uuid, Path, description = "The enrolled contact's id")),
    request_body = TargetChange,
    description = "Sets one lead's status to `paused` (nothing more is sent to it, queued messages included, until it is resumed) or `active` (resume). A lead that has completed the campaign cannot be changed.",
    responses(
        (status = 200, description = "The target, paused or resumed", body = Target),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign or target", body = ErrorBody),
        (status = 409, description = "A completed target cannot be changed", body = ErrorBody),
        (status = 422, description = "Only active and paused can be set", body = ErrorBody),
    ))]
pub async fn update_target(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CampaignId, ContactId)>,
    body: Json<TargetChange>,
) -> ApiResult<HttpResponse> {
    let (id, contact) = path.into_inner();
    let to = body.0.status;
    if to == TargetStatus::Completed {
        return Err(ApiError::field(
            "status",
            "set active (resume) or paused; targets complete by themselves",
        ));
    }
    let current = db::targets::get(&state.pool, caller.org_id, id, contact)
        .await?
        .ok_or(ApiError::NotFound)?;
    if current.status == TargetStatus::Completed {
        return Err(ApiError::Conflict(
            "This lead has completed the campaign.".into(),
        ));
    }
    db::targets::set_status(&state.pool, caller.org_id, id, contact, to).await?;
    Ok(HttpResponse::Ok().json(Target {
        status: to,
        ..current
    }))
}

#[utoipa::path(delete, operation_id = "removeTarget", summary = "Remove a lead from a campaign", path = "/campaigns/{campaign_id}/targets/{contact_id}", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id"), ("contact_id" = uuid::Uuid, Path, description = "The enrolled contact's id")),
    description = "Removes the lead from the campaign together with its prepared messages; the contact stays.",
    responses(
        (status = 204, description = "Removed from the campaign"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign or target", body = ErrorBody),
    ))]
pub async fn remove_target(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CampaignId, ContactId)>,
) -> ApiResult<HttpResponse> {
    let (id, contact) = path.into_inner();
    if !db::targets::delete(&state.pool, caller.org_id, id, contact).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn tag_problems_of(
    conn: &mut PgConnection,
    org: OrgId,
    id: CampaignId,
    steps: &[Step],
) -> ApiResult<Vec<TagProblem>> {
    let leads = db::contacts::in_campaign(&mut *conn, org, id).await?;
    let org_name = db::orgs::get(&mut *conn, org)
        .await?
        .map(|o| o.public_name.unwrap_or(o.name))
        .unwrap_or_default();
    Ok(parse::tag_problems(steps, &leads, &org_name))
}

#[utoipa::path(get, operation_id = "campaignProblems", summary = "List a campaign's unresolved merge tags", path = "/campaigns/{campaign_id}/problems", tag = "campaigns", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    description = "Merge tags that resolve to nothing (no value, no fallback) for some enrolled leads, with how many and who. Launching is refused while there are any.",
    responses(
        (status = 200, description = "The problems; empty when every message renders for every enrolled lead", body = Vec<TagProblem>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
pub async fn problems(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
) -> ApiResult<HttpResponse> {
    let (org, id) = (caller.org_id, path.into_inner());
    let mut conn = state.pool.acquire().await?;
    db::campaigns::get(&mut *conn, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let steps = db::campaigns::steps(&mut *conn, org, id).await?;
    Ok(HttpResponse::Ok().json(tag_problems_of(&mut conn, org, id, &steps).await?))
}

//! The templates library: system templates (read-only) and the organization's own; start a
//! campaign from one, or save a campaign as one.

use crate::routes::Routes;
use crate::{
    db,
    domain::{campaign as campaign_domain, templates as domain},
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    CampaignDetail, CampaignId, CampaignInput, CampaignTemplate, Channel, ErrorBody, OrgId,
    SaveAsTemplate, TemplateId, TemplateInput, TemplateStep, UseTemplate,
};
use serde::Deserialize;

pub fn scope() -> Routes {
    Routes::new("/templates")
        .get("", list)
        .post("", create)
        .get("/{template_id}", get)
        .patch("/{template_id}", update)
        .delete("/{template_id}", delete)
        .post("/{template_id}/use", use_template)
}

/// Every template the organization can see, with its usage.
async fn all(state: &AppState, org: OrgId) -> ApiResult<Vec<CampaignTemplate>> {
    let uses = db::templates::uses(&state.pool, org).await?;
    let mut out: Vec<CampaignTemplate> = domain::system()
        .into_iter()
        .map(|t| CampaignTemplate {
            usage_count: uses.get(&t.id).copied().unwrap_or(0),
            ..t
        })
        .collect();
    out.extend(db::templates::list(&state.pool, org).await?);
    Ok(out)
}

async fn find(state: &AppState, org: OrgId, id: TemplateId) -> ApiResult<CampaignTemplate> {
    all(state, org)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(ApiError::NotFound)
}

fn read_only() -> ApiError {
    ApiError::Conflict("System templates are read-only: start a campaign from it, then save that as your own template.".into())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TemplateQuery {
    /// Only this industry (as listed, any case).
    industry: Option<String>,
    /// Only this use case (any case).
    use_case: Option<String>,
    /// Only templates with a step on this channel.
    channel: Option<Channel>,
}

#[utoipa::path(get, operation_id = "listTemplates", summary = "List campaign templates", path = "/templates", tag = "templates", security(("bearer" = [])),
    params(TemplateQuery),
    description = "System templates, then the organization's own, each with how often it was used; optionally only one industry, use case or channel.",
    responses(
        (status = 200, description = "System templates, then the organization's own, with usage counts", body = Vec<CampaignTemplate>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Unknown channel", body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<TemplateQuery>,
) -> ApiResult<HttpResponse> {
    let same = |a: &str, b: &Option<String>| {
        b.as_ref()
            .is_none_or(|b| b.trim().is_empty() || a.eq_ignore_ascii_case(b.trim()))
    };
    let out: Vec<CampaignTemplate> = all(&state, caller.org_id)
        .await?
        .into_iter()
        .filter(|t| same(&t.industry, &query.industry) && same(&t.use_case, &query.use_case))
        .filter(|t| query.channel.is_none_or(|c| t.channels.contains(&c)))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(get, operation_id = "getTemplate", summary = "Get a campaign template", path = "/templates/{template_id}", tag = "templates", security(("bearer" = [])),
    params(("template_id" = uuid::Uuid, Path, description = "The template's id")),
    description = "A system template or one of the organization's own.",
    responses(
        (status = 200, description = "The template", body = CampaignTemplate),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such template", body = ErrorBody),
    ))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<TemplateId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(find(&state, caller.org_id, path.into_inner()).await?))
}

#[utoipa::path(post, operation_id = "createTemplate", summary = "Create a campaign template", path = "/templates", tag = "templates", security(("bearer" = [])),
    request_body = TemplateInput,
    description = "Saves an organization template: a brief and steps, checked exactly like campaign steps (a bad merge tag is refused with its line and column).",
    responses(
        (status = 201, description = "Created", body = CampaignTemplate),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields or step templates (with line and column)", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<TemplateInput>,
) -> ApiResult<HttpResponse> {
    let t = domain::template(None, &body.0)?;
    db::templates::save(&state.pool, caller.org_id, &t).await?;
    Ok(HttpResponse::Created().json(t))
}

#[utoipa::path(patch, operation_id = "updateTemplate", summary = "Update a campaign template", path = "/templates/{template_id}", tag = "templates", security(("bearer" = [])),
    params(("template_id" = uuid::Uuid, Path, description = "The template's id")),
    request_body = TemplateInput,
    description = "Changes the fields the body names; absent fields stay, and steps are checked like campaign steps. System templates are read-only: start a campaign from one and save that as an organization template.",
    responses(
        (status = 200, description = "Saved", body = CampaignTemplate),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such template", body = ErrorBody),
        (status = 409, description = "System templates are read-only", body = ErrorBody),
        (status = 422, description = "Invalid fields or step templates", body = ErrorBody),
    ))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<TemplateId>,
    body: Json<TemplateInput>,
) -> ApiResult<HttpResponse> {
    let current = find(&state, caller.org_id, path.into_inner()).await?;
    if current.system {
        return Err(read_only());
    }
    let t = domain::template(Some(&current), &body.0)?;
    db::templates::save(&state.pool, caller.org_id, &t).await?;
    Ok(HttpResponse::Ok().json(t))
}

#[utoipa::path(delete, operation_id = "deleteTemplate", summary = "Delete a campaign template", path = "/templates/{template_id}", tag = "templates", security(("bearer" = [])),
    params(("template_id" = uuid::Uuid, Path, description = "The template's id")),
    description = "Deletes one of the organization's templates; campaigns started from it stay. System templates are read-only.",
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such template", body = ErrorBody),
        (status = 409, description = "System templates are read-only", body = ErrorBody),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<TemplateId>,
) -> ApiResult<HttpResponse> {
    let current = find(&state, caller.org_id, path.into_inner()).await?;
    if current.system {
        return Err(read_only());
    }
    db::templates::delete(&state.pool, caller.org_id, current.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "useTemplate", summary = "Start a campaign from a template", path = "/templates/{template_id}/use", tag = "templates", security(("bearer" = [])),
    params(("template_id" = uuid::Uuid, Path, description = "The template's id")),
    request_body = UseTemplate,
    description = "Starts a draft campaign with the template's brief and steps, and counts the use.",
    responses(
        (status = 201, description = "The new campaign", body = CampaignDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such template", body = ErrorBody),
        (status = 422, description = "Invalid name", body = ErrorBody),
    ))]
pub async fn use_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<TemplateId>,
    body: Json<UseTemplate>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let t = find(&state, org, path.into_inner()).await?;
    let tz = db::orgs::get(&state.pool, org)
        .await?
        .ok_or(ApiError::NotFound)?
        .timezone;
    let input = CampaignInput {
        name: Some(body.0.name.unwrap_or_else(|| t.name.clone())),
        description: Some(t.description.clone()),
        icp: Some(t.icp.clone()),
        offer: Some(t.offer.clone()),
        goal: Some(t.goal.clone()),
        ..Default::default()
    };
    let fields = campaign_domain::campaign_fields(None, &input, &tz)?;
    let id = CampaignId::new();
    let created_by = caller.person();
    let mut tx = state.pool.begin().await?;
    db::campaigns::insert(&mut *tx, org, id, &fields, created_by).await?;
    for (i, s) in t.steps.iter().enumerate() {
        let step = campaign_domain::step(None, &domain::step_input(s), i as i32 + 1)?;
        db::campaigns::save_step(&mut tx, org, id, &step).await?;
    }
    db::templates::count_use(&mut *tx, org, t.id).await?;
    let campaign = db::campaigns::get(&mut *tx, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let steps = db::campaigns::steps(&mut *tx, org, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(CampaignDetail { campaign, steps }))
}

#[utoipa::path(post, operation_id = "saveCampaignAsTemplate", summary = "Save a campaign as a template", path = "/campaigns/{campaign_id}/save-as-template", tag = "templates", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    request_body = SaveAsTemplate,
    description = "Saves the campaign's brief and steps (main variants) as an organization template.",
    responses(
        (status = 201, description = "The new template", body = CampaignTemplate),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "Invalid name", body = ErrorBody),
    ))]
pub async fn save_as_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    body: Json<SaveAsTemplate>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let id = path.into_inner();
    let c = db::campaigns::get(&state.pool, org, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let steps = db::campaigns::steps(&state.pool, org, id).await?;
    let input = TemplateInput {
        name: Some(body.0.name.unwrap_or_else(|| c.name.clone())),
        description: Some(c.description.chars().take(500).collect()),
        industry: body.0.industry,
        use_case: body.0.use_case,
        offer: Some(c.offer),
        icp: Some(c.icp),
        goal: Some(c.goal),
        steps: Some(
            steps
                .iter()
                .map(|s| TemplateStep {
                    channel: s.channel,
                    delay_minutes: s.delay_minutes,
                    subject: s.subject.clone(),
                    body: s.body.clone(),
                })
                .collect(),
        ),
    };
    let t = domain::template(None, &input)?;
    db::templates::save(&state.pool, org, &t).await?;
    Ok(HttpResponse::Created().json(t))
}

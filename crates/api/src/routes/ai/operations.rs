//! The AI operations: write a step or a lead's message, improve a text, suggest replies, classify a reply.

use crate::{
    ai::{self, Output},
    db::{self},
    domain::replies as rules,
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::ai::*;
use aura_types::template::{MergeValues, Sender};
use aura_types::{ErrorBody, FieldErrors};

/// Who messages are from: the calling user (or, for an API key, the organization).
async fn sender(state: &AppState, caller: &Caller) -> ApiResult<Sender> {
    Ok(ai::sender(&state.pool, caller.org_id, caller.person()).await?)
}

/// A contact's merge values (with the calling sender's), for a model writing to them.
pub(crate) async fn lead_values(
    state: &AppState,
    caller: &Caller,
    id: Option<aura_types::ContactId>,
) -> ApiResult<Option<MergeValues>> {
    let Some(id) = id else { return Ok(None) };
    let mut conn = state.pool.acquire().await?;
    let contact = db::contacts::get(&mut conn, caller.org_id, id)
        .await?
        .ok_or_else(|| ApiError::field("contact_id", "no contact with this id"))?;
    Ok(Some(MergeValues::for_contact(
        &contact,
        &sender(state, caller).await?,
    )))
}

fn check_text(e: &mut FieldErrors, field: &str, text: &str, max: usize) {
    if text.trim().is_empty() {
        e.add(field, "is required");
    } else if text.chars().count() > max {
        e.add(field, format!("must be at most {max} characters"));
    }
}

fn brief_problems(body: &GenerateRequest) -> Result<(), ApiError> {
    let mut e = FieldErrors::new();
    for (field, text) in [
        ("campaign.name", &body.campaign.name),
        ("campaign.offer", &body.campaign.offer),
        ("campaign.icp", &body.campaign.icp),
        ("campaign.goal", &body.campaign.goal),
        ("step.instructions", &body.step.instructions),
    ] {
        if text.chars().count() > 4000 {
            e.add(field, "must be at most 4000 characters");
        }
    }
    if body.step.number == 0 || body.step.number > 50 {
        e.add("step.number", "must be between 1 and 50");
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(e.into())
    }
}

/// `validate::check` answers each operation with its own kind of output; anything else is a bug
/// reported as the provider's.
pub(crate) fn wrong_kind() -> ApiError {
    ApiError::Upstream("the provider answered with the wrong kind of result".into())
}

fn draft(output: Output) -> ApiResult<MessageDraft> {
    match output {
        Output::Draft(d) => Ok(d),
        _ => Err(wrong_kind()),
    }
}

async fn generate(
    state: &AppState,
    caller: &Caller,
    body: GenerateRequest,
    op: AiOperation,
) -> ApiResult<HttpResponse> {
    brief_problems(&body)?;
    let for_lead = op == AiOperation::GenerateMessageForLead;
    if for_lead && body.contact_id.is_none() {
        return Err(ApiError::field(
            "contact_id",
            "is required: the lead to write for",
        ));
    }
    let lead = lead_values(state, caller, body.contact_id).await?;
    let job = ai::generation_job(
        caller.org_id,
        op,
        body.persona_id,
        body.campaign,
        body.step,
        lead,
    );
    let (output, provenance) = ai::run(&state.pool, &state.ai, job).await?;
    Ok(HttpResponse::Ok().json(DraftResult {
        draft: draft(output)?,
        provenance,
    }))
}

#[utoipa::path(post, operation_id = "generateStepTemplate", summary = "Write a campaign step template with AI", path = "/ai/generate/step-template", tag = "ai", security(("bearer" = [])),
    request_body = GenerateRequest,
    description = "Writes a campaign step as a template with merge tags (and fallbacks), as \"Generate with AI\" in the campaign builder does. `contact_id`, when given, is an example lead for context.",
    responses(
        (status = 200, description = "The template and who wrote it", body = DraftResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown persona or contact", body = ErrorBody),
        (status = 502, description = "The provider failed (after retries and one corrective retry) and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn generate_step_template(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<GenerateRequest>,
) -> ApiResult<HttpResponse> {
    generate(&state, &caller, body.0, AiOperation::GenerateStepTemplate).await
}

#[utoipa::path(post, operation_id = "generateMessageForLead", summary = "Write a personalised message for one lead", path = "/ai/generate/message", tag = "ai", security(("bearer" = [])),
    request_body = GenerateRequest,
    description = "Writes a campaign step for one lead (`contact_id` required), fully personalised: any merge tag in the answer is filled in and must resolve.",
    responses(
        (status = 200, description = "The message and who wrote it", body = DraftResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown persona or contact", body = ErrorBody),
        (status = 502, description = "The provider failed and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn generate_message(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<GenerateRequest>,
) -> ApiResult<HttpResponse> {
    generate(&state, &caller, body.0, AiOperation::GenerateMessageForLead).await
}

#[utoipa::path(post, operation_id = "improveMessage", summary = "Improve a message with AI", path = "/ai/improve", tag = "ai", security(("bearer" = [])),
    request_body = ImproveRequest,
    description = "Rewrites a message toward a `goal` (shorter, more casual, more compliant, higher reply rate), keeping its meaning, merge tags and facts. It is written as the given persona (the first persona when absent) by its provider or the organization's default, and recorded in the usage. When the provider fails, the built-in writer answers if the organization allows the fallback; otherwise 502.",
    responses(
        (status = 200, description = "The improved message", body = DraftResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid fields or unknown persona", body = ErrorBody),
        (status = 502, description = "The provider failed and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn improve(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ImproveRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut e = FieldErrors::new();
    check_text(&mut e, "text", &body.text, 20_000);
    if body
        .subject
        .as_ref()
        .is_some_and(|s| s.chars().count() > 500)
    {
        e.add("subject", "must be at most 500 characters");
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let job = ai::improve_job(caller.org_id, body);
    let (output, provenance) = ai::run(&state.pool, &state.ai, job).await?;
    Ok(HttpResponse::Ok().json(DraftResult {
        draft: draft(output)?,
        provenance,
    }))
}

#[utoipa::path(post, operation_id = "suggestReplies", summary = "Suggest replies to a conversation", path = "/ai/suggest-replies", tag = "ai", security(("bearer" = [])),
    request_body = SuggestRepliesRequest,
    description = "Suggests up to 3 replies to send next in a conversation (oldest message first, 1 to 50 messages), best first, written as the given persona (the first persona when absent). The lead's last message picks the knowledge-base articles given as context; `contact_id`, when given, adds the lead's details.",
    responses(
        (status = 200, description = "Up to 3 replies, best first", body = RepliesResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Empty conversation, unknown persona or contact", body = ErrorBody),
        (status = 502, description = "The provider failed and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn suggest_replies(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<SuggestRepliesRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut e = FieldErrors::new();
    if body.conversation.is_empty() {
        e.add("conversation", "must contain at least one message");
    } else if body.conversation.len() > 50 {
        e.add("conversation", "must contain at most 50 messages");
    }
    for (i, m) in body.conversation.iter().enumerate() {
        check_text(&mut e, &format!("conversation[{i}].text"), &m.text, 10_000);
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let lead = lead_values(&state, &caller, body.contact_id).await?;
    let job = ai::replies_job(caller.org_id, body, lead);
    let (output, provenance) = ai::run(&state.pool, &state.ai, job).await?;
    match output {
        Output::Replies(replies) => Ok(HttpResponse::Ok().json(RepliesResult {
            replies,
            provenance,
        })),
        _ => Err(wrong_kind()),
    }
}

#[utoipa::path(post, operation_id = "classifyReply", summary = "Classify a reply", path = "/ai/classify", tag = "ai", security(("bearer" = [])),
    request_body = ClassifyRequest,
    description = "Labels a reply. Rules decide first, without a model, where they are certain: bounce reports, \
auto-replies (Auto-Submitted and similar headers, out-of-office wording) and unsubscribe requests; `provenance` is then null.",
    responses(
        (status = 200, description = "The label, confidence and reason", body = ClassifyResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Empty text", body = ErrorBody),
        (status = 502, description = "The provider failed and no fallback is enabled", body = ErrorBody),
    ))]
pub async fn classify(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ClassifyRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut e = FieldErrors::new();
    check_text(&mut e, "text", &body.text, 50_000);
    if !e.is_empty() {
        return Err(e.into());
    }
    if let Some(c) = rules::classify(
        &body.text,
        body.subject.as_deref(),
        body.from.as_deref(),
        &body.headers,
    ) {
        return Ok(HttpResponse::Ok().json(ClassifyResult {
            classification: c,
            provenance: None,
        }));
    }
    let job = ai::classify_job(caller.org_id, body);
    let (output, provenance) = ai::run(&state.pool, &state.ai, job).await?;
    match output {
        Output::Classification(c) => Ok(HttpResponse::Ok().json(ClassifyResult {
            classification: c,
            provenance: Some(provenance),
        })),
        _ => Err(wrong_kind()),
    }
}

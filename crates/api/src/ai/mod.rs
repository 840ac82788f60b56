//! The AI operations, as the API and later the campaign engine call them: choose the persona and
//! its provider, add knowledge-base context, call within the organization's concurrency limit,
//! validate the answer (one corrective retry), fall back to the built-in writer only when the
//! organization asked for it, and record every call.

pub mod validate;

use crate::crypto::Sealer;
use crate::db;
use crate::providers::ai::anthropic::{Anthropic, DEFAULT_VERSION};
use crate::providers::ai::custom::Custom;
use crate::providers::ai::net::AiHttp;
use crate::providers::ai::openai::OpenAi;
use crate::providers::ai::{AiProvider, Answer, Builtin, ProviderError};
use aura_types::ai::{
    AiOperation, AiOutcome, AiTask, Persona, Provenance, ProviderKind, TaskPersona, BUILTIN_WRITER,
};
use aura_types::ai::{CampaignBrief, StepBrief};
use aura_types::template::Sender;
use aura_types::template::{MergeValues, LEAD_TAGS, SENDER_TAGS};
use aura_types::{Channel, OrgId, PersonaId, UserId};
use secrecy::SecretString;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Semaphore;
use url::Url;
pub use validate::Output;

/// What can stop an AI operation. Routes map it to their answers (`routes::ai`); the preparation
/// worker writes it on the message it could not write.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// The persona asked for is not one of the organization's.
    #[error("no persona with this id")]
    UnknownPersona,
    /// The organization is gone (deleted while the operation ran).
    #[error("the organization no longer exists")]
    UnknownOrganization,
    /// The provider failed, and the built-in writer too where it was the fallback.
    #[error("{0}")]
    Provider(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

pub type AiResult<T> = Result<T, AiError>;

/// Process-wide AI machinery: the HTTP client, the sealer for keys, per-organization limits.
pub struct AiRuntime {
    pub http: AiHttp,
    pub sealer: Arc<Sealer>,
    per_org: usize,
    limits: Mutex<HashMap<OrgId, Arc<Semaphore>>>,
}

impl AiRuntime {
    /// Calls to external providers one organization may have in flight.
    pub fn concurrency(&self) -> usize {
        self.per_org
    }

    pub fn new(http: AiHttp, sealer: Arc<Sealer>, per_org: usize) -> Self {
        Self {
            http,
            sealer,
            per_org: per_org.max(1),
            limits: Mutex::new(HashMap::new()),
        }
    }

    fn limit(&self, org: OrgId) -> Arc<Semaphore> {
        let mut map = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(org)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_org)))
            .clone()
    }

    /// The provider a stored configuration describes, with the persona's overrides.
    pub fn provider(
        &self,
        row: &db::ai::ProviderRow,
        model: Option<&str>,
        temperature: Option<f32>,
    ) -> Result<Box<dyn AiProvider>, ProviderError> {
        let secret = match (&row.secret_key_id, &row.secret_sealed) {
            (Some(id), Some(bytes)) => Some(SecretString::from(
                self.sealer
                    .open(id, bytes)
                    .map_err(|e| ProviderError::Secret(e.to_string()))?,
            )),
            _ => None,
        };
        let base_url =
            Url::parse(&row.base_url).map_err(|e| ProviderError::Refused(e.to_string()))?;
        let model = model
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(&row.model)
            .to_string();
        let temperature = temperature.or(row.temperature);
        let http = self.http.clone();
        Ok(match row.kind {
            ProviderKind::Builtin => Box::new(Builtin),
            ProviderKind::Openai => Box::new(OpenAi {
                http,
                base_url,
                model,
                key: secret,
                temperature,
            }),
            ProviderKind::Anthropic => Box::new(Anthropic {
                http,
                base_url,
                model,
                key: secret,
                version: row
                    .api_version
                    .clone()
                    .unwrap_or_else(|| DEFAULT_VERSION.into()),
                temperature,
            }),
            ProviderKind::Custom => Box::new(Custom {
                http,
                url: base_url,
                model,
                secret,
            }),
        })
    }
}

/// The tags a template may use, for providers to be told.
pub fn merge_tags() -> Vec<String> {
    LEAD_TAGS
        .iter()
        .chain(SENDER_TAGS)
        .map(|t| t.to_string())
        .chain(std::iter::once("custom.<field>".to_string()))
        .collect()
}

/// What an operation works on, beyond the task itself.
pub struct Job {
    pub org: OrgId,
    pub persona_id: Option<PersonaId>,
    pub task: AiTask,
    pub channel: Channel,
    /// The lead's values, for a personalised message (its tags are filled in and must resolve).
    pub lead: Option<MergeValues>,
    /// Text to search the knowledge base with; none: no knowledge.
    pub knowledge_query: Option<String>,
}

/// The persona for a request: the one named, or the organization's first.
pub async fn persona(
    pool: &PgPool,
    org: OrgId,
    id: Option<PersonaId>,
) -> AiResult<Option<Persona>> {
    match id {
        Some(id) => match db::ai::get_persona(pool, org, id).await? {
            Some(p) => Ok(Some(p)),
            None => Err(AiError::UnknownPersona),
        },
        None => Ok(db::ai::list_personas(pool, org).await?.into_iter().next()),
    }
}

pub async fn run(pool: &PgPool, rt: &AiRuntime, mut job: Job) -> AiResult<(Output, Provenance)> {
    let started = Instant::now();
    let persona = persona(pool, job.org, job.persona_id).await?;
    let settings = db::ai::settings(pool, job.org).await?;
    let provider_id = persona
        .as_ref()
        .and_then(|p| p.provider_id)
        .or(settings.default_provider_id);
    let row = match provider_id {
        Some(id) => db::ai::get_provider(pool, job.org, id).await?,
        None => None,
    };
    if let Some(p) = &persona {
        job.task.persona = TaskPersona {
            name: p.name.clone(),
            style: p.style,
            system_prompt: p.system_prompt.clone(),
        };
    }
    job.task.merge_tags = merge_tags();
    if let Some(q) = &job.knowledge_query {
        job.task.knowledge = db::ai::relevant_articles(pool, job.org, q, 3).await?;
    }
    let (provider_name, provider): (String, Box<dyn AiProvider>) = match &row {
        None => (BUILTIN_WRITER.to_string(), Box::new(Builtin)),
        Some(r) => match rt.provider(
            r,
            persona.as_ref().and_then(|p| p.model.as_deref()),
            persona.as_ref().and_then(|p| p.temperature),
        ) {
            Ok(p) => (r.name.clone(), p),
            Err(e) => {
                return finish_failed(
                    pool,
                    &job,
                    persona.as_ref(),
                    settings.fallback_to_builtin,
                    (r.kind, r.name.clone(), r.model.clone()),
                    e,
                    0,
                    started,
                )
                .await
            }
        },
    };
    let kind = provider.kind();
    let model = provider.model().to_string();

    let permit = if kind == ProviderKind::Builtin {
        None
    } else {
        rt.limit(job.org).acquire_owned().await.ok()
    };
    let outcome = attempt(provider.as_ref(), &mut job).await;
    drop(permit);
    match outcome {
        Ok((output, answer, attempts)) => {
            let provenance = provenance(
                &job,
                persona.as_ref(),
                kind,
                &provider_name,
                &answer,
                attempts,
                false,
                started,
            );
            record(pool, &job, &provenance, AiOutcome::Ok, None).await?;
            Ok((output, provenance))
        }
        Err((e, attempts)) => {
            finish_failed(
                pool,
                &job,
                persona.as_ref(),
                settings.fallback_to_builtin,
                (kind, provider_name, model),
                e,
                attempts,
                started,
            )
            .await
        }
    }
}

/// Calls the provider; an unusable answer gets one corrective retry.
async fn attempt(
    provider: &dyn AiProvider,
    job: &mut Job,
) -> Result<(Output, Answer, i16), (ProviderError, i16)> {
    let mut attempts = 0i16;
    let mut tokens = (0, 0);
    for round in 0..2 {
        let problem = match provider.run(&job.task).await {
            Ok(mut answer) => {
                attempts += answer.attempts;
                answer.tokens_in += tokens.0;
                answer.tokens_out += tokens.1;
                let checked = match &answer.unusable {
                    Some(why) => Err(why.clone()),
                    None => validate::check(
                        &job.task,
                        job.channel,
                        answer.result.clone(),
                        job.lead.as_ref(),
                    ),
                };
                match checked {
                    Ok(output) => {
                        return Ok((output, answer, attempts));
                    }
                    Err(problem) => {
                        tokens = (answer.tokens_in, answer.tokens_out);
                        problem
                    }
                }
            }
            Err(ProviderError::Malformed(problem)) => {
                attempts += 1;
                problem
            }
            Err(e) => {
                attempts += e.attempts();
                return Err((e, attempts));
            }
        };
        if round == 1 {
            return Err((ProviderError::Malformed(problem), attempts));
        }
        tracing::info!(%problem, "AI answer rejected; one corrective retry");
        job.task.correction = Some(problem);
    }
    Err((ProviderError::Malformed("no answer".into()), attempts))
}

#[allow(clippy::too_many_arguments)]
async fn finish_failed(
    pool: &PgPool,
    job: &Job,
    persona: Option<&Persona>,
    fallback: bool,
    (kind, name, model): (ProviderKind, String, String),
    error: ProviderError,
    attempts: i16,
    started: Instant,
) -> AiResult<(Output, Provenance)> {
    let message = error.to_string();
    tracing::warn!(provider = %name, %model, error = %message, "AI call failed");
    if fallback && kind != ProviderKind::Builtin {
        let mut task = job.task.clone();
        task.correction = None;
        let answer = crate::providers::ai::builtin::write(&task)
            .map_err(|e| AiError::Provider(e.to_string()))?;
        let output = validate::check(&task, job.channel, answer.result.clone(), job.lead.as_ref())
            .map_err(|p| {
                AiError::Provider(format!(
                    "{name} failed ({message}) and the built-in writer could not help: {p}"
                ))
            })?;
        let provenance = provenance(
            job,
            persona,
            ProviderKind::Builtin,
            BUILTIN_WRITER,
            &answer,
            attempts,
            true,
            started,
        );
        record(pool, job, &provenance, AiOutcome::Fallback, Some(&message)).await?;
        return Ok((output, provenance));
    }
    let failed = Provenance {
        provider_kind: kind,
        provider_name: name.clone(),
        model,
        persona_id: persona.map(|p| p.id),
        persona_name: persona.map(|p| p.name.clone()),
        latency_ms: started.elapsed().as_millis() as i32,
        attempts,
        ..Default::default()
    };
    record(pool, job, &failed, AiOutcome::Error, Some(&message)).await?;
    Err(AiError::Provider(format!("{name}: {message}")))
}

#[allow(clippy::too_many_arguments)]
fn provenance(
    job: &Job,
    persona: Option<&Persona>,
    kind: ProviderKind,
    name: &str,
    answer: &Answer,
    attempts: i16,
    fell_back: bool,
    started: Instant,
) -> Provenance {
    let label = if kind == ProviderKind::Builtin {
        BUILTIN_WRITER.to_string()
    } else {
        format!("{name} · {}", answer.model)
    };
    Provenance {
        provider_kind: kind,
        provider_name: name.to_string(),
        model: answer.model.clone(),
        label,
        persona_id: persona.map(|p| p.id),
        persona_name: persona.map(|p| p.name.clone()),
        tokens_in: answer.tokens_in,
        tokens_out: answer.tokens_out,
        latency_ms: started.elapsed().as_millis() as i32,
        attempts: attempts.max(1),
        fell_back,
        knowledge: job.task.knowledge.iter().map(|k| k.title.clone()).collect(),
    }
}

async fn record(
    pool: &PgPool,
    job: &Job,
    p: &Provenance,
    outcome: AiOutcome,
    error: Option<&str>,
) -> AiResult<()> {
    db::ai::record_call(
        pool,
        job.org,
        &db::ai::CallRecord {
            operation: job.task.operation,
            provider_kind: p.provider_kind,
            provider_name: &p.provider_name,
            model: &p.model,
            persona_id: p.persona_id,
            persona_name: p.persona_name.as_deref(),
            tokens_in: p.tokens_in,
            tokens_out: p.tokens_out,
            latency_ms: p.latency_ms,
            attempts: p.attempts,
            outcome,
            error,
        },
    )
    .await?;
    Ok(())
}

/// Who a message is from, for `{{sender.*}}` and `{{org.*}}`: the person (or, without one, the
/// organization under its public name).
pub async fn sender(pool: &PgPool, org: OrgId, person: Option<UserId>) -> AiResult<Sender> {
    let org = db::orgs::get(pool, org)
        .await?
        .ok_or(AiError::UnknownOrganization)?;
    let user = match person {
        Some(id) => db::users::get(pool, id).await?,
        None => None,
    };
    let org_name = org.public_name.unwrap_or(org.name);
    Ok(Sender {
        name: user
            .as_ref()
            .map_or_else(|| org_name.clone(), |u| u.name.clone()),
        email: user.map(|u| u.email).unwrap_or_default(),
        org_name,
    })
}

/// Rewriting a text toward a goal (`ImproveMessage`), keeping its meaning, tags and facts.
pub fn improve_job(org: OrgId, req: aura_types::ai::ImproveRequest) -> Job {
    let mut task = task(
        AiOperation::ImproveMessage,
        format!(
            "Rewrite this {} message: {}. Keep its meaning, merge tags and facts.",
            req.channel.label(),
            req.goal.label().to_lowercase()
        ),
    );
    task.step = Some(StepBrief {
        channel: req.channel,
        number: 1,
        instructions: String::new(),
    });
    task.text = Some(req.text);
    task.subject = req.subject;
    task.goal = Some(req.goal);
    Job {
        org,
        persona_id: req.persona_id,
        task,
        channel: req.channel,
        lead: None,
        knowledge_query: None,
    }
}

/// Replies we could send next in a conversation (`SuggestReplies`), with the lead's values when
/// known; the knowledge base is searched with the lead's last words.
pub fn replies_job(
    org: OrgId,
    req: aura_types::ai::SuggestRepliesRequest,
    lead: Option<MergeValues>,
) -> Job {
    let query = req
        .conversation
        .iter()
        .rev()
        .find(|m| m.direction == aura_types::ai::Direction::Inbound)
        .map(|m| m.text.clone());
    let mut task = task(
        AiOperation::SuggestReplies,
        format!(
            "Suggest up to 3 replies we could send next on {}, best first.",
            req.channel.label()
        ),
    );
    task.step = Some(StepBrief {
        channel: req.channel,
        number: 1,
        instructions: String::new(),
    });
    task.conversation = req.conversation;
    task.lead = lead.as_ref().map(|l| l.0.clone()).unwrap_or_default();
    Job {
        org,
        persona_id: req.persona_id,
        task,
        channel: req.channel,
        lead,
        knowledge_query: query,
    }
}

/// Classifying a reply the rules could not decide (`ClassifyReply`): its own words only, without
/// the quoted thread.
pub fn classify_job(org: OrgId, req: aura_types::ai::ClassifyRequest) -> Job {
    let mut task = task(
        AiOperation::ClassifyReply,
        "Classify this reply to our outreach.",
    );
    task.text = Some(crate::domain::replies::own_words(&req.text).to_string());
    task.subject = req.subject;
    task.original_outreach = req.original_outreach;
    Job {
        org,
        persona_id: None,
        task,
        channel: Channel::Email,
        lead: None,
        knowledge_query: None,
    }
}

/// A campaign step to write: as a template (`GenerateStepTemplate`; `lead`, if any, is an
/// example) or for one lead (`GenerateMessageForLead`; its tags are filled in and must resolve).
pub fn generation_job(
    org: OrgId,
    op: AiOperation,
    persona_id: Option<PersonaId>,
    campaign: CampaignBrief,
    step: StepBrief,
    lead: Option<MergeValues>,
) -> Job {
    let for_lead = op == AiOperation::GenerateMessageForLead;
    let channel = step.channel;
    let mut task = task(
        op,
        match (op, channel) {
            (AiOperation::GenerateStepTemplate, Channel::Email) => "Write this campaign step's email as a reusable template: a subject and a body.",
            (AiOperation::GenerateStepTemplate, _) => "Write this campaign step's message as a reusable template (no subject; under 300 characters).",
            (_, Channel::Email) => "Write this campaign step's email for this one lead: a subject and a body.",
            _ => "Write this campaign step's message for this one lead (no subject; under 300 characters).",
        },
    );
    // Knowledge is searched with the brief, the step and what the lead does.
    let mut words = vec![
        campaign.name.as_str(),
        &campaign.offer,
        &campaign.icp,
        &campaign.goal,
        &step.instructions,
    ];
    if let Some(l) = &lead {
        words.extend(
            ["company", "job_title", "city"]
                .iter()
                .filter_map(|k| l.get(k)),
        );
    }
    let query = words.join(" ");
    task.use_merge_tags = !for_lead;
    task.lead = lead.as_ref().map(|l| l.0.clone()).unwrap_or_default();
    task.campaign = Some(campaign);
    task.step = Some(step);
    Job {
        org,
        persona_id,
        task,
        channel,
        lead: if for_lead { lead } else { None },
        knowledge_query: Some(query),
    }
}

/// A task with nothing filled in but the operation and instructions.
pub fn task(operation: AiOperation, instructions: impl Into<String>) -> AiTask {
    AiTask {
        operation,
        persona: TaskPersona {
            name: "Default".into(),
            style: Default::default(),
            system_prompt: "You write clear, friendly, honest outreach messages.".into(),
        },
        instructions: instructions.into(),
        campaign: None,
        step: None,
        lead: Default::default(),
        text: None,
        subject: None,
        goal: None,
        conversation: Vec::new(),
        original_outreach: None,
        knowledge: Vec::new(),
        use_merge_tags: false,
        merge_tags: Vec::new(),
        correction: None,
    }
}

//! "Prepare messages": writes, for every enrolled lead and every step not yet sent, the message
//! the lead will get — rendered from the step's template (the variant chosen by weight), or
//! written for the lead by AI where the step asks for it — in batches, each one transaction-free
//! bulk write plus a progress update. A run resumes where it stopped: what is left is always
//! "the pairs that still need a message".

use super::{Outcome, Wakeup};
use crate::ai::{self, AiRuntime};
use crate::db;
use crate::db::messages::{ClaimedPreparation, NewMessage};
use crate::domain::message::{self, Written};
use anyhow::Context;
use aura_types::ai::{AiOperation, CampaignBrief, StepBrief};
use aura_types::template::{MergeValues, Sender};
use aura_types::{
    ApprovalMode, Campaign, Contact, ContactId, MessageStatus, PreparationStatus, Step, StepId,
};
use futures_util::StreamExt;
use sqlx::PgPool;
use std::collections::HashMap;

/// Pairs per batch when rendering templates.
pub const BATCH: i64 = 2000;
/// AI-written messages per batch, per allowed concurrent call (progress moves at least this often).
const AI_PER_CALL_SLOT: usize = 4;
const LEASE_SECS: f64 = 300.0;
const MAX_ATTEMPTS: i32 = 5;

static QUEUED: Wakeup = Wakeup::new();

/// Tells this process's worker that a preparation was queued.
pub fn wake() {
    QUEUED.wake();
}

/// The job loop.
pub async fn run_forever(pool: PgPool, ai: std::sync::Arc<AiRuntime>) {
    loop {
        match run_next(&pool, &ai).await {
            Ok(Outcome::Worked) => continue,
            Ok(Outcome::Idle) => {}
            Err(e) => tracing::warn!(error = ?e, "preparation worker error; will retry"),
        }
        QUEUED.wait().await;
    }
}

/// Runs preparations until none is waiting (tests and the benchmark use this).
pub async fn run_until_idle(pool: &PgPool, ai: &AiRuntime) -> anyhow::Result<()> {
    while run_next(pool, ai).await? == Outcome::Worked {}
    Ok(())
}

/// Claims one open preparation and runs it to the end.
pub async fn run_next(pool: &PgPool, ai: &AiRuntime) -> anyhow::Result<Outcome> {
    let Some(job) = db::messages::claim_preparation(pool, LEASE_SECS)
        .await
        .context("claiming a preparation")?
    else {
        return Ok(Outcome::Idle);
    };
    let span = tracing::info_span!("prepare", org_id = %job.org_id, campaign_id = %job.campaign_id);
    let _guard = span.enter();
    match run(pool, ai, &job).await {
        Ok(()) => {
            db::messages::finish(pool, job.org_id, job.id, PreparationStatus::Done, None).await?;
            // A preparation is the bulk load before sending: the tables it and the enrollment
            // filled get statistics now, not minutes later, so that the scheduler's and the
            // sender's key lookups are planned as such.
            if let Err(e) = db::messages::refresh_statistics(pool).await {
                tracing::warn!(error = %e, "refreshing table statistics failed");
            }
        }
        Err(e) if job.attempts >= MAX_ATTEMPTS => {
            tracing::error!(error = ?e, "preparation failed for good");
            db::messages::finish(
                pool,
                job.org_id,
                job.id,
                PreparationStatus::Failed,
                Some("Preparing stopped after repeated errors; the messages written so far are kept. Prepare again to continue."),
            )
            .await?;
        }
        Err(e) => {
            tracing::warn!(error = ?e, attempts = job.attempts, "preparation failed; will retry");
            db::messages::retry_later(pool, job.org_id, job.id, 2f64.powi(job.attempts) * 5.0)
                .await?;
        }
    }
    Ok(Outcome::Worked)
}

/// What every message of a run shares.
struct Run {
    org: aura_types::OrgId,
    campaign: Campaign,
    steps: HashMap<StepId, Step>,
    sender: Sender,
}

async fn run(pool: &PgPool, ai: &AiRuntime, job: &ClaimedPreparation) -> anyhow::Result<()> {
    let (org, campaign_id) = (job.org_id, job.campaign_id);
    let Some(campaign) = db::campaigns::get(pool, org, campaign_id).await? else {
        return Ok(());
    };
    let steps = db::campaigns::steps(pool, org, campaign_id).await?;
    let sender = ai::sender(pool, org, campaign.created_by).await?;
    let cx = Run {
        org,
        steps: steps.into_iter().map(|s| (s.id, s)).collect(),
        campaign,
        sender,
    };
    let pending =
        db::messages::count_pending(&mut *pool.acquire().await?, org, campaign_id).await?;
    db::messages::set_total(pool, org, job.id, pending).await?;
    let ai_per_batch = ai.concurrency() * AI_PER_CALL_SLOT;
    loop {
        let mut conn = pool.acquire().await?;
        let pairs = db::messages::pending(&mut conn, org, campaign_id, BATCH).await?;
        if pairs.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<ContactId> = pairs.iter().map(|(c, _)| *c).collect();
        ids.dedup();
        let contacts: HashMap<ContactId, Contact> = db::contacts::by_ids(&mut conn, org, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        drop(conn);
        let mut rows = Vec::with_capacity(pairs.len());
        let mut for_ai = Vec::new();
        for (contact_id, step_id) in &pairs {
            let (Some(contact), Some(step)) = (contacts.get(contact_id), cx.steps.get(step_id))
            else {
                continue;
            };
            let values = MergeValues::for_contact(contact, &cx.sender);
            if step.personalize {
                if for_ai.len() < ai_per_batch {
                    for_ai.push((step, contact, values));
                }
            } else {
                let written = message::render(step, contact, &values);
                rows.push(new_message(&cx, step, contact, &values, written, None));
            }
        }
        let written_by_ai: Vec<(NewMessage, bool)> = futures_util::stream::iter(for_ai)
            .map(|(step, contact, values)| write_with_ai(pool, ai, &cx, step, contact, values))
            .buffer_unordered(ai.concurrency())
            .collect()
            .await;
        let failed = written_by_ai.iter().filter(|(_, failed)| *failed).count() as i64;
        rows.extend(written_by_ai.into_iter().map(|(m, _)| m));
        if rows.is_empty() {
            anyhow::bail!("a batch of {} pending messages wrote none", pairs.len());
        }
        db::messages::upsert(pool, org, campaign_id, &rows).await?;
        db::messages::progress(pool, org, job.id, rows.len() as i64, failed, LEASE_SECS).await?;
    }
}

/// One lead's message written by AI (`generate_message_for_lead`); on failure, an empty message
/// that says why (`true`).
async fn write_with_ai(
    pool: &PgPool,
    rt: &AiRuntime,
    cx: &Run,
    step: &Step,
    contact: &Contact,
    values: MergeValues,
) -> (NewMessage, bool) {
    let c = &cx.campaign;
    let brief = CampaignBrief {
        name: c.name.clone(),
        offer: c.offer.clone(),
        icp: c.icp.clone(),
        goal: c.goal.clone(),
    };
    let step_brief = StepBrief {
        channel: step.channel,
        number: u16::try_from(step.position).unwrap_or(1),
        instructions: step.ai_instructions.clone(),
    };
    let job = ai::generation_job(
        cx.org,
        AiOperation::GenerateMessageForLead,
        step.persona_id,
        brief,
        step_brief,
        Some(values.clone()),
    );
    match ai::run(pool, rt, job).await {
        Ok((ai::Output::Draft(draft), provenance)) => (
            new_message(
                cx,
                step,
                contact,
                &values,
                message::from_draft(step, contact, draft),
                Some(provenance),
            ),
            false,
        ),
        Ok(_) => (
            new_message(
                cx,
                step,
                contact,
                &values,
                message::failed(step, "the provider answered with the wrong kind of result"),
                None,
            ),
            true,
        ),
        Err(e) => (
            new_message(
                cx,
                step,
                contact,
                &values,
                message::failed(step, &e.to_string()),
                None,
            ),
            true,
        ),
    }
}

fn new_message(
    cx: &Run,
    step: &Step,
    contact: &Contact,
    values: &MergeValues,
    mut w: Written,
    provenance: Option<aura_types::ai::Provenance>,
) -> NewMessage {
    let content_variables =
        message::template_values(step, contact, values).map(|(filled, problems)| {
            w.problems.extend(problems);
            serde_json::to_value(filled).unwrap_or_default()
        });
    let status = if cx.campaign.approval == ApprovalMode::Auto && w.problems.is_empty() {
        MessageStatus::Approved
    } else {
        MessageStatus::Prepared
    };
    NewMessage {
        step_id: step.id,
        contact_id: contact.id,
        channel: step.channel,
        variant: w.variant,
        subject: w.subject,
        text: w.text,
        status,
        problems: w.problems,
        provenance,
        content_variables,
    }
}

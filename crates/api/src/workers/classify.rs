//! The classifier: labels the people's answers the rules could not (interested, question, not
//! interested…) through the AI layer — the organization's model, or the built-in writer when none
//! is configured — outside the transactions that took the mail in. A label the model gives is the
//! conversation's unless a person set one; "unsubscribe" suppresses the address, as the rules'
//! does. An answer the model could not label (unreachable, refusing its key) is tried again later,
//! a few times.

use super::Wakeup;
use crate::ai::{self, AiRuntime, Output};
use crate::db;
use aura_types::{ai::ClassifyRequest, ai::ReplyLabel, SuppressionReason};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

static ARRIVED: Wakeup = Wakeup::new();

/// Answers taken at a time.
const BATCH: i64 = 10;
/// Tries before an answer the model could not label is left unlabelled (the waits between them
/// double from a minute: about a quarter of an hour in all).
const TRIES: i32 = 5;
/// How often the classifier looks for answers another process took in.
const POLL: Duration = Duration::from_secs(5);

/// Tells this process's classifier that answers arrived.
pub fn wake() {
    ARRIVED.wake();
}

pub async fn run_forever(pool: PgPool, runtime: Arc<AiRuntime>) {
    loop {
        match run_once(&pool, &runtime).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "the classifier failed; will retry"),
        }
        ARRIVED.wait_up_to(POLL).await;
    }
}

/// Labels answers until none waits (tests drive it with this).
pub async fn run_until_idle(pool: &PgPool, runtime: &AiRuntime) -> anyhow::Result<()> {
    while run_once(pool, runtime).await? {}
    Ok(())
}

/// Labels one batch; whether there was one.
pub async fn run_once(pool: &PgPool, runtime: &AiRuntime) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await?;
    let batch = db::inbox::take_unlabelled(&mut tx, BATCH).await?;
    tx.commit().await?;
    for m in &batch {
        let request = ClassifyRequest {
            text: m.body_text.clone(),
            subject: Some(m.subject.clone()),
            from: m.from_address.clone(),
            ..ClassifyRequest::default()
        };
        let label = match ai::run(pool, runtime, ai::classify_job(m.org_id, request)).await {
            Ok((Output::Classification(c), _)) => c,
            Ok(_) => {
                tracing::warn!("the classifier answered with another kind of result");
                continue;
            }
            Err(e) => {
                let tries = m.classify_attempts + 1;
                tracing::warn!(error = %e, tries, "an answer could not be classified");
                db::inbox::classify_failed(pool, m.org_id, m.id, tries, TRIES, &e.to_string())
                    .await?;
                continue;
            }
        };
        let mut tx = pool.begin().await?;
        if let Some((conversation, contact)) =
            db::inbox::labelled(&mut tx, m.org_id, m.id, label.label, label.confidence).await?
        {
            if label.label == ReplyLabel::Unsubscribe {
                // A text's opt-out in words is honoured as STOP is; an email's opts the address out.
                match db::phone::text_sender(&mut *tx, m.org_id, m.id).await? {
                    Some(number) => {
                        crate::inbox::phone::opt_out(
                            &mut tx,
                            m.org_id,
                            contact,
                            &number,
                            "reply",
                            &m.body_text,
                            time::OffsetDateTime::now_utc(),
                        )
                        .await?
                    }
                    None => {
                        db::send::suppress_contact_email(
                            &mut tx,
                            m.org_id,
                            contact,
                            SuppressionReason::Unsubscribed,
                            "reply",
                        )
                        .await?
                    }
                }
            }
            db::inbox::event(&mut *tx, m.org_id, "conversation", Some(conversation)).await?;
        }
        tx.commit().await?;
    }
    Ok(!batch.is_empty())
}

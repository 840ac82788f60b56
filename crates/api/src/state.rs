//! What every handler can reach: the database, the settings and the shared services (the sealer,
//! the link signer, the event sink, the AI machinery, the clock), each built once per process.

use crate::ai::AiRuntime;
use crate::crypto::Sealer;
use crate::providers::ai::net::{AiHttp, Policy};
use crate::{auth::tokens::JwtKeys, config::Settings, providers::mail::Mailer};
use sqlx::{postgres::PgPoolOptions, PgPool};
use std::{sync::Arc, time::Duration};

/// What every handler can reach.
pub struct AppState {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub jwt: JwtKeys,
    /// Aura's own email, when an SMTP server is configured.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// Seals and opens the secrets of integrations (mailbox passwords, AI keys, DKIM keys).
    pub sealer: Arc<Sealer>,
    /// AI providers' HTTP client and per-organization limits.
    pub ai: Arc<AiRuntime>,
    /// Opens and clicks of sent email, written in batches.
    pub events: crate::workers::events::EventSink,
    /// Signs and checks the links inside sent email (the key is derived once).
    pub links: crate::delivery::tokens::Signer,
    /// The time business rules see (enrollment, ramp-up); tests set it.
    pub clock: crate::clock::Clock,
    /// Twilio's API (text messages), through the network policy.
    pub twilio: crate::providers::twilio::Twilio,
    /// The Content-Security-Policy of the web app's pages (with the hashes of the built app's
    /// inline loader).
    pub page_policy: String,
}

/// A pool that connects on first use, with statement and acquire timeouts.
pub fn pool(settings: &Settings) -> anyhow::Result<PgPool> {
    let options: sqlx::postgres::PgConnectOptions = settings
        .database_url()
        .parse()
        .map_err(|e| anyhow::anyhow!("DATABASE_URL is not a valid PostgreSQL address: {e}"))?;
    let options = options.options([(
        "statement_timeout",
        format!("{}s", settings.request_timeout_secs),
    )]);
    Ok(PgPoolOptions::new()
        .max_connections(settings.db_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options))
}

/// The AI machinery for these settings.
pub fn ai_runtime(settings: &Settings, sealer: Arc<Sealer>) -> anyhow::Result<AiRuntime> {
    let http = AiHttp::new(Policy {
        network: settings.ai_network.clone(),
        timeout: Duration::from_secs(settings.ai_timeout_secs.max(1)),
        max_attempts: settings.ai_max_attempts.max(1),
        max_retry_after: Duration::from_secs(settings.ai_max_retry_after_secs),
        first_backoff: Duration::from_millis(500),
    })?;
    Ok(AiRuntime::new(http, sealer, settings.ai_concurrency))
}

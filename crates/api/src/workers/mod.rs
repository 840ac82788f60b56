//! Background work. Runs inside `aura serve` by default, or alone with `aura worker`.

use crate::{config::Settings, db};
use sqlx::PgPool;
use std::time::Duration;

pub mod import;

/// Runs the background loops until the process is asked to stop.
pub async fn run(pool: PgPool, settings: std::sync::Arc<Settings>) {
    tokio::join!(
        import::run_forever(pool.clone()),
        housekeeping(pool, settings)
    );
}

async fn housekeeping(pool: PgPool, settings: std::sync::Arc<Settings>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        // Housekeeping: failed log-ins older than the throttling window no longer matter.
        if let Err(e) = db::throttle::prune(&pool, settings.login_window_secs).await {
            tracing::warn!(error = %e, "pruning old log-in failures failed; will retry");
        }
    }
}

//! Background work. Runs inside `aura serve` by default, or alone with `aura worker`.

use crate::ai::AiRuntime;
use crate::crypto::Sealer;
use crate::{config::Settings, db};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

pub mod classify;
pub mod events;
pub mod import;
pub mod prepare;
pub mod schedule;
pub mod send;
pub mod sync;
pub mod text;

/// The outcome of one turn of a job loop.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Worked,
    Idle,
}

/// Wakes a job loop of this process when work is queued (other processes' loops find it on
/// their next poll).
pub struct Wakeup(tokio::sync::Notify);

impl Wakeup {
    pub const fn new() -> Self {
        Self(tokio::sync::Notify::const_new())
    }

    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Until woken, or a second at most.
    pub async fn wait(&self) {
        self.wait_up_to(Duration::from_secs(1)).await;
    }

    /// Until woken, or `longest` at most.
    pub async fn wait_up_to(&self, longest: Duration) {
        tokio::select! {
            () = self.0.notified() => {}
            () = tokio::time::sleep(longest) => {}
        }
    }
}

impl Default for Wakeup {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs the background loops until the process is asked to stop.
pub async fn run(pool: PgPool, settings: Arc<Settings>, ai: Arc<AiRuntime>, sealer: Arc<Sealer>) {
    // Several sending loops share one sender (its connection pools): while one waits on the
    // database, another talks SMTP.
    let sender = Arc::new(send::Sender::new(
        pool.clone(),
        settings.clone(),
        sealer.clone(),
    ));
    // The loops are tasks of their own, so the runtime spreads them over its threads (joined
    // into one future, they all ran on the thread that polled it, one at a time). Preparation
    // stays on this future: the compiler cannot yet prove its future may move between threads.
    // Dropping this future (the process is stopping) aborts the tasks.
    let mut loops = tokio::task::JoinSet::new();
    loops.spawn(import::run_forever(pool.clone()));
    loops.spawn(schedule::run_forever(pool.clone()));
    for _ in 0..settings.send_tasks.clamp(1, 64) {
        loops.spawn(sender.clone().run_forever());
    }
    // Texts: two loops, so one number's slots are sent while the next number is claimed.
    match settings.twilio() {
        Ok(twilio) => {
            let texts = Arc::new(text::TextSender::new(
                pool.clone(),
                settings.clone(),
                sealer.clone(),
                twilio,
            ));
            for _ in 0..2 {
                loops.spawn(texts.clone().run_forever());
            }
        }
        Err(e) => {
            tracing::error!(error = ?e, "the text sender cannot start: no SMS or WhatsApp is sent")
        }
    }
    loops.spawn(Arc::new(sync::Reader::new(pool.clone(), settings.clone(), sealer)).run_forever());
    loops.spawn(housekeeping(pool.clone(), settings));
    loops.spawn(wake_snoozed(pool.clone()));
    loops.spawn(classify::run_forever(pool.clone(), ai.clone()));
    let tasks = async {
        while let Some(done) = loops.join_next().await {
            // The loops never end on their own; a panic in one is the process's, as before.
            if let Err(e) = done {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
    };
    tokio::join!(prepare::run_forever(pool, ai), tasks);
}

/// Opens snoozed conversations when their time comes (within half a minute of it).
async fn wake_snoozed(pool: PgPool) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        let woken = async {
            let mut tx = pool.begin().await?;
            let n = db::inbox::wake_snoozed(&mut tx, time::OffsetDateTime::now_utc()).await?;
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(n)
        };
        if let Err(e) = woken.await {
            tracing::warn!(error = %e, "waking snoozed conversations failed; will retry");
        }
    }
}

async fn housekeeping(pool: PgPool, settings: Arc<Settings>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        // Housekeeping: failed log-ins older than the throttling window no longer matter.
        if let Err(e) = db::throttle::prune(&pool, settings.login_window_secs).await {
            tracing::warn!(error = %e, "pruning old log-in failures failed; will retry");
        }
        // A status callback Twilio repeats comes within hours: a week of them is plenty.
        if let Err(e) = db::text::prune_status_events(&pool, 7).await {
            tracing::warn!(error = %e, "pruning old status callbacks failed; will retry");
        }
        // The inbox's live stream replays a week at most.
        if let Err(e) = db::inbox::prune_events(&pool, 7).await {
            tracing::warn!(error = %e, "pruning old inbox events failed; will retry");
        }
    }
}

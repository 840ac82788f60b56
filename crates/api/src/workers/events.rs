//! The event sink: opens and clicks of sent email on their way to the database, taken without
//! waiting (the tracking routes answer at once) and written in batches by one task.

use crate::db::{self, events::Event};
use sqlx::PgPool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Most events per insert, about a millisecond of the database's time. The database shares the
/// machine's cores with the web workers, so a flood of opens is written in short statements, one
/// at a time on the writer's own connection: at most one core is ever busy writing them, and never
/// for long (the tracking benchmark in docs/PERFORMANCE.md compares batch sizes).
const WRITE_BATCH: usize = 250;
/// The first wait before a failed batch is written again; each further one doubles it, up to
/// [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(10);

/// Opens and clicks on their way to the database. Each is kept until it is written: a batch the
/// database refuses or cannot take (down, restarting, out of connections) is written again
/// later. Only when `capacity` events are already waiting is a new one dropped (and counted in
/// the log).
#[derive(Clone)]
pub struct EventSink(std::sync::Arc<Shared>);

struct Shared {
    tx: mpsc::Sender<Event>,
    capacity: usize,
    dropped: AtomicU64,
}

impl EventSink {
    /// The sink, and the task that writes what it receives (run it on the server's runtime);
    /// the task ends once every sink is dropped and all they took is written.
    pub fn start(pool: PgPool, capacity: usize) -> (Self, tokio::task::JoinHandle<()>) {
        let capacity = capacity.max(1);
        let (tx, rx) = mpsc::channel::<Event>(capacity);
        let written = tokio::spawn(write_all(pool, rx, capacity));
        let sink = Self(std::sync::Arc::new(Shared {
            tx,
            capacity,
            dropped: AtomicU64::new(0),
        }));
        (sink, written)
    }

    pub fn record(&self, event: Event) {
        if self.0.tx.try_send(event).is_err() {
            let dropped = self.0.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            // Logged at the first drop and every 10,000th after, not for each.
            if dropped == 1 || dropped % 10_000 == 0 {
                let capacity = self.0.capacity;
                tracing::warn!(
                    dropped,
                    capacity,
                    "tracking events dropped: the write buffer is full"
                );
            }
        }
    }
}

/// Takes batches off the buffer and writes them, one after the other, until every sink is gone
/// and what they took is written.
/// A growing backlog (the database is slower than the clicks) is logged each time it doubles
/// past a tenth of the buffer, and once more when it is written down.
async fn write_all(pool: PgPool, mut rx: mpsc::Receiver<Event>, capacity: usize) {
    let mut writer = db::events::EventWriter::new(&pool);
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let mut reported = 0;
    while rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
        let waiting = rx.len();
        if waiting >= (capacity / 10).max(reported * 2).max(1) {
            reported = waiting;
            tracing::warn!(
                waiting,
                capacity,
                "tracking events are waiting for the database"
            );
        } else if reported > 0 && waiting == 0 {
            tracing::warn!(
                peak = reported,
                "tracking events caught up with the backlog"
            );
            reported = 0;
        }
        write_until_written(&mut writer, &batch).await;
        // A trickle gathers into the next batch; a flood is written as fast as it comes.
        if batch.len() < WRITE_BATCH {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        batch.clear();
    }
}

/// Writes one batch, trying again after a growing wait for as long as the database fails.
async fn write_until_written(writer: &mut db::events::EventWriter, events: &[Event]) {
    let mut wait = RETRY_FIRST;
    for attempt in 1u32.. {
        match writer.write(events).await {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, events = events.len(), attempt, retry_in_ms = wait.as_millis() as u64,
                    "tracking events could not be written; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
        }
    }
}

//! Open connections to a mailbox's server, kept between batches, and a run of messages sent over
//! one of them: reconnecting after a refusal (the transaction is then in an unknown state), and
//! sending a message again at once, once, on a new connection when the server closed the old one
//! with 421 — as servers that take only so many messages a connection do.

use super::{connect, send_all, ConnectError, Connection, Outcome, Server};
use aura_types::MailboxId;
use lettre::address::Envelope;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// Idle connections older than this are closed rather than reused.
const MAX_IDLE: Duration = Duration::from_secs(60);
/// Idle connections older than this are checked with NOOP before reuse.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(5);

struct Pooled {
    conn: Connection,
    since: Instant,
    /// The mailbox's settings version when it was opened (settings changed: reconnect).
    version: OffsetDateTime,
}

/// A mailbox as the pool knows it: its id and the version of its settings.
#[derive(Clone, Copy, Debug)]
pub struct MailboxKey {
    pub id: MailboxId,
    pub version: OffsetDateTime,
}

/// Idle connections by mailbox.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<MailboxId, Vec<Pooled>>>,
}

/// What became of a run of messages: an outcome for each message sent (in order) and, when a
/// connection could not be opened, why — the messages after the last outcome were not tried.
pub struct Run {
    pub outcomes: Vec<Outcome>,
    pub stopped_by: Option<ConnectError>,
}

impl Pool {
    /// Sends `messages` in order over one connection of the mailbox (a pooled one if it is still
    /// good, else a new one), reconnecting after a refusal.
    pub async fn send_run(
        &self,
        mailbox: MailboxKey,
        server: &Server,
        messages: &[(&Envelope, &[u8])],
    ) -> Run {
        let mut outcomes = Vec::with_capacity(messages.len());
        let mut conn = self.take(mailbox).await;
        let mut rest = messages;
        // The message last sent again at once because the server closed its connection (421).
        let mut resent: Option<usize> = None;
        while !rest.is_empty() {
            let open = match conn.as_mut() {
                Some(open) => open,
                None => match connect(server, &mut |_, _| {}).await {
                    Ok(fresh) => conn.insert(fresh),
                    Err(e) => {
                        return Run {
                            outcomes,
                            stopped_by: Some(e),
                        }
                    }
                },
            };
            let answers = send_all(open, rest, server.timeout).await;
            let (done, mut left) = rest.split_at(answers.len().clamp(1, rest.len()));
            let mut answers = answers.into_iter();
            for i in 0..done.len() {
                let index = outcomes.len();
                let outcome = answers
                    .next()
                    .unwrap_or_else(|| Outcome::Transient("the connection gave no outcome".into()));
                if matches!(outcome, Outcome::Closing(_)) && resent != Some(index) {
                    resent = Some(index);
                    if let Some(mut closed) = conn.take() {
                        closed.abort().await;
                    }
                    left = &rest[i..];
                    break;
                }
                if !matches!(outcome, Outcome::Sent(_)) {
                    // After a refusal the transaction is in an unknown state: start afresh.
                    if let Some(mut broken) = conn.take() {
                        broken.abort().await;
                    }
                }
                outcomes.push(outcome);
            }
            rest = left;
        }
        if let Some(open) = conn {
            self.give_back(mailbox, open).await;
        }
        Run {
            outcomes,
            stopped_by: None,
        }
    }

    async fn take(&self, mailbox: MailboxKey) -> Option<Connection> {
        let mut pooled = {
            let mut all = self.idle.lock().await;
            let list = all.entry(mailbox.id).or_default();
            loop {
                let p = list.pop()?;
                if p.version == mailbox.version && p.since.elapsed() < MAX_IDLE {
                    break p;
                }
            }
        };
        if pooled.since.elapsed() > CHECK_AFTER_IDLE && !pooled.conn.test_connected().await {
            return None;
        }
        Some(pooled.conn)
    }

    async fn give_back(&self, mailbox: MailboxKey, conn: Connection) {
        if conn.has_broken() {
            return;
        }
        self.idle
            .lock()
            .await
            .entry(mailbox.id)
            .or_default()
            .push(Pooled {
                conn,
                since: Instant::now(),
                version: mailbox.version,
            });
    }
}

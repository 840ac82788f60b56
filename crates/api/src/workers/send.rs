//! The sender: claims queued messages (FOR UPDATE SKIP LOCKED, with a lease), checks once more
//! right before sending that the lead may still get them, writes each email and hands it to the
//! mailbox's SMTP server over a small pool of connections per mailbox, and records what
//! happened. A message is leased ("sending") before it goes out and its outcome recorded after,
//! so a worker that dies in between leaves it "unknown" when the lease runs out — never sent
//! twice by several workers or by a restart.

use super::{Outcome, Wakeup};
use crate::config::Settings;
use crate::crypto::Sealer;
use crate::db;
use crate::db::mailboxes::MailboxRow;
use crate::db::send::{Claimed, Recorded, SendContext};
use crate::delivery::dkim::SigningCache;
use crate::delivery::email::{self, Outgoing};
use crate::delivery::links::Links;
use crate::delivery::retry::RetryPolicy;
use crate::delivery::tokens::Signer;
use crate::domain::contactability::{email_stop, Block};
use crate::providers::smtp::pool::{MailboxKey, Pool};
use crate::providers::smtp::{self, Server};
use aura_types::{MailboxId, MailboxKind, MessageId, OrgId};
use lettre::address::Envelope;
use lettre::message::dkim::DkimConfig;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

static QUEUED: Wakeup = Wakeup::new();

/// Tells this process's sender that messages were queued.
pub fn wake() {
    QUEUED.wake();
}

/// A healthy mailbox's last success is recorded at most this often.
const HEALTH_EVERY_SECS: i64 = 60;
/// Answers written in the inbox claimed at a time: one, so each is leased only for its own
/// hand-over (answers are sent one after the other, and a slow server would outlast a lease
/// taken for many).
const REPLY_BATCH: i64 = 1;
/// Expired leases are looked for at most this often (and at most four times a lease).
const EXPIRE_EVERY_SECS: i64 = 30;

/// One worker's sender.
pub struct Sender {
    pool: PgPool,
    settings: Arc<Settings>,
    sealer: Arc<Sealer>,
    signer: Signer,
    /// Open connections to the mailboxes' servers, kept between batches.
    connections: Pool,
    /// The DKIM keys opened so far.
    dkim: SigningCache,
    /// When expired leases were last looked for (on the sender's clock, `now`).
    expired_at: std::sync::Mutex<Option<OffsetDateTime>>,
}

type Result3 = (OrgId, MessageId, Recorded);

impl Sender {
    pub fn new(pool: PgPool, settings: Arc<Settings>, sealer: Arc<Sealer>) -> Self {
        let signer = settings.link_signer();
        Self {
            pool,
            settings,
            sealer,
            signer,
            connections: Pool::default(),
            dkim: SigningCache::default(),
            expired_at: std::sync::Mutex::new(None),
        }
    }

    /// The job loop (a worker runs several, sharing the sender).
    pub async fn run_forever(self: Arc<Self>) {
        loop {
            match self.run_once(OffsetDateTime::now_utc()).await {
                Ok(Outcome::Worked) => continue,
                Ok(Outcome::Idle) => {}
                Err(e) => tracing::warn!(error = ?e, "sender error; will retry"),
            }
            QUEUED.wait().await;
        }
    }

    /// Sends until nothing is claimable at `now` (tests drive the clock with this).
    pub async fn run_until_idle(&self, now: OffsetDateTime) -> anyhow::Result<()> {
        while self.run_once(now).await? == Outcome::Worked {}
        Ok(())
    }

    /// One claim, send and record.
    pub async fn run_once(&self, now: OffsetDateTime) -> anyhow::Result<Outcome> {
        if self.expiry_due(now) {
            let expired = db::send::expire_leases(&self.pool, now).await?;
            if expired > 0 {
                tracing::warn!(
                    messages = expired,
                    "messages left unknown by a stopped sender"
                );
            }
            let mut tx = self.pool.begin().await?;
            for (org, conversation) in db::replies::expire_leases(&mut *tx, now).await? {
                tracing::warn!("an answer left unknown by a stopped sender");
                db::inbox::event(&mut *tx, org, "message", Some(conversation)).await?;
            }
            tx.commit().await?;
        }
        // A person waits for their answer: it goes before the campaigns' queue.
        let answered = self.send_replies(now).await?;
        let claimed = self.claim(now).await?;
        if claimed.is_empty() {
            return Ok(if answered {
                Outcome::Worked
            } else {
                Outcome::Idle
            });
        }
        // More may be waiting: a resting loop of this worker claims the next batch while this
        // one sends (a loop that found the mailbox locked by this claim went to rest).
        QUEUED.wake();
        let outcomes = self.deliver(claimed, now).await?;
        // Outcomes are dated at the turn's moment (the caller's clock, seconds before the last
        // message of the batch went out), so a follow-up's delay counts from it exactly.
        let mut tx = self.pool.begin().await?;
        db::send::record(&mut tx, &outcomes, now).await?;
        tx.commit().await?;
        Ok(Outcome::Worked)
    }

    /// Whether to look for expired leases at `now` (at first, then every few seconds; a clock
    /// that went back counts as due).
    fn expiry_due(&self, now: OffsetDateTime) -> bool {
        let every = (self.settings.send_lease_secs / 4).clamp(1, EXPIRE_EVERY_SECS);
        let Ok(mut last) = self.expired_at.lock() else {
            return true;
        };
        let due = last.is_none_or(|t| now < t || now - t >= time::Duration::seconds(every));
        if due {
            *last = Some(now);
        }
        due
    }

    /// Claims what may be sent at `now`.
    pub async fn claim(&self, now: OffsetDateTime) -> anyhow::Result<Vec<Claimed>> {
        let mut tx = self.pool.begin().await?;
        let claimed = db::send::claim(
            &mut tx,
            now,
            self.settings.send_batch.max(1),
            self.settings.send_lease_secs.max(1),
        )
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Sends claimed messages and says what became of each (nothing is recorded here).
    pub async fn deliver(
        &self,
        claimed: Vec<Claimed>,
        now: OffsetDateTime,
    ) -> anyhow::Result<Vec<Result3>> {
        let keys: Vec<&Claimed> = claimed.iter().collect();
        let mut tx = self.pool.begin().await?;
        let contexts: HashMap<(OrgId, MessageId), SendContext> = db::send::context(&mut tx, &keys)
            .await?
            .into_iter()
            .map(|c| ((c.org_id, c.id), c))
            .collect();
        tx.commit().await?;
        let mut out = Vec::with_capacity(claimed.len());
        let mut groups: HashMap<(OrgId, MailboxId), Vec<(Claimed, SendContext)>> = HashMap::new();
        for c in claimed {
            match contexts.get(&(c.org_id, c.id)) {
                None => out.push((
                    c.org_id,
                    c.id,
                    Recorded::Cancelled {
                        reason: "The lead or campaign no longer exists.".into(),
                    },
                )),
                Some(x) if x.hold => out.push((c.org_id, c.id, Recorded::Release)),
                Some(x) => match email_stop(
                    x.no_email,
                    Block::from_row(x.block_code.as_deref(), x.block_detail.clone()),
                    x.left,
                ) {
                    Some(reason) => out.push((c.org_id, c.id, Recorded::Cancelled { reason })),
                    None => groups
                        .entry((c.org_id, c.mailbox_id))
                        .or_default()
                        .push((c, x.clone())),
                },
            }
        }
        let sends = groups
            .into_iter()
            .map(|((org, mailbox), items)| async move {
                match db::mailboxes::for_sending(&self.pool, org, mailbox).await {
                    Ok(Some(m)) => self.send_group(&m, items, now).await,
                    Ok(None) => items
                        .into_iter()
                        .map(|(c, _)| {
                            (
                                c.org_id,
                                c.id,
                                Recorded::Failed {
                                    reply: "The mailbox was deleted.".into(),
                                },
                            )
                        })
                        .collect(),
                    Err(e) => items
                        .into_iter()
                        .map(|(c, _)| {
                            (
                                c.org_id,
                                c.id,
                                self.retry(c.attempts, format!("database: {e}"), now),
                            )
                        })
                        .collect(),
                }
            });
        for group in futures_util::future::join_all(sends).await {
            out.extend(group);
        }
        Ok(out)
    }

    /// A transient failure of a message claimed `attempts` times: back to the queue, or given up.
    fn retry(&self, attempts: i32, reply: String, now: OffsetDateTime) -> Recorded {
        let policy = RetryPolicy {
            max_attempts: self.settings.send_max_attempts,
            base_secs: self.settings.send_retry_secs,
        };
        match policy.next(attempts, now) {
            Some(at) => Recorded::Retry { reply, at },
            None => Recorded::Failed {
                reply: format!("Gave up after {attempts} attempts: {reply}"),
            },
        }
    }

    /// The signing configuration of the mailbox's domain, if it has a key.
    fn dkim_for(&self, m: &MailboxRow) -> Result<Option<Arc<DkimConfig>>, String> {
        let (Some(selector), Some(domain), Some(algorithm), Some(key_id), Some(sealed), Some(at)) = (
            &m.dkim_selector,
            &m.dkim_domain,
            m.dkim_algorithm,
            &m.dkim_key_id,
            &m.dkim_key_sealed,
            m.dkim_updated_at,
        ) else {
            return Ok(None);
        };
        self.dkim
            .get_or_open(m.org_id, domain, at, || {
                let private = self
                    .sealer
                    .open(key_id, sealed)
                    .map_err(|e| format!("The DKIM key of {domain} cannot be opened: {e}"))?;
                crate::delivery::dkim::config(selector, domain, algorithm, &private)
            })
            .map(Some)
    }

    fn write(
        &self,
        m: &MailboxRow,
        c: &Claimed,
        x: &SendContext,
        dkim: Option<&DkimConfig>,
    ) -> Result<(Envelope, Vec<u8>), String> {
        let links = Links {
            base: &self.settings.public_url,
            signer: &self.signer,
            org: c.org_id,
            message: c.id,
        };
        let unsubscribe = links.unsubscribe();
        let pixel = x.track_opens.then(|| links.pixel());
        let click = |url: &str| links.click(url);
        let to = x.email.as_deref().ok_or("The lead has no email address.")?;
        email::build(&Outgoing {
            message_id: &c.message_id,
            from_name: &m.from_name,
            from_email: &m.from_email,
            reply_to: m.reply_to.as_deref(),
            to_name: x.name.as_deref(),
            to_email: to,
            subject: &c.subject,
            text: &c.body_text,
            signature: &m.signature,
            in_reply_to: c.in_reply_to.as_deref(),
            references: &c.refs,
            unsubscribe_url: Some(&unsubscribe),
            footer: x
                .postal_address
                .as_deref()
                .map(|a| (x.org_name.as_str(), a)),
            open_pixel_url: pixel.as_deref(),
            click_url: if x.track_clicks { Some(&click) } else { None },
            date: OffsetDateTime::now_utc(),
            dkim,
            answer: None,
        })
    }

    async fn send_group(
        &self,
        m: &MailboxRow,
        items: Vec<(Claimed, SendContext)>,
        now: OffsetDateTime,
    ) -> Vec<Result3> {
        let mut out = Vec::with_capacity(items.len());
        let dkim =
            match self.dkim_for(m) {
                Ok(d) => d,
                Err(reply) => {
                    out.extend(items.into_iter().map(|(c, _)| {
                        (c.org_id, c.id, self.retry(c.attempts, reply.clone(), now))
                    }));
                    return out;
                }
            };
        let mut ready = Vec::with_capacity(items.len());
        for (c, x) in items {
            match self.write(m, &c, &x, dkim.as_deref()) {
                Ok((envelope, bytes)) => ready.push((c, x, envelope, bytes)),
                Err(e) => out.push((c.org_id, c.id, Recorded::Failed { reply: e })),
            }
        }
        if m.kind == MailboxKind::Sandbox {
            for (c, x, _, bytes) in &ready {
                let caught = db::outbox::Caught {
                    org: c.org_id,
                    mailbox: m.id,
                    message: c.id.0,
                    recipient: x.email.as_deref().unwrap_or_default(),
                    subject: &c.subject,
                    raw: bytes,
                };
                if let Err(e) = self.keep_in_outbox(&caught, now).await {
                    tracing::warn!(error = %e, "the sandbox outbox could not keep a message");
                }
            }
            if m.smtp_host.is_empty() {
                out.extend(ready.into_iter().map(|(c, ..)| {
                    (
                        c.org_id,
                        c.id,
                        Recorded::Sent {
                            reply: "Sandbox: kept in the outbox, not sent.".into(),
                        },
                    )
                }));
                return out;
            }
        }
        let server =
            match self.server(m) {
                Ok(server) => server,
                Err(reply) => {
                    out.extend(ready.into_iter().map(|(c, ..)| {
                        (c.org_id, c.id, self.retry(c.attempts, reply.clone(), now))
                    }));
                    return out;
                }
            };
        // Spread the messages over the mailbox's connections.
        let lanes = self
            .settings
            .smtp_connections
            .clamp(1, 32)
            .min(ready.len().max(1));
        let mut chunks: Vec<Vec<_>> = (0..lanes).map(|_| Vec::new()).collect();
        for (i, item) in ready.into_iter().enumerate() {
            chunks[i % lanes].push(item);
        }
        let results = futures_util::future::join_all(
            chunks
                .into_iter()
                .map(|chunk| self.send_lane(m, &server, chunk, now)),
        )
        .await;
        let mut connect_error = None;
        let mut any_sent = false;
        for (lane, error) in results {
            any_sent |= lane
                .iter()
                .any(|(_, _, r)| matches!(r, Recorded::Sent { .. }));
            out.extend(lane);
            connect_error = connect_error.or(error);
        }
        let health = match (&connect_error, any_sent) {
            (Some(e), _) => {
                db::mailboxes::record_health(
                    &self.pool,
                    m.org_id,
                    m.id,
                    Some(&e.to_string()),
                    e.is_auth(),
                    self.settings.mailbox_pause_after,
                )
                .await
            }
            // A healthy mailbox's success is written once a minute, not every batch (the
            // write would wait on, and make skip, the claims of the other sending loops).
            (None, true)
                if m.consecutive_failures == 0
                    && m.last_success_at.is_some_and(|t| {
                        OffsetDateTime::now_utc() - t < time::Duration::seconds(HEALTH_EVERY_SECS)
                    }) =>
            {
                Ok(())
            }
            (None, true) => {
                db::mailboxes::record_health(&self.pool, m.org_id, m.id, None, false, 0).await
            }
            (None, false) => Ok(()),
        };
        if let Err(e) = health {
            tracing::warn!(error = %e, "recording mailbox health failed");
        }
        out
    }

    /// Sends a lane of messages over one connection (see `smtp::pool`); returns the outcomes
    /// and the connection error, if one stopped it.
    async fn send_lane(
        &self,
        m: &MailboxRow,
        server: &Server,
        items: Vec<(Claimed, SendContext, Envelope, Vec<u8>)>,
        now: OffsetDateTime,
    ) -> (Vec<Result3>, Option<smtp::ConnectError>) {
        let messages: Vec<(&Envelope, &[u8])> = items
            .iter()
            .map(|(_, _, envelope, bytes)| (envelope, bytes.as_slice()))
            .collect();
        let mailbox = MailboxKey {
            id: m.id,
            version: m.updated_at,
        };
        let run = self.connections.send_run(mailbox, server, &messages).await;
        let mut out = Vec::with_capacity(items.len());
        let mut outcomes = run.outcomes.into_iter();
        for (c, ..) in &items {
            let recorded = match (outcomes.next(), &run.stopped_by) {
                (Some(smtp::Outcome::Sent(reply)), _) => Recorded::Sent { reply },
                (Some(smtp::Outcome::Transient(reply) | smtp::Outcome::Closing(reply)), _) => {
                    self.retry(c.attempts, reply, now)
                }
                (Some(smtp::Outcome::Failed(reply)), _) => Recorded::Failed { reply },
                (Some(smtp::Outcome::Bounced(reply)), _) => Recorded::Bounced { reply },
                (Some(smtp::Outcome::Unknown(reply)), _) => Recorded::Unknown { reply },
                (None, Some(e)) => self.retry(c.attempts, format!("{e}"), now),
                (None, None) => {
                    self.retry(c.attempts, "the connection gave no outcome".into(), now)
                }
            };
            out.push((c.org_id, c.id, recorded));
        }
        (out, run.stopped_by)
    }

    /// The mailbox's SMTP server, its password opened.
    fn server(&self, m: &MailboxRow) -> Result<Server, String> {
        let password = self
            .sealer
            .open_optional(
                m.smtp_secret_key_id.as_deref(),
                m.smtp_secret_sealed.as_deref(),
            )
            .map_err(|e| format!("The mailbox password cannot be opened: {e}"))?;
        Ok(Server::new(
            &m.fields().smtp,
            password,
            &m.from_email,
            Duration::from_secs(self.settings.smtp_timeout_secs.max(1)),
            &self.settings.network,
        ))
    }

    async fn keep_in_outbox(
        &self,
        caught: &db::outbox::Caught<'_>,
        now: OffsetDateTime,
    ) -> anyhow::Result<()> {
        let id = db::outbox::insert_outbox(&self.pool, caught, now).await?;
        let dir = self.settings.outbox_dir.join(caught.org.to_string());
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::write(dir.join(format!("{id}.eml")), caught.raw).await?;
        Ok(())
    }

    /// Sends the answers written in the inbox that are due at `now`, one at a time (people write
    /// them one at a time); whether there were any.
    async fn send_replies(&self, now: OffsetDateTime) -> anyhow::Result<bool> {
        let mut tx = self.pool.begin().await?;
        let claimed = db::replies::claim(
            &mut tx,
            now,
            REPLY_BATCH,
            self.settings.send_lease_secs.max(1),
        )
        .await?;
        tx.commit().await?;
        for c in &claimed {
            let outcome = self.send_reply(c, now).await;
            let mut tx = self.pool.begin().await?;
            db::replies::record(&mut *tx, c.org_id, c.id, &outcome, now).await?;
            db::inbox::event(&mut *tx, c.org_id, "message", Some(c.conversation_id)).await?;
            tx.commit().await?;
        }
        Ok(!claimed.is_empty())
    }

    /// Writes and hands over one answer: through the conversation's mailbox, threaded, with the
    /// mailbox's signature, after the one "may we contact" check.
    async fn send_reply(&self, c: &db::replies::Claimed, now: OffsetDateTime) -> Recorded {
        let block = Block::from_row(c.block_code.as_deref(), c.block_detail.clone());
        if let Some(reason) = email_stop(false, block, false) {
            return Recorded::Failed { reply: reason };
        }
        let gone = || Recorded::Failed {
            reply: "The mailbox was deleted.".into(),
        };
        let Some(mailbox) = c.mailbox_id else {
            return gone();
        };
        let m = match db::mailboxes::for_sending(&self.pool, c.org_id, mailbox).await {
            Ok(Some(m)) => m,
            Ok(None) => return gone(),
            Err(e) => return self.retry(c.attempts, format!("database: {e}"), now),
        };
        let dkim = match self.dkim_for(&m) {
            Ok(d) => d,
            Err(reply) => return self.retry(c.attempts, reply, now),
        };
        let written = email::build(&Outgoing {
            message_id: &c.message_id,
            from_name: &m.from_name,
            from_email: &m.from_email,
            reply_to: m.reply_to.as_deref(),
            to_name: c.to_name.as_deref(),
            to_email: &c.to_address,
            subject: &c.subject,
            text: &c.body_text,
            signature: &m.signature,
            in_reply_to: c.in_reply_to.as_deref(),
            references: &c.refs,
            unsubscribe_url: None,
            footer: None,
            open_pixel_url: None,
            click_url: None,
            date: OffsetDateTime::now_utc(),
            dkim: dkim.as_deref(),
            answer: Some(&c.id.to_string()),
        });
        let (envelope, bytes) = match written {
            Ok(w) => w,
            Err(reply) => return Recorded::Failed { reply },
        };
        if m.kind == MailboxKind::Sandbox {
            let caught = db::outbox::Caught {
                org: c.org_id,
                mailbox: m.id,
                message: c.id.0,
                recipient: &c.to_address,
                subject: &c.subject,
                raw: &bytes,
            };
            if let Err(e) = self.keep_in_outbox(&caught, now).await {
                tracing::warn!(error = %e, "the sandbox outbox could not keep an answer");
            }
            if m.smtp_host.is_empty() {
                return Recorded::Sent {
                    reply: "Sandbox: kept in the outbox, not sent.".into(),
                };
            }
        }
        let server = match self.server(&m) {
            Ok(s) => s,
            Err(reply) => return self.retry(c.attempts, reply, now),
        };
        let key = MailboxKey {
            id: m.id,
            version: m.updated_at,
        };
        let run = self
            .connections
            .send_run(key, &server, &[(&envelope, bytes.as_slice())])
            .await;
        match (run.outcomes.into_iter().next(), run.stopped_by) {
            (Some(smtp::Outcome::Sent(reply)), _) => Recorded::Sent { reply },
            (Some(smtp::Outcome::Transient(reply) | smtp::Outcome::Closing(reply)), _) => {
                self.retry(c.attempts, reply, now)
            }
            (Some(smtp::Outcome::Failed(reply) | smtp::Outcome::Bounced(reply)), _) => {
                Recorded::Failed { reply }
            }
            (Some(smtp::Outcome::Unknown(reply)), _) => Recorded::Unknown { reply },
            (None, Some(e)) => self.retry(c.attempts, e.to_string(), now),
            (None, None) => self.retry(c.attempts, "the connection gave no outcome".into(), now),
        }
    }
}

//! Reading every mailbox's replies over IMAP. Each mailbox with IMAP settings is held by one
//! worker at a time through a lease in the database (any number of `aura worker` processes share
//! the mailboxes; a dead holder's lease runs out and another takes the mailbox over; an edit of
//! the IMAP settings makes the holder let go). The holder keeps one connection: it takes in what
//! is new in INBOX, Junk and Sent, then waits on INBOX with IDLE (re-issued every poll interval,
//! well before servers drop an IDLE at 29 minutes), polling Junk and Sent at that interval. On
//! failure it reconnects with a doubling back-off (at most five minutes) and records the error.
//!
//! Incremental by UID: each folder's watermark is (UIDVALIDITY, last UID taken in), moved in the
//! same transaction as the batch it covers, so a crash loses or repeats nothing (and
//! [`inbox::ingest`] stores each mail once, by Message-ID or by its bytes, whoever reads it). The first sync looks back `AURA_IMAP_LOOKBACK_DAYS`. On a
//! new UIDVALIDITY the look-back is read again, but only mail whose Message-ID is not stored yet
//! is fetched whole. Mail in Sent teaches the Message-ID the provider gave our messages.

use crate::config::Settings;
use crate::crypto::Sealer;
use crate::db::{self, sync::Watermark};
use crate::delivery::tokens::Signer;
use crate::domain::inbound;
use crate::inbox;
use crate::providers::imap::{self, Folder, Role};
use aura_types::{MailboxId, OrgId};
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use uuid::Uuid;

/// How long a holder's claim on a mailbox lasts without renewal.
const LEASE_SECS: i64 = 90;
/// How often a holder renews its claims.
const RENEW_EVERY: Duration = Duration::from_secs(20);
/// Messages fetched in one command (at most).
const BATCH: usize = 250;
/// The bytes of mail held at once while a batch is taken in (a message larger than this is a
/// piece of its own).
const PIECE_BYTES: u64 = 16 * 1024 * 1024;
/// The longest wait before reconnecting after a failure.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

static SAVED: super::Wakeup = super::Wakeup::new();

/// A mailbox's IMAP settings were saved: look for mailboxes to read now.
pub fn wake() {
    SAVED.wake();
}

/// What one worker process needs to read mailboxes.
pub struct Reader {
    pool: PgPool,
    settings: Arc<Settings>,
    sealer: Arc<Sealer>,
    links: Signer,
    /// This process, as a holder of leases.
    holder: Uuid,
    /// Mailboxes writing what they read at once: fewer than the database pool holds, so
    /// however many mailboxes one process reads, the API and the senders still get connections.
    writers: Arc<tokio::sync::Semaphore>,
}

type Failure = String;

impl Reader {
    pub fn new(pool: PgPool, settings: Arc<Settings>, sealer: Arc<Sealer>) -> Self {
        Self {
            writers: Arc::new(tokio::sync::Semaphore::new(writers(
                settings.db_max_connections,
            ))),
            links: settings.link_signer(),
            pool,
            settings,
            sealer,
            holder: Uuid::now_v7(),
        }
    }

    /// Claims free mailboxes and reads each until the process stops.
    pub async fn run_forever(self: Arc<Self>) {
        let mut held = tokio::task::JoinSet::new();
        loop {
            while held.try_join_next().is_some() {}
            let room = self.settings.imap_max_mailboxes - i64::try_from(held.len()).unwrap_or(0);
            if room > 0 {
                match db::sync::claim(&self.pool, self.holder, room, LEASE_SECS).await {
                    Ok(claimed) => {
                        for (org, mailbox) in claimed {
                            held.spawn(self.clone().hold(org, mailbox));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming mailboxes to read failed; will retry")
                    }
                }
            }
            SAVED.wait_up_to(Duration::from_secs(5)).await;
        }
    }

    /// Reads one mailbox for as long as this process holds it.
    async fn hold(self: Arc<Self>, org: OrgId, mailbox: MailboxId) {
        let keeper = async {
            let mut last_renewed = Instant::now();
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                match db::sync::renew(&self.pool, self.holder, org, mailbox, LEASE_SECS).await {
                    Ok(true) => last_renewed = Instant::now(),
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, %mailbox, "renewing a mailbox's lease failed");
                        // Past the lease another worker may hold it: stop reading.
                        if last_renewed.elapsed() > Duration::from_secs(60) {
                            return;
                        }
                    }
                }
            }
        };
        tokio::select! {
            () = keeper => {}
            () = self.read(org, mailbox) => {}
        }
        if let Err(e) = db::sync::release(&self.pool, self.holder, org, mailbox).await {
            tracing::warn!(error = %e, %mailbox, "releasing a mailbox failed (its lease will run out)");
        }
    }

    /// Connects, reads and waits, reconnecting after failures.
    async fn read(&self, org: OrgId, mailbox: MailboxId) {
        let mut backoff = Duration::from_secs(1);
        loop {
            match self.session(org, mailbox, &mut backoff).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::info!(error = %e, %mailbox, "reading a mailbox failed; will reconnect");
                    db::sync::record(&self.pool, org, mailbox, Some(&e), false)
                        .await
                        .ok();
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection's life; answers only when the mailbox is gone (or fails).
    async fn session(
        &self,
        org: OrgId,
        mailbox: MailboxId,
        backoff: &mut Duration,
    ) -> Result<(), Failure> {
        let Some(row) = db::mailboxes::for_sending(&self.pool, org, mailbox)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let password = self
            .sealer
            .open_optional(
                row.imap_secret_key_id.as_deref(),
                row.imap_secret_sealed.as_deref(),
            )
            .map_err(|e| format!("the stored IMAP password cannot be opened: {e}"))?;
        let server = imap::Server::new(
            &row.fields().imap,
            password,
            Duration::from_secs(self.settings.imap_timeout_secs.clamp(1, 600)),
            &self.settings.network,
        );
        let mut conn = imap::connect(&server, &mut |_, _| {})
            .await
            .map_err(|e| e.to_string())?;
        let mut folders = conn.folders().await.map_err(|e| e.to_string())?;
        // The inbox last, so it is the folder open for IDLE.
        folders.sort_by_key(|f| f.role == Role::Inbox);
        let mut own = vec![row.from_email.to_lowercase()];
        own.extend(row.reply_to.iter().map(|r| r.to_lowercase()));
        let poll = Duration::from_secs(self.settings.imap_poll_secs.clamp(1, 28 * 60));
        let mut polled: Option<Instant> = None;
        loop {
            let due = polled.is_none_or(|at| at.elapsed() >= poll);
            for folder in folders.iter().filter(|f| due || f.role == Role::Inbox) {
                self.sync_folder(&mut conn, org, mailbox, folder, &own)
                    .await?;
            }
            if due {
                polled = Some(Instant::now());
            }
            *backoff = Duration::from_secs(1);
            db::sync::record(&self.pool, org, mailbox, None, conn.idle)
                .await
                .map_err(|e| e.to_string())?;
            if conn.idle {
                let wait = poll.saturating_sub(polled.map_or(Duration::ZERO, |p| p.elapsed()));
                conn = conn
                    .idle(wait.max(Duration::from_secs(1)))
                    .await
                    .map_err(|e| e.to_string())?
                    .0;
            } else {
                tokio::time::sleep(poll.min(Duration::from_secs(30))).await;
            }
        }
    }

    /// Takes in what is new in one folder.
    async fn sync_folder(
        &self,
        conn: &mut imap::Connection,
        org: OrgId,
        mailbox: MailboxId,
        folder: &Folder,
        own: &[String],
    ) -> Result<(), Failure> {
        let e = |e: &dyn std::fmt::Display| format!("{}: {e}", folder.name);
        let opened = conn.examine(&folder.name).await.map_err(|x| e(&x))?;
        let mark = db::sync::watermark(&self.pool, org, mailbox, &folder.name)
            .await
            .map_err(|x| e(&x))?;
        let (after, remap) = match mark {
            Some(w) if w.uid_validity == opened.uid_validity => {
                // Nothing arrived since: UIDNEXT says so without a search.
                if opened.uid_next.is_some_and(|next| next <= w.last_uid + 1) {
                    return Ok(());
                }
                (w.last_uid, false)
            }
            Some(_) => (0, true),
            None => (0, false),
        };
        let now = OffsetDateTime::now_utc();
        let since =
            (now - time::Duration::days(i64::from(self.settings.imap_lookback_days))).date();
        // The look-back bounds only a first read (or a re-read after a new UIDVALIDITY): later,
        // every UID above the watermark is new, whatever its date (mail moved in keeps its own).
        let since = (after == 0).then_some(since);
        let uids = conn.uids(after, since).await.map_err(|x| e(&x))?;
        let mut mark = Watermark {
            uid_validity: opened.uid_validity,
            last_uid: after,
        };
        if uids.is_empty() {
            // Remember the folder (and a new UIDVALIDITY) even when nothing is in the look-back.
            let last = opened
                .uid_next
                .map_or(after, |n| n.saturating_sub(1).max(after));
            mark.last_uid = last;
            let (_writing, tx) = self.begin().await.map_err(|x| e(&x))?;
            return self.advance(tx, org, mailbox, folder, mark, 0).await;
        }
        let own: Vec<&str> = own.iter().map(String::as_str).collect();
        for chunk in uids.chunks(BATCH) {
            let mut taken = 0;
            // The network first, then one short transaction: what the batch stored, its events
            // and the folder's watermark move together (one commit for the batch), and no
            // database connection waits on the server.
            if folder.role == Role::Sent {
                let headers = conn.fetch_headers(chunk).await.map_err(|x| e(&x))?;
                // Answers written to leads from another mail client: a copy that is not one of
                // ours, to a contact with a conversation, is fetched whole and joins it.
                let mut elsewhere = Vec::new();
                for (uid, h) in &headers {
                    // A campaign's message, or an answer written here.
                    if inbound::sent_copy(h).is_some() || inbound::is_answer_copy(h) {
                        continue;
                    }
                    let Some(id) = inbound::message_id(h) else {
                        continue;
                    };
                    let to = inbound::recipients(h);
                    if let Some(c) = db::replies::conversation_for_copy(&self.pool, org, &to, &id)
                        .await
                        .map_err(|x| e(&x))?
                    {
                        elsewhere.push((*uid, c));
                    }
                }
                let uids: Vec<u32> = elsewhere.iter().map(|(u, _)| *u).collect();
                let copies = if uids.is_empty() {
                    Vec::new()
                } else {
                    conn.fetch(&uids).await.map_err(|x| e(&x))?
                };
                let (_writing, mut tx) = self.begin().await.map_err(|x| e(&x))?;
                for (_, h) in &headers {
                    if inbox::learn_sent(&mut tx, org, &self.links, h)
                        .await
                        .map_err(|x| e(&x))?
                    {
                        taken += 1;
                    }
                }
                let mut answered = Vec::new();
                for (uid, raw) in &copies {
                    let Some((_, c)) = elsewhere.iter().find(|(u, _)| u == uid) else {
                        continue;
                    };
                    if inbox::take_elsewhere(&mut tx, org, mailbox, *c, raw, now)
                        .await
                        .map_err(|x| e(&x))?
                    {
                        taken += 1;
                        answered.push(Some(*c));
                    }
                }
                db::inbox::events(&mut *tx, org, "message", &answered)
                    .await
                    .map_err(|x| e(&x))?;
                mark.last_uid = chunk
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(after)
                    .max(mark.last_uid);
                self.advance(tx, org, mailbox, folder, mark, taken).await?;
                continue;
            }
            let wanted = if remap {
                self.unknown(conn, org, chunk).await.map_err(|x| e(&x))?
            } else {
                chunk.to_vec()
            };
            // Held in memory a piece at a time: a batch of large attachments is cut smaller.
            let sizes = conn.sizes(&wanted).await.map_err(|x| e(&x))?;
            let pieces = pieces(&wanted, &sizes, PIECE_BYTES);
            let chunk_end = chunk.iter().copied().max().unwrap_or(after);
            for (n, piece) in pieces.iter().enumerate() {
                let end = if n + 1 == pieces.len() {
                    chunk_end
                } else {
                    piece.iter().copied().max().unwrap_or(after)
                };
                self.take_piece(conn, org, mailbox, folder, &own, piece, &mut mark, end, now)
                    .await?;
            }
            if pieces.is_empty() {
                mark.last_uid = chunk_end.max(mark.last_uid);
                let (_writing, tx) = self.begin().await.map_err(|x| e(&x))?;
                self.advance(tx, org, mailbox, folder, mark, 0).await?;
            }
        }
        Ok(())
    }

    /// Fetches one piece of a batch and takes it in, moving the watermark to `end` with it.
    #[allow(clippy::too_many_arguments)]
    async fn take_piece(
        &self,
        conn: &mut imap::Connection,
        org: OrgId,
        mailbox: MailboxId,
        folder: &Folder,
        own: &[&str],
        piece: &[u32],
        mark: &mut Watermark,
        end: u32,
        now: OffsetDateTime,
    ) -> Result<(), Failure> {
        let e = |e: &dyn std::fmt::Display| format!("{}: {e}", folder.name);
        let mails = conn.fetch(piece).await.map_err(|x| e(&x))?;
        let (_writing, mut tx) = self.begin().await.map_err(|x| e(&x))?;
        let raws: Vec<&[u8]> = mails.iter().map(|(_, raw)| raw.as_slice()).collect();
        // People who write become contacts; senders of what the server filed as junk do not.
        let strangers = folder.role == Role::Inbox;
        let outcomes = inbox::take_in(&mut tx, org, Some(mailbox), own, &raws, now, strangers)
            .await
            .map_err(|x| e(&x))?;
        let arrived: Vec<_> = outcomes
            .into_iter()
            .filter_map(|o| match o {
                inbox::Ingested::Stored { conversation, .. } => Some(conversation),
                _ => None,
            })
            .collect();
        let taken = i64::try_from(arrived.len()).unwrap_or(0);
        db::inbox::events(&mut *tx, org, "message", &arrived)
            .await
            .map_err(|x| e(&x))?;
        mark.last_uid = end.max(mark.last_uid);
        self.advance(tx, org, mailbox, folder, *mark, taken).await
    }

    /// A transaction to write what was read, once a writer's place is free.
    async fn begin(
        &self,
    ) -> Result<
        (
            tokio::sync::OwnedSemaphorePermit,
            sqlx::Transaction<'static, sqlx::Postgres>,
        ),
        Failure,
    > {
        let permit = self
            .writers
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        Ok((permit, tx))
    }

    /// Moves the folder's watermark in `tx` and commits it, if this worker still holds the
    /// mailbox (otherwise nothing of the batch is kept: the new holder reads it).
    async fn advance(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        org: OrgId,
        mailbox: MailboxId,
        folder: &Folder,
        mark: Watermark,
        taken: i64,
    ) -> Result<(), Failure> {
        let held = db::sync::advance(
            &mut *tx,
            self.holder,
            org,
            mailbox,
            &folder.name,
            folder.role.as_str(),
            mark,
            taken,
        )
        .await
        .map_err(|e| e.to_string())?;
        if !held {
            return Err("another worker holds this mailbox now".into());
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        // Answers the rules left unlabelled wait for the classifier.
        super::classify::wake();
        Ok(())
    }

    /// The UIDs among `uids` whose Message-ID is not stored yet (after a UIDVALIDITY change:
    /// their headers are read, and only new mail is fetched whole).
    async fn unknown(
        &self,
        conn: &mut imap::Connection,
        org: OrgId,
        uids: &[u32],
    ) -> Result<Vec<u32>, Failure> {
        let headers = conn.fetch_headers(uids).await.map_err(|e| e.to_string())?;
        let ids: Vec<(u32, Option<String>)> = headers
            .iter()
            .map(|(uid, h)| (*uid, inbound::message_id(h)))
            .collect();
        let wanted: Vec<String> = ids.iter().filter_map(|(_, id)| id.clone()).collect();
        let known: HashSet<String> = db::sync::known_message_ids(&self.pool, org, &wanted)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        Ok(ids
            .into_iter()
            .filter(|(_, id)| id.as_ref().is_none_or(|i| !known.contains(i)))
            .map(|(uid, _)| uid)
            .collect())
    }
}

/// How many mailboxes of one process write at once: half the pool (at least one).
fn writers(pool: u32) -> usize {
    usize::try_from(pool / 2).unwrap_or(1).max(1)
}

/// `uids` cut into pieces in their order, each holding at most `limit` bytes by the `sizes` the
/// server gave (or a single message larger than that); a UID without a size counts as empty.
fn pieces(uids: &[u32], sizes: &[(u32, u32)], limit: u64) -> Vec<Vec<u32>> {
    let size: std::collections::HashMap<u32, u64> =
        sizes.iter().map(|(u, s)| (*u, u64::from(*s))).collect();
    let mut pieces: Vec<Vec<u32>> = Vec::new();
    let mut held = 0;
    for &uid in uids {
        let bytes = size.get(&uid).copied().unwrap_or(0);
        match pieces.last_mut() {
            Some(piece) if held + bytes <= limit => {
                piece.push(uid);
                held += bytes;
            }
            _ => {
                pieces.push(vec![uid]);
                held = bytes;
            }
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::{pieces, writers};

    #[test]
    fn mailboxes_leave_half_the_pool_to_the_rest() {
        assert_eq!(writers(10), 5);
        assert_eq!(writers(1), 1);
        assert_eq!(writers(0), 1);
    }

    #[test]
    fn a_batch_is_cut_by_the_bytes_it_holds() {
        let uids = [1, 2, 3, 4, 5];
        let sizes = [(1, 40), (2, 50), (3, 30), (4, 200), (5, 10)];
        assert_eq!(
            pieces(&uids, &sizes, 100),
            vec![vec![1, 2], vec![3], vec![4], vec![5]]
        );
        assert_eq!(pieces(&uids, &sizes, 1_000), vec![uids.to_vec()]);
        // Sizes the server did not give count as nothing; no UIDs, no pieces.
        assert_eq!(pieces(&uids, &[], 1), vec![uids.to_vec()]);
        assert!(pieces(&[], &sizes, 100).is_empty());
    }
}

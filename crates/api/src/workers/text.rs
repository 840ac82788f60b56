//! The text sender (SMS and WhatsApp), with the email sender's guarantees: a number's due
//! messages are claimed with a lease into the time slots of the number's pace (kept in the
//! database, so every worker shares it), each lead is checked once more right before its slot
//! (the one "may we contact", then quiet hours in the lead's local time), and each text is posted
//! to Twilio once. Twilio documents no idempotency key for creating a message, so a post whose
//! answer did not come is never repeated: it is left unknown, and later looked for among the
//! account's messages to that number — found, it counts as sent; not found, a person decides.

use super::{Outcome, Wakeup};
use crate::config::Settings;
use crate::crypto::Sealer;
use crate::db;
use crate::db::send::Recorded;
use crate::db::text::{LockedNumber, SendingNumber, TextClaim, TextContext};
use crate::delivery::retry::RetryPolicy;
use crate::domain::contactability::Block;
use crate::domain::phone::{self as rules, Refusal};
use crate::domain::quiet;
use crate::providers::twilio::{Credentials, Outgoing, Twilio, TwilioError};
use aura_types::{
    Channel, ContactId, MessageId, OrgId, PhoneAccountKind, SuppressionKind, SuppressionReason,
    WhatsAppContent,
};
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

static QUEUED: Wakeup = Wakeup::new();

/// Tells this process's text sender that texts were queued.
pub fn wake() {
    QUEUED.wake();
}

/// How far ahead a claim takes a number's slots: a claim holds the texts of the next second,
/// sent each at its moment, while the next claim (by any worker) takes the second after.
const HORIZON_SECS: f64 = 1.0;
/// How long after a claim's moment its first slot can be, at the earliest: more than the claim's
/// transaction takes.
const CLAIM_SETTLE: Duration = Duration::milliseconds(30);
/// The most texts one claim takes (a short code at 100 a second fills a second's slots).
const MAX_CLAIM: i64 = 200;
/// How long a number whose queue at Twilio is full (21611) rests.
const QUEUE_FULL_REST: Duration = Duration::seconds(30);
/// How long after its attempt an unknown text is looked for at Twilio (which lists a message a
/// moment after making it).
const RECONCILE_AFTER: Duration = Duration::seconds(60);
/// Answers written in the inbox taken in one turn.
const ANSWERS_PER_TURN: i64 = 20;
/// An answer's lease covers the wait for its number's slot too.
const ANSWER_LEASE_EXTRA_SECS: i64 = 60;
/// The longest an answer waits for its number's slot while claimed; a later slot is waited for
/// queued.
const ANSWER_MAX_WAIT_SECS: f64 = 5.0;
/// Unknown texts are looked for at most this often.
const RECONCILE_EVERY: Duration = Duration::seconds(30);

/// The seconds between two texts of a number sending `per_second` a second.
///
/// Paced 0.5% under the configured rate: the slots are exact, but the moment each request
/// reaches Twilio varies by a few milliseconds, and at the exact rate two such delays could put
/// one text more than the rate into some one-second window. 0.5% keeps the achieved rate within
/// 1% of the configured one (see docs/PERFORMANCE.md, pacing).
pub fn interval_secs(per_second: f64) -> f64 {
    1.0 / (per_second.clamp(0.001, 1000.0) * 0.995)
}

/// What else a text's outcome means, applied when it is recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    /// Twilio (or the sandbox) took it: its sid and status.
    Accepted {
        sid: String,
        status: String,
        /// What went instead of the prepared text (a WhatsApp template, filled in).
        body: Option<String>,
    },
    /// Twilio refused it with this code.
    Code(i64),
    /// The number cannot receive texts: suppressed, never tried again.
    Unreachable {
        code: i64,
        number: String,
    },
    /// The recipient opted out with their carrier: as if they had replied STOP.
    OptedOut {
        number: String,
    },
    /// The sending number's queue is full: it rests.
    Rest,
    /// A template went (or may have gone) instead of the prepared text: the message shows it,
    /// and an unknown outcome is looked for by it.
    Wrote {
        body: String,
    },
}

/// What became of one text.
#[derive(Clone, Debug)]
pub struct Done {
    pub org: OrgId,
    pub id: MessageId,
    pub contact: ContactId,
    pub recorded: Recorded,
    pub effect: Effect,
}

/// What Twilio's refusal of a text means (a pure function of its answer).
pub fn refused(
    error: TwilioError,
    to: &str,
    attempts: i32,
    policy: &RetryPolicy,
    now: OffsetDateTime,
) -> (Recorded, Effect) {
    let retry = |reply: String, at: Option<OffsetDateTime>| match (at, policy.next(attempts, now)) {
        (Some(at), Some(_)) => Recorded::Retry { reply, at },
        (None, Some(at)) => Recorded::Retry { reply, at },
        (_, None) => Recorded::Failed {
            reply: format!("Gave up after {attempts} attempts: {reply}"),
        },
    };
    match error {
        TwilioError::NotSent(e) => (retry(format!("Not sent: {e}"), None), Effect::None),
        TwilioError::Unknown(e) => (
            Recorded::Unknown {
                reply: format!(
                    "Twilio's answer did not come ({e}); the text may or may not have gone out. \
                     Aura looks for it among the account's messages."
                ),
            },
            Effect::None,
        ),
        TwilioError::Refused {
            status,
            code,
            message,
            retry_after,
        } => {
            let words = if code == 0 {
                format!("Twilio answered {status}: {message}")
            } else {
                format!("{} (Twilio {code}: {message})", rules::explain(code))
            };
            let wait = retry_after
                .map(|s| now + Duration::seconds(i64::try_from(s.as_secs()).unwrap_or(60)));
            if code == 0 && (status == 429 || status >= 500) {
                return (retry(words, wait), Effect::None);
            }
            match rules::refusal(code) {
                Refusal::RateLimited => (retry(words, wait), Effect::Code(code)),
                Refusal::QueueFull => (retry(words, Some(now + QUEUE_FULL_REST)), Effect::Rest),
                Refusal::Unusable => (
                    Recorded::Failed { reply: words },
                    Effect::Unreachable {
                        code,
                        number: to.to_owned(),
                    },
                ),
                Refusal::OptedOut => (
                    Recorded::Failed { reply: words },
                    Effect::OptedOut {
                        number: to.to_owned(),
                    },
                ),
                // Credentials refused: the account's settings are wrong, and may be mended.
                _ if status == 401 || code == 20003 => (retry(words, None), Effect::Code(code)),
                Refusal::Spam | Refusal::OutsideWindow | Refusal::Failed => {
                    (Recorded::Failed { reply: words }, Effect::Code(code))
                }
            }
        }
    }
}

/// One text about to go: a campaign's, or an answer written in the inbox.
struct Text<'a> {
    org: OrgId,
    /// The campaign message (none for an answer).
    message: Option<MessageId>,
    channel: Channel,
    to: &'a str,
    body: &'a str,
    template: Option<&'a Templated>,
    attempts: i32,
}

impl Ready {
    fn text(&self) -> Text<'_> {
        Text {
            org: self.claim.org_id,
            message: Some(self.claim.id),
            channel: self.claim.channel,
            to: &self.to,
            body: &self.body,
            template: self.template.as_ref(),
            attempts: self.claim.attempts,
        }
    }
}

/// One worker's text sender.
pub struct TextSender {
    pool: PgPool,
    settings: Arc<Settings>,
    sealer: Arc<Sealer>,
    twilio: Twilio,
    reconciled_at: std::sync::Mutex<Option<OffsetDateTime>>,
}

/// A WhatsApp template sent instead of free text (the lead's window is closed).
#[derive(Clone, Debug)]
struct Templated {
    sid: String,
    /// `ContentVariables`: the lead's values, as JSON.
    variables: String,
}

/// A text ready to go at its slot.
struct Ready {
    claim: TextClaim,
    to: String,
    /// What the lead reads (a template's text, filled in, when `template` is set).
    body: String,
    template: Option<Templated>,
    /// Seconds after the claim's moment.
    after: f64,
}

impl TextSender {
    pub fn new(pool: PgPool, settings: Arc<Settings>, sealer: Arc<Sealer>, twilio: Twilio) -> Self {
        Self {
            pool,
            settings,
            sealer,
            twilio,
            reconciled_at: std::sync::Mutex::new(None),
        }
    }

    /// The job loop (a worker runs a few, sharing the sender).
    pub async fn run_forever(self: Arc<Self>) {
        loop {
            match self.run_once(OffsetDateTime::now_utc()).await {
                Ok(Outcome::Worked) => continue,
                Ok(Outcome::Idle) => {}
                Err(e) => tracing::warn!(error = ?e, "text sender error; will retry"),
            }
            QUEUED.wait().await;
        }
    }

    /// Sends until nothing is claimable at `now` (tests drive the clock with this; slots after
    /// `now` are waited for in real time).
    pub async fn run_until_idle(&self, now: OffsetDateTime) -> anyhow::Result<()> {
        while self.run_once(now).await? == Outcome::Worked {}
        Ok(())
    }

    fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.settings.send_max_attempts,
            base_secs: self.settings.send_retry_secs,
        }
    }

    /// One claim of a number's next slots, its sends and their record.
    pub async fn run_once(&self, now: OffsetDateTime) -> anyhow::Result<Outcome> {
        // Answers written in the inbox go first: a person is waiting on them.
        if self.answer(now).await? {
            return Ok(Outcome::Worked);
        }
        if self.reconcile_due(now) {
            // Looking for unknown texts may take a while (calls to Twilio): the claim that
            // follows is the next turn's, with its own clock.
            self.reconcile(now).await?;
            return Ok(Outcome::Worked);
        }
        let began = tokio::time::Instant::now();
        let mut tx = self.pool.begin().await?;
        let Some(mut number) = db::text::lock_number(&mut tx, now, HORIZON_SECS).await? else {
            tx.commit().await?;
            return Ok(Outcome::Idle);
        };
        // A number whose turn has come already starts a moment from now, once this claim is
        // committed: a first text posted late by the claim's own work, followed by an on-time
        // second, would be closer than the pace allows.
        number.start = number.start.max(now + CLAIM_SETTLE);
        let interval = interval_secs(number.per_second);
        let ahead = (now - number.start).as_seconds_f64() + HORIZON_SECS;
        // Truncation intended: the whole slots that fit before the horizon, and the first.
        #[allow(clippy::cast_possible_truncation)]
        let room = ((ahead.max(0.0) / interval).floor() as i64 + 1).clamp(1, MAX_CLAIM);
        let lease = Duration::seconds_f64(interval * room as f64)
            + Duration::seconds(self.settings.send_lease_secs.max(1));
        let claimed = db::text::claim(&mut tx, &number, now, room, number.start + lease).await?;
        if claimed.is_empty() {
            tx.commit().await?;
            return Ok(Outcome::Idle);
        }
        let next = number.start + Duration::seconds_f64(interval * claimed.len() as f64);
        db::text::pace(&mut *tx, number.org_id, number.id, next).await?;
        let contexts: HashMap<MessageId, TextContext> = db::text::context(&mut tx, &claimed)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let sender = db::text::sending_number(&mut *tx, number.org_id, number.id).await?;
        let account = match &sender {
            Some(s) => db::phone::account(&mut *tx, number.org_id, s.account_id).await?,
            None => None,
        };
        tx.commit().await?;
        // Another loop may take the next number (or this one's next second) meanwhile.
        QUEUED.wake();
        let (ready, mut done) = self.check(&number, claimed, &contexts, interval, now);
        let sent = match (sender, account) {
            (Some(sender), Some(account)) => {
                let creds = match account.kind {
                    PhoneAccountKind::Sandbox => Ok(None),
                    PhoneAccountKind::Twilio => account.credentials(&self.sealer).map(Some),
                };
                self.send_all(&sender, creds, ready, began, now).await
            }
            _ => ready
                .into_iter()
                .map(|r| Done {
                    org: r.claim.org_id,
                    id: r.claim.id,
                    contact: r.claim.contact_id,
                    recorded: Recorded::Failed {
                        reply: "The sending number was removed.".into(),
                    },
                    effect: Effect::None,
                })
                .collect(),
        };
        done.extend(sent);
        self.record(&number, &done, now).await?;
        Ok(Outcome::Worked)
    }

    /// The re-check right before sending: which texts go (each at its slot) and which do not.
    fn check(
        &self,
        number: &LockedNumber,
        claimed: Vec<TextClaim>,
        contexts: &HashMap<MessageId, TextContext>,
        interval: f64,
        now: OffsetDateTime,
    ) -> (Vec<Ready>, Vec<Done>) {
        let mut ready = Vec::with_capacity(claimed.len());
        let mut done = Vec::new();
        for (i, claim) in claimed.into_iter().enumerate() {
            let after = (number.start - now).as_seconds_f64().max(0.0) + interval * i as f64;
            let slot = now + Duration::seconds_f64(after);
            let not = |recorded| Done {
                org: claim.org_id,
                id: claim.id,
                contact: claim.contact_id,
                recorded,
                effect: Effect::None,
            };
            let cancel = |reason: String| not(Recorded::Cancelled { reason });
            let Some(x) = contexts.get(&claim.id) else {
                done.push(cancel("The lead or campaign no longer exists.".into()));
                continue;
            };
            if x.hold {
                done.push(not(Recorded::Release));
                continue;
            }
            if x.left {
                done.push(cancel("The lead left the campaign.".into()));
                continue;
            }
            // Not reachable on this channel: this step is skipped, the lead's next steps (on
            // other channels) still go.
            let skip = |reason: String| not(Recorded::Skipped { reason });
            let Some(to) = x.to.clone() else {
                done.push(skip(match claim.channel {
                    Channel::Whatsapp => "The lead has no WhatsApp number.".into(),
                    _ => "The lead has no phone number.".into(),
                }));
                continue;
            };
            if let Some(block) = Block::from_row(x.block_code.as_deref(), x.block_detail.clone()) {
                done.push(skip(block.describe(claim.channel)));
                continue;
            }
            let fallback = crate::delivery::window::zone(None, &x.campaign_timezone);
            let (window, zones) = quiet::rules_for(
                &quiet::Recipient {
                    timezone: x.timezone.as_deref(),
                    state: x.state.as_deref(),
                    country: x.country.as_deref(),
                    number: &to,
                },
                fallback,
            );
            if !quiet::allowed(slot, window, &zones) {
                let at = quiet::next_allowed(slot, window, &zones);
                done.push(not(Recorded::Defer {
                    reply: format!(
                        "Quiet hours where the lead is ({}:00–{}:00 local time): it goes at {}.",
                        window.start,
                        window.end,
                        at.format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default()
                    ),
                    at,
                }));
                continue;
            }
            let (body, template) = if claim.channel == Channel::Whatsapp
                && !rules::whatsapp_window_open(x.last_inbound, slot)
            {
                // Outside the 24-hour window only an approved template may go.
                let content = x
                    .template
                    .clone()
                    .and_then(|t| serde_json::from_value::<WhatsAppContent>(t).ok());
                let Some(content) = content else {
                    done.push(skip(
                        "Outside the lead's 24-hour WhatsApp window, and the step has no template: \
                         only an approved template can reach them until they write again."
                            .into(),
                    ));
                    continue;
                };
                let values: BTreeMap<String, String> = x
                    .content_variables
                    .clone()
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default();
                // The values were filled in when the message was prepared: a template chosen or
                // changed since may name a variable they lack.
                let lacking: Vec<String> = aura_types::content_placeholders(&content.body)
                    .into_iter()
                    .filter(|n| values.get(n).is_none_or(|v| v.trim().is_empty()))
                    .collect();
                if !lacking.is_empty() {
                    done.push(skip(format!(
                        "The step's template changed after this message was prepared ({} has no value): prepare the campaign's messages again.",
                        lacking
                            .iter()
                            .map(|n| format!("{{{{{n}}}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                    continue;
                }
                (
                    aura_types::fill_content(&content.body, &values),
                    Some(Templated {
                        sid: content.sid,
                        variables: serde_json::to_string(&values).unwrap_or_else(|_| "{}".into()),
                    }),
                )
            } else {
                (
                    rules::outgoing_body(
                        &claim.body_text,
                        x.first,
                        &x.org_name,
                        x.footer.as_deref(),
                    ),
                    None,
                )
            };
            ready.push(Ready {
                claim,
                to,
                body,
                template,
                after,
            });
        }
        (ready, done)
    }

    /// Sends each ready text at its slot, all of one claim at once (a slow answer from Twilio
    /// does not hold back the next slot).
    async fn send_all(
        &self,
        sender: &SendingNumber,
        creds: Result<Option<Credentials>, String>,
        ready: Vec<Ready>,
        began: tokio::time::Instant,
        now: OffsetDateTime,
    ) -> Vec<Done> {
        let creds = match creds {
            Ok(c) => c,
            Err(reply) => {
                let policy = self.policy();
                return ready
                    .into_iter()
                    .map(|r| {
                        let (recorded, effect) = refused(
                            TwilioError::NotSent(reply.clone()),
                            &r.to,
                            r.claim.attempts,
                            &policy,
                            now,
                        );
                        Done {
                            org: r.claim.org_id,
                            id: r.claim.id,
                            contact: r.claim.contact_id,
                            recorded,
                            effect,
                        }
                    })
                    .collect();
            }
        };
        let callback = format!(
            "{}/api/v1/twilio/{}/status",
            self.settings.public_url, sender.account_id
        );
        let sends = ready.into_iter().map(|r| {
            let creds = creds.clone();
            let callback = callback.clone();
            async move {
                tokio::time::sleep_until(began + std::time::Duration::from_secs_f64(r.after)).await;
                let (recorded, effect) = match creds {
                    None => self.keep(sender, &r.text()).await,
                    Some(creds) => self.post(sender, &creds, &r.text(), &callback, now).await,
                };
                Done {
                    org: r.claim.org_id,
                    id: r.claim.id,
                    contact: r.claim.contact_id,
                    recorded,
                    effect,
                }
            }
        });
        futures_util::future::join_all(sends).await
    }

    /// The sandbox: the text is kept in the phone outbox, never sent.
    async fn keep(&self, sender: &SendingNumber, t: &Text<'_>) -> (Recorded, Effect) {
        let kept = db::text::keep_in_outbox(
            &self.pool,
            t.org,
            Some(sender.id),
            t.message,
            t.channel,
            &sender.number,
            t.to,
            t.body,
        )
        .await;
        match kept {
            Ok(()) => (
                Recorded::Sent {
                    reply: "Sandbox: kept in the phone outbox, not sent.".into(),
                },
                Effect::Accepted {
                    sid: format!("SM{}", uuid::Uuid::now_v7().simple()),
                    status: "sent".into(),
                    body: t.template.is_some().then(|| t.body.to_owned()),
                },
            ),
            Err(e) => (
                Recorded::Retry {
                    reply: format!("The sandbox outbox could not keep the text: {e}"),
                    at: OffsetDateTime::now_utc() + Duration::minutes(1),
                },
                Effect::None,
            ),
        }
    }

    async fn post(
        &self,
        sender: &SendingNumber,
        creds: &Credentials,
        t: &Text<'_>,
        callback: &str,
        now: OffsetDateTime,
    ) -> (Recorded, Effect) {
        let whatsapp = t.channel == Channel::Whatsapp;
        let address = |n: &str| {
            if whatsapp {
                format!("whatsapp:{n}")
            } else {
                n.to_owned()
            }
        };
        let to = address(t.to);
        let from = address(&sender.number);
        let outgoing = Outgoing {
            to: &to,
            from: sender
                .messaging_service_sid
                .is_none()
                .then_some(from.as_str()),
            messaging_service_sid: sender.messaging_service_sid.as_deref(),
            // A template's text is Twilio's to fill: the body is left out.
            body: t.template.is_none().then_some(t.body),
            content_sid: t.template.map(|c| c.sid.as_str()),
            content_variables: t.template.map(|c| c.variables.as_str()),
            status_callback: Some(callback),
            ..Outgoing::default()
        };
        match self.twilio.send(creds, &outgoing).await {
            Ok(m) => (
                Recorded::Sent {
                    reply: match t.template {
                        Some(c) => {
                            format!("Twilio accepted it ({}; template {}).", m.status, c.sid)
                        }
                        None => format!("Twilio accepted it ({}).", m.status),
                    },
                },
                Effect::Accepted {
                    sid: m.sid,
                    status: m.status,
                    body: t.template.is_some().then(|| t.body.to_owned()),
                },
            ),
            Err(e) => match (
                refused(e, t.to, t.attempts, &self.policy(), now),
                t.template,
            ) {
                ((recorded @ Recorded::Unknown { .. }, _), Some(_)) => (
                    recorded,
                    Effect::Wrote {
                        body: t.body.to_owned(),
                    },
                ),
                (outcome, _) => outcome,
            },
        }
    }

    /// Sends the answers by text written in the inbox that are due, each in the next slot of
    /// its number's pace, checked once more through the one "may we contact" (quiet hours do
    /// not hold back an answer to a lead who wrote). `false` when none was due.
    async fn answer(&self, now: OffsetDateTime) -> anyhow::Result<bool> {
        let claimed = {
            let mut conn = self.pool.acquire().await?;
            let lease = self.settings.send_lease_secs.max(1) + ANSWER_LEASE_EXTRA_SECS;
            db::replies::claim_texts(&mut conn, now, ANSWERS_PER_TURN, lease).await?
        };
        if claimed.is_empty() {
            return Ok(false);
        }
        let sends = claimed.iter().map(|a| self.answer_one(a, now));
        let outcomes = futures_util::future::join_all(sends).await;
        let mut tx = self.pool.begin().await?;
        for (a, (recorded, effect)) in claimed.iter().zip(outcomes) {
            db::replies::record(&mut *tx, a.org_id, a.id, &recorded, now).await?;
            match effect {
                Effect::Accepted { sid, .. } => {
                    db::replies::provider_sid(&mut *tx, a.org_id, a.id, &sid).await?;
                }
                Effect::Unreachable { code, number } => {
                    db::suppressions::insert_many(
                        &mut tx,
                        a.org_id,
                        &[(SuppressionKind::Phone, number)],
                        SuppressionReason::Unreachable,
                        Some(&format!("Twilio {code}")),
                    )
                    .await?;
                }
                Effect::OptedOut { number } => {
                    crate::inbox::phone::opt_out(
                        &mut tx,
                        a.org_id,
                        a.contact_id,
                        &number,
                        "carrier",
                        "Twilio 21610: the recipient opted out of messages from this sender.",
                        now,
                    )
                    .await?;
                }
                Effect::None | Effect::Code(_) | Effect::Rest | Effect::Wrote { .. } => {}
            }
            db::inbox::event(&mut *tx, a.org_id, "message", Some(a.conversation_id)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// One answer by text: checked, given its slot, then posted (or kept by the sandbox).
    async fn answer_one(
        &self,
        a: &db::replies::ClaimedText,
        now: OffsetDateTime,
    ) -> (Recorded, Effect) {
        if let Some(block) = Block::from_row(a.block_code.as_deref(), a.block_detail.clone())
            .filter(|b| b.holds_for_answer(a.last_inbound.is_some()))
        {
            return (
                Recorded::Cancelled {
                    reason: block.describe(a.channel),
                },
                Effect::None,
            );
        }
        let failed = |reply: &str| {
            (
                Recorded::Failed {
                    reply: reply.to_owned(),
                },
                Effect::None,
            )
        };
        if a.channel == Channel::Whatsapp
            && a.content_sid.is_none()
            && !rules::whatsapp_window_open(a.last_inbound, now)
        {
            return failed("The lead's 24-hour WhatsApp window closed before this answer went: answer again with an approved template.");
        }
        let found = match a.phone_number_id {
            Some(n) => db::text::sending_number(&self.pool, a.org_id, n).await,
            None => Ok(None),
        };
        let sender = match found {
            Ok(Some(s)) => s,
            Ok(None) => return failed("The sending number was removed."),
            Err(e) => {
                return (
                    Recorded::Retry {
                        reply: format!("The sending number could not be read: {e}"),
                        at: now + Duration::seconds(30),
                    },
                    Effect::None,
                )
            }
        };
        let creds = match db::phone::account(&self.pool, a.org_id, sender.account_id).await {
            Ok(Some(account)) => match account.kind {
                PhoneAccountKind::Sandbox => Ok(None),
                PhoneAccountKind::Twilio => account.credentials(&self.sealer).map(Some),
            },
            Ok(None) => Err("the sending number's account is gone".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        let creds = match creds {
            Ok(c) => c,
            Err(e) => {
                return refused(
                    TwilioError::NotSent(e),
                    &a.to_address,
                    a.attempts,
                    &self.policy(),
                    now,
                )
            }
        };
        // The number's pace holds for answers too: the next slot is taken and, when it is a
        // moment away, waited for; further away (a busy number), the answer waits for it queued.
        let interval = interval_secs(sender.per_second);
        if let Ok(Some(slot)) =
            db::text::take_slot(&self.pool, a.org_id, sender.id, now, interval).await
        {
            let wait = (slot - now).as_seconds_f64().max(0.0);
            if wait > ANSWER_MAX_WAIT_SECS {
                return (
                    Recorded::Defer {
                        reply: "Waiting for the number's next free moment (its pace).".into(),
                        at: slot,
                    },
                    Effect::None,
                );
            }
            tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
        }
        let template = a.content_sid.clone().map(|sid| Templated {
            sid,
            variables: a
                .content_variables
                .as_ref()
                .map_or_else(|| "{}".to_owned(), ToString::to_string),
        });
        let text = Text {
            org: a.org_id,
            message: None,
            channel: a.channel,
            to: &a.to_address,
            body: &a.body_text,
            template: template.as_ref(),
            attempts: a.attempts,
        };
        let (recorded, effect) = match creds {
            None => self.keep(&sender, &text).await,
            Some(creds) => {
                let callback = format!(
                    "{}/api/v1/twilio/{}/status",
                    self.settings.public_url, sender.account_id
                );
                self.post(&sender, &creds, &text, &callback, now).await
            }
        };
        // Nothing looks for an answer afterwards: a person checks at Twilio.
        match recorded {
            Recorded::Unknown { .. } => (
                Recorded::Unknown {
                    reply: "Twilio's answer did not come: this answer may or may not have gone out (check the number's messages at Twilio).".into(),
                },
                effect,
            ),
            other => (other, effect),
        }
    }

    /// Records a claim's outcomes and their effects in one transaction.
    async fn record(
        &self,
        number: &LockedNumber,
        done: &[Done],
        now: OffsetDateTime,
    ) -> anyhow::Result<()> {
        let outcomes: Vec<_> = done
            .iter()
            .map(|d| (d.org, d.id, d.recorded.clone()))
            .collect();
        let mut tx = self.pool.begin().await?;
        db::send::record(&mut tx, &outcomes, now).await?;
        for d in done {
            match &d.effect {
                Effect::None => {}
                Effect::Accepted { sid, status, body } => {
                    db::text::accepted(&mut tx, d.org, d.id, sid, status, body.as_deref()).await?;
                }
                Effect::Code(code) => db::text::refused(&mut tx, d.org, d.id, *code).await?,
                Effect::Unreachable { code, number } => {
                    db::text::refused(&mut tx, d.org, d.id, *code).await?;
                    db::suppressions::insert_many(
                        &mut tx,
                        d.org,
                        &[(SuppressionKind::Phone, number.clone())],
                        SuppressionReason::Unreachable,
                        Some(&format!("Twilio {code}")),
                    )
                    .await?;
                }
                Effect::OptedOut { number } => {
                    db::text::refused(&mut tx, d.org, d.id, 21610).await?;
                    crate::inbox::phone::opt_out(
                        &mut tx,
                        d.org,
                        d.contact,
                        number,
                        "carrier",
                        "Twilio 21610: the recipient opted out of messages from this sender.",
                        now,
                    )
                    .await?;
                }
                Effect::Wrote { body } => {
                    db::text::wrote(&mut *tx, d.org, d.id, body).await?;
                }
                Effect::Rest => {
                    db::text::refused(&mut tx, d.org, d.id, 21611).await?;
                    db::text::pace(&mut *tx, number.org_id, number.id, now + QUEUE_FULL_REST)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    fn reconcile_due(&self, now: OffsetDateTime) -> bool {
        let Ok(mut last) = self.reconciled_at.lock() else {
            return true;
        };
        let due = last.is_none_or(|t| now < t || now - t >= RECONCILE_EVERY);
        if due {
            *last = Some(now);
        }
        due
    }

    /// Looks for unknown texts among their accounts' messages: found, each counts as sent;
    /// not found, it stays unknown for a person, with what was looked for.
    pub async fn reconcile(&self, now: OffsetDateTime) -> anyhow::Result<()> {
        let unknown = db::text::unreconciled(&self.pool, now - RECONCILE_AFTER, 20).await?;
        for u in unknown {
            // What cannot be looked for is left for a person at once, with why (so it does not
            // come up again and again ahead of the others).
            let cannot = |why: &str| {
                let pool = self.pool.clone();
                let reply = format!(
                    "Not looked for at Twilio: {why} Check, then send it again or mark it sent."
                );
                async move { db::text::reconciled(&pool, u.org_id, u.id, &reply, now).await }
            };
            let Some(account) = db::phone::account(&self.pool, u.org_id, u.account_id).await?
            else {
                cannot("the sending number's account is gone.").await?;
                continue;
            };
            let Some(to) = u.to.clone() else {
                cannot("the lead has no number any more.").await?;
                continue;
            };
            let creds = match account.kind {
                PhoneAccountKind::Sandbox => Err("the sandbox sends nothing.".to_owned()),
                PhoneAccountKind::Twilio => account.credentials(&self.sealer),
            };
            let Ok(creds) = creds else {
                cannot("the account's credentials cannot be read.").await?;
                continue;
            };
            let whatsapp = u.channel == Channel::Whatsapp;
            let address = |n: &str| {
                if whatsapp {
                    format!("whatsapp:{n}")
                } else {
                    n.to_owned()
                }
            };
            let listed = match self.twilio.messages_to(&creds, &address(&to)).await {
                Ok(listed) => listed,
                Err(e) => {
                    tracing::warn!(error = ?e, "looking for an unknown text at Twilio failed; will retry");
                    continue;
                }
            };
            let from = address(&u.from_number);
            let mut found = None;
            for m in listed {
                let same = m
                    .body
                    .as_deref()
                    .is_some_and(|b| b.starts_with(u.body_text.trim_end()))
                    && m.from
                        .as_deref()
                        .is_none_or(|f| f == from || account_uses_service(&m));
                if same && !db::text::sid_known(&self.pool, u.org_id, &m.sid).await? {
                    found = Some(m);
                    break;
                }
            }
            let mut tx = self.pool.begin().await?;
            match found {
                Some(m) => {
                    if db::text::lease_unknown(&mut *tx, u.org_id, u.id, now).await? {
                        let reply = format!(
                            "Found at Twilio after its answer did not come ({}).",
                            m.status
                        );
                        db::send::record(
                            &mut tx,
                            &[(u.org_id, u.id, Recorded::Sent { reply })],
                            now,
                        )
                        .await?;
                        db::text::accepted(&mut tx, u.org_id, u.id, &m.sid, &m.status, None)
                            .await?;
                    }
                }
                None => {
                    db::text::reconciled(
                        &mut *tx,
                        u.org_id,
                        u.id,
                        "Not found among the account's messages to this number: most likely not sent. Send it again or mark it sent.",
                        now,
                    )
                    .await?;
                }
            }
            tx.commit().await?;
        }
        Ok(())
    }
}

/// A message sent through a Messaging Service may come from any number of its pool.
fn account_uses_service(m: &crate::providers::twilio::Message) -> bool {
    m.messaging_service_sid.is_some()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    fn refusal(status: u16, code: i64, retry_after: Option<u64>) -> TwilioError {
        TwilioError::Refused {
            status,
            code,
            message: "m".into(),
            retry_after: retry_after.map(std::time::Duration::from_secs),
        }
    }

    #[test]
    fn each_refusal_becomes_its_outcome() {
        let now = datetime!(2027-01-04 15:00 UTC);
        let policy = RetryPolicy {
            max_attempts: 5,
            base_secs: 60,
        };
        let to = "+15005550009";
        let r = |e| refused(e, to, 1, &policy, now);
        assert!(matches!(
            r(refusal(400, 21211, None)),
            (
                Recorded::Failed { .. },
                Effect::Unreachable { code: 21211, .. }
            )
        ));
        assert!(matches!(
            r(refusal(400, 21614, None)).1,
            Effect::Unreachable { .. }
        ));
        assert!(matches!(
            r(refusal(400, 21610, None)).1,
            Effect::OptedOut { .. }
        ));
        let (rec, eff) = r(refusal(400, 21408, None));
        assert!(
            matches!(&rec, Recorded::Failed { reply } if reply.contains("not enabled")),
            "{rec:?}"
        );
        assert_eq!(eff, Effect::Code(21408));
        assert_eq!(
            r(refusal(429, 20429, Some(7))).0,
            Recorded::Retry {
                reply: format!("{} (Twilio 20429: m)", rules::explain(20429)),
                at: now + Duration::seconds(7)
            }
        );
        assert!(matches!(r(refusal(429, 0, None)).0, Recorded::Retry { .. }));
        assert!(matches!(r(refusal(503, 0, None)).0, Recorded::Retry { .. }));
        assert_eq!(r(refusal(400, 21611, None)).1, Effect::Rest);
        assert!(matches!(
            r(refusal(400, 63016, None)),
            (Recorded::Failed { .. }, Effect::Code(63016))
        ));
        assert!(matches!(
            r(TwilioError::Unknown("timed out".into())).0,
            Recorded::Unknown { .. }
        ));
        assert!(matches!(
            r(TwilioError::NotSent("refused".into())).0,
            Recorded::Retry { .. }
        ));
        // Out of attempts, a passing failure fails.
        assert!(matches!(
            refused(refusal(503, 0, None), to, 5, &policy, now).0,
            Recorded::Failed { .. }
        ));
    }

    #[test]
    fn the_pace_stays_within_one_percent_below_the_rate() {
        for rate in [1.0, 3.0, 80.0, 100.0] {
            let achieved = 1.0 / interval_secs(rate);
            assert!(
                achieved <= rate && achieved >= rate * 0.99,
                "{rate}: {achieved}"
            );
        }
    }
}

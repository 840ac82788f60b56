//! The scheduler: turns due targets into queued email and texts. For each active lead of an active
//! campaign whose next step is due it takes the step's approved message and queues it — only
//! inside the campaign's send window in the lead's own time zone, within the campaign's daily
//! new-lead cap and the mailbox's daily limit (after ramp-up); otherwise it moves the lead to
//! the next allowed moment. The mailbox is sticky per lead (rotation picks the least used one
//! with room left the first time), so follow-ups thread from the same address.

use super::Outcome;
use crate::db;
use crate::db::mailboxes::MailboxRow;
use crate::db::schedule::DueTarget;
use crate::delivery::email::new_message_id;
use crate::delivery::window::{self, Window};
use crate::domain::inbound::subject::reply_subject;
use aura_types::{
    CampaignId, Channel, MailboxId, MailboxStatus, MessageStatus, OrgId, PhoneNumberId, Step,
};
use sqlx::PgPool;
use std::collections::HashMap;
use time::{Duration, OffsetDateTime};

/// Targets looked at per transaction.
pub const BATCH: i64 = 200;
/// How long a lead whose message is not approved yet waits before the next look.
const APPROVAL_RECHECK: Duration = Duration::minutes(10);
/// How long a lead whose step's channel has no sender here waits before the next look.
const CHANNEL_RECHECK: Duration = Duration::hours(1);

/// What the scheduler decided for one target.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Queued(MailboxId),
    /// A text, queued on this number.
    Texted(PhoneNumberId),
    /// Moved to this moment (outside the window, cap or limit reached, waiting for approval).
    Later(OffsetDateTime),
    Skipped,
    Completed,
}

struct CampaignState {
    steps: Vec<Step>,
    mailboxes: Vec<MailboxRow>,
    /// First-step messages queued today (campaign's local day) so far.
    started_today: i64,
    /// The organization's numbers for each text channel, read when first needed.
    numbers: HashMap<Channel, Vec<PhoneNumberId>>,
}

/// One turn over up to `BATCH` due targets; `Worked` when any was due.
pub async fn run_once(pool: &PgPool, now: OffsetDateTime) -> anyhow::Result<Outcome> {
    let mut tx = pool.begin().await?;
    let due = db::schedule::due_targets(&mut tx, now, BATCH).await?;
    if due.is_empty() {
        tx.commit().await?;
        db::schedule::complete_finished_campaigns(pool).await?;
        return Ok(Outcome::Idle);
    }
    let mut campaigns: HashMap<(OrgId, CampaignId), CampaignState> = HashMap::new();
    let mut prepare: Vec<(OrgId, CampaignId)> = Vec::new();
    for t in &due {
        let key = (t.org_id, t.campaign_id);
        if let std::collections::hash_map::Entry::Vacant(e) = campaigns.entry(key) {
            e.insert(load_campaign(&mut tx, t, now).await?);
        }
        let Some(state) = campaigns.get_mut(&key) else {
            continue;
        };
        let decision = decide(&mut tx, t, state, now, &mut prepare).await?;
        tracing::debug!(campaign = %t.campaign_id, contact = %t.contact_id, ?decision, "scheduled");
    }
    for (org, campaign) in prepare {
        db::messages::open_preparation(&mut tx, org, campaign, None).await?;
        super::prepare::wake();
    }
    tx.commit().await?;
    super::send::wake();
    Ok(Outcome::Worked)
}

static DUE: super::Wakeup = super::Wakeup::new();

/// Tells this process's scheduler to look now (a campaign was launched or resumed).
pub fn wake() {
    DUE.wake();
}

/// The job loop: a turn whenever woken, or every second.
pub async fn run_forever(pool: PgPool) {
    loop {
        match run_once(&pool, OffsetDateTime::now_utc()).await {
            Ok(Outcome::Worked) => continue,
            Ok(Outcome::Idle) => {}
            Err(e) => tracing::warn!(error = ?e, "scheduler error; will retry"),
        }
        DUE.wait().await;
    }
}

/// Runs turns until nothing is due at `now` (tests drive the clock with this).
pub async fn run_until_idle(pool: &PgPool, now: OffsetDateTime) -> anyhow::Result<()> {
    while run_once(pool, now).await? == Outcome::Worked {}
    Ok(())
}

fn campaign_window(t: &DueTarget) -> Window {
    Window {
        days: t.send_days.clone(),
        start: t.send_start,
        end: t.send_end,
    }
}

/// The start of the local day of `now` in the campaign's time zone.
fn local_day_start(now: OffsetDateTime, tz: chrono_tz::Tz) -> OffsetDateTime {
    use chrono::TimeZone;
    let utc = chrono::Utc
        .timestamp_opt(now.unix_timestamp(), 0)
        .single()
        .unwrap_or_default();
    let local = utc.with_timezone(&tz).date_naive();
    let midnight = local.and_hms_opt(0, 0, 0).unwrap_or_default();
    let start = tz
        .from_local_datetime(&midnight)
        .earliest()
        .map_or(utc, |t| t.with_timezone(&chrono::Utc));
    OffsetDateTime::from_unix_timestamp(start.timestamp()).unwrap_or(now)
}

async fn load_campaign(
    conn: &mut sqlx::PgConnection,
    t: &DueTarget,
    now: OffsetDateTime,
) -> anyhow::Result<CampaignState> {
    let steps = db::campaigns::steps(&mut *conn, t.org_id, t.campaign_id).await?;
    let ids = db::mailboxes::of_campaign(&mut *conn, t.org_id, t.campaign_id).await?;
    let mailboxes = db::mailboxes::list(&mut *conn, t.org_id, Some(&ids), now).await?;
    let started_today = match steps.first() {
        Some(first) => {
            let tz = window::zone(None, &t.campaign_timezone);
            db::schedule::queued_since(&mut *conn, t.org_id, first.id, local_day_start(now, tz))
                .await?
        }
        None => 0,
    };
    Ok(CampaignState {
        steps,
        mailboxes,
        started_today,
        numbers: HashMap::new(),
    })
}

/// The mailbox for this lead: its sticky one, else — rotating — the campaign's active mailbox
/// with room left today that has sent the least today. `Err(at)`: none can send now; look again at `at`.
fn pick_mailbox(
    t: &DueTarget,
    state: &CampaignState,
    now: OffsetDateTime,
) -> Result<MailboxId, OffsetDateTime> {
    let tomorrow = db::mailboxes::day_start(now) + Duration::days(1);
    let room = |m: &MailboxRow| {
        i64::from(crate::domain::mailbox::limit_today(
            &m.limits(),
            m.ramp_from,
            now,
        )) - m.sent_today
    };
    if let Some(sticky) = t.mailbox_id {
        return match state.mailboxes.iter().find(|m| m.id == sticky) {
            Some(m) if m.status == MailboxStatus::Active && room(m) > 0 => Ok(m.id),
            Some(m) if m.status == MailboxStatus::Active => Err(tomorrow),
            // Paused, or no longer one of the campaign's: wait for a person.
            _ => Err(now + CHANNEL_RECHECK),
        };
    }
    state
        .mailboxes
        .iter()
        .filter(|m| m.status == MailboxStatus::Active && room(m) > 0)
        .min_by_key(|m| m.sent_today)
        .map(|m| m.id)
        .ok_or(
            if state
                .mailboxes
                .iter()
                .any(|m| m.status == MailboxStatus::Active)
            {
                tomorrow
            } else {
                now + CHANNEL_RECHECK
            },
        )
}

/// The number a lead's texts on `channel` come from: the organization's real numbers before its
/// sandbox; among several, always the same one for the same lead (so a conversation stays on one
/// number while the numbers stay the same).
async fn pick_number(
    conn: &mut sqlx::PgConnection,
    t: &DueTarget,
    state: &mut CampaignState,
    channel: Channel,
) -> anyhow::Result<Option<PhoneNumberId>> {
    let numbers = match state.numbers.entry(channel) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => {
            let all = db::text::numbers_for(&mut *conn, t.org_id, channel).await?;
            let real: Vec<PhoneNumberId> =
                all.iter().filter(|(_, s)| !s).map(|(id, _)| *id).collect();
            e.insert(if real.is_empty() {
                all.into_iter().map(|(id, _)| id).collect()
            } else {
                real
            })
        }
    };
    if numbers.is_empty() {
        return Ok(None);
    }
    let spread = t.contact_id.0.as_u128() % numbers.len() as u128;
    Ok(numbers.get(usize::try_from(spread).unwrap_or(0)).copied())
}

async fn later(
    conn: &mut sqlx::PgConnection,
    t: &DueTarget,
    at: OffsetDateTime,
) -> anyhow::Result<Decision> {
    db::schedule::reschedule(conn, t.org_id, t.campaign_id, t.contact_id, at).await?;
    Ok(Decision::Later(at))
}

async fn decide(
    conn: &mut sqlx::PgConnection,
    t: &DueTarget,
    state: &mut CampaignState,
    now: OffsetDateTime,
    prepare: &mut Vec<(OrgId, CampaignId)>,
) -> anyhow::Result<Decision> {
    let (org, campaign, contact) = (t.org_id, t.campaign_id, t.contact_id);
    let Some(step) = state
        .steps
        .iter()
        .find(|s| s.position > t.current_step)
        .cloned()
    else {
        db::schedule::complete_target(&mut *conn, org, campaign, contact).await?;
        return Ok(Decision::Completed);
    };
    if !t.contact_active {
        db::schedule::complete_target(&mut *conn, org, campaign, contact).await?;
        return Ok(Decision::Completed);
    }
    let message = db::schedule::step_message(&mut *conn, org, campaign, contact, step.id).await?;
    let message = match message {
        Some(m) if m.status == MessageStatus::Approved => m,
        Some(m) if m.status == MessageStatus::Rejected => {
            // A rejected message is not sent: the lead moves on to the following step.
            let next = state.steps.iter().find(|s| s.position > step.position);
            let next_at = next.map(|n| now + Duration::minutes(i64::from(n.delay_minutes)));
            db::schedule::skip_step(&mut *conn, org, campaign, contact, step.position, next_at)
                .await?;
            return Ok(Decision::Skipped);
        }
        other => {
            if other.is_none() && t.auto_approve && !prepare.contains(&(org, campaign)) {
                prepare.push((org, campaign));
            }
            return later(&mut *conn, t, now + APPROVAL_RECHECK).await;
        }
    };
    let tz = window::zone(t.lead_timezone.as_deref(), &t.campaign_timezone);
    let w = campaign_window(t);
    match w.next_open(now, tz) {
        Some(open) if open == now => {}
        Some(open) => return later(&mut *conn, t, open).await,
        // A window with no days (refused at launch): look again tomorrow.
        None => return later(&mut *conn, t, now + Duration::days(1)).await,
    }
    let is_first = state.steps.first().map(|s| s.id) == Some(step.id);
    if is_first && state.started_today >= i64::from(t.daily_new_leads) {
        let campaign_tz = window::zone(None, &t.campaign_timezone);
        // The start of the campaign's next local day (36 h after today's start is always in it).
        let tomorrow = local_day_start(
            local_day_start(now, campaign_tz) + Duration::hours(36),
            campaign_tz,
        );
        let at = w.next_open(tomorrow, tz).unwrap_or(tomorrow);
        return later(&mut *conn, t, at).await;
    }
    if step.channel != Channel::Email {
        let Some(number) = pick_number(&mut *conn, t, state, step.channel).await? else {
            // No number of the organization sends on this channel yet: wait for one.
            return later(&mut *conn, t, now + CHANNEL_RECHECK).await;
        };
        db::schedule::queue_text(&mut *conn, org, campaign, contact, message.id, number, now)
            .await?;
        if is_first {
            state.started_today += 1;
        }
        super::text::wake();
        return Ok(Decision::Texted(number));
    }
    let mailbox = match pick_mailbox(t, state, now) {
        Ok(m) => m,
        Err(at) => {
            let at = w.next_open(at, tz).unwrap_or(at);
            return later(&mut *conn, t, at).await;
        }
    };
    let Some(row) = state.mailboxes.iter_mut().find(|m| m.id == mailbox) else {
        return later(&mut *conn, t, now + CHANNEL_RECHECK).await;
    };
    let message_id = new_message_id(&row.from_email);
    let reply = step
        .reply_subject
        .then(|| t.last_subject.as_deref().map(reply_subject))
        .flatten();
    db::schedule::queue(
        &mut *conn,
        org,
        campaign,
        contact,
        message.id,
        mailbox,
        &message_id,
        &t.thread_refs,
        reply.as_deref(),
        now,
    )
    .await?;
    row.sent_today += 1;
    if is_first {
        state.started_today += 1;
    }
    Ok(Decision::Queued(mailbox))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_local_day_starts_at_local_midnight() {
        let ny = chrono_tz::Tz::America__New_York;
        // 03:00 UTC on the 24th is 22:00 on the 23rd in New York (EST, UTC−5).
        assert_eq!(
            local_day_start(datetime!(2026-11-24 03:00 UTC), ny),
            datetime!(2026-11-23 05:00 UTC)
        );
        assert_eq!(
            local_day_start(datetime!(2026-11-24 03:00 UTC), chrono_tz::Tz::UTC),
            datetime!(2026-11-24 00:00 UTC)
        );
    }
}

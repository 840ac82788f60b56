//! Delivery's tables work: due targets and queueing (the scheduler), claiming and recording
//! outcomes (the sender), expired leases, the sandbox outbox and tracking events. Every
//! statement takes the clock as `now`, so tests drive time.

use crate::domain::contactability::Block;
use aura_types::{
    CampaignId, Channel, ContactId, MailboxId, MessageId, MessageStatus, OrgId, OutboxId,
    OutboxItem, StepId, SuppressionKind, SuppressionReason,
};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

// ---- scheduler ----

/// An active target of an active campaign whose next step is due.
#[derive(Debug)]
pub struct DueTarget {
    pub org_id: OrgId,
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
    pub current_step: i32,
    pub mailbox_id: Option<MailboxId>,
    pub thread_refs: Vec<String>,
    /// The subject of the lead's last email of this campaign.
    pub last_subject: Option<String>,
    pub campaign_timezone: String,
    pub send_days: Vec<i16>,
    pub send_start: time::Time,
    pub send_end: time::Time,
    pub daily_new_leads: i32,
    pub auto_approve: bool,
    pub lead_timezone: Option<String>,
    pub contact_active: bool,
}

/// Locks up to `limit` due targets (others' locked ones are skipped).
pub async fn due_targets(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<DueTarget>, sqlx::Error> {
    sqlx::query_as!(
        DueTarget,
        r#"select t.org_id as "org_id: OrgId", t.campaign_id as "campaign_id: CampaignId",
                  t.contact_id as "contact_id: ContactId", t.current_step,
                  t.mailbox_id as "mailbox_id: MailboxId", t.thread_refs, t.last_subject,
                  c.timezone as campaign_timezone, c.send_days, c.send_start, c.send_end,
                  c.daily_new_leads, c.approval = 'auto' as "auto_approve!",
                  k.timezone as lead_timezone, k.status = 'active' as "contact_active!"
           from campaign_targets t
           join campaigns c on c.org_id = t.org_id and c.id = t.campaign_id
           join contacts k on k.org_id = t.org_id and k.id = t.contact_id
           where t.status = 'active' and t.next_run_at <= $1 and c.status = 'active'
           order by t.next_run_at
           limit $2
           for update of t skip locked"#,
        now,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The lead's message at a step, if prepared.
pub struct StepMessage {
    pub id: MessageId,
    pub status: MessageStatus,
    pub has_problems: bool,
}

pub async fn step_message(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
    step: StepId,
) -> Result<Option<StepMessage>, sqlx::Error> {
    sqlx::query_as!(
        StepMessage,
        r#"select id as "id: MessageId", status as "status: MessageStatus",
                  cardinality(problems) > 0 as "has_problems!"
           from campaign_messages
           where org_id = $1 and campaign_id = $2 and contact_id = $3 and step_id = $4"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId,
        step as StepId
    )
    .fetch_optional(db)
    .await
}

/// Messages of `step` queued since `since` (leads started that day, for the first step).
pub async fn queued_since(
    db: impl PgExecutor<'_>,
    org: OrgId,
    step: StepId,
    since: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from campaign_messages
           where org_id = $1 and step_id = $2 and queued_at >= $3 and status <> 'cancelled'"#,
        org as OrgId,
        step as StepId,
        since
    )
    .fetch_one(db)
    .await
}

/// Moves a target's next run.
pub async fn reschedule(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_targets set next_run_at = $4, updated_at = now()
           where org_id = $1 and campaign_id = $2 and contact_id = $3"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId,
        at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Skips a step (its message was rejected): the target moves past it.
pub async fn skip_step(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
    position: i32,
    next_at: Option<OffsetDateTime>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_targets set current_step = $4, next_run_at = $5,
               status = case when $5::timestamptz is null then 'completed' else status end, updated_at = now()
           where org_id = $1 and campaign_id = $2 and contact_id = $3"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId,
        position,
        next_at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Completes a target (no step left, or the lead stopped).
pub async fn complete_target(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_targets set status = 'completed', next_run_at = null, updated_at = now()
           where org_id = $1 and campaign_id = $2 and contact_id = $3"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Hands an approved message to the sender through `mailbox`, continuing the lead's thread (with
/// `subject`, when the step goes out as a reply); the target waits (no next run) until it is sent.
#[allow(clippy::too_many_arguments)]
pub async fn queue(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
    message: MessageId,
    mailbox: MailboxId,
    message_id: &str,
    refs: &[String],
    subject: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_messages set status = 'queued', mailbox_id = $3, message_id = $4,
               in_reply_to = ($5::text[])[cardinality($5::text[])], refs = $5, queued_at = $6, send_after = $6,
               subject = coalesce($7, subject), updated_at = now()
           where org_id = $1 and id = $2 and status = 'approved'"#,
        org as OrgId,
        message as MessageId,
        mailbox as MailboxId,
        message_id,
        refs,
        now,
        subject
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"update campaign_targets set mailbox_id = $4, next_run_at = null, updated_at = now()
           where org_id = $1 and campaign_id = $2 and contact_id = $3"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId,
        mailbox as MailboxId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Completes active campaigns none of whose leads is still active; returns how many.
pub async fn complete_finished_campaigns(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"update campaigns c set status = 'completed', updated_at = now()
           where c.status = 'active'
             and exists (select 1 from campaign_targets t where t.org_id = c.org_id and t.campaign_id = c.id)
             and not exists (select 1 from campaign_targets t
                             where t.org_id = c.org_id and t.campaign_id = c.id and t.status = 'active')"#
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

// ---- sender ----

/// A message claimed for sending, with all it needs to be written.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub org_id: OrgId,
    pub id: MessageId,
    pub contact_id: ContactId,
    pub campaign_id: CampaignId,
    pub mailbox_id: MailboxId,
    pub subject: String,
    pub body_text: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub refs: Vec<String>,
    pub attempts: i32,
}

/// Claims queued messages that are due, of active campaigns, through active mailboxes whose
/// pace allows a send now: one per mailbox when it keeps an interval between sends (and moves
/// its next send on by the interval plus jitter), else up to `batch`. Each is leased until
/// `now + lease`: it stays `queued`, and a queued message with a lease is being sent (the API
/// calls it "sending").
///
/// A mailbox that keeps an interval is locked, so that one claim at a time moves its pace; one
/// without is shared, concurrent claims taking different messages (each skips the others').
/// Whether a mailbox has anything due is one probe of the send index for its earliest queued
/// message (an `exists` there was planned as a scan of every message: 20 ms a claim at 10,000
/// queued). Runs in the caller's transaction, planned once per connection (see
/// [`GENERIC_PLANS`]; planned afresh, a claim took 3–5 ms to plan).
pub async fn claim(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    batch: i64,
    lease_secs: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    set_local(&mut *conn, &[GENERIC_PLANS]).await?;
    sqlx::query_as!(
        Claimed,
        r#"with paced_boxes as (
               select m.org_id, m.id, m.min_interval_secs, m.jitter_secs from mailboxes m
               where m.status = 'active' and m.next_send_at <= $1 and m.min_interval_secs > 0
                 and (select q.send_after from campaign_messages q
                      where q.mailbox_id = m.id and q.status = 'queued' and q.locked_until is null
                      order by q.send_after limit 1) <= $1
               order by m.next_send_at
               limit 64
               for update skip locked
           ), free_boxes as (
               select m.org_id, m.id, m.min_interval_secs, m.jitter_secs from mailboxes m
               where m.status = 'active' and m.next_send_at <= $1 and m.min_interval_secs = 0
                 and (select q.send_after from campaign_messages q
                      where q.mailbox_id = m.id and q.status = 'queued' and q.locked_until is null
                      order by q.send_after limit 1) <= $1
               limit 64
           ), boxes as (
               select * from paced_boxes union all select * from free_boxes
           ), picked as (
               select p.org_id, p.id, p.ctid, b.id as mailbox_id from boxes b cross join lateral (
                   select q.org_id, q.id, q.ctid from campaign_messages q
                   where q.org_id = b.org_id and q.mailbox_id = b.id and q.status = 'queued' and q.send_after <= $1
                     and q.locked_until is null
                     -- A filter, not a join: joined, the campaign led the plan and every queued
                     -- message of it was read and sorted at each claim (30 ms at 10,000
                     -- queued). An `exists` is turned into such a join; a scalar subquery is not.
                     and (select c.status from campaigns c
                          where c.org_id = q.org_id and c.id = q.campaign_id) = 'active'
                   order by q.send_after, q.id
                   limit case when b.min_interval_secs > 0 then 1 else $2::bigint end
                   for update of q skip locked) p
           ), paced as (
               update mailboxes m
               set next_send_at = $1 + make_interval(secs => b.min_interval_secs + floor(random() * (b.jitter_secs + 1)))
               from boxes b
               where m.org_id = b.org_id and m.id = b.id and b.min_interval_secs > 0
                 and exists (select 1 from picked p where p.org_id = b.org_id and p.mailbox_id = b.id)
           )
           -- No indexed column changes: the row is rewritten in place (see the migration
           -- claim_in_place). Each picked row is found again at the place it was locked (it
           -- cannot move while locked): a fifth fewer pages read than by its key.
           update campaign_messages q
           set locked_until = $1 + make_interval(secs => $3), attempts = q.attempts + 1
           from picked p
           where q.ctid = p.ctid and q.org_id = p.org_id and q.id = p.id
           returning q.org_id as "org_id: OrgId", q.id as "id: MessageId",
                     q.contact_id as "contact_id: ContactId", q.campaign_id as "campaign_id: CampaignId",
                     q.mailbox_id as "mailbox_id!: MailboxId", coalesce(q.subject, '') as "subject!",
                     q.body_text, q.message_id as "message_id!", q.in_reply_to, q.refs,
                     q.attempts"#,
        now,
        batch,
        lease_secs as f64
    )
    .fetch_all(conn)
    .await
}

/// What the sender needs to know about a claimed message's lead, campaign and organization,
/// read right before sending.
#[derive(Clone, Debug)]
pub struct SendContext {
    pub org_id: OrgId,
    pub id: MessageId,
    pub email: Option<String>,
    pub name: Option<String>,
    /// `contact_block`'s answer for the lead's address (the one "may we contact").
    pub block_code: Option<String>,
    pub block_detail: Option<String>,
    /// The lead has no email address.
    pub no_email: bool,
    /// The lead left the campaign.
    pub left: bool,
    /// The campaign was paused: put it back in the queue.
    pub hold: bool,
    pub track_opens: bool,
    pub track_clicks: bool,
    pub org_name: String,
    pub postal_address: Option<String>,
}

impl SendContext {
    /// Why it must not go out now (`None`: it may).
    pub fn stop(&self) -> Option<String> {
        if self.no_email {
            return Some("The lead has no email address.".into());
        }
        if let Some(block) = Block::from_row(self.block_code.as_deref(), self.block_detail.clone())
        {
            return Some(block.describe(Channel::Email));
        }
        self.left.then(|| "The lead left the campaign.".to_owned())
    }
}

/// Reads the contexts of claimed messages, in the caller's transaction: each lead and target,
/// and each campaign of the batch once, with its organization (a batch is mostly of one
/// campaign). Planned once per connection (see [`GENERIC_PLANS`]) and joined in the order
/// written: left to search every join order, planning took 10 ms per connection; as written, 3.
pub async fn context(
    conn: &mut PgConnection,
    messages: &[&Claimed],
) -> Result<Vec<SendContext>, sqlx::Error> {
    set_local(&mut *conn, &[GENERIC_PLANS, JOINS_AS_WRITTEN]).await?;
    let orgs: Vec<uuid::Uuid> = messages.iter().map(|m| m.org_id.0).collect();
    let ids: Vec<uuid::Uuid> = messages.iter().map(|m| m.id.0).collect();
    let contacts: Vec<uuid::Uuid> = messages.iter().map(|m| m.contact_id.0).collect();
    let campaigns: Vec<uuid::Uuid> = messages.iter().map(|m| m.campaign_id.0).collect();
    sqlx::query_as!(
        SendContext,
        r#"with x as (
               select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) as x(org_id, id, contact_id, campaign_id)
           ), cx as (
               select c.org_id, c.id, c.status, c.track_opens, c.track_clicks,
                      coalesce(o.public_name, o.name) as org_name, o.postal_address
               from (select distinct x.org_id, x.campaign_id from x) d
               join campaigns c on c.org_id = d.org_id and c.id = d.campaign_id
               join organizations o on o.id = c.org_id
           )
           select x.org_id as "org_id!: OrgId", x.id as "id!: MessageId", k.email,
                  nullif(trim(concat_ws(' ', k.first_name, k.last_name)), '') as name,
                  b.code as block_code, b.detail as block_detail,
                  (k.email is null) as "no_email!", (t.status = 'completed') as "left!",
                  (cx.status <> 'active' or t.status = 'paused') as "hold!",
                  cx.track_opens as "track_opens!", cx.track_clicks as "track_clicks!",
                  cx.org_name as "org_name!", cx.postal_address
           from x
           join contacts k on k.org_id = x.org_id and k.id = x.contact_id
           join campaign_targets t on t.org_id = x.org_id and t.campaign_id = x.campaign_id and t.contact_id = x.contact_id
           join cx on cx.org_id = x.org_id and cx.id = x.campaign_id
           left join lateral contact_block(x.org_id, 'email', k.email) b on k.email is not null"#,
        &orgs,
        &ids,
        &contacts,
        &campaigns
    )
    .fetch_all(conn)
    .await
}

/// Plans the rest of the transaction's statements for any parameters, once per connection.
/// The sender's statements take a batch as arrays of keys; planned afresh for each batch (as
/// PostgreSQL does for a statement's first five runs on a connection, and so for nearly every
/// batch of a campaign spread over the pool's connections), the re-check's six-table join took
/// 14–23 ms to plan — longer than it takes to run.
const GENERIC_PLANS: &[(&str, &str)] = &[("plan_cache_mode", "force_generic_plan")];

/// Joins in the order the statement is written (for a statement whose written order is the
/// right one: planning then skips the search over every order).
const JOINS_AS_WRITTEN: &[(&str, &str)] = &[("join_collapse_limit", "1")];

/// Plans the rest of the transaction's statements as key lookups. Every statement of a batch
/// of outcomes touches rows by primary key; without this, on tables just filled by enrollment
/// (no statistics yet) the planner joins a batch to a sequential scan of every target — a second
/// per batch of 200 with 10,000 targets, growing with the campaign.
const KEYED_LOOKUPS: &[(&str, &str)] = &[("enable_seqscan", "off"), ("jit", "off")];

/// Lets the transaction commit without waiting for its WAL to reach the disk. Only for writes
/// whose loss in a database crash is safe: an outcome lost that way leaves its message
/// leased ("sending"), which the lease's expiry turns into "unknown" — never sent again.
const COMMIT_WITHOUT_WAITING: &[(&str, &str)] = &[("synchronous_commit", "off")];

/// Sets settings for the rest of the caller's transaction, all in one round trip.
async fn set_local(conn: &mut PgConnection, groups: &[&[(&str, &str)]]) -> Result<(), sqlx::Error> {
    let (names, values): (Vec<&str>, Vec<&str>) =
        groups.iter().flat_map(|g| g.iter().copied()).unzip();
    sqlx::query("select set_config(s.name, s.value, true) from unnest($1::text[], $2::text[]) as s(name, value)")
        .bind(&names)
        .bind(&values)
        .execute(conn)
        .await?;
    Ok(())
}

/// A message's outcome, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    Sent {
        reply: String,
    },
    /// Back to the queue, not before `at`.
    Retry {
        reply: String,
        at: OffsetDateTime,
    },
    Failed {
        reply: String,
    },
    Bounced {
        reply: String,
    },
    Unknown {
        reply: String,
    },
    Cancelled {
        reason: String,
    },
    /// The campaign or lead was paused after the claim: back to the queue as it was.
    Release,
}

/// Records outcomes in one transaction (the caller's): messages, then their targets (advanced
/// after a send, stopped after a failure, bounce or cancellation), suppressions for bounces.
/// Its statements are planned once per connection, as key lookups (see [`GENERIC_PLANS`] and
/// [`KEYED_LOOKUPS`]).
pub async fn record(
    conn: &mut PgConnection,
    outcomes: &[(OrgId, MessageId, Recorded)],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    // Planned afresh, the statement below took 2 ms a batch to plan (10 µs a message).
    set_local(
        &mut *conn,
        &[KEYED_LOOKUPS, COMMIT_WITHOUT_WAITING, GENERIC_PLANS],
    )
    .await?;
    let mut orgs = Vec::new();
    let mut ids = Vec::new();
    let mut statuses = Vec::new();
    let mut replies = Vec::new();
    let mut afters: Vec<Option<OffsetDateTime>> = Vec::new();
    for (org, id, r) in outcomes {
        let (status, reply, after) = match r {
            Recorded::Sent { reply } => ("sent", Some(reply.clone()), None),
            Recorded::Retry { reply, at } => ("queued", Some(reply.clone()), Some(*at)),
            Recorded::Failed { reply } => ("failed", Some(reply.clone()), None),
            Recorded::Bounced { reply } => ("bounced", Some(reply.clone()), None),
            Recorded::Unknown { reply } => ("unknown", Some(reply.clone()), None),
            Recorded::Cancelled { reason } => ("cancelled", Some(reason.clone()), None),
            Recorded::Release => ("release", None, None),
        };
        orgs.push(org.0);
        ids.push(id.0);
        statuses.push(status);
        replies.push(reply);
        afters.push(after);
    }
    // One statement: the messages still being sent by this claim change, then their targets —
    // advanced past the sent step (remembering the thread and the subject, due again after the
    // next step's delay, or completed after the last step), or stopped after a failure, bounce
    // or cancellation. It answers the bounced leads. (As two statements, the targets' keys went
    // back and forth once more: about 10 µs a message.)
    let bounced = sqlx::query!(
        r#"with o as (
               select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
                   as o(org_id, id, status, reply, after)
           ), m as (
               update campaign_messages q set
                   status = (case o.status when 'release' then 'queued' else o.status end)::message_status,
                   smtp_reply = case o.status when 'release' then q.smtp_reply else o.reply end,
                   sent_at = case o.status when 'sent' then $6 else q.sent_at end,
                   send_after = case o.status when 'queued' then o.after else q.send_after end,
                   attempts = case o.status when 'release' then q.attempts - 1 else q.attempts end,
                   locked_until = null, updated_at = now()
               from o
               -- The status compared as text: as an enum it matches the send index's predicate,
               -- which the planner (whose statistics may say "nothing is queued") could scan once
               -- per outcome — 65 ms a batch at 20,000 messages. By key, each outcome is one lookup.
               where q.org_id = o.org_id and q.id = o.id and q.status::text = 'queued' and q.locked_until is not null
               returning q.org_id, q.campaign_id, q.contact_id, q.step_id, o.status, q.message_id, q.subject
           ), steps as materialized (
               -- Each step sent from, once (a batch is mostly of one step), with the next one's delay.
               select st.org_id, st.id, st.position,
                      (select n.delay_minutes from campaign_steps n
                       where n.org_id = st.org_id and n.campaign_id = st.campaign_id and n.position > st.position
                       order by n.position limit 1) as next_delay
               from (select distinct m.org_id, m.step_id from m where m.status = 'sent') x
               join campaign_steps st on st.org_id = x.org_id and st.id = x.step_id
           ), s as (
               select m.*, st.position, st.next_delay
               from m left join steps st on m.status = 'sent' and st.org_id = m.org_id and st.id = m.step_id
               where m.status in ('sent', 'failed', 'bounced', 'cancelled')
           ), t as (
               update campaign_targets t set
                   current_step = case when s.status = 'sent' then greatest(t.current_step, s.position)
                                       else t.current_step end,
                   thread_refs = case when s.status = 'sent' then t.thread_refs || s.message_id
                                      else t.thread_refs end,
                   last_subject = case when s.status = 'sent' then coalesce(s.subject, t.last_subject)
                                       else t.last_subject end,
                   next_run_at = case when s.status = 'sent' and s.next_delay is not null
                                      then $6::timestamptz + make_interval(mins => s.next_delay) end,
                   status = case when s.status = 'sent' and s.next_delay is not null then t.status
                                 else 'completed' end,
                   updated_at = now()
               from s
               where t.org_id = s.org_id and t.campaign_id = s.campaign_id and t.contact_id = s.contact_id
           )
           select m.org_id as "org_id!: OrgId", m.contact_id as "contact_id!: ContactId"
           from m where m.status = 'bounced'"#,
        &orgs,
        &ids,
        &statuses as &[&str],
        &replies as &[Option<String>],
        &afters as &[Option<OffsetDateTime>],
        now
    )
    .fetch_all(&mut *conn)
    .await?;
    for b in bounced {
        suppress_contact_email(
            &mut *conn,
            b.org_id,
            b.contact_id,
            SuppressionReason::Bounced,
            "bounce",
        )
        .await?;
    }
    Ok(())
}

/// Suppresses a contact's email address for `reason` and stops the contact.
pub async fn suppress_contact_email(
    conn: &mut PgConnection,
    org: OrgId,
    contact: ContactId,
    reason: SuppressionReason,
    source: &str,
) -> Result<(), sqlx::Error> {
    let email = sqlx::query_scalar!(
        "select lower(email) from contacts where org_id = $1 and id = $2",
        org as OrgId,
        contact as ContactId
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    if let Some(email) = email {
        crate::db::suppressions::insert_many(
            &mut *conn,
            org,
            &[(SuppressionKind::Email, email)],
            reason,
            Some(source),
        )
        .await?;
        crate::db::suppressions::apply_to_contacts(&mut *conn, org, Some(&[contact])).await?;
    }
    Ok(())
}

/// Messages whose sender stopped while handing them over (lease expired): outcome unknown,
/// never re-sent on their own. Returns how many. The lease is not indexed (see `claim`): this
/// reads the queue, so the sender asks every few seconds, not at every claim.
pub async fn expire_leases(
    db: impl PgExecutor<'_>,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"update campaign_messages set status = 'unknown', locked_until = null, updated_at = now(),
               smtp_reply = 'The sender stopped while handing this message to the mail server; it may or may not have gone out.'
           where status = 'queued' and locked_until < $1"#,
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Who a message went to, for its unsubscribe link.
pub struct Recipient {
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
    pub email: Option<String>,
    pub org_name: String,
}

pub async fn recipient(
    db: impl PgExecutor<'_>,
    org: OrgId,
    message: MessageId,
) -> Result<Option<Recipient>, sqlx::Error> {
    sqlx::query_as!(
        Recipient,
        r#"select m.campaign_id as "campaign_id: CampaignId", m.contact_id as "contact_id: ContactId",
                  k.email, coalesce(o.public_name, o.name) as "org_name!"
           from campaign_messages m
           join contacts k on k.org_id = m.org_id and k.id = m.contact_id
           join organizations o on o.id = m.org_id
           where m.org_id = $1 and m.id = $2"#,
        org as OrgId,
        message as MessageId
    )
    .fetch_optional(db)
    .await
}

// ---- outbox and events ----

/// A message a sandbox mailbox caught.
pub struct Caught<'a> {
    pub org: OrgId,
    pub mailbox: MailboxId,
    pub message: MessageId,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub raw: &'a [u8],
}

pub async fn insert_outbox(
    db: impl PgExecutor<'_>,
    c: &Caught<'_>,
    now: OffsetDateTime,
) -> Result<OutboxId, sqlx::Error> {
    let id = OutboxId::new();
    sqlx::query!(
        r#"insert into outbox (org_id, id, mailbox_id, message_id, recipient, subject, raw, caught_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        c.org as OrgId,
        id as OutboxId,
        c.mailbox as MailboxId,
        c.message as MessageId,
        c.recipient,
        c.subject,
        c.raw,
        now
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// A page of what the organization's sandbox mailboxes caught, newest first.
pub async fn list_outbox(
    db: impl PgExecutor<'_>,
    org: OrgId,
    limit: i64,
    offset: i64,
) -> Result<Vec<OutboxItem>, sqlx::Error> {
    sqlx::query_as!(
        OutboxItem,
        r#"select id as "id: OutboxId", mailbox_id as "mailbox_id: MailboxId",
                  message_id as "message_id: MessageId", recipient, subject, caught_at
           from outbox where org_id = $1 order by caught_at desc, id desc limit $2 offset $3"#,
        org as OrgId,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

/// How many messages the organization's sandbox mailboxes caught.
pub async fn count_outbox(db: impl PgExecutor<'_>, org: OrgId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from outbox where org_id = $1"#,
        org as OrgId
    )
    .fetch_one(db)
    .await
}

pub async fn outbox_raw(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: OutboxId,
) -> Result<Option<(OutboxItem, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id as "id: OutboxId", mailbox_id as "mailbox_id: MailboxId",
                  message_id as "message_id: MessageId", recipient, subject, caught_at, raw
           from outbox where org_id = $1 and id = $2"#,
        org as OrgId,
        id as OutboxId
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        (
            OutboxItem {
                id: r.id,
                mailbox_id: r.mailbox_id,
                message_id: r.message_id,
                recipient: r.recipient,
                subject: r.subject,
                caught_at: r.caught_at,
            },
            r.raw,
        )
    }))
}

/// One open, click or unsubscribe.
#[derive(Clone, Debug)]
pub struct Event {
    pub org_id: OrgId,
    pub message_id: MessageId,
    pub kind: &'static str,
    pub url: Option<String>,
    pub at: OffsetDateTime,
}

/// The connection opens and clicks are written on. It is its own, outside the pool: in a flood it
/// writes without pause, and the pool's connections stay free for requests. Its commits do not
/// wait for the disk: the events were held in memory until now, and a database crash losing the
/// last moment of them is no worse than a server restart (an unsubscribe is written with its
/// suppression instead). Each batch is one statement, committed on its own: one round trip.
pub struct EventWriter {
    options: sqlx::postgres::PgConnectOptions,
    conn: Option<PgConnection>,
}

/// The `application_name` of the writer's connection (as `pg_stat_activity` shows it).
pub const EVENT_WRITER_NAME: &str = "aura: opens and clicks";

impl EventWriter {
    /// A writer that connects as the pool does, when it first writes.
    pub fn new(pool: &sqlx::PgPool) -> Self {
        let options = (*pool.connect_options())
            .clone()
            .application_name(EVENT_WRITER_NAME)
            .options(COMMIT_WITHOUT_WAITING.iter().copied());
        Self {
            options,
            conn: None,
        }
    }

    /// Writes a batch (see [`insert_events`]). After a failure the next batch is written on a
    /// new connection.
    pub async fn write(&mut self, events: &[Event]) -> Result<u64, sqlx::Error> {
        use sqlx::Connection;
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => PgConnection::connect_with(&self.options).await?,
        };
        let written = insert_events(&mut conn, events).await?;
        self.conn = Some(conn);
        Ok(written)
    }
}

/// Writes events in one statement (events of messages that no longer exist are dropped).
pub async fn insert_events(db: impl PgExecutor<'_>, events: &[Event]) -> Result<u64, sqlx::Error> {
    let orgs: Vec<uuid::Uuid> = events.iter().map(|e| e.org_id.0).collect();
    let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.message_id.0).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind).collect();
    let urls: Vec<Option<String>> = events.iter().map(|e| e.url.clone()).collect();
    let ats: Vec<OffsetDateTime> = events.iter().map(|e| e.at).collect();
    let done = sqlx::query!(
        r#"insert into message_events (org_id, message_id, kind, url, at)
           select e.org_id, e.id, e.kind::message_event_kind, e.url, e.at
           from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[]) as e(org_id, id, kind, url, at)
           where exists (select 1 from campaign_messages q where q.org_id = e.org_id and q.id = e.id)"#,
        &orgs,
        &ids,
        &kinds as &[&str],
        &urls as &[Option<String>],
        &ats
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

// ---- reports ----

/// Per-step delivery counters of a campaign, in step order.
pub async fn step_counters(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
) -> Result<Vec<aura_types::StepDelivery>, sqlx::Error> {
    sqlx::query_as!(
        aura_types::StepDelivery,
        r#"select s.id as "step_id: StepId", s.position,
                  count(*) filter (where m.status = 'queued' and m.locked_until is null) as "queued!",
                  count(*) filter (where m.status = 'queued' and m.locked_until is not null) as "sending!",
                  count(*) filter (where m.status = 'sent') as "sent!",
                  count(*) filter (where m.status = 'failed') as "failed!",
                  count(*) filter (where m.status = 'bounced') as "bounced!",
                  count(*) filter (where m.status = 'unknown') as "unknown!",
                  count(*) filter (where m.status = 'cancelled') as "cancelled!",
                  count(*) filter (where m.status = 'sent' and exists (
                      select 1 from message_events e where e.org_id = m.org_id and e.message_id = m.id and e.kind = 'open')) as "opened!",
                  count(*) filter (where m.status = 'sent' and exists (
                      select 1 from message_events e where e.org_id = m.org_id and e.message_id = m.id and e.kind = 'click')) as "clicked!"
           from campaign_steps s
           left join campaign_messages m on m.org_id = s.org_id and m.step_id = s.id
           where s.org_id = $1 and s.campaign_id = $2
           group by s.id, s.position
           order by s.position"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_all(db)
    .await
}

/// Where a campaign's leads are: (active, waiting for approval, completed, stopped contacts).
pub async fn target_counters(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
) -> Result<(i64, i64, i64, i64), sqlx::Error> {
    let r = sqlx::query!(
        r#"select count(*) filter (where t.status = 'active') as "active!",
                  count(*) filter (where t.status = 'active' and ns.id is not null
                                     and (m.id is null or m.status = 'prepared')) as "waiting!",
                  count(*) filter (where t.status = 'completed') as "completed!",
                  count(*) filter (where k.status <> 'active') as "stopped!"
           from campaign_targets t
           join contacts k on k.org_id = t.org_id and k.id = t.contact_id
           left join lateral (
               select s.id from campaign_steps s
               where s.org_id = t.org_id and s.campaign_id = t.campaign_id and s.position > t.current_step
               order by s.position limit 1) ns on true
           left join campaign_messages m on m.org_id = t.org_id and m.campaign_id = t.campaign_id
                and m.contact_id = t.contact_id and m.step_id = ns.id
           where t.org_id = $1 and t.campaign_id = $2"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_one(db)
    .await?;
    Ok((r.active, r.waiting, r.completed, r.stopped))
}

/// What pre-flight needs to know about a campaign's messages: approved ones and undecided ones
/// with problems.
pub async fn review_counters(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
) -> Result<(i64, i64, i64), sqlx::Error> {
    let r = sqlx::query!(
        r#"select count(*) as "all!",
                  count(*) filter (where status = 'approved') as "approved!",
                  count(*) filter (where status = 'prepared' and cardinality(problems) > 0) as "problems!"
           from campaign_messages where org_id = $1 and campaign_id = $2"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_one(db)
    .await?;
    Ok((r.all, r.approved, r.problems))
}

/// Resolves a message whose outcome is unknown: back to the queue, or counted as sent (its lead
/// moves on, as after any send: see [`record`]). False when the message is not of the campaign
/// or not unknown.
pub async fn resolve_unknown(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    message: MessageId,
    mark_sent: bool,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    // Marked as sent, it is leased as if being sent right now, and its send recorded.
    let found = sqlx::query_scalar!(
        r#"update campaign_messages set status = 'queued', send_after = $5,
               locked_until = case when $4 then $5::timestamptz end, updated_at = now()
           where org_id = $1 and campaign_id = $2 and id = $3 and status = 'unknown'
           returning id as "id: MessageId""#,
        org as OrgId,
        campaign as CampaignId,
        message as MessageId,
        mark_sent,
        now
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = found else { return Ok(false) };
    if mark_sent {
        let reply = "Marked as sent by a person.".to_owned();
        record(conn, &[(org, id, Recorded::Sent { reply })], now).await?;
    }
    Ok(true)
}

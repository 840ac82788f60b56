//! The sender's statements: claiming due messages under their mailboxes' pace, the re-check of each
//! lead right before sending, recording outcomes (and what they mean for targets and
//! suppressions), expiring leases, and resolving unknown outcomes by hand.

use aura_types::{
    CampaignId, ContactId, MailboxId, MessageId, OrgId, SuppressionKind, SuppressionReason,
};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use super::planner::{set_local, COMMIT_WITHOUT_WAITING, GENERIC_PLANS, JOINS_AS_WRITTEN};

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
/// message (an `exists` there is planned as a scan of every queued message). Runs in the
/// caller's transaction, planned once per connection (see [`GENERIC_PLANS`]: planning it afresh
/// costs more than running it).
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
                     -- A filter, not a join: joined, the campaign leads the plan and every queued
                     -- message of it is read and sorted at each claim. An `exists` is turned
                     -- into such a join; a scalar subquery is not.
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
           -- cannot move while locked), which reads fewer pages than finding it by its key.
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

/// Reads the contexts of claimed messages, in the caller's transaction: each lead and target,
/// and each campaign of the batch once, with its organization (a batch is mostly of one
/// campaign). Planned once per connection (see [`GENERIC_PLANS`]) and joined in the order
/// written ([`JOINS_AS_WRITTEN`]): searching every join order of it costs more than the order
/// written saves.
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
    /// Not sent, because the lead cannot be reached on this step's channel (no number, no
    /// consent for texts, the number suppressed): the message is cancelled with the reason and
    /// the lead goes on to the next step, as after a send (other channels may still reach them).
    Skipped {
        reason: String,
    },
    /// The campaign or lead was paused after the claim: back to the queue as it was.
    Release,
    /// Not now (quiet hours, the provider asked to slow down): back to the queue until `at`,
    /// the attempt not counted.
    Defer {
        reply: String,
        at: OffsetDateTime,
    },
}

/// Records outcomes in one transaction (the caller's): messages, then their targets (advanced
/// after a send or a skip, stopped after a failure, bounce or cancellation), suppressions for bounces.
/// Its statements are planned once per connection (see [`GENERIC_PLANS`]); they find each row by
/// its key once the statistics are fresh (refreshed after a preparation, the bulk load before
/// sending), so no planner setting forces key lookups.
pub async fn record(
    conn: &mut PgConnection,
    outcomes: &[(OrgId, MessageId, Recorded)],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    // Planned once per connection: planning the statement below afresh for each batch costs
    // about as much as recording the batch.
    set_local(&mut *conn, &[COMMIT_WITHOUT_WAITING, GENERIC_PLANS]).await?;
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
            Recorded::Skipped { reason } => ("skipped", Some(reason.clone()), None),
            Recorded::Release => ("release", None, None),
            Recorded::Defer { reply, at } => ("defer", Some(reply.clone()), Some(*at)),
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
    // back and forth once more.)
    let bounced = sqlx::query!(
        r#"with o as (
               select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
                   as o(org_id, id, status, reply, after)
           ), m as (
               update campaign_messages q set
                   status = (case when o.status in ('release', 'defer') then 'queued'
                                  when o.status = 'skipped' then 'cancelled' else o.status end)::message_status,
                   smtp_reply = case o.status when 'release' then q.smtp_reply else o.reply end,
                   sent_at = case o.status when 'sent' then $6 else q.sent_at end,
                   send_after = case when o.status in ('queued', 'defer') then o.after else q.send_after end,
                   attempts = case when o.status in ('release', 'defer') then q.attempts - 1 else q.attempts end,
                   locked_until = null, updated_at = now()
               from o
               -- The status compared as text: as an enum it matches the send index's predicate,
               -- which the planner (whose statistics may say "nothing is queued") could scan once
               -- per outcome. By key, each outcome is one lookup.
               where q.org_id = o.org_id and q.id = o.id and q.status::text = 'queued' and q.locked_until is not null
               returning q.org_id, q.campaign_id, q.contact_id, q.step_id, o.status, q.message_id, q.subject
           ), steps as materialized (
               -- Each step sent from, once (a batch is mostly of one step), with the next one's delay.
               select st.org_id, st.id, st.position,
                      (select n.delay_minutes from campaign_steps n
                       where n.org_id = st.org_id and n.campaign_id = st.campaign_id and n.position > st.position
                       order by n.position limit 1) as next_delay
               from (select distinct m.org_id, m.step_id from m where m.status in ('sent', 'skipped')) x
               join campaign_steps st on st.org_id = x.org_id and st.id = x.step_id
           ), s as (
               select m.*, st.position, st.next_delay
               from m left join steps st on m.status in ('sent', 'skipped') and st.org_id = m.org_id and st.id = m.step_id
               where m.status in ('sent', 'skipped', 'failed', 'bounced', 'cancelled')
           ), t as (
               update campaign_targets t set
                   current_step = case when s.status in ('sent', 'skipped') then greatest(t.current_step, s.position)
                                       else t.current_step end,
                   -- A text has no Message-ID: the thread is email's.
                   thread_refs = case when s.status = 'sent' and s.message_id is not null
                                      then t.thread_refs || s.message_id else t.thread_refs end,
                   last_subject = case when s.status = 'sent' then coalesce(s.subject, t.last_subject)
                                       else t.last_subject end,
                   next_run_at = case when s.status in ('sent', 'skipped') and s.next_delay is not null
                                      then $6::timestamptz + make_interval(mins => s.next_delay) end,
                   status = case when s.status in ('sent', 'skipped') and s.next_delay is not null then t.status
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
               smtp_reply = 'The sender stopped while handing this message over; it may or may not have gone out.'
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
    // Marked as sent, it is leased as if being sent right now, and its send recorded. Sent again,
    // a text whose next outcome is unknown too is looked for at Twilio again.
    let found = sqlx::query_scalar!(
        r#"update campaign_messages set status = 'queued', send_after = $5,
               locked_until = case when $4 then $5::timestamptz end, updated_at = now(),
               reconciled_at = null
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

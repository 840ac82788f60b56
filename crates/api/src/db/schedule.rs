//! The scheduler's statements: due targets, the lead's prepared message at a step, queueing it
//! through a mailbox, moving or completing targets, completing finished campaigns. Every statement
//! takes the clock as `now`, so tests drive time.

use aura_types::{
    CampaignId, ContactId, MailboxId, MessageId, MessageStatus, OrgId, PhoneNumberId, StepId,
};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

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

/// Hands an approved text to the text sender through `number`; the target waits (no next run)
/// until it is sent.
pub async fn queue_text(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
    message: MessageId,
    number: PhoneNumberId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_messages set status = 'queued', phone_number_id = $3, queued_at = $4,
               send_after = $4, updated_at = now()
           where org_id = $1 and id = $2 and status = 'approved'"#,
        org as OrgId,
        message as MessageId,
        number as PhoneNumberId,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"update campaign_targets set next_run_at = null, updated_at = now()
           where org_id = $1 and campaign_id = $2 and contact_id = $3"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId
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

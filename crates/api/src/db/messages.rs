//! Prepared messages and the preparation runs that write them.

use aura_types::ai::Provenance;
use aura_types::{
    CampaignId, Channel, ContactId, Message, MessageFilter, MessageId, MessageStatus, OrgId,
    Preparation, PreparationId, PreparationStatus, ReviewSummary, StepId, UserId,
};
use sqlx::types::Json;
use sqlx::{Connection, PgConnection, PgExecutor, Postgres, QueryBuilder};
use time::OffsetDateTime;

/// A message as the preparation writes it.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub step_id: StepId,
    pub contact_id: ContactId,
    pub channel: Channel,
    pub variant: String,
    pub subject: Option<String>,
    pub text: String,
    pub status: MessageStatus,
    pub problems: Vec<String>,
    pub provenance: Option<Provenance>,
    /// WhatsApp: the lead's values of the step's template variables.
    pub content_variables: Option<serde_json::Value>,
}

/// The open preparation of a campaign, queued now if there was none.
pub async fn open_preparation(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    by: Option<UserId>,
) -> Result<Preparation, sqlx::Error> {
    sqlx::query!(
        r#"insert into campaign_preparations (org_id, id, campaign_id, created_by) values ($1, $2, $3, $4)
           on conflict (org_id, campaign_id) where status in ('queued', 'running') do nothing"#,
        org as OrgId,
        PreparationId::new() as PreparationId,
        campaign as CampaignId,
        by as Option<UserId>
    )
    .execute(&mut *conn)
    .await?;
    let p = latest_preparation(&mut *conn, org, campaign).await?;
    p.ok_or(sqlx::Error::RowNotFound)
}

/// The most recent preparation of a campaign.
pub async fn latest_preparation(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
) -> Result<Option<Preparation>, sqlx::Error> {
    sqlx::query_as!(
        Preparation,
        r#"select p.id as "id: PreparationId", p.status as "status: PreparationStatus", p.total, p.done,
                  p.failed, p.error, p.created_at, p.finished_at
           from campaign_preparations p where p.org_id = $1 and p.campaign_id = $2
           order by p.created_at desc, p.id desc limit 1"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_optional(db)
    .await
}

/// A preparation a worker took.
#[derive(Clone, Copy, Debug)]
pub struct ClaimedPreparation {
    pub org_id: OrgId,
    pub id: PreparationId,
    pub campaign_id: CampaignId,
    pub attempts: i32,
}

/// Refreshes the planner's statistics of the tables that enrollment and preparation fill in
/// bulk (ANALYZE samples a bounded number of rows, whatever the tables' size).
pub async fn refresh_statistics(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("analyze campaign_targets, campaign_messages")
        .execute(db)
        .await?;
    Ok(())
}

/// Takes the oldest open preparation no other worker holds, for `lease_secs`.
pub async fn claim_preparation(
    db: impl PgExecutor<'_>,
    lease_secs: f64,
) -> Result<Option<ClaimedPreparation>, sqlx::Error> {
    sqlx::query_as!(
        ClaimedPreparation,
        r#"update campaign_preparations p set status = 'running', attempts = p.attempts + 1,
               locked_until = now() + make_interval(secs => $1), started_at = coalesce(p.started_at, now())
           from (select org_id, id from campaign_preparations
                 where status in ('queued', 'running') and (locked_until is null or locked_until < now())
                 order by created_at limit 1 for update skip locked) next
           where p.org_id = next.org_id and p.id = next.id
           returning p.org_id as "org_id: OrgId", p.id as "id: PreparationId",
                     p.campaign_id as "campaign_id: CampaignId", p.attempts"#,
        lease_secs
    )
    .fetch_optional(db)
    .await
}

/// Sets how many messages a run has to write in all (those already written plus those pending).
pub async fn set_total(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PreparationId,
    pending: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update campaign_preparations set total = done + $3 where org_id = $1 and id = $2",
        org as OrgId,
        id as PreparationId,
        pending
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Adds a batch's counts and extends the lease.
pub async fn progress(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PreparationId,
    done: i64,
    failed: i64,
    lease_secs: f64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_preparations set done = done + $3, failed = failed + $4,
               total = greatest(total, done + $3), locked_until = now() + make_interval(secs => $5)
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as PreparationId,
        done,
        failed,
        lease_secs
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Lets the run wait `delay_secs` before a worker takes it again.
pub async fn retry_later(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PreparationId,
    delay_secs: f64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_preparations set locked_until = now() + make_interval(secs => $3)
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as PreparationId,
        delay_secs
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Ends a run.
pub async fn finish(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PreparationId,
    status: PreparationStatus,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_preparations set status = $3, error = $4, finished_at = now(), locked_until = null
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as PreparationId,
        status as PreparationStatus,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Plans the whole-campaign joins below linearly for the rest of the transaction (see
/// [`super::planner::LINEAR_JOINS`]).
async fn linear_joins(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    super::planner::set_local(tx, &[super::planner::LINEAR_JOINS]).await
}

// The (lead, step) pairs that need a message: every step not yet sent to an active or paused
// lead that has none, or whose message was prepared (not edited, not decided) before the step
// last changed. `pending` and `count_pending` share this condition.

/// Up to `limit` pairs that need a message, lead by lead.
pub async fn pending(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    limit: i64,
) -> Result<Vec<(ContactId, StepId)>, sqlx::Error> {
    let mut tx = conn.begin().await?;
    linear_joins(&mut tx).await?;
    let rows = sqlx::query!(
        r#"select t.contact_id as "contact_id: ContactId", s.id as "step_id: StepId"
    from campaign_targets t
    join campaign_steps s on s.org_id = t.org_id and s.campaign_id = t.campaign_id and s.position > t.current_step
    left join campaign_messages m on m.org_id = t.org_id and m.campaign_id = t.campaign_id
                                  and m.step_id = s.id and m.contact_id = t.contact_id
    where t.org_id = $1 and t.campaign_id = $2 and t.status <> 'completed'
      and (m.id is null or (m.status = 'prepared' and not m.edited and m.prepared_at < s.updated_at))
    order by t.contact_id, s.position limit $3"#,
        org as OrgId,
        campaign as CampaignId,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.contact_id, r.step_id))
        .collect())
}

/// How many pairs need a message.
pub async fn count_pending(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
) -> Result<i64, sqlx::Error> {
    let mut tx = conn.begin().await?;
    linear_joins(&mut tx).await?;
    let n = sqlx::query_scalar!(
        r#"select count(*) as "n!"
    from campaign_targets t
    join campaign_steps s on s.org_id = t.org_id and s.campaign_id = t.campaign_id and s.position > t.current_step
    left join campaign_messages m on m.org_id = t.org_id and m.campaign_id = t.campaign_id
                                  and m.step_id = s.id and m.contact_id = t.contact_id
    where t.org_id = $1 and t.campaign_id = $2 and t.status <> 'completed'
      and (m.id is null or (m.status = 'prepared' and not m.edited and m.prepared_at < s.updated_at))"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Writes prepared messages in one statement. A message already there is rewritten only while it
/// is prepared and unedited (a person's edit or decision made meanwhile wins).
pub async fn upsert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    rows: &[NewMessage],
) -> Result<u64, sqlx::Error> {
    let mut ids = Vec::with_capacity(rows.len());
    let mut steps = Vec::with_capacity(rows.len());
    let mut contacts = Vec::with_capacity(rows.len());
    let mut channels = Vec::with_capacity(rows.len());
    let mut variants = Vec::with_capacity(rows.len());
    let mut subjects = Vec::with_capacity(rows.len());
    let mut texts = Vec::with_capacity(rows.len());
    let mut statuses = Vec::with_capacity(rows.len());
    let mut problems = Vec::with_capacity(rows.len());
    let mut provenance = Vec::with_capacity(rows.len());
    let mut content = Vec::with_capacity(rows.len());
    for r in rows {
        ids.push(MessageId::new().0);
        steps.push(r.step_id.0);
        contacts.push(r.contact_id.0);
        channels.push(r.channel);
        variants.push(r.variant.clone());
        subjects.push(r.subject.clone());
        texts.push(r.text.clone());
        statuses.push(r.status);
        // Arrays of arrays must be rectangular in PostgreSQL: problems travel as JSON.
        problems.push(serde_json::to_value(&r.problems).unwrap_or_default());
        provenance.push(
            r.provenance
                .as_ref()
                .and_then(|p| serde_json::to_value(p).ok()),
        );
        content.push(r.content_variables.clone());
    }
    let r = sqlx::query!(
        r#"insert into campaign_messages (org_id, id, campaign_id, step_id, contact_id, channel, variant, subject,
                                          body_text, status, problems, provenance, decided_at, content_variables)
           select $1, r.id, $2, r.step_id, r.contact_id, r.channel, r.variant, r.subject, r.body_text,
                  r.status, array(select jsonb_array_elements_text(r.problems)), r.provenance,
                  case when r.status = 'approved' then now() end, r.content_variables
           from unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::channel[], $7::text[], $8::text[], $9::text[],
                       $10::message_status[], $11::jsonb[], $12::jsonb[], $13::jsonb[])
                as r(id, step_id, contact_id, channel, variant, subject, body_text, status, problems, provenance,
                     content_variables)
           on conflict (org_id, campaign_id, contact_id, step_id) do update
              set channel = excluded.channel, variant = excluded.variant, subject = excluded.subject,
                  body_text = excluded.body_text, status = excluded.status,
                  problems = excluded.problems, provenance = excluded.provenance, decided_at = excluded.decided_at,
                  content_variables = excluded.content_variables,
                  decided_by = null, prepared_at = now(), updated_at = now()
              where campaign_messages.status = 'prepared' and not campaign_messages.edited"#,
        org as OrgId,
        campaign as CampaignId,
        &ids,
        &steps,
        &contacts,
        &channels as &[Channel],
        &variants,
        &subjects as &[Option<String>],
        &texts,
        &statuses as &[MessageStatus],
        &problems,
        &provenance as &[Option<serde_json::Value>],
        &content as &[Option<serde_json::Value>],
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

const SELECT: &str = "select m.id, m.campaign_id, m.step_id, s.position, m.channel, m.contact_id, c.first_name, \
    c.last_name, c.email, c.phone, c.whatsapp, m.variant, m.subject, m.body_text, \
    shown_status(m.status, m.locked_until) as status, \
    m.edited, \
    (m.status = 'prepared' and not m.edited and m.prepared_at < s.updated_at) as stale, m.problems, m.provenance, \
    m.prepared_at, m.decided_at, m.mailbox_id, m.message_id, m.attempts, m.queued_at, m.sent_at, \
    m.send_after, m.smtp_reply \
    from campaign_messages m \
    join campaign_steps s on s.org_id = m.org_id and s.id = m.step_id \
    join contacts c on c.org_id = m.org_id and c.id = m.contact_id";

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: MessageId,
    campaign_id: CampaignId,
    step_id: StepId,
    position: i32,
    channel: Channel,
    contact_id: ContactId,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    whatsapp: Option<String>,
    variant: String,
    subject: Option<String>,
    body_text: String,
    status: MessageStatus,
    edited: bool,
    stale: bool,
    problems: Vec<String>,
    provenance: Option<Json<Provenance>>,
    prepared_at: OffsetDateTime,
    decided_at: Option<OffsetDateTime>,
    mailbox_id: Option<aura_types::MailboxId>,
    message_id: Option<String>,
    attempts: i32,
    queued_at: Option<OffsetDateTime>,
    sent_at: Option<OffsetDateTime>,
    send_after: Option<OffsetDateTime>,
    smtp_reply: Option<String>,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        let address = match r.channel {
            Channel::Email => r.email.clone(),
            Channel::Sms => r.phone.clone(),
            Channel::Whatsapp => r.whatsapp.clone(),
        };
        Message {
            id: r.id,
            campaign_id: r.campaign_id,
            step_id: r.step_id,
            step: r.position,
            channel: r.channel,
            contact_id: r.contact_id,
            full_name: aura_types::full_name(
                r.first_name.as_deref(),
                r.last_name.as_deref(),
                r.email.as_deref(),
                r.phone.as_deref(),
            ),
            address,
            variant: r.variant,
            subject: r.subject,
            // Made from the text where the message is shown (`routes::messages::shown`).
            html: None,
            text: r.body_text,
            status: r.status,
            edited: r.edited,
            stale: r.stale,
            problems: r.problems,
            provenance: r.provenance.map(|j| j.0),
            prepared_at: r.prepared_at,
            decided_at: r.decided_at,
            delivery: (!r.status.in_review()).then(|| aura_types::DeliveryInfo {
                mailbox_id: r.mailbox_id,
                message_id: r.message_id,
                attempts: r.attempts,
                queued_at: r.queued_at,
                sent_at: r.sent_at,
                next_attempt_at: (r.status == MessageStatus::Queued)
                    .then_some(r.send_after)
                    .flatten(),
                reply: r.smtp_reply,
            }),
        }
    }
}

/// Which messages a statement touches: those of a filter, or explicit ids.
#[derive(Clone, Debug)]
pub enum Which<'a> {
    Filter(&'a MessageFilter),
    Ids(&'a [MessageId]),
}

/// Pushes `m.org_id = $org and m.campaign_id = $campaign and (<which>)`.
fn push_where(
    qb: &mut QueryBuilder<'_, Postgres>,
    org: OrgId,
    campaign: CampaignId,
    which: &Which<'_>,
) {
    qb.push(" m.org_id = ")
        .push_bind(org)
        .push(" and m.campaign_id = ")
        .push_bind(campaign);
    match which {
        Which::Ids(ids) => {
            let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
            qb.push(" and m.id = any(").push_bind(ids).push(")");
        }
        Which::Filter(f) => {
            if let Some(s) = f.step_id {
                qb.push(" and m.step_id = ").push_bind(s);
            }
            // The status shown (`shown_status`, a migration); the stored one first, for the index
            // (a message being sent is stored as queued, with a lease: see db::send::claim).
            if let Some(s) = f.status {
                let stored = match s {
                    MessageStatus::Sending => MessageStatus::Queued,
                    s => s,
                };
                qb.push(" and m.status = ")
                    .push_bind(stored)
                    .push(" and shown_status(m.status, m.locked_until) = ")
                    .push_bind(s);
            }
            if let Some(v) = &f.variant {
                qb.push(" and m.variant = ").push_bind(v.clone());
            }
            match f.problems {
                Some(true) => {
                    qb.push(" and cardinality(m.problems) > 0");
                }
                Some(false) => {
                    qb.push(" and cardinality(m.problems) = 0");
                }
                None => {}
            }
            if let Some(c) = f.contact_id {
                qb.push(" and m.contact_id = ").push_bind(c);
            }
        }
    }
}

/// A page of messages, lead by lead and step by step.
pub async fn list(
    db: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    which: &Which<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let mut qb = QueryBuilder::new(SELECT);
    qb.push(" where");
    push_where(&mut qb, org, campaign, which);
    qb.push(" order by c.first_name nulls last, c.last_name nulls last, m.contact_id, s.position limit ")
        .push_bind(limit)
        .push(" offset ")
        .push_bind(offset);
    let rows: Vec<MessageRow> = qb.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().map(Message::from).collect())
}

pub async fn count(
    db: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    which: &Which<'_>,
) -> Result<i64, sqlx::Error> {
    let mut qb = QueryBuilder::new("select count(*) from campaign_messages m where");
    push_where(&mut qb, org, campaign, which);
    qb.build_query_scalar().fetch_one(db).await
}

pub async fn get(
    db: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    id: MessageId,
) -> Result<Option<Message>, sqlx::Error> {
    Ok(list(db, org, campaign, &Which::Ids(&[id]), 1, 0)
        .await?
        .pop())
}

/// Saves a person's text; the message is marked edited and its problems cleared.
pub async fn edit(
    db: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    id: MessageId,
    subject: Option<&str>,
    text: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        r#"update campaign_messages set subject = $4, body_text = $5, edited = true,
               problems = '{}', updated_at = now()
           where org_id = $1 and campaign_id = $2 and id = $3
             and status in ('prepared', 'approved', 'rejected')"#,
        org as OrgId,
        campaign as CampaignId,
        id as MessageId,
        subject,
        text
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Approves or rejects the messages of `which` that are not already so (approval skips messages
/// with problems). Returns how many changed.
pub async fn decide(
    db: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    which: &Which<'_>,
    to: MessageStatus,
    by: Option<UserId>,
) -> Result<u64, sqlx::Error> {
    let mut qb = QueryBuilder::new("update campaign_messages m set status = ");
    qb.push_bind(to)
        .push(", decided_by = ")
        .push_bind(by)
        .push(", decided_at = now(), updated_at = now() where");
    push_where(&mut qb, org, campaign, which);
    qb.push(" and m.status in ('prepared', 'approved', 'rejected') and m.status <> ")
        .push_bind(to);
    if to == MessageStatus::Approved {
        qb.push(" and cardinality(m.problems) = 0");
    }
    Ok(qb.build().execute(db).await?.rows_affected())
}

/// Removes the messages of `which` that are still in review (to be written again).
pub async fn delete(
    db: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    which: &Which<'_>,
) -> Result<u64, sqlx::Error> {
    let mut qb = QueryBuilder::new("delete from campaign_messages m where");
    push_where(&mut qb, org, campaign, which);
    // Messages handed to the sender stay: they are the record of what went out.
    qb.push(" and m.status in ('prepared', 'approved', 'rejected')");
    Ok(qb.build().execute(db).await?.rows_affected())
}

/// Where a campaign's messages stand.
pub async fn summary(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
) -> Result<ReviewSummary, sqlx::Error> {
    let mut tx = conn.begin().await?;
    linear_joins(&mut tx).await?;
    let db = &mut *tx;
    let r = sqlx::query!(
        r#"select count(*) filter (where m.status = 'prepared') as "prepared!",
                  count(*) filter (where m.status = 'approved') as "approved!",
                  count(*) filter (where m.status = 'rejected') as "rejected!",
                  count(*) filter (where cardinality(m.problems) > 0) as "with_problems!",
                  count(*) filter (where m.status = 'prepared' and not m.edited and m.prepared_at < s.updated_at) as "stale!"
           from campaign_messages m join campaign_steps s on s.org_id = m.org_id and s.id = m.step_id
           where m.org_id = $1 and m.campaign_id = $2"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_one(&mut *db)
    .await?;
    let missing = sqlx::query_scalar!(
        r#"select count(*) as "n!"
           from campaign_targets t
           join campaign_steps s on s.org_id = t.org_id and s.campaign_id = t.campaign_id and s.position > t.current_step
           where t.org_id = $1 and t.campaign_id = $2 and t.status <> 'completed'
             and not exists (select 1 from campaign_messages m where m.org_id = t.org_id and m.campaign_id = t.campaign_id
                                                               and m.step_id = s.id and m.contact_id = t.contact_id)"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_one(&mut *db)
    .await?;
    let preparation = latest_preparation(&mut *db, org, campaign).await?;
    tx.commit().await?;
    Ok(ReviewSummary {
        preparation,
        prepared: r.prepared,
        approved: r.approved,
        rejected: r.rejected,
        with_problems: r.with_problems,
        stale: r.stale,
        missing,
    })
}

//! Mailboxes, their health and daily use, and which mailboxes each campaign sends through.

use crate::crypto::Sealed;
use crate::domain::mailbox::{MailboxFields, ServerFields};
use aura_types::{
    CampaignId, DkimAlgorithm, MailboxId, MailboxKind, MailboxStatus, OrgId, SendingLimits,
    SmtpSecurity,
};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

/// A mailbox as stored, with its sealed passwords.
#[derive(Clone, Debug)]
pub struct MailboxRow {
    pub org_id: OrgId,
    pub id: MailboxId,
    pub kind: MailboxKind,
    pub from_name: String,
    pub from_email: String,
    pub reply_to: Option<String>,
    pub signature: String,
    pub smtp_host: String,
    pub smtp_port: i32,
    pub smtp_security: SmtpSecurity,
    pub smtp_username: String,
    pub smtp_secret_key_id: Option<String>,
    pub smtp_secret_sealed: Option<Vec<u8>>,
    pub imap_host: String,
    pub imap_port: i32,
    pub imap_security: SmtpSecurity,
    pub imap_username: String,
    pub imap_secret_key_id: Option<String>,
    pub imap_secret_sealed: Option<Vec<u8>>,
    pub daily_limit: i32,
    pub ramp_start: i32,
    pub ramp_step: i32,
    pub ramp_from: time::Date,
    pub min_interval_secs: i32,
    pub jitter_secs: i32,
    pub status: MailboxStatus,
    pub paused_reason: Option<String>,
    pub last_success_at: Option<OffsetDateTime>,
    pub last_error_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Messages queued through it since midnight UTC.
    pub sent_today: i64,
    /// The DKIM key of its From domain, if the organization uploaded one.
    pub dkim_selector: Option<String>,
    pub dkim_domain: Option<String>,
    pub dkim_algorithm: Option<DkimAlgorithm>,
    pub dkim_key_id: Option<String>,
    pub dkim_key_sealed: Option<Vec<u8>>,
    pub dkim_updated_at: Option<OffsetDateTime>,
}

pub fn port(p: i32) -> u16 {
    u16::try_from(p).unwrap_or(0)
}

impl MailboxRow {
    pub fn limits(&self) -> SendingLimits {
        SendingLimits {
            daily_limit: self.daily_limit,
            ramp_start: self.ramp_start,
            ramp_step: self.ramp_step,
            min_interval_secs: self.min_interval_secs,
            jitter_secs: self.jitter_secs,
        }
    }

    /// Its fields as parsing sees them (passwords: unchanged).
    pub fn fields(&self) -> MailboxFields {
        MailboxFields {
            kind: self.kind,
            from_name: self.from_name.clone(),
            from_email: self.from_email.clone(),
            reply_to: self.reply_to.clone(),
            signature: self.signature.clone(),
            smtp: ServerFields {
                host: self.smtp_host.clone(),
                port: port(self.smtp_port),
                security: self.smtp_security,
                username: self.smtp_username.clone(),
                password: None,
            },
            imap: ServerFields {
                host: self.imap_host.clone(),
                port: port(self.imap_port),
                security: self.imap_security,
                username: self.imap_username.clone(),
                password: None,
            },
            limits: self.limits(),
            status: self.status,
        }
    }
}

/// Midnight UTC of `now`'s day: mailbox limits count UTC days.
pub fn day_start(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_time(time::Time::MIDNIGHT)
}

/// Mailboxes of the organization (all, or only `only`), oldest first, with their use on the UTC
/// day of `now`.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    only: Option<&[MailboxId]>,
    now: OffsetDateTime,
) -> Result<Vec<MailboxRow>, sqlx::Error> {
    select(db, org, only, now, true).await
}

/// One mailbox as the sender needs it: settings and password, without counting its day's use.
pub async fn for_sending(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MailboxId,
) -> Result<Option<MailboxRow>, sqlx::Error> {
    Ok(
        select(db, org, Some(&[id]), OffsetDateTime::now_utc(), false)
            .await?
            .pop(),
    )
}

async fn select(
    db: impl PgExecutor<'_>,
    org: OrgId,
    only: Option<&[MailboxId]>,
    now: OffsetDateTime,
    with_use: bool,
) -> Result<Vec<MailboxRow>, sqlx::Error> {
    let ids: Option<Vec<uuid::Uuid>> = only.map(|o| o.iter().map(|i| i.0).collect());
    let since = day_start(now.to_offset(time::UtcOffset::UTC));
    sqlx::query_as!(
        MailboxRow,
        r#"select m.org_id as "org_id: OrgId", m.id as "id: MailboxId", m.kind as "kind: MailboxKind", m.from_name, m.from_email,
                  m.reply_to, m.signature, m.smtp_host, m.smtp_port,
                  m.smtp_security as "smtp_security: SmtpSecurity", m.smtp_username,
                  m.smtp_secret_key_id, m.smtp_secret_sealed,
                  m.imap_host, m.imap_port, m.imap_security as "imap_security: SmtpSecurity",
                  m.imap_username, m.imap_secret_key_id, m.imap_secret_sealed,
                  m.daily_limit, m.ramp_start, m.ramp_step, m.ramp_from, m.min_interval_secs,
                  m.jitter_secs, m.status as "status: MailboxStatus", m.paused_reason,
                  m.last_success_at, m.last_error_at, m.last_error, m.consecutive_failures,
                  m.created_at, m.updated_at,
                  case when $4 then (select count(*) from campaign_messages q
                    where q.org_id = m.org_id and q.mailbox_id = m.id
                      and q.queued_at >= $3
                      and q.status <> 'cancelled') else 0 end as "sent_today!",
                  d.selector as "dkim_selector?", d.domain as "dkim_domain?",
                  d.algorithm as "dkim_algorithm?: DkimAlgorithm", d.key_id as "dkim_key_id?",
                  d.key_sealed as "dkim_key_sealed?", d.updated_at as "dkim_updated_at?"
           from mailboxes m
           left join dkim_keys d on d.org_id = m.org_id and d.domain = lower(split_part(m.from_email, '@', 2))
           where m.org_id = $1 and ($2::uuid[] is null or m.id = any($2))
           order by m.created_at, m.id"#,
        org as OrgId,
        ids.as_deref(),
        since,
        with_use
    )
    .fetch_all(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MailboxId,
) -> Result<Option<MailboxRow>, sqlx::Error> {
    Ok(list(db, org, Some(&[id]), OffsetDateTime::now_utc())
        .await?
        .pop())
}

/// A password change: `None` keeps the stored one, `Some(None)` removes it.
pub type SecretChange = Option<Option<Sealed>>;

/// Inserts mailbox `id`, its ramp-up starting on `today`.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MailboxId,
    f: &MailboxFields,
    smtp_secret: &SecretChange,
    imap_secret: &SecretChange,
    today: time::Date,
) -> Result<(), sqlx::Error> {
    let smtp = smtp_secret.clone().flatten();
    let imap = imap_secret.clone().flatten();
    sqlx::query!(
        r#"insert into mailboxes (org_id, id, kind, from_name, from_email, reply_to, signature,
               smtp_host, smtp_port, smtp_security, smtp_username, smtp_secret_key_id, smtp_secret_sealed,
               imap_host, imap_port, imap_security, imap_username, imap_secret_key_id, imap_secret_sealed,
               daily_limit, ramp_start, ramp_step, min_interval_secs, jitter_secs, status, ramp_from)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                   $20, $21, $22, $23, $24, $25, $26)"#,
        org as OrgId,
        id as MailboxId,
        f.kind as MailboxKind,
        f.from_name,
        f.from_email,
        f.reply_to,
        f.signature,
        f.smtp.host,
        i32::from(f.smtp.port),
        f.smtp.security as SmtpSecurity,
        f.smtp.username,
        smtp.as_ref().map(|s| s.key_id.clone()),
        smtp.as_ref().map(|s| s.bytes.clone()),
        f.imap.host,
        i32::from(f.imap.port),
        f.imap.security as SmtpSecurity,
        f.imap.username,
        imap.as_ref().map(|s| s.key_id.clone()),
        imap.as_ref().map(|s| s.bytes.clone()),
        f.limits.daily_limit,
        f.limits.ramp_start,
        f.limits.ramp_step,
        f.limits.min_interval_secs,
        f.limits.jitter_secs,
        f.status as MailboxStatus,
        today,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Saves changes to mailbox `id`; false when there is none. Activating a paused mailbox clears
/// its failure count and reason; changing the ramp-up restarts it on `today`.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MailboxId,
    f: &MailboxFields,
    smtp_secret: &SecretChange,
    imap_secret: &SecretChange,
    today: time::Date,
) -> Result<bool, sqlx::Error> {
    let keep_smtp = smtp_secret.is_none();
    let smtp = smtp_secret.clone().flatten();
    let keep_imap = imap_secret.is_none();
    let imap = imap_secret.clone().flatten();
    let done = sqlx::query!(
        r#"update mailboxes m set
               from_name = $3, from_email = $4, reply_to = $5, signature = $6,
               smtp_host = $7, smtp_port = $8, smtp_security = $9, smtp_username = $10,
               smtp_secret_key_id = case when $11 then smtp_secret_key_id else $12 end,
               smtp_secret_sealed = case when $11 then smtp_secret_sealed else $13 end,
               imap_host = $14, imap_port = $15, imap_security = $16, imap_username = $17,
               imap_secret_key_id = case when $18 then imap_secret_key_id else $19 end,
               imap_secret_sealed = case when $18 then imap_secret_sealed else $20 end,
               ramp_from = case when (ramp_start, ramp_step) is distinct from ($22, $23) then $27::date else ramp_from end,
               daily_limit = $21, ramp_start = $22, ramp_step = $23, min_interval_secs = $24, jitter_secs = $25,
               consecutive_failures = case when status = 'paused' and $26::mailbox_status = 'active' then 0 else consecutive_failures end,
               paused_reason = case when $26::mailbox_status = 'active' then null else paused_reason end,
               status = $26, updated_at = now()
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as MailboxId,
        f.from_name,
        f.from_email,
        f.reply_to,
        f.signature,
        f.smtp.host,
        i32::from(f.smtp.port),
        f.smtp.security as SmtpSecurity,
        f.smtp.username,
        keep_smtp,
        smtp.as_ref().map(|s| s.key_id.clone()),
        smtp.as_ref().map(|s| s.bytes.clone()),
        f.imap.host,
        i32::from(f.imap.port),
        f.imap.security as SmtpSecurity,
        f.imap.username,
        keep_imap,
        imap.as_ref().map(|s| s.key_id.clone()),
        imap.as_ref().map(|s| s.bytes.clone()),
        f.limits.daily_limit,
        f.limits.ramp_start,
        f.limits.ramp_step,
        f.limits.min_interval_secs,
        f.limits.jitter_secs,
        f.status as MailboxStatus,
        today,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MailboxId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "delete from mailboxes where org_id = $1 and id = $2",
        org as OrgId,
        id as MailboxId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether messages are queued or being sent through the mailbox.
pub async fn in_use(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MailboxId,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from campaign_messages
                          where org_id = $1 and mailbox_id = $2 and status in ('queued', 'sending')) as "x!""#,
        org as OrgId,
        id as MailboxId
    )
    .fetch_one(db)
    .await
}

/// Records the outcome of a connection: success clears the failure count; a failure counts,
/// and `pause_after` authentication failures in a row pause the mailbox with `error` as reason.
pub async fn record_health(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MailboxId,
    error: Option<&str>,
    auth_failure: bool,
    pause_after: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update mailboxes set
               last_success_at = case when $3::text is null then now() else last_success_at end,
               last_error_at = case when $3::text is null then last_error_at else now() end,
               last_error = coalesce($3, last_error),
               consecutive_failures = case when $3::text is null then 0 else consecutive_failures + 1 end,
               status = case when $4 and consecutive_failures + 1 >= $5 then 'paused' else status end,
               paused_reason = case when $4 and consecutive_failures + 1 >= $5
                                    then 'Authentication failed ' || (consecutive_failures + 1) || ' times in a row: ' || $3
                                    else paused_reason end
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as MailboxId,
        error,
        auth_failure,
        pause_after
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The mailboxes a campaign sends through.
pub async fn of_campaign(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
) -> Result<Vec<MailboxId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select cm.mailbox_id as "id: MailboxId" from campaign_mailboxes cm
           join mailboxes m on m.org_id = cm.org_id and m.id = cm.mailbox_id
           where cm.org_id = $1 and cm.campaign_id = $2 order by m.created_at, m.id"#,
        org as OrgId,
        campaign as CampaignId
    )
    .fetch_all(db)
    .await
}

/// Replaces the campaign's mailboxes (all of them the organization's; checked by the caller).
pub async fn set_for_campaign(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    ids: &[MailboxId],
) -> Result<(), sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    sqlx::query!(
        "delete from campaign_mailboxes where org_id = $1 and campaign_id = $2 and mailbox_id <> all($3)",
        org as OrgId,
        campaign as CampaignId,
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"insert into campaign_mailboxes (org_id, campaign_id, mailbox_id)
           select $1, $2, unnest($3::uuid[]) on conflict do nothing"#,
        org as OrgId,
        campaign as CampaignId,
        &ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

//! The text sender's statements (SMS and WhatsApp): which numbers may send now, claiming a
//! number's due messages into the time slots of its pace, the re-check of each lead right before
//! sending, what Twilio answered, status callbacks, the sandbox's phone outbox, and finding a send
//! whose outcome is unknown among the account's messages.

use aura_types::{
    CampaignId, Channel, ContactId, MessageId, OrgId, PhoneAccountId, PhoneAccountKind,
    PhoneNumberId,
};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

/// A sending number locked for one claim, with the moment its next message may leave.
#[derive(Debug)]
pub struct LockedNumber {
    pub org_id: OrgId,
    pub id: PhoneNumberId,
    pub per_second: f64,
    pub start: OffsetDateTime,
}

/// Locks the number whose turn is due soonest (within `horizon_secs` of `now`) and has a
/// message due of an active campaign and lead (a paused one's texts wait without holding the
/// number); others' locked numbers are skipped, so one claim at a time moves a number's pace.
pub async fn lock_number(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    horizon_secs: f64,
) -> Result<Option<LockedNumber>, sqlx::Error> {
    sqlx::query_as!(
        LockedNumber,
        r#"select p.org_id as "org_id: OrgId", p.id as "id: PhoneNumberId", p.per_second,
                  greatest(p.next_send_at, $1) as "start!"
           from phone_numbers p
           where p.next_send_at <= $1 + make_interval(secs => $2)
             and (select q.send_after from campaign_messages q
                  where q.phone_number_id = p.id and q.status = 'queued' and q.locked_until is null
                    and exists (select 1 from campaigns c join campaign_targets t
                                  on t.org_id = c.org_id and t.campaign_id = c.id
                                where c.org_id = q.org_id and c.id = q.campaign_id and c.status = 'active'
                                  and t.contact_id = q.contact_id and t.status <> 'paused')
                  order by q.send_after limit 1) <= $1
           order by p.next_send_at
           limit 1
           for update of p skip locked"#,
        now,
        horizon_secs
    )
    .fetch_optional(conn)
    .await
}

/// A text claimed for sending.
#[derive(Clone, Debug)]
pub struct TextClaim {
    pub org_id: OrgId,
    pub id: MessageId,
    pub contact_id: ContactId,
    pub campaign_id: CampaignId,
    pub channel: Channel,
    pub body_text: String,
    pub attempts: i32,
    pub queued_at: Option<OffsetDateTime>,
}

/// Claims up to `limit` of the locked number's due messages of active campaigns and leads, leased until
/// `locked_until`, oldest first.
pub async fn claim(
    conn: &mut PgConnection,
    number: &LockedNumber,
    now: OffsetDateTime,
    limit: i64,
    locked_until: OffsetDateTime,
) -> Result<Vec<TextClaim>, sqlx::Error> {
    let mut claimed = sqlx::query_as!(
        TextClaim,
        r#"with picked as (
               select q.org_id, q.id from campaign_messages q
               where q.org_id = $1 and q.phone_number_id = $2 and q.status = 'queued'
                 and q.send_after <= $3 and q.locked_until is null
                 and exists (select 1 from campaigns c join campaign_targets t
                               on t.org_id = c.org_id and t.campaign_id = c.id
                             where c.org_id = q.org_id and c.id = q.campaign_id and c.status = 'active'
                               and t.contact_id = q.contact_id and t.status <> 'paused')
               order by q.send_after, q.id
               limit $4
               for update of q skip locked
           )
           update campaign_messages q
           set locked_until = $5, attempts = q.attempts + 1
           from picked p
           where q.org_id = p.org_id and q.id = p.id
           returning q.org_id as "org_id: OrgId", q.id as "id: MessageId",
                     q.contact_id as "contact_id: ContactId", q.campaign_id as "campaign_id: CampaignId",
                     q.channel as "channel: Channel", q.body_text, q.attempts, q.queued_at"#,
        number.org_id as OrgId,
        number.id as PhoneNumberId,
        now,
        limit,
        locked_until
    )
    .fetch_all(conn)
    .await?;
    claimed.sort_by_key(|c| (c.queued_at, c.id.0));
    Ok(claimed)
}

/// Moves a number's next send to `at` (after a claim took its slots up to there, or to pause it).
pub async fn pace(
    db: impl PgExecutor<'_>,
    org: OrgId,
    number: PhoneNumberId,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update phone_numbers set next_send_at = greatest(next_send_at, $3)
           where org_id = $1 and id = $2"#,
        org as OrgId,
        number as PhoneNumberId,
        at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The number a claim sends from, with its account (secrets still sealed).
#[derive(Clone, Debug)]
pub struct SendingNumber {
    pub id: PhoneNumberId,
    pub number: String,
    pub messaging_service_sid: Option<String>,
    pub account_id: PhoneAccountId,
    pub account_kind: PhoneAccountKind,
    pub per_second: f64,
}

pub async fn sending_number(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: PhoneNumberId,
) -> Result<Option<SendingNumber>, sqlx::Error> {
    sqlx::query_as!(
        SendingNumber,
        r#"select p.id as "id: PhoneNumberId", p.number, p.messaging_service_sid,
                  a.id as "account_id: PhoneAccountId", a.kind as "account_kind: PhoneAccountKind",
                  p.per_second
           from phone_numbers p
           join phone_accounts a on a.org_id = p.org_id and a.id = p.account_id
           where p.org_id = $1 and p.id = $2"#,
        org as OrgId,
        id as PhoneNumberId
    )
    .fetch_optional(db)
    .await
}

/// The organization's numbers that may send on `channel`, real ones before the sandbox's, each
/// group oldest first (the scheduler spreads leads over the first group).
pub async fn numbers_for(
    db: impl PgExecutor<'_>,
    org: OrgId,
    channel: Channel,
) -> Result<Vec<(PhoneNumberId, bool)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select p.id as "id: PhoneNumberId", a.kind = 'sandbox' as "sandbox!"
           from phone_numbers p
           join phone_accounts a on a.org_id = p.org_id and a.id = p.account_id
           where p.org_id = $1 and case $2::channel when 'sms' then p.sms when 'whatsapp' then p.whatsapp else false end
           order by a.kind = 'sandbox', p.created_at, p.id"#,
        org as OrgId,
        channel as Channel
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.sandbox)).collect())
}

/// What the sender needs to know about a claimed text's lead, campaign and organization, read
/// right before sending.
#[derive(Clone, Debug)]
pub struct TextContext {
    pub org_id: OrgId,
    pub id: MessageId,
    /// The lead's number on the message's channel (their phone, or their WhatsApp number).
    pub to: Option<String>,
    /// `contact_block`'s answer for that number (the one "may we contact").
    pub block_code: Option<String>,
    pub block_detail: Option<String>,
    pub left: bool,
    pub hold: bool,
    pub org_name: String,
    /// The organization adds its name and the opt-out wording to a first text.
    pub footer: Option<String>,
    /// No text on this channel was sent to the lead before.
    pub first: bool,
    pub timezone: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub campaign_timezone: String,
    /// WhatsApp: the step's template (sent when the lead's window is closed) and the lead's
    /// values of its variables.
    pub template: Option<serde_json::Value>,
    pub content_variables: Option<serde_json::Value>,
    /// WhatsApp: when the lead last wrote on WhatsApp (their 24-hour window runs from it).
    pub last_inbound: Option<OffsetDateTime>,
}

/// Reads the contexts of claimed texts, in the caller's transaction.
pub async fn context(
    conn: &mut PgConnection,
    claimed: &[TextClaim],
) -> Result<Vec<TextContext>, sqlx::Error> {
    let orgs: Vec<uuid::Uuid> = claimed.iter().map(|m| m.org_id.0).collect();
    let ids: Vec<uuid::Uuid> = claimed.iter().map(|m| m.id.0).collect();
    sqlx::query_as!(
        TextContext,
        r#"with x as (
               select m.org_id, m.id, m.contact_id, m.campaign_id, m.channel, m.step_id,
                      m.content_variables
               from unnest($1::uuid[], $2::uuid[]) as u(org_id, id)
               join campaign_messages m on m.org_id = u.org_id and m.id = u.id
           )
           select x.org_id as "org_id!: OrgId", x.id as "id!: MessageId",
                  case x.channel when 'whatsapp' then k.whatsapp else k.phone end as "to",
                  b.code as block_code, b.detail as block_detail,
                  (t.status = 'completed') as "left!",
                  (c.status <> 'active' or t.status = 'paused') as "hold!",
                  coalesce(o.public_name, o.name) as "org_name!",
                  case when o.text_opt_out_footer then o.text_opt_out_wording end as footer,
                  not exists (select 1 from campaign_messages e
                              where e.org_id = x.org_id and e.contact_id = x.contact_id
                                and e.channel = x.channel and e.sent_at is not null) as "first!",
                  k.timezone, k.state, k.country, c.timezone as campaign_timezone,
                  s.whatsapp_template as template, x.content_variables,
                  case when x.channel = 'whatsapp' then
                      (select max(i.received_at) from conversations v
                       join inbound_messages i on i.org_id = v.org_id and i.conversation_id = v.id
                       where v.org_id = x.org_id and v.contact_id = x.contact_id and v.channel = 'whatsapp')
                  end as last_inbound
           from x
           left join campaign_steps s on s.org_id = x.org_id and s.id = x.step_id
           join contacts k on k.org_id = x.org_id and k.id = x.contact_id
           join campaign_targets t on t.org_id = x.org_id and t.campaign_id = x.campaign_id and t.contact_id = x.contact_id
           join campaigns c on c.org_id = x.org_id and c.id = x.campaign_id
           join organizations o on o.id = x.org_id
           left join lateral contact_block(x.org_id, x.channel,
                case x.channel when 'whatsapp' then k.whatsapp else k.phone end) b
             on (case x.channel when 'whatsapp' then k.whatsapp else k.phone end) is not null"#,
        &orgs,
        &ids
    )
    .fetch_all(conn)
    .await
}

/// What Twilio (or the sandbox) answered for a text that went: its sid and status.
pub async fn accepted(
    conn: &mut PgConnection,
    org: OrgId,
    id: MessageId,
    sid: &str,
    status: &str,
    body: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_messages set provider_message_id = $3, provider_status = $4,
               provider_status_rank = greatest(provider_status_rank, $5),
               body_text = coalesce($6, body_text), updated_at = now()
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as MessageId,
        sid,
        status,
        crate::domain::phone::status_rank(status),
        body
    )
    .execute(&mut *conn)
    .await?;
    // A status callback may have come before this was recorded: the furthest one applies.
    sqlx::query!(
        r#"update campaign_messages m set provider_status = e.status, provider_status_rank = e.rank,
               error_code = coalesce(e.error_code, m.error_code)
           from (select status, rank, error_code from text_status_events
                 where org_id = $1 and sid = $3 order by rank desc limit 1) e
           where m.org_id = $1 and m.id = $2 and m.provider_status_rank < e.rank"#,
        org as OrgId,
        id as MessageId,
        sid
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps Twilio's error code of a refused text.
pub async fn refused(
    conn: &mut PgConnection,
    org: OrgId,
    id: MessageId,
    code: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update campaign_messages set error_code = $3 where org_id = $1 and id = $2",
        org as OrgId,
        id as MessageId,
        i32::try_from(code).unwrap_or(i32::MAX)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A status callback applied: `false` when it was seen before (by token, or by the message and
/// status), or names no message of the organization. A status never moves backwards: a later
/// callback of a lower rank is kept as seen but changes nothing.
pub async fn status(
    conn: &mut PgConnection,
    org: OrgId,
    sid: &str,
    status: &str,
    error_code: Option<i64>,
    token: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let rank = crate::domain::phone::status_rank(status);
    let fresh = sqlx::query_scalar!(
        r#"insert into text_status_events (org_id, sid, status, token, rank, error_code)
           values ($1, $2, $3, $4, $5, $6)
           on conflict do nothing returning true as "x!""#,
        org as OrgId,
        sid,
        status,
        token,
        rank,
        error_code.and_then(|c| i32::try_from(c).ok())
    )
    .fetch_optional(&mut *conn)
    .await?;
    if fresh.is_none() {
        return Ok(false);
    }
    let done = sqlx::query!(
        r#"update campaign_messages set provider_status = $3, provider_status_rank = $4,
               error_code = coalesce($5, error_code),
               smtp_reply = coalesce($6, smtp_reply), updated_at = now()
           where org_id = $1 and provider_message_id = $2 and channel in ('sms', 'whatsapp')
             and provider_status_rank < $4"#,
        org as OrgId,
        sid,
        status,
        rank,
        error_code.and_then(|c| i32::try_from(c).ok()),
        error_code.map(crate::domain::phone::explain)
    )
    .execute(&mut *conn)
    .await?;
    // An answer written in the inbox that did not arrive shows as failed, with why.
    let answer = sqlx::query!(
        r#"update conversation_replies set status = 'failed',
               smtp_reply = coalesce($4, 'Twilio reported it ' || $3 || '.')
           where org_id = $1 and provider_sid = $2 and status = 'sent'
             and $3 in ('failed', 'undelivered')"#,
        org as OrgId,
        sid,
        status,
        error_code.map(|c| format!("{} (Twilio {c})", crate::domain::phone::explain(c)))
    )
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() + answer.rows_affected() > 0)
}

/// What went instead of the prepared text (a WhatsApp template, filled in).
pub async fn wrote(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MessageId,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update campaign_messages set body_text = $3, updated_at = now() where org_id = $1 and id = $2",
        org as OrgId,
        id as MessageId,
        body
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Keeps a text the sandbox number "sent".
#[allow(clippy::too_many_arguments)]
pub async fn keep_in_outbox(
    db: impl PgExecutor<'_>,
    org: OrgId,
    number: Option<PhoneNumberId>,
    message: Option<MessageId>,
    channel: Channel,
    from: &str,
    to: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into phone_outbox (org_id, id, number_id, message_id, channel, from_number, to_number, body)
           values ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        org as OrgId,
        uuid::Uuid::now_v7(),
        number as Option<PhoneNumberId>,
        message.map(|m| m.0),
        channel as Channel,
        from,
        to,
        body
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The sandbox's phone outbox, newest first.
pub async fn outbox(
    db: impl PgExecutor<'_>,
    org: OrgId,
    limit: i64,
) -> Result<Vec<aura_types::OutboxText>, sqlx::Error> {
    sqlx::query_as!(
        aura_types::OutboxText,
        r#"select id, channel as "channel: Channel", from_number, to_number, body, created_at
           from phone_outbox where org_id = $1 order by created_at desc, id desc limit $2"#,
        org as OrgId,
        limit
    )
    .fetch_all(db)
    .await
}

/// A text whose send has an unknown outcome, to look for at Twilio.
#[derive(Clone, Debug)]
pub struct Unreconciled {
    pub org_id: OrgId,
    pub id: MessageId,
    pub campaign_id: CampaignId,
    pub channel: Channel,
    pub body_text: String,
    pub to: Option<String>,
    pub from_number: String,
    pub account_id: PhoneAccountId,
    pub queued_at: Option<OffsetDateTime>,
}

/// Up to `limit` unknown texts whose last attempt was due before `settled` (Twilio lists a
/// message a moment after it is made) and not looked for yet.
pub async fn unreconciled(
    db: impl PgExecutor<'_>,
    settled: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Unreconciled>, sqlx::Error> {
    sqlx::query_as!(
        Unreconciled,
        r#"select m.org_id as "org_id: OrgId", m.id as "id: MessageId",
                  m.campaign_id as "campaign_id: CampaignId", m.channel as "channel: Channel",
                  m.body_text, case m.channel when 'whatsapp' then k.whatsapp else k.phone end as "to",
                  p.number as from_number, p.account_id as "account_id: PhoneAccountId", m.queued_at
           from campaign_messages m
           join phone_numbers p on p.org_id = m.org_id and p.id = m.phone_number_id
           join contacts k on k.org_id = m.org_id and k.id = m.contact_id
           where m.status = 'unknown' and m.phone_number_id is not null and m.reconciled_at is null
             and m.send_after <= $1
           order by m.send_after
           limit $2"#,
        settled,
        limit
    )
    .fetch_all(db)
    .await
}

/// Marks an unknown text as looked for, with what was found (`reply`).
pub async fn reconciled(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MessageId,
    reply: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_messages set reconciled_at = $3, smtp_reply = $4
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as MessageId,
        now,
        reply
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Puts an unknown text back under a lease, so its send can be recorded as found.
pub async fn lease_unknown(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: MessageId,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update campaign_messages set status = 'queued', locked_until = $3, send_after = $3
           where org_id = $1 and id = $2 and status = 'unknown'"#,
        org as OrgId,
        id as MessageId,
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a text of the organization already has this sid.
pub async fn sid_known(
    db: impl PgExecutor<'_>,
    org: OrgId,
    sid: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from campaign_messages
                         where org_id = $1 and provider_message_id = $2) as "x!""#,
        org as OrgId,
        sid
    )
    .fetch_one(db)
    .await
}

/// Forgets status callbacks older than `days` (Twilio retries one for hours, not days).
pub async fn prune_status_events(db: impl PgExecutor<'_>, days: i32) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "delete from text_status_events where received_at < now() - make_interval(days => $1)",
        days
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Where an answer by text goes: the lead's number on the channel, the number to send from
/// (the one the lead last wrote to; else the one that last texted the lead there; else the
/// organization's first that sends on it, real before sandbox), and when the lead last wrote on
/// the channel.
#[derive(Clone, Debug)]
pub struct ReplyRoute {
    pub to: Option<String>,
    pub number: Option<PhoneNumberId>,
    pub last_inbound: Option<OffsetDateTime>,
    /// The organization's number the lead last wrote to on the channel (answers go from it).
    pub wrote_to: Option<PhoneNumberId>,
}

pub async fn reply_route(
    conn: &mut PgConnection,
    org: OrgId,
    contact: ContactId,
    channel: Channel,
) -> Result<ReplyRoute, sqlx::Error> {
    let r = sqlx::query!(
        r#"select case $3::channel when 'whatsapp' then k.whatsapp else k.phone end as "to",
                  coalesce(
                      (select m.phone_number_id from campaign_messages m
                       join phone_numbers p on p.org_id = m.org_id and p.id = m.phone_number_id
                       where m.org_id = $1 and m.contact_id = $2 and m.channel = $3
                         and m.sent_at is not null
                       order by m.sent_at desc limit 1),
                      (select p.id from phone_numbers p
                       join phone_accounts a on a.org_id = p.org_id and a.id = p.account_id
                       where p.org_id = $1
                         and case $3::channel when 'sms' then p.sms when 'whatsapp' then p.whatsapp else false end
                       order by a.kind = 'sandbox', p.created_at, p.id limit 1)
                  ) as "number: PhoneNumberId",
                  (select max(i.received_at) from conversations v
                   join inbound_messages i on i.org_id = v.org_id and i.conversation_id = v.id
                   where v.org_id = $1 and v.contact_id = $2 and v.channel = $3) as last_inbound,
                  (select i.raw from conversations v
                   join inbound_messages i on i.org_id = v.org_id and i.conversation_id = v.id
                   where v.org_id = $1 and v.contact_id = $2 and v.channel = $3
                   order by i.received_at desc limit 1) as last_raw
           from contacts k where k.org_id = $1 and k.id = $2"#,
        org as OrgId,
        contact as ContactId,
        channel as Channel
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = r else {
        return Ok(ReplyRoute {
            to: None,
            number: None,
            last_inbound: None,
            wrote_to: None,
        });
    };
    // The webhook's `To`: the organization's number the lead wrote to.
    let called = r.last_raw.as_deref().and_then(|raw| {
        url::form_urlencoded::parse(raw)
            .find(|(k, _)| k == "To")
            .map(|(_, v)| v.trim_start_matches("whatsapp:").to_owned())
    });
    let wrote_to = match called {
        Some(number) => sqlx::query_scalar!(
            r#"select id as "id: PhoneNumberId" from phone_numbers
               where org_id = $1 and number = $2
                 and case $3::channel when 'sms' then sms when 'whatsapp' then whatsapp else false end"#,
            org as OrgId,
            number,
            channel as Channel
        )
        .fetch_optional(&mut *conn)
        .await?,
        None => None,
    };
    Ok(ReplyRoute {
        to: r.to,
        number: r.number,
        last_inbound: r.last_inbound,
        wrote_to,
    })
}

/// Takes the next slot of a number's pace for one text sent outside a claim (an answer written
/// in the inbox): the moment it may leave, and the number's next send moved one interval on.
pub async fn take_slot(
    db: impl PgExecutor<'_>,
    org: OrgId,
    number: PhoneNumberId,
    now: OffsetDateTime,
    interval_secs: f64,
) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"update phone_numbers
           set next_send_at = greatest(next_send_at, $3) + make_interval(secs => $4)
           where org_id = $1 and id = $2
           returning next_send_at - make_interval(secs => $4) as "slot!""#,
        org as OrgId,
        number as PhoneNumberId,
        now,
        interval_secs
    )
    .fetch_optional(db)
    .await
}

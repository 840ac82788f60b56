//! Answers written in the inbox: queued by a person, claimed by a sender with a lease (as
//! campaign messages are), and their outcome recorded. A lease that runs out leaves the answer
//! unknown: it is never sent twice.

use super::send::Recorded;
use aura_types::{
    Channel, ContactId, ConversationId, MailboxId, OrgId, PhoneNumberId, ReplyId, UserId,
};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

/// An answer to queue.
pub struct NewReply<'a> {
    pub id: ReplyId,
    pub conversation: ConversationId,
    pub mailbox: MailboxId,
    pub author: Option<UserId>,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub refs: &'a [String],
}

/// Queues an answer, due at `now`; the conversation no longer waits for one, and shows it.
pub async fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    r: &NewReply<'_>,
    snippet: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into conversation_replies (org_id, id, conversation_id, mailbox_id, author_id,
               to_address, subject, body_text, message_id, in_reply_to, refs, send_after, created_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)"#,
        org as OrgId,
        r.id as ReplyId,
        r.conversation as ConversationId,
        r.mailbox as MailboxId,
        r.author as Option<UserId>,
        r.to,
        r.subject,
        r.text,
        r.message_id,
        r.in_reply_to,
        r.refs,
        now
    )
    .execute(&mut *conn)
    .await?;
    seen_answered(conn, org, r.conversation, snippet, now).await
}

/// An answer by text to queue.
pub struct NewTextReply<'a> {
    pub id: ReplyId,
    pub conversation: ConversationId,
    pub channel: Channel,
    pub number: PhoneNumberId,
    pub author: Option<UserId>,
    /// The lead's number (E.164).
    pub to: &'a str,
    /// What the lead reads (a template's text, filled in, when `content` is set).
    pub text: &'a str,
    /// A WhatsApp template: its Content SID and the variables' values.
    pub content: Option<(&'a str, serde_json::Value)>,
}

/// Queues an answer by SMS or WhatsApp, due at `now`; the conversation no longer waits for one.
pub async fn insert_text(
    conn: &mut PgConnection,
    org: OrgId,
    r: &NewTextReply<'_>,
    snippet: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let (content_sid, variables) = match &r.content {
        Some((sid, vars)) => (Some(*sid), Some(vars.clone())),
        None => (None, None),
    };
    sqlx::query!(
        r#"insert into conversation_replies (org_id, id, conversation_id, channel, phone_number_id,
               author_id, to_address, subject, body_text, message_id, content_sid, content_variables,
               send_after, created_at)
           values ($1, $2, $3, $4, $5, $6, $7, '', $8, 'text-' || $2::uuid::text, $9, $10, $11, $11)"#,
        org as OrgId,
        r.id as ReplyId,
        r.conversation as ConversationId,
        r.channel as Channel,
        r.number as PhoneNumberId,
        r.author as Option<UserId>,
        r.to,
        r.text,
        content_sid,
        variables,
        now
    )
    .execute(&mut *conn)
    .await?;
    seen_answered(conn, org, r.conversation, snippet, now).await
}

/// The conversation no longer waits for an answer, and shows the one just written.
async fn seen_answered(
    conn: &mut PgConnection,
    org: OrgId,
    conversation: ConversationId,
    snippet: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update conversations set needs_reply = false, unread = false, snippet = $3,
               last_message_at = greatest(last_message_at, $4)
           where org_id = $1 and id = $2"#,
        org as OrgId,
        conversation as ConversationId,
        snippet,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An answer by text claimed for sending.
#[derive(Clone, Debug)]
pub struct ClaimedText {
    pub org_id: OrgId,
    pub id: ReplyId,
    pub conversation_id: ConversationId,
    pub contact_id: ContactId,
    pub channel: Channel,
    pub phone_number_id: Option<PhoneNumberId>,
    pub to_address: String,
    pub body_text: String,
    pub content_sid: Option<String>,
    pub content_variables: Option<serde_json::Value>,
    pub attempts: i32,
    /// When the lead last wrote in the conversation (WhatsApp's window runs from it).
    pub last_inbound: Option<OffsetDateTime>,
    /// `contact_block`'s answer for the number (the one "may we contact").
    pub block_code: Option<String>,
    pub block_detail: Option<String>,
}

/// Claims due answers by text (at most `batch`), each leased until `now + lease_secs`.
pub async fn claim_texts(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    batch: i64,
    lease_secs: i64,
) -> Result<Vec<ClaimedText>, sqlx::Error> {
    sqlx::query_as!(
        ClaimedText,
        r#"with picked as (
               select r.org_id, r.id, r.to_address, r.channel from conversation_replies r
               where r.status = 'queued' and r.locked_until is null and r.send_after <= $1
                 and r.channel <> 'email'
               order by r.send_after
               limit $2
               for update skip locked
           )
           update conversation_replies r
           set locked_until = $1 + make_interval(secs => $3), attempts = r.attempts + 1
           from picked p
           join conversations v on v.org_id = p.org_id
           left join lateral contact_block(p.org_id, p.channel, p.to_address) b on true
           where r.org_id = p.org_id and r.id = p.id and v.id = r.conversation_id
           returning r.org_id as "org_id: OrgId", r.id as "id: ReplyId",
                     r.conversation_id as "conversation_id: ConversationId",
                     v.contact_id as "contact_id: ContactId", r.channel as "channel: Channel",
                     r.phone_number_id as "phone_number_id: PhoneNumberId", r.to_address,
                     r.body_text, r.content_sid, r.content_variables, r.attempts,
                     (select max(i.received_at) from inbound_messages i
                      where i.org_id = r.org_id and i.conversation_id = r.conversation_id) as last_inbound,
                     b.code as "block_code?", b.detail as "block_detail?""#,
        now,
        batch,
        lease_secs as f64
    )
    .fetch_all(conn)
    .await
}

/// Twilio's id for an answer that went.
pub async fn provider_sid(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ReplyId,
    sid: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update conversation_replies set provider_sid = $3 where org_id = $1 and id = $2",
        org as OrgId,
        id as ReplyId,
        sid
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records an answer as sent at `at` without sending it: the demo's history.
pub async fn seed_sent(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ReplyId,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update conversation_replies set status = 'sent', sent_at = $3
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as ReplyId,
        at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The email conversation a copy found in Sent belongs to, when it is an answer written in another
/// mail client: addressed to a contact who has one, and neither a campaign's message nor an answer
/// written here (by Message-ID, without angle brackets).
pub async fn conversation_for_copy(
    db: impl PgExecutor<'_>,
    org: OrgId,
    recipients: &[String],
    message_id: &str,
) -> Result<Option<ConversationId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select v.id as "id: ConversationId" from conversations v
           join contacts k on k.org_id = v.org_id and k.id = v.contact_id
           where v.org_id = $1 and v.channel = 'email' and lower(k.email) = any($2)
             and not exists (select 1 from conversation_replies r
                             where r.org_id = $1 and r.message_id = $3)
             and not exists (select 1 from campaign_messages m
                             where m.org_id = $1 and (m.message_id = $3 or m.provider_message_id = $3))
           order by array_position($2, lower(k.email))
           limit 1"#,
        org as OrgId,
        recipients,
        message_id
    )
    .fetch_optional(db)
    .await
}

/// An answer written in another mail client, found in the mailbox's Sent folder.
pub struct Elsewhere<'a> {
    pub conversation: ConversationId,
    pub mailbox: MailboxId,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub at: OffsetDateTime,
}

/// Keeps an answer written elsewhere in its conversation, as sent (once, by its Message-ID); the
/// conversation no longer waits for an answer when it came after the lead's last message.
/// Whether it was new.
pub async fn insert_elsewhere(
    conn: &mut PgConnection,
    org: OrgId,
    e: &Elsewhere<'_>,
    snippet: &str,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query!(
        r#"insert into conversation_replies (org_id, id, conversation_id, mailbox_id, to_address,
               subject, body_text, message_id, in_reply_to, status, send_after, sent_at, created_at,
               smtp_reply)
           select $1, $2, $3, $4, $5, $6, $7, $8, $9, 'sent', $10, $10, $10,
                  'Written in another mail client'
           where not exists (select 1 from conversation_replies r
                             where r.org_id = $1 and r.message_id = $8)"#,
        org as OrgId,
        ReplyId::new() as ReplyId,
        e.conversation as ConversationId,
        e.mailbox as MailboxId,
        e.to,
        e.subject,
        e.text,
        e.message_id,
        e.in_reply_to,
        e.at
    )
    .execute(&mut *conn)
    .await?;
    if added.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query!(
        r#"update conversations set
               needs_reply = needs_reply and last_message_at > $3,
               snippet = case when $3 >= last_message_at then $4 else snippet end,
               last_message_at = greatest(last_message_at, $3)
           where org_id = $1 and id = $2"#,
        org as OrgId,
        e.conversation as ConversationId,
        e.at,
        snippet
    )
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// What the thread needs to answer: the conversation's mailbox and lead, and the last message
/// of the lead's (its Message-ID, References and subject) or, failing one, the last of ours.
#[derive(Clone, Debug)]
pub struct Thread {
    pub mailbox_id: Option<MailboxId>,
    pub to: Option<String>,
    pub subject: Option<String>,
    /// The message answered, and the chain before it.
    pub parent: Option<String>,
    pub refs: Vec<String>,
}

pub async fn thread(
    conn: &mut PgConnection,
    org: OrgId,
    id: ConversationId,
) -> Result<Option<Thread>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select v.mailbox_id as "mailbox_id: MailboxId", k.email, v.contact_id, v.channel::text as "channel!"
           from conversations v join contacts k on k.org_id = v.org_id and k.id = v.contact_id
           where v.org_id = $1 and v.id = $2"#,
        org as OrgId,
        id as ConversationId
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    // Every message of the thread, newest first, with the ids it carries: what arrived (its
    // Message-ID), what campaigns sent (ours and the provider's), and the answers written here.
    let messages = sqlx::query!(
        r#"select subject, message_id, refs as "refs!", at as "at!", theirs as "theirs!" from (
               select i.subject, i.message_id, '{}'::text[] as refs, i.received_at as at, true as theirs
               from inbound_messages i
               where i.org_id = $1 and i.conversation_id = $2 and i.kind = 'reply'
               union all
               select m.subject, coalesce(m.provider_message_id, m.message_id), m.refs, m.sent_at, false
               from campaign_messages m
               where m.org_id = $1 and m.contact_id = $3 and m.channel = 'email' and m.sent_at is not null
               union all
               select r.subject, r.message_id, r.refs, r.created_at, false
               from conversation_replies r
               where r.org_id = $1 and r.conversation_id = $2 and r.status <> 'failed'
           ) t order by at desc limit 50"#,
        org as OrgId,
        id as ConversationId,
        row.contact_id
    )
    .fetch_all(&mut *conn)
    .await?;
    // The lead's last message is answered; without one, the thread's last message of ours.
    let parent = messages
        .iter()
        .filter(|m| m.theirs)
        .chain(messages.iter())
        .find_map(|m| m.message_id.clone());
    // References: the thread's ids, oldest first, the parent last (RFC 5322 §3.6.4), at most 20.
    let mut refs: Vec<String> = Vec::new();
    for m in messages.iter().rev() {
        for id in m.refs.iter().chain(m.message_id.iter()) {
            if !refs.contains(id) {
                refs.push(id.clone());
            }
        }
    }
    if let Some(p) = &parent {
        refs.retain(|r| r != p);
        refs.push(p.clone());
    }
    let skip = refs.len().saturating_sub(20);
    Ok(Some(Thread {
        mailbox_id: row.mailbox_id,
        to: row.email.filter(|_| row.channel == "email"),
        subject: messages
            .iter()
            .filter(|m| m.theirs)
            .chain(messages.iter())
            .find_map(|m| m.subject.clone().filter(|s| !s.trim().is_empty())),
        parent,
        refs: refs.split_off(skip),
    }))
}

/// Which of `ids` (Message-IDs without angle brackets) are answers written in the inbox: mail
/// answering one is an answer to us too.
pub async fn ours_among(
    db: impl PgExecutor<'_>,
    org: OrgId,
    ids: &[String],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let found = sqlx::query_scalar!(
        r#"select message_id as "id!" from conversation_replies
           where org_id = $1 and message_id = any($2)"#,
        org as OrgId,
        ids
    )
    .fetch_all(db)
    .await?;
    Ok(found.into_iter().collect())
}

/// An answer claimed for sending.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub org_id: OrgId,
    pub id: ReplyId,
    pub conversation_id: ConversationId,
    pub mailbox_id: Option<MailboxId>,
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub refs: Vec<String>,
    pub attempts: i32,
    /// `contact_block`'s answer for the address (the one "may we contact").
    pub block_code: Option<String>,
    pub block_detail: Option<String>,
}

/// Claims due answers (at most `batch`), each leased until `now + lease_secs`.
pub async fn claim(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    batch: i64,
    lease_secs: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        r#"with picked as (
               select r.org_id, r.id, r.to_address, r.conversation_id from conversation_replies r
               where r.status = 'queued' and r.locked_until is null and r.send_after <= $1
                 and r.channel = 'email'
               order by r.send_after
               limit $2
               for update skip locked
           )
           update conversation_replies r
           set locked_until = $1 + make_interval(secs => $3), attempts = r.attempts + 1
           from picked p
           join conversations v on v.org_id = p.org_id and v.id = p.conversation_id
           join contacts k on k.org_id = v.org_id and k.id = v.contact_id
           left join lateral contact_block(p.org_id, 'email', p.to_address) b on true
           where r.org_id = p.org_id and r.id = p.id
           returning r.org_id as "org_id: OrgId", r.id as "id: ReplyId",
                     r.conversation_id as "conversation_id: ConversationId",
                     r.mailbox_id as "mailbox_id: MailboxId", r.to_address,
                     nullif(trim(concat_ws(' ', k.first_name, k.last_name)), '') as to_name,
                     r.subject, r.body_text, r.message_id, r.in_reply_to, r.refs, r.attempts,
                     b.code as "block_code?", b.detail as "block_detail?""#,
        now,
        batch,
        lease_secs as f64
    )
    .fetch_all(conn)
    .await
}

/// Records an answer's outcome, if its lease is still the one it was claimed with (an expired
/// lease made it unknown: that stays).
pub async fn record(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ReplyId,
    outcome: &Recorded,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let (status, reply, after) = match outcome {
        Recorded::Sent { reply } => ("sent", Some(reply), None),
        Recorded::Retry { reply, at } | Recorded::Defer { reply, at } => {
            ("queued", Some(reply), Some(*at))
        }
        Recorded::Failed { reply } | Recorded::Bounced { reply } => ("failed", Some(reply), None),
        Recorded::Cancelled { reason } | Recorded::Skipped { reason } => {
            ("failed", Some(reason), None)
        }
        Recorded::Unknown { reply } => ("unknown", Some(reply), None),
        Recorded::Release => ("queued", None, None),
    };
    let done = sqlx::query!(
        r#"update conversation_replies set status = $3::text::reply_status, smtp_reply = coalesce($4, smtp_reply),
               locked_until = null, send_after = coalesce($5, send_after),
               sent_at = case when $3 = 'sent' then $6 else sent_at end
           where org_id = $1 and id = $2 and status = 'queued' and locked_until is not null"#,
        org as OrgId,
        id as ReplyId,
        status,
        reply,
        after,
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Answers whose sender stopped while handing them over become unknown; their conversations
/// (by organization), for the inbox's events.
pub async fn expire_leases(
    db: impl PgExecutor<'_>,
    now: OffsetDateTime,
) -> Result<Vec<(OrgId, ConversationId)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"update conversation_replies set status = 'unknown', locked_until = null,
               smtp_reply = 'The sender stopped while handing this answer over; it may or may not have gone out.'
           where status = 'queued' and locked_until < $1
           returning org_id as "org_id: OrgId", conversation_id as "conversation_id: ConversationId""#,
        now
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.org_id, r.conversation_id))
        .collect())
}

//! Conversations and the mail that arrived in them; what an arrival changes on the campaign side
//! (the lead's sequence stopped or postponed, a bounced message marked).

use aura_types::{
    ai::{Direction, ReplyLabel},
    CampaignId, Channel, ContactId, Conversation, ConversationId, ConversationStatus, InboundId,
    InboundKind, MailboxId, MessageId, MessageStatus, OrgId, PersonaId, ThreadItem, UserId,
};
use sqlx::{PgConnection, PgExecutor};
use std::collections::{HashMap, HashSet};
use time::{Date, OffsetDateTime};

/// A message of ours an arrival answers or reports on.
#[derive(Clone, Debug)]
pub struct Sent {
    pub id: MessageId,
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
    pub mailbox_id: Option<MailboxId>,
    pub stop_on_reply: bool,
}

/// A message of ours found by one of its ids.
#[derive(Clone, Debug)]
pub struct SentById {
    pub sent: Sent,
    /// Our Message-ID and the one its provider gave it (without angle brackets).
    pub message_id: Option<String>,
    pub provider_message_id: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
}

/// The messages of ours with one of `ids` as their Message-ID (without angle brackets; ours, or
/// the one the provider gave them).
pub async fn sent_by_ids(
    db: impl PgExecutor<'_>,
    org: OrgId,
    ids: &[String],
) -> Result<Vec<SentById>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"select m.id as "id: MessageId", m.campaign_id as "campaign_id: CampaignId",
                  m.contact_id as "contact_id: ContactId", m.mailbox_id as "mailbox_id: MailboxId",
                  c.stop_on_reply, m.message_id, m.provider_message_id, m.sent_at
           from campaign_messages m
           join campaigns c on c.org_id = m.org_id and c.id = m.campaign_id
           where m.org_id = $1 and (m.message_id = any($2) or m.provider_message_id = any($2))"#,
        org as OrgId,
        ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SentById {
            sent: Sent {
                id: r.id,
                campaign_id: r.campaign_id,
                contact_id: r.contact_id,
                mailbox_id: r.mailbox_id,
                stop_on_reply: r.stop_on_reply,
            },
            message_id: r.message_id,
            provider_message_id: r.provider_message_id,
            sent_at: r.sent_at,
        })
        .collect())
}

/// For each (contact, normalised subject), the latest email of ours sent to that contact under
/// that subject (or "re: " and it): replies whose client dropped the threading headers. In the
/// order asked.
pub async fn sent_by_subject(
    db: impl PgExecutor<'_>,
    org: OrgId,
    asked: &[(ContactId, String)],
) -> Result<Vec<Option<Sent>>, sqlx::Error> {
    if asked.is_empty() {
        return Ok(Vec::new());
    }
    let contacts: Vec<uuid::Uuid> = asked.iter().map(|(c, _)| c.0).collect();
    let subjects: Vec<String> = asked.iter().map(|(_, s)| s.clone()).collect();
    let rows = sqlx::query!(
        r#"select distinct on (u.n) u.n as "n!",
                  m.id as "id: MessageId", m.campaign_id as "campaign_id: CampaignId",
                  m.contact_id as "contact_id: ContactId", m.mailbox_id as "mailbox_id: MailboxId",
                  c.stop_on_reply
           from unnest($2::uuid[], $3::text[]) with ordinality as u(contact_id, subject, n)
           join campaign_messages m
             on m.org_id = $1 and m.contact_id = u.contact_id and m.channel = 'email'
            and m.sent_at is not null and m.subject <> ''
            and lower(m.subject) in (u.subject, 're: ' || u.subject)
           join campaigns c on c.org_id = m.org_id and c.id = m.campaign_id
           order by u.n, m.sent_at desc"#,
        org as OrgId,
        &contacts,
        &subjects
    )
    .fetch_all(db)
    .await?;
    let mut found = vec![None; asked.len()];
    for r in rows {
        if let Some(slot) = usize::try_from(r.n - 1).ok().and_then(|i| found.get_mut(i)) {
            *slot = Some(Sent {
                id: r.id,
                campaign_id: r.campaign_id,
                contact_id: r.contact_id,
                mailbox_id: r.mailbox_id,
                stop_on_reply: r.stop_on_reply,
            });
        }
    }
    Ok(found)
}

/// The contacts with these addresses (lowercase), by address; the oldest where two share one.
pub async fn contacts_by_email(
    db: impl PgExecutor<'_>,
    org: OrgId,
    emails: &[String],
) -> Result<HashMap<String, ContactId>, sqlx::Error> {
    if emails.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query!(
        r#"select distinct on (lower(email)) lower(email) as "email!", id as "id: ContactId"
           from contacts where org_id = $1 and lower(email) = any($2)
           order by lower(email), created_at"#,
        org as OrgId,
        emails
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.email, r.id)).collect())
}

/// Someone who wrote to a mailbox and is no contact yet.
pub struct Stranger {
    /// Lowercase.
    pub email: String,
    pub name: Option<String>,
}

/// The contacts with these addresses, made now (source `inbound`) where there are none; by
/// address (lowercase). Each address once.
pub async fn inbound_contacts(
    db: impl PgExecutor<'_>,
    org: OrgId,
    people: &[Stranger],
) -> Result<HashMap<String, ContactId>, sqlx::Error> {
    if people.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids = Vec::with_capacity(people.len());
    let mut emails = Vec::with_capacity(people.len());
    let mut firsts = Vec::with_capacity(people.len());
    let mut lasts = Vec::with_capacity(people.len());
    for p in people {
        let mut words = p.name.as_deref().unwrap_or_default().split_whitespace();
        ids.push(ContactId::new().0);
        emails.push(p.email.clone());
        firsts.push(words.next().map(str::to_owned));
        lasts.push(Some(words.collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()));
    }
    let rows = sqlx::query!(
        r#"insert into contacts (org_id, id, email, first_name, last_name, source)
           select $1, u.id, u.email, u.first_name, u.last_name, 'inbound'
           from unnest($2::uuid[], $3::text[], $4::text[], $5::text[])
                as u(id, email, first_name, last_name)
           on conflict (org_id, lower(email)) do update set email = contacts.email
           returning lower(email) as "email!", id as "id: ContactId""#,
        org as OrgId,
        &ids,
        &emails,
        &firsts as &[Option<String>],
        &lasts as &[Option<String>]
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.email, r.id)).collect())
}

/// Which of these Message-IDs and content hashes are stored already.
pub async fn stored_among(
    db: impl PgExecutor<'_>,
    org: OrgId,
    message_ids: &[String],
    hashes: &[Vec<u8>],
) -> Result<(HashSet<String>, HashSet<Vec<u8>>), sqlx::Error> {
    let rows = sqlx::query!(
        r#"select message_id, content_hash from inbound_messages
           where org_id = $1 and (message_id = any($2) or content_hash = any($3))"#,
        org as OrgId,
        message_ids,
        hashes
    )
    .fetch_all(db)
    .await?;
    let mut ids = HashSet::new();
    let mut stored = HashSet::new();
    for r in rows {
        ids.extend(r.message_id);
        stored.insert(r.content_hash);
    }
    Ok((ids, stored))
}

/// What a conversation shows after arrivals (its latest one's).
pub struct Arrival<'a> {
    pub contact: ContactId,
    pub channel: Channel,
    pub mailbox: Option<MailboxId>,
    pub campaign: Option<CampaignId>,
    pub snippet: &'a str,
    pub at: OffsetDateTime,
    pub classification: Option<ReplyLabel>,
    pub away_until: Option<Date>,
    /// The latest of the arrivals that are a person's answer: it waits for ours.
    pub replied_at: Option<OffsetDateTime>,
}

/// The contacts' conversations on their channels, created on a first message; each becomes
/// unread and open, and shows its arrival (unless a later message is there already). One
/// arrival per contact and channel; the conversations in the order of `arrivals`.
pub async fn touch_conversations(
    db: impl PgExecutor<'_>,
    org: OrgId,
    arrivals: &[Arrival<'_>],
) -> Result<Vec<ConversationId>, sqlx::Error> {
    if arrivals.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = arrivals.iter().map(|_| ConversationId::new().0).collect();
    let contacts: Vec<uuid::Uuid> = arrivals.iter().map(|a| a.contact.0).collect();
    let channels: Vec<&str> = arrivals.iter().map(|a| a.channel.as_str()).collect();
    let mailboxes: Vec<Option<uuid::Uuid>> =
        arrivals.iter().map(|a| a.mailbox.map(|m| m.0)).collect();
    let campaigns: Vec<Option<uuid::Uuid>> =
        arrivals.iter().map(|a| a.campaign.map(|c| c.0)).collect();
    let labels: Vec<Option<&str>> = arrivals
        .iter()
        .map(|a| a.classification.map(ReplyLabel::as_str))
        .collect();
    let away: Vec<Option<Date>> = arrivals.iter().map(|a| a.away_until).collect();
    let snippets: Vec<&str> = arrivals.iter().map(|a| a.snippet).collect();
    let at: Vec<OffsetDateTime> = arrivals.iter().map(|a| a.at).collect();
    let replied: Vec<Option<OffsetDateTime>> = arrivals.iter().map(|a| a.replied_at).collect();
    let rows = sqlx::query!(
        r#"with u as (
               select * from unnest($2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::uuid[],
                                    $7::text[], $8::date[], $9::text[], $10::timestamptz[],
                                    $11::timestamptz[])
                   as u(id, contact_id, channel, mailbox_id, campaign_id, classification,
                        away_until, snippet, at, replied_at))
           insert into conversations (org_id, id, contact_id, channel, mailbox_id, campaign_id,
                                      classification, away_until, snippet, last_message_at,
                                      needs_reply)
           select $1, id, contact_id, channel::channel, mailbox_id, campaign_id,
                  classification::reply_label, away_until, snippet, at, replied_at is not null
           from u
           on conflict (org_id, contact_id, channel) do update set
               mailbox_id = coalesce(excluded.mailbox_id, conversations.mailbox_id),
               campaign_id = coalesce(excluded.campaign_id, conversations.campaign_id),
               -- What the conversation shows comes from its latest message (mail may arrive late).
               -- A label a person set stays until the lead answers again.
               classification = case when excluded.last_message_at >= conversations.last_message_at
                                          and (excluded.needs_reply or not conversations.classified_by_hand)
                                     then excluded.classification else conversations.classification end,
               away_until = case when excluded.last_message_at >= conversations.last_message_at
                                 then excluded.away_until else conversations.away_until end,
               snippet = case when excluded.last_message_at >= conversations.last_message_at
                              then excluded.snippet else conversations.snippet end,
               last_message_at = greatest(conversations.last_message_at, excluded.last_message_at),
               classified_by_hand = conversations.classified_by_hand and not excluded.needs_reply,
               -- Older mail (a first sync reads back) does not raise it.
               needs_reply = conversations.needs_reply
                             or coalesce((select u.replied_at >= conversations.last_message_at from u
                                          where u.contact_id = excluded.contact_id
                                            and u.channel::channel = excluded.channel), false),
               unread = true,
               status = 'open',
               snoozed_until = null
           returning id as "id: ConversationId", contact_id as "contact_id: ContactId",
                     channel as "channel: Channel""#,
        org as OrgId,
        &ids,
        &contacts,
        &channels as &[&str],
        &mailboxes as &[Option<uuid::Uuid>],
        &campaigns as &[Option<uuid::Uuid>],
        &labels as &[Option<&str>],
        &away as &[Option<Date>],
        &snippets as &[&str],
        &at,
        &replied as &[Option<OffsetDateTime>]
    )
    .fetch_all(db)
    .await?;
    let by: HashMap<(ContactId, Channel), ConversationId> = rows
        .into_iter()
        .map(|r| ((r.contact_id, r.channel), r.id))
        .collect();
    arrivals
        .iter()
        .map(|a| {
            by.get(&(a.contact, a.channel))
                .copied()
                .ok_or(sqlx::Error::RowNotFound)
        })
        .collect()
}

/// An arrived message to store.
pub struct NewInbound<'a> {
    pub channel: Channel,
    pub conversation: Option<ConversationId>,
    pub mailbox: Option<MailboxId>,
    pub kind: InboundKind,
    pub message_id: Option<&'a str>,
    pub campaign_message: Option<MessageId>,
    pub from_address: Option<&'a str>,
    pub from_name: Option<&'a str>,
    pub subject: &'a str,
    pub text: &'a str,
    pub classification: Option<ReplyLabel>,
    /// A person's answer the rules left unlabelled: the classifier labels it later.
    pub needs_model: bool,
    pub html: Option<&'a str>,
    pub attachments: &'a [aura_types::MailAttachment],
    pub detail: Option<&'a str>,
    pub raw: &'a [u8],
    pub hash: &'a [u8],
    pub received_at: OffsetDateTime,
}

/// Stores arrivals with one statement; for each, whether it was stored (`false`: the same mail
/// is stored already, by another worker meanwhile).
pub async fn insert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    mails: &[NewInbound<'_>],
) -> Result<Vec<bool>, sqlx::Error> {
    if mails.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = mails.iter().map(|_| InboundId::new().0).collect();
    let col = |f: fn(&NewInbound<'_>) -> Option<uuid::Uuid>| -> Vec<Option<uuid::Uuid>> {
        mails.iter().map(f).collect()
    };
    let conversations = col(|m| m.conversation.map(|c| c.0));
    let mailboxes = col(|m| m.mailbox.map(|c| c.0));
    let answered = col(|m| m.campaign_message.map(|c| c.0));
    let kinds: Vec<&str> = mails.iter().map(|m| m.kind.as_str()).collect();
    let channels: Vec<&str> = mails.iter().map(|m| m.channel.as_str()).collect();
    let message_ids: Vec<Option<&str>> = mails.iter().map(|m| m.message_id).collect();
    let from: Vec<Option<&str>> = mails.iter().map(|m| m.from_address).collect();
    let names: Vec<Option<&str>> = mails.iter().map(|m| m.from_name).collect();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject).collect();
    let texts: Vec<&str> = mails.iter().map(|m| m.text).collect();
    let labels: Vec<Option<&str>> = mails
        .iter()
        .map(|m| m.classification.map(ReplyLabel::as_str))
        .collect();
    let details: Vec<Option<&str>> = mails.iter().map(|m| m.detail).collect();
    let raws: Vec<&[u8]> = mails.iter().map(|m| m.raw).collect();
    let hashes: Vec<&[u8]> = mails.iter().map(|m| m.hash).collect();
    let received: Vec<OffsetDateTime> = mails.iter().map(|m| m.received_at).collect();
    let needs_model: Vec<bool> = mails.iter().map(|m| m.needs_model).collect();
    let htmls: Vec<Option<&str>> = mails.iter().map(|m| m.html).collect();
    let attachments: Vec<String> = mails
        .iter()
        .map(|m| serde_json::to_string(m.attachments).unwrap_or_else(|_| "[]".into()))
        .collect();
    let stored: HashSet<uuid::Uuid> = sqlx::query_scalar!(
        r#"insert into inbound_messages (org_id, id, conversation_id, mailbox_id, kind, message_id,
               campaign_message_id, from_address, from_name, subject, body_text, classification,
               detail, raw, content_hash, received_at, needs_model, body_html, attachments, channel)
           select $1, u.id, u.conversation_id, u.mailbox_id, u.kind::inbound_kind, u.message_id,
                  u.campaign_message_id, u.from_address, u.from_name, u.subject, u.body_text,
                  u.classification::reply_label, u.detail, u.raw, u.content_hash, u.received_at,
                  u.needs_model, u.body_html, u.attachments::jsonb, u.channel::channel
           from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::uuid[],
                       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                       $14::bytea[], $15::bytea[], $16::timestamptz[], $17::bool[], $18::text[],
                       $19::text[], $20::text[])
                as u(id, conversation_id, mailbox_id, kind, message_id, campaign_message_id,
                     from_address, from_name, subject, body_text, classification, detail, raw,
                     content_hash, received_at, needs_model, body_html, attachments, channel)
           on conflict do nothing
           returning id"#,
        org as OrgId,
        &ids,
        &conversations as &[Option<uuid::Uuid>],
        &mailboxes as &[Option<uuid::Uuid>],
        &kinds as &[&str],
        &message_ids as &[Option<&str>],
        &answered as &[Option<uuid::Uuid>],
        &from as &[Option<&str>],
        &names as &[Option<&str>],
        &subjects as &[&str],
        &texts as &[&str],
        &labels as &[Option<&str>],
        &details as &[Option<&str>],
        &raws as &[&[u8]],
        &hashes as &[&[u8]],
        &received,
        &needs_model,
        &htmls as &[Option<&str>],
        &attachments,
        &channels as &[&str]
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .collect();
    Ok(ids.iter().map(|id| stored.contains(id)).collect())
}

/// People answered: each contact has replied (at the latest of the times given for it).
pub async fn replied(
    db: impl PgExecutor<'_>,
    org: OrgId,
    replies: &[(ContactId, OffsetDateTime)],
) -> Result<(), sqlx::Error> {
    if replies.is_empty() {
        return Ok(());
    }
    let contacts: Vec<uuid::Uuid> = replies.iter().map(|(c, _)| c.0).collect();
    let at: Vec<OffsetDateTime> = replies.iter().map(|(_, a)| *a).collect();
    sqlx::query!(
        "update contacts c set last_replied_at = greatest(c.last_replied_at, u.at), updated_at = now()
         from (select contact_id, max(at) as at from unnest($2::uuid[], $3::timestamptz[])
                   as r(contact_id, at) group by contact_id) u
         where c.org_id = $1 and c.id = u.contact_id",
        org as OrgId,
        &contacts,
        &at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Stops a lead's sequence in a campaign: the target completes, its unsent messages are cancelled
/// (a message a sender holds right now keeps its lease and is re-checked at send time).
pub async fn stop_sequence(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_targets set status = 'completed', next_run_at = null, updated_at = now()
           where org_id = $1 and campaign_id = $2 and contact_id = $3 and status <> 'completed'"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"update campaign_messages set status = 'cancelled', updated_at = now(),
               smtp_reply = 'Not sent: the lead replied.'
           where org_id = $1 and campaign_id = $2 and contact_id = $3
             and status in ('prepared', 'approved', 'queued') and locked_until is null"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Stops a lead's sequences in every campaign (only those that stop on a reply, when
/// `on_reply`), as [`stop_sequence`] does in one; `why` is shown on each cancelled message.
pub async fn stop_sequences(
    conn: &mut PgConnection,
    org: OrgId,
    contact: ContactId,
    on_reply: bool,
    why: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_targets t set status = 'completed', next_run_at = null, updated_at = now()
           from campaigns c
           where t.org_id = $1 and t.contact_id = $2 and t.status <> 'completed'
             and c.org_id = t.org_id and c.id = t.campaign_id and (c.stop_on_reply or not $3)"#,
        org as OrgId,
        contact as ContactId,
        on_reply
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"update campaign_messages m set status = 'cancelled', updated_at = now(), smtp_reply = $4
           from campaigns c
           where m.org_id = $1 and m.contact_id = $2
             and m.status in ('prepared', 'approved', 'queued') and m.locked_until is null
             and c.org_id = m.org_id and c.id = m.campaign_id and (c.stop_on_reply or not $3)"#,
        org as OrgId,
        contact as ContactId,
        on_reply,
        why
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An out-of-office: the lead's next step in the campaign waits until `until`.
pub async fn postpone(
    conn: &mut PgConnection,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
    until: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_targets set next_run_at = greatest(next_run_at, $4), updated_at = now()
           where org_id = $1 and campaign_id = $2 and contact_id = $3 and status = 'active'
             and next_run_at is not null"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId,
        until
    )
    .execute(&mut *conn)
    .await?;
    // A step already queued waits too (one a sender holds now is past stopping).
    sqlx::query!(
        r#"update campaign_messages set send_after = greatest(send_after, $4), updated_at = now()
           where org_id = $1 and campaign_id = $2 and contact_id = $3 and status = 'queued'
             and locked_until is null"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId,
        until
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A delivery report said our message never arrived.
pub async fn bounced(
    db: impl PgExecutor<'_>,
    org: OrgId,
    message: MessageId,
    reply: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update campaign_messages set status = 'bounced', smtp_reply = $3, updated_at = now()
           where org_id = $1 and id = $2 and status = 'sent'"#,
        org as OrgId,
        message as MessageId,
        reply
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Which conversations a list shows (every field narrows it).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub one: Option<ConversationId>,
    pub unread_only: bool,
    /// Only those whose lead's answer waits for ours.
    pub needs_reply: bool,
    pub classification: Option<ReplyLabel>,
    pub status: Option<ConversationStatus>,
    pub campaign: Option<CampaignId>,
    pub mailbox: Option<MailboxId>,
    pub assignee: Option<UserId>,
    pub contact: Option<ContactId>,
    /// Words in the contact's name or address, or in the last message's snippet.
    pub search: Option<String>,
}

/// Where a page of the list starts: after this conversation (newest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListKey {
    pub at: OffsetDateTime,
    pub id: ConversationId,
}

impl std::fmt::Display for ListKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.at.unix_timestamp_nanos() / 1000, self.id)
    }
}

impl std::str::FromStr for ListKey {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (micros, id) = s.split_once('_').ok_or(())?;
        let micros: i128 = micros.parse().map_err(|_| ())?;
        Ok(ListKey {
            at: OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).map_err(|_| ())?,
            id: id.parse().map_err(|_| ())?,
        })
    }
}

/// The conversations `f` selects, newest first, after `after`: at most `limit`.
pub async fn list(
    db: &mut PgConnection,
    org: OrgId,
    f: &Filter,
    after: Option<ListKey>,
    limit: i64,
) -> Result<Vec<Conversation>, sqlx::Error> {
    let pattern = like_pattern(f);
    sqlx::query_as!(
        Conversation,
        r#"select v.id as "id: ConversationId", v.contact_id as "contact_id: ContactId",
                  coalesce(nullif(trim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email, c.phone, '') as "contact_name!",
                  c.email as contact_email, v.channel as "channel: Channel",
                  v.campaign_id as "campaign_id: CampaignId", k.name as "campaign_name?",
                  v.mailbox_id as "mailbox_id: MailboxId",
                  v.status as "status: ConversationStatus", v.unread, v.needs_reply,
                  v.classification as "classification: ReplyLabel", v.classified_by_hand,
                  v.assignee_id as "assignee_id: UserId", u.name as "assignee_name?",
                  v.snoozed_until, v.away_until, v.snippet, v.last_message_at
           from conversations v
           join contacts c on c.org_id = v.org_id and c.id = v.contact_id
           left join campaigns k on k.org_id = v.org_id and k.id = v.campaign_id
           left join users u on u.id = v.assignee_id
           where v.org_id = $1 and ($2::uuid is null or v.id = $2) and (not $3 or v.unread)
             and ($4::reply_label is null or v.classification = $4)
             and ($5::conversation_status is null or v.status = $5)
             and ($6::uuid is null or v.campaign_id = $6)
             and ($7::uuid is null or v.mailbox_id = $7)
             and ($8::text is null or concat_ws(' ', c.first_name, c.last_name, c.email, v.snippet) ilike $8)
             and (not $9 or v.needs_reply)
             and ($10::uuid is null or v.assignee_id = $10)
             and ($11::uuid is null or v.contact_id = $11)
             and ($12::timestamptz is null or (v.last_message_at, v.id) < ($12, $13::uuid))
           order by v.last_message_at desc, v.id desc
           limit $14"#,
        org as OrgId,
        f.one as Option<ConversationId>,
        f.unread_only,
        f.classification as Option<ReplyLabel>,
        f.status as Option<ConversationStatus>,
        f.campaign as Option<CampaignId>,
        f.mailbox as Option<MailboxId>,
        pattern,
        f.needs_reply,
        f.assignee as Option<UserId>,
        f.contact as Option<ContactId>,
        after.map(|k| k.at),
        after.map(|k| k.id.0),
        limit
    )
    .fetch_all(&mut *db)
    .await
}

/// `%words%` for ILIKE, its own wildcards escaped.
fn like_pattern(f: &Filter) -> Option<String> {
    f.search.as_ref().map(|q| {
        format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    })
}

/// How many conversations `f` selects.
pub async fn count(db: &mut PgConnection, org: OrgId, f: &Filter) -> Result<i64, sqlx::Error> {
    let pattern = like_pattern(f);
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from conversations v
           join contacts c on c.org_id = v.org_id and c.id = v.contact_id
           where v.org_id = $1 and ($2::uuid is null or v.id = $2) and (not $3 or v.unread)
             and ($4::reply_label is null or v.classification = $4)
             and ($5::conversation_status is null or v.status = $5)
             and ($6::uuid is null or v.campaign_id = $6)
             and ($7::uuid is null or v.mailbox_id = $7)
             and ($8::text is null or concat_ws(' ', c.first_name, c.last_name, c.email, v.snippet) ilike $8)
             and (not $9 or v.needs_reply)
             and ($10::uuid is null or v.assignee_id = $10)
             and ($11::uuid is null or v.contact_id = $11)"#,
        org as OrgId,
        f.one as Option<ConversationId>,
        f.unread_only,
        f.classification as Option<ReplyLabel>,
        f.status as Option<ConversationStatus>,
        f.campaign as Option<CampaignId>,
        f.mailbox as Option<MailboxId>,
        pattern,
        f.needs_reply,
        f.assignee as Option<UserId>,
        f.contact as Option<ContactId>
    )
    .fetch_one(&mut *db)
    .await
}

pub async fn get(
    db: &mut PgConnection,
    org: OrgId,
    id: ConversationId,
) -> Result<Option<Conversation>, sqlx::Error> {
    let one = Filter {
        one: Some(id),
        ..Filter::default()
    };
    Ok(list(db, org, &one, None, 1).await?.pop())
}

/// A conversation's thread, oldest first: what arrived in it, what campaigns sent the contact on
/// its channel, and the answers written in it.
/// What an arrived message had attached, as stored.
type Attachments = sqlx::types::Json<Vec<aura_types::MailAttachment>>;

pub async fn thread(
    db: impl PgExecutor<'_>,
    org: OrgId,
    c: &Conversation,
) -> Result<Vec<ThreadItem>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select id as "id!", direction as "direction!: Direction", channel as "channel!: Channel",
                  kind as "kind: InboundKind", status as "status: MessageStatus", subject,
                  body as "text!", detail, author, html,
                  attachments as "attachments!: Attachments",
                  at as "at!"
           from (
               select i.id, 'inbound'::text as direction, $3::channel as channel, i.kind,
                      null::message_status as status, i.subject, i.body_text as body, i.detail,
                      null::text as author, i.body_html as html, i.attachments,
                      i.received_at as at
               from inbound_messages i
               where i.org_id = $1 and i.conversation_id = $2
               union all
               select m.id, 'outbound', m.channel, null, m.status, m.subject, m.body_text, m.smtp_reply,
                      null, null, '[]'::jsonb, m.sent_at
               from campaign_messages m
               where m.org_id = $1 and m.contact_id = $4 and m.channel = $3 and m.sent_at is not null
               union all
               select r.id, 'outbound', $3, null,
                      (case when r.status = 'queued' and r.locked_until is not null then 'sending'
                            else r.status::text end)::message_status,
                      r.subject, r.body_text, r.smtp_reply, u.name, null, '[]'::jsonb,
                      coalesce(r.sent_at, r.created_at)
               from conversation_replies r
               left join users u on u.id = r.author_id
               where r.org_id = $1 and r.conversation_id = $2
           ) t
           order by at, id"#,
        org as OrgId,
        c.id as ConversationId,
        c.channel as Channel,
        c.contact_id as ContactId
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ThreadItem {
            id: r.id,
            direction: r.direction,
            channel: r.channel,
            kind: r.kind,
            status: r.status,
            subject: r.subject,
            text: r.text,
            detail: r.detail,
            author: r.author,
            html: r.html,
            attachments: r.attachments.0,
            at: r.at,
        })
        .collect())
}

/// What a person changes on a conversation (each field when given).
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub unread: Option<bool>,
    pub status: Option<ConversationStatus>,
    pub snoozed_until: Option<OffsetDateTime>,
    pub assignee: Option<Option<UserId>>,
    pub classification: Option<ReplyLabel>,
    pub by: Option<UserId>,
}

/// Changes a conversation; `false` when there is no such conversation. A new status clears a
/// snooze (unless it is one); done clears "needs reply"; a corrected classification is kept in
/// `classification_corrections`, with the one it replaced.
pub async fn change(
    conn: &mut PgConnection,
    org: OrgId,
    id: ConversationId,
    c: &Change,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let before = sqlx::query!(
        r#"select classification as "classification: ReplyLabel" from conversations
           where org_id = $1 and id = $2 for update"#,
        org as OrgId,
        id as ConversationId
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(before) = before else {
        return Ok(false);
    };
    sqlx::query!(
        r#"update conversations set
               unread = coalesce($3, unread),
               status = coalesce($4, status),
               snoozed_until = case when $4 = 'snoozed' then $5
                                    when $4 is not null then null else snoozed_until end,
               needs_reply = needs_reply and $4 is distinct from 'done'::conversation_status,
               assignee_id = case when $6 then $7 else assignee_id end,
               classification = coalesce($8, classification),
               classified_by_hand = classified_by_hand or $8 is not null
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as ConversationId,
        c.unread,
        c.status as Option<ConversationStatus>,
        c.snoozed_until,
        c.assignee.is_some(),
        c.assignee.flatten() as Option<UserId>,
        c.classification as Option<ReplyLabel>
    )
    .execute(&mut *conn)
    .await?;
    if let Some(label) = c
        .classification
        .filter(|l| Some(*l) != before.classification)
    {
        sqlx::query!(
            r#"insert into classification_corrections
                   (org_id, id, conversation_id, from_label, to_label, corrected_by, corrected_at)
               values ($1, $2, $3, $4, $5, $6, $7)"#,
            org as OrgId,
            uuid::Uuid::now_v7(),
            id as ConversationId,
            before.classification as Option<ReplyLabel>,
            label as ReplyLabel,
            c.by as Option<UserId>,
            now
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(true)
}

/// Opens the conversations whose snooze ended by `now` (unread again, at the top of the open
/// list's attention), and records an event for each.
pub async fn wake_snoozed(
    conn: &mut PgConnection,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let woken = sqlx::query!(
        r#"update conversations set status = 'open', unread = true, snoozed_until = null
           where status = 'snoozed' and snoozed_until <= $1
           returning org_id as "org_id: OrgId", id as "id: ConversationId""#,
        now
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut by_org: std::collections::BTreeMap<OrgId, Vec<Option<ConversationId>>> =
        std::collections::BTreeMap::new();
    for w in &woken {
        by_org.entry(w.org_id).or_default().push(Some(w.id));
    }
    for (org, ids) in by_org {
        events(&mut *conn, org, "conversation", &ids).await?;
    }
    Ok(woken.len() as u64)
}

/// The persona that writes to a lead of a campaign: the one of the step that last wrote to them,
/// else the campaign's first step with one.
pub async fn persona_for(
    db: impl PgExecutor<'_>,
    org: OrgId,
    campaign: CampaignId,
    contact: ContactId,
) -> Result<Option<PersonaId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select s.persona_id as "persona_id!: PersonaId" from campaign_steps s
           where s.org_id = $1 and s.campaign_id = $2 and s.persona_id is not null
           order by s.id = (select m.step_id from campaign_messages m
                            where m.org_id = $1 and m.campaign_id = $2 and m.contact_id = $3
                              and m.sent_at is not null
                            order by m.sent_at desc limit 1) desc nulls last,
                    s.position
           limit 1"#,
        org as OrgId,
        campaign as CampaignId,
        contact as ContactId
    )
    .fetch_optional(db)
    .await
}

/// A person's answer waiting for the classifier.
#[derive(Clone, Debug)]
pub struct Unlabelled {
    pub org_id: OrgId,
    pub id: InboundId,
    pub subject: String,
    pub body_text: String,
    pub from_address: Option<String>,
    /// Tries before this one.
    pub classify_attempts: i32,
}

/// Asks the classifier about the people's answers in a conversation that have no label.
pub async fn ask_model(
    db: impl PgExecutor<'_>,
    org: OrgId,
    conversation: ConversationId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update inbound_messages set needs_model = true, classify_attempts = 0, classify_after = null
           where org_id = $1 and conversation_id = $2 and kind = 'reply' and classification is null"#,
        org as OrgId,
        conversation as ConversationId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Takes up to `limit` answers waiting for the classifier whose time has come (oldest first);
/// each is taken once: after a failure, [`classify_failed`] puts it back.
pub async fn take_unlabelled(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<Unlabelled>, sqlx::Error> {
    sqlx::query_as!(
        Unlabelled,
        r#"update inbound_messages i set needs_model = false
           from (select org_id, id from inbound_messages
                 where needs_model and (classify_after is null or classify_after <= now())
                 order by received_at limit $1 for update skip locked) t
           where i.org_id = t.org_id and i.id = t.id
           returning i.org_id as "org_id: OrgId", i.id as "id: InboundId", i.subject,
                     i.body_text, i.from_address, i.classify_attempts"#,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The classifier could not label an answer (its `attempts`-th try): it is tried again after a
/// wait that doubles each time (a minute, then two, four…), and left unlabelled after the
/// `limit`-th try; the reason is kept.
pub async fn classify_failed(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: InboundId,
    attempts: i32,
    limit: i32,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update inbound_messages
           set classify_attempts = $3::int, needs_model = $3::int < $4::int, classify_error = $5,
               classify_after = now() + make_interval(mins => (2 ^ least($3::int - 1, 10))::int)
           where org_id = $1 and id = $2"#,
        org as OrgId,
        id as InboundId,
        attempts,
        limit,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Labels an answer, and its conversation when it is the conversation's latest answer and no
/// person set the label; the conversation and its contact, when there is one.
pub async fn labelled(
    conn: &mut PgConnection,
    org: OrgId,
    id: InboundId,
    label: ReplyLabel,
    confidence: f32,
) -> Result<Option<(ConversationId, ContactId)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"with m as (
               update inbound_messages set classification = $3, classification_confidence = $4,
                                           classify_error = null
               where org_id = $1 and id = $2
               returning conversation_id, received_at
           )
           select v.id as "id: ConversationId", v.contact_id as "contact_id: ContactId"
           from m join conversations v on v.org_id = $1 and v.id = m.conversation_id"#,
        org as OrgId,
        id as InboundId,
        label as ReplyLabel,
        confidence
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    sqlx::query!(
        r#"update conversations v set classification = $3
           where v.org_id = $1 and v.id = $2 and not v.classified_by_hand
             and not exists (
                 select 1 from inbound_messages later, inbound_messages m
                 where m.org_id = $1 and m.id = $4
                   and later.org_id = $1 and later.conversation_id = $2
                   and later.received_at > m.received_at)"#,
        org as OrgId,
        row.id as ConversationId,
        label as ReplyLabel,
        id as InboundId
    )
    .execute(&mut *conn)
    .await?;
    Ok(Some((row.id, row.contact_id)))
}

/// Whether `user` is a member of the organization.
pub async fn is_member(
    db: impl PgExecutor<'_>,
    org: OrgId,
    user: UserId,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from memberships where org_id = $1 and user_id = $2) as "x!""#,
        org as OrgId,
        user as UserId
    )
    .fetch_one(db)
    .await
}

/// Records that something changed in the inbox (`kind`: `message` or `conversation`).
pub async fn event(
    db: impl PgExecutor<'_>,
    org: OrgId,
    kind: &str,
    conversation: Option<ConversationId>,
) -> Result<(), sqlx::Error> {
    events(db, org, kind, &[conversation]).await
}

/// Records one change per conversation given, in that order. An organization's events are
/// written one transaction at a time (a lock held until the writer commits), so they become
/// visible in the order of their ids: a reader that saw id n never later finds a smaller one,
/// and the stream's cursor skips nothing. Writers take the lock last, just before committing.
pub async fn events(
    db: impl PgExecutor<'_>,
    org: OrgId,
    kind: &str,
    conversations: &[Option<ConversationId>],
) -> Result<(), sqlx::Error> {
    if conversations.is_empty() {
        return Ok(());
    }
    let ids: Vec<Option<uuid::Uuid>> = conversations.iter().map(|c| c.map(|c| c.0)).collect();
    sqlx::query!(
        r#"with locked as (select pg_advisory_xact_lock(7411, hashtext($1::uuid::text)))
           insert into inbox_events (org_id, kind, conversation_id)
           select $1::uuid, $2, c from locked, unnest($3::uuid[]) with ordinality as u(c, n)
           order by n"#,
        org as OrgId,
        kind,
        &ids as &[Option<uuid::Uuid>]
    )
    .execute(db)
    .await?;
    Ok(())
}

/// One recorded change.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub conversation_id: Option<ConversationId>,
}

/// The organization's events after `after`, oldest first, at most `limit`.
pub async fn events_after(
    db: impl PgExecutor<'_>,
    org: OrgId,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as!(
        EventRow,
        r#"select id, kind, conversation_id as "conversation_id: ConversationId"
           from inbox_events where org_id = $1 and id > $2 order by id limit $3"#,
        org as OrgId,
        after,
        limit
    )
    .fetch_all(db)
    .await
}

/// The id of the organization's latest event (0 when none).
pub async fn last_event(db: impl PgExecutor<'_>, org: OrgId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select coalesce(max(id), 0) as "id!" from inbox_events where org_id = $1"#,
        org as OrgId
    )
    .fetch_one(db)
    .await
}

/// Forgets events older than `days`.
pub async fn prune_events(db: impl PgExecutor<'_>, days: i32) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "delete from inbox_events where created_at < now() - make_interval(days => $1)",
        days
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A text (SMS or WhatsApp) that arrived in a conversation, as Twilio posted it (its webhook's
/// form); none for mail.
pub async fn text_raw(
    db: impl PgExecutor<'_>,
    org: OrgId,
    conversation: ConversationId,
    id: uuid::Uuid,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!(
        "select raw from inbound_messages
         where org_id = $1 and conversation_id = $2 and id = $3 and channel <> 'email'",
        org as OrgId,
        conversation as ConversationId,
        id
    )
    .fetch_optional(db)
    .await
}

/// Records the size of an arrived text's media file once it has been fetched (Twilio does not
/// say it beforehand).
pub async fn media_size(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: uuid::Uuid,
    index: usize,
    size: usize,
) -> Result<(), sqlx::Error> {
    let index = i32::try_from(index).unwrap_or(i32::MAX);
    sqlx::query!(
        r#"update inbound_messages
           set attachments = jsonb_set(attachments, array[$3::int::text, 'size'], to_jsonb($4::bigint))
           where org_id = $1 and id = $2 and channel <> 'email' and jsonb_array_length(attachments) > $3"#,
        org as OrgId,
        id,
        index,
        i64::try_from(size).unwrap_or(i64::MAX)
    )
    .execute(db)
    .await?;
    Ok(())
}

//! Conversations and the mail that arrived in them; what an arrival changes on the campaign side
//! (the lead's sequence stopped or postponed, a bounced message marked).

use aura_types::{
    ai::{Direction, ReplyLabel},
    CampaignId, Channel, ContactId, Conversation, ConversationId, ConversationStatus, InboundId,
    InboundKind, MailboxId, MessageId, MessageStatus, OrgId, PersonaId, ThreadItem, UserId,
};
use sqlx::{PgConnection, PgExecutor};
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

/// The most recent message of ours with one of `ids` as its Message-ID (without angle
/// brackets; ours, or the one its provider gave it), or else, for `by_subject` (a contact and normalised subjects), the latest one sent
/// to that contact under one of those subjects (a reply whose client dropped the threading
/// headers).
pub async fn sent_matching(
    db: impl PgExecutor<'_>,
    org: OrgId,
    ids: &[String],
    by_subject: Option<(ContactId, &[String])>,
) -> Result<Option<Sent>, sqlx::Error> {
    let (contact, subjects) = match by_subject {
        Some((c, s)) => (Some(c), s),
        None => (None, &[][..]),
    };
    sqlx::query_as!(
        Sent,
        r#"select m.id as "id: MessageId", m.campaign_id as "campaign_id: CampaignId",
                  m.contact_id as "contact_id: ContactId", m.mailbox_id as "mailbox_id: MailboxId",
                  c.stop_on_reply
           from campaign_messages m
           join campaigns c on c.org_id = m.org_id and c.id = m.campaign_id
           where m.org_id = $1
             and (m.message_id = any($2) or m.provider_message_id = any($2)
                  or (m.contact_id = $3 and m.channel = 'email' and m.sent_at is not null
                      and m.subject <> '' and lower(m.subject) = any($4)))
           order by (m.message_id = any($2) or m.provider_message_id = any($2)) desc, m.sent_at desc nulls last limit 1"#,
        org as OrgId,
        ids,
        contact as Option<ContactId>,
        subjects
    )
    .fetch_optional(db)
    .await
}

/// The contact with this email address (lowercase).
pub async fn contact_by_email(
    db: impl PgExecutor<'_>,
    org: OrgId,
    email: &str,
) -> Result<Option<ContactId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select id as "id: ContactId" from contacts where org_id = $1 and lower(email) = $2
           order by created_at limit 1"#,
        org as OrgId,
        email
    )
    .fetch_optional(db)
    .await
}

/// The contact with this address, made now (source `inbound`) when there is none: someone who
/// wrote to a mailbox and is not a contact yet.
pub async fn inbound_contact(
    conn: &mut PgConnection,
    org: OrgId,
    email: &str,
    name: Option<&str>,
) -> Result<ContactId, sqlx::Error> {
    let mut words = name.unwrap_or_default().split_whitespace();
    let first = words.next().map(str::to_owned);
    let last = Some(words.collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty());
    sqlx::query_scalar!(
        r#"insert into contacts (org_id, id, email, first_name, last_name, source)
           values ($1, $2, $3, $4, $5, 'inbound')
           on conflict (org_id, lower(email)) do update set email = contacts.email
           returning id as "id: ContactId""#,
        org as OrgId,
        ContactId::new() as ContactId,
        email,
        first,
        last
    )
    .fetch_one(&mut *conn)
    .await
}

/// Whether this mail is already stored (by Message-ID, or by its bytes' hash).
pub async fn already_stored(
    db: impl PgExecutor<'_>,
    org: OrgId,
    message_id: Option<&str>,
    hash: &[u8],
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from inbound_messages
                         where org_id = $1 and (content_hash = $2 or message_id = $3)) as "x!""#,
        org as OrgId,
        hash,
        message_id
    )
    .fetch_one(db)
    .await
}

/// What a conversation shows after an arrival.
pub struct Arrival<'a> {
    pub contact: ContactId,
    pub channel: Channel,
    pub mailbox: Option<MailboxId>,
    pub campaign: Option<CampaignId>,
    pub snippet: &'a str,
    pub at: OffsetDateTime,
    pub classification: Option<ReplyLabel>,
    pub away_until: Option<Date>,
    /// A person's answer: it waits for ours.
    pub needs_reply: bool,
}

/// The contact's conversation on the channel, created on its first message; it becomes unread
/// and open, and shows the arrival.
pub async fn touch_conversation(
    db: impl PgExecutor<'_>,
    org: OrgId,
    a: &Arrival<'_>,
) -> Result<ConversationId, sqlx::Error> {
    sqlx::query_scalar!(
        r#"insert into conversations (org_id, id, contact_id, channel, mailbox_id, campaign_id,
                                      classification, away_until, snippet, last_message_at,
                                      needs_reply)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           on conflict (org_id, contact_id, channel) do update set
               mailbox_id = coalesce(excluded.mailbox_id, conversations.mailbox_id),
               campaign_id = coalesce(excluded.campaign_id, conversations.campaign_id),
               -- What the conversation shows comes from its latest message (mail may arrive late).
               classification = case when excluded.last_message_at >= conversations.last_message_at
                                          and (excluded.needs_reply or not conversations.classified_by_hand)
                                     then excluded.classification else conversations.classification end,
               away_until = case when excluded.last_message_at >= conversations.last_message_at
                                 then excluded.away_until else conversations.away_until end,
               snippet = case when excluded.last_message_at >= conversations.last_message_at
                              then excluded.snippet else conversations.snippet end,
               last_message_at = greatest(conversations.last_message_at, excluded.last_message_at),
               -- A label a person set stays until the lead answers again.
               classified_by_hand = conversations.classified_by_hand and not excluded.needs_reply,
               needs_reply = conversations.needs_reply
                             or (excluded.needs_reply and excluded.last_message_at >= conversations.last_message_at),
               unread = true,
               status = 'open',
               snoozed_until = null
           returning id as "id: ConversationId""#,
        org as OrgId,
        ConversationId::new().0,
        a.contact as ContactId,
        a.channel as Channel,
        a.mailbox as Option<MailboxId>,
        a.campaign as Option<CampaignId>,
        a.classification as Option<ReplyLabel>,
        a.away_until,
        a.snippet,
        a.at,
        a.needs_reply
    )
    .fetch_one(db)
    .await
}

/// An arrived message to store.
pub struct NewInbound<'a> {
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

/// Stores an arrival; `false` when the same mail was stored meanwhile (another worker).
pub async fn insert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    m: &NewInbound<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"insert into inbound_messages (org_id, id, conversation_id, mailbox_id, kind, message_id,
               campaign_message_id, from_address, from_name, subject, body_text, classification,
               detail, raw, content_hash, received_at, needs_model, body_html, attachments)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
           on conflict do nothing"#,
        org as OrgId,
        InboundId::new().0,
        m.conversation as Option<ConversationId>,
        m.mailbox as Option<MailboxId>,
        m.kind as InboundKind,
        m.message_id,
        m.campaign_message as Option<MessageId>,
        m.from_address,
        m.from_name,
        m.subject,
        m.text,
        m.classification as Option<ReplyLabel>,
        m.detail,
        m.raw,
        m.hash,
        m.received_at,
        m.needs_model,
        m.html,
        sqlx::types::Json(m.attachments) as _
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A person answered: the contact has replied, and the campaign's sequence stops for them (when
/// the campaign says so) — nothing more of it is sent, including messages already prepared.
pub async fn replied(
    conn: &mut PgConnection,
    org: OrgId,
    contact: ContactId,
    stop_in: Option<CampaignId>,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update contacts set last_replied_at = greatest(last_replied_at, $3), updated_at = now()
         where org_id = $1 and id = $2",
        org as OrgId,
        contact as ContactId,
        at
    )
    .execute(&mut *conn)
    .await?;
    if let Some(campaign) = stop_in {
        stop_sequence(conn, org, campaign, contact).await?;
    }
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
}

/// Asks the classifier about the people's answers in a conversation that have no label.
pub async fn ask_model(
    db: impl PgExecutor<'_>,
    org: OrgId,
    conversation: ConversationId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update inbound_messages set needs_model = true
           where org_id = $1 and conversation_id = $2 and kind = 'reply' and classification is null"#,
        org as OrgId,
        conversation as ConversationId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Takes up to `limit` answers waiting for the classifier (oldest first); each is taken once,
/// whatever the classifier then says.
pub async fn take_unlabelled(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<Unlabelled>, sqlx::Error> {
    sqlx::query_as!(
        Unlabelled,
        r#"update inbound_messages i set needs_model = false
           from (select org_id, id from inbound_messages where needs_model
                 order by received_at limit $1 for update skip locked) t
           where i.org_id = t.org_id and i.id = t.id
           returning i.org_id as "org_id: OrgId", i.id as "id: InboundId", i.subject,
                     i.body_text, i.from_address"#,
        limit
    )
    .fetch_all(conn)
    .await
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
               update inbound_messages set classification = $3, classification_confidence = $4
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

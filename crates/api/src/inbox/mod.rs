//! Taking in what arrived: an email's bytes are read (`domain::inbound`), matched to the message
//! of ours it answers and to a contact, stored once in the contact's conversation, and acted on —
//! a reply stops the lead's sequence, an out-of-office postpones it, a permanent bounce or a
//! complaint suppresses the address. The mailbox sync and the sandbox's simulated answers both
//! come through [`ingest`].

pub mod simulate;

use crate::db::{self, inbox::Sent};
use crate::delivery::tokens::{self, Signer};
use crate::domain::{
    inbound::{self, Kind},
    replies,
};
use aura_types::{
    ai::ReplyLabel, Channel, ConversationId, InboundKind, MailboxId, OrgId, SuppressionReason,
};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime, Time};

/// How long an out-of-office without a return date holds the lead's next step.
pub const AWAY_DEFAULT_DAYS: i64 = 7;

/// What [`ingest`] did with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ingested {
    /// Stored (in a conversation when it belongs to a contact).
    Stored {
        kind: InboundKind,
        conversation: Option<ConversationId>,
    },
    /// The same mail was stored before (by Message-ID or by its bytes).
    Duplicate,
    /// The bytes hold no message.
    Unreadable,
}

fn without_brackets(id: &str) -> String {
    id.trim_matches(['<', '>']).to_owned()
}

/// Takes in one email that arrived in `mailbox` (whose own addresses are `own`), in the caller's
/// transaction, and records its event for the inbox's live stream; `now` stands in for a missing
/// Date header.
pub async fn ingest(
    conn: &mut PgConnection,
    org: OrgId,
    mailbox: Option<MailboxId>,
    own: &[&str],
    raw: &[u8],
    now: OffsetDateTime,
) -> Result<Ingested, sqlx::Error> {
    let done = take_in(conn, org, mailbox, own, raw, now, true).await?;
    if let Ingested::Stored { conversation, .. } = &done {
        db::inbox::event(&mut *conn, org, "message", *conversation).await?;
    }
    Ok(done)
}

/// [`ingest`] without the event (a caller taking in a batch records the batch's events at its
/// end, with [`db::inbox::events`]). `strangers` says whether a person who is no contact yet
/// becomes one (not for mail the server filed as junk).
pub async fn take_in(
    conn: &mut PgConnection,
    org: OrgId,
    mailbox: Option<MailboxId>,
    own: &[&str],
    raw: &[u8],
    now: OffsetDateTime,
    strangers: bool,
) -> Result<Ingested, sqlx::Error> {
    let Some(mail) = inbound::read(raw, own, now) else {
        return Ok(Ingested::Unreadable);
    };
    let hash = Sha256::digest(raw).to_vec();
    let message_id = mail.message_id.as_deref().map(without_brackets);
    if db::inbox::already_stored(&mut *conn, org, message_id.as_deref(), &hash).await? {
        return Ok(Ingested::Duplicate);
    }
    let received = mail.date;

    // Which message of ours: the ids it answers (a report: the original it carries), else the
    // contact's latest message with the same subject.
    let mut ids: Vec<String> = mail.answers.iter().map(|i| without_brackets(i)).collect();
    let (about, recipient) = match &mail.kind {
        Kind::Bounce(b) => (b.original_message_id.as_deref(), b.recipient.clone()),
        Kind::Complaint(c) => (c.original_message_id.as_deref(), c.recipient.clone()),
        _ => (None, mail.from.clone()),
    };
    if let Some(id) = about {
        ids.insert(0, without_brackets(id));
    }
    let mut sent = if ids.is_empty() {
        None
    } else {
        db::inbox::sent_matching(&mut *conn, org, &ids, None).await?
    };
    let mut contact = match (&sent, &recipient) {
        (Some(s), _) => Some(s.contact_id),
        (None, Some(address)) => db::inbox::contact_by_email(&mut *conn, org, address).await?,
        (None, None) => None,
    };
    // A person who writes and is no contact yet becomes one (source "inbound"), so the reply
    // has a conversation; reports and machine mail make none.
    if strangers && contact.is_none() && mail.kind == Kind::Reply {
        if let Some(address) = mail.from.as_deref() {
            if !own.iter().any(|o| o.eq_ignore_ascii_case(address)) {
                contact = Some(
                    db::inbox::inbound_contact(&mut *conn, org, address, mail.from_name.as_deref())
                        .await?,
                );
            }
        }
    }
    if sent.is_none() && matches!(mail.kind, Kind::Reply | Kind::AutoReply { .. }) {
        if let Some(contact) = contact {
            let normal = inbound::answered_subject(&mail.subject);
            if !normal.is_empty() {
                let subjects = vec![normal.clone(), format!("re: {normal}")];
                sent = db::inbox::sent_matching(&mut *conn, org, &[], Some((contact, &subjects)))
                    .await?;
            }
        }
    }

    // An answer to an answer written in the inbox is an answer to us too.
    let answers_ours = sent.is_none()
        && mail.kind == Kind::Reply
        && db::replies::answers_ours(&mut *conn, org, &ids).await?;
    let (kind, classification, detail, away_until) = match &mail.kind {
        Kind::Reply => {
            let label = replies::classify(
                replies::own_words(&mail.text),
                Some(&mail.subject),
                mail.from.as_deref(),
                &BTreeMap::new(),
            )
            .map(|c| c.label);
            (InboundKind::Reply, label, None, None)
        }
        Kind::AutoReply { until } => (
            InboundKind::AutoReply,
            Some(ReplyLabel::OutOfOffice),
            until.map(|d| format!("Away until {d}")),
            Some(until.unwrap_or_else(|| (received + Duration::days(AWAY_DEFAULT_DAYS)).date())),
        ),
        Kind::Bounce(b) => (
            InboundKind::Bounce,
            Some(ReplyLabel::Bounce),
            Some(
                [b.status.as_deref(), b.diagnostic.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
            .filter(|d| !d.is_empty()),
            None,
        ),
        Kind::Complaint(c) => (
            InboundKind::Complaint,
            None,
            Some(format!("Marked as spam ({})", c.feedback_type)),
            None,
        ),
        Kind::Machine => (InboundKind::Machine, None, None, None),
    };

    // Machine mail is filed with no conversation; everything else joins the contact's.
    let conversation = match contact {
        Some(contact) if kind != InboundKind::Machine => Some(
            db::inbox::touch_conversation(
                &mut *conn,
                org,
                &db::inbox::Arrival {
                    contact,
                    channel: Channel::Email,
                    mailbox: mailbox.or(sent.as_ref().and_then(|s| s.mailbox_id)),
                    campaign: sent.as_ref().map(|s| s.campaign_id),
                    snippet: &snippet(&mail.text),
                    at: received,
                    classification,
                    away_until,
                    needs_reply: kind == InboundKind::Reply,
                },
            )
            .await?,
        ),
        _ => None,
    };
    let stored = db::inbox::insert(
        &mut *conn,
        org,
        &db::inbox::NewInbound {
            conversation,
            mailbox,
            kind,
            message_id: message_id.as_deref(),
            campaign_message: sent.as_ref().map(|s| s.id),
            from_address: mail.from.as_deref(),
            from_name: mail.from_name.as_deref(),
            subject: &mail.subject,
            text: &mail.text,
            classification,
            // Answers to our messages: a model is not asked about everyone who ever wrote to the
            // mailbox (a first sync reads a month back).
            needs_model: kind == InboundKind::Reply
                && classification.is_none()
                && conversation.is_some()
                && (sent.is_some() || answers_ours),
            html: mail.html.as_deref(),
            attachments: &mail.attachments,
            detail: detail.as_deref(),
            raw,
            hash: &hash,
            received_at: received,
        },
    )
    .await?;
    if !stored {
        return Ok(Ingested::Duplicate);
    }
    act(
        conn,
        org,
        &mail.kind,
        classification,
        sent.as_ref(),
        contact,
        received,
        away_until,
    )
    .await?;
    Ok(Ingested::Stored { kind, conversation })
}

/// Learns, from the copy of a message of ours in the mailbox's Sent folder (its `headers`), the
/// Message-ID its provider really used (Microsoft 365 and Amazon SES replace ours), so replies
/// to it are matched. The copy is recognised by the signed token of its unsubscribe link, which
/// no one else can make. Answers whether something was learned.
pub async fn learn_sent(
    conn: &mut PgConnection,
    org: OrgId,
    links: &Signer,
    headers: &[u8],
) -> Result<bool, sqlx::Error> {
    let Some(copy) = inbound::sent_copy(headers) else {
        return Ok(false);
    };
    let ours = copy
        .tokens
        .iter()
        .filter_map(|t| links.verify(tokens::Kind::Unsubscribe, t))
        .find(|c| c.org == org);
    match ours {
        Some(c) => db::sync::learn_provider_id(conn, org, c.message, &copy.message_id).await,
        None => Ok(false),
    }
}

/// Keeps, in `conversation`, an answer a person wrote to the lead from another mail client (its
/// copy in the mailbox's Sent folder, `raw`). Whether it was new.
pub async fn take_elsewhere(
    conn: &mut PgConnection,
    org: OrgId,
    mailbox: MailboxId,
    conversation: ConversationId,
    raw: &[u8],
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let Some(mail) = inbound::read(raw, &[], now) else {
        return Ok(false);
    };
    let Some(message_id) = mail.message_id.as_deref().map(without_brackets) else {
        return Ok(false);
    };
    let to = inbound::recipients(raw);
    let parent = mail.answers.first().map(|a| without_brackets(a));
    let copy = db::replies::Elsewhere {
        conversation,
        mailbox,
        to: to.first().map_or("", String::as_str),
        subject: &mail.subject,
        text: replies::own_words(&mail.text).trim_end(),
        message_id: &message_id,
        in_reply_to: parent.as_deref(),
        at: mail.date,
    };
    db::replies::insert_elsewhere(conn, org, &copy, &snippet(&mail.text)).await
}

/// What an arrival changes beyond the inbox.
#[allow(clippy::too_many_arguments)]
async fn act(
    conn: &mut PgConnection,
    org: OrgId,
    kind: &Kind,
    classification: Option<ReplyLabel>,
    sent: Option<&Sent>,
    contact: Option<aura_types::ContactId>,
    received: OffsetDateTime,
    away_until: Option<time::Date>,
) -> Result<(), sqlx::Error> {
    let Some(contact) = contact else {
        return Ok(());
    };
    match kind {
        Kind::Reply => {
            let stop_in = sent.filter(|s| s.stop_on_reply).map(|s| s.campaign_id);
            db::inbox::replied(conn, org, contact, stop_in, received).await?;
            // An unsubscribe request in words is an opt-out.
            if classification == Some(ReplyLabel::Unsubscribe) {
                db::send::suppress_contact_email(
                    conn,
                    org,
                    contact,
                    SuppressionReason::Unsubscribed,
                    "reply",
                )
                .await?;
            }
        }
        Kind::AutoReply { .. } => {
            if let (Some(s), Some(until)) = (sent, away_until) {
                let at = until.with_time(Time::from_hms(9, 0, 0).unwrap_or(Time::MIDNIGHT));
                db::inbox::postpone(&mut *conn, org, s.campaign_id, contact, at.assume_utc())
                    .await?;
            }
        }
        Kind::Bounce(b) if b.permanent => {
            if let Some(s) = sent {
                let reply = b
                    .diagnostic
                    .clone()
                    .or_else(|| b.status.clone())
                    .unwrap_or_default();
                db::inbox::bounced(&mut *conn, org, s.id, &reply).await?;
                db::inbox::stop_sequence(conn, org, s.campaign_id, contact).await?;
                // Only a report about a message of ours suppresses: anyone can write one.
                db::send::suppress_contact_email(
                    conn,
                    org,
                    contact,
                    SuppressionReason::Bounced,
                    "bounce",
                )
                .await?;
            }
        }
        Kind::Complaint(_) => {
            if let Some(s) = sent {
                db::inbox::stop_sequence(conn, org, s.campaign_id, contact).await?;
                db::send::suppress_contact_email(
                    conn,
                    org,
                    contact,
                    SuppressionReason::Complaint,
                    "complaint",
                )
                .await?;
            }
        }
        Kind::Bounce(_) | Kind::Machine => {}
    }
    Ok(())
}

/// The start of a message's own words, on one line.
pub fn snippet(text: &str) -> String {
    let own = replies::own_words(text);
    let own = if own.trim().is_empty() { text } else { own };
    let line = own.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(140).collect()
}

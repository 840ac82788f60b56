//! Taking in what arrived: an email's bytes are read (`domain::inbound`), matched to the message
//! of ours it answers and to a contact, stored once in the contact's conversation, and acted on —
//! a reply stops the lead's sequence, an out-of-office postpones it, a permanent bounce or a
//! complaint suppresses the address. The mailbox sync and the sandbox's simulated answers both
//! come through [`ingest`].

pub mod phone;
pub mod simulate;

use crate::db::{self, inbox::Sent};
use crate::delivery::tokens::{self, Signer};
use crate::domain::{
    inbound::{self, Kind},
    replies,
};
use aura_types::{
    ai::ReplyLabel, Channel, ContactId, ConversationId, InboundKind, MailboxId, OrgId,
    SuppressionReason,
};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use std::collections::{BTreeMap, HashSet};
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
    let done = take_in(conn, org, mailbox, own, &[raw], now, true)
        .await?
        .pop()
        .unwrap_or(Ingested::Unreadable);
    if let Ingested::Stored { conversation, .. } = &done {
        db::inbox::event(&mut *conn, org, "message", *conversation).await?;
    }
    Ok(done)
}

/// One email of a batch, as it is understood.
struct Arrived<'a> {
    /// Its place in the batch.
    at: usize,
    raw: &'a [u8],
    mail: inbound::Inbound,
    hash: Vec<u8>,
    message_id: Option<String>,
    /// The ids it answers or reports on (a report's original first), without brackets.
    ids: Vec<String>,
    /// Whom it is about: the sender, or a report's recipient (lowercase).
    address: Option<String>,
    sent: Option<Sent>,
    contact: Option<ContactId>,
    /// An answer to an answer written in the inbox.
    answers_ours: bool,
}

/// [`ingest`] for a batch of emails, without the events (the caller records the batch's events
/// at its end, with [`db::inbox::events`]): what was done with each, in order. The batch's
/// lookups and writes are one statement each, whatever its size; each message's effects on a
/// campaign (a sequence stopped or postponed, an address suppressed) follow. `strangers` says
/// whether a person who is no contact yet becomes one (not for mail the server filed as junk).
pub async fn take_in(
    conn: &mut PgConnection,
    org: OrgId,
    mailbox: Option<MailboxId>,
    own: &[&str],
    raws: &[&[u8]],
    now: OffsetDateTime,
    strangers: bool,
) -> Result<Vec<Ingested>, sqlx::Error> {
    let mut done = vec![Ingested::Unreadable; raws.len()];
    // Read each; the same mail twice in the batch is taken once.
    let mut seen_ids = HashSet::new();
    let mut seen_hashes = HashSet::new();
    let mut batch = Vec::with_capacity(raws.len());
    for (at, raw) in raws.iter().enumerate() {
        let Some(mail) = inbound::read(raw, own, now) else {
            continue;
        };
        let hash = Sha256::digest(raw).to_vec();
        let message_id = mail.message_id.as_deref().map(without_brackets);
        let twice = !seen_hashes.insert(hash.clone())
            || message_id
                .as_ref()
                .is_some_and(|m| !seen_ids.insert(m.clone()));
        if twice {
            done[at] = Ingested::Duplicate;
            continue;
        }
        // Which message of ours: the ids it answers (a report: the original it carries).
        let mut ids: Vec<String> = mail.answers.iter().map(|i| without_brackets(i)).collect();
        let (about, address) = match &mail.kind {
            Kind::Bounce(b) => (b.original_message_id.as_deref(), b.recipient.clone()),
            Kind::Complaint(c) => (c.original_message_id.as_deref(), c.recipient.clone()),
            _ => (None, mail.from.clone()),
        };
        if let Some(id) = about {
            ids.insert(0, without_brackets(id));
        }
        batch.push(Arrived {
            at,
            raw,
            ids,
            address: address.map(|a| a.to_lowercase()),
            mail,
            hash,
            message_id,
            sent: None,
            contact: None,
            answers_ours: false,
        });
    }

    let ids: Vec<String> = batch.iter().filter_map(|a| a.message_id.clone()).collect();
    let hashes: Vec<Vec<u8>> = batch.iter().map(|a| a.hash.clone()).collect();
    let (stored_ids, stored_hashes) =
        db::inbox::stored_among(&mut *conn, org, &ids, &hashes).await?;
    batch.retain(|a| {
        let stored = stored_hashes.contains(&a.hash)
            || a.message_id
                .as_ref()
                .is_some_and(|m| stored_ids.contains(m));
        if stored {
            done[a.at] = Ingested::Duplicate;
        }
        !stored
    });
    if batch.is_empty() {
        return Ok(done);
    }

    // The messages of ours they name: for each, the latest sent of those it names.
    let named: Vec<String> = batch.iter().flat_map(|a| a.ids.iter().cloned()).collect();
    let found = db::inbox::sent_by_ids(&mut *conn, org, &named).await?;
    for a in &mut batch {
        let names = |id: &Option<String>| id.as_ref().is_some_and(|i| a.ids.contains(i));
        a.sent = found
            .iter()
            .filter(|f| names(&f.message_id) || names(&f.provider_message_id))
            .max_by_key(|f| f.sent_at)
            .map(|f| f.sent.clone());
        a.contact = a.sent.as_ref().map(|s| s.contact_id);
    }

    // The contacts they come from (or are about), by address.
    let addresses: Vec<String> = batch
        .iter()
        .filter(|a| a.contact.is_none())
        .filter_map(|a| a.address.clone())
        .collect();
    let known = db::inbox::contacts_by_email(&mut *conn, org, &addresses).await?;
    for a in batch.iter_mut().filter(|a| a.contact.is_none()) {
        a.contact = a.address.as_ref().and_then(|x| known.get(x)).copied();
    }
    // A person who writes and is no contact yet becomes one (source "inbound"), so the reply
    // has a conversation; reports and machine mail make none.
    if strangers {
        let mut people: Vec<db::inbox::Stranger> = Vec::new();
        for a in &batch {
            if a.contact.is_some() || a.mail.kind != Kind::Reply {
                continue;
            }
            let Some(address) = a.address.as_deref() else {
                continue;
            };
            if own.iter().any(|o| o.eq_ignore_ascii_case(address))
                || people.iter().any(|p| p.email == address)
            {
                continue;
            }
            people.push(db::inbox::Stranger {
                email: address.to_owned(),
                name: a.mail.from_name.clone(),
            });
        }
        let made = db::inbox::inbound_contacts(&mut *conn, org, &people).await?;
        // (Other mail of theirs in the batch, an out-of-office after the reply, joins them too.)
        for a in batch.iter_mut().filter(|a| a.contact.is_none()) {
            a.contact = a.address.as_ref().and_then(|x| made.get(x)).copied();
        }
    }

    // Answers whose client dropped the threading headers: the contact's latest message of ours
    // with the same subject.
    let mut by_subject = Vec::new();
    let mut asked = Vec::new();
    for (i, a) in batch.iter().enumerate() {
        if a.sent.is_some() || !matches!(a.mail.kind, Kind::Reply | Kind::AutoReply { .. }) {
            continue;
        }
        let Some(contact) = a.contact else { continue };
        let normal = inbound::answered_subject(&a.mail.subject);
        if !normal.is_empty() {
            by_subject.push(i);
            asked.push((contact, normal));
        }
    }
    let matched = db::inbox::sent_by_subject(&mut *conn, org, &asked).await?;
    for (i, sent) in by_subject.into_iter().zip(matched) {
        batch[i].sent = sent;
    }

    // An answer to an answer written in the inbox is an answer to us too.
    let unmatched: Vec<String> = batch
        .iter()
        .filter(|a| a.sent.is_none() && a.mail.kind == Kind::Reply)
        .flat_map(|a| a.ids.iter().cloned())
        .collect();
    let ours = db::replies::ours_among(&mut *conn, org, &unmatched).await?;
    for a in batch
        .iter_mut()
        .filter(|a| a.sent.is_none() && a.mail.kind == Kind::Reply)
    {
        a.answers_ours = a.ids.iter().any(|i| ours.contains(i));
    }

    let understood: Vec<Understood> = batch.iter().map(|a| understand(&a.mail)).collect();
    let snippets: Vec<String> = batch.iter().map(|a| snippet(&a.mail.text)).collect();

    // Machine mail is filed with no conversation; everything else joins the contact's. Each
    // conversation shows its latest arrival of the batch.
    let mut arrivals: Vec<db::inbox::Arrival<'_>> = Vec::new();
    let mut arrival_of = vec![None; batch.len()];
    for (i, (a, u)) in batch.iter().zip(&understood).enumerate() {
        let Some(contact) = a.contact.filter(|_| u.kind != InboundKind::Machine) else {
            continue;
        };
        let mailbox = mailbox.or(a.sent.as_ref().and_then(|s| s.mailbox_id));
        let campaign = a.sent.as_ref().map(|s| s.campaign_id);
        let replied_at = (u.kind == InboundKind::Reply).then_some(a.mail.date);
        let fresh = db::inbox::Arrival {
            contact,
            channel: Channel::Email,
            mailbox,
            campaign,
            snippet: &snippets[i],
            at: a.mail.date,
            classification: u.classification,
            away_until: u.away_until,
            replied_at,
        };
        match arrivals.iter().position(|x| x.contact == contact) {
            Some(j) => {
                let x = &mut arrivals[j];
                x.replied_at = x.replied_at.max(replied_at);
                if fresh.at >= x.at {
                    x.mailbox = fresh.mailbox.or(x.mailbox);
                    x.campaign = fresh.campaign.or(x.campaign);
                    x.snippet = fresh.snippet;
                    x.at = fresh.at;
                    x.classification = fresh.classification;
                    x.away_until = fresh.away_until;
                } else {
                    x.mailbox = x.mailbox.or(fresh.mailbox);
                    x.campaign = x.campaign.or(fresh.campaign);
                }
                arrival_of[i] = Some(j);
            }
            None => {
                arrival_of[i] = Some(arrivals.len());
                arrivals.push(fresh);
            }
        }
    }
    let conversations = db::inbox::touch_conversations(&mut *conn, org, &arrivals).await?;
    let conversation_of = |i: usize| arrival_of[i].map(|j| conversations[j]);

    let rows: Vec<db::inbox::NewInbound<'_>> = batch
        .iter()
        .zip(&understood)
        .enumerate()
        .map(|(i, (a, u))| db::inbox::NewInbound {
            channel: Channel::Email,
            conversation: conversation_of(i),
            mailbox,
            kind: u.kind,
            message_id: a.message_id.as_deref(),
            campaign_message: a.sent.as_ref().map(|s| s.id),
            from_address: a.mail.from.as_deref(),
            from_name: a.mail.from_name.as_deref(),
            subject: &a.mail.subject,
            text: &a.mail.text,
            classification: u.classification,
            // Answers to our messages: a model is not asked about everyone who ever wrote to
            // the mailbox (a first sync reads a month back).
            needs_model: u.kind == InboundKind::Reply
                && u.classification.is_none()
                && conversation_of(i).is_some()
                && (a.sent.is_some() || a.answers_ours),
            html: a.mail.html.as_deref(),
            attachments: &a.mail.attachments,
            detail: u.detail.as_deref(),
            raw: a.raw,
            hash: &a.hash,
            received_at: a.mail.date,
        })
        .collect();
    let stored = db::inbox::insert(&mut *conn, org, &rows).await?;
    drop(rows);

    let mut replies = Vec::new();
    for (i, ((a, u), stored)) in batch.iter().zip(&understood).zip(stored).enumerate() {
        if !stored {
            done[a.at] = Ingested::Duplicate;
            continue;
        }
        done[a.at] = Ingested::Stored {
            kind: u.kind,
            conversation: conversation_of(i),
        };
        if let (Some(contact), Kind::Reply) = (a.contact, &a.mail.kind) {
            replies.push((contact, a.mail.date));
        }
        act(conn, org, &a.mail.kind, u, a.sent.as_ref(), a.contact).await?;
    }
    db::inbox::replied(&mut *conn, org, &replies).await?;
    Ok(done)
}

/// What kind of mail arrived, and what the inbox shows of it.
struct Understood {
    kind: InboundKind,
    classification: Option<ReplyLabel>,
    detail: Option<String>,
    away_until: Option<time::Date>,
}

fn understand(mail: &inbound::Inbound) -> Understood {
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
            Some(until.unwrap_or_else(|| (mail.date + Duration::days(AWAY_DEFAULT_DAYS)).date())),
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
    Understood {
        kind,
        classification,
        detail,
        away_until,
    }
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

/// What an arrival changes beyond the inbox (the contact's last reply is the batch's to record).
async fn act(
    conn: &mut PgConnection,
    org: OrgId,
    kind: &Kind,
    understood: &Understood,
    sent: Option<&Sent>,
    contact: Option<ContactId>,
) -> Result<(), sqlx::Error> {
    let Some(contact) = contact else {
        return Ok(());
    };
    match kind {
        Kind::Reply => {
            if let Some(s) = sent.filter(|s| s.stop_on_reply) {
                db::inbox::stop_sequence(conn, org, s.campaign_id, contact).await?;
            }
            // An unsubscribe request in words is an opt-out.
            if understood.classification == Some(ReplyLabel::Unsubscribe) {
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
            if let (Some(s), Some(until)) = (sent, understood.away_until) {
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

//! Taking in a text message (SMS or WhatsApp) Twilio delivered to one of the organization's
//! numbers: the sender's number finds the contact (or makes one, source "inbound"), the message
//! joins the contact's conversation on its channel once (by its MessageSid, however often Twilio
//! retries the webhook), and a keyword acts: STOP and its synonyms suppress the number for every
//! number and channel, revoke consent with the message as evidence and stop every sequence;
//! START opts back in; HELP answers with the organization's help text. A reply in words stops the
//! lead's sequences (in campaigns that stop on a reply, on every channel); an opt-out in words
//! ("please stop texting me") is honoured as STOP is.

use crate::db;
use crate::domain::{
    phone::{keyword, Keyword},
    replies,
};
use aura_types::{
    ai::ReplyLabel, Channel, ContactId, ConversationId, InboundKind, OrgId, SuppressionKind,
    SuppressionReason,
};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// What Twilio sent, read from the webhook's form.
#[derive(Clone, Debug, PartialEq)]
pub struct Texted {
    pub sid: String,
    pub channel: Channel,
    /// The sender's number in E.164, when there is one (WhatsApp may send a business-scoped id).
    pub from: Option<String>,
    /// Exactly as Twilio sent it.
    pub from_raw: String,
    pub body: String,
    pub profile_name: Option<String>,
    /// Twilio's Advanced Opt-Out already answered (STOP, START or HELP).
    pub opt_out_type: Option<String>,
    pub media: Vec<aura_types::MailAttachment>,
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Reads the webhook's form; `None` without a MessageSid or a sender.
pub fn read(form: &[(String, String)]) -> Option<Texted> {
    let sid = param(form, "MessageSid").or_else(|| param(form, "SmsSid"))?;
    let from_raw = param(form, "From")?;
    let (channel, address) = match from_raw.strip_prefix("whatsapp:") {
        Some(rest) => (Channel::Whatsapp, rest),
        None => (Channel::Sms, from_raw),
    };
    let from = if address.starts_with('+') && address[1..].chars().all(|c| c.is_ascii_digit()) {
        Some(address.to_owned())
    } else {
        // A business-scoped WhatsApp id: the number is in WaId when Twilio knows it.
        param(form, "WaId")
            .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()))
            .map(|w| format!("+{w}"))
    };
    let media_count: usize = param(form, "NumMedia")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let media = (0..media_count.min(10))
        .filter_map(|i| {
            let url = param(form, &format!("MediaUrl{i}"))?;
            Some(aura_types::MailAttachment {
                name: url.rsplit('/').next().unwrap_or(url).to_owned(),
                content_type: param(form, &format!("MediaContentType{i}"))
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                size: 0,
            })
        })
        .collect();
    Some(Texted {
        sid: sid.to_owned(),
        channel,
        from,
        from_raw: from_raw.to_owned(),
        body: param(form, "Body").unwrap_or_default().to_owned(),
        profile_name: param(form, "ProfileName")
            .filter(|n| !n.trim().is_empty())
            .map(str::to_owned),
        opt_out_type: param(form, "OptOutType").map(str::to_owned),
        media,
    })
}

/// What was done, and what to answer Twilio with.
#[derive(Clone, Debug, PartialEq)]
pub struct Done {
    /// The message's conversation, when it was new and has one.
    pub conversation: Option<ConversationId>,
    pub duplicate: bool,
    /// Text to answer the sender with (a STOP's confirmation, the HELP text), as TwiML.
    pub answer: Option<String>,
}

/// Takes in a text message in the caller's transaction (`raw`: the webhook's body, kept as it
/// came); `org_name` signs the confirmations.
pub async fn take_in(
    conn: &mut PgConnection,
    org: OrgId,
    org_name: &str,
    t: &Texted,
    raw: &[u8],
    now: OffsetDateTime,
    source: &str,
) -> Result<Done, sqlx::Error> {
    let hash = Sha256::digest(format!("twilio:{}", t.sid)).to_vec();
    // Twilio retried: taken in before, nothing more to do or say (the conversation is left as
    // people left it).
    let (ids, hashes) = db::inbox::stored_among(
        &mut *conn,
        org,
        std::slice::from_ref(&t.sid),
        std::slice::from_ref(&hash),
    )
    .await?;
    if !ids.is_empty() || !hashes.is_empty() {
        return Ok(Done {
            conversation: None,
            duplicate: true,
            answer: None,
        });
    }
    let contact = match &t.from {
        Some(number) => Some(
            match db::phone::contact_by_number(&mut *conn, org, number).await? {
                Some(c) => c,
                None => {
                    db::phone::inbound_contact(
                        &mut *conn,
                        org,
                        number,
                        t.profile_name.as_deref(),
                        t.channel == Channel::Whatsapp,
                    )
                    .await?
                }
            },
        ),
        None => None,
    };
    let word = keyword(&t.body).or(match t.opt_out_type.as_deref() {
        Some("STOP") => Some(Keyword::Stop),
        Some("START") => Some(Keyword::Start),
        Some("HELP") => Some(Keyword::Help),
        _ => None,
    });
    // "Yes" (or START) from a number that never opted out is an answer, not an opt-in.
    let word = match (word, &t.from) {
        (Some(Keyword::Start), Some(number))
            if !db::phone::stopped(&mut *conn, org, number).await? =>
        {
            None
        }
        (w, _) => w,
    };
    // A keyword is not a conversation's label; words are read by the rules (a model later).
    let label = match word {
        Some(_) => None,
        None => replies::classify(replies::own_words(&t.body), None, None, &BTreeMap::new())
            .map(|c| c.label),
    };
    let opted_out = word == Some(Keyword::Stop) || label == Some(ReplyLabel::Unsubscribe);
    let conversation = match contact {
        Some(contact) => Some(
            db::inbox::touch_conversations(
                &mut *conn,
                org,
                &[db::inbox::Arrival {
                    contact,
                    channel: t.channel,
                    mailbox: None,
                    campaign: None,
                    snippet: &super::snippet(&t.body),
                    at: now,
                    classification: label,
                    away_until: None,
                    replied_at: (word.is_none()).then_some(now),
                }],
            )
            .await?[0],
        ),
        None => None,
    };
    let stored = db::inbox::insert(
        &mut *conn,
        org,
        &[db::inbox::NewInbound {
            channel: t.channel,
            conversation,
            mailbox: None,
            kind: InboundKind::Reply,
            message_id: Some(&t.sid),
            campaign_message: None,
            from_address: Some(&t.from_raw),
            from_name: t.profile_name.as_deref(),
            subject: "",
            text: &t.body,
            classification: label,
            needs_model: word.is_none() && label.is_none() && conversation.is_some(),
            html: None,
            attachments: &t.media,
            detail: word.map(|w| format!("Keyword: {w:?}")).as_deref(),
            raw,
            hash: &hash,
            received_at: now,
        }],
    )
    .await?;
    if stored.first() != Some(&true) {
        // Twilio retried: taken in before, nothing more to do or say.
        return Ok(Done {
            conversation: None,
            duplicate: true,
            answer: None,
        });
    }
    let Some(contact) = contact else {
        return Ok(Done {
            conversation,
            duplicate: false,
            answer: None,
        });
    };
    let number = t.from.as_deref().unwrap_or_default();
    let answer = if opted_out {
        opt_out(conn, org, contact, number, source, &t.body, now).await?;
        // Twilio's Advanced Opt-Out answered already.
        t.opt_out_type.is_none().then(|| {
            format!("{org_name}: you are unsubscribed and will get no more messages. Reply START to subscribe again.")
        })
    } else if word == Some(Keyword::Start) {
        db::phone::unsuppress_number(&mut *conn, org, number).await?;
        db::phone::text_consent(&mut *conn, org, contact, "granted", source, &t.body, now).await?;
        t.opt_out_type
            .is_none()
            .then(|| format!("{org_name}: you are subscribed again. Reply STOP to unsubscribe."))
    } else if word == Some(Keyword::Help) {
        t.opt_out_type.is_none().then(|| {
            format!("{org_name}: reply to this number to reach us. Reply STOP to unsubscribe.")
        })
    } else {
        db::inbox::replied(&mut *conn, org, &[(contact, now)]).await?;
        db::inbox::stop_sequences(conn, org, contact, true, "Not sent: the lead replied.").await?;
        None
    };
    Ok(Done {
        conversation,
        duplicate: false,
        answer,
    })
}

/// The number opted out: suppressed for every number and channel, consent revoked with the
/// message as evidence (`source`: how it came — a text, a simulation), every sequence stopped.
pub async fn opt_out(
    conn: &mut PgConnection,
    org: OrgId,
    contact: ContactId,
    number: &str,
    source: &str,
    evidence: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    db::suppressions::insert_many(
        &mut *conn,
        org,
        &[(SuppressionKind::Phone, number.to_owned())],
        SuppressionReason::StopKeyword,
        Some("text reply"),
    )
    .await?;
    db::phone::text_consent(&mut *conn, org, contact, "revoked", source, evidence, now).await?;
    db::inbox::stop_sequences(conn, org, contact, false, "Not sent: the lead opted out.").await
}

/// An answer Twilio sends back to the sender: TwiML with the text, or empty.
pub fn twiml(answer: Option<&str>) -> String {
    let inner = answer.map_or(String::new(), |a| {
        let escaped = a
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;");
        format!("<Message>{escaped}</Message>")
    });
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{inner}</Response>")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sms_and_whatsapp_senders_are_read() {
        let sms = read(&form(&[
            ("MessageSid", "SM1"),
            ("From", "+14155550123"),
            ("Body", "Yes, Tuesday works"),
            ("NumMedia", "1"),
            (
                "MediaUrl0",
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
            ),
            ("MediaContentType0", "image/jpeg"),
        ]))
        .unwrap();
        assert_eq!(
            (sms.channel, sms.from.as_deref()),
            (Channel::Sms, Some("+14155550123"))
        );
        assert_eq!(sms.media[0].content_type, "image/jpeg");
        let wa = read(&form(&[
            ("MessageSid", "SM2"),
            ("From", "whatsapp:+447700900123"),
            ("ProfileName", "Ana Lima"),
        ]))
        .unwrap();
        assert_eq!(
            (wa.channel, wa.from.as_deref()),
            (Channel::Whatsapp, Some("+447700900123"))
        );
        // A business-scoped id: the number comes from WaId, else there is none.
        let scoped = read(&form(&[
            ("MessageSid", "SM3"),
            ("From", "whatsapp:US.13491208655302741918"),
            ("WaId", "447700900123"),
        ]))
        .unwrap();
        assert_eq!(scoped.from.as_deref(), Some("+447700900123"));
        let unknown = read(&form(&[
            ("MessageSid", "SM4"),
            ("From", "whatsapp:US.13491208655302741918"),
        ]))
        .unwrap();
        assert_eq!(unknown.from, None);
        assert!(read(&form(&[("From", "+14155550123")])).is_none());
    }

    #[test]
    fn twiml_is_escaped() {
        assert_eq!(
            twiml(None),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"
        );
        assert!(twiml(Some("Smith & Sons <ok>"))
            .contains("<Message>Smith &amp; Sons &lt;ok&gt;</Message>"));
    }
}

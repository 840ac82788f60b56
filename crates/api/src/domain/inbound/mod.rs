//! What an arrived email is, read from its bytes: a person's reply, an auto-reply (and when its
//! writer is back), a bounce (permanent or not, for whom, and which of our messages), a complaint,
//! or other machine mail. Pure: the sync worker fetches, this decides, `db` records.

pub mod dsn;
pub mod returns;
pub mod subject;

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};
use time::{Date, OffsetDateTime};

/// What kind of mail arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Written by a person.
    Reply,
    /// An out-of-office or other automatic answer to our message; `until` is the return date the
    /// text gives.
    AutoReply { until: Option<Date> },
    /// A delivery report about one of our messages.
    Bounce(Bounce),
    /// A spam complaint relayed by the recipient's provider (RFC 5965).
    Complaint(Complaint),
    /// Lists, newsletters, notifications, read receipts: filed, not counted.
    Machine,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounce {
    /// The address will not work (suppress it); otherwise delivery is only delayed.
    pub permanent: bool,
    pub recipient: Option<String>,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    /// The Message-ID of the message that bounced, from the report's copy of its headers.
    pub original_message_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Complaint {
    pub recipient: Option<String>,
    pub feedback_type: String,
    pub original_message_id: Option<String>,
}

/// An arrived message as Aura needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// `<id@host>`, angle brackets included (as our outgoing ids are stored).
    pub message_id: Option<String>,
    /// The ids this message answers: In-Reply-To, then References from the newest back.
    pub answers: Vec<String>,
    /// The sender's address, lowercase.
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub subject: String,
    /// The Date header, when it is a plausible one (not after `now` plus a day, not before
    /// 2000); else `now`.
    pub date: OffsetDateTime,
    /// The plain text (the HTML part's text when there is no plain part).
    pub text: String,
    /// The HTML part, when there is one (at most [`HTML_MAX`] bytes; a longer one is left out).
    pub html: Option<String>,
    pub attachments: Vec<aura_types::MailAttachment>,
    pub kind: Kind,
}

/// The longest HTML part kept, in bytes.
pub const HTML_MAX: usize = 512 * 1024;

/// Reads `raw`, which arrived at `now`; `own` lists the organization's mailbox addresses (never
/// taken for a bounced recipient). `None` when the bytes hold no message at all.
pub fn read(raw: &[u8], own: &[&str], now: OffsetDateTime) -> Option<Inbound> {
    let msg = MessageParser::default().parse(raw)?;
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let subject = msg.subject().unwrap_or_default().to_owned();
    let earliest = time::macros::datetime!(2000-01-01 00:00 UTC);
    let date = msg
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| OffsetDateTime::from_unix_timestamp(d.to_timestamp()).ok())
        .filter(|d| *d >= earliest && *d <= now + time::Duration::days(1))
        .unwrap_or(now);
    let from = msg.from().and_then(|a| a.first());
    let kind = kind_of(&msg, &subject, &text, date, own);
    Some(Inbound {
        message_id: msg.message_id().map(bracketed),
        answers: answers(&msg),
        from: from.and_then(|a| a.address()).map(str::to_ascii_lowercase),
        from_name: from.and_then(|a| a.name()).map(str::to_owned),
        subject,
        date,
        html: html_of(&msg),
        attachments: attachments_of(&msg),
        text,
        kind,
    })
}

/// The message's own HTML part (not one made from its text).
fn html_of(msg: &Message<'_>) -> Option<String> {
    match &msg.html_part(0)?.body {
        mail_parser::PartType::Html(h) if h.len() <= HTML_MAX && !h.trim().is_empty() => {
            Some(h.to_string())
        }
        _ => None,
    }
}

fn attachments_of(msg: &Message<'_>) -> Vec<aura_types::MailAttachment> {
    msg.attachments()
        .take(50)
        .map(|part| aura_types::MailAttachment {
            name: part
                .attachment_name()
                .map(str::to_owned)
                .unwrap_or_else(|| "(unnamed)".into()),
            content_type: part
                .content_type()
                .map(|c| match c.subtype() {
                    Some(sub) => format!("{}/{sub}", c.ctype()),
                    None => c.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: part.len() as i64,
        })
        .collect()
}

/// The subject an answer is about, normalised ([`subject::normalize`]): without reply or
/// forward prefixes, nor an auto-reply's ("Automatic reply: …", "Abwesenheitsnotiz: …").
pub fn answered_subject(subject: &str) -> String {
    let lower = subject.trim().to_lowercase();
    let rest = AUTO_SUBJECTS.iter().find_map(|p| {
        let after = lower.strip_prefix(p)?.trim_start();
        after.strip_prefix(':').map(str::to_owned)
    });
    subject::normalize(rest.as_deref().unwrap_or(&lower))
}

/// The Message-ID of a message (its headers suffice), without angle brackets.
pub fn message_id(headers: &[u8]) -> Option<String> {
    let msg = MessageParser::default().parse_headers(headers)?;
    let id = msg.message_id()?.trim().trim_matches(['<', '>']);
    (!id.is_empty()).then(|| id.to_owned())
}

/// A copy of a message we sent, as the provider filed it in the Sent folder: the Message-ID it
/// carries there (without brackets) and the tokens of its unsubscribe links (`…/u/{token}`),
/// which name the message of ours it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentCopy {
    pub message_id: String,
    pub tokens: Vec<String>,
}

/// Reads the headers of a message in the Sent folder.
pub fn sent_copy(headers: &[u8]) -> Option<SentCopy> {
    let message_id = message_id(headers)?;
    let msg = MessageParser::default().parse_headers(headers)?;
    let tokens = msg
        .header_raw("List-Unsubscribe")
        .unwrap_or_default()
        .split(',')
        .filter_map(|part| {
            let url = part.trim().strip_prefix('<')?.split('>').next()?;
            let (_, token) = url.rsplit_once("/u/")?;
            (!token.is_empty() && !token.contains(['/', '?', '#'])).then(|| token.to_owned())
        })
        .collect::<Vec<_>>();
    (!tokens.is_empty()).then_some(SentCopy { message_id, tokens })
}

/// Whom a message (its headers suffice) was written to: the To and Cc addresses, lowercase.
pub fn recipients(headers: &[u8]) -> Vec<String> {
    let Some(msg) = MessageParser::default().parse_headers(headers) else {
        return Vec::new();
    };
    [msg.to(), msg.cc()]
        .into_iter()
        .flatten()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Whether a copy in Sent (its headers) is of an answer written in Aura's inbox.
pub fn is_answer_copy(headers: &[u8]) -> bool {
    MessageParser::default()
        .parse_headers(headers)
        .is_some_and(|m| {
            m.header_raw(crate::delivery::email::ANSWER_HEADER)
                .is_some()
        })
}

fn bracketed(id: &str) -> String {
    format!("<{}>", id.trim().trim_matches(['<', '>']))
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![bracketed(t)],
        HeaderValue::TextList(l) => l.iter().map(|t| bracketed(t)).collect(),
        _ => Vec::new(),
    }
}

fn answers(msg: &Message<'_>) -> Vec<String> {
    let mut out = ids(msg.in_reply_to());
    for id in ids(msg.references()).into_iter().rev() {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// A header's raw value, trimmed and lowercased ("" when absent).
fn header(msg: &Message<'_>, name: &str) -> String {
    msg.header_raw(name)
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn report_type(msg: &Message<'_>) -> Option<String> {
    let ct = msg.root_part().content_type()?;
    (ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report")))
    .then(|| {
        ct.attribute("report-type")
            .unwrap_or_default()
            .to_ascii_lowercase()
    })
}

/// The body of the first part of type `ctype/subtype`.
fn part_text(msg: &Message<'_>, ctype: &str, subtype: &str) -> Option<String> {
    msg.parts
        .iter()
        .find(|p| p.is_content_type(ctype, subtype))
        .map(|p| String::from_utf8_lossy(p.contents()).into_owned())
}

/// The Message-ID of the original message a report carries: a `message/rfc822` part, a
/// `text/rfc822-headers` part, or a copy quoted in the text.
fn original_id(msg: &Message<'_>, text: &str) -> Option<String> {
    for part in &msg.parts {
        if let Some(inner) = part.message() {
            if let Some(id) = inner.message_id() {
                return Some(bracketed(id));
            }
        }
        if part.is_content_type("text", "rfc822-headers") {
            let headers = MessageParser::default().parse_headers(part.contents());
            if let Some(id) = headers.as_ref().and_then(|h| h.message_id()) {
                return Some(bracketed(id));
            }
        }
    }
    let copy = &text[dsn::copy_start(text).unwrap_or(0)..];
    copy.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("message-id")
            .then(|| bracketed(value))
    })
}

/// Subjects mail clients give an out-of-office, in the languages Aura's users write in.
const AUTO_SUBJECTS: &[&str] = &[
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "out of office",
    "out of the office",
    "abwesenheitsnotiz",
    "automatische antwort",
    "abwesend",
    "réponse automatique",
    "reponse automatique",
    "absence du bureau",
    "absent du bureau",
    "respuesta automática",
    "respuesta automatica",
    "fuera de la oficina",
    "automatisch antwoord",
    "afwezig",
    "risposta automatica",
    "fuori ufficio",
    "fuori sede",
    "resposta automática",
    "resposta automatica",
];

/// Words in the text of an automatic message that make it an absence notice.
const AUTO_TEXT: &[&str] = &[
    "out of office",
    "out of the office",
    "away from the office",
    "on leave",
    "on vacation",
    "on holiday",
    "annual leave",
    "limited access to email",
    "abwesend",
    "nicht im büro",
    "wieder im büro",
    "urlaub",
    "absent",
    "de retour",
    "congés",
    "fuera de la oficina",
    "vacaciones",
    "ausente",
    "afwezig",
    "vakantie",
    "fuori ufficio",
    "ferie",
    "férias",
];

fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    let h = haystack.to_lowercase();
    needles.iter().any(|n| h.contains(n))
}

fn kind_of(
    msg: &Message<'_>,
    subject: &str,
    text: &str,
    date: OffsetDateTime,
    own: &[&str],
) -> Kind {
    let report = report_type(msg);
    // Complaints (RFC 5965).
    if report.as_deref() == Some("feedback-report")
        || msg
            .parts
            .iter()
            .any(|p| p.is_content_type("message", "feedback-report"))
    {
        let fields = part_text(msg, "message", "feedback-report").unwrap_or_default();
        let field = |name: &str| {
            fields.lines().find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
        };
        return Kind::Complaint(Complaint {
            recipient: field("original-rcpt-to")
                .map(|r| r.trim_matches(['<', '>']).to_ascii_lowercase()),
            feedback_type: field("feedback-type")
                .unwrap_or_else(|| "abuse".into())
                .to_lowercase(),
            original_message_id: original_id(msg, text),
        });
    }
    // Delivery reports (RFC 3464).
    if let Some(status) = part_text(msg, "message", "delivery-status") {
        let recipients = dsn::parse_delivery_status(&status);
        let failed = recipients
            .iter()
            .find(|r| r.action == "failed")
            .or_else(|| recipients.iter().find(|r| r.action == "delayed"));
        return match failed {
            Some(r) => Kind::Bounce(Bounce {
                permanent: r.is_permanent(),
                recipient: r.recipient.clone(),
                status: r.status.clone(),
                diagnostic: r.diagnostic.clone(),
                original_message_id: original_id(msg, text),
            }),
            // Only "delivered" or "relayed": a success notice.
            None => Kind::Machine,
        };
    }
    if report.as_deref() == Some("disposition-notification") {
        return Kind::Machine;
    }
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let lower_subject = subject.to_lowercase();
    let from_daemon = from.starts_with("mailer-daemon@") || from.starts_with("postmaster@");
    let bounce_subject = [
        "undeliver",
        "delivery status notification",
        "mail delivery failed",
        "returned mail",
        "failure notice",
        "delivery failure",
        "delivery has failed",
        "unzustellbar",
        "non remis",
        "no se pudo entregar",
    ]
    .iter()
    .any(|s| lower_subject.contains(s));
    if from_daemon || bounce_subject {
        if let Some(r) = dsn::parse_plain_bounce(text, own) {
            return Kind::Bounce(Bounce {
                permanent: r.is_permanent(),
                recipient: r.recipient,
                status: r.status,
                diagnostic: r.diagnostic,
                original_message_id: original_id(msg, text),
            });
        }
        return Kind::Machine;
    }
    // Automatic answers (RFC 3834 and the headers mail systems use instead). X-Auto-Response-
    // Suppress asks others not to answer; it says nothing about this message.
    let auto_submitted = header(msg, "Auto-Submitted");
    let precedence = header(msg, "Precedence");
    let replied_marker = auto_submitted.starts_with("auto-replied")
        || msg.header_raw("X-Autoreply").is_some()
        || msg.header_raw("X-Autorespond").is_some()
        || msg.header_raw("X-Autoresponder").is_some()
        || precedence == "auto_reply";
    let generated = (!auto_submitted.is_empty() && auto_submitted != "no")
        || msg.header_raw("X-MS-Exchange-Inbox-Rules-Loop").is_some()
        || msg
            .header_raw("X-MS-Exchange-Generated-Message-Source")
            .is_some();
    // Only as the subject's start ("Automatic reply: …"): a person may write about a vacation.
    let lower = subject.trim().to_lowercase();
    let absence_subject = AUTO_SUBJECTS.iter().any(|s| lower.starts_with(s));
    let absence = replied_marker
        || absence_subject
        || (generated && contains_any(text, AUTO_TEXT) && msg.header_raw("List-Id").is_none());
    if absence {
        return Kind::AutoReply {
            until: returns::return_date(text, date.date()),
        };
    }
    let list = msg.header_raw("List-Id").is_some()
        || msg.header_raw("List-Unsubscribe").is_some()
        || matches!(precedence.as_str(), "bulk" | "list" | "junk");
    let no_reply = from.starts_with("noreply@")
        || from.starts_with("no-reply@")
        || from.starts_with("donotreply@");
    if generated || list || no_reply {
        return Kind::Machine;
    }
    Kind::Reply
}

#[cfg(test)]
mod corpus;

#[cfg(test)]
mod tests {
    use super::{read, Kind};
    use time::macros::datetime;

    const NOW: time::OffsetDateTime = datetime!(2026-12-14 12:00 UTC);

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!("From: Jo <jo@example.net>\r\nTo: dana@aura-demo.example\r\n{headers}\r\n{body}")
            .into_bytes()
    }

    #[test]
    fn the_html_part_and_the_attachments_are_kept_a_text_only_mail_has_no_html() {
        let body = "--b\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n\
            --a\r\nContent-Type: text/plain\r\n\r\nSee the plan.\r\n\
            --a\r\nContent-Type: text/html\r\n\r\n<p>See the <b>plan</b>.</p><img src=\"https://t.example/p.gif\">\r\n\
            --a--\r\n\
            --b\r\nContent-Type: application/pdf; name=\"floor plan.pdf\"\r\n\
            Content-Disposition: attachment; filename=\"floor plan.pdf\"\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n";
        let m = read(
            &mail(
                "Subject: Re: Plans\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n",
                body,
            ),
            &[],
            NOW,
        )
        .expect("a message");
        assert_eq!(m.text.trim(), "See the plan.");
        assert!(m
            .html
            .as_deref()
            .expect("an HTML part")
            .contains("<b>plan</b>"));
        assert_eq!(
            m.attachments,
            vec![aura_types::MailAttachment {
                name: "floor plan.pdf".into(),
                content_type: "application/pdf".into(),
                size: 9,
            }]
        );
        let plain = read(&mail("Subject: Hi\r\n", "Just text.\r\n"), &[], NOW).expect("a message");
        assert_eq!((plain.html, plain.attachments.len()), (None, 0));
    }

    #[test]
    fn a_person_writing_about_a_vacation_is_a_reply() {
        let m = read(
            &mail(
                "Subject: Re: Your vacation rental\r\n",
                "Yes, I am interested.\r\n",
            ),
            &[],
            NOW,
        )
        .expect("a message");
        assert_eq!(m.kind, Kind::Reply);
    }

    #[test]
    fn implausible_or_missing_dates_are_taken_as_now() {
        for date in [
            "Date: Fri, 31 Dec 9999 23:59:59 +0000\r\n",
            "Date: nonsense\r\n",
            "",
        ] {
            let raw = mail(
                &format!("{date}Subject: Automatic reply\r\nAuto-Submitted: auto-replied\r\n"),
                "Back on 4 January.\r\n",
            );
            let m = read(&raw, &[], NOW).expect("a message");
            assert_eq!(m.date, NOW, "{date}");
            assert_eq!(
                m.kind,
                Kind::AutoReply {
                    until: Some(time::macros::date!(2027 - 01 - 04))
                },
                "{date}"
            );
        }
    }

    #[test]
    fn text_whose_case_folding_changes_its_length_does_not_break_bounces() {
        // "K" (Kelvin sign) and "İ" lowercase to a different number of bytes.
        let body = "\u{212A}\u{212A}é İİİ <lee@example.net>: 550 5.1.1 unknown\r\n\
                    Original message follows\r\nMessage-ID: <m-9@aura-demo.example>\r\n";
        let raw = format!(
            "From: MAILER-DAEMON@mx.example.net\r\nTo: dana@aura-demo.example\r\n\
             Subject: Undelivered mail\r\n\r\n{body}"
        );
        match read(raw.as_bytes(), &["dana@aura-demo.example"], NOW).map(|m| m.kind) {
            Some(Kind::Bounce(b)) => {
                assert_eq!(b.recipient.as_deref(), Some("lee@example.net"));
                assert_eq!(
                    b.original_message_id.as_deref(),
                    Some("<m-9@aura-demo.example>")
                );
            }
            other => panic!("not a bounce: {other:?}"),
        }
    }

    #[test]
    fn a_sent_copy_names_our_message_through_its_unsubscribe_link() {
        let raw = b"Message-ID: <AM0PR01MB1234@eurprd01.prod.outlook.com>\r\nList-Unsubscribe: <https://aura.example.com/u/AbC-d_9>, <mailto:dana@example.com?subject=unsubscribe>\r\nSubject: Hi\r\n\r\n";
        use super::sent_copy;
        let copy = sent_copy(raw).expect("a copy of ours");
        assert_eq!(copy.message_id, "AM0PR01MB1234@eurprd01.prod.outlook.com");
        assert_eq!(copy.tokens, vec!["AbC-d_9".to_owned()]);
        // Mail written in another client has no unsubscribe link of ours.
        assert_eq!(sent_copy(b"Message-ID: <x@y>\r\nSubject: Hi\r\n\r\n"), None);
    }

    #[test]
    fn an_auto_replys_subject_names_what_it_answers() {
        use super::answered_subject;
        assert_eq!(
            answered_subject("Abwesenheitsnotiz: Your  home"),
            "your home"
        );
        assert_eq!(
            answered_subject("Réponse automatique : RE: Your home"),
            "your home"
        );
        assert_eq!(
            answered_subject("Automatic reply: Re: Your home"),
            "your home"
        );
        assert_eq!(answered_subject("AW: Your home"), "your home");
        // A subject that only starts with the words is left as it is.
        assert_eq!(
            answered_subject("Out of office hours viewing"),
            "out of office hours viewing"
        );
    }
}

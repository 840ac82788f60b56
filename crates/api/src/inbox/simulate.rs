//! The sandbox's inbound side: the mail a lead's server would send back to a message a sandbox
//! mailbox caught — a reply, an out-of-office, a bounce report, an unsubscribe request — written
//! as real mail, so it goes through the same reading and matching as mail fetched over IMAP.

use aura_types::SimulatedKind;
use time::{format_description::well_known::Rfc2822, Duration, OffsetDateTime};

/// What the answer is to: the caught message as it went out.
pub struct Original<'a> {
    /// What tells this caught message apart (its outbox id): the answer's Message-ID is made from
    /// it, so the same answer simulated twice is the same mail.
    pub key: &'a str,
    /// The lead's address.
    pub recipient: &'a str,
    pub subject: &'a str,
    /// The raw message (its From and Message-ID are read from it).
    pub raw: &'a [u8],
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The raw email the lead's side sends back, dated `now`.
pub fn answer(kind: SimulatedKind, original: &Original<'_>, now: OffsetDateTime) -> Vec<u8> {
    let parsed = mail_parser::MessageParser::default().parse(original.raw);
    let our_id = parsed
        .as_ref()
        .and_then(|m| m.message_id())
        .map(|id| format!("<{id}>"))
        .unwrap_or_default();
    let ours = parsed
        .as_ref()
        .and_then(|m| m.from())
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or("sandbox@aura.invalid")
        .to_owned();
    let date = now.format(&Rfc2822).unwrap_or_default();
    let lead = original.recipient;
    let domain = lead.rsplit_once('@').map_or("example.invalid", |(_, d)| d);
    let id = format!("<{}.{}@{domain}>", original.key, kind.as_str());
    let quoted: String = parsed
        .as_ref()
        .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_default()
        .lines()
        .take(8)
        .map(|l| format!("> {l}\n"))
        .collect();
    let threaded = |subject: &str, extra: &str, body: &str| {
        let extra = format!("In-Reply-To: {our_id}\r\nReferences: {our_id}\r\n{extra}");
        letter(&Letter {
            from: lead,
            to: &ours,
            subject,
            id: &id,
            date: now,
            extra: &extra,
            body,
        })
    };
    let re = format!("Re: {}", original.subject);
    match kind {
        SimulatedKind::Reply => threaded(
            &re,
            "",
            &format!(
                "Hi,\r\n\r\nThanks for reaching out, this sounds interesting. Could we talk on \
                 Thursday afternoon?\r\n\r\nBest\r\n\r\nOn {date}, {ours} wrote:\r\n{quoted}"
            ),
        ),
        SimulatedKind::Unsubscribe => threaded(
            &re,
            "",
            &format!(
                "Please take me off your list and do not email me again.\r\n\r\n\
                 On {date}, {ours} wrote:\r\n{quoted}"
            ),
        ),
        SimulatedKind::OutOfOffice => {
            let back = (now + Duration::days(10)).date();
            threaded(
                &format!("Automatic reply: {}", original.subject),
                "Auto-Submitted: auto-replied\r\n",
                &format!(
                    "Thank you for your email. I am out of the office with limited access to \
                     email and will be back on {} {} {}.\r\n",
                    back.day(),
                    MONTHS[usize::from(u8::from(back.month())) - 1],
                    back.year()
                ),
            )
        }
        SimulatedKind::Bounce => {
            let boundary = format!("bounce-{}", now.unix_timestamp());
            format!(
                "From: Mail Delivery System <MAILER-DAEMON@{domain}>\r\nTo: {ours}\r\n\
                 Subject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\nMessage-ID: {id}\r\n\
                 Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
                 Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\"\r\n\r\n\
                 --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                 Your message could not be delivered to {lead}: the address does not exist.\r\n\r\n\
                 --{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n\
                 Reporting-MTA: dns; mx.{domain}\r\n\r\n\
                 Final-Recipient: rfc822; {lead}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
                 Diagnostic-Code: smtp; 550 5.1.1 <{lead}>: Recipient address rejected: User unknown\r\n\r\n\
                 --{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n\
                 From: {ours}\r\nTo: {lead}\r\nSubject: {}\r\nMessage-ID: {our_id}\r\n\r\n\
                 --{boundary}--\r\n",
                original.subject
            )
            .into_bytes()
        }
    }
}

/// A plain-text email as a person's mail client writes it.
pub struct Letter<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    /// `<id@host>`.
    pub id: &'a str,
    pub date: OffsetDateTime,
    /// More header lines, each ending in CRLF.
    pub extra: &'a str,
    pub body: &'a str,
}

pub fn letter(l: &Letter<'_>) -> Vec<u8> {
    format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: {}\r\n{}MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
        l.from,
        l.to,
        l.subject,
        l.date.format(&Rfc2822).unwrap_or_default(),
        l.id,
        l.extra,
        l.body
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::inbound::{read, Kind};
    use time::macros::datetime;

    #[test]
    fn every_simulated_answer_reads_as_what_it_simulates() {
        let raw =
            b"From: Dana <dana@aura-demo.example>\r\nTo: jo@example.net\r\nSubject: Your home\r\n\
            Message-ID: <m-1@aura-demo.example>\r\n\r\nHello Jo\r\n";
        let original = Original {
            key: "o-1",
            recipient: "jo@example.net",
            subject: "Your home",
            raw,
        };
        let now = datetime!(2026-12-14 09:00 UTC);
        let own = ["dana@aura-demo.example"];
        let read_as = |k| read(&answer(k, &original, now), &own, now).expect("a message");
        let reply = read_as(SimulatedKind::Reply);
        assert_eq!(reply.kind, Kind::Reply);
        assert_eq!(reply.answers, vec!["<m-1@aura-demo.example>".to_owned()]);
        assert_eq!(reply.from.as_deref(), Some("jo@example.net"));
        assert_eq!(
            read_as(SimulatedKind::OutOfOffice).kind,
            Kind::AutoReply {
                until: Some(time::macros::date!(2026 - 12 - 24))
            }
        );
        match read_as(SimulatedKind::Bounce).kind {
            Kind::Bounce(b) => {
                assert!(b.permanent);
                assert_eq!(b.recipient.as_deref(), Some("jo@example.net"));
                assert_eq!(
                    b.original_message_id.as_deref(),
                    Some("<m-1@aura-demo.example>")
                );
            }
            other => panic!("not a bounce: {other:?}"),
        }
        assert!(
            String::from_utf8_lossy(&answer(SimulatedKind::Unsubscribe, &original, now))
                .contains("take me off your list")
        );
    }
}

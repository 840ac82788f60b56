//! Classification rules that run before any model: bounce reports, auto-replies and unsubscribe
//! requests have signatures certain enough to decide without one. Anything else is left to the
//! model (`None`).

use aura_types::ai::{Classification, DecidedBy, ReplyLabel};
use std::collections::BTreeMap;

pub use aura_types::quote::own_words;

fn decided(label: ReplyLabel, confidence: f32, reason: &str) -> Option<Classification> {
    Some(Classification {
        label,
        confidence,
        reason: reason.to_string(),
        decided_by: DecidedBy::Rules,
    })
}

const BOUNCE_SUBJECTS: &[&str] = &[
    "delivery status notification",
    "undeliverable",
    "undelivered mail",
    "mail delivery failed",
    "delivery failure",
    "failure notice",
    "returned mail",
    "mail delivery subsystem",
];

const BOUNCE_BODY: &[&str] = &[
    "550 5.1.1",
    "550-5.1.1",
    "5.1.1 user unknown",
    "user unknown",
    "address not found",
    "mailbox unavailable",
    "no such user",
    "recipient address rejected",
    "the email account that you tried to reach does not exist",
    "message could not be delivered",
    "delivery to the following recipient failed",
];

const AUTO_REPLY_HEADERS: &[(&str, &str)] = &[
    ("x-autoreply", ""),
    ("x-autorespond", ""),
    ("x-auto-response-suppress", "oof"),
    ("precedence", "auto_reply"),
];

const OUT_OF_OFFICE: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto-reply",
    "autoreply",
    "away from the office",
    "on annual leave",
    "on leave until",
    "on vacation until",
    "on holiday until",
    "limited access to email",
    "i am away until",
    "i'm away until",
    "i will be back on",
    "i'll be back on",
    "currently away",
    "parental leave",
];

const UNSUBSCRIBE: &[&str] = &[
    "unsubscribe",
    "remove me",
    "take me off",
    "opt me out",
    "opt out",
    "optout",
    "stop emailing",
    "stop messaging",
    "stop texting",
    "stop contacting",
    "stop sending",
    "don't contact me",
    "do not contact me",
    "don't email me",
    "do not email me",
    "don't message me",
    "no more emails",
    "no more messages",
    "delete my details",
    "delete my data",
    "remove my details",
    "remove my number",
    "remove my email",
];

/// Single words that, as the whole message, are an opt-out (SMS/WhatsApp carrier keywords).
const STOP_WORDS: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "optout",
    "remove",
];

pub fn classify(
    text: &str,
    subject: Option<&str>,
    from: Option<&str>,
    headers: &BTreeMap<String, String>,
) -> Option<Classification> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_lowercase())
    };
    let subject = subject.unwrap_or("").to_lowercase();
    let from = from.unwrap_or("").to_lowercase();
    let all = text.to_lowercase();

    // Bounce reports come from the mail system, not a person.
    let daemon = from.contains("mailer-daemon") || from.contains("postmaster@");
    if header("content-type").is_some_and(|c| c.contains("report-type=delivery-status"))
        || (daemon
            && (BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s))
                || BOUNCE_BODY.iter().any(|s| all.contains(s))))
        || (BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s))
            && BOUNCE_BODY.iter().any(|s| all.contains(s)))
    {
        return decided(
            ReplyLabel::Bounce,
            0.99,
            "a delivery failure report from the mail system",
        );
    }

    let own = own_words(text).to_lowercase();
    let own_trimmed = own.trim().trim_matches(|c: char| !c.is_alphanumeric());
    if STOP_WORDS.contains(&own_trimmed) {
        return decided(
            ReplyLabel::Unsubscribe,
            0.99,
            "the reply is an opt-out keyword",
        );
    }
    if let Some(phrase) = UNSUBSCRIBE.iter().find(|p| own.contains(*p)) {
        return decided(
            ReplyLabel::Unsubscribe,
            0.95,
            &format!("asks to stop (\"{phrase}\")"),
        );
    }

    let auto_submitted = header("auto-submitted").is_some_and(|v| !v.trim().starts_with("no"));
    let auto_header = AUTO_REPLY_HEADERS
        .iter()
        .any(|(name, value)| header(name).is_some_and(|v| value.is_empty() || v.contains(value)));
    let ooo_words = OUT_OF_OFFICE
        .iter()
        .any(|p| subject.contains(p) || own.contains(p));
    if (auto_submitted || auto_header) && ooo_words {
        return decided(
            ReplyLabel::OutOfOffice,
            0.99,
            "an automatic out-of-office reply",
        );
    }
    if auto_submitted || auto_header {
        return decided(
            ReplyLabel::OutOfOffice,
            0.9,
            "an automatic reply (Auto-Submitted header)",
        );
    }
    if ooo_words && (subject.starts_with("automatic reply") || subject.contains("out of office")) {
        return decided(ReplyLabel::OutOfOffice, 0.95, "an out-of-office reply");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use aura_types::ai::ReplyLabel::*;

    fn h(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    type Case = (
        &'static str,
        &'static str,
        &'static str,
        BTreeMap<String, String>,
        Option<ReplyLabel>,
    );

    /// A labelled corpus: (text, subject, from, headers, expected label; None = left to the model).
    #[test]
    fn labelled_corpus() {
        let corpus: Vec<Case> = vec![
            ("STOP", "", "", h(&[]), Some(Unsubscribe)),
            ("stop.", "", "", h(&[]), Some(Unsubscribe)),
            ("Unsubscribe", "", "", h(&[]), Some(Unsubscribe)),
            (
                "Please remove me from your list.",
                "Re: Your home",
                "",
                h(&[]),
                Some(Unsubscribe),
            ),
            (
                "Take me off your mailing list please",
                "",
                "",
                h(&[]),
                Some(Unsubscribe),
            ),
            ("Stop emailing me.", "", "", h(&[]), Some(Unsubscribe)),
            ("Don't contact me again", "", "", h(&[]), Some(Unsubscribe)),
            (
                "Do not email me again, thanks",
                "",
                "",
                h(&[]),
                Some(Unsubscribe),
            ),
            ("Opt me out", "", "", h(&[]), Some(Unsubscribe)),
            (
                "please delete my details",
                "",
                "",
                h(&[]),
                Some(Unsubscribe),
            ),
            (
                "I am out of the office until Monday with limited access to email.",
                "Automatic reply: Your home",
                "",
                h(&[("Auto-Submitted", "auto-replied")]),
                Some(OutOfOffice),
            ),
            (
                "Thanks for your message. I'm on annual leave until 3 March.",
                "Out of Office",
                "",
                h(&[]),
                Some(OutOfOffice),
            ),
            (
                "I will be back on the 12th.",
                "Re: hello",
                "",
                h(&[("X-Autoreply", "yes")]),
                Some(OutOfOffice),
            ),
            (
                "We received your message and will answer within 24 hours.",
                "Re: hello",
                "",
                h(&[("auto-submitted", "auto-generated")]),
                Some(OutOfOffice),
            ),
            (
                "Delivery to the following recipient failed permanently: ana@x.com",
                "Delivery Status Notification (Failure)",
                "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
                h(&[]),
                Some(Bounce),
            ),
            (
                "550 5.1.1 <bob@x.com>: Recipient address rejected: User unknown",
                "Undelivered Mail Returned to Sender",
                "MAILER-DAEMON@mx.example.com",
                h(&[]),
                Some(Bounce),
            ),
            (
                "Your message couldn't be delivered.",
                "Undeliverable: Spring offer",
                "postmaster@outlook.com",
                h(&[(
                    "Content-Type",
                    "multipart/report; report-type=delivery-status",
                )]),
                Some(Bounce),
            ),
            (
                "Yes, I'm interested. Can you call me tomorrow?",
                "Re: Your home",
                "",
                h(&[("Auto-Submitted", "no")]),
                None,
            ),
            ("How much is the valuation?", "", "", h(&[]), None),
            ("Not interested, thanks.", "", "", h(&[]), None),
            (
                "Sounds good, let's talk.\n\nOn Tue, Ann wrote:\n> reply STOP to unsubscribe",
                "",
                "",
                h(&[]),
                None,
            ),
            (
                "We'll stop by on Saturday to see the house.",
                "",
                "",
                h(&[]),
                None,
            ),
        ];
        let mut right = 0;
        for (text, subject, from, headers, expected) in &corpus {
            let got = classify(text, Some(subject), Some(from), headers).map(|c| c.label);
            if got == *expected {
                right += 1;
            } else {
                eprintln!("misread {text:?}: {got:?} instead of {expected:?}");
            }
        }
        let accuracy = right as f64 / corpus.len() as f64;
        println!(
            "classification rules: {right}/{} correct ({:.0}%)",
            corpus.len(),
            accuracy * 100.0
        );
        assert_eq!(
            right,
            corpus.len(),
            "every labelled reply is read as labelled"
        );
    }
}

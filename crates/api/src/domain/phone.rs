//! Rules for text messages (SMS and WhatsApp): Twilio accounts and numbers parsed at the edge,
//! what a reply's keyword means, and what each of Twilio's error codes means for the message, the
//! number and the contact.

use crate::domain::{contact::PhoneE164, required_text};
use aura_types::{
    FieldErrors, NumberKind, PhoneAccountId, PhoneAccountInput, PhoneNumberInput, WhatsAppContent,
    WhatsAppTemplate,
};
use time::OffsetDateTime;

pub const NAME_MAX: usize = 120;

/// A Twilio SID: two capital letters then 32 hex digits (`AC…`, `SK…`, `MG…`).
fn sid(prefix: &str, input: &str, what: &str) -> Result<String, String> {
    let s = input.trim();
    let ok =
        s.len() == 34 && s.starts_with(prefix) && s[2..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "must be {what}: {prefix} followed by 32 hexadecimal digits"
        ))
    }
}

/// A secret as pasted: no spaces around it, not empty, no longer than anything Twilio issues.
fn secret(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("is required".into());
    }
    if s.len() > 200 || s.chars().any(char::is_whitespace) {
        return Err("must be the value Twilio shows, without spaces".into());
    }
    Ok(s.to_owned())
}

/// A shared key for webhook signatures, parsed: its id and secret.
pub fn webhook_key(input: &aura_types::WebhookKeyInput) -> Result<(String, String), FieldErrors> {
    let mut e = FieldErrors::new();
    let id = input.key_id.trim();
    if id.is_empty()
        || id.len() > 100
        || id.contains([',', '='])
        || id.chars().any(char::is_whitespace)
    {
        e.add(
            "key_id",
            "must be the key's id as Twilio shows it (no spaces, commas or equals signs)",
        );
    }
    let secret = e.check("secret", secret(&input.secret));
    e.finish(|| Some((id.to_owned(), secret?)))
}

/// A Twilio account after parsing. Secrets: `None` keeps what is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountFields {
    pub name: String,
    pub account_sid: String,
    pub auth_token: Option<String>,
    /// `Some(None)` removes the API key.
    pub api_key: Option<Option<(String, Option<String>)>>,
}

/// What is stored of an account, for a change.
pub struct StoredAccount<'a> {
    pub name: &'a str,
    pub account_sid: &'a str,
    pub has_api_key_secret: bool,
}

/// Parses a new account (`current` `None`: the Account SID and Auth Token are required) or a
/// change to one.
pub fn account(
    input: &PhoneAccountInput,
    current: Option<&StoredAccount<'_>>,
) -> Result<AccountFields, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = required_text(
        &mut e,
        "name",
        &input
            .name
            .clone()
            .or_else(|| current.is_none().then(|| "Twilio".to_owned())),
        current.map(|c| c.name),
        NAME_MAX,
    );
    let account_sid = match (&input.account_sid, current) {
        (Some(v), _) => e.check("account_sid", sid("AC", v, "an Account SID")),
        (None, Some(c)) => Some(c.account_sid.to_owned()),
        (None, None) => {
            e.add("account_sid", "is required");
            None
        }
    };
    let auth_token = match (&input.auth_token, current) {
        (Some(v), _) => e
            .check(
                "auth_token",
                secret(v).map_err(|m| {
                    if v.trim().is_empty() {
                        "is required (Twilio signs its webhooks with it)".to_owned()
                    } else {
                        m
                    }
                }),
            )
            .map(Some),
        (None, Some(_)) => Some(None),
        (None, None) => {
            e.add(
                "auth_token",
                "is required (Twilio signs its webhooks with it)",
            );
            None
        }
    };
    let api_key = match input.api_key_sid.as_deref().map(str::trim) {
        None => {
            if input.api_key_secret.is_some() {
                e.add("api_key_sid", "is required with an API key secret");
            }
            Some(None)
        }
        Some("") => Some(Some(None)),
        Some(v) => {
            let sid = e.check("api_key_sid", sid("SK", v, "an API key SID"));
            let secret = match &input.api_key_secret {
                Some(s) => e.check("api_key_secret", secret(s)).map(Some),
                None if current.is_some_and(|c| c.has_api_key_secret) => Some(None),
                None => {
                    e.add("api_key_secret", "is required with an API key");
                    None
                }
            };
            sid.zip(secret)
                .map(|(sid, secret)| Some(Some((sid, secret))))
        }
    };
    e.finish(|| {
        Some(AccountFields {
            name: name?,
            account_sid: account_sid?,
            auth_token: auth_token?,
            api_key: api_key?,
        })
    })
}

/// A sending number after parsing.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberFields {
    pub number: String,
    pub sms: bool,
    pub whatsapp: bool,
    pub kind: NumberKind,
    pub per_second: f64,
    pub messaging_service_sid: Option<String>,
}

/// Parses a new number (`current` `None`) or a change to one; `region` reads national numbers.
pub fn number(
    input: &PhoneNumberInput,
    current: Option<&NumberFields>,
    region: Option<&str>,
) -> Result<NumberFields, FieldErrors> {
    let mut e = FieldErrors::new();
    let number = match (&input.number, current) {
        (Some(v), _) => e
            .check("number", PhoneE164::parse(v, region))
            .map(|n| n.as_str().to_owned()),
        (None, Some(c)) => Some(c.number.clone()),
        (None, None) => {
            e.add("number", "is required");
            None
        }
    };
    let sms = input.sms.or(current.map(|c| c.sms)).unwrap_or(true);
    let whatsapp = input
        .whatsapp
        .or(current.map(|c| c.whatsapp))
        .unwrap_or(false);
    if !sms && !whatsapp {
        e.add("sms", "a number sends SMS, WhatsApp or both");
    }
    let kind = input
        .kind
        .or(current.map(|c| c.kind))
        .unwrap_or(NumberKind::LongCode);
    let per_second = match input.per_second {
        Some(p) if p.is_finite() && p > 0.0 && p <= 1000.0 => Some(p),
        Some(_) => {
            e.add(
                "per_second",
                "must be more than 0 and at most 1000 messages a second",
            );
            None
        }
        // A new kind brings its pace, unless one is given.
        None => Some(match current {
            Some(c) if input.kind.is_none_or(|k| k == c.kind) => c.per_second,
            _ => kind.default_per_second(),
        }),
    };
    let messaging_service_sid = match input.messaging_service_sid.as_deref().map(str::trim) {
        None => Some(current.and_then(|c| c.messaging_service_sid.clone())),
        Some("") => Some(None),
        Some(v) => e
            .check(
                "messaging_service_sid",
                sid("MG", v, "a Messaging Service SID"),
            )
            .map(Some),
    };
    e.finish(|| {
        Some(NumberFields {
            number: number?,
            sms,
            whatsapp,
            kind,
            per_second: per_second?,
            messaging_service_sid: messaging_service_sid?,
        })
    })
}

/// A message that is one of the carriers' keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, END, QUIT, CANCEL, REVOKE, OPTOUT: the number opts out.
    Stop,
    /// START, UNSTOP, YES: opted back in.
    Start,
    /// HELP, INFO: the organization's help text.
    Help,
}

/// The longest text message, in characters (Twilio's limit).
pub const TEXT_MAX: usize = 1600;

/// A simulated text to the sandbox number: the sender in E.164, and the words.
pub fn simulated(
    input: &aura_types::SimulatedText,
    region: Option<&str>,
) -> Result<(String, String), FieldErrors> {
    let mut e = FieldErrors::new();
    let from = e
        .check("from", PhoneE164::parse(&input.from, region))
        .map(|n| n.as_str().to_owned());
    let body = input.body.trim();
    if body.is_empty() {
        e.add("body", "is required");
    } else if body.chars().count() > TEXT_MAX {
        e.add("body", format!("must be at most {TEXT_MAX} characters"));
    }
    e.finish(|| Some((from?, body.to_owned())))
}

/// The keyword `body` is — the whole message, in any case, surrounding spaces and punctuation
/// ignored ("Stop.", " STOP! ") — or `None` ("stop texting me" is words: the classifier reads it).
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body
        .trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
        .to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "END" | "QUIT" | "CANCEL" | "REVOKE" | "OPTOUT" => {
            Some(Keyword::Stop)
        }
        "START" | "UNSTOP" | "YES" => Some(Keyword::Start),
        "HELP" | "INFO" => Some(Keyword::Help),
        _ => None,
    }
}

/// What a Twilio error means for the message it refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The number cannot receive messages (invalid, a landline, unreachable): the contact's
    /// number is flagged, never retried.
    Unusable,
    /// The recipient opted out with the carrier: suppressed, as STOP would.
    OptedOut,
    /// Filtered by the carrier as spam: failed, and counted in the campaign.
    Spam,
    /// WhatsApp: outside the 24-hour window; only an approved template may go.
    OutsideWindow,
    /// Too many requests: try again after a wait.
    RateLimited,
    /// The sending number's queue is full: slow the number down and try again.
    QueueFull,
    /// Failed for this message only, with the reason.
    Failed,
}

/// How Aura treats Twilio error `code`.
pub fn refusal(code: i64) -> Refusal {
    match code {
        21211 | 21614 | 30005 | 30006 => Refusal::Unusable,
        21610 => Refusal::OptedOut,
        30007 => Refusal::Spam,
        63016 => Refusal::OutsideWindow,
        20429 => Refusal::RateLimited,
        21611 => Refusal::QueueFull,
        _ => Refusal::Failed,
    }
}

/// The order of Twilio's message statuses: a status callback of a lower rank than the one
/// recorded is late and changes nothing (Twilio does not promise callbacks in order).
pub fn status_rank(status: &str) -> i16 {
    match status {
        "accepted" | "scheduled" => 1,
        "queued" => 2,
        "sending" => 3,
        "sent" => 4,
        "delivered" | "undelivered" | "failed" | "canceled" => 5,
        "read" => 6,
        _ => 0,
    }
}

/// The body of a text as it goes out: on the first text to a number, the organization's name and
/// its opt-out wording follow (when the organization keeps that on and the body does not already
/// say how to stop).
pub fn outgoing_body(body: &str, first: bool, org_name: &str, footer: Option<&str>) -> String {
    match footer {
        Some(wording)
            if first && !wording.trim().is_empty() && !body.to_uppercase().contains("STOP") =>
        {
            format!(
                "{}\n\n{}: {}",
                body.trim_end(),
                org_name.trim(),
                wording.trim()
            )
        }
        _ => body.to_owned(),
    }
}

/// Checks a WhatsApp template chosen for a step or an answer: Twilio's Content SID, a name, a
/// text of at most 1,600 characters, and a value for every variable the text names.
pub fn check_content(e: &mut FieldErrors, field: &str, c: &WhatsAppContent) {
    if let Err(m) = sid("HX", &c.sid, "a Content SID") {
        e.add(&format!("{field}.sid"), m);
    }
    if c.name.trim().is_empty() || c.name.chars().count() > 200 {
        e.add(&format!("{field}.name"), "must be 1 to 200 characters");
    }
    if c.body.chars().count() > aura_types::template::SMS_MAX_CHARS {
        e.add(
            &format!("{field}.body"),
            format!(
                "must be at most {} characters",
                aura_types::template::SMS_MAX_CHARS
            ),
        );
    }
    for name in c.variables.keys() {
        if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_digit()) {
            e.add(
                &format!("{field}.variables"),
                format!("\"{name}\" is not one of the template's variables (1, 2, 3…)"),
            );
        }
    }
    for value in c.variables.values() {
        if value.chars().count() > 1000 {
            e.add(
                &format!("{field}.variables"),
                "a value must be at most 1,000 characters",
            );
        }
    }
    for name in aura_types::content_placeholders(&c.body) {
        if c.variables.get(&name).is_none_or(|v| v.trim().is_empty()) {
            e.add(
                &format!("{field}.variables.{name}"),
                format!("{{{{{name}}}}} needs a value"),
            );
        }
    }
}

/// Whether `path` is one of a message's media files at Twilio
/// (`/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}`).
pub fn is_media_of(path: &str, account_sid: &str, message_sid: &str) -> bool {
    let prefix = format!("/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/");
    path.strip_prefix(&prefix)
        .is_some_and(|media| !media.is_empty() && media.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Whether a WhatsApp message may go as free text at `at`: the contact wrote within the last 24
/// hours (Meta's customer-service window).
pub fn whatsapp_window_open(last_inbound: Option<OffsetDateTime>, at: OffsetDateTime) -> bool {
    window_closes(last_inbound).is_some_and(|closes| at < closes)
}

/// When the contact's WhatsApp window closes (or closed), from their last message.
pub fn window_closes(last_inbound: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    last_inbound.map(|t| t + time::Duration::hours(aura_types::WHATSAPP_WINDOW_HOURS))
}

/// The sandbox's own WhatsApp templates (approved, so a demo can run a WhatsApp step outside
/// the window; nothing is sent).
pub fn sandbox_templates(account: PhoneAccountId) -> Vec<WhatsAppTemplate> {
    let t = |sid: &str, name: &str, category: &str, status: &str, body: &str, samples: &[&str]| {
        WhatsAppTemplate {
            account_id: account,
            sid: sid.to_owned(),
            name: name.to_owned(),
            language: "en".to_owned(),
            category: category.to_owned(),
            status: status.to_owned(),
            rejection_reason: None,
            body: body.to_owned(),
            variables: samples
                .iter()
                .enumerate()
                .map(|(i, v)| ((i + 1).to_string(), (*v).to_owned()))
                .collect(),
            sandbox: true,
        }
    };
    vec![
        t(
            "HX00000000000000000000000000000a01",
            "follow_up",
            "UTILITY",
            "approved",
            "Hi {{1}}, this is {{2}} following up on your enquiry. Reply here and we will take it from there.",
            &["Ada", "Harbor Realty"],
        ),
        t(
            "HX00000000000000000000000000000a02",
            "visit_reminder",
            "UTILITY",
            "approved",
            "Hi {{1}}, a reminder of your visit with {{2}} on {{3}}. Reply to change the time.",
            &["Ada", "Harbor Realty", "Thursday at 10:00"],
        ),
        t(
            "HX00000000000000000000000000000a03",
            "spring_offer",
            "MARKETING",
            "approved",
            "Hi {{1}}, {{2}} has a spring offer for you this month. Reply YES to hear more.",
            &["Ada", "Harbor Realty"],
        ),
        t(
            "HX00000000000000000000000000000a04",
            "new_listing",
            "MARKETING",
            "pending",
            "Hi {{1}}, a new listing in {{2}} just came in. Reply to see it first.",
            &["Ada", "Lisbon"],
        ),
    ]
}

/// Twilio error `code` in words, for the people reading why a message did not go.
pub fn explain(code: i64) -> &'static str {
    match code {
        21211 => "The number is not a valid phone number.",
        21614 => "The number cannot receive text messages (a landline, or not a mobile number).",
        30005 => "The number is unknown to its carrier or no longer exists.",
        30006 => "The number cannot be reached: a landline, or its carrier does not deliver texts to it.",
        21610 => "The recipient replied STOP to this sender earlier; nothing may be sent until they reply START.",
        21408 => "Sending to this country or region is not enabled on the Twilio account.",
        21612 => "Twilio cannot route a message from this sending number to this recipient.",
        30007 => "The carrier filtered the message as spam.",
        63016 => "Outside WhatsApp's 24-hour window: only an approved template can be sent until the contact writes again.",
        63024 => "The recipient is not on WhatsApp with this number.",
        63027 | 63028 => "WhatsApp refused the template: it is not available in this language, or its variables do not match.",
        21655 => "The template (Content SID) does not exist on this account.",
        21656 => "The template's variables are not valid (empty values, or line breaks and tabs in them).",
        20429 => "Twilio asked Aura to slow down (too many requests); it tries again shortly.",
        21611 => "The sending number's queue at Twilio is full; Aura slows that number down.",
        20003 => "Twilio refused the account's credentials (check the Account SID and Auth Token).",
        _ => "Twilio refused the message.",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_messages_own_media_is_fetched() {
        let (ac, mm) = ("AC0123", "MM0456");
        assert!(is_media_of(
            "/2010-04-01/Accounts/AC0123/Messages/MM0456/Media/ME0789",
            ac,
            mm
        ));
        for path in [
            "/2010-04-01/Accounts/AC0123.json",
            "/2010-04-01/Accounts/AC0123/Messages/MM0456/Media/",
            "/2010-04-01/Accounts/AC0123/Messages/MM9999/Media/ME0789",
            "/2010-04-01/Accounts/AC9999/Messages/MM0456/Media/ME0789",
            "/2010-04-01/Accounts/AC0123/Messages/MM0456/Media/ME0789/../../../../AC0123.json",
            "/2010-04-01/Accounts/AC0123/Messages/MM0456/Media/ME0789.json",
        ] {
            assert!(!is_media_of(path, ac, mm), "{path}");
        }
    }

    const AC: &str = "AC0123456789abcdef0123456789abcdef";
    const SK: &str = "SK0123456789abcdef0123456789abcdef";

    #[test]
    fn an_account_needs_its_sid_and_token_and_names_each_bad_field() {
        let e = account(&PhoneAccountInput::default(), None).unwrap_err();
        assert!(
            e.0.contains_key("account_sid") && e.0.contains_key("auth_token"),
            "{e:?}"
        );
        let bad = PhoneAccountInput {
            account_sid: Some("AC123".into()),
            auth_token: Some("has space".into()),
            api_key_sid: Some(SK.into()),
            ..Default::default()
        };
        let e = account(&bad, None).unwrap_err();
        assert_eq!(
            e.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["account_sid", "api_key_secret", "auth_token"]
        );
        let good = PhoneAccountInput {
            account_sid: Some(format!(" {AC} ")),
            auth_token: Some("0123456789abcdef0123456789abcdef".into()),
            ..Default::default()
        };
        let a = account(&good, None).unwrap();
        assert_eq!(
            (a.name.as_str(), a.account_sid.as_str(), a.api_key),
            ("Twilio", AC, None)
        );
        // A change keeps what it does not name, and an empty key SID removes the key.
        let stored = StoredAccount {
            name: "Main",
            account_sid: AC,
            has_api_key_secret: true,
        };
        let change = PhoneAccountInput {
            api_key_sid: Some(String::new()),
            ..Default::default()
        };
        let a = account(&change, Some(&stored)).unwrap();
        assert_eq!(
            (a.name.as_str(), a.auth_token, a.api_key),
            ("Main", None, Some(None))
        );
        let keep_secret = PhoneAccountInput {
            api_key_sid: Some(SK.into()),
            ..Default::default()
        };
        assert_eq!(
            account(&keep_secret, Some(&stored)).unwrap().api_key,
            Some(Some((SK.to_owned(), None)))
        );
    }

    #[test]
    fn a_number_is_e164_with_its_kinds_pace() {
        let n = number(
            &PhoneNumberInput {
                number: Some("(415) 555-0100".into()),
                kind: Some(NumberKind::TollFree),
                ..Default::default()
            },
            None,
            Some("US"),
        )
        .unwrap();
        assert_eq!(
            (n.number.as_str(), n.sms, n.whatsapp, n.per_second),
            ("+14155550100", true, false, 3.0)
        );
        let e = number(
            &PhoneNumberInput {
                number: Some("12".into()),
                sms: Some(false),
                per_second: Some(0.0),
                messaging_service_sid: Some("MG1".into()),
                ..Default::default()
            },
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["messaging_service_sid", "number", "per_second", "sms"]
        );
        // A changed pace stays when the kind does not change; a new kind brings its own.
        let slow = NumberFields {
            per_second: 0.5,
            ..n.clone()
        };
        let same = number(
            &PhoneNumberInput {
                whatsapp: Some(true),
                ..Default::default()
            },
            Some(&slow),
            None,
        )
        .unwrap();
        assert_eq!((same.per_second, same.whatsapp), (0.5, true));
        let short = number(
            &PhoneNumberInput {
                kind: Some(NumberKind::ShortCode),
                ..Default::default()
            },
            Some(&slow),
            None,
        )
        .unwrap();
        assert_eq!(short.per_second, 100.0);
    }

    #[test]
    fn keywords_are_the_whole_message_in_any_case() {
        for stop in [
            "STOP",
            "stop",
            " Stop. ",
            "StopAll!",
            "unsubscribe",
            "end",
            "QUIT",
            "cancel",
            "revoke",
            "OPTOUT",
        ] {
            assert_eq!(keyword(stop), Some(Keyword::Stop), "{stop}");
        }
        for start in ["START", "unstop", "Yes!"] {
            assert_eq!(keyword(start), Some(Keyword::Start), "{start}");
        }
        assert_eq!(keyword("help?"), Some(Keyword::Help));
        assert_eq!(keyword("Info"), Some(Keyword::Help));
        for words in [
            "please stop texting me",
            "stop it now",
            "yes please",
            "",
            "S T O P",
            "stopped",
        ] {
            assert_eq!(keyword(words), None, "{words}");
        }
    }

    #[test]
    fn every_documented_code_has_its_outcome_and_words() {
        assert_eq!(refusal(21211), Refusal::Unusable);
        assert_eq!(refusal(21614), Refusal::Unusable);
        assert_eq!(refusal(30005), Refusal::Unusable);
        assert_eq!(refusal(30006), Refusal::Unusable);
        assert_eq!(refusal(21610), Refusal::OptedOut);
        assert_eq!(refusal(21408), Refusal::Failed);
        assert_eq!(refusal(21612), Refusal::Failed);
        assert_eq!(refusal(30007), Refusal::Spam);
        assert_eq!(refusal(63016), Refusal::OutsideWindow);
        assert_eq!(refusal(20429), Refusal::RateLimited);
        assert_eq!(refusal(21611), Refusal::QueueFull);
        for code in [
            21211, 21614, 30005, 30006, 21610, 21408, 21612, 30007, 63016, 20429, 21611, 63024,
            63027, 63028, 21655, 21656,
        ] {
            assert_ne!(explain(code), explain(1), "{code} is explained");
        }
    }

    #[test]
    fn a_first_text_names_the_sender_and_says_how_to_stop() {
        let first = outgoing_body(
            "Hi Ana, your quote is ready.",
            true,
            "Brightside Solar",
            Some("Reply STOP to opt out."),
        );
        assert_eq!(
            first,
            "Hi Ana, your quote is ready.\n\nBrightside Solar: Reply STOP to opt out."
        );
        // Only the first; not when switched off; not twice when the body already says it.
        assert_eq!(
            outgoing_body("Hi", false, "B", Some("Reply STOP to opt out.")),
            "Hi"
        );
        assert_eq!(outgoing_body("Hi", true, "B", None), "Hi");
        assert_eq!(
            outgoing_body(
                "Hi, reply stop to end",
                true,
                "B",
                Some("Reply STOP to opt out.")
            ),
            "Hi, reply stop to end"
        );
    }

    #[test]
    fn statuses_only_move_forward() {
        let order = ["accepted", "queued", "sending", "sent", "delivered", "read"];
        for pair in order.windows(2) {
            assert!(status_rank(pair[0]) < status_rank(pair[1]), "{pair:?}");
        }
        assert_eq!(status_rank("undelivered"), status_rank("delivered"));
        assert_eq!(status_rank("something new"), 0);
    }
}

//! Text-message channels: the Twilio accounts (or the sandbox) an organization sends SMS and
//! WhatsApp through, and their numbers.

use crate::ids::{PhoneAccountId, PhoneNumberId};
use crate::string_enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

string_enum!(
    /// Where an account's messages go: Twilio, or nowhere (the sandbox keeps them for demos).
    PhoneAccountKind as "phone_account_kind" {
        Twilio = "twilio" / "Twilio",
        Sandbox = "sandbox" / "Sandbox",
    }
);

string_enum!(
    /// What kind of number sends: each has its carriers' pace.
    NumberKind as "number_kind" {
        LongCode = "long_code" / "Long code",
        TollFree = "toll_free" / "Toll-free",
        ShortCode = "short_code" / "Short code",
    }
);

impl NumberKind {
    /// Messages a second Twilio lets a number of this kind send, by default.
    pub fn default_per_second(self) -> f64 {
        match self {
            NumberKind::LongCode => 1.0,
            NumberKind::TollFree => 3.0,
            NumberKind::ShortCode => 100.0,
        }
    }
}

/// A sending number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PhoneNumber {
    pub id: PhoneNumberId,
    pub account_id: PhoneAccountId,
    /// E.164.
    pub number: String,
    pub sms: bool,
    pub whatsapp: bool,
    pub kind: NumberKind,
    /// Messages a second at most.
    pub per_second: f64,
    /// Sent through this Messaging Service (MG…) when set.
    pub messaging_service_sid: Option<String>,
}

/// The addresses to paste into Twilio (the number's or Messaging Service's settings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Webhooks {
    /// "A message comes in".
    pub inbound: String,
    /// The status callback Aura names on each text it sends (shown so it can be allowed where
    /// an account restricts callbacks).
    pub status_callback: String,
}

/// A Twilio account (its Auth Token and API key secret are never returned).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PhoneAccount {
    pub id: PhoneAccountId,
    pub kind: PhoneAccountKind,
    pub name: String,
    /// AC…; none for the sandbox.
    pub account_sid: Option<String>,
    /// Sends with this API key (SK…) when set, else with the Auth Token.
    pub api_key_sid: Option<String>,
    /// The shared key of the account's Twilio Webhooks settings, when Twilio signs webhooks
    /// with it (HMAC-SHA256) instead of the Auth Token.
    #[serde(default)]
    pub webhook_key_id: Option<String>,
    /// None for the sandbox (nothing calls it).
    pub webhooks: Option<Webhooks>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    pub last_tested_at: Option<OffsetDateTime>,
    pub last_test_error: Option<String>,
    pub numbers: Vec<PhoneNumber>,
}

/// `POST /phone-accounts` and `PATCH /phone-accounts/{id}`: what is given is set (a PATCH keeps
/// the rest; an empty `api_key_sid` removes the API key).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PhoneAccountInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub account_sid: Option<String>,
    #[serde(default)]
    pub auth_token: Option<String>,
    #[serde(default)]
    pub api_key_sid: Option<String>,
    #[serde(default)]
    pub api_key_secret: Option<String>,
}

/// `PUT /phone-accounts/{id}/webhook-key`: the shared key Twilio's Webhooks settings sign with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WebhookKeyInput {
    /// The key's id, as `X-Twilio-Webhooks-Signature-Settings` names it (`key=…`).
    pub key_id: String,
    /// The key's secret (kept sealed, never shown again).
    pub secret: String,
}

/// `POST /phone-accounts/{id}/numbers` and `PATCH /phone-numbers/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PhoneNumberInput {
    /// E.164 (or a national number of the organization's country). Required to add.
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub sms: Option<bool>,
    #[serde(default)]
    pub whatsapp: Option<bool>,
    #[serde(default)]
    pub kind: Option<NumberKind>,
    /// Defaults to the kind's pace.
    #[serde(default)]
    pub per_second: Option<f64>,
    /// MG…; empty removes it.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
}

/// What a Test found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PhoneAccountTest {
    pub ok: bool,
    /// What was found, or what failed, in words.
    pub message: String,
}

/// `POST /phone-accounts/{id}/simulate`: a text to the sandbox number, as a lead would send it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SimulatedText {
    /// The sender's number (E.164, or a national number of the organization's country).
    pub from: String,
    /// What they wrote (STOP, START and HELP act as from a phone).
    pub body: String,
    /// Sent over WhatsApp rather than SMS.
    #[serde(default)]
    pub whatsapp: bool,
}

/// What a simulated text did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SimulatedTextResult {
    /// Its conversation in the Inbox.
    pub conversation_id: Option<crate::ConversationId>,
    /// What Aura answered the sender (a STOP's confirmation, the HELP text).
    pub answer: Option<String>,
}

/// A text the sandbox number "sent": kept, never sent, shown as a phone bubble.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OutboxText {
    pub id: uuid::Uuid,
    pub channel: crate::Channel,
    /// The sandbox number (E.164).
    pub from_number: String,
    /// The lead's number (E.164).
    pub to_number: String,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

/// The hours a text may arrive, in the recipient's local time (whole hours, `end` exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QuietWindow {
    pub start: u32,
    pub end: u32,
    /// On Sundays: `null` when no text may arrive at all, else the hour they may start.
    pub sunday_start: Option<u32>,
}

/// A US state whose law is stricter than the default window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StateQuietHours {
    /// The state's two-letter code.
    pub code: String,
    pub name: String,
    pub window: QuietWindow,
}

/// The quiet-hours rules texts follow, for the organization to review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QuietHours {
    /// Everywhere else.
    pub default: QuietWindow,
    pub states: Vec<StateQuietHours>,
}

/// How long after a contact's last WhatsApp message a business may write freely (Meta's
/// customer-service window); after it, only an approved template may go.
pub const WHATSAPP_WINDOW_HOURS: i64 = 24;

/// A WhatsApp content template chosen for a step or an answer: what is sent outside the 24-hour
/// window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WhatsAppContent {
    /// Twilio's Content SID (HX…).
    pub sid: String,
    pub name: String,
    #[serde(default)]
    pub language: String,
    /// Meta's category: MARKETING, UTILITY or AUTHENTICATION (empty when not known).
    #[serde(default)]
    pub category: String,
    /// The template's text, with `{{1}}`, `{{2}}`… where its variables go.
    #[serde(default)]
    pub body: String,
    /// What fills each variable ("1", "2"…) for the lead: text with merge tags
    /// (`{{first_name}}`), or the literal value in an answer.
    #[serde(default)]
    pub variables: std::collections::BTreeMap<String, String>,
}

impl WhatsAppContent {
    /// Whether Meta counts it as marketing (which it does not deliver to US numbers).
    pub fn is_marketing(&self) -> bool {
        self.category.eq_ignore_ascii_case("marketing")
    }
}

/// A template as Twilio's Content API lists it, with its WhatsApp approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WhatsAppTemplate {
    /// The account it belongs to.
    pub account_id: PhoneAccountId,
    /// Twilio's Content SID (HX…).
    pub sid: String,
    pub name: String,
    pub language: String,
    /// MARKETING, UTILITY or AUTHENTICATION; empty when never submitted.
    pub category: String,
    /// WhatsApp's answer: approved, pending, received, rejected, paused, disabled, unsubmitted.
    pub status: String,
    pub rejection_reason: Option<String>,
    /// The text, with `{{1}}`… where its variables go.
    pub body: String,
    /// Each variable and its sample value.
    pub variables: std::collections::BTreeMap<String, String>,
    /// One of the sandbox's built-in templates (nothing is sent).
    pub sandbox: bool,
}

impl WhatsAppTemplate {
    /// Only an approved template may be sent.
    pub fn approved(&self) -> bool {
        self.status.eq_ignore_ascii_case("approved")
    }

    /// The template as a step or an answer keeps it, each variable filled by `variables`.
    pub fn chosen(&self, variables: std::collections::BTreeMap<String, String>) -> WhatsAppContent {
        WhatsAppContent {
            sid: self.sid.clone(),
            name: self.name.clone(),
            language: self.language.clone(),
            category: self.category.clone(),
            body: self.body.clone(),
            variables,
        }
    }
}

/// The organization's WhatsApp templates, from every account, and what could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WhatsAppTemplates {
    pub templates: Vec<WhatsAppTemplate>,
    /// An account whose templates could not be listed, and why.
    pub problems: Vec<String>,
}

/// The variables a template's text names (`{{1}}`, `{{2}}`…), in order, each once.
pub fn content_placeholders(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let name = after[..close].trim();
        if !name.is_empty()
            && name.chars().all(|c| c.is_ascii_digit())
            && !found.iter().any(|f| f == name)
        {
            found.push(name.to_owned());
        }
        rest = &after[close + 2..];
    }
    found
}

/// A template's text with its variables filled in (a variable without a value stays as written).
pub fn fill_content(body: &str, values: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        match values.get(after[..close].trim()) {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod content_tests {
    use super::*;

    #[test]
    fn placeholders_are_found_once_and_filled() {
        let body = "Hi {{1}}, {{2}} here. {{1}}: see {{ 3 }} {{name}} {{";
        assert_eq!(content_placeholders(body), vec!["1", "2", "3"]);
        let values = [("1", "Ada"), ("3", "https://x.example")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            fill_content(body, &values),
            "Hi Ada, {{2}} here. Ada: see https://x.example {{name}} {{"
        );
    }
}

//! Contacts (leads, customers…), their notes, consent, tags, list filters and bulk actions.

use crate::ids::{ContactId, NoteId, SegmentId, UserId};
use crate::string_enum;
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

string_enum!(
    /// Where a contact stands with the organization.
    #[derive(Default)]
    ContactType as "contact_type" {
        #[default]
        Lead = "lead" / "Lead",
        Customer = "customer" / "Customer",
        PastCustomer = "past_customer" / "Past customer",
        Partner = "partner" / "Partner",
        Other = "other" / "Other",
    }
);

string_enum!(
    /// Whether a contact may be messaged at all. Anything but `active` stops every channel.
    #[derive(Default)]
    ContactStatus as "contact_status" {
        #[default]
        Active = "active" / "Active",
        Unsubscribed = "unsubscribed" / "Unsubscribed",
        Bounced = "bounced" / "Bounced",
        Complained = "complained" / "Complained",
        DoNotContact = "do_not_contact" / "Do not contact",
    }
);

string_enum!(
    /// A way of reaching a contact.
    Channel as "channel" {
        Email = "email" / "Email",
        Sms = "sms" / "SMS",
        Whatsapp = "whatsapp" / "WhatsApp",
    }
);

string_enum!(
    /// What a contact said about being messaged on one channel.
    #[derive(Default)]
    ConsentStatus as "consent_status" {
        #[default]
        Unknown = "unknown" / "Unknown",
        Granted = "granted" / "Granted",
        Denied = "denied" / "Denied",
        Revoked = "revoked" / "Revoked",
    }
);

/// Consent on one channel: its status, where it came from, when, and the evidence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChannelConsent {
    #[serde(default)]
    pub status: ConsentStatus,
    /// Where the consent was collected (a form, an import, a phone call…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub at: Option<OffsetDateTime>,
    /// Free text kept as proof (the wording the person agreed to, a reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// Per-channel consent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Consent {
    #[serde(default)]
    pub email: ChannelConsent,
    #[serde(default)]
    pub sms: ChannelConsent,
    #[serde(default)]
    pub whatsapp: ChannelConsent,
}

impl Consent {
    pub fn channel(&self, channel: Channel) -> &ChannelConsent {
        match channel {
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
            Channel::Whatsapp => &self.whatsapp,
        }
    }

    pub fn channel_mut(&mut self, channel: Channel) -> &mut ChannelConsent {
        match channel {
            Channel::Email => &mut self.email,
            Channel::Sms => &mut self.sms,
            Channel::Whatsapp => &mut self.whatsapp,
        }
    }
}

/// A contact as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Contact {
    pub id: ContactId,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// First and last name; the email or phone when there is no name.
    pub full_name: String,
    pub email: Option<String>,
    /// E.164, e.g. `+14155550100`.
    pub phone: Option<String>,
    /// E.164; the phone number unless set otherwise.
    pub whatsapp: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub website: Option<String>,
    pub linkedin_url: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// IANA time zone; inferred from the country or phone number when that is unambiguous.
    pub timezone: Option<String>,
    pub tags: Vec<String>,
    pub source: Option<String>,
    pub contact_type: ContactType,
    pub status: ContactStatus,
    pub consent: Consent,
    /// The organization's own fields, e.g. `{"budget": "500k"}`.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub custom: serde_json::Map<String, serde_json::Value>,
    /// 0–100, how likely the lead is to buy (set by AI or by hand).
    pub ai_intent_score: Option<i16>,
    pub ai_segment: Option<String>,
    pub ai_notes: Option<String>,
    pub ai_next_action: Option<String>,
    /// The member responsible for the contact.
    pub owner_id: Option<UserId>,
    pub owner_name: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_contacted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_replied_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A note on a contact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Note {
    pub id: NoteId,
    pub author_id: Option<UserId>,
    pub author_name: Option<String>,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// One contact with its notes, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ContactDetail {
    pub contact: Contact,
    pub notes: Vec<Note>,
}

/// Deserializes a field that may be absent (leave as is), `null` (clear) or a value (set).
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Consent given when creating or editing a contact; `at` defaults to now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConsentInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<ChannelConsent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<ChannelConsent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<ChannelConsent>,
}

/// A new contact, or a partial update of one. For updates, an absent field is left as it is and
/// an empty string (or `null`) clears it. A contact needs an email or a phone number.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ContactInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Any common format; stored as E.164 using the organization's country for local numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkedin_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// A two-letter code or an English country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Replaces the contact's tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<ContactType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ContactStatus>,
    /// Channels given here replace the contact's consent on those channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentInput>,
    /// Replaces the contact's custom fields.
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<i16>, nullable))]
    pub ai_intent_score: Option<Option<i16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_segment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_next_action: Option<String>,
    /// A member of the organization; `null` unassigns.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>, nullable))]
    pub owner_id: Option<Option<UserId>>,
}

/// A note to add to a contact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NoteInput {
    pub body: String,
}

/// Maximum length of a note.
pub const NOTE_MAX_CHARS: usize = 10_000;
/// Maximum length of a tag.
pub const TAG_MAX_CHARS: usize = 50;

/// A tag as stored: trimmed, inner spaces collapsed, lower case; no commas (lists of tags are
/// written comma-separated in filters and CSV files).
pub fn parse_tag(input: &str) -> Result<String, String> {
    let tag = input
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if tag.is_empty() {
        return Err("tags must not be empty".into());
    }
    if tag.chars().count() > TAG_MAX_CHARS {
        return Err(format!("tags must be at most {TAG_MAX_CHARS} characters"));
    }
    if tag.contains(',') || tag.chars().any(char::is_control) {
        return Err("tags must not contain commas".into());
    }
    Ok(tag)
}

/// Parses a list of tags, dropping duplicates and keeping the first order.
pub fn parse_tags<S: AsRef<str>>(input: &[S]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::with_capacity(input.len());
    for t in input {
        let tag = parse_tag(t.as_ref())?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// Splits a comma-separated list (as in query strings and CSV cells), ignoring empty items.
pub fn split_list(input: &str) -> Vec<&str> {
    input
        .split([',', ';', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Which contacts to list or act on. Every field is optional and all given ones must hold.
/// Lists are comma-separated; dates are `YYYY-MM-DD` or RFC 3339.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
pub struct ContactFilter {
    /// Words to find in name, email, phone or company (every word must match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Has at least one of these tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_any: Option<String>,
    /// Has all of these tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_all: Option<String>,
    /// Has none of these tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_none: Option<String>,
    /// One of these statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// One of these contact types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<String>,
    /// One of these country codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A member's user id, or `none` for unassigned contacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied_to: Option<String>,
    /// `true` or `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_email: Option<String>,
    /// `true` or `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_phone: Option<String>,
    /// `key:value` — a custom field equal to a value (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<String>,
    /// Members of this segment (static or dynamic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<uuid::Uuid>))]
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>))]
    pub segment_id: Option<SegmentId>,
}

impl ContactFilter {
    /// Whether no condition is set (the filter matches every contact).
    pub fn is_empty(&self) -> bool {
        *self == ContactFilter::default()
    }
}

/// Which contacts a bulk action applies to: explicit ids, or every contact matching a filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    Ids(Vec<ContactId>),
    Filter(Box<ContactFilter>),
}

/// What to do to the selected contacts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BulkAction {
    AddTags {
        tags: Vec<String>,
    },
    RemoveTags {
        tags: Vec<String>,
    },
    SetStatus {
        status: ContactStatus,
    },
    /// `null` unassigns.
    SetOwner {
        owner_id: Option<UserId>,
    },
    /// Deletes the contacts and erases their personal data.
    Delete,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BulkRequest {
    pub selection: Selection,
    #[serde(flatten)]
    pub action: BulkAction,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BulkResult {
    /// Contacts selected.
    pub matched: i64,
    /// Contacts actually changed (e.g. a tag already present changes nothing).
    pub changed: i64,
}

/// A tag and how many contacts carry it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

/// Renames a tag on every contact; renaming to an existing tag merges the two.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RenameTagRequest {
    pub from: String,
    pub to: String,
}

/// Merges `other` into the contact in the path: empty fields are filled from `other`, tags and
/// custom fields are combined, notes move over, and `other` is deleted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MergeRequest {
    pub other_id: ContactId,
}

/// The display name of a contact.
pub fn full_name(
    first: Option<&str>,
    last: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
) -> String {
    let name = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        return name;
    }
    email.or(phone).unwrap_or("(no name)").to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tags_are_normalised_and_deduplicated() {
        assert_eq!(
            parse_tags(&["  Hot   Lead ", "hot lead", "VIP"]),
            Ok(vec!["hot lead".to_owned(), "vip".to_owned()])
        );
        assert!(parse_tag("a,b").is_err());
        assert!(parse_tag("   ").is_err());
        assert!(parse_tag(&"x".repeat(51)).is_err());
        assert_eq!(split_list("a, b;;c|"), vec!["a", "b", "c"]);
    }

    #[test]
    fn absent_null_and_value_are_told_apart() {
        let absent: ContactInput = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.owner_id, None);
        let null: ContactInput = serde_json::from_str(r#"{"owner_id": null}"#).unwrap();
        assert_eq!(null.owner_id, Some(None));
        let set: ContactInput = serde_json::from_str(r#"{"ai_intent_score": 80}"#).unwrap();
        assert_eq!(set.ai_intent_score, Some(Some(80)));
    }

    #[test]
    fn full_name_falls_back_to_address() {
        assert_eq!(
            full_name(Some("Ada"), Some("Lovelace"), None, None),
            "Ada Lovelace"
        );
        assert_eq!(full_name(None, Some(" "), Some("a@b.co"), None), "a@b.co");
        assert_eq!(full_name(None, None, None, Some("+1415")), "+1415");
    }
}

//! Suppressions: addresses the organization must never message again, whatever the campaign.

use crate::ids::SuppressionId;
use crate::string_enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

string_enum!(
    /// What a suppression blocks.
    SuppressionKind as "suppression_kind" {
        /// One email address (any case).
        Email = "email" / "Email",
        /// One phone number (E.164), for SMS and WhatsApp.
        Phone = "phone" / "Phone",
        /// Every email address at a domain.
        Domain = "domain" / "Email domain",
    }
);

string_enum!(
    SuppressionReason as "suppression_reason" {
        Unsubscribed = "unsubscribed" / "Unsubscribed",
        Bounced = "bounced" / "Bounced",
        Complaint = "complaint" / "Complaint",
        StopKeyword = "stop_keyword" / "STOP keyword",
        Manual = "manual" / "Added by hand",
        /// Twilio said the number cannot receive texts (invalid, a landline, unknown).
        Unreachable = "unreachable" / "Unreachable number",
    }
);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Suppression {
    pub id: SuppressionId,
    pub kind: SuppressionKind,
    /// Lower-case email or domain, or an E.164 number.
    pub value: String,
    pub reason: SuppressionReason,
    pub source: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SuppressionInput {
    pub kind: SuppressionKind,
    pub value: String,
    #[serde(default = "manual")]
    pub reason: SuppressionReason,
    #[serde(default)]
    pub source: Option<String>,
}

fn manual() -> SuppressionReason {
    SuppressionReason::Manual
}

/// A row of a file that could not be used, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct InvalidRow {
    /// Line number in the file.
    pub row: i64,
    pub reason: String,
}

/// The outcome of adding suppressions from a CSV file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SuppressionImportResult {
    pub added: i64,
    /// Already suppressed.
    pub existing: i64,
    /// Rows whose value is not an email, phone number or domain.
    pub invalid: Vec<InvalidRow>,
    /// Contacts whose status changed because of the new suppressions.
    pub contacts_updated: i64,
}

crate::string_enum!(
    /// Why an address may not be messaged on a channel (the first that applies).
    BlockReason as "block_reason" {
        /// The address is on the suppression list.
        Suppressed = "suppressed" / "Suppressed address",
        /// The email's domain is on the suppression list.
        SuppressedDomain = "suppressed_domain" / "Suppressed domain",
        /// A contact with the address is unsubscribed, bounced, complained or do-not-contact.
        ContactStatus = "contact_status" / "Contact not active",
        /// A contact with the address denied or revoked consent on the channel.
        ConsentRefused = "consent_refused" / "Consent refused",
        /// SMS and WhatsApp need consent granted, and no contact with the address has given it.
        NoConsent = "no_consent" / "No consent",
    }
);

/// The answer to "may we contact this address on this channel?".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ContactPermission {
    pub allowed: bool,
    /// Why not, for programs.
    #[serde(default)]
    pub code: Option<BlockReason>,
    /// Why not, for people.
    pub reason: Option<String>,
}

//! Organizations (tenants) and their settings.

use crate::ids::OrgId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Maximum length of the brand voice description.
pub const BRAND_VOICE_MAX_CHARS: usize = 2000;
/// Maximum length of the postal address printed in email footers.
pub const POSTAL_ADDRESS_MAX_CHARS: usize = 500;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub slug: String,
    /// How the organization sounds; given to AI personas when they write.
    pub brand_voice: Option<String>,
    /// The name recipients see (for example in SMS); defaults to `name`.
    pub public_name: Option<String>,
    /// Physical address printed in email footers (required by anti-spam laws).
    pub postal_address: Option<String>,
    /// IANA time zone, e.g. `Europe/Istanbul`.
    pub timezone: String,
    /// ISO 3166-1 alpha-2; the region of local phone numbers (e.g. `0412 345 678` in AU).
    pub country: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A partial update: absent fields are left as they are; an empty string clears an optional field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UpdateOrganizationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_voice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// A two-letter country code; empty clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// Create another organization (agencies run several brands); the caller becomes its owner.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreateOrganizationRequest {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
}

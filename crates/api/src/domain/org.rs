use aura_types::{
    parse_optional_text, parse_text, FieldErrors, UpdateOrganizationRequest, BRAND_VOICE_MAX_CHARS,
    NAME_MAX_CHARS, POSTAL_ADDRESS_MAX_CHARS,
};
use std::str::FromStr;

/// An IANA time zone name known to the time zone database (e.g. `America/New_York`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        chrono_tz::Tz::from_str(input.trim())
            .map(Self)
            .map_err(|_| "must be an IANA time zone such as Europe/London or America/New_York")
    }

    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }
}

/// A parsed partial update of an organization: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct OrgChanges {
    pub name: Option<String>,
    pub brand_voice: Option<Option<String>>,
    pub public_name: Option<Option<String>>,
    pub postal_address: Option<Option<String>>,
    pub timezone: Option<TimeZone>,
    pub country: Option<Option<&'static str>>,
}

impl TryFrom<UpdateOrganizationRequest> for OrgChanges {
    type Error = FieldErrors;
    fn try_from(r: UpdateOrganizationRequest) -> Result<Self, FieldErrors> {
        let mut errs = FieldErrors::new();
        let mut out = OrgChanges::default();
        if let Some(name) = r.name {
            out.name = errs.check("name", parse_text(&name, NAME_MAX_CHARS));
        }
        if let Some(v) = r.brand_voice {
            out.brand_voice = errs.check(
                "brand_voice",
                parse_optional_text(&v, BRAND_VOICE_MAX_CHARS),
            );
        }
        if let Some(v) = r.public_name {
            out.public_name = errs.check("public_name", parse_optional_text(&v, NAME_MAX_CHARS));
        }
        if let Some(v) = r.postal_address {
            out.postal_address = errs.check(
                "postal_address",
                parse_optional_text(&v, POSTAL_ADDRESS_MAX_CHARS),
            );
        }
        if let Some(v) = r.timezone {
            out.timezone = errs.check("timezone", TimeZone::parse(&v));
        }
        if let Some(v) = r.country {
            out.country = if v.trim().is_empty() {
                Some(None)
            } else {
                errs.check("country", aura_types::parse_country(&v))
                    .map(Some)
            };
        }
        if errs.is_empty() {
            Ok(out)
        } else {
            Err(errs)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn time_zones_are_checked_against_the_database() {
        assert_eq!(
            TimeZone::parse("Europe/Istanbul").unwrap().as_str(),
            "Europe/Istanbul"
        );
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn empty_strings_clear_optional_fields_and_absent_ones_stay() {
        let c = OrgChanges::try_from(UpdateOrganizationRequest {
            brand_voice: Some("  ".into()),
            public_name: Some("Sunrise".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.brand_voice, Some(None));
        assert_eq!(c.public_name, Some(Some("Sunrise".into())));
        assert!(c.name.is_none() && c.postal_address.is_none() && c.timezone.is_none());
        let e = OrgChanges::try_from(UpdateOrganizationRequest {
            name: Some("".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.0.contains_key("name"));
    }
}

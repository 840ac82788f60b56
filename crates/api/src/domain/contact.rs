//! Contacts as the domain sees them: parsed changes, the full record, and how changes apply to a
//! record (set by hand, fill empty fields, overwrite) — one rule for the API, imports and merges.

use crate::domain::org::TimeZone;
use aura_types::{
    country_timezone, parse_country, parse_optional_text, parse_tags, ChannelConsent, Consent,
    ConsentInput, ContactId, ContactInput, ContactStatus, ContactType, EmailAddress, FieldErrors,
    UserId,
};
use phonenumber::{country, Mode};
use time::OffsetDateTime;

/// Maximum length of a short contact field (names, company, city…).
pub const FIELD_MAX_CHARS: usize = 200;
/// Maximum length of long contact fields (AI notes, consent evidence).
pub const LONG_FIELD_MAX_CHARS: usize = 5000;
/// Maximum size of the custom fields object, serialised.
pub const CUSTOM_MAX_BYTES: usize = 16 * 1024;

/// A phone number in E.164 form (`+14155550100`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneE164(String);

impl PhoneE164 {
    /// Parses any common way of writing a number. Numbers without a country code are read in
    /// `region` (the organization's country).
    pub fn parse(input: &str, region: Option<&str>) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        let region_id = region.and_then(|r| r.parse::<country::Id>().ok());
        let number = phonenumber::parse(region_id, s).map_err(|_| {
            if region_id.is_none() && !s.starts_with('+') && !s.starts_with("00") {
                "must include the country code (e.g. +44 20 7946 0958), or set the organization's country".to_owned()
            } else {
                "must be a phone number such as +1 415 555 0100".to_owned()
            }
        })?;
        if !phonenumber::is_valid(&number) {
            return Err("is not a valid phone number for its country".into());
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country a number belongs to, when its calling code says so.
    pub fn country(e164: &str) -> Option<&'static str> {
        let number = phonenumber::parse(None, e164).ok()?;
        let id = number.country().id()?;
        parse_country(id.as_ref()).ok()
    }
}

/// A parsed change to a contact. `None` leaves a field alone; `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContactChanges {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub whatsapp: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub job_title: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub linkedin_url: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub state: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub timezone: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub source: Option<Option<String>>,
    pub contact_type: Option<ContactType>,
    pub status: Option<ContactStatus>,
    pub consent: [Option<ChannelConsent>; 3],
    pub custom: Option<serde_json::Map<String, serde_json::Value>>,
    pub ai_intent_score: Option<Option<i16>>,
    pub ai_segment: Option<Option<String>>,
    pub ai_notes: Option<Option<String>>,
    pub ai_next_action: Option<Option<String>>,
    pub owner_id: Option<Option<UserId>>,
}

fn text(
    errs: &mut FieldErrors,
    field: &str,
    v: Option<String>,
    max: usize,
) -> Option<Option<String>> {
    v.and_then(|v| errs.check(field, parse_optional_text(&v, max)))
}

/// An http(s) URL; a bare domain gets `https://`.
pub fn parse_url(input: &str) -> Result<Option<String>, String> {
    let Some(s) = parse_optional_text(input, 500)? else {
        return Ok(None);
    };
    let with_scheme = if s.contains("://") {
        s
    } else {
        format!("https://{s}")
    };
    let rest = with_scheme
        .strip_prefix("https://")
        .or_else(|| with_scheme.strip_prefix("http://"))
        .ok_or("must be an http or https address")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if !host.contains('.') || host.chars().any(|c| c.is_whitespace()) {
        return Err("must be a web address such as https://example.com".into());
    }
    Ok(Some(with_scheme))
}

fn parse_consent(
    errs: &mut FieldErrors,
    channel: &str,
    c: Option<ChannelConsent>,
    now: OffsetDateTime,
) -> Option<ChannelConsent> {
    let c = c?;
    let source = text(
        errs,
        &format!("consent.{channel}.source"),
        c.source,
        FIELD_MAX_CHARS,
    )
    .flatten();
    let evidence = text(
        errs,
        &format!("consent.{channel}.evidence"),
        c.evidence,
        LONG_FIELD_MAX_CHARS,
    )
    .flatten();
    Some(ChannelConsent {
        status: c.status,
        source,
        at: Some(c.at.unwrap_or(now)),
        evidence,
    })
}

impl ContactChanges {
    /// Parses an API body. Local phone numbers are read in the body's own `country`, else in
    /// `region` (the organization's country).
    pub fn parse(
        input: ContactInput,
        region: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut out = ContactChanges {
            first_name: text(&mut e, "first_name", input.first_name, FIELD_MAX_CHARS),
            last_name: text(&mut e, "last_name", input.last_name, FIELD_MAX_CHARS),
            company: text(&mut e, "company", input.company, FIELD_MAX_CHARS),
            job_title: text(&mut e, "job_title", input.job_title, FIELD_MAX_CHARS),
            city: text(&mut e, "city", input.city, FIELD_MAX_CHARS),
            state: text(&mut e, "state", input.state, FIELD_MAX_CHARS),
            source: text(&mut e, "source", input.source, FIELD_MAX_CHARS),
            ai_segment: text(&mut e, "ai_segment", input.ai_segment, FIELD_MAX_CHARS),
            ai_notes: text(&mut e, "ai_notes", input.ai_notes, LONG_FIELD_MAX_CHARS),
            ai_next_action: text(
                &mut e,
                "ai_next_action",
                input.ai_next_action,
                LONG_FIELD_MAX_CHARS,
            ),
            contact_type: input.contact_type,
            status: input.status,
            owner_id: input.owner_id,
            ..Default::default()
        };
        let empty = |s: &str| s.trim().is_empty();
        out.email = input.email.and_then(|v| {
            if empty(&v) {
                Some(None)
            } else {
                e.check("email", EmailAddress::parse(&v))
                    .map(|a| Some(a.as_str().to_owned()))
            }
        });
        out.country = input.country.and_then(|v| {
            if empty(&v) {
                Some(None)
            } else {
                e.check("country", parse_country(&v))
                    .map(|c| Some(c.to_owned()))
            }
        });
        // A number written without its country code is read in the contact's own country
        // first (a CRM export's country column), then the organization's.
        let own_country = out.country.clone().flatten();
        let region = own_country.as_deref().or(region);
        for (field, value, slot) in [
            ("phone", input.phone, &mut out.phone),
            ("whatsapp", input.whatsapp, &mut out.whatsapp),
        ] {
            *slot = value.and_then(|v| {
                if empty(&v) {
                    Some(None)
                } else {
                    e.check(field, PhoneE164::parse(&v, region))
                        .map(|p| Some(p.0))
                }
            });
        }
        out.website = input
            .website
            .and_then(|v| e.check("website", parse_url(&v)));
        out.linkedin_url = input.linkedin_url.and_then(|v| {
            let url = e.check("linkedin_url", parse_url(&v))?;
            match url {
                Some(u) if !u.to_lowercase().contains("linkedin.com/") => {
                    e.add("linkedin_url", "must be a linkedin.com address");
                    None
                }
                u => Some(u),
            }
        });
        out.timezone = input.timezone.and_then(|v| {
            if empty(&v) {
                Some(None)
            } else {
                e.check("timezone", TimeZone::parse(&v))
                    .map(|t| Some(t.as_str().to_owned()))
            }
        });
        out.tags = input.tags.and_then(|t| e.check("tags", parse_tags(&t)));
        if let Some(Some(score)) = input.ai_intent_score {
            if !(0..=100).contains(&score) {
                e.add("ai_intent_score", "must be between 0 and 100");
            }
        }
        out.ai_intent_score = input.ai_intent_score;
        if let Some(custom) = input.custom {
            if serde_json::to_vec(&custom).map_or(true, |b| b.len() > CUSTOM_MAX_BYTES) {
                e.add(
                    "custom",
                    format!("must be at most {} KiB", CUSTOM_MAX_BYTES / 1024),
                );
            } else if custom.keys().any(|k| k.trim().is_empty() || k.len() > 100) {
                e.add("custom", "field names must be 1–100 characters");
            } else {
                out.custom = Some(custom);
            }
        }
        let ConsentInput {
            email,
            sms,
            whatsapp,
        } = input.consent.unwrap_or_default();
        out.consent = [
            parse_consent(&mut e, "email", email, now),
            parse_consent(&mut e, "sms", sms, now),
            parse_consent(&mut e, "whatsapp", whatsapp, now),
        ];
        if e.is_empty() {
            Ok(out)
        } else {
            Err(e)
        }
    }
}

/// How changes meet a record's existing values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apply {
    /// Set every given field (an edit by hand; `Some(None)` clears).
    Set,
    /// Only fill fields that are empty; tags and custom fields are added.
    FillEmpty,
    /// Replace fields with the given non-empty values; tags and custom fields are added.
    Overwrite,
}

/// A contact's stored fields.
#[derive(Clone, Debug, PartialEq)]
pub struct ContactRecord {
    pub id: ContactId,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub whatsapp: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub website: Option<String>,
    pub linkedin_url: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
    pub tags: Vec<String>,
    pub source: Option<String>,
    pub contact_type: ContactType,
    pub status: ContactStatus,
    pub consent: Consent,
    pub custom: serde_json::Map<String, serde_json::Value>,
    pub ai_intent_score: Option<i16>,
    pub ai_segment: Option<String>,
    pub ai_notes: Option<String>,
    pub ai_next_action: Option<String>,
    pub owner_id: Option<UserId>,
}

impl ContactRecord {
    pub fn new(id: ContactId) -> Self {
        Self {
            id,
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            whatsapp: None,
            company: None,
            job_title: None,
            website: None,
            linkedin_url: None,
            city: None,
            state: None,
            country: None,
            timezone: None,
            tags: Vec::new(),
            source: None,
            contact_type: ContactType::Lead,
            status: ContactStatus::Active,
            consent: Consent::default(),
            custom: serde_json::Map::new(),
            ai_intent_score: None,
            ai_segment: None,
            ai_notes: None,
            ai_next_action: None,
            owner_id: None,
        }
    }

    /// Applies `c` in `mode`, then derives what follows from the result: WhatsApp defaults to
    /// the phone, the time zone is inferred from the country or the phone's country when that
    /// is unambiguous. Returns whether anything changed.
    pub fn apply(&mut self, c: &ContactChanges, mode: Apply) -> bool {
        let before = self.clone();
        macro_rules! opt {
            ($($f:ident),+) => {$(
                if let Some(v) = &c.$f {
                    match (mode, v) {
                        (Apply::Set, v) => self.$f = v.clone(),
                        (Apply::FillEmpty, Some(v)) if self.$f.is_none() => self.$f = Some(v.clone()),
                        (Apply::Overwrite, Some(v)) => self.$f = Some(v.clone()),
                        _ => {}
                    }
                }
            )+};
        }
        opt!(
            first_name,
            last_name,
            email,
            phone,
            whatsapp,
            company,
            job_title,
            website,
            linkedin_url,
            city,
            state,
            country,
            timezone,
            source,
            ai_intent_score,
            ai_segment,
            ai_notes,
            ai_next_action,
            owner_id
        );
        if let Some(tags) = &c.tags {
            if mode == Apply::Set {
                self.tags = tags.clone();
            } else {
                for t in tags {
                    if !self.tags.contains(t) {
                        self.tags.push(t.clone());
                    }
                }
            }
        }
        if let Some(custom) = &c.custom {
            if mode == Apply::Set {
                self.custom = custom.clone();
            } else {
                for (k, v) in custom {
                    if mode == Apply::Overwrite || !self.custom.contains_key(k) {
                        self.custom.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        let fill_kind = mode != Apply::FillEmpty;
        if let Some(t) = c.contact_type.filter(|_| fill_kind) {
            self.contact_type = t;
        }
        if let Some(s) = c.status.filter(|_| fill_kind) {
            self.status = s;
        }
        for (i, channel) in aura_types::Channel::ALL.iter().enumerate() {
            if let Some(given) = &c.consent[i] {
                let slot = self.consent.channel_mut(*channel);
                if mode != Apply::FillEmpty || slot.status == aura_types::ConsentStatus::Unknown {
                    *slot = given.clone();
                }
            }
        }
        self.derive();
        *self != before
    }

    fn derive(&mut self) {
        if self.whatsapp.is_none() {
            self.whatsapp.clone_from(&self.phone);
        }
        if self.timezone.is_none() {
            let country = self.country.clone().or_else(|| {
                self.phone
                    .as_deref()
                    .and_then(PhoneE164::country)
                    .map(str::to_owned)
            });
            self.timezone = country
                .as_deref()
                .and_then(country_timezone)
                .map(str::to_owned);
        }
    }

    /// Whether the record can be saved: a contact needs an email or a phone number.
    pub fn has_address(&self) -> bool {
        self.email.is_some() || self.phone.is_some()
    }

    /// Fills this record's gaps from `other` (a duplicate being merged into it).
    pub fn absorb(&mut self, other: ContactRecord) {
        let changes = ContactChanges {
            first_name: Some(other.first_name),
            last_name: Some(other.last_name),
            email: Some(other.email),
            phone: Some(other.phone),
            whatsapp: Some(other.whatsapp),
            company: Some(other.company),
            job_title: Some(other.job_title),
            website: Some(other.website),
            linkedin_url: Some(other.linkedin_url),
            city: Some(other.city),
            state: Some(other.state),
            country: Some(other.country),
            timezone: Some(other.timezone),
            tags: Some(other.tags),
            source: Some(other.source),
            contact_type: None,
            status: None,
            consent: [
                Some(other.consent.email),
                Some(other.consent.sms),
                Some(other.consent.whatsapp),
            ],
            custom: Some(other.custom),
            ai_intent_score: Some(other.ai_intent_score),
            ai_segment: Some(other.ai_segment),
            ai_notes: Some(other.ai_notes),
            ai_next_action: Some(other.ai_next_action),
            owner_id: Some(other.owner_id),
        };
        self.apply(&changes, Apply::FillEmpty);
        // A stop on either contact stops the merged one.
        if other.status != ContactStatus::Active && self.status == ContactStatus::Active {
            self.status = other.status;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn phones_become_e164_with_the_default_region() {
        assert_eq!(
            PhoneE164::parse("(415) 452-2671", Some("US"))
                .unwrap()
                .as_str(),
            "+14154522671"
        );
        assert_eq!(
            PhoneE164::parse("+44 20 7946 0958", None).unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(
            PhoneE164::parse("0044 20 7946 0958", Some("DE"))
                .unwrap()
                .as_str(),
            "+442079460958"
        );
        assert_eq!(
            PhoneE164::parse("098765 43210", Some("IN"))
                .unwrap()
                .as_str(),
            "+919876543210"
        );
        assert!(PhoneE164::parse("12345", Some("US")).is_err());
        assert!(PhoneE164::parse("call me", Some("US")).is_err());
        assert!(PhoneE164::parse("415 555 2671", None).is_err());
        assert_eq!(PhoneE164::country("+919876543210"), Some("IN"));
    }

    #[test]
    fn a_local_number_is_read_in_the_contacts_own_country_first() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let parse = |phone: &str, country: Option<&str>, org: Option<&str>| {
            let input = ContactInput {
                phone: Some(phone.into()),
                country: country.map(Into::into),
                ..Default::default()
            };
            ContactChanges::parse(input, org, now).map(|c| c.phone.flatten())
        };
        // No organization country: the row's own country decides.
        assert_eq!(
            parse("612 345 678", Some("ES"), None).unwrap().as_deref(),
            Some("+34612345678")
        );
        assert_eq!(
            parse("(520) 555-0142", Some("US"), None)
                .unwrap()
                .as_deref(),
            Some("+15205550142")
        );
        // The row's country wins over the organization's.
        assert_eq!(
            parse("612 345 678", Some("Spain"), Some("US"))
                .unwrap()
                .as_deref(),
            Some("+34612345678")
        );
        // Without either, a local number is still refused, by field.
        assert!(parse("612 345 678", None, None)
            .unwrap_err()
            .0
            .contains_key("phone"));
        // A number with its country code ignores both.
        assert_eq!(
            parse("+44 20 7946 0958", Some("ES"), Some("US"))
                .unwrap()
                .as_deref(),
            Some("+442079460958")
        );
    }

    #[test]
    fn whatsapp_and_timezone_are_derived() {
        let mut r = ContactRecord::new(ContactId::new());
        let c = ContactChanges {
            phone: Some(Some("+919876543210".into())),
            ..Default::default()
        };
        assert!(r.apply(&c, Apply::Set));
        assert_eq!(r.whatsapp.as_deref(), Some("+919876543210"));
        assert_eq!(r.timezone.as_deref(), Some("Asia/Kolkata"));
        let mut us = ContactRecord::new(ContactId::new());
        us.apply(
            &ContactChanges {
                phone: Some(Some("+14154522671".into())),
                ..Default::default()
            },
            Apply::Set,
        );
        assert_eq!(us.timezone, None, "the US has several zones: no guess");
    }

    #[test]
    fn fill_empty_keeps_values_and_overwrite_replaces_them() {
        let mut r = ContactRecord::new(ContactId::new());
        r.first_name = Some("Ada".into());
        r.tags = vec!["a".into()];
        let c = ContactChanges {
            first_name: Some(Some("Grace".into())),
            company: Some(Some("Navy".into())),
            tags: Some(vec!["b".into()]),
            ..Default::default()
        };
        let mut fill = r.clone();
        fill.apply(&c, Apply::FillEmpty);
        assert_eq!(
            (fill.first_name.as_deref(), fill.company.as_deref()),
            (Some("Ada"), Some("Navy"))
        );
        assert_eq!(fill.tags, vec!["a", "b"]);
        let mut over = r.clone();
        over.apply(&c, Apply::Overwrite);
        assert_eq!(over.first_name.as_deref(), Some("Grace"));
        let clear = ContactChanges {
            first_name: Some(None),
            ..Default::default()
        };
        let mut set = r.clone();
        set.apply(&clear, Apply::Set);
        assert_eq!(set.first_name, None);
        let mut keep = r.clone();
        assert!(
            !keep.apply(&clear, Apply::Overwrite),
            "overwrite never clears"
        );
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            parse_url("example.com").unwrap().as_deref(),
            Some("https://example.com")
        );
        assert!(parse_url("ftp://x.com").is_err());
        assert!(parse_url("not a url").is_err());
    }
}

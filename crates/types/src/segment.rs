//! Segments: named audiences. A static segment lists its members; a dynamic segment is a rule tree
//! evaluated when used. The API compiles rules to parameterised SQL; [`Rule::matches`] is the same
//! meaning in memory (the web app's live hints and the differential tests use it).

use crate::contact::{Channel, ConsentStatus, Contact, ContactStatus, ContactType};
use crate::ids::{ContactId, SegmentId, UserId};
use crate::string_enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

string_enum!(
    SegmentKind as "segment_kind" {
        /// Members are added and removed explicitly.
        Static = "static" / "Static",
        /// Members are the contacts matching the rules, now.
        Dynamic = "dynamic" / "Dynamic",
    }
);

string_enum!(
    /// A text field of a contact that rules can test.
    TextField as "text_field" {
        FirstName = "first_name" / "First name",
        LastName = "last_name" / "Last name",
        Email = "email" / "Email",
        Phone = "phone" / "Phone",
        Whatsapp = "whatsapp" / "WhatsApp",
        Company = "company" / "Company",
        JobTitle = "job_title" / "Job title",
        Website = "website" / "Website",
        City = "city" / "City",
        State = "state" / "State",
        Country = "country" / "Country",
        Timezone = "timezone" / "Time zone",
        Source = "source" / "Source",
        AiSegment = "ai_segment" / "AI segment",
    }
);

string_enum!(
    /// Comparisons on text; case-insensitive, and a missing value counts as empty.
    TextOp as "text_op" {
        Equals = "equals" / "is",
        NotEquals = "not_equals" / "is not",
        Contains = "contains" / "contains",
        NotContains = "not_contains" / "does not contain",
        StartsWith = "starts_with" / "starts with",
        IsEmpty = "is_empty" / "is empty",
        IsNotEmpty = "is_not_empty" / "is not empty",
    }
);

string_enum!(
    TagOp as "tag_op" {
        Has = "has" / "has tag",
        HasNot = "has_not" / "does not have tag",
    }
);

string_enum!(
    IsOp as "is_op" {
        Is = "is" / "is",
        IsNot = "is_not" / "is not",
    }
);

string_enum!(
    DateField as "date_field" {
        CreatedAt = "created_at" / "Created",
        UpdatedAt = "updated_at" / "Updated",
        LastContactedAt = "last_contacted_at" / "Last contacted",
        LastRepliedAt = "last_replied_at" / "Last replied",
    }
);

string_enum!(
    /// Comparisons on dates; a missing date matches only `is_empty`.
    DateOp as "date_op" {
        Before = "before" / "before",
        After = "after" / "after",
        WithinLastDays = "within_last_days" / "in the last … days",
        MoreThanDaysAgo = "more_than_days_ago" / "more than … days ago",
        IsEmpty = "is_empty" / "never",
        IsNotEmpty = "is_not_empty" / "at any time",
    }
);

string_enum!(
    ScoreOp as "score_op" {
        AtLeast = "at_least" / "at least",
        AtMost = "at_most" / "at most",
    }
);

/// A rule tree. Groups combine rules with all/any; leaves test one thing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Rule {
    /// Every rule holds (an empty group matches everyone).
    All {
        #[cfg_attr(feature = "server", schema(no_recursion))]
        rules: Vec<Rule>,
    },
    /// At least one rule holds (an empty group matches no one).
    Any {
        #[cfg_attr(feature = "server", schema(no_recursion))]
        rules: Vec<Rule>,
    },
    Text {
        field: TextField,
        op: TextOp,
        #[serde(default)]
        value: String,
    },
    /// A custom field, compared as text.
    Custom {
        key: String,
        op: TextOp,
        #[serde(default)]
        value: String,
    },
    Tag {
        op: TagOp,
        tag: String,
    },
    Status {
        op: IsOp,
        value: ContactStatus,
    },
    ContactType {
        op: IsOp,
        value: ContactType,
    },
    Consent {
        channel: Channel,
        op: IsOp,
        value: ConsentStatus,
    },
    Date {
        field: DateField,
        op: DateOp,
        /// For `before` / `after`.
        #[serde(
            default,
            with = "time::serde::rfc3339::option",
            skip_serializing_if = "Option::is_none"
        )]
        at: Option<OffsetDateTime>,
        /// For `within_last_days` / `more_than_days_ago`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        days: Option<u32>,
    },
    /// The AI intent score (0–100); contacts without one never match.
    Score {
        op: ScoreOp,
        value: i16,
    },
    /// Owned by this member; `null` for unassigned.
    Owner {
        owner_id: Option<UserId>,
    },
    /// A member of a static segment.
    InSegment {
        segment_id: SegmentId,
    },
    /// Every word appears in the name, email, phone or company.
    Search {
        q: String,
    },
}

/// Limits that keep a rule tree cheap to compile and to read.
pub const RULE_MAX_DEPTH: usize = 6;
pub const RULE_MAX_NODES: usize = 100;

impl Rule {
    /// Checks what serde cannot: required values present, sizes within limits. Returns a message
    /// naming the offending rule by its path (e.g. `rules[2].value`).
    pub fn check(&self) -> Result<(), (String, String)> {
        let mut nodes = 0;
        self.check_at("rules", 0, &mut nodes)
    }

    fn check_at(
        &self,
        path: &str,
        depth: usize,
        nodes: &mut usize,
    ) -> Result<(), (String, String)> {
        *nodes += 1;
        let fail = |field: &str, msg: &str| Err((format!("{path}.{field}"), msg.to_owned()));
        if *nodes > RULE_MAX_NODES {
            return Err((path.to_owned(), format!("at most {RULE_MAX_NODES} rules")));
        }
        if depth > RULE_MAX_DEPTH {
            return Err((
                path.to_owned(),
                format!("groups nest at most {RULE_MAX_DEPTH} deep"),
            ));
        }
        match self {
            Rule::All { rules } | Rule::Any { rules } => {
                for (i, r) in rules.iter().enumerate() {
                    r.check_at(&format!("{path}.rules[{i}]"), depth + 1, nodes)?;
                }
                Ok(())
            }
            Rule::Text { op, value, .. } | Rule::Custom { op, value, .. }
                if !matches!(op, TextOp::IsEmpty | TextOp::IsNotEmpty)
                    && value.trim().is_empty() =>
            {
                fail("value", "is required for this comparison")
            }
            Rule::Text { value, .. } | Rule::Custom { value, .. }
                if value.chars().count() > 200 =>
            {
                fail("value", "must be at most 200 characters")
            }
            Rule::Custom { key, .. } if key.trim().is_empty() || key.len() > 100 => {
                fail("key", "must be a custom field name (1–100 characters)")
            }
            Rule::Tag { tag, .. } => crate::contact::parse_tag(tag)
                .map(|_| ())
                .or_else(|e| fail("tag", &e)),
            Rule::Date {
                op: DateOp::Before | DateOp::After,
                at: None,
                ..
            } => fail("at", "is required for before/after"),
            Rule::Date {
                op: DateOp::WithinLastDays | DateOp::MoreThanDaysAgo,
                days,
                ..
            } if days.is_none_or(|d| d > 36_500) => {
                fail("days", "must be a number of days (0–36500)")
            }
            Rule::Score { value, .. } if !(0..=100).contains(value) => {
                fail("value", "must be between 0 and 100")
            }
            Rule::Search { q } if q.trim().is_empty() || q.chars().count() > 200 => {
                fail("q", "must be 1–200 characters")
            }
            _ => Ok(()),
        }
    }

    /// Whether `contact` matches, with `now` for relative dates and `in_segment` answering static
    /// membership. This is the reference meaning the SQL compiler must agree with.
    pub fn matches(
        &self,
        c: &Contact,
        now: OffsetDateTime,
        in_segment: &dyn Fn(SegmentId, ContactId) -> bool,
    ) -> bool {
        match self {
            Rule::All { rules } => rules.iter().all(|r| r.matches(c, now, in_segment)),
            Rule::Any { rules } => rules.iter().any(|r| r.matches(c, now, in_segment)),
            Rule::Text { field, op, value } => {
                text_matches(text_value(c, *field).unwrap_or(""), *op, value)
            }
            Rule::Custom { key, op, value } => {
                let v = match c.custom.get(key) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                text_matches(&v, *op, value)
            }
            Rule::Tag { op, tag } => {
                let has = c.tags.iter().any(|t| t == tag);
                (*op == TagOp::Has) == has
            }
            Rule::Status { op, value } => (*op == IsOp::Is) == (c.status == *value),
            Rule::ContactType { op, value } => (*op == IsOp::Is) == (c.contact_type == *value),
            Rule::Consent { channel, op, value } => {
                (*op == IsOp::Is) == (c.consent.channel(*channel).status == *value)
            }
            Rule::Date {
                field,
                op,
                at,
                days,
            } => {
                let v = date_value(c, *field);
                let cutoff = days.map(|d| now - time::Duration::days(i64::from(d)));
                match op {
                    DateOp::Before => matches!((v, at), (Some(v), Some(at)) if v < *at),
                    DateOp::After => matches!((v, at), (Some(v), Some(at)) if v > *at),
                    DateOp::WithinLastDays => matches!((v, cutoff), (Some(v), Some(x)) if v >= x),
                    DateOp::MoreThanDaysAgo => matches!((v, cutoff), (Some(v), Some(x)) if v < x),
                    DateOp::IsEmpty => v.is_none(),
                    DateOp::IsNotEmpty => v.is_some(),
                }
            }
            Rule::Score { op, value } => match (c.ai_intent_score, op) {
                (Some(s), ScoreOp::AtLeast) => s >= *value,
                (Some(s), ScoreOp::AtMost) => s <= *value,
                (None, _) => false,
            },
            Rule::Owner { owner_id } => c.owner_id == *owner_id,
            Rule::InSegment { segment_id } => in_segment(*segment_id, c.id),
            Rule::Search { q } => {
                let hay = search_text(c);
                search_terms(q).iter().all(|t| hay.contains(t.as_str()))
            }
        }
    }
}

fn text_matches(v: &str, op: TextOp, value: &str) -> bool {
    let v = v.to_lowercase();
    let x = value.to_lowercase();
    match op {
        TextOp::Equals => v == x,
        TextOp::NotEquals => v != x,
        TextOp::Contains => v.contains(&x),
        TextOp::NotContains => !v.contains(&x),
        TextOp::StartsWith => v.starts_with(&x),
        TextOp::IsEmpty => v.is_empty(),
        TextOp::IsNotEmpty => !v.is_empty(),
    }
}

/// The value of a text field of a contact.
pub fn text_value(c: &Contact, field: TextField) -> Option<&str> {
    match field {
        TextField::FirstName => c.first_name.as_deref(),
        TextField::LastName => c.last_name.as_deref(),
        TextField::Email => c.email.as_deref(),
        TextField::Phone => c.phone.as_deref(),
        TextField::Whatsapp => c.whatsapp.as_deref(),
        TextField::Company => c.company.as_deref(),
        TextField::JobTitle => c.job_title.as_deref(),
        TextField::Website => c.website.as_deref(),
        TextField::City => c.city.as_deref(),
        TextField::State => c.state.as_deref(),
        TextField::Country => c.country.as_deref(),
        TextField::Timezone => c.timezone.as_deref(),
        TextField::Source => c.source.as_deref(),
        TextField::AiSegment => c.ai_segment.as_deref(),
    }
}

fn date_value(c: &Contact, field: DateField) -> Option<OffsetDateTime> {
    match field {
        DateField::CreatedAt => Some(c.created_at),
        DateField::UpdatedAt => Some(c.updated_at),
        DateField::LastContactedAt => c.last_contacted_at,
        DateField::LastRepliedAt => c.last_replied_at,
    }
}

/// The text search looks in: name, email, phone, WhatsApp and company, lower case, space-joined
/// (the database keeps the same expression in `contacts.search_text`).
pub fn search_text(c: &Contact) -> String {
    [
        &c.first_name,
        &c.last_name,
        &c.email,
        &c.phone,
        &c.whatsapp,
        &c.company,
    ]
    .into_iter()
    .flatten()
    .map(|s| s.as_str())
    .collect::<Vec<_>>()
    .join(" ")
    .to_lowercase()
}

/// The words of a search, lower case. A word that looks like part of a phone number
/// (`(415) 555-01`) keeps only its digits, so it matches the stored E.164 form.
pub fn search_terms(q: &str) -> Vec<String> {
    let looks_like_phone = q.chars().any(|c| c.is_ascii_digit())
        && q.chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if looks_like_phone {
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        return vec![digits];
    }
    q.split_whitespace().map(str::to_lowercase).collect()
}

/// A segment with its size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Segment {
    pub id: SegmentId,
    pub name: String,
    pub description: Option<String>,
    pub kind: SegmentKind,
    /// The rules of a dynamic segment.
    pub rules: Option<Rule>,
    /// Contacts in the segment now.
    pub member_count: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new segment. Dynamic segments need `rules`; static ones must not have them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SegmentInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub kind: SegmentKind,
    #[serde(default)]
    pub rules: Option<Rule>,
}

/// A partial update of a segment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SegmentPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// For dynamic segments only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Rule>,
}

/// Rules to try before saving: how many contacts match, and a few of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PreviewRequest {
    pub rules: Rule,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SegmentPreview {
    pub count: i64,
    /// Up to 10 matching contacts, newest first.
    pub sample: Vec<Contact>,
}

/// Contacts to add to or remove from a static segment: by ids or by a filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MembersRequest {
    pub selection: crate::contact::Selection,
}

/// How many memberships changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MembersResult {
    pub changed: i64,
    pub member_count: i64,
}

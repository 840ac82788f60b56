//! Contact filters and segments as rules: a filter from a query string or a body becomes the same
//! `Rule` tree a dynamic segment stores, so one compiler (`db::rules`) serves both.

use aura_types::{
    parse_country, parse_optional_text, parse_tag, split_list, ContactFilter, ContactStatus,
    ContactType, DateField, DateOp, FieldErrors, IsOp, Rule, SegmentInput, SegmentKind,
    SegmentPatch, TagOp, TextField, TextOp, UserId, NAME_MAX_CHARS,
};
use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime, Time};

/// Parses `YYYY-MM-DD` (midnight UTC; `end_of_day` gives the next midnight) or RFC 3339.
fn parse_date(input: &str, end_of_day: bool) -> Result<OffsetDateTime, &'static str> {
    let s = input.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = Date::parse(s, format).map_err(|_| "must be a date like 2026-01-31")?;
    let day = if end_of_day {
        day.next_day().unwrap_or(day)
    } else {
        day
    };
    Ok(day.with_time(Time::MIDNIGHT).assume_utc())
}

fn parse_bool(input: &str) -> Result<bool, &'static str> {
    match input.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("must be true or false"),
    }
}

fn tags_rule(e: &mut FieldErrors, field: &str, input: &Option<String>, op: TagOp) -> Vec<Rule> {
    let Some(list) = input else { return Vec::new() };
    let mut out = Vec::new();
    for t in split_list(list) {
        if let Some(tag) = e.check(field, parse_tag(t)) {
            out.push(Rule::Tag { op, tag });
        }
    }
    out
}

/// The rule a filter stands for (without its `segment_id`, which needs the database).
pub fn filter_rule(f: &ContactFilter) -> Result<Rule, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut all = Vec::new();
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        if q.chars().count() > 200 {
            e.add("q", "must be at most 200 characters");
        }
        all.push(Rule::Search { q: q.to_owned() });
    }
    let any = tags_rule(&mut e, "tags_any", &f.tags_any, TagOp::Has);
    if !any.is_empty() {
        all.push(Rule::Any { rules: any });
    }
    all.extend(tags_rule(&mut e, "tags_all", &f.tags_all, TagOp::Has));
    all.extend(tags_rule(&mut e, "tags_none", &f.tags_none, TagOp::HasNot));
    let mut one_of = |field: &str, input: &Option<String>, parse: &dyn Fn(&str) -> Option<Rule>| {
        let Some(list) = input else { return };
        let mut rules = Vec::new();
        for v in split_list(list) {
            match parse(v) {
                Some(r) => rules.push(r),
                None => e.add(field, format!("`{v}` is not a valid value")),
            }
        }
        if !rules.is_empty() {
            all.push(Rule::Any { rules });
        }
    };
    one_of("status", &f.status, &|v| {
        ContactStatus::parse(v).map(|value| Rule::Status {
            op: IsOp::Is,
            value,
        })
    });
    one_of("contact_type", &f.contact_type, &|v| {
        ContactType::parse(v).map(|value| Rule::ContactType {
            op: IsOp::Is,
            value,
        })
    });
    one_of("country", &f.country, &|v| {
        parse_country(v).ok().map(|c| Rule::Text {
            field: TextField::Country,
            op: TextOp::Equals,
            value: c.to_owned(),
        })
    });
    if let Some(source) = f.source.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        all.push(Rule::Text {
            field: TextField::Source,
            op: TextOp::Equals,
            value: source.to_owned(),
        });
    }
    if let Some(owner) = f
        .owner_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if owner == "none" {
            all.push(Rule::Owner { owner_id: None });
        } else if let Some(id) = e.check(
            "owner_id",
            owner
                .parse::<UserId>()
                .map_err(|_| "must be a member's id or `none`"),
        ) {
            all.push(Rule::Owner { owner_id: Some(id) });
        }
    }
    for (field, input, date, op, end) in [
        (
            "created_from",
            &f.created_from,
            DateField::CreatedAt,
            DateOp::After,
            false,
        ),
        (
            "created_to",
            &f.created_to,
            DateField::CreatedAt,
            DateOp::Before,
            true,
        ),
        (
            "replied_from",
            &f.replied_from,
            DateField::LastRepliedAt,
            DateOp::After,
            false,
        ),
        (
            "replied_to",
            &f.replied_to,
            DateField::LastRepliedAt,
            DateOp::Before,
            true,
        ),
    ] {
        if let Some(v) = input.as_deref().filter(|v| !v.trim().is_empty()) {
            if let Some(at) = e.check(field, parse_date(v, end)) {
                // `after` is exclusive; a "from" bound includes its own instant.
                let at = if op == DateOp::After {
                    at - time::Duration::nanoseconds(1)
                } else {
                    at
                };
                all.push(Rule::Date {
                    field: date,
                    op,
                    at: Some(at),
                    days: None,
                });
            }
        }
    }
    for (name, input, field) in [
        ("has_email", &f.has_email, TextField::Email),
        ("has_phone", &f.has_phone, TextField::Phone),
    ] {
        if let Some(v) = input.as_deref().filter(|v| !v.trim().is_empty()) {
            if let Some(b) = e.check(name, parse_bool(v)) {
                let op = if b {
                    TextOp::IsNotEmpty
                } else {
                    TextOp::IsEmpty
                };
                all.push(Rule::Text {
                    field,
                    op,
                    value: String::new(),
                });
            }
        }
    }
    if let Some(custom) = f.custom.as_deref().filter(|v| !v.trim().is_empty()) {
        match custom.split_once(':') {
            Some((key, value)) if !key.trim().is_empty() => all.push(Rule::Custom {
                key: key.trim().to_owned(),
                op: if value.trim().is_empty() {
                    TextOp::IsEmpty
                } else {
                    TextOp::Equals
                },
                value: value.trim().to_owned(),
            }),
            _ => e.add("custom", "must be written key:value"),
        }
    }
    let rule = Rule::All { rules: all };
    if let Err((field, message)) = rule.check() {
        e.add(&field, message);
    }
    e.finish(|| Some(rule))
}

/// A parsed new segment.
pub struct NewSegment {
    pub name: String,
    pub description: Option<String>,
    pub kind: SegmentKind,
    pub rules: Option<Rule>,
}

fn check_rules(e: &mut FieldErrors, rules: &Rule) {
    if let Err((field, message)) = rules.check() {
        e.add(&field, message);
    }
}

impl TryFrom<SegmentInput> for NewSegment {
    type Error = FieldErrors;
    fn try_from(s: SegmentInput) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.check("name", aura_types::parse_text(&s.name, NAME_MAX_CHARS));
        let description = s
            .description
            .and_then(|d| e.check("description", parse_optional_text(&d, 1000)))
            .flatten();
        match (&s.kind, &s.rules) {
            (SegmentKind::Dynamic, None) => e.add("rules", "a dynamic segment needs rules"),
            (SegmentKind::Static, Some(_)) => {
                e.add("rules", "a static segment has members, not rules")
            }
            (_, Some(r)) => check_rules(&mut e, r),
            _ => {}
        }
        e.finish(|| {
            Some(NewSegment {
                name: name?,
                description,
                kind: s.kind,
                rules: s.rules,
            })
        })
    }
}

/// A parsed segment update.
pub struct SegmentChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub rules: Option<Rule>,
}

impl TryFrom<SegmentPatch> for SegmentChanges {
    type Error = FieldErrors;
    fn try_from(s: SegmentPatch) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = s
            .name
            .and_then(|n| e.check("name", aura_types::parse_text(&n, NAME_MAX_CHARS)));
        let description = s
            .description
            .and_then(|d| e.check("description", parse_optional_text(&d, 1000)));
        if let Some(r) = &s.rules {
            check_rules(&mut e, r);
        }
        e.finish(|| {
            Some(SegmentChanges {
                name,
                description,
                rules: s.rules,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn filters_become_rules_and_bad_values_name_their_field() {
        let f = ContactFilter {
            tags_any: Some("vip, buyer".into()),
            status: Some("active".into()),
            has_email: Some("true".into()),
            ..Default::default()
        };
        let Rule::All { rules } = filter_rule(&f).unwrap() else {
            panic!()
        };
        assert_eq!(rules.len(), 3);
        let bad = ContactFilter {
            status: Some("sleeping".into()),
            created_from: Some("yesterday".into()),
            custom: Some("nocolon".into()),
            has_phone: Some("maybe".into()),
            ..Default::default()
        };
        let errs = filter_rule(&bad).unwrap_err();
        for field in ["status", "created_from", "custom", "has_phone"] {
            assert!(errs.0.contains_key(field), "{field} in {errs:?}");
        }
    }
}

//! Campaign and step inputs parsed at the edge and applied onto what is stored. Templates are
//! parsed with the shared renderer, so a bad merge tag is refused with its line and column.

use crate::domain::org::TimeZone;
use crate::domain::{optional_text, required_text};
use aura_types::template;
use aura_types::{
    Campaign, CampaignInput, CampaignStatus, Channel, FieldErrors, SendWindow, Step, StepId,
    StepInput, Variant,
};
use time::Time;

pub const NAME_MAX: usize = 120;
pub const BRIEF_MAX: usize = 4000;
pub const TEMPLATE_MAX: usize = 20_000;
/// The longest delay between steps: 90 days.
pub const DELAY_MAX_MINUTES: i32 = 90 * 24 * 60;

/// A campaign's stored fields after parsing.
#[derive(Debug, Clone)]
pub struct CampaignFields {
    pub name: String,
    pub description: String,
    pub icp: String,
    pub offer: String,
    pub goal: String,
    pub timezone: String,
    pub send_days: Vec<i16>,
    pub send_start: Time,
    pub send_end: Time,
    pub daily_new_leads: i32,
    pub stop_on_reply: bool,
    pub track_opens: bool,
    pub track_clicks: bool,
    pub approval: aura_types::ApprovalMode,
}

fn parse_time(s: &str) -> Result<Time, &'static str> {
    let format = time::macros::format_description!("[hour]:[minute]");
    Time::parse(s.trim(), format).map_err(|_| "must be a time like 09:00")
}

pub fn format_time(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn window(e: &mut FieldErrors, w: &SendWindow) -> Option<(Vec<i16>, Time, Time)> {
    let mut days: Vec<i16> = Vec::new();
    for d in &w.days {
        if !(1..=7).contains(d) {
            e.add("window.days", "days are 1 (Monday) to 7 (Sunday)");
            return None;
        }
        if !days.contains(&i16::from(*d)) {
            days.push(i16::from(*d));
        }
    }
    days.sort_unstable();
    if days.is_empty() {
        e.add("window.days", "choose at least one day");
    }
    let start = e.check("window.start", parse_time(&w.start));
    let end = e.check("window.end", parse_time(&w.end));
    match (start, end) {
        (Some(s), Some(t)) if s >= t => {
            e.add("window.end", "must be after the start");
            None
        }
        (Some(s), Some(t)) if !days.is_empty() => Some((days, s, t)),
        _ => None,
    }
}

pub fn campaign_fields(
    current: Option<&Campaign>,
    input: &CampaignInput,
    org_timezone: &str,
) -> Result<CampaignFields, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = required_text(
        &mut e,
        "name",
        &input.name,
        current.map(|c| c.name.as_str()),
        NAME_MAX,
    );
    let description = optional_text(
        &mut e,
        "description",
        &input.description,
        current.map(|c| c.description.as_str()),
        BRIEF_MAX,
    );
    let icp = optional_text(
        &mut e,
        "icp",
        &input.icp,
        current.map(|c| c.icp.as_str()),
        BRIEF_MAX,
    );
    let offer = optional_text(
        &mut e,
        "offer",
        &input.offer,
        current.map(|c| c.offer.as_str()),
        BRIEF_MAX,
    );
    let goal = optional_text(
        &mut e,
        "goal",
        &input.goal,
        current.map(|c| c.goal.as_str()),
        BRIEF_MAX,
    );
    let timezone = match &input.timezone {
        Some(tz) => e
            .check("timezone", TimeZone::parse(tz))
            .map(|t| t.as_str().to_owned()),
        None => Some(
            current
                .map_or(org_timezone, |c| c.timezone.as_str())
                .to_owned(),
        ),
    };
    let default_window = SendWindow::default();
    let w = input
        .window
        .as_ref()
        .or(current.map(|c| &c.window))
        .unwrap_or(&default_window);
    let window = window(&mut e, w);
    let daily_new_leads = input
        .daily_new_leads
        .or(current.map(|c| c.daily_new_leads))
        .unwrap_or(50);
    if !(1..=100_000).contains(&daily_new_leads) {
        e.add("daily_new_leads", "must be between 1 and 100000");
    }
    let flag = |i: Option<bool>, c: Option<bool>, d: bool| i.or(c).unwrap_or(d);
    e.finish(|| {
        let (send_days, send_start, send_end) = window?;
        Some(CampaignFields {
            name: name?,
            description: description?,
            icp: icp?,
            offer: offer?,
            goal: goal?,
            timezone: timezone?,
            send_days,
            send_start,
            send_end,
            daily_new_leads,
            stop_on_reply: flag(input.stop_on_reply, current.map(|c| c.stop_on_reply), true),
            track_opens: flag(input.track_opens, current.map(|c| c.track_opens), false),
            track_clicks: flag(input.track_clicks, current.map(|c| c.track_clicks), false),
            approval: input
                .approval
                .or(current.map(|c| c.approval))
                .unwrap_or_default(),
        })
    })
}

/// Checks a template, naming the field and the position of the first problem.
fn check_template(e: &mut FieldErrors, field: &str, text: &str) {
    if text.chars().count() > TEMPLATE_MAX {
        e.add(field, format!("must be at most {TEMPLATE_MAX} characters"));
    } else if let Err(err) = template::parse(text) {
        e.add(field, err.to_string());
    }
}

/// The step `input` makes of `current` (or of a new step at `position`).
pub fn step(current: Option<&Step>, input: &StepInput, position: i32) -> Result<Step, FieldErrors> {
    let mut e = FieldErrors::new();
    let channel = match (input.channel, current) {
        (Some(c), _) => Some(c),
        (None, Some(s)) => Some(s.channel),
        (None, None) => {
            e.add("channel", "is required: email, sms or whatsapp");
            None
        }
    };
    let delay = input
        .delay_minutes
        .or(current.map(|s| s.delay_minutes))
        .unwrap_or(0);
    if !(0..=DELAY_MAX_MINUTES).contains(&delay) {
        e.add("delay_minutes", "must be between 0 and 129600 (90 days)");
    }
    let pick = |i: &Option<String>, c: Option<&String>| {
        i.clone().or_else(|| c.cloned()).unwrap_or_default()
    };
    let subject = pick(&input.subject, current.map(|s| &s.subject))
        .trim()
        .to_owned();
    let body = pick(&input.body, current.map(|s| &s.body));
    let ai_instructions = pick(&input.ai_instructions, current.map(|s| &s.ai_instructions));
    if ai_instructions.chars().count() > BRIEF_MAX {
        e.add(
            "ai_instructions",
            format!("must be at most {BRIEF_MAX} characters"),
        );
    }
    if subject.chars().count() > 500 {
        e.add("subject", "must be at most 500 characters");
    } else {
        check_template(&mut e, "subject", &subject);
    }
    check_template(&mut e, "body", &body);
    let text_limit = |e: &mut FieldErrors, field: &str, body: &str| {
        if channel.is_some_and(|c| c != Channel::Email)
            && body.chars().count() > aura_types::template::SMS_MAX_CHARS
        {
            e.add(
                field,
                "must be at most 1,600 characters (the most one text may hold)",
            );
        }
    };
    text_limit(&mut e, "body", &body);
    let weight = input.weight.or(current.map(|s| s.weight)).unwrap_or(1);
    if !(0..=1000).contains(&weight) {
        e.add("weight", "must be between 0 and 1000");
    }
    let variants = input
        .variants
        .clone()
        .or(current.map(|s| s.variants.clone()))
        .unwrap_or_default();
    if variants.len() > 5 {
        e.add("variants", "at most 5 variants besides the main one");
    }
    for (i, v) in variants.iter().enumerate() {
        if v.label.trim().is_empty() || v.label.chars().count() > 20 {
            e.add(
                &format!("variants[{i}].label"),
                "must be 1 to 20 characters",
            );
        }
        if !(0..=1000).contains(&v.weight) {
            e.add(
                &format!("variants[{i}].weight"),
                "must be between 0 and 1000",
            );
        }
        check_template(&mut e, &format!("variants[{i}].subject"), &v.subject);
        check_template(&mut e, &format!("variants[{i}].body"), &v.body);
        text_limit(&mut e, &format!("variants[{i}].body"), &v.body);
    }
    let whatsapp_template = match &input.whatsapp_template {
        Some(Some(t)) if channel == Some(Channel::Whatsapp) => {
            let mut content = t.clone();
            for (name, value) in &mut content.variables {
                *value = value.trim().to_owned();
                check_template(
                    &mut e,
                    &format!("whatsapp_template.variables.{name}"),
                    value,
                );
            }
            crate::domain::phone::check_content(&mut e, "whatsapp_template", &content);
            Some(content)
        }
        Some(Some(_)) => {
            e.add("whatsapp_template", "only a WhatsApp step sends a template");
            None
        }
        Some(None) => None,
        None => current
            .and_then(|s| s.whatsapp_template.clone())
            .filter(|_| channel == Some(Channel::Whatsapp)),
    };
    let metadata = input
        .metadata
        .clone()
        .or(current.map(|s| s.metadata.clone()))
        .unwrap_or_default();
    e.finish(|| {
        let channel = channel?;
        Some(Step {
            id: current.map_or_else(StepId::new, |s| s.id),
            position: current.map_or(position, |s| s.position),
            channel,
            delay_minutes: delay,
            persona_id: input
                .persona_id
                .unwrap_or(current.and_then(|s| s.persona_id)),
            ai_instructions,
            personalize: input
                .personalize
                .or(current.map(|s| s.personalize))
                .unwrap_or(false),
            // Only email has a subject.
            subject: if channel == Channel::Email {
                subject
            } else {
                String::new()
            },
            reply_subject: channel == Channel::Email
                && input
                    .reply_subject
                    .or(current.map(|s| s.reply_subject))
                    .unwrap_or(false),
            body,
            weight,
            variants: variants
                .into_iter()
                .map(|v| Variant {
                    label: v.label.trim().to_owned(),
                    subject: if channel == Channel::Email {
                        v.subject
                    } else {
                        String::new()
                    },
                    ..v
                })
                .collect(),
            whatsapp_template,
            metadata,
        })
    })
}

/// Why a campaign cannot be launched yet, if it cannot.
pub fn launch_problem(steps: &[Step]) -> Option<String> {
    if steps.is_empty() {
        return Some("Add at least one step before launching.".into());
    }
    for s in steps {
        if s.body.trim().is_empty() && !s.personalize {
            return Some(format!(
                "Step {} has no message; write one or let AI personalise it.",
                s.position
            ));
        }
        if s.channel == Channel::Email && s.subject.trim().is_empty() && !s.personalize {
            return Some(format!(
                "Step {} is an email without a subject.",
                s.position
            ));
        }
    }
    None
}

/// The merge tags of `steps` that resolve to nothing for some of `leads` (no value, no fallback).
/// A template that does not parse was refused when saved, so it cannot occur here.
pub fn tag_problems(
    steps: &[Step],
    leads: &[aura_types::Contact],
    org_name: &str,
) -> Vec<aura_types::TagProblem> {
    use std::collections::BTreeMap;
    let sender = template::Sender {
        name: "Sender".into(),
        email: "sender@example.com".into(),
        org_name: org_name.into(),
    };
    let values: Vec<(String, template::MergeValues)> = leads
        .iter()
        .map(|c| {
            (
                c.full_name.clone(),
                template::MergeValues::for_contact(c, &sender),
            )
        })
        .collect();
    let mut out = Vec::new();
    for s in steps {
        if s.personalize {
            continue;
        }
        let mut fields: Vec<(String, &str)> = vec![
            ("subject".into(), s.subject.as_str()),
            ("body".into(), s.body.as_str()),
        ];
        for (i, v) in s.variants.iter().enumerate() {
            fields.push((format!("variants[{i}].subject"), v.subject.as_str()));
            fields.push((format!("variants[{i}].body"), v.body.as_str()));
        }
        for (field, text) in fields {
            let Ok(t) = template::parse(text) else {
                continue;
            };
            let mut missing: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for (name, v) in &values {
                for tag in t.render(v, 0).missing {
                    missing.entry(tag).or_default().push(name);
                }
            }
            for (tag, who) in missing {
                out.push(aura_types::TagProblem {
                    step: s.position,
                    field: field.clone(),
                    tag,
                    leads: who.len() as i64,
                    examples: who.iter().take(5).map(|n| n.to_string()).collect(),
                });
            }
        }
    }
    out
}

/// One line about the first problem, for a refused launch.
pub fn describe_problems(problems: &[aura_types::TagProblem]) -> Option<String> {
    let p = problems.first()?;
    let more = if problems.len() > 1 {
        format!(" ({} problems in all)", problems.len())
    } else {
        String::new()
    };
    Some(format!(
        "Step {} uses {{{{{}}}}} in its {} with no fallback, and {} enrolled lead{} ha{} no value ({}). Add a fallback like {{{{{} | \"…\"}}}} or fill the field in{}.",
        p.step,
        p.tag,
        p.field,
        p.leads,
        if p.leads == 1 { "" } else { "s" },
        if p.leads == 1 { "s" } else { "ve" },
        p.examples.join(", "),
        p.tag,
        more
    ))
}
/// The most steps a campaign (or a template) has.
pub const MAX_STEPS: usize = 20;

/// What a change to a campaign touches, for the one rule on when a campaign may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Its settings and steps: only while it is a draft or paused.
    Design,
    /// Who it goes to: until it is completed or archived.
    Leads,
    /// Its prepared messages: until it is completed or archived.
    Messages,
}

/// Why a campaign in `status` may not take `change` now, in words for the person; `None` when it
/// may.
pub fn refusal(status: CampaignStatus, change: Change) -> Option<String> {
    let label = status.label().to_lowercase();
    match change {
        Change::Design if status.is_editable() => None,
        Change::Design if status == CampaignStatus::Active => {
            Some("The campaign is active: pause it before editing.".into())
        }
        Change::Design => Some(format!("A {label} campaign cannot be edited.")),
        Change::Leads | Change::Messages if status.is_open() => None,
        Change::Leads => Some("Leads cannot join a completed or archived campaign.".into()),
        Change::Messages => Some(format!(
            "The campaign is {label}: its messages can no longer change."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_when_a_campaign_may_change() {
        use CampaignStatus::*;
        for s in [Draft, Active, Paused, Completed, Archived] {
            assert_eq!(
                refusal(s, Change::Design).is_none(),
                s.is_editable(),
                "{s:?}"
            );
            for c in [Change::Leads, Change::Messages] {
                assert_eq!(
                    refusal(s, c).is_none(),
                    !matches!(s, Completed | Archived),
                    "{s:?}"
                );
            }
        }
        assert_eq!(
            refusal(Active, Change::Design).as_deref(),
            Some("The campaign is active: pause it before editing.")
        );
    }
}

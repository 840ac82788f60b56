//! What one lead gets at one step: the step's variant for the lead, rendered with the lead's
//! values (the same seed as the builder's preview, so the preview equals the send), and what is
//! wrong with it, if anything.

use aura_types::ai::MessageDraft;
use aura_types::template::{self, message_seed, text_to_html, MergeValues};
use aura_types::{Channel, Contact, Step};

/// A written message, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub variant: String,
    pub subject: Option<String>,
    pub text: String,
    pub problems: Vec<String>,
}

/// The label of messages AI wrote for one lead (the step's A/B variants do not apply to them).
pub const AI_VARIANT: &str = "AI";

/// Why the lead cannot get a message on `channel`, if it cannot.
pub fn address_problem(channel: Channel, contact: &Contact) -> Option<String> {
    let (has, what) = match channel {
        Channel::Email => (contact.email.is_some(), "No email address"),
        Channel::Sms => (contact.phone.is_some(), "No phone number for SMS"),
        Channel::Whatsapp => (contact.whatsapp.is_some(), "No WhatsApp number"),
    };
    (!has).then(|| what.to_string())
}

/// The message of `step` for `contact`, from the step's template.
pub fn render(step: &Step, contact: &Contact, values: &MergeValues) -> Written {
    let contact_id = contact.id.to_string();
    let v = step.variant_for(&contact_id);
    let seed = message_seed(&contact_id, &step.id.to_string(), v.label);
    let mut problems: Vec<String> = address_problem(step.channel, contact).into_iter().collect();
    let mut fill = |text: &str, what: &str| match template::parse(text) {
        Ok(t) => {
            let r = t.render(values, seed);
            for tag in r.missing {
                problems.push(format!(
                    "{{{{{tag}}}}} in the {what} has no value for this lead and no fallback"
                ));
            }
            r.text
        }
        Err(e) => {
            problems.push(format!("The {what} has a merge-tag problem at {e}"));
            text.to_string()
        }
    };
    let subject = (step.channel == Channel::Email).then(|| fill(v.subject, "subject"));
    let text = fill(v.body, "message");
    finish(v.label.to_string(), subject, text, problems)
}

/// The lead's values of the WhatsApp template the step sends when the lead's window is closed
/// (each variable's merge tags filled in), and what is missing; `None` without a template.
pub fn template_values(
    step: &Step,
    contact: &Contact,
    values: &MergeValues,
) -> Option<(std::collections::BTreeMap<String, String>, Vec<String>)> {
    let content = step
        .whatsapp_template
        .as_ref()
        .filter(|_| step.channel == Channel::Whatsapp)?;
    let seed = message_seed(&contact.id.to_string(), &step.id.to_string(), "template");
    let mut problems = Vec::new();
    let filled = content
        .variables
        .iter()
        .map(|(name, text)| {
            let value = match template::parse(text) {
                Ok(t) => {
                    let r = t.render(values, seed);
                    for tag in r.missing {
                        problems.push(format!(
                            "{{{{{tag}}}}} in the template's variable {name} has no value for this lead and no fallback"
                        ));
                    }
                    r.text.trim().to_owned()
                }
                Err(e) => {
                    problems.push(format!("The template's variable {name} has a merge-tag problem at {e}"));
                    text.clone()
                }
            };
            (name.clone(), value)
        })
        .collect();
    Some((filled, problems))
}

/// The message AI wrote for the lead (its merge tags already filled in and checked).
pub fn from_draft(step: &Step, contact: &Contact, draft: MessageDraft) -> Written {
    let problems = address_problem(step.channel, contact).into_iter().collect();
    let subject = (step.channel == Channel::Email).then(|| draft.subject.unwrap_or_default());
    finish(AI_VARIANT.into(), subject, draft.body, problems)
}

/// The message AI could not write: empty, with the reason as its problem.
pub fn failed(step: &Step, reason: &str) -> Written {
    Written {
        variant: AI_VARIANT.into(),
        subject: (step.channel == Channel::Email).then(String::new),
        text: String::new(),
        problems: vec![format!("AI could not write this message: {reason}")],
    }
}

/// The HTML part of a message: an email's text rendered as HTML (made where it is shown and
/// sent, never stored; none for an empty text or another channel).
pub fn html(channel: Channel, text: &str) -> Option<String> {
    (channel == Channel::Email && !text.is_empty()).then(|| text_to_html(text))
}

/// Trims and checks that nothing required is empty.
fn finish(
    variant: String,
    subject: Option<String>,
    text: String,
    mut problems: Vec<String>,
) -> Written {
    let subject = subject.map(|s| s.trim().to_string());
    let text = text.trim().to_string();
    if subject.as_deref() == Some("") {
        problems.push("The email has no subject".into());
    }
    if text.is_empty() {
        problems.push("The message is empty".into());
    }
    Written {
        variant,
        subject,
        text,
        problems,
    }
}

/// The longest text a person may give a message.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// A person's edit of a prepared message, checked: the text, and the subject of an email.
#[derive(Debug, PartialEq, Eq)]
pub struct Edited {
    pub subject: Option<String>,
    pub text: String,
}

/// Why an edit is refused.
#[derive(Debug)]
pub enum EditRefused {
    /// The message is no longer in review (queued, sent…): the words say so.
    Decided(String),
    /// The edit itself is wrong, by field.
    Invalid(aura_types::FieldErrors),
}

/// Applies `edit` (absent fields unchanged) to a message in review.
pub fn edit(
    current: &aura_types::Message,
    edit: aura_types::MessageEdit,
) -> Result<Edited, EditRefused> {
    use aura_types::ai::MAX_SUBJECT_CHARS;
    if !current.status.in_review() {
        return Err(EditRefused::Decided(format!(
            "This message is {}: it can no longer be edited.",
            current.status.label().to_lowercase()
        )));
    }
    let mut e = aura_types::FieldErrors::new();
    let text = edit
        .text
        .unwrap_or_else(|| current.text.clone())
        .trim()
        .to_string();
    if text.is_empty() {
        e.add("text", "is required");
    } else if text.chars().count() > MAX_TEXT_CHARS {
        e.add(
            "text",
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        );
    } else if current.channel != Channel::Email
        && text.chars().count() > aura_types::template::SMS_MAX_CHARS
    {
        e.add(
            "text",
            "must be at most 1,600 characters (the most one text may hold)",
        );
    }
    let subject = match current.channel {
        Channel::Email => {
            let s = edit
                .subject
                .or_else(|| current.subject.clone())
                .unwrap_or_default()
                .trim()
                .to_string();
            if s.is_empty() {
                e.add("subject", "is required for an email");
            } else if s.chars().count() > MAX_SUBJECT_CHARS {
                e.add(
                    "subject",
                    format!("must be at most {MAX_SUBJECT_CHARS} characters"),
                );
            }
            Some(s)
        }
        _ => None,
    };
    if !e.is_empty() {
        return Err(EditRefused::Invalid(e));
    }
    Ok(Edited { subject, text })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aura_types::template::Sender;
    use aura_types::{ContactId, StepId, Variant};

    fn contact(first: Option<&str>, email: Option<&str>) -> Contact {
        let mut c: Contact = serde_json::from_value(serde_json::json!({
            "id": ContactId(uuid::Uuid::from_u128(42)),
            "full_name": "Ana Lima",
            "tags": [], "custom": {}, "consent": {},
            "contact_type": "lead", "status": "active",
            "last_contacted_at": null, "last_replied_at": null,
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z"
        }))
        .expect("a minimal contact");
        c.first_name = first.map(Into::into);
        c.email = email.map(Into::into);
        c
    }

    fn step(channel: Channel, subject: &str, body: &str) -> Step {
        Step {
            id: StepId(uuid::Uuid::from_u128(9)),
            position: 1,
            channel,
            delay_minutes: 0,
            persona_id: None,
            ai_instructions: String::new(),
            personalize: false,
            subject: subject.into(),
            reply_subject: false,
            body: body.into(),
            weight: 1,
            variants: Vec::new(),
            whatsapp_template: None,
            metadata: Default::default(),
        }
    }

    fn values(c: &Contact) -> MergeValues {
        MergeValues::for_contact(c, &Sender::default())
    }

    #[test]
    fn renders_subject_text_and_html_with_the_previews_seed() {
        let c = contact(Some("Ana"), Some("ana@example.com"));
        let s = step(
            Channel::Email,
            "{Hi|Hello} {{first_name}}",
            "{Hi|Hello} {{first_name}},\n\nSee <this>.",
        );
        let w = render(&s, &c, &values(&c));
        assert!(w.problems.is_empty(), "{:?}", w.problems);
        assert_eq!(w.variant, "A");
        // The preview renders the same template with message_seed(contact, step, "A").
        let seed = message_seed(&c.id.to_string(), &s.id.to_string(), "A");
        let expected = template::parse(&s.body)
            .unwrap()
            .render(&values(&c), seed)
            .text;
        assert_eq!(w.text, expected.trim());
        assert!(w.subject.as_deref().unwrap().ends_with(" Ana"));
        assert!(html(Channel::Email, &w.text)
            .unwrap()
            .contains("See &lt;this&gt;."));
    }

    #[test]
    fn names_missing_tags_missing_addresses_and_empty_parts() {
        let c = contact(None, None);
        let w = render(
            &step(Channel::Email, "", "Hi {{first_name}}"),
            &c,
            &values(&c),
        );
        assert_eq!(
            w.problems,
            vec![
                "No email address".to_string(),
                "{{first_name}} in the message has no value for this lead and no fallback".into(),
                "The email has no subject".into(),
            ]
        );
        let w = render(&step(Channel::Sms, "", "  "), &c, &values(&c));
        assert_eq!(w.subject, None);
        assert_eq!(html(Channel::Sms, &w.text), None);
        assert!(w.problems.contains(&"The message is empty".to_string()));
        assert!(w.problems.contains(&"No phone number for SMS".to_string()));
    }

    #[test]
    fn the_lead_gets_its_weighted_variant() {
        let c = contact(Some("Ana"), Some("ana@example.com"));
        let mut s = step(Channel::Whatsapp, "", "A text");
        s.weight = 0;
        s.variants = vec![Variant {
            label: "B".into(),
            subject: String::new(),
            body: "B text for {{first_name}}".into(),
            weight: 1,
        }];
        let w = render(&s, &c, &values(&c));
        assert_eq!(
            (w.variant.as_str(), w.text.as_str()),
            ("B", "B text for Ana")
        );
        assert!(w.problems.contains(&"No WhatsApp number".to_string()));
    }
}

//! Whether a provider's answer is usable: a non-empty body, a subject of at most 150 characters
//! (email only), merge tags the template renderer accepts — and, for a message to one lead, tags
//! that resolve for that lead. The error text is what the corrective retry tells the model.

use aura_types::ai::{
    AiOperation, AiTask, Classification, DecidedBy, EndpointResult, MessageDraft, MAX_SUBJECT_CHARS,
};
use aura_types::template::{self, seed_of, MergeValues};
use aura_types::Channel;

/// A usable answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    Draft(MessageDraft),
    Replies(Vec<String>),
    Classification(Classification),
}

/// Renders `text` for a lead (its tags must resolve), or checks it as a template.
fn tags(text: &str, what: &str, lead: Option<&MergeValues>, seed: u64) -> Result<String, String> {
    let t =
        template::parse(text).map_err(|e| format!("the {what} has a merge-tag problem at {e}"))?;
    match lead {
        None => Ok(text.to_string()),
        Some(values) => {
            let r = t.render(values, seed);
            if r.missing.is_empty() {
                Ok(r.text)
            } else {
                Err(format!(
                    "the {what} uses {} with no value for this lead and no fallback",
                    r.missing
                        .iter()
                        .map(|m| format!("{{{{{m}}}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
    }
}

pub fn check(
    task: &AiTask,
    channel: Channel,
    r: EndpointResult,
    lead: Option<&MergeValues>,
) -> Result<Output, String> {
    let seed = seed_of(&[
        task.operation.as_str(),
        lead.and_then(|l| l.get("email")).unwrap_or(""),
    ]);
    match task.operation {
        AiOperation::GenerateStepTemplate
        | AiOperation::GenerateMessageForLead
        | AiOperation::ImproveMessage => {
            let body = r.body.map(|b| b.trim().to_string()).unwrap_or_default();
            if body.is_empty() {
                return Err("the answer has no \"body\"".into());
            }
            let body = tags(&body, "body", lead, seed)?;
            let subject = match channel {
                Channel::Email => {
                    let subject = r
                        .subject
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty());
                    let needs =
                        task.operation != AiOperation::ImproveMessage || task.subject.is_some();
                    match subject {
                        None if needs => return Err("an email needs a \"subject\"".into()),
                        None => None,
                        Some(s) if s.chars().count() > MAX_SUBJECT_CHARS => {
                            return Err(format!(
                                "the subject has {} characters; it must have at most {MAX_SUBJECT_CHARS}",
                                s.chars().count()
                            ))
                        }
                        Some(s) => Some(tags(&s, "subject", lead, seed)?),
                    }
                }
                Channel::Sms | Channel::Whatsapp => None,
            };
            Ok(Output::Draft(MessageDraft { subject, body }))
        }
        AiOperation::SuggestReplies => {
            let replies: Vec<String> = r
                .replies
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .take(3)
                .collect();
            if replies.is_empty() {
                return Err("the answer has no \"replies\"".into());
            }
            let replies = replies
                .iter()
                .map(|s| tags(s, "reply", lead.or(Some(&MergeValues::default())), seed))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Output::Replies(replies))
        }
        AiOperation::ClassifyReply => {
            let label = r.label.ok_or("the answer has no valid \"label\"")?;
            Ok(Output::Classification(Classification {
                label,
                confidence: r.confidence.unwrap_or(0.5).clamp(0.0, 1.0),
                reason: r.reason.unwrap_or_default(),
                decided_by: DecidedBy::Model,
            }))
        }
        AiOperation::TestConnection => {
            let text = r.body.or(r.reason).unwrap_or_default();
            Ok(Output::Draft(MessageDraft {
                subject: None,
                body: text,
            }))
        }
    }
}

//! Tolerant reading of model output: the JSON object may come inside a code fence or with prose
//! around it, and some models name fields differently.

use aura_types::ai::{EndpointResult, ReplyLabel};
use serde_json::Value;

/// The first JSON object in `text`.
pub fn extract_json(text: &str) -> Option<Value> {
    let t = text.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    // Try every `{` as a start and its balanced `}` as the end, outside strings.
    for (start, _) in t.match_indices('{') {
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for (i, ch) in t[start..].char_indices() {
            if in_string {
                match ch {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match ch {
                '"' => in_string = true,
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        if let Ok(v @ Value::Object(_)) =
                            serde_json::from_str::<Value>(&t[start..=start + i])
                        {
                            return Some(v);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    None
}

fn text_of(v: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| v.get(*n)).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

/// Reads a model's text as an [`EndpointResult`].
pub fn result_from_text(text: &str) -> Result<EndpointResult, String> {
    let v = extract_json(text).ok_or("the answer contained no JSON object")?;
    Ok(result_from_value(&v))
}

pub fn result_from_value(v: &Value) -> EndpointResult {
    let replies = ["replies", "suggestions"]
        .iter()
        .find_map(|n| v.get(*n))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| match r {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(_) => text_of(r, &["body", "text", "reply"]),
                    _ => None,
                })
                .collect()
        });
    let label = text_of(v, &["label", "category"])
        .and_then(|l| ReplyLabel::parse(l.trim().to_lowercase().replace([' ', '-'], "_").as_str()));
    let confidence = v
        .get("confidence")
        .and_then(|c| {
            c.as_f64()
                .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .map(|c| c as f32);
    EndpointResult {
        subject: text_of(v, &["subject", "subject_line"]),
        body: text_of(v, &["body", "message", "text", "content"]),
        replies,
        label,
        confidence,
        reason: text_of(v, &["reason", "explanation"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_json_in_fences_and_prose() {
        let fenced = "```json\n{\"subject\": \"Hi\", \"body\": \"Text with } brace\"}\n```";
        assert_eq!(
            result_from_text(fenced).expect("json").body.as_deref(),
            Some("Text with } brace")
        );
        let prose = "Sure! Here is your email:\n{\"subject\":\"A\",\"body\":\"B\"}\nLet me know {if} you need more.";
        let r = result_from_text(prose).expect("json");
        assert_eq!(
            (r.subject.as_deref(), r.body.as_deref()),
            (Some("A"), Some("B"))
        );
        assert!(result_from_text("just words").is_err());
        let labels = result_from_text("{\"label\": \"Out of office\", \"confidence\": \"0.8\"}")
            .expect("json");
        assert_eq!(labels.label, Some(ReplyLabel::OutOfOffice));
        assert_eq!(labels.confidence, Some(0.8));
    }
}

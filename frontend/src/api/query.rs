//! The one place a query string is built: every value percent-encoded, absent values left out.

use serde::Serialize;

/// A query string under construction: `Query::new().set("limit", 50).with(&filter).path("/contacts")`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value`.
    pub fn set(mut self, key: &str, value: impl ToString) -> Self {
        self.0.push((key.to_owned(), value.to_string()));
        self
    }

    /// Adds `key=value` when there is a value.
    pub fn opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// Adds each field of a flat filter (strings, numbers and booleans; absent and empty ones are
    /// left out), under its serialized name.
    pub fn with<T: Serialize>(mut self, filter: &T) -> Self {
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(filter) {
            for (key, value) in fields {
                let text = match value {
                    serde_json::Value::String(s) if !s.is_empty() => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => continue,
                };
                self.0.push((key, text));
            }
        }
        self
    }

    /// `path`, followed by the query string when there is one.
    pub fn path(&self, path: &str) -> String {
        if self.0.is_empty() {
            return path.to_owned();
        }
        let pairs: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{path}?{}", pairs.join("&"))
    }
}

/// Percent-encodes a value for a query string or a `data:` URL (everything but the unreserved
/// characters of RFC 3986).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

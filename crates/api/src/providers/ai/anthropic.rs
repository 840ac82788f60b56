//! Anthropic's messages API (`POST {base}/v1/messages`, `x-api-key`, `anthropic-version`).

use super::net::AiHttp;
use super::openai::endpoint;
use super::{prompt, AiProvider, Answer, ProviderError};
use async_trait::async_trait;
use aura_types::ai::{AiTask, ProviderKind};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use url::Url;

pub const DEFAULT_VERSION: &str = "2023-06-01";

pub struct Anthropic {
    pub http: AiHttp,
    pub base_url: Url,
    pub model: String,
    pub key: Option<SecretString>,
    pub version: String,
    pub temperature: Option<f32>,
}

#[async_trait]
impl AiProvider for Anthropic {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }
    fn model(&self) -> &str {
        &self.model
    }
    async fn run(&self, task: &AiTask) -> Result<Answer, ProviderError> {
        let url = endpoint(&self.base_url, "v1/messages")?;
        let mut body = json!({
            "model": self.model,
            "max_tokens": 1024,
            "system": prompt::system(task),
            "messages": [{"role": "user", "content": prompt::user(task)}],
        });
        if let Some(t) = self.temperature {
            body["temperature"] = json!(t.min(1.0));
        }
        let (bytes, attempts) = self
            .http
            .send(&url, |c| {
                let r = c
                    .post(url.clone())
                    .header("anthropic-version", &self.version)
                    .json(&body);
                match &self.key {
                    Some(k) => r.header("x-api-key", k.expose_secret()),
                    None => r,
                }
            })
            .await?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|_| ProviderError::Malformed("the response was not JSON".into()))?;
        let text: String = v
            .get("content")
            .and_then(Value::as_array)
            .map(|blocks| {
                blocks
                    .iter()
                    .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("")
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ProviderError::Malformed("the response had no text content block".into())
            })?;
        let tokens = |p: &str| v.pointer(p).and_then(Value::as_i64).unwrap_or(0) as i32;
        Ok(Answer::from_text(
            &text,
            tokens("/usage/input_tokens"),
            tokens("/usage/output_tokens"),
            v.get("model")
                .and_then(Value::as_str)
                .unwrap_or(&self.model)
                .to_string(),
            attempts,
        ))
    }
}

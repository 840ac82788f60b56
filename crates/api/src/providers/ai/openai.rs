//! OpenAI-compatible chat completions (`POST {base}/chat/completions`): OpenAI, DeepSeek, Groq,
//! OpenRouter, Ollama, vLLM, LM Studio. The key, when there is one, is a bearer token.

use super::net::AiHttp;
use super::{prompt, AiProvider, Answer, ProviderError};
use async_trait::async_trait;
use aura_types::ai::{AiTask, ProviderKind};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use url::Url;

pub struct OpenAi {
    pub http: AiHttp,
    pub base_url: Url,
    pub model: String,
    pub key: Option<SecretString>,
    pub temperature: Option<f32>,
}

/// `base` joined with `path`, keeping the base's own path (`…/v1` + `chat/completions`).
pub fn endpoint(base: &Url, path: &str) -> Result<Url, ProviderError> {
    let mut b = base.clone();
    if !b.path().ends_with('/') {
        let p = format!("{}/", b.path());
        b.set_path(&p);
    }
    b.join(path)
        .map_err(|e| ProviderError::Refused(format!("cannot build the request URL: {e}")))
}

#[async_trait]
impl AiProvider for OpenAi {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Openai
    }
    fn model(&self) -> &str {
        &self.model
    }
    async fn run(&self, task: &AiTask) -> Result<Answer, ProviderError> {
        let url = endpoint(&self.base_url, "chat/completions")?;
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": prompt::system(task)},
                {"role": "user", "content": prompt::user(task)},
            ],
        });
        if let Some(t) = self.temperature {
            body["temperature"] = json!(t);
        }
        let (bytes, attempts) = self
            .http
            .send(&url, |c| {
                let r = c.post(url.clone()).json(&body);
                match &self.key {
                    Some(k) => r.bearer_auth(k.expose_secret()),
                    None => r,
                }
            })
            .await?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|_| ProviderError::Malformed("the response was not JSON".into()))?;
        let text = v
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ProviderError::Malformed("the response had no choices[0].message.content".into())
            })?;
        let tokens = |p: &str| v.pointer(p).and_then(Value::as_i64).unwrap_or(0) as i32;
        Ok(Answer::from_text(
            text,
            tokens("/usage/prompt_tokens"),
            tokens("/usage/completion_tokens"),
            v.get("model")
                .and_then(Value::as_str)
                .unwrap_or(&self.model)
                .to_string(),
            attempts,
        ))
    }
}

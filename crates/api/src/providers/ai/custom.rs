//! The organization's own endpoint (a custom GPT behind a proxy, an n8n flow…): Aura POSTs the
//! [`AiTask`] as JSON and expects an [`aura_types::ai::EndpointResult`]. Each request is signed:
//! `X-Aura-Timestamp: <unix seconds>` and `X-Aura-Signature: sha256=<hex>`, the HMAC-SHA256 of
//! `"<timestamp>.<body>"` with the signing secret, so the receiver can check origin and freshness.

use super::net::AiHttp;
use super::{AiProvider, Answer, ProviderError};
use async_trait::async_trait;
use aura_types::ai::{AiTask, ProviderKind};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use url::Url;

pub const SIGNATURE_HEADER: &str = "X-Aura-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Aura-Timestamp";

pub struct Custom {
    pub http: AiHttp,
    pub url: Url,
    pub model: String,
    pub secret: Option<SecretString>,
}

/// `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[async_trait]
impl AiProvider for Custom {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Custom
    }
    fn model(&self) -> &str {
        &self.model
    }
    async fn run(&self, task: &AiTask) -> Result<Answer, ProviderError> {
        let body = serde_json::to_vec(task).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let (bytes, attempts) = self
            .http
            .send(&self.url, |c| {
                let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
                let mut r = c
                    .post(self.url.clone())
                    .header("content-type", "application/json")
                    .header(TIMESTAMP_HEADER, timestamp.to_string())
                    .body(body.clone());
                if let Some(s) = &self.secret {
                    r = r.header(
                        SIGNATURE_HEADER,
                        signature(s.expose_secret(), timestamp, &body),
                    );
                }
                r
            })
            .await?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(Answer::from_text(&text, 0, 0, self.model.clone(), attempts))
    }
}

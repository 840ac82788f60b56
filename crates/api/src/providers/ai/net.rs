//! Outbound HTTP for AI providers, through the one network policy (`providers::http`): a URL
//! is checked when saved, and again at connection time; every attempt has a timeout. Retries: 429 and 5xx (Anthropic's 529 included), timeouts and connection failures,
//! with exponential backoff, honouring `Retry-After`.

use super::ProviderError;
use crate::providers::http;
use crate::providers::policy::NetPolicy;
use reqwest::{Client, RequestBuilder, StatusCode};
use std::time::Duration;
use url::Url;

/// Parses and checks a provider URL: http(s) only, no credentials in it, and a host the network
/// policy allows — whether written as an IP (in any of its decimal, octal or hex forms, which the
/// URL standard normalises) or as a name resolving to one.
pub async fn check_url(raw: &str, network: &NetPolicy) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain a user name or password; put the key in its own field".into(),
        );
    }
    let host = url.host_str().ok_or("has no host")?;
    let port = url.port_or_known_default().unwrap_or(443);
    network
        .check_host(host, port)
        .await
        .map_err(|e| e.to_string())?;
    Ok(url)
}

/// How hard to try.
#[derive(Clone, Debug)]
pub struct Policy {
    pub network: NetPolicy,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub max_retry_after: Duration,
    pub first_backoff: Duration,
}

/// The HTTP client for AI providers, shared by the process.
#[derive(Clone)]
pub struct AiHttp {
    pub client: Client,
    pub policy: Policy,
}

impl AiHttp {
    pub fn new(policy: Policy) -> anyhow::Result<Self> {
        let client = http::client(&policy.network, policy.timeout.min(Duration::from_secs(10)))?;
        Ok(Self { client, policy })
    }

    /// Sends the request built by `make` (once per attempt) to `url`, retrying what is worth
    /// retrying. Returns the 2xx body, or why there is none.
    pub async fn send(
        &self,
        url: &Url,
        make: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<(Vec<u8>, i16), ProviderError> {
        // Names are checked by the resolver (which does not know the port: an allowance on one
        // port is checked here); literal addresses never reach it.
        http::check(url, &self.policy.network)
            .await
            .map_err(|e| ProviderError::Refused(e.to_string()))?;
        let mut attempt: i16 = 0;
        loop {
            attempt += 1;
            let last = attempt as u32 >= self.policy.max_attempts.max(1);
            let backoff = self.policy.first_backoff * 2u32.saturating_pow(attempt as u32 - 1);
            let outcome = make(&self.client).timeout(self.policy.timeout).send().await;
            let response = match outcome {
                Ok(r) => r,
                Err(e) if e.is_timeout() => {
                    if last {
                        return Err(ProviderError::Timeout {
                            secs: self.policy.timeout.as_secs(),
                            attempts: attempt,
                        });
                    }
                    tokio::time::sleep(backoff).await;
                    continue;
                }
                Err(e) if http::refused(&e).is_some() => {
                    let why = http::refused(&e).map(|r| r.to_string()).unwrap_or_default();
                    return Err(ProviderError::Refused(why));
                }
                Err(e) => {
                    if last || !e.is_connect() {
                        return Err(ProviderError::Unreachable(http::describe(&e)));
                    }
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            };
            let status = response.status();
            let retry_after = http::retry_after(response.headers());
            let body = match http::read_body(response, MAX_BODY).await {
                Ok(b) => b,
                Err(e) if e.is_timeout() => {
                    if last {
                        return Err(ProviderError::Timeout {
                            secs: self.policy.timeout.as_secs(),
                            attempts: attempt,
                        });
                    }
                    continue;
                }
                Err(e) => return Err(ProviderError::Unreachable(http::describe(&e))),
            };
            if status.is_success() {
                return Ok((body, attempt));
            }
            let message = error_message(&body, status);
            let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            if retryable && !last {
                let wait = retry_after.unwrap_or(backoff);
                if wait <= self.policy.max_retry_after {
                    tracing::info!(
                        status = status.as_u16(),
                        wait_ms = wait.as_millis() as u64,
                        "AI provider asked to retry"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            return Err(match status.as_u16() {
                401 | 403 => ProviderError::Unauthorized { status: status.as_u16(), message },
                429 => ProviderError::RateLimited { attempts: attempt, message },
                s if s >= 500 => ProviderError::Unavailable { status: s, attempts: attempt, message },
                s if (300..400).contains(&s) => ProviderError::Rejected {
                    status: s,
                    message: "the provider answered with a redirect, which Aura does not follow; use the final address".into(),
                },
                s => ProviderError::Rejected { status: s, message },
            });
        }
    }
}

const MAX_BODY: usize = 4 * 1024 * 1024;

/// The vendor's error message (`{"error": {"message": …}}` for OpenAI and Anthropic alike), or
/// the start of the body.
fn error_message(body: &[u8], status: StatusCode) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("error"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
    });
    from_json.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let t: String = text.chars().take(200).collect();
        if t.trim().is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            t
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn internal_addresses_are_refused_in_every_spelling() {
        let strict = NetPolicy::default();
        let open = NetPolicy::parse("", true).unwrap();
        for url in [
            "http://127.0.0.1:11434/v1",
            "http://localhost:8080/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://0/",
            "http://100.64.0.1/",
        ] {
            assert!(
                check_url(url, &strict).await.is_err(),
                "{url} must be refused"
            );
            assert!(
                check_url(url, &open).await.is_ok(),
                "{url} is allowed when private addresses are"
            );
        }
        let ollama = NetPolicy::parse("127.0.0.1", false).unwrap();
        assert!(check_url("http://127.0.0.1:11434/v1", &ollama)
            .await
            .is_ok());
        assert!(check_url("http://10.1.2.3/", &ollama).await.is_err());
    }

    #[tokio::test]
    async fn other_urls_are_checked_for_shape() {
        let open = NetPolicy::parse("", true).unwrap();
        let strict = NetPolicy::default();
        assert!(check_url("ftp://example.com", &open).await.is_err());
        assert!(check_url("https://user:pw@example.com", &open)
            .await
            .is_err());
        assert!(check_url("not a url", &open).await.is_err());
        assert!(check_url("https://8.8.8.8/v1", &strict).await.is_ok());
        assert!(check_url("https://[2606:4700::1111]/", &strict)
            .await
            .is_ok());
    }
}

//! Outbound HTTP for AI providers, through the one network policy (`providers::policy`): a URL
//! is checked when saved, and names are resolved by a resolver that applies the policy at
//! connection time (no DNS rebinding); redirects are never followed, and every attempt has a
//! timeout. Retries: 429 and 5xx (Anthropic's 529 included), timeouts and connection failures,
//! with exponential backoff, honouring `Retry-After`.

use super::ProviderError;
use crate::providers::policy::{NetPolicy, Refusal};
use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder, StatusCode};
use std::sync::Arc;
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

/// Resolves names for the HTTP client through the policy, at connection time.
struct GuardedResolver {
    network: NetPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let network = self.network.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = network.resolve(&name, 0).await.map_err(|e| {
                Box::new(RefusedByPolicy(e)) as Box<dyn std::error::Error + Send + Sync>
            })?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The resolver's refusal, recognised again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RefusedByPolicy(Refusal);

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
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // No proxy from the environment: a proxy would resolve the provider's name itself,
            // out of the network policy's reach.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                network: policy.network.clone(),
            }))
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("Aura/", env!("CARGO_PKG_VERSION")))
            .build()?;
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
        check_literal(url, &self.policy.network)?;
        if let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) {
            self.policy
                .network
                .check_host(host, port)
                .await
                .map_err(|e| ProviderError::Refused(e.to_string()))?;
        }
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
                Err(e) if refused_by_resolver(&e).is_some() => {
                    let why = refused_by_resolver(&e)
                        .map(|r| r.to_string())
                        .unwrap_or_default();
                    return Err(ProviderError::Refused(why));
                }
                Err(e) => {
                    if last || !e.is_connect() {
                        return Err(ProviderError::Unreachable(describe(&e)));
                    }
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            };
            let status = response.status();
            let retry_after = retry_after(response.headers());
            let body = match read_body(response).await {
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
                Err(e) => return Err(ProviderError::Unreachable(describe(&e))),
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

fn check_literal(url: &Url, network: &NetPolicy) -> Result<(), ProviderError> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
        _ => return Ok(()),
    };
    if !network.allows_ip(ip, url.port_or_known_default()) {
        return Err(ProviderError::Refused(
            Refusal::Internal(ip.to_string()).to_string(),
        ));
    }
    Ok(())
}

/// The policy's refusal inside a request error, if that is why it failed.
fn refused_by_resolver(e: &reqwest::Error) -> Option<&Refusal> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<RefusedByPolicy>() {
            return Some(&r.0);
        }
        source = s.source();
    }
    None
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

const MAX_BODY: usize = 4 * 1024 * 1024;

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Retry-After` in seconds (or OpenAI's `retry-after-ms`).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Some(Duration::from_millis(ms.max(0.0) as u64));
    }
    let secs = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()?;
    Some(Duration::from_millis((secs.max(0.0) * 1000.0) as u64))
}

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

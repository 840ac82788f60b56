//! Outbound HTTP for AI providers: addresses are checked against SSRF (private, loopback,
//! link-local, metadata and other special addresses are refused unless the operator allows
//! private addresses), names are resolved by a resolver that applies the same check at connection
//! time (no DNS rebinding), redirects are never followed, and every attempt has a timeout.
//! Retries: 429 and 5xx (Anthropic's 529 included), timeouts and connection failures, with
//! exponential backoff, honouring `Retry-After`.

use super::ProviderError;
use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder, StatusCode};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// Whether `ip` is an address outbound AI calls must not reach by default.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local (incl. fd00:ec2::254)
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 of an IPv4 address
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0)
            // IPv4-compatible
        }
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local() // 169.254/16, including the cloud metadata address
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // carrier-grade NAT 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240
}

/// Parses and checks a provider URL without connecting: http(s) only, no credentials in it, and —
/// unless `allow_private` — no internal address, whether written as an IP (in any of its
/// decimal, octal or hex forms, which the URL standard normalises) or as a name resolving to one.
pub async fn check_url(raw: &str, allow_private: bool) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain a user name or password; put the key in its own field".into(),
        );
    }
    let host = url.host().ok_or("has no host")?.to_owned();
    if allow_private {
        return Ok(url);
    }
    let internal = "points to a private, loopback or link-local address; the server operator can allow this with AURA_ALLOW_PRIVATE_AI_URLS=true (e.g. for a local Ollama)";
    match host {
        Host::Ipv4(ip) if is_internal(IpAddr::V4(ip)) => Err(internal.into()),
        Host::Ipv6(ip) if is_internal(IpAddr::V6(ip)) => Err(internal.into()),
        Host::Domain(name) => {
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs = resolve(&name, port)
                .await
                .map_err(|e| format!("cannot resolve {name}: {e}"))?;
            if addrs.iter().any(|a| is_internal(a.ip())) {
                Err(internal.into())
            } else {
                Ok(url)
            }
        }
        _ => Ok(url),
    }
}

async fn resolve(name: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    let name = name.trim_end_matches('.');
    Ok(tokio::net::lookup_host((name, port)).await?.collect())
}

/// Resolves names for the HTTP client and refuses internal addresses at connection time.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve(&name, 0).await?;
            if !allow_private && addrs.iter().any(|a| is_internal(a.ip())) {
                return Err(format!("{name} resolves to an internal address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// How hard to try.
#[derive(Clone, Debug)]
pub struct Policy {
    pub allow_private: bool,
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
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: policy.allow_private,
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
        // Names are checked by the resolver; literal addresses never reach it.
        check_literal(url, self.policy.allow_private)?;
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
                Err(e) if is_refused_by_resolver(&e) => {
                    return Err(ProviderError::Refused(
                        "the host resolves to a private, loopback or link-local address".into(),
                    ))
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

fn check_literal(url: &Url, allow_private: bool) -> Result<(), ProviderError> {
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    if !allow_private && is_internal(ip) {
        return Err(ProviderError::Refused(format!(
            "{ip} is a private, loopback or link-local address"
        )));
    }
    Ok(())
}

fn is_refused_by_resolver(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if s.to_string().contains("resolves to an internal address") {
            return true;
        }
        source = s.source();
    }
    false
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
    use super::*;

    #[tokio::test]
    async fn internal_addresses_are_refused_in_every_spelling() {
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
                check_url(url, false).await.is_err(),
                "{url} must be refused"
            );
            assert!(
                check_url(url, true).await.is_ok(),
                "{url} is allowed when private addresses are"
            );
        }
    }

    #[tokio::test]
    async fn other_urls_are_checked_for_shape() {
        assert!(check_url("ftp://example.com", true).await.is_err());
        assert!(check_url("https://user:pw@example.com", true)
            .await
            .is_err());
        assert!(check_url("not a url", true).await.is_err());
        assert!(check_url("https://8.8.8.8/v1", false).await.is_ok());
        assert!(check_url("https://[2606:4700::1111]/", false).await.is_ok());
    }
}

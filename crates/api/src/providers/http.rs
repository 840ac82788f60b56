//! Outbound HTTP through the one network policy (`providers::policy`), for every vendor Aura
//! calls over HTTP (AI providers, Twilio): names are resolved by a resolver that applies the
//! policy at connection time (no DNS rebinding), literal addresses are checked before any
//! connection, no proxy from the environment is used (it would resolve names out of the policy's
//! reach) and redirects are never followed.

use crate::providers::policy::{NetPolicy, Refusal};
use reqwest::header::HeaderMap;
use reqwest::Client;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

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

/// An HTTP client whose every connection goes through `network`.
pub fn client(network: &NetPolicy, connect_timeout: Duration) -> reqwest::Result<Client> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver {
            network: network.clone(),
        }))
        .connect_timeout(connect_timeout)
        .user_agent(concat!("Aura/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Checks `url`'s host before a request: a literal address against the policy (literal
/// addresses never reach the resolver), and a name with its port (the resolver does not know
/// the port: an allowance on one port is checked here).
pub async fn check(url: &Url, network: &NetPolicy) -> Result<(), Refusal> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = ip {
        if !network.allows_ip(ip, url.port_or_known_default()) {
            return Err(Refusal::Internal(ip.to_string()));
        }
    }
    if let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) {
        network.check_host(host, port).await?;
    }
    Ok(())
}

/// The policy's refusal inside a request error, if that is why it failed.
pub fn refused(e: &reqwest::Error) -> Option<&Refusal> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<RefusedByPolicy>() {
            return Some(&r.0);
        }
        source = s.source();
    }
    None
}

/// A request error with its causes, on one line.
pub fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// The response's body, at most `max` bytes of it.
pub async fn read_body(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max {
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Retry-After` in seconds (or OpenAI's `retry-after-ms`).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
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

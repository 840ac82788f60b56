//! Who is calling: the one answer to "what is the client's address?" for the log-in throttle,
//! the access log and everything else that needs it.
//!
//! The socket's peer is the client unless it is one of the administrator's trusted proxies
//! (`AURA_TRUSTED_PROXIES`, empty by default). Only then are `X-Forwarded-For` (or, where a
//! proxy sends none, `Forwarded`) believed, and the client is the right-most hop that is not a
//! trusted proxy: every hop to its left could have been written by the client itself.

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The proxies whose forwarding headers are believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads addresses and CIDRs separated by commas or white space.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|i| !i.is_empty())
            .map(|item| {
                let bare = item.trim_start_matches('[').trim_end_matches(']');
                bare.parse::<IpNet>()
                    .map(|n| n.trunc())
                    .or_else(|_| bare.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("{item:?} is neither an IP address nor a CIDR such as 10.0.0.0/8")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// An IPv4-mapped IPv6 peer (a dual-stack listener) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        ip => ip,
    }
}

/// The client's address for a request from `peer` with `headers`.
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = canonical(peer?);
    if !trusted.trusts(peer) {
        return Some(peer);
    }
    let hops = forwarded_hops(headers);
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if trusted.trusts(ip) => continue,
            Some(ip) => return Some(canonical(ip)),
            // A hop that is not an address ("unknown", an obfuscated name): nothing to its left
            // can be believed, and the proxy that wrote it is the last address known.
            None => return Some(peer),
        }
    }
    // Every hop was a trusted proxy (or there were none): the left-most one is the client.
    hops.first()
        .and_then(|h| parse_hop(h))
        .map(canonical)
        .or(Some(peer))
}

/// The addresses a request passed through, left (client side) to right, from every
/// `X-Forwarded-For` header; from `Forwarded`'s `for=` only when there is none.
fn forwarded_hops(headers: &HeaderMap) -> Vec<String> {
    let xff: Vec<String> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    headers
        .get_all("forwarded")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| v.trim().trim_matches('"').to_owned())
            })
        })
        .collect()
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The client's address of `req`, by the application's trusted proxies.
pub fn of_request(req: &actix_web::HttpRequest) -> Option<IpAddr> {
    // Registered beside the application state, so this module needs nothing above it.
    let trusted = req.app_data::<TrustedProxies>();
    client_ip(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        trusted.unwrap_or(&TrustedProxies::default()),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_are_ignored_unless_the_peer_is_trusted() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "6.6.6.6")]);
        assert_eq!(
            client_ip(Some(ip("9.9.9.9")), &h, &none),
            Some(ip("9.9.9.9"))
        );
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            client_ip(Some(ip("9.9.9.9")), &h, &proxies),
            Some(ip("9.9.9.9"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("6.6.6.6"))
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        // The client wrote "1.1.1.1" itself; the proxy appended what it saw.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 7.7.7.7, 192.168.1.1")]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("7.7.7.7"))
        );
        // Several header lines read as one list.
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "7.7.7.7:4711"),
        ]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("7.7.7.7"))
        );
        let h = headers(&[(
            "forwarded",
            "for=1.1.1.1, for=\"[2001:db8::7]:4711\";proto=https",
        )]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("2001:db8::7"))
        );
        // Garbage from the proxy: the proxy is the last address known.
        let h = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("10.0.0.2"))
        );
        // No header: the proxy itself.
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &HeaderMap::new(), &proxies),
            Some(ip("10.0.0.2"))
        );
        assert!(TrustedProxies::parse("proxy.local").is_err());
    }
}

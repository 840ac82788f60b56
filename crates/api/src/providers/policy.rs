//! The one outbound network policy: whether Aura may open a connection to a host that an
//! organization chose (an SMTP or IMAP server, an AI provider, a webhook, Twilio's base URL).
//!
//! Refused by default: loopback, RFC 1918, link-local (with the cloud metadata address
//! 169.254.169.254), carrier-grade NAT 100.64/10, unique-local fc00::/7 (with fd00:ec2::254),
//! unspecified, multicast, broadcast and the other special ranges, whether the address is written
//! in the usual form, as one of the decimal, octal or hexadecimal IPv4 spellings, or inside an
//! IPv6 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4). A host is checked when it is saved
//! ([`NetPolicy::check_host`], so the field can be named) and again at every connection, after
//! DNS resolution ([`NetPolicy::resolve`]): a name that later resolves to an internal address (DNS
//! rebinding) is refused before any connection attempt.
//!
//! Only the instance administrator makes exceptions, with `AURA_OUTBOUND_ALLOW` (hosts and
//! CIDRs: a local Ollama, the docker-compose mail catcher) or `AURA_ALLOW_PRIVATE_AI_URLS=true`
//! (every private address). Tenants never can.

use crate::domain::address::{bare_host, is_host_name, is_internal, parse_ip};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Why a host may not be reached.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0} is a private, loopback, link-local or otherwise internal address, which Aura does not connect to; the server's administrator can allow it with AURA_OUTBOUND_ALLOW")]
    Internal(String),
    #[error("{host} resolves to {ip}, a private, loopback, link-local or otherwise internal address, which Aura does not connect to; the server's administrator can allow it with AURA_OUTBOUND_ALLOW")]
    ResolvesInternal { host: String, ip: IpAddr },
    #[error("cannot resolve {host}: {reason}")]
    Unresolvable { host: String, reason: String },
    #[error("{0} is on the internet, and this server makes no connections to the internet (AURA_OUTBOUND_PUBLIC=false)")]
    Offline(String),
}

/// What may be reached beyond the public internet.
#[derive(Clone, Debug, Default)]
pub struct NetPolicy {
    /// Every internal address is allowed (`AURA_ALLOW_PRIVATE_AI_URLS=true`, for AI only).
    allow_all_private: bool,
    /// No public address is allowed either, only what is listed (`AURA_OUTBOUND_PUBLIC=false`:
    /// an installation, or a test run, that must not reach the internet).
    deny_public: bool,
    /// Host names allowed whatever they resolve to (lower case, without a final dot), on one
    /// port or on any.
    hosts: Vec<(String, Option<u16>)>,
    /// Address ranges allowed, on one port or on any.
    nets: Vec<(IpNet, Option<u16>)>,
}

/// The longest a name may take to resolve: a tenant's name server that never answers must not
/// hold a request (or the sender) for the system resolver's whole timeout.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

impl NetPolicy {
    /// Reads the administrator's list, separated by commas or white space: host names, addresses
    /// and CIDRs, each optionally on one port (`127.0.0.1:11434`, `mailpit:1025`,
    /// `[fd00::5]:8080`; a CIDR allows every port of its range).
    pub fn parse(list: &str, allow_all_private: bool) -> Result<Self, String> {
        let mut policy = Self {
            allow_all_private,
            ..Self::default()
        };
        for item in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|i| !i.is_empty())
        {
            let bad = || {
                format!(
                    "{item:?} is neither a host name, an IP address nor a CIDR such as 10.0.0.0/8 (optionally with :port)"
                )
            };
            if let Ok(net) = item.parse::<IpNet>() {
                policy.nets.push((net.trunc(), None));
                continue;
            }
            let (host, port) = split_port(item).ok_or_else(bad)?;
            if let Some(ip) = parse_ip(host) {
                policy.nets.push((IpNet::from(ip), port));
            } else if is_host_name(host) {
                policy
                    .hosts
                    .push((host.trim_end_matches('.').to_ascii_lowercase(), port));
            } else {
                return Err(bad());
            }
        }
        Ok(policy)
    }

    /// The same policy, refusing public addresses too (only what is listed may be reached).
    pub fn without_internet(mut self, deny_public: bool) -> Self {
        self.deny_public = deny_public;
        self
    }

    /// Whether connections to `ip` on `port` (any port: `None`) are allowed.
    pub fn allows_ip(&self, ip: IpAddr, port: Option<u16>) -> bool {
        let listed = || {
            self.nets
                .iter()
                .any(|(n, p)| n.contains(&ip) && port_fits(*p, port))
        };
        if is_internal(ip) {
            self.allow_all_private || listed()
        } else {
            !self.deny_public || listed()
        }
    }

    /// Why `ip` (written as `host`) is refused.
    fn refusal(&self, host: &str, ip: IpAddr) -> Refusal {
        match (
            is_internal(ip),
            host.parse::<IpAddr>().is_ok() || parse_ip(host).is_some(),
        ) {
            (false, _) => Refusal::Offline(host.to_owned()),
            (true, true) => Refusal::Internal(host.to_owned()),
            (true, false) => Refusal::ResolvesInternal {
                host: host.to_owned(),
                ip,
            },
        }
    }

    /// Whether `host` is a name the administrator allowed (on `port`) whatever it resolves to.
    fn allows_name(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts
            .iter()
            .any(|(h, p)| *h == host && port_fits(*p, port))
    }

    /// The check when a setting is saved: an address written in any spelling is judged as it
    /// stands; a name is resolved and every address it has now must be allowed. A name that does
    /// not resolve yet is accepted (it is checked again at every connection).
    pub async fn check_host(&self, host: &str, port: u16) -> Result<(), Refusal> {
        let host = bare_host(host);
        if self.allows_name(host, Some(port)) {
            return Ok(());
        }
        if let Some(ip) = parse_ip(host) {
            return if self.allows_ip(ip, Some(port)) {
                Ok(())
            } else {
                Err(self.refusal(host, ip))
            };
        }
        match lookup(host, port).await {
            Ok(addrs) => self.judge(host, addrs, Some(port)).map(|_| ()),
            Err(_) => Ok(()),
        }
    }

    /// Resolves `host` for a connection and answers its addresses, or why none may be used. Any
    /// internal answer refuses the whole name (a rebinding name is not half trusted). `port`
    /// `0` means "not known here" (an HTTP client's resolver): entries on any port count.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
        let host = bare_host(host);
        let on = (port != 0).then_some(port);
        if let Some(ip) = parse_ip(host) {
            return if self.allows_name(host, on) || self.allows_ip(ip, on) {
                Ok(vec![SocketAddr::new(ip, port)])
            } else {
                Err(self.refusal(host, ip))
            };
        }
        let addrs = lookup(host, port)
            .await
            .map_err(|e| Refusal::Unresolvable {
                host: host.to_owned(),
                reason: e.to_string(),
            })?;
        if self.allows_name(host, on) {
            return Ok(addrs);
        }
        self.judge(host, addrs, on)
    }

    fn judge(
        &self,
        host: &str,
        addrs: Vec<SocketAddr>,
        port: Option<u16>,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        if let Some(bad) = addrs.iter().find(|a| !self.allows_ip(a.ip(), port)) {
            return Err(self.refusal(host, bad.ip()));
        }
        if addrs.is_empty() {
            return Err(Refusal::Unresolvable {
                host: host.to_owned(),
                reason: "no addresses".into(),
            });
        }
        Ok(addrs)
    }

    /// Opens a TCP connection to `host:port` through the policy: resolved and checked first,
    /// then each allowed address tried in turn, each within `timeout`. Answers the connection
    /// and the address it reached.
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<(tokio::net::TcpStream, SocketAddr), ConnectFailure> {
        let addrs = self
            .resolve(host, port)
            .await
            .map_err(ConnectFailure::Refused)?;
        let mut last = None;
        for addr in addrs {
            match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(tcp)) => return Ok((tcp, addr)),
                Ok(Err(e)) => last = Some(ConnectFailure::Io(e)),
                Err(_) => last = Some(ConnectFailure::TimedOut),
            }
        }
        Err(last.unwrap_or(ConnectFailure::TimedOut))
    }
}

fn port_fits(allowed: Option<u16>, wanted: Option<u16>) -> bool {
    match (allowed, wanted) {
        (None, _) | (_, None) => true,
        (Some(a), Some(w)) => a == w,
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` (a bare IPv6 address has no port).
fn split_port(item: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = item.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(p) => Some((host, Some(p.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    if item.matches(':').count() == 1 {
        let (host, p) = item.split_once(':')?;
        return Some((host, Some(p.parse().ok()?)));
    }
    Some((item, None))
}

/// Why a connection through the policy was not made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectFailure {
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Io(std::io::Error),
    #[error("no answer in time")]
    TimedOut,
}

async fn lookup(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    let found = tokio::time::timeout(
        LOOKUP_TIMEOUT,
        tokio::net::lookup_host((host.trim_end_matches('.'), port)),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer from DNS"))??;
    Ok(found.collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }

    #[test]
    fn every_ipv4_spelling_is_read_as_the_resolver_reads_it() {
        for s in [
            "127.0.0.1",
            "2130706433",
            "0x7f000001",
            "0x7f.1",
            "0177.0.0.1",
            "127.1",
            "127.0.1",
            "0x7F.0.0.0x1",
            "[::ffff:127.0.0.1]",
        ] {
            let ip = parse_ip(s).unwrap_or_else(|| panic!("{s}"));
            assert!(is_internal(ip), "{s}");
            let lo = match ip {
                IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().unwrap()),
                ip => ip,
            };
            assert_eq!(lo, v4("127.0.0.1"), "{s}");
        }
        assert_eq!(parse_ip("0251.0376.0251.0376"), Some(v4("169.254.169.254")));
        assert_eq!(parse_ip("0xa9fea9fe"), Some(v4("169.254.169.254")));
        for s in [
            "smtp.gmail.com",
            "256.1.1.1",
            "1.2.3.4.5",
            "08.1.1.1",
            "",
            "1..2",
        ] {
            assert_eq!(parse_ip(s), None, "{s}");
        }
    }

    #[test]
    fn the_refused_ranges() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "::ffff:0:a00:1",
            "2001:0:4136:e378::1",
            "2002:a00:1::1",
        ] {
            assert!(is_internal(parse_ip(s).unwrap()), "{s}");
        }
        for s in [
            "8.8.8.8",
            "100.128.0.1",
            "2606:4700::1111",
            "2002:808:808::1",
        ] {
            assert!(!is_internal(parse_ip(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn the_administrators_list_allows_hosts_and_ranges() {
        let p = NetPolicy::parse(
            "mailpit:1025, 10.0.0.0/8 ::1 127.0.0.1:11434 [fd00::5]:80",
            false,
        )
        .unwrap();
        assert!(p.allows_ip(v4("10.9.8.7"), Some(25)));
        assert!(p.allows_ip(v4("127.0.0.1"), Some(11434)));
        // An allowance on one port is not a way to the others (no port scan through it).
        assert!(!p.allows_ip(v4("127.0.0.1"), Some(5432)));
        assert!(!p.allows_ip(v4("127.0.0.2"), Some(11434)));
        assert!(!p.allows_ip(v4("192.168.0.1"), None));
        assert!(p.allows_ip("::1".parse().unwrap(), Some(25)));
        assert!(p.allows_ip("fd00::5".parse().unwrap(), Some(80)));
        assert!(!p.allows_ip("fd00::5".parse().unwrap(), Some(81)));
        assert!(p.allows_name("MailPit.", Some(1025)));
        assert!(!p.allows_name("mailpit", Some(25)));
        assert!(NetPolicy::parse("not a host!", false).is_err());
        assert!(NetPolicy::parse("mailpit:port", false).is_err());
        let all = NetPolicy::parse("", true).unwrap();
        assert!(all.allows_ip(v4("192.168.0.1"), Some(25)));
        let none = NetPolicy::default();
        assert!(!none.allows_ip(v4("192.168.0.1"), None));
        assert!(none.allows_ip(v4("8.8.8.8"), Some(25)));
        // Without the internet, only what is listed.
        let offline = p.clone().without_internet(true);
        assert!(!offline.allows_ip(v4("8.8.8.8"), Some(25)));
        assert!(offline.allows_ip(v4("10.9.8.7"), Some(25)));
    }

    #[tokio::test]
    async fn literal_addresses_are_refused_without_a_lookup() {
        let p = NetPolicy::default();
        assert!(matches!(
            p.check_host("0x7f.1", 25).await,
            Err(Refusal::Internal(_))
        ));
        assert!(matches!(
            p.resolve("[::ffff:169.254.169.254]", 25).await,
            Err(Refusal::Internal(_))
        ));
        assert!(matches!(
            p.resolve("localhost", 25).await,
            Err(Refusal::ResolvesInternal { .. })
        ));
        let allowed = NetPolicy::parse("127.0.0.0/8", false).unwrap();
        assert_eq!(
            allowed.resolve("127.0.0.1", 25).await.unwrap(),
            vec!["127.0.0.1:25".parse().unwrap()]
        );
    }

    proptest! {
        /// Every 32-bit value written in decimal, hex, or dotted octal reads back as itself.
        #[test]
        fn loose_ipv4_spellings_agree(n: u32) {
            let ip = Ipv4Addr::from(n);
            let o = ip.octets();
            prop_assert_eq!(parse_ip(&n.to_string()), Some(IpAddr::V4(ip)));
            prop_assert_eq!(parse_ip(&format!("{n:#x}")), Some(IpAddr::V4(ip)));
            prop_assert_eq!(
                parse_ip(&format!("0{:o}.0{:o}.0{:o}.0{:o}", o[0], o[1], o[2], o[3])),
                Some(IpAddr::V4(ip))
            );
            prop_assert_eq!(
                parse_ip(&format!("{}.{}", o[0], n & 0x00ff_ffff)),
                Some(IpAddr::V4(ip))
            );
        }
    }
}

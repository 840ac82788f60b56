//! What an address is, as rules see it: a host name's syntax, an IP address in every spelling a
//! resolver accepts, and which addresses are internal (this machine, private networks and the
//! special ranges). The network policy refuses internal addresses; a mailbox may skip encryption
//! only to one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `host` without surrounding space and IPv6 brackets.
pub fn bare_host(host: &str) -> &str {
    host.trim().trim_start_matches('[').trim_end_matches(']')
}

/// Whether `s` is a syntactically valid host name.
pub fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').filter(|l| !l.is_empty()).all(|l| {
            l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
        })
}

/// An IP address as resolvers read it: IPv6, or IPv4 in any of the forms `inet_aton` accepts —
/// one to four parts, each decimal, octal (leading 0) or hexadecimal (0x) — so `2130706433`,
/// `0x7f.1` and `0177.0.0.1` are all 127.0.0.1, as the system resolver would take them.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = bare_host(s);
    if let Ok(v6) = s.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(v6));
    }
    parse_ipv4_loose(s.trim_end_matches('.')).map(IpAddr::V4)
}

fn parse_ipv4_loose(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let nums: Vec<u64> = parts.iter().map(|p| parse_part(p)).collect::<Option<_>>()?;
    let (last, head) = nums.split_last()?;
    if head.iter().any(|n| *n > 255) {
        return None;
    }
    let room = 8 * (4 - head.len() as u32);
    if *last >= 1u64 << room {
        return None;
    }
    let mut value: u64 = 0;
    for (i, n) in head.iter().enumerate() {
        value |= n << (24 - 8 * i as u32);
    }
    value |= last;
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

fn parse_part(p: &str) -> Option<u64> {
    if p.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() {
        return (radix == 16).then_some(0);
    }
    if digits.len() > 12 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Whether `ip` is an address outbound connections must not reach by default.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local (incl. fd00:ec2::254)
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed privately)
                // NAT64 (64:ff9b::/96) and IPv4-translated (::ffff:0:a.b.c.d): the IPv4 inside
                // decides, so an IPv6-only host with DNS64 still reaches public servers.
                || ((s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0))
                    && is_internal_v4(embedded(s[6], s[7])))
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
                || (s[..4].iter().all(|x| *x == 0) && s[4] == 0xffff && s[5] == 0
                    && is_internal_v4(embedded(s[6], s[7])))
                || (s[0] == 0x2001 && s[1] == 0) // Teredo: a tunnel to an address it hides
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x2002 && is_internal_v4(embedded(s[1], s[2]))) // 6to4 of an internal address
                || s[..6].iter().all(|x| *x == 0) // IPv4-compatible ::a.b.c.d
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

//! Mailbox inputs parsed at the edge and applied onto what is stored (absent fields unchanged).

use crate::domain::{optional_text, required_text};
use aura_types::{
    EmailAddress, FieldErrors, MailboxInput, MailboxKind, MailboxStatus, SendingLimits,
    ServerInput, SmtpSecurity, MAX_DAILY_LIMIT,
};

pub const NAME_MAX: usize = 120;
pub const SIGNATURE_MAX: usize = 2000;
pub const HOST_MAX: usize = 253;
pub const SECRET_MAX: usize = 1000;

/// A server's settings after parsing; `password`: `None` keeps the stored one, `Some(None)`
/// removes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerFields {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: Option<Option<String>>,
}

/// A whole mailbox after parsing.
#[derive(Clone, Debug, PartialEq)]
pub struct MailboxFields {
    pub kind: MailboxKind,
    pub from_name: String,
    pub from_email: String,
    pub reply_to: Option<String>,
    pub signature: String,
    pub smtp: ServerFields,
    pub imap: ServerFields,
    pub limits: SendingLimits,
    pub status: MailboxStatus,
}

/// Whether `host` is on this machine or a private network (where an unencrypted connection to
/// a relay or mail catcher is acceptable): localhost, a loopback or private address, or a
/// single-label name such as a docker-compose service.
pub fn is_local_host(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost") {
        return true;
    }
    match super::address::parse_ip(host) {
        Some(ip) => super::address::is_internal(ip),
        None => !host.is_empty() && !host.contains('.'),
    }
}

fn host_name(e: &mut FieldErrors, field: &str, host: &str) -> String {
    let host = host.trim();
    if host.len() > HOST_MAX
        || host
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_')))
    {
        e.add(
            field,
            "must be a host name or IP address such as smtp.example.com",
        );
    }
    host.to_owned()
}

fn server(
    e: &mut FieldErrors,
    prefix: &str,
    input: Option<&ServerInput>,
    current: Option<&ServerFields>,
    default_port: u16,
    default_security: SmtpSecurity,
) -> ServerFields {
    let base = current.cloned().unwrap_or(ServerFields {
        port: default_port,
        security: default_security,
        ..ServerFields::default()
    });
    let Some(input) = input else {
        return ServerFields {
            password: None,
            ..base
        };
    };
    let field = |f: &str| format!("{prefix}.{f}");
    let host = input
        .host
        .as_deref()
        .map_or(base.host.clone(), |h| host_name(e, &field("host"), h));
    let port = match input.port {
        Some(0) => {
            e.add(&field("port"), "must be between 1 and 65535");
            base.port
        }
        Some(p) => p,
        None => base.port,
    };
    let username = optional_text(
        e,
        &field("username"),
        &input.username,
        Some(&base.username),
        320,
    )
    .unwrap_or_default();
    let password = match &input.password {
        None => None,
        Some(None) => Some(None),
        Some(Some(p)) if p.is_empty() => Some(None),
        Some(Some(p)) if p.chars().count() > SECRET_MAX => {
            e.add(
                &field("password"),
                format!("must be at most {SECRET_MAX} characters"),
            );
            None
        }
        Some(Some(p)) => Some(Some(p.clone())),
    };
    ServerFields {
        host,
        port,
        security: input.security.unwrap_or(base.security),
        username,
        password,
    }
}

/// The mailbox `input` makes of `current` (or of a new mailbox). `has_smtp_password`: whether a
/// password is stored now.
pub fn mailbox_fields(
    current: Option<&MailboxFields>,
    input: &MailboxInput,
    has_smtp_password: bool,
) -> Result<MailboxFields, FieldErrors> {
    let mut e = FieldErrors::new();
    let kind = match (current, input.kind) {
        (Some(c), Some(k)) if k != c.kind => {
            e.add("kind", "cannot change; add a new mailbox instead");
            c.kind
        }
        (Some(c), _) => c.kind,
        (None, k) => k.unwrap_or_default(),
    };
    let from_name = required_text(
        &mut e,
        "from_name",
        &input.from_name,
        current.map(|c| c.from_name.as_str()),
        NAME_MAX,
    );
    let from_email = match (&input.from_email, current) {
        (Some(v), _) => e
            .check("from_email", EmailAddress::parse(v))
            .map(|a| a.as_str().to_owned()),
        (None, Some(c)) => Some(c.from_email.clone()),
        (None, None) => {
            e.add("from_email", "is required");
            None
        }
    };
    let reply_to = match &input.reply_to {
        Some(Some(v)) if !v.trim().is_empty() => e
            .check("reply_to", EmailAddress::parse(v))
            .map(|a| a.as_str().to_owned()),
        Some(_) => None,
        None => current.and_then(|c| c.reply_to.clone()),
    };
    let signature = optional_text(
        &mut e,
        "signature",
        &input.signature,
        current.map(|c| c.signature.as_str()),
        SIGNATURE_MAX,
    )
    .unwrap_or_default();
    let smtp = server(
        &mut e,
        "smtp",
        input.smtp.as_ref(),
        current.map(|c| &c.smtp),
        587,
        SmtpSecurity::Starttls,
    );
    let imap = server(
        &mut e,
        "imap",
        input.imap.as_ref(),
        current.map(|c| &c.imap),
        993,
        SmtpSecurity::Tls,
    );
    if kind == MailboxKind::Smtp && smtp.host.is_empty() {
        e.add(
            "smtp.host",
            "is required: your provider's SMTP server, such as smtp.gmail.com",
        );
    }
    for (name, s) in [("smtp", &smtp), ("imap", &imap)] {
        if s.security == SmtpSecurity::None && !s.host.is_empty() && !is_local_host(&s.host) {
            e.add(
                &format!("{name}.security"),
                "an unencrypted connection is only allowed to a server on this machine or a private network; choose TLS or STARTTLS",
            );
        }
    }
    let password_after = match &smtp.password {
        Some(p) => p.is_some(),
        None => has_smtp_password,
    };
    if kind == MailboxKind::Smtp && !smtp.username.is_empty() && !password_after {
        e.add("smtp.password", "is required with a username");
    }
    let limits = input
        .limits
        .clone()
        .or_else(|| current.map(|c| c.limits.clone()))
        .unwrap_or_default();
    if !(1..=MAX_DAILY_LIMIT).contains(&limits.daily_limit) {
        e.add(
            "limits.daily_limit",
            format!("must be between 1 and {MAX_DAILY_LIMIT}"),
        );
    }
    if limits.ramp_start < 0 || limits.ramp_start > limits.daily_limit {
        e.add(
            "limits.ramp_start",
            "must be between 0 (no ramp-up) and the daily limit",
        );
    }
    if !(0..=MAX_DAILY_LIMIT).contains(&limits.ramp_step) {
        e.add(
            "limits.ramp_step",
            format!("must be between 0 and {MAX_DAILY_LIMIT}"),
        );
    }
    if !(0..=86_400).contains(&limits.min_interval_secs) {
        e.add(
            "limits.min_interval_secs",
            "must be between 0 and 86400 seconds",
        );
    }
    if !(0..=86_400).contains(&limits.jitter_secs) {
        e.add("limits.jitter_secs", "must be between 0 and 86400 seconds");
    }
    let status = input
        .status
        .or_else(|| current.map(|c| c.status))
        .unwrap_or_default();
    e.finish(|| {
        Some(MailboxFields {
            kind,
            from_name: from_name?,
            from_email: from_email?,
            reply_to,
            signature,
            smtp,
            imap,
            limits,
            status,
        })
    })
}

/// A DKIM key upload after parsing.
pub struct DkimFields {
    pub domain: String,
    pub selector: String,
    pub key: crate::delivery::dkim::ParsedKey,
}

/// Whether `s` is a DNS name: dot-separated labels of letters, digits, `-` (and `_` where
/// `underscore`), none empty, none longer than 63, none starting or ending with `-`.
fn dns_name(s: &str, underscore: bool) -> bool {
    !s.is_empty()
        && s.len() <= HOST_MAX
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || (underscore && c == '_'))
        })
}

/// Parses a DKIM key upload: the domain (lower-cased, an `@` part or a leading `@` dropped),
/// the selector, and the private key.
pub fn dkim_fields(input: &aura_types::DkimKeyInput) -> Result<DkimFields, FieldErrors> {
    let mut e = FieldErrors::new();
    let raw = input.domain.trim().to_ascii_lowercase();
    let domain = raw
        .rsplit_once('@')
        .map_or(raw.as_str(), |(_, d)| d)
        .to_owned();
    if !dns_name(&domain, false) || !domain.contains('.') {
        e.add("domain", "must be a domain such as mail.example.com");
    }
    let selector = input.selector.trim().to_ascii_lowercase();
    if !dns_name(&selector, true) {
        e.add(
            "selector",
            "must be a DNS label such as aura or s2026 (letters, digits, - and _)",
        );
    }
    let key = e.check(
        "private_key",
        crate::delivery::dkim::parse_private_key(&input.private_key),
    );
    e.finish(|| {
        Some(DkimFields {
            domain,
            selector,
            key: key?,
        })
    })
}

/// A mailbox's limit on the UTC day of `now`, after ramp-up from `ramp_from`.
pub fn limit_today(
    limits: &SendingLimits,
    ramp_from: time::Date,
    now: time::OffsetDateTime,
) -> i32 {
    let day = (now.date() - ramp_from).whole_days();
    aura_types::limit_on_day(limits.daily_limit, limits.ramp_start, limits.ramp_step, day)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn smtp_input() -> MailboxInput {
        MailboxInput {
            from_name: Some("Dana".into()),
            from_email: Some("Dana@Example.com".into()),
            smtp: Some(ServerInput {
                host: Some("smtp.example.com".into()),
                username: Some("dana".into()),
                password: Some(Some("app-password".into())),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_smtp_mailbox_gets_defaults_and_a_normalised_address() {
        let m = mailbox_fields(None, &smtp_input(), false).unwrap();
        assert_eq!(m.kind, MailboxKind::Smtp);
        assert_eq!(m.from_email, "Dana@example.com");
        assert_eq!(
            (m.smtp.port, m.smtp.security),
            (587, SmtpSecurity::Starttls)
        );
        assert_eq!((m.imap.port, m.imap.security), (993, SmtpSecurity::Tls));
        assert_eq!(m.smtp.password, Some(Some("app-password".into())));
        assert_eq!(m.limits, SendingLimits::default());
    }

    #[test]
    fn unencrypted_connections_only_to_local_servers() {
        let mut i = smtp_input();
        i.smtp.as_mut().unwrap().security = Some(SmtpSecurity::None);
        let e = mailbox_fields(None, &i, false).unwrap_err();
        assert!(e.0.contains_key("smtp.security"), "{e:?}");
        for host in ["127.0.0.1", "localhost", "mailpit", "10.1.2.3", "[::1]"] {
            i.smtp.as_mut().unwrap().host = Some(host.into());
            assert!(mailbox_fields(None, &i, false).is_ok(), "{host}");
        }
        assert!(!is_local_host("smtp.gmail.com"));
        assert!(!is_local_host("8.8.8.8"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let i = MailboxInput {
            from_email: Some("nope".into()),
            reply_to: Some(Some("also nope".into())),
            smtp: Some(ServerInput {
                host: Some("bad host!".into()),
                port: Some(0),
                username: Some("u".into()),
                ..Default::default()
            }),
            limits: Some(SendingLimits {
                daily_limit: 0,
                ramp_start: -1,
                ramp_step: -1,
                min_interval_secs: -1,
                jitter_secs: 100_000,
            }),
            ..Default::default()
        };
        let e = mailbox_fields(None, &i, false).unwrap_err();
        for f in [
            "from_name",
            "from_email",
            "reply_to",
            "smtp.host",
            "smtp.port",
            "smtp.password",
            "limits.daily_limit",
            "limits.ramp_start",
            "limits.ramp_step",
            "limits.min_interval_secs",
            "limits.jitter_secs",
        ] {
            assert!(e.0.contains_key(f), "{f} missing in {e:?}");
        }
    }

    #[test]
    fn an_update_keeps_what_it_does_not_name_and_the_kind_is_fixed() {
        let current = mailbox_fields(None, &smtp_input(), false).unwrap();
        let m = mailbox_fields(
            Some(&current),
            &MailboxInput {
                signature: Some("Dana\nAura".into()),
                ..Default::default()
            },
            true,
        )
        .unwrap();
        assert_eq!(m.from_email, "Dana@example.com");
        assert_eq!(m.signature, "Dana\nAura");
        assert_eq!(m.smtp.password, None, "absent keeps the stored password");
        let e = mailbox_fields(
            Some(&current),
            &MailboxInput {
                kind: Some(MailboxKind::Sandbox),
                ..Default::default()
            },
            true,
        )
        .unwrap_err();
        assert!(e.0.contains_key("kind"));
        // A sandbox needs no server.
        let s = mailbox_fields(
            None,
            &MailboxInput {
                kind: Some(MailboxKind::Sandbox),
                from_name: Some("Demo".into()),
                from_email: Some("demo@example.com".into()),
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert_eq!(s.smtp.host, "");
    }

    #[test]
    fn a_dkim_upload_is_parsed_with_errors_by_field() {
        let input = aura_types::DkimKeyInput {
            domain: " Dana@Mail.Example.COM ".into(),
            selector: "Aura2026".into(),
            private_key: "9Ht2gAzHjTvP+LNpOjMonsNT/4nc26uv+bzOlnNw2Ck=".into(),
        };
        let f = dkim_fields(&input).unwrap();
        assert_eq!(f.domain, "mail.example.com");
        assert_eq!(f.selector, "aura2026");
        let bad = aura_types::DkimKeyInput {
            domain: "localhost".into(),
            selector: "a b".into(),
            private_key: "nope".into(),
        };
        let e = dkim_fields(&bad).err().unwrap();
        for field in ["domain", "selector", "private_key"] {
            assert!(e.0.contains_key(field), "{field}: {e:?}");
        }
        for domain in ["-x.example", "a..example", "ex ample.com", ""] {
            let i = aura_types::DkimKeyInput {
                domain: domain.into(),
                ..input.clone()
            };
            assert!(dkim_fields(&i).is_err(), "{domain}");
        }
    }
}

//! Delivery reports: RFC 3464 `message/delivery-status` groups, and the plain-text bounces some
//! servers still send (qmail, older Exim, Yahoo), read for the failed address and its status.

/// What a report says about one recipient.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecipientStatus {
    /// The address the report is about, lowercase.
    pub recipient: Option<String>,
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded`.
    pub action: String,
    /// The enhanced status code (RFC 3463), e.g. `5.1.1`.
    pub status: Option<String>,
    /// What the remote server said.
    pub diagnostic: Option<String>,
}

impl RecipientStatus {
    /// A permanent failure: the address will not work (5.x.x with action `failed`).
    pub fn is_permanent(&self) -> bool {
        self.action == "failed" && !self.status.as_deref().is_some_and(|s| s.starts_with('4'))
    }
}

/// The per-recipient groups of a `message/delivery-status` body (the first group is about the
/// message and is skipped).
pub fn parse_delivery_status(body: &str) -> Vec<RecipientStatus> {
    let mut groups: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if groups.last().is_some_and(|g| !g.is_empty()) {
                groups.push(Vec::new());
            }
            continue;
        }
        let group = groups.last_mut().expect("never empty");
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            group.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    groups
        .into_iter()
        .filter(|g| {
            g.iter()
                .any(|(n, _)| n == "final-recipient" || n == "action")
        })
        .map(|g| {
            let field = |name: &str| g.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            RecipientStatus {
                recipient: field("final-recipient")
                    .or_else(|| field("original-recipient"))
                    .map(|v| typed_address(&v)),
                action: field("action").unwrap_or_default().to_ascii_lowercase(),
                status: field("status").and_then(|s| enhanced_status(&s)),
                diagnostic: field("diagnostic-code").map(|d| typed_value(&d).to_owned()),
            }
        })
        .collect()
}

/// `rfc822; Someone@Example.net` → `someone@example.net`.
fn typed_address(v: &str) -> String {
    typed_value(v)
        .trim_matches(['<', '>', ' '])
        .to_ascii_lowercase()
}

/// The value after an address or diagnostic type (`rfc822;`, `smtp;`).
fn typed_value(v: &str) -> &str {
    v.split_once(';').map_or(v, |(_, rest)| rest).trim()
}

/// The first enhanced status code (`5.1.1`, `4.4.7`) in `text`.
pub fn enhanced_status(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if !matches!(b, b'2' | b'4' | b'5') || bytes.get(i + 1) != Some(&b'.') {
            continue;
        }
        if i > 0 && (bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b'.') {
            continue;
        }
        let rest = &text[i + 2..];
        let sub: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if sub.is_empty() || sub.len() > 3 {
            continue;
        }
        let rest = &rest[sub.len()..];
        let Some(rest) = rest.strip_prefix('.') else {
            continue;
        };
        let detail: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if detail.is_empty() || detail.len() > 3 {
            continue;
        }
        if rest[detail.len()..].starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            continue;
        }
        return Some(format!("{}.{sub}.{detail}", b as char));
    }
    None
}

/// Lines after which a plain-text bounce quotes the original message.
const COPY_MARKERS: &[&str] = &[
    "below this line is a copy of the message",
    "this is a copy of the message",
    "original message follows",
    "------ original message",
    "--- original message",
    "the original message was",
    "original message headers",
];

/// Where a plain-text bounce's own words end and its copy of the original message begins.
pub fn copy_start(text: &str) -> Option<usize> {
    // ASCII case folding keeps byte positions, so the index is one into `text`.
    let lower = text.to_ascii_lowercase();
    COPY_MARKERS.iter().filter_map(|m| lower.find(m)).min()
}

/// What a plain-text bounce says about the failed recipient: the first address it names that is
/// not `own` (the sender's mailbox) and not the reporting system, with the status code near it.
pub fn parse_plain_bounce(text: &str, own: &[&str]) -> Option<RecipientStatus> {
    let report = &text[..copy_start(text).unwrap_or(text.len())];
    let recipient = addresses(report).into_iter().find(|a| {
        !own.iter().any(|o| o.eq_ignore_ascii_case(a))
            && !a.starts_with("mailer-daemon@")
            && !a.starts_with("postmaster@")
    })?;
    let status = enhanced_status(report);
    let smtp = smtp_code(report);
    let permanent = match (&status, smtp) {
        (Some(s), _) => s.starts_with('5'),
        (None, Some(code)) => code >= 500,
        // A bounce that names no code reports a failure.
        (None, None) => true,
    };
    let status = status.or_else(|| smtp.map(|c| format!("{}.0.0", c / 100)));
    Some(RecipientStatus {
        recipient: Some(recipient),
        action: if permanent { "failed" } else { "delayed" }.into(),
        status,
        diagnostic: report
            .lines()
            .map(str::trim)
            .find(|l| smtp_code(l).is_some())
            .map(str::to_owned),
    })
}

/// The first three-digit SMTP reply code (4xx or 5xx) standing alone in `text`.
fn smtp_code(text: &str) -> Option<u16> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 3)
        .filter_map(|w| w.parse::<u16>().ok())
        .find(|c| (421..=554).contains(c))
}

/// Email addresses written in `text`, lowercase, in order.
pub fn addresses(text: &str) -> Vec<String> {
    let is_part = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let mut out = Vec::new();
    for (i, _) in text.match_indices('@') {
        let start = text[..i]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_part(*c))
            .last()
            .map(|(j, _)| j);
        let end = text[i + 1..]
            .char_indices()
            .take_while(|(_, c)| is_part(*c))
            .last()
            .map(|(j, c)| i + 1 + j + c.len_utf8());
        if let (Some(s), Some(e)) = (start, end) {
            let a = text[s..e].trim_matches('.').to_ascii_lowercase();
            if a.contains('.') && !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_status_groups_are_read_per_recipient() {
        let body = "Reporting-MTA: dns; mx.example.net\nArrival-Date: Mon, 14 Dec 2026 09:12:44 +0100\n\n\
            Final-Recipient: rfc822; Jo@Example.net\nAction: failed\nStatus: 5.1.1\n\
            Diagnostic-Code: smtp; 550 5.1.1 <jo@example.net>: Recipient address\n  rejected: User unknown\n\n\
            Final-Recipient: rfc822; sam@example.org\nAction: delayed\nStatus: 4.4.7\n";
        let r = parse_delivery_status(body);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].recipient.as_deref(), Some("jo@example.net"));
        assert_eq!(r[0].status.as_deref(), Some("5.1.1"));
        assert!(r[0].is_permanent());
        assert!(r[0]
            .diagnostic
            .as_deref()
            .expect("a diagnostic")
            .ends_with("rejected: User unknown"));
        assert_eq!(r[1].action, "delayed");
        assert!(!r[1].is_permanent());
    }

    #[test]
    fn enhanced_status_codes_stand_alone() {
        assert_eq!(
            enhanced_status("550 5.1.1 user unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            enhanced_status("#5.2.2 mailbox full").as_deref(),
            Some("5.2.2")
        );
        assert_eq!(enhanced_status("version 15.1.2.3"), None);
        assert_eq!(enhanced_status("192.168.5.1.1"), None);
        assert_eq!(enhanced_status("4.4.7"), Some("4.4.7".into()));
    }

    #[test]
    fn plain_bounces_name_the_failed_address_before_the_copy() {
        let text = "Hi. This is the qmail-send program at mx.example.net.\n\
            I'm afraid I wasn't able to deliver your message to the following addresses.\n\n\
            <lee@example.net>:\n203.0.113.9 does not like recipient.\nRemote host said: 550 5.1.1 user unknown\n\n\
            --- Below this line is a copy of the message.\n\nFrom: Dana <dana@aura-demo.example>\nTo: lee@example.net\n";
        let r = parse_plain_bounce(text, &["dana@aura-demo.example"]).expect("a bounce");
        assert_eq!(r.recipient.as_deref(), Some("lee@example.net"));
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
        assert!(r.is_permanent());
        assert_eq!(copy_start("nothing quoted"), None);
    }
}

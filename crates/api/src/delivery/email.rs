//! One campaign email as it goes on the wire: headers (Message-ID on the mailbox's domain,
//! threading, RFC 8058 one-click unsubscribe), multipart/alternative text + HTML, the mailbox's
//! signature, the organization's postal address and the unsubscribe link in the footer, and —
//! where the campaign asks for them — the open pixel and click-tracking links.

use aura_types::template::escape_html;
use lettre::message::dkim::DkimConfig;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{address::Envelope, Address, Message};
use time::OffsetDateTime;

/// Everything needed to write one email.
pub struct Outgoing<'a> {
    /// The Message-ID without angle brackets.
    pub message_id: &'a str,
    pub from_name: &'a str,
    pub from_email: &'a str,
    pub reply_to: Option<&'a str>,
    pub to_name: Option<&'a str>,
    pub to_email: &'a str,
    pub subject: &'a str,
    /// The text part's body; the HTML part's body is made from it.
    pub text: &'a str,
    pub signature: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [String],
    /// Campaign messages: the one-click unsubscribe link (header and footer). A person's answer
    /// in a conversation has none, and no footer.
    pub unsubscribe_url: Option<&'a str>,
    /// The organization as the footer names it, and its postal address.
    pub footer: Option<(&'a str, &'a str)>,
    pub open_pixel_url: Option<&'a str>,
    /// Rewrites a link of the HTML part into its tracking link.
    pub click_url: Option<&'a dyn Fn(&str) -> String>,
    pub date: OffsetDateTime,
    /// Signs the message with the From domain's DKIM key.
    pub dkim: Option<&'a DkimConfig>,
    /// An answer written in the inbox: its id, in [`ANSWER_HEADER`], so its copy in the
    /// mailbox's Sent folder is known as ours even where the provider replaced the Message-ID.
    pub answer: Option<&'a str>,
}

/// The header naming an answer written in the inbox.
pub const ANSWER_HEADER: &str = "X-Aura-Answer";

/// A new Message-ID on the domain of `from_email`.
pub fn new_message_id(from_email: &str) -> String {
    let domain = from_email.rsplit_once('@').map_or("localhost", |(_, d)| d);
    format!("{}@{}", uuid::Uuid::now_v7().simple(), domain)
}

fn mailbox(name: Option<&str>, email: &str) -> Result<Mailbox, String> {
    let address: Address = email
        .parse()
        .map_err(|e| format!("{email:?} is not a valid address: {e}"))?;
    Ok(Mailbox::new(
        name.filter(|n| !n.trim().is_empty()).map(str::to_owned),
        address,
    ))
}

fn raw(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// The text part: the message, the signature, then the footer.
fn text_part(o: &Outgoing<'_>) -> String {
    let mut out = o.text.trim_end().to_owned();
    if !o.signature.trim().is_empty() {
        out.push_str("\n\n");
        out.push_str(o.signature.trim_end());
    }
    let Some(unsubscribe) = o.unsubscribe_url else {
        out.push('\n');
        return out;
    };
    out.push_str("\n\n--\n");
    if let Some((name, address)) = o.footer {
        out.push_str(&format!("{name}, {address}\n"));
    }
    out.push_str(&format!("You can unsubscribe at any time: {unsubscribe}\n"));
    out
}

/// Rewrites every `href="http…"` of `html` through `f`.
fn rewrite_links(html: &str, f: &dyn Fn(&str) -> String) -> String {
    const HREF: &str = "href=\"";
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(at) = rest.find(HREF) {
        let (head, tail) = rest.split_at(at + HREF.len());
        out.push_str(head);
        let end = tail.find('"').unwrap_or(tail.len());
        // The attribute is HTML-escaped; the link itself is not.
        let url = tail[..end].replace("&amp;", "&");
        if url.starts_with("http://") || url.starts_with("https://") {
            out.push_str(&escape_html(&f(&url)));
        } else {
            out.push_str(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn html_part(o: &Outgoing<'_>) -> String {
    let body = aura_types::template::text_to_html(o.text);
    let body = match o.click_url {
        Some(f) => rewrite_links(&body, f),
        None => body,
    };
    let mut out = String::with_capacity(body.len() + 1024);
    out.push_str("<!doctype html>\n<html><head><meta charset=\"utf-8\"></head>\n<body style=\"font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1f2937\">\n");
    out.push_str(&body);
    if !o.signature.trim().is_empty() {
        out.push_str(&aura_types::template::text_to_html(o.signature));
    }
    if let Some(unsubscribe) = o.unsubscribe_url {
        out.push_str("<p style=\"margin-top:32px;font-size:12px;color:#6b7280\">");
        if let Some((name, address)) = o.footer {
            out.push_str(&escape_html(&format!("{name}, {address}")));
            out.push_str("<br>\n");
        }
        out.push_str("<a style=\"color:#6b7280\" href=\"");
        out.push_str(&escape_html(unsubscribe));
        out.push_str("\">Unsubscribe</a></p>\n");
    }
    if let Some(pixel) = o.open_pixel_url {
        out.push_str("<img src=\"");
        out.push_str(&escape_html(pixel));
        out.push_str("\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0\">\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// `text` as quoted-printable (RFC 2045 §6.7): CRLF line breaks (for `\n` or `\r\n`), printable
/// ASCII as it is, every other byte — and `=`, and a space or tab ending a line — as `=XX`, and
/// soft line breaks (`=` at the end of a line) keeping every line within 76 characters. Both
/// parts are always written this way: one pass over the text, with nothing to choose.
fn quoted_printable(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 16 + 16);
    for segment in text.split_inclusive('\n') {
        let (line, newline) = match segment.strip_suffix('\n') {
            Some(line) => (line.strip_suffix('\r').unwrap_or(line), true),
            None => (segment, false),
        };
        let bytes = line.as_bytes();
        // A space or tab ending the line is escaped; everything printable before it is not.
        let plain_end = bytes.len() - usize::from(matches!(bytes.last(), Some(b' ' | b'\t')));
        let mut column = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if i < plain_end && qp_literal(b) {
                // A run written as it is, as much as fits (looking no further than that): up to
                // the last column when it ends the line, else leaving that for a soft break.
                let window = plain_end.min(i + QP_MAX.saturating_sub(column));
                let run = bytes[i..window]
                    .iter()
                    .position(|&b| !qp_literal(b))
                    .unwrap_or(window - i);
                let fits = if i + run == bytes.len() {
                    run
                } else {
                    run.min((QP_MAX - 1).saturating_sub(column))
                };
                if fits == 0 {
                    out.extend_from_slice(b"=\r\n");
                    column = 0;
                    continue;
                }
                out.extend_from_slice(&bytes[i..i + fits]);
                column += fits;
                i += fits;
            } else {
                // One escaped byte: room for it, and for a soft break unless it ends the line.
                let limit = if i + 1 == bytes.len() {
                    QP_MAX
                } else {
                    QP_MAX - 1
                };
                if column + 3 > limit {
                    out.extend_from_slice(b"=\r\n");
                    column = 0;
                }
                out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
                column += 3;
                i += 1;
            }
        }
        if newline {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";
/// The longest line quoted-printable allows.
const QP_MAX: usize = 76;

/// Written as it is in quoted-printable (inside a line): printable ASCII but `=`, space and tab.
fn qp_literal(b: u8) -> bool {
    QP_LITERAL[usize::from(b)]
}

/// [`qp_literal`] as a table (a lookup is several times faster than the comparisons).
const QP_LITERAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8, b' ' | b'\t' | b'!'..=b'<' | b'>'..=b'~');
        b += 1;
    }
    table
};

/// A part of the message: `body` quoted-printable, as [`quoted_printable`] writes it.
fn part(content_type: ContentType, body: &str) -> SinglePart {
    SinglePart::builder()
        .header(content_type)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(Body::dangerous_pre_encoded(
            quoted_printable(body),
            ContentTransferEncoding::QuotedPrintable,
        ))
}

/// The envelope and the bytes of the message.
pub fn build(o: &Outgoing<'_>) -> Result<(Envelope, Vec<u8>), String> {
    let from = mailbox(Some(o.from_name), o.from_email)?;
    let to = mailbox(o.to_name, o.to_email)?;
    let mut b = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(o.subject)
        .message_id(Some(format!("<{}>", o.message_id)))
        .date(o.date.into());
    if let Some(unsubscribe) = o.unsubscribe_url {
        b = b
            .raw_header(raw(
                "List-Unsubscribe",
                format!(
                    "<{unsubscribe}>, <mailto:{}?subject=unsubscribe>",
                    o.from_email
                ),
            ))
            .raw_header(raw(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    if let Some(answer) = o.answer {
        b = b.raw_header(raw(ANSWER_HEADER, answer.to_owned()));
    }
    if let Some(reply_to) = o.reply_to.filter(|r| !r.trim().is_empty()) {
        b = b.reply_to(mailbox(None, reply_to)?);
    }
    if let Some(parent) = o.in_reply_to {
        b = b.in_reply_to(format!("<{parent}>"));
    }
    if !o.references.is_empty() {
        let refs: Vec<String> = o.references.iter().map(|r| format!("<{r}>")).collect();
        b = b.references(refs.join(" "));
    }
    let mut message = b
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, &text_part(o)))
                .singlepart(part(ContentType::TEXT_HTML, &html_part(o))),
        )
        .map_err(|e| format!("the message could not be built: {e}"))?;
    if let Some(dkim) = o.dkim {
        message.sign(dkim);
    }
    Ok((message.envelope().clone(), message.formatted()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    fn outgoing<'a>(refs: &'a [String], click: Option<&'a dyn Fn(&str) -> String>) -> Outgoing<'a> {
        Outgoing {
            message_id: "abc@mail.example.com",
            from_name: "Dana from Aura Realty",
            from_email: "dana@mail.example.com",
            reply_to: Some("replies@example.com"),
            to_name: Some("Ana Lima"),
            to_email: "ana@example.org",
            subject: "Homes near the harbor",
            text: "Hi Ana,\n\nsee https://example.com/homes?a=1&b=2 today.",
            signature: "Dana\nAura Realty",
            in_reply_to: Some("first@mail.example.com"),
            references: refs,
            unsubscribe_url: Some("https://aura.example/u/TOKEN"),
            footer: Some(("Aura Realty", "120 Harbor Street, Portland")),
            open_pixel_url: Some("https://aura.example/t/o/PIXEL"),
            click_url: click,
            date: datetime!(2026-11-23 15:00 UTC),
            dkim: None,
            answer: None,
        }
    }

    #[test]
    fn a_persons_answer_has_the_signature_and_no_unsubscribe_footer_or_tracking() {
        let refs = vec!["first@mail.example.com".to_owned()];
        let mut o = outgoing(&refs, None);
        o.unsubscribe_url = None;
        o.footer = None;
        o.open_pixel_url = None;
        o.answer = Some("0192f1c4-0000-7000-8000-000000000001");
        let (_, bytes) = build(&o).unwrap();
        let text = String::from_utf8(bytes).unwrap().replace("\r\n ", " ");
        assert!(text.contains("In-Reply-To: <first@mail.example.com>"));
        assert!(text.contains("X-Aura-Answer: 0192f1c4-0000-7000-8000-000000000001"));
        assert!(!text.contains("List-Unsubscribe"), "{text}");
        assert!(!text.contains("nsubscribe"), "{text}");
        assert!(!text.contains("120 Harbor Street"), "{text}");
        assert!(text.contains("Aura Realty"), "the signature in {text}");
        let plain = text_part(&o);
        assert!(plain.ends_with("Dana\nAura Realty\n"), "{plain:?}");
    }

    #[test]
    fn the_message_carries_threading_one_click_unsubscribe_and_both_parts() {
        let refs = vec!["first@mail.example.com".to_owned()];
        let f = |u: &str| format!("https://aura.example/t/c/{}", u.len());
        let o = outgoing(&refs, Some(&f));
        let (env, bytes) = build(&o).unwrap();
        // Folded header lines unfolded.
        let text = String::from_utf8(bytes).unwrap().replace("\r\n ", " ");
        assert_eq!(env.to()[0].to_string(), "ana@example.org");
        assert_eq!(env.from().unwrap().to_string(), "dana@mail.example.com");
        for header in [
            "Message-ID: <abc@mail.example.com>",
            "In-Reply-To: <first@mail.example.com>",
            "References: <first@mail.example.com>",
            "List-Unsubscribe: <https://aura.example/u/TOKEN>, <mailto:dana@mail.example.com?subject=unsubscribe>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Reply-To: replies@example.com",
            "Content-Type: multipart/alternative",
        ] {
            assert!(text.contains(header), "{header} missing in\n{text}");
        }
        assert!(text.contains("Content-Type: text/plain"));
        assert!(text.contains("Content-Type: text/html"));
        // The footer names the organization's postal address in both parts.
        let (plain, html) = (text_part(&o), html_part(&o));
        assert!(
            plain.contains("Aura Realty, 120 Harbor Street, Portland"),
            "{plain}"
        );
        assert!(
            html.contains("Aura Realty, 120 Harbor Street, Portland"),
            "{html}"
        );
        assert!(plain.contains("unsubscribe at any time: https://aura.example/u/TOKEN"));
        assert!(html.contains("href=\"https://aura.example/u/TOKEN\">Unsubscribe</a>"));
        // The HTML link goes through tracking (the original is 33 characters); the text keeps it.
        assert!(
            html.contains("<a href=\"https://aura.example/t/c/33\">"),
            "{html}"
        );
        assert!(plain.contains("https://example.com/homes?a=1&b=2 today"));
        assert!(html.contains("<img src=\"https://aura.example/t/o/PIXEL\""));
        assert!(plain.contains("Dana\nAura Realty"));
    }

    /// Quoted-printable byte by byte, the plain way: what the encoder must write.
    fn quoted_printable_by_byte(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for segment in text.split_inclusive('\n') {
            let (line, newline) = match segment.strip_suffix('\n') {
                Some(line) => (line.strip_suffix('\r').unwrap_or(line), true),
                None => (segment, false),
            };
            let bytes = line.as_bytes();
            let mut column = 0;
            for (i, &b) in bytes.iter().enumerate() {
                let last = i + 1 == bytes.len();
                let literal = qp_literal(b) && !(last && matches!(b, b' ' | b'\t'));
                let width = if literal { 1 } else { 3 };
                if column + width > if last { QP_MAX } else { QP_MAX - 1 } {
                    out.extend_from_slice(b"=\r\n");
                    column = 0;
                }
                if literal {
                    out.push(b);
                } else {
                    out.extend_from_slice(format!("={b:02X}").as_bytes());
                }
                column += width;
            }
            if newline {
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn quoted_printable_writes_what_the_plain_way_writes(
            text in "([a-z .=\t\r\n]{0,90}|[a-zé☕ ]{70,170}|x{74,78}[ \t=é]{0,3}\n?){0,6}"
        ) {
            let fast = quoted_printable(&text);
            proptest::prop_assert_eq!(
                String::from_utf8(fast.clone()).unwrap(),
                String::from_utf8(quoted_printable_by_byte(&text)).unwrap()
            );
            let decoded = aura_types::mime::decode_quoted_printable(
                std::str::from_utf8(&fast).unwrap(),
            );
            proptest::prop_assert_eq!(decoded, text.replace("\r\n", "\n").replace('\n', "\r\n"));
        }
    }

    #[test]
    fn quoted_printable_keeps_lines_short_and_decodes_to_the_text() {
        let long = "word ".repeat(40);
        let cases = [
            String::new(),
            "plain text\n".into(),
            format!("{long}\n{}", "x".repeat(200)),
            "a = b, 100% sure \t\nnext line ends with a space \r\nlast".into(),
            "Olá, José — café ☕ at 9:00?\n.starts with a dot\n\n\nend=".into(),
            format!("{}é{}", "y".repeat(74), "z".repeat(80)),
            "\r lone carriage return\u{0}\x7f".into(),
        ];
        for text in cases {
            let encoded = String::from_utf8(quoted_printable(&text)).unwrap();
            for line in encoded.split("\r\n") {
                assert!(line.len() <= 76, "{line:?} of {text:?}");
                assert!(line
                    .bytes()
                    .all(|b| (b' '..=b'~').contains(&b) || b == b'\t'));
                assert!(!line.ends_with(' ') && !line.ends_with('\t'), "{line:?}");
            }
            assert!(!encoded.replace("\r\n", "").contains(['\r', '\n']));
            let decoded = aura_types::mime::decode_quoted_printable(&encoded);
            assert_eq!(decoded, text.replace("\r\n", "\n").replace('\n', "\r\n"));
        }
        // Printable text is left as it is; `=` is escaped.
        assert_eq!(quoted_printable("a=b c\n"), b"a=3Db c\r\n");
    }

    #[test]
    fn without_tracking_links_are_left_alone_and_no_pixel_is_added() {
        let mut o = outgoing(&[], None);
        o.open_pixel_url = None;
        o.in_reply_to = None;
        let text = String::from_utf8(build(&o).unwrap().1).unwrap();
        assert!(!text.contains("In-Reply-To"));
        assert!(!text.contains("References"));
        let html = html_part(&o);
        assert!(!html.contains("/t/"), "{html}");
        assert!(
            html.contains("href=\"https://example.com/homes?a=1&amp;b=2\""),
            "{html}"
        );
    }

    #[test]
    fn only_web_links_are_rewritten() {
        let f = |u: &str| format!("T({u})");
        let html = r#"<a href="mailto:x@y.z">m</a> <a href="https://a.example/?q=1&amp;r=2">w</a>"#;
        assert_eq!(
            rewrite_links(html, &f),
            r#"<a href="mailto:x@y.z">m</a> <a href="T(https://a.example/?q=1&amp;r=2)">w</a>"#
        );
    }

    #[test]
    fn a_bad_recipient_is_an_error_not_a_panic() {
        let mut o = outgoing(&[], None);
        o.to_email = "not an address";
        assert!(build(&o).unwrap_err().contains("not a valid address"));
        assert!(new_message_id("dana@mail.example.com").ends_with("@mail.example.com"));
    }

    #[test]
    fn a_message_from_a_domain_with_a_key_is_signed_over_the_one_click_headers() {
        let key = crate::delivery::dkim::parse_private_key(
            "9Ht2gAzHjTvP+LNpOjMonsNT/4nc26uv+bzOlnNw2Ck=",
        )
        .unwrap();
        let config = crate::delivery::dkim::config(
            "aura",
            "mail.example.com",
            key.algorithm,
            secrecy::ExposeSecret::expose_secret(&key.private),
        )
        .unwrap();
        let mut o = outgoing(&[], None);
        o.dkim = Some(&config);
        let text = String::from_utf8(build(&o).unwrap().1)
            .unwrap()
            .replace("\r\n ", " ")
            .replace("\r\n\t", " ");
        let sig = text
            .lines()
            .find(|l| l.starts_with("DKIM-Signature:"))
            .unwrap_or_else(|| panic!("no signature in\n{text}"));
        for tag in [
            "a=ed25519-sha256",
            "d=mail.example.com",
            "s=aura",
            "c=relaxed/relaxed",
            "h=from:reply-to:to:subject:date:message-id:in-reply-to:references:list-unsubscribe:list-unsubscribe-post:mime-version",
        ] {
            assert!(sig.contains(tag), "{tag} missing in {sig}");
        }
        assert!(sig.contains("bh=") && sig.contains(" b="), "{sig}");
        // Unsigned without a key.
        o.dkim = None;
        assert!(!String::from_utf8(build(&o).unwrap().1)
            .unwrap()
            .contains("DKIM-Signature"));
    }
}

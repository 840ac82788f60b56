//! Message templates: merge tags and spintax, parsed and rendered the same way in the browser and
//! on the server, so a preview is exactly what is sent.
//!
//! - `{{first_name}}`, `{{custom.budget}}`, `{{sender.name}}`, `{{org.name}}` — merge tags;
//! - `{{first_name | "there"}}` — a fallback used when the value is empty;
//! - `{{company | upper}}` — filters: `capitalize`, `upper`, `lower`, `first_word`;
//! - `{Hi|Hello|Hey}` — spintax, one option chosen deterministically from a seed.
//!
//! A single `{` that does not open a tag must close a spintax group on the same template;
//! `{{` that never closes, unknown tags and unknown filters are errors with their line and column.

use crate::contact::Contact;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The contact fields a template may name.
pub const LEAD_TAGS: &[&str] = &[
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "company",
    "job_title",
    "website",
    "city",
    "state",
    "country",
];

/// The sender and organization fields a template may name.
pub const SENDER_TAGS: &[&str] = &["sender.name", "sender.email", "org.name"];

/// The filters a tag may apply, in order.
pub const FILTERS: &[&str] = &["capitalize", "upper", "lower", "first_word"];

/// Where a template went wrong, 1-based.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TemplateError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    Capitalize,
    Upper,
    Lower,
    FirstWord,
}

impl Filter {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "capitalize" => Filter::Capitalize,
            "upper" => Filter::Upper,
            "lower" => Filter::Lower,
            "first_word" => Filter::FirstWord,
            _ => return None,
        })
    }

    fn apply(&self, value: &str) -> String {
        match self {
            Filter::Upper => value.to_uppercase(),
            Filter::Lower => value.to_lowercase(),
            Filter::FirstWord => value.split_whitespace().next().unwrap_or("").to_string(),
            Filter::Capitalize => {
                let mut chars = value.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                }
            }
        }
    }
}

/// A merge tag as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub path: String,
    pub filters: Vec<Filter>,
    pub fallback: Option<String>,
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Tag(Tag),
    Spin(Vec<String>),
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// Whether `path` names a value templates can use.
pub fn is_known_tag(path: &str) -> bool {
    if let Some(key) = path.strip_prefix("custom.") {
        return !key.is_empty();
    }
    LEAD_TAGS.contains(&path) || SENDER_TAGS.contains(&path)
}

struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn at(&self, pos: usize) -> (u32, u32) {
        let before = &self.src[..pos];
        let line = before.matches('\n').count() as u32 + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
        (line, column)
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> TemplateError {
        let (line, column) = self.at(pos);
        TemplateError {
            line,
            column,
            message: message.into(),
        }
    }
}

/// Parses a template, or says where it is wrong.
pub fn parse(src: &str) -> Result<Template, TemplateError> {
    let cur = Cursor { src, pos: 0 };
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut pos = cur.pos;
    while pos < src.len() {
        let rest = &src[pos..];
        if rest.starts_with("{{") {
            let Some(end) = rest.find("}}") else {
                return Err(cur.error(pos, "this merge tag is not closed with }}"));
            };
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Tag(parse_tag(&cur, pos, &rest[2..end])?));
            pos += end + 2;
        } else if let Some(after) = rest.strip_prefix('{') {
            let body_end = after.find(['}', '{']).map(|i| i + 1);
            match body_end {
                Some(end) if rest.as_bytes()[end] == b'}' => {
                    let body = &rest[1..end];
                    if body.contains('|') {
                        if !text.is_empty() {
                            pieces.push(Piece::Text(std::mem::take(&mut text)));
                        }
                        pieces.push(Piece::Spin(body.split('|').map(str::to_string).collect()));
                    } else {
                        text.push_str(&rest[..=end]);
                    }
                    pos += end + 1;
                }
                _ => {
                    return Err(cur.error(
                        pos,
                        "this { is not closed; spintax is written {Hi|Hello} and merge tags {{first_name}}",
                    ))
                }
            }
        } else {
            let ch = rest.chars().next().unwrap_or(' ');
            text.push(ch);
            pos += ch.len_utf8();
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(Template { pieces })
}

fn parse_tag(cur: &Cursor<'_>, start: usize, inner: &str) -> Result<Tag, TemplateError> {
    let (line, column) = cur.at(start);
    let err = |message: String| TemplateError {
        line,
        column,
        message,
    };
    let mut parts = split_outside_quotes(inner).into_iter();
    let path = parts.next().unwrap_or_default();
    let path = path.trim();
    if path.is_empty() {
        return Err(err(
            "this merge tag is empty; write a field such as {{first_name}}".into(),
        ));
    }
    if !is_known_tag(path) {
        return Err(err(format!(
            "unknown merge tag {{{{{path}}}}}; use a contact field ({}), custom.<field>, sender.name, sender.email or org.name",
            LEAD_TAGS.join(", ")
        )));
    }
    let mut tag = Tag {
        path: path.to_string(),
        filters: Vec::new(),
        fallback: None,
        line,
        column,
    };
    for part in parts {
        let part = part.trim();
        if let Some(quoted) = part.strip_prefix('"') {
            let Some(value) = quoted.strip_suffix('"') else {
                return Err(err(format!(
                    "the fallback {part} is missing its closing quote"
                )));
            };
            if tag.fallback.is_some() {
                return Err(err(format!("{{{{{path}}}}} has two fallbacks")));
            }
            tag.fallback = Some(value.replace("\\\"", "\""));
        } else {
            match Filter::parse(part) {
                Some(filter) => tag.filters.push(filter),
                None => {
                    return Err(err(format!(
                        "unknown filter \"{part}\" in {{{{{path}}}}}; filters are {}, and a fallback is written \"text\"",
                        FILTERS.join(", ")
                    )))
                }
            }
        }
    }
    Ok(tag)
}

/// Splits on `|` except inside double quotes.
fn split_outside_quotes(s: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut prev = ' ';
    for ch in s.chars() {
        if ch == '"' && prev != '\\' {
            quoted = !quoted;
        }
        if ch == '|' && !quoted {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(ch);
        }
        prev = ch;
    }
    parts
}

/// The values of the merge tags for one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeValues(pub BTreeMap<String, String>);

/// Who a message is from, for `{{sender.*}}` and `{{org.*}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub email: String,
    pub org_name: String,
}

impl MergeValues {
    pub fn for_contact(contact: &Contact, sender: &Sender) -> Self {
        let mut values = BTreeMap::new();
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
                values.insert(key.to_string(), v.to_string());
            }
        };
        put("first_name", contact.first_name.as_deref());
        put("last_name", contact.last_name.as_deref());
        put("full_name", Some(contact.full_name.as_str()));
        put("email", contact.email.as_deref());
        put("phone", contact.phone.as_deref());
        put("company", contact.company.as_deref());
        put("job_title", contact.job_title.as_deref());
        put("website", contact.website.as_deref());
        put("city", contact.city.as_deref());
        put("state", contact.state.as_deref());
        put("country", contact.country.as_deref());
        put("sender.name", Some(sender.name.as_str()));
        put("sender.email", Some(sender.email.as_str()));
        put("org.name", Some(sender.org_name.as_str()));
        for (key, value) in &contact.custom {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            put(&format!("custom.{key}"), Some(&text));
        }
        MergeValues(values)
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }
}

/// A rendered template and the tags that had neither a value nor a fallback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub missing: Vec<String>,
}

impl Template {
    /// The merge tags, in order.
    pub fn tags(&self) -> impl Iterator<Item = &Tag> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Tag(t) => Some(t),
            _ => None,
        })
    }

    /// Renders with `values`; spintax options are chosen from `seed` (use [`seed_of`]), so the
    /// same seed always gives the same text.
    pub fn render(&self, values: &MergeValues, seed: u64) -> Rendered {
        let mut text = String::new();
        let mut missing = Vec::new();
        let mut group = 0u64;
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Spin(options) => {
                    let pick = mix(seed ^ group.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                        % options.len() as u64;
                    text.push_str(&options[pick as usize]);
                    group += 1;
                }
                Piece::Tag(tag) => match values.get(&tag.path) {
                    Some(v) => {
                        let v = tag
                            .filters
                            .iter()
                            .fold(v.to_string(), |acc, f| f.apply(&acc));
                        if v.is_empty() {
                            push_fallback(tag, &mut text, &mut missing);
                        } else {
                            text.push_str(&v);
                        }
                    }
                    None => push_fallback(tag, &mut text, &mut missing),
                },
            }
        }
        Rendered { text, missing }
    }
}

fn push_fallback(tag: &Tag, text: &mut String, missing: &mut Vec<String>) {
    match &tag.fallback {
        Some(f) => text.push_str(f),
        None => {
            if !missing.contains(&tag.path) {
                missing.push(tag.path.clone());
            }
        }
    }
}

/// A stable 64-bit seed from parts (FNV-1a, then mixed), the same on every platform.
pub fn seed_of(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    mix(h)
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The spintax seed of one message: the same contact, step and variant always read the same.
pub fn message_seed(contact: &str, step: &str, variant: &str) -> u64 {
    seed_of(&[contact, step, variant])
}

fn escape_into(out: &mut String, text: &str) {
    // The characters to escape are ASCII, so the runs between them are copied whole.
    let mut rest = text;
    while let Some(at) = rest
        .bytes()
        .position(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// HTML-escapes `text`.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Escapes a line, turning `http://` and `https://` addresses into links.
fn line_to_html(out: &mut String, line: &str) {
    let mut rest = line;
    while let Some(at) = rest
        .find("http://")
        .into_iter()
        .chain(rest.find("https://"))
        .min()
    {
        escape_into(out, &rest[..at]);
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(tail.len());
        // Trailing punctuation belongs to the sentence, not the address.
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        let url = if url.len() <= "https://".len() {
            &tail[..end]
        } else {
            url
        };
        out.push_str("<a href=\"");
        escape_into(out, url);
        out.push_str("\">");
        escape_into(out, url);
        out.push_str("</a>");
        rest = &tail[url.len()..];
    }
    escape_into(out, rest);
}

/// A plain-text body as safe HTML for an email's HTML part: blank lines separate paragraphs,
/// single newlines become `<br>`, web addresses become links, everything else is escaped.
pub fn text_to_html(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(normalized.len() + 64);
    for para in normalized
        .split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
    {
        out.push_str("<p>");
        for (i, line) in para.split('\n').enumerate() {
            if i > 0 {
                out.push_str("<br>\n");
            }
            line_to_html(&mut out, line);
        }
        out.push_str("</p>\n");
    }
    out
}

/// The most characters a text (SMS or WhatsApp) may hold: Twilio refuses a longer body.
pub const SMS_MAX_CHARS: usize = 1600;
/// Above this many characters a text is long (three segments or more): the editor warns.
pub const SMS_LONG_CHARS: usize = 320;

/// How an SMS is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum SmsEncoding {
    /// The GSM 03.38 alphabet: 160 characters in one segment, 153 per segment when split.
    Gsm7,
    /// Anything else (emoji, most non-Latin scripts): 70 in one segment, 67 when split.
    Ucs2,
}

/// Length and segments of an SMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SmsInfo {
    pub encoding: SmsEncoding,
    /// Characters as the network counts them (GSM extension characters such as `€` count twice;
    /// in UCS-2, characters outside the basic plane count twice).
    pub units: usize,
    pub segments: usize,
}

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// GSM-7 or UCS-2, the length the network counts and the number of segments.
pub fn sms_info(text: &str) -> SmsInfo {
    let mut gsm_units = 0usize;
    let mut gsm = true;
    for ch in text.chars() {
        if GSM_BASIC.contains(ch) {
            gsm_units += 1;
        } else if GSM_EXTENDED.contains(ch) {
            gsm_units += 2;
        } else {
            gsm = false;
            break;
        }
    }
    if gsm {
        let segments = match gsm_units {
            0 => 0,
            n if n <= 160 => 1,
            n => n.div_ceil(153),
        };
        return SmsInfo {
            encoding: SmsEncoding::Gsm7,
            units: gsm_units,
            segments,
        };
    }
    let units: usize = text.chars().map(char::len_utf16).sum();
    let segments = match units {
        0 => 0,
        n if n <= 70 => 1,
        n => n.div_ceil(67),
    };
    SmsInfo {
        encoding: SmsEncoding::Ucs2,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(pairs: &[(&str, &str)]) -> MergeValues {
        MergeValues(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn tags_fallbacks_filters_and_spintax() {
        let t = parse(
            "{Hi|Hello} {{first_name | \"there\"}}, {{company | upper}} and {{custom.budget}}.",
        )
        .expect("valid");
        let r = t.render(
            &values(&[("company", "Acme"), ("custom.budget", "$500k")]),
            7,
        );
        assert!(
            r.text == "Hi there, ACME and $500k." || r.text == "Hello there, ACME and $500k.",
            "{}",
            r.text
        );
        assert!(r.missing.is_empty());
        let r = t.render(&values(&[("first_name", "ana")]), 7);
        assert_eq!(
            r.missing,
            vec!["company".to_string(), "custom.budget".to_string()]
        );
        let t = parse("{{first_name | capitalize}} {{full_name | first_word}}").expect("valid");
        assert_eq!(
            t.render(
                &values(&[("first_name", "ana"), ("full_name", "Ana Lima")]),
                0
            )
            .text,
            "Ana Ana"
        );
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let e = parse("Hello\n  {{frist_name}}").expect_err("unknown tag");
        assert_eq!((e.line, e.column), (2, 3));
        assert!(e.message.contains("frist_name"), "{}", e.message);
        let e = parse("Hi {{first_name").expect_err("unclosed");
        assert_eq!((e.line, e.column), (1, 4));
        let e = parse("{{company | shout}}").expect_err("filter");
        assert!(e.message.contains("shout"));
        let e = parse("{Hi|Hello").expect_err("unclosed spintax");
        assert_eq!((e.line, e.column), (1, 1));
        assert!(parse("{{ }}").is_err());
        assert!(parse("{{first_name | \"a\" | \"b\"}}").is_err());
    }

    #[test]
    fn braces_without_options_are_text() {
        let t = parse("Use {this} as is").expect("valid");
        assert_eq!(
            t.render(&MergeValues::default(), 1).text,
            "Use {this} as is"
        );
    }

    #[test]
    fn plain_text_becomes_safe_html() {
        let html =
            text_to_html("Hi <b>Ana</b> & co,\n\nSee https://example.com/a?b=1&c=2.\nThanks\n\n\n");
        assert_eq!(
            html,
            "<p>Hi &lt;b&gt;Ana&lt;/b&gt; &amp; co,</p>\n<p>See <a href=\"https://example.com/a?b=1&amp;c=2\">https://example.com/a?b=1&amp;c=2</a>.<br>\nThanks</p>\n"
        );
        assert_eq!(
            text_to_html("javascript:alert(1) \"x\""),
            "<p>javascript:alert(1) &quot;x&quot;</p>\n"
        );
    }

    #[test]
    fn sms_encoding_and_segments() {
        assert_eq!(
            sms_info(&"a".repeat(160)),
            SmsInfo {
                encoding: SmsEncoding::Gsm7,
                units: 160,
                segments: 1
            }
        );
        assert_eq!(sms_info(&"a".repeat(161)).segments, 2);
        assert_eq!(sms_info(&"a".repeat(306)).segments, 2);
        assert_eq!(sms_info(&"a".repeat(307)).segments, 3);
        assert_eq!(
            sms_info("Price: 10€").units,
            11,
            "€ is an extension character"
        );
        assert_eq!(sms_info(&"é".repeat(160)).encoding, SmsEncoding::Gsm7);
        let emoji = sms_info("Hi 👋");
        assert_eq!(
            (emoji.encoding, emoji.units, emoji.segments),
            (SmsEncoding::Ucs2, 5, 1)
        );
        assert_eq!(
            sms_info(&"ç".repeat(70)).segments,
            1,
            "lower-case ç is not GSM-7"
        );
        assert_eq!(sms_info(&"ç".repeat(71)).segments, 2);
        assert_eq!(sms_info("").segments, 0);
    }

    proptest! {
        #[test]
        fn html_never_carries_markup_from_the_text(text in "\\PC{0,120}") {
            let html = text_to_html(&text);
            let stripped = html.replace("<p>", "").replace("</p>", "").replace("<br>", "");
            let without_links = stripped.split("<a href=\"").map(|part| part.split_once("\">").map_or(part, |(_, rest)| rest).replace("</a>", "")).collect::<String>();
            prop_assert!(!without_links.contains('<') && !without_links.contains('>'), "{}", html);
        }

        #[test]
        fn never_panics(src in "\\PC{0,80}") {
            if let Ok(t) = parse(&src) {
                let _ = t.render(&MergeValues::default(), 3);
            }
        }

        #[test]
        fn spintax_choice_is_stable_and_covers_options(seed in any::<u64>()) {
            let t = parse("{a|b|c} {x|y}").expect("valid");
            let once = t.render(&MergeValues::default(), seed).text;
            prop_assert_eq!(&once, &t.render(&MergeValues::default(), seed).text);
            let (first, second) = once.split_once(' ').expect("two groups");
            prop_assert!(["a", "b", "c"].contains(&first) && ["x", "y"].contains(&second));
        }
    }
}

//! Parsers for values that arrive from people: the API runs them at its edge, the web app runs the
//! same ones before sending, so both say the same thing about the same input.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Minimum password length (characters).
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Maximum password length (bytes); bounds the cost of hashing.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// A syntactically valid email address, trimmed, with its domain in lower case.
///
/// Comparison and uniqueness are case-insensitive in the database; the local part keeps the case
/// the person typed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let s = input.trim();
        if s.is_empty() {
            return Err("is required");
        }
        if s.len() > 254 {
            return Err("must be at most 254 characters");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("must be an email address like name@example.com");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.chars().all(char::is_alphabetic) && tld.len() >= 2);
        if !local_ok || !domain_ok {
            return Err("must be an email address like name@example.com");
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a new password against the rules (length only: long passphrases beat composition rules).
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(format!("must be at least {PASSWORD_MIN_CHARS} characters"));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(format!("must be at most {PASSWORD_MAX_BYTES} bytes"));
    }
    Ok(())
}

/// Trims `input` and checks that it is non-empty and at most `max` characters, without control
/// characters.
pub fn parse_text(input: &str, max: usize) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("is required".into());
    }
    parse_optional_text(s, max).map(|v| v.unwrap_or_default())
}

/// Like [`parse_text`], but an empty value means "none".
pub fn parse_optional_text(input: &str, max: usize) -> Result<Option<String>, String> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("must not contain control characters".into());
    }
    Ok(Some(s.to_owned()))
}

/// Maximum length of a person's or an organization's name.
pub const NAME_MAX_CHARS: usize = 120;

/// A URL-safe slug derived from a name: lower-case ASCII letters, digits and single dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let mapped = match c {
            'a'..='z' | '0'..='9' => Some(c),
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => Some('a'),
            'è' | 'é' | 'ê' | 'ë' => Some('e'),
            'ì' | 'í' | 'î' | 'ï' | 'ı' => Some('i'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => Some('o'),
            'ù' | 'ú' | 'û' | 'ü' => Some('u'),
            'ç' => Some('c'),
            'ñ' => Some('n'),
            'ş' => Some('s'),
            'ğ' => Some('g'),
            _ => None,
        };
        match mapped {
            Some(m) => slug.push(m),
            None if !slug.is_empty() && !slug.ends_with('-') => slug.push('-'),
            None => {}
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug.truncate(48);
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("org");
    }
    slug
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        let e = EmailAddress::parse("  Jane.Doe+x@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Jane.Doe+x@example.com");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@b.c",
            "a..b@example.com",
            "a@-x.com",
            "a b@example.com",
            "a@exa mple.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn password_length_rule() {
        assert!(check_new_password("123456789").is_err());
        assert!(check_new_password("1234567890").is_ok());
        assert!(
            check_new_password("ééééééééé").is_err(),
            "counts characters, not bytes"
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Aura Demo Realty"), "aura-demo-realty");
        assert_eq!(slugify("  Çelik & Sons!! "), "celik-sons");
        assert_eq!(slugify("***"), "org");
    }

    proptest! {
        #[test]
        fn parsed_emails_reparse_to_themselves(local in "[a-zA-Z0-9][a-zA-Z0-9._+-]{0,20}[a-zA-Z0-9]", domain in "[a-z0-9]{1,10}\\.[a-z]{2,6}") {
            let input = format!("{local}@{domain}");
            if let Ok(parsed) = EmailAddress::parse(&input) {
                prop_assert_eq!(EmailAddress::parse(parsed.as_str()).unwrap(), parsed.clone());
                prop_assert!(parsed.as_str().len() <= 254);
            } else {
                prop_assert!(local.contains(".."));
            }
        }

        #[test]
        fn slugs_are_always_url_safe(name in "\\PC{0,80}") {
            let s = slugify(&name);
            prop_assert!(!s.is_empty() && s.len() <= 48);
            prop_assert!(s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            prop_assert!(!s.starts_with('-') && !s.ends_with('-') && !s.contains("--"));
        }

        #[test]
        fn parse_text_never_returns_blank(input in "\\PC{0,200}") {
            if let Ok(v) = parse_text(&input, 150) {
                prop_assert!(!v.trim().is_empty());
                prop_assert_eq!(v.trim(), v.as_str());
            }
        }
    }
}

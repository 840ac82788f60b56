//! Countries (ISO 3166-1 alpha-2) and what they say about time zones.

pub use crate::countries::COUNTRIES;

/// The upper-case alpha-2 code for `input` (any case, surrounding spaces ignored), if it is a
/// country; a country's English name is accepted too.
pub fn parse_country(input: &str) -> Result<&'static str, &'static str> {
    let s = input.trim();
    COUNTRIES
        .iter()
        .find(|(code, name, _)| code.eq_ignore_ascii_case(s) || name.eq_ignore_ascii_case(s))
        .map(|(code, _, _)| *code)
        .ok_or("must be a two-letter ISO 3166 country code such as US, GB or IN")
}

/// The English name of a country code.
pub fn country_name(code: &str) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, name, _)| *name)
}

/// The time zone of a country that has exactly one (e.g. IN → Asia/Kolkata); `None` where the
/// country spans several (US, BR…), because guessing would send at the wrong hour.
pub fn country_timezone(code: &str) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .and_then(|(_, _, tz)| *tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_parse_by_code_or_name_and_infer_single_zones_only() {
        assert_eq!(parse_country(" gb "), Ok("GB"));
        assert_eq!(parse_country("India"), Ok("IN"));
        assert!(parse_country("XX").is_err());
        assert!(parse_country("").is_err());
        assert_eq!(country_timezone("IN"), Some("Asia/Kolkata"));
        assert_eq!(country_timezone("AE"), Some("Asia/Dubai"));
        assert_eq!(country_timezone("US"), None);
        assert_eq!(country_name("TR"), Some("Türkiye"));
        assert!(COUNTRIES.len() > 240);
    }
}

//! Subjects as threads compare them: without the reply and forward prefixes mail clients add
//! ("Re:", "RE[2]:", "AW:", "SV:", "Fwd:"…), spaces collapsed, case folded.

/// Prefixes that mark a reply or a forward, in the languages mail clients write them.
const PREFIXES: &[&str] = &[
    "re", "fw", "fwd", "aw", "wg", "sv", "vs", "tr", "rv", "enc", "res", "antw", "odp", "vl", "r",
    "ref",
];

/// `subject` without any leading reply or forward prefixes, whitespace collapsed, lowercased:
/// "RE[2]: AW: Your listing" and "your  listing" compare equal.
pub fn normalize(subject: &str) -> String {
    without_prefixes(subject)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `subject` without its leading reply and forward prefixes, as written otherwise ("AW: Re: Your
/// listing" → "Your listing").
pub fn without_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim();
    while let Some(after) = strip_prefix(rest) {
        rest = after.trim_start();
    }
    rest
}

/// The subject of a reply to an email with subject `previous`: "Re: " once, however many times
/// and in whichever language the thread was answered ("AW: Re: Offer" → "Re: Offer").
pub fn reply_subject(previous: &str) -> String {
    format!("Re: {}", without_prefixes(previous))
}

/// The subject after one prefix ("Re:", "Re[3]:", "Re(2):", "Fwd :", "Réf. :"), if it starts
/// with one.
fn strip_prefix(s: &str) -> Option<&str> {
    let word_end = s
        .char_indices()
        .find(|(_, c)| !c.is_alphabetic())
        .map(|(i, _)| i)?;
    let word = s[..word_end].to_lowercase();
    let word = word.trim_end_matches('.');
    if !PREFIXES.contains(&word) && word != "réf" {
        return None;
    }
    let mut rest = s[word_end..].trim_start_matches('.');
    // A count: "[2]" or "(2)".
    if let Some(inner) = rest.strip_prefix('[').or_else(|| rest.strip_prefix('(')) {
        let close = inner.find([']', ')'])?;
        if !inner[..close].chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        rest = &inner[close + 1..];
    }
    let rest = rest.trim_start();
    rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))
}

#[cfg(test)]
mod tests {
    use super::{normalize, reply_subject};

    #[test]
    fn a_reply_subject_says_re_once() {
        assert_eq!(reply_subject("Homes near you"), "Re: Homes near you");
        assert_eq!(reply_subject("Re: Homes near you"), "Re: Homes near you");
        assert_eq!(reply_subject("RE:Homes"), "Re: Homes");
        assert_eq!(reply_subject("AW: Re: Homes"), "Re: Homes");
        assert_eq!(reply_subject("SV: RE[2]: Homes"), "Re: Homes");
        assert_eq!(reply_subject(" Ré "), "Re: Ré");
    }

    #[test]
    fn prefixes_in_many_languages_are_removed_repeatedly() {
        for s in [
            "Re: Your listing",
            "RE: Your listing",
            "RE[2]: Your listing",
            "Re(3): Your  listing",
            "AW: Re: Your listing",
            "SV: Your listing",
            "Fwd: RE: your listing",
            "FW : Your listing",
            "TR: Your listing",
            "Réf. : Your listing",
            "  your listing ",
        ] {
            assert_eq!(normalize(s), "your listing", "{s}");
        }
    }

    #[test]
    fn words_that_only_start_like_a_prefix_stay() {
        assert_eq!(normalize("Really quick question"), "really quick question");
        assert_eq!(normalize("Re-listing your home"), "re-listing your home");
        assert_eq!(normalize("Aware: a note"), "aware: a note");
        assert_eq!(normalize("Re[x]: odd"), "re[x]: odd");
        assert_eq!(normalize(""), "");
    }
}

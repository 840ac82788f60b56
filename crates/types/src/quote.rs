//! Where a reply's own words end and what it quotes begins (the server reads a reply's meaning
//! from its own words; the web app shows them and folds the quote away).

/// The reply's own words: what comes before the quoted message (`> …` lines, "On … wrote:",
/// "-----Original Message-----", "From: …").
pub fn own_words(text: &str) -> &str {
    let mut end = text.len();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim();
        let quoted = l.starts_with('>')
            || (l.starts_with("On ") && l.ends_with("wrote:"))
            || l.starts_with("-----Original Message")
            || l.starts_with("________________")
            || (l.starts_with("From:") && offset > 0);
        if quoted {
            end = offset;
            break;
        }
        offset += line.len();
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quote_starts_at_the_first_quoting_line() {
        let text = "Thursday works.\n\nOn Mon, 7 Dec 2026, Dana wrote:\n> Hi Ana\n";
        assert_eq!(own_words(text), "Thursday works.\n\n");
        assert_eq!(own_words("> all quoted\n"), "");
        assert_eq!(own_words("No quote at all"), "No quote at all");
        assert_eq!(
            own_words("Yes.\n-----Original Message-----\nFrom: x\n"),
            "Yes.\n"
        );
    }
}

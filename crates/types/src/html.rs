//! Mail's HTML as the web app shows it (in a sandboxed frame).

/// `html` with `rel="noopener noreferrer"` first in every link: a page a link opens cannot reach
/// back into the frame that showed it, nor learn where it was opened from. (An attribute given
/// twice keeps its first value, so the message's own `rel` cannot undo it.)
pub fn links_without_opener(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let (before, tag) = rest.split_at(at);
        out.push_str(before);
        let b = tag.as_bytes();
        if b.len() > 2 && b[1].eq_ignore_ascii_case(&b'a') && b[2].is_ascii_whitespace() {
            out.push_str(&tag[..2]);
            out.push_str(" rel=\"noopener noreferrer\"");
            rest = &tag[2..];
        } else {
            out.push('<');
            rest = &tag[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::links_without_opener;

    #[test]
    fn every_link_opens_without_its_opener() {
        assert_eq!(
            links_without_opener(r#"<p>See <a href="https://x.example">this</a> and <A
href="https://y.example" rel="opener">that</A>.</p><abbr>a</abbr><a>"#),
            "<p>See <a rel=\"noopener noreferrer\" href=\"https://x.example\">this</a> and <A rel=\"noopener noreferrer\"\nhref=\"https://y.example\" rel=\"opener\">that</A>.</p><abbr>a</abbr><a>"
        );
        assert_eq!(links_without_opener("no tags < here é"), "no tags < here é");
    }
}

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
        // `<a` or `<area`, then what ends a tag's name (space, `/` or `>`).
        let b = tag.as_bytes();
        let name = if b.len() > 1 && b[1].eq_ignore_ascii_case(&b'a') {
            if b.len() > 4 && tag[1..5].eq_ignore_ascii_case("area") {
                5
            } else {
                2
            }
        } else {
            0
        };
        let ends = |i: usize| {
            b.get(i)
                .is_some_and(|c| c.is_ascii_whitespace() || *c == b'/' || *c == b'>')
        };
        if name > 0 && ends(name) {
            out.push_str(&tag[..name]);
            out.push_str(" rel=\"noopener noreferrer\"");
            rest = &tag[name..];
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
            "<p>See <a rel=\"noopener noreferrer\" href=\"https://x.example\">this</a> and <A rel=\"noopener noreferrer\"\nhref=\"https://y.example\" rel=\"opener\">that</A>.</p><abbr>a</abbr><a rel=\"noopener noreferrer\">"
        );
        assert_eq!(links_without_opener("no tags < here é"), "no tags < here é");
        // A slash or nothing after the name is a link too; an image map's areas are links.
        assert_eq!(
            links_without_opener(r#"<a/href="https://x.example">x</a><A>y</A><area href="z"><abbr>"#),
            "<a rel=\"noopener noreferrer\"/href=\"https://x.example\">x</a><A rel=\"noopener noreferrer\">y</A><area rel=\"noopener noreferrer\" href=\"z\"><abbr>"
        );
    }
}

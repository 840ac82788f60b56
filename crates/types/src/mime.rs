//! Reading a message as it went on the wire (RFC 5322 / MIME), enough to show what a sandbox
//! mailbox caught: unfolded headers, the plain-text part, quoted-printable decoding.

/// The header block's fields, unfolded, in order.
pub fn headers(raw: &str) -> Vec<(String, String)> {
    let head = raw.split("\r\n\r\n").next().unwrap_or("");
    head.replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .lines()
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// The value of header `name` (case-insensitive), if present.
pub fn header(raw: &str, name: &str) -> Option<String> {
    headers(raw)
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Quoted-printable decoded: soft line breaks joined, `=HH` escapes turned back into bytes
/// (read as UTF-8).
pub fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The multipart boundary named in the top-level `Content-Type`, if any.
fn boundary(raw: &str) -> Option<String> {
    let ct = header(raw, "Content-Type")?;
    let at = ct.find("boundary=")? + "boundary=".len();
    let rest = &ct[at..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?,
        None => rest.split([';', ' ']).next()?,
    };
    Some(value.to_owned())
}

/// The first `text/plain` part's body, decoded, with `\n` line ends.
pub fn text_part(raw: &str) -> String {
    let Some(start) = raw.find("Content-Type: text/plain") else {
        return String::new();
    };
    let part = &raw[start..];
    let (head, body) = part.split_once("\r\n\r\n").unwrap_or((part, ""));
    let body = match boundary(raw) {
        Some(b) => body.split(&format!("\r\n--{b}")).next().unwrap_or(""),
        None => body,
    };
    let body = if head.contains("quoted-printable") {
        decode_quoted_printable(body)
    } else {
        body.to_owned()
    };
    body.replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "From: \"Dana\" <dana@example.com>\r\nList-Unsubscribe: <https://a.example/u/T>,\r\n <mailto:d@example.com>\r\nSubject: Hi\r\nContent-Type: multipart/alternative; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 soon, a long line that is=\r\n joined\r\n\r\n--\r\nThe footer\r\n--B\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--B--\r\n";

    #[test]
    fn headers_are_unfolded_and_the_text_part_decoded() {
        assert_eq!(
            header(RAW, "list-unsubscribe").as_deref(),
            Some("<https://a.example/u/T>, <mailto:d@example.com>")
        );
        assert_eq!(header(RAW, "Subject").as_deref(), Some("Hi"));
        assert_eq!(header(RAW, "Cc"), None);
        assert_eq!(
            text_part(RAW),
            "Café soon, a long line that is joined\n\n--\nThe footer"
        );
        assert_eq!(text_part("Subject: x\r\n\r\nno parts"), "");
    }
}

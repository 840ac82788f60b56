//! Reading uploaded CSV files as people export them: UTF-8 with or without BOM, or Latin-1;
//! comma, semicolon or tab separated; CRLF line ends; quoted fields with newlines and quotes.

/// The file as text and the name of the encoding it was read in.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), "utf-8"),
        // Every byte is a Latin-1 character (U+0000–U+00FF).
        Err(_) => (bytes.iter().map(|&b| char::from(b)).collect(), "latin-1"),
    }
}

/// The delimiter of the header line: the most frequent of `,` `;` and tab outside quotes.
pub fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut in_quotes = false;
    for c in text.bytes() {
        match c {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => break,
            _ if !in_quotes => {
                for (d, n) in counts.iter_mut() {
                    if *d == c {
                        *n += 1;
                    }
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(d, _)| *d)
}

/// How a delimiter is shown to people.
pub fn delimiter_name(d: u8) -> &'static str {
    match d {
        b';' => ";",
        b'\t' => "tab",
        _ => ",",
    }
}

pub fn delimiter_from_name(name: &str) -> u8 {
    match name {
        ";" => b';',
        "tab" => b'\t',
        _ => b',',
    }
}

/// A CSV reader over `text`: records may have any number of fields; blank lines are skipped.
pub fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// The header row and the data rows with their row numbers (the header is row 1, as in a
/// spreadsheet), skipping rows whose cells are all empty.
pub fn rows(
    text: &str,
    delimiter: u8,
) -> Result<
    (
        Vec<String>,
        impl Iterator<Item = (i64, csv::StringRecord)> + '_,
    ),
    String,
> {
    let mut records = reader(text, delimiter).into_records();
    let header = loop {
        match records.next() {
            None => return Err("The file is empty.".into()),
            Some(Err(e)) => return Err(format!("The file could not be read as CSV: {e}")),
            Some(Ok(r)) if r.iter().all(|c| c.trim().is_empty()) => continue,
            Some(Ok(r)) => break r,
        }
    };
    let headers: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
    let data = records.enumerate().filter_map(|(i, r)| {
        let r = r.ok()?;
        (!r.iter().all(|c| c.trim().is_empty())).then_some((i as i64 + 2, r))
    });
    Ok((headers, data))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bom_latin1_delimiters_and_quotes() {
        assert_eq!(decode(b"\xEF\xBB\xBFa,b").0, "a,b");
        let (text, enc) = decode(b"name\nJos\xE9");
        assert_eq!((text.as_str(), enc), ("name\nJosé", "latin-1"));
        assert_eq!(sniff_delimiter("a;b;\"c,d,e\"\n1,2,3"), b';');
        assert_eq!(sniff_delimiter("a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter("single"), b',');
        let (h, rows) = rows(
            "\r\nname,note\r\n\r\nAda,\"line 1\nline \"\"2\"\"\"\r\n,\r\nBob,x\r\n",
            b',',
        )
        .unwrap();
        assert_eq!(h, vec!["name", "note"]);
        let rows: Vec<_> = rows
            .map(|(n, r)| (n, r.iter().map(str::to_owned).collect::<Vec<_>>()))
            .collect();
        assert_eq!(
            rows[0],
            (2, vec!["Ada".to_owned(), "line 1\nline \"2\"".to_owned()])
        );
        assert_eq!((rows[1].0, rows[1].1[0].as_str()), (4, "Bob"));
        assert_eq!(rows.len(), 2);
    }
}

//! The template renderer on arbitrary input: parsing never panics; a template that parses renders
//! the same text twice with the same seed; the HTML part never carries a raw `<` or `>` of the
//! text (only the tags the converter writes); SMS analysis accepts any text.

#![no_main]

use aura_types::template::{self, sms_info, text_to_html, MergeValues};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line (if any) is a lead's first name; the rest is the template.
    let (first, src) = text.split_once('\n').unwrap_or(("", text));
    let values = MergeValues(BTreeMap::from([
        ("first_name".to_string(), first.to_string()),
        ("custom.budget".to_string(), "500k".to_string()),
    ]));
    if let Ok(t) = template::parse(src) {
        let seed = template::seed_of(&[first]);
        let a = t.render(&values, seed);
        let b = t.render(&values, seed);
        assert_eq!(a, b, "the same seed renders the same text");
        let html = text_to_html(&a.text);
        let stripped = ["<p>", "</p>", "<br>", "</a>"]
            .iter()
            .fold(html.clone(), |h, tag| h.replace(tag, ""));
        let stripped = stripped
            .split("<a href=\"")
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    part.split_once("\">").map_or(part, |(_, rest)| rest)
                }
            })
            .collect::<String>();
        assert!(
            !stripped.contains('<') && !stripped.contains('>'),
            "unescaped markup in {html:?}"
        );
        let _ = sms_info(&a.text);
    }
});

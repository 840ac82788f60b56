//! The template renderer gives byte-identical output natively and in WebAssembly (the browser's
//! live preview): the same corpus is rendered on both and compared with one committed expectation,
//! `tests/corpus.expected`. Natively this runs with the other tests; in wasm32 under Node:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p aura-types --target wasm32-unknown-unknown --test corpus`.

use aura_types::template::{message_seed, parse, sms_info, text_to_html, MergeValues};
use std::fmt::Write;

const TEMPLATES: &[&str] = &[
    "{Hi|Hello|Hey} {{first_name | \"there\"}},\n\nQuick one about {{company | upper}} in {{city | \"your area\"}}.",
    "{{full_name | first_word}} — {{custom.budget | \"your budget\"}} · {{job_title | lower | capitalize}}",
    "Olá {{first_name | \"amigo\"}}! Preço: 10€ — {Obrigado|Valeu} 🙏\n\nVeja https://example.com/a?b=1&c=<2>.",
    "Merhaba {{first_name}}, İstanbul'da {{custom.rooms | \"3\"}} odalı ev {mevcut|hazır}.",
    "नमस्ते {{first_name | \"जी\"}}, {{org.name}} से {{sender.name}}.",
    "{A|B|C|D|E}{1|2|3}{x|y} {{email}} <b>&amp;</b> \"quoted\" 'single'",
];

fn lead(n: usize) -> MergeValues {
    let people: [&[(&str, &str)]; 4] = [
        &[
            ("first_name", "Maria"),
            ("company", "Lopez Dental"),
            ("city", "Austin"),
            ("full_name", "Maria Lopez"),
            ("job_title", "PRACTICE MANAGER"),
        ],
        &[
            ("first_name", "Çağla"),
            ("custom.budget", "₺4.500.000"),
            ("custom.rooms", "4"),
            ("email", "cagla@example.com"),
        ],
        &[
            ("first_name", "Zoë"),
            ("full_name", "Zoë Brontë"),
            ("email", "zoe@example.com"),
        ],
        &[],
    ];
    let mut values: Vec<(String, String)> = people[n % people.len()]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    values.push(("org.name".into(), "Aura Realty".into()));
    values.push(("sender.name".into(), "Sam".into()));
    MergeValues(values.into_iter().collect())
}

/// Every template for every lead and three variants: the text, its HTML and its SMS figures.
pub fn render_corpus() -> String {
    let mut out = String::new();
    for (t, src) in TEMPLATES.iter().enumerate() {
        let template = parse(src).expect("corpus templates parse");
        for l in 0..4 {
            for variant in ["A", "B", "C"] {
                let seed = message_seed(&format!("contact-{l}"), &format!("step-{t}"), variant);
                let r = template.render(&lead(l), seed);
                let sms = sms_info(&r.text);
                let _ = writeln!(
                    out,
                    "## {t}/{l}/{variant} missing={:?} sms={:?}/{}/{}\n{}\n--\n{}",
                    r.missing,
                    sms.encoding,
                    sms.units,
                    sms.segments,
                    r.text,
                    text_to_html(&r.text)
                );
            }
        }
    }
    out
}

const EXPECTED: &str = include_str!("corpus.expected");

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_rendering_matches_the_corpus() {
    let got = render_corpus();
    if std::env::var_os("AURA_WRITE_CORPUS").is_some() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus.expected"),
            &got,
        )
        .expect("write");
    }
    assert_eq!(got, EXPECTED);
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn wasm_rendering_matches_the_corpus() {
    assert_eq!(render_corpus(), EXPECTED);
}

//! The inbound corpus (`tests/fixtures/inbound/`): real-shaped replies, auto-replies, bounces,
//! complaints and machine mail, each with what it must be read as; prints accuracy per kind.

use super::{read, Kind};
use std::collections::BTreeMap;

#[derive(serde::Deserialize)]
struct Expected {
    file: String,
    kind: String,
    in_reply_to: Option<String>,
    until: Option<String>,
    permanent: Option<bool>,
    recipient: Option<String>,
    status: Option<String>,
    original_message_id: Option<String>,
}

#[test]
fn every_message_of_the_corpus_is_read_as_expected() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inbound");
    let expected: Vec<Expected> =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).expect("expected.json"))
            .expect("expected.json reads");
    assert!(
        expected.len() >= 30,
        "the corpus holds at least 30 messages"
    );
    let mut per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for e in &expected {
        let raw = std::fs::read(dir.join(&e.file)).expect(&e.file);
        let got = read(
            &raw,
            &["dana@aura-demo.example"],
            time::macros::datetime!(2026-12-31 12:00 UTC),
        )
        .expect(&e.file);
        let mut problems = Vec::new();
        let kind = match &got.kind {
            Kind::Reply => "reply",
            Kind::AutoReply { .. } => "auto_reply",
            Kind::Bounce(_) => "bounce",
            Kind::Complaint(_) => "complaint",
            Kind::Machine => "machine",
        };
        if kind != e.kind {
            problems.push(format!("kind {kind}"));
        }
        if let Some(id) = &e.in_reply_to {
            if !got.answers.contains(id) {
                problems.push(format!("answers {:?}", got.answers));
            }
        }
        match &got.kind {
            Kind::AutoReply { until } => {
                let until = until.map(|d| d.to_string());
                if until != e.until {
                    problems.push(format!("until {until:?}"));
                }
            }
            Kind::Bounce(b) => {
                if Some(b.permanent) != e.permanent {
                    problems.push(format!("permanent {}", b.permanent));
                }
                if b.recipient != e.recipient {
                    problems.push(format!("recipient {:?}", b.recipient));
                }
                if e.status.is_some() && b.status != e.status {
                    problems.push(format!("status {:?}", b.status));
                }
                if b.original_message_id != e.original_message_id {
                    problems.push(format!("original {:?}", b.original_message_id));
                }
            }
            Kind::Complaint(c) => {
                if c.recipient != e.recipient {
                    problems.push(format!("recipient {:?}", c.recipient));
                }
                if c.original_message_id != e.original_message_id {
                    problems.push(format!("original {:?}", c.original_message_id));
                }
            }
            _ => {}
        }
        let entry = per_kind.entry(e.kind.as_str()).or_default();
        entry.1 += 1;
        if problems.is_empty() {
            entry.0 += 1;
        } else {
            wrong.push(format!("{}: {}", e.file, problems.join(", ")));
        }
    }
    for (kind, (right, all)) in &per_kind {
        println!("{kind}: {right}/{all}");
    }
    assert!(wrong.is_empty(), "read wrongly:\n{}", wrong.join("\n"));
}

//! Template rendering speed: a 600-character email with 6 merge tags and 2 spintax groups,
//! rendered for one lead, beside a plain `format!` of the same text as the reference.
//! Run with `cargo bench -p aura-types --bench render`; the target is ≥ 200,000 renders/s on one core.

use aura_types::template::{message_seed, parse, MergeValues};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::time::Instant;

const TEMPLATE: &str = "{Hi|Hello|Hey} {{first_name | \"there\"}},\n\n\
I noticed {{company | \"your team\"}} is growing in {{city | \"your area\"}}, and I wanted to share something that \
has helped similar teams save hours every week on outreach. We set up the whole thing for you, in your own voice, \
and you only approve what goes out.\n\n\
Most teams we work with see their first replies within a week, and the setup takes about twenty minutes of your \
time. If {{custom.budget | \"budget\"}} is a concern, the first month is on us, no strings attached.\n\n\
{Would a quick call next week make sense|Could we find fifteen minutes next week}? I can walk you through it \
with examples from {{job_title | lower}} peers.\n\n\
{{sender.name}}";

fn values() -> MergeValues {
    MergeValues(
        [
            ("first_name", "Maria"),
            ("company", "Lopez Dental"),
            ("city", "Austin"),
            ("custom.budget", "$2,000"),
            ("job_title", "Practice Manager"),
            ("sender.name", "Sam Seller"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    )
}

fn reference(v: &MergeValues) -> String {
    format!(
        "Hello {},\n\nI noticed {} is growing in {}, and I wanted to share something that has helped similar teams save \
hours every week on outreach. We set up the whole thing for you, in your own voice, and you only approve what goes out.\n\n\
Most teams we work with see their first replies within a week, and the setup takes about twenty minutes of your time. \
If {} is a concern, the first month is on us, no strings attached.\n\nCould we find fifteen minutes next week? I can \
walk you through it with examples from {} peers.\n\n{}",
        v.get("first_name").unwrap_or("there"),
        v.get("company").unwrap_or("your team"),
        v.get("city").unwrap_or("your area"),
        v.get("custom.budget").unwrap_or("budget"),
        v.get("job_title").unwrap_or("").to_lowercase(),
        v.get("sender.name").unwrap_or(""),
    )
}

fn per_second(mut f: impl FnMut() -> usize) -> f64 {
    let n = 200_000;
    let started = Instant::now();
    let mut total = 0;
    for _ in 0..n {
        total += f();
    }
    black_box(total);
    n as f64 / started.elapsed().as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let template = parse(TEMPLATE).expect("the benchmark template parses");
    let v = values();
    let seed = message_seed("contact", "step", "A");
    assert!(
        TEMPLATE.chars().count() >= 600,
        "{} characters",
        TEMPLATE.chars().count()
    );
    assert_eq!(template.tags().count(), 6, "6 merge tags");
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(1));
    group.bench_function("aura template", |b| {
        b.iter(|| template.render(black_box(&v), black_box(seed)))
    });
    group.bench_function("format! reference", |b| b.iter(|| reference(black_box(&v))));
    group.finish();
    let ours = per_second(|| template.render(&v, seed).text.len());
    let reference_rate = per_second(|| reference(&v).len());
    println!(
        "\nrenders/s: aura template {ours:.0} vs format! {reference_rate:.0} (ratio {:.2}; target ≥ 200,000/s)",
        ours / reference_rate
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Segments: static membership, dynamic rules with previews, and the differential test that the
//! SQL compiler means exactly what the in-memory evaluator means.

use crate::helpers::*;
use aura_api::db::contacts::{self, Selection};
use aura_api::domain::contact::ContactRecord;
use aura_types::{
    Channel, ConsentStatus, Contact, ContactId, ContactStatus, ContactType, DateField, DateOp,
    ErrorCode, IsOp, MembersResult, OrgId, Page, Rule, ScoreOp, Segment, SegmentPreview, TagOp,
    TextField, TextOp,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

#[sqlx::test(migrations = "../../migrations")]
async fn static_and_dynamic_segments(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let c = owner
            .create_contact(json!({"email": format!("s{i}@example.com"), "tags": if i < 4 { json!(["buyer"]) } else { json!(["seller"]) }, "ai_intent_score": i * 10, "country": if i % 2 == 0 { "IN" } else { "GB" }}))
            .await;
        ids.push(c.id);
    }
    let res = owner
        .post(
            "/api/v1/segments",
            json!({"name": "Open house list", "kind": "static"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stat: Segment = res.json().await.unwrap();
    let r: MembersResult = owner
        .post(
            &format!("/api/v1/segments/{}/members", stat.id),
            json!({"selection": {"ids": [ids[0], ids[1]]}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((r.changed, r.member_count), (2, 2));
    let r: MembersResult = owner
        .post(
            &format!("/api/v1/segments/{}/members", stat.id),
            json!({"selection": {"filter": {"tags_any": "buyer"}}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((r.changed, r.member_count), (2, 4));
    let r: MembersResult = owner
        .post(
            &format!("/api/v1/segments/{}/members/remove", stat.id),
            json!({"selection": {"ids": [ids[0]]}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((r.changed, r.member_count), (1, 3));
    let page: Page<Contact> = owner
        .get(&format!("/api/v1/contacts?segment_id={}", stat.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.total, 3);

    let rules = json!({"type": "all", "rules": [
        {"type": "tag", "op": "has", "tag": "seller"},
        {"type": "any", "rules": [{"type": "score", "op": "at_least", "value": 80}, {"type": "text", "field": "country", "op": "equals", "value": "in"}]}
    ]});
    let preview: SegmentPreview = owner
        .post("/api/v1/segments/preview", json!({"rules": rules}))
        .await
        .json()
        .await
        .unwrap();
    // Sellers are 4..9; of those, score ≥ 80 (8, 9) or IN (4, 6, 8): 4, 6, 8, 9.
    assert_eq!(preview.count, 4);
    assert_eq!(preview.sample.len(), 4);
    let dynamic: Segment = owner
        .post(
            "/api/v1/segments",
            json!({"name": "Hot sellers", "kind": "dynamic", "rules": rules}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dynamic.member_count, 4);
    let page: Page<Contact> = owner
        .get(&format!(
            "/api/v1/contacts?segment_id={}&country=IN",
            dynamic.id
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    expect_error(
        owner
            .post(
                &format!("/api/v1/segments/{}/members", dynamic.id),
                json!({"selection": {"ids": [ids[0]]}}),
            )
            .await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    let list: Vec<Segment> = owner.get("/api/v1/segments").await.json().await.unwrap();
    assert_eq!(
        list.iter()
            .map(|s| (s.name.as_str(), s.member_count))
            .collect::<Vec<_>>(),
        vec![("Hot sellers", 4), ("Open house list", 3)]
    );

    let updated: Segment = owner
        .patch(
            &format!("/api/v1/segments/{}", dynamic.id),
            json!({"rules": {"type": "tag", "op": "has", "tag": "buyer"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated.member_count, 4);
    let err = expect_error(
        owner
            .post(
                "/api/v1/segments",
                json!({"name": "hot SELLERS", "kind": "static"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("name"));
    let err = expect_error(owner.post("/api/v1/segments", json!({"name": "Bad", "kind": "dynamic", "rules": {"type": "all", "rules": [{"type": "text", "field": "city", "op": "contains", "value": ""}]}})).await, StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed).await;
    assert!(err.fields.unwrap().contains_key("rules.rules[0].value"));
    expect_error(owner.post("/api/v1/segments", json!({"name": "Bad", "kind": "dynamic", "rules": {"type": "text", "field": "shoe_size", "op": "equals", "value": "9"}})).await, StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed).await;
    expect_error(
        owner
            .post(
                "/api/v1/segments",
                json!({"name": "Bad", "kind": "dynamic"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert_eq!(
        owner
            .delete(&format!("/api/v1/segments/{}", stat.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let page: Page<Contact> = owner.get("/api/v1/contacts").await.json().await.unwrap();
    assert_eq!(page.total, 10, "deleting a segment keeps its contacts");
    let err = expect_error(
        owner
            .get(&format!("/api/v1/contacts?segment_id={}", stat.id))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("segment_id"));
}

const WORDS: &[&str] = &["ana", "Bo", "cy", "ANA", "x_y", "a%b", "dee"];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_owned)
}

fn opt_word() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::collection::vec(word(), 1..3).prop_map(|w| w.join("")))
}

fn text_field() -> impl Strategy<Value = TextField> {
    prop::sample::select(vec![
        TextField::FirstName,
        TextField::LastName,
        TextField::Company,
        TextField::City,
        TextField::Source,
        TextField::Email,
    ])
}

fn leaf(segment: aura_types::SegmentId, owner: aura_types::UserId) -> impl Strategy<Value = Rule> {
    let now = OffsetDateTime::now_utc();
    prop_oneof![
        (text_field(), prop::sample::select(TextOp::ALL), word())
            .prop_map(|(field, op, value)| Rule::Text { field, op, value }),
        (
            prop::sample::select(vec!["k1", "k2"]),
            prop::sample::select(TextOp::ALL),
            word()
        )
            .prop_map(|(k, op, value)| Rule::Custom {
                key: k.to_owned(),
                op,
                value
            }),
        (prop::sample::select(vec!["t1", "t2", "t3"]), any::<bool>()).prop_map(|(t, has)| {
            Rule::Tag {
                op: if has { TagOp::Has } else { TagOp::HasNot },
                tag: t.to_owned(),
            }
        }),
        (prop::sample::select(ContactStatus::ALL), any::<bool>()).prop_map(|(v, is)| {
            Rule::Status {
                op: if is { IsOp::Is } else { IsOp::IsNot },
                value: v,
            }
        }),
        (prop::sample::select(ContactType::ALL), any::<bool>()).prop_map(|(v, is)| {
            Rule::ContactType {
                op: if is { IsOp::Is } else { IsOp::IsNot },
                value: v,
            }
        }),
        (
            prop::sample::select(Channel::ALL),
            prop::sample::select(ConsentStatus::ALL),
            any::<bool>()
        )
            .prop_map(|(c, v, is)| Rule::Consent {
                channel: c,
                op: if is { IsOp::Is } else { IsOp::IsNot },
                value: v
            }),
        (
            prop::sample::select(vec![
                DateField::LastRepliedAt,
                DateField::LastContactedAt,
                DateField::CreatedAt
            ]),
            prop::sample::select(DateOp::ALL),
            -40i64..40,
            0u32..40
        )
            .prop_map(move |(field, op, off, days)| Rule::Date {
                field,
                op,
                at: Some(now + time::Duration::days(off)),
                days: Some(days)
            }),
        (any::<bool>(), 0i16..=100).prop_map(|(least, value)| Rule::Score {
            op: if least {
                ScoreOp::AtLeast
            } else {
                ScoreOp::AtMost
            },
            value
        }),
        any::<bool>().prop_map(move |some| Rule::Owner {
            owner_id: some.then_some(owner)
        }),
        Just(Rule::InSegment {
            segment_id: segment
        }),
        word().prop_map(|q| Rule::Search { q }),
    ]
}

fn rule_tree(
    segment: aura_types::SegmentId,
    owner: aura_types::UserId,
) -> impl Strategy<Value = Rule> {
    leaf(segment, owner).prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|rules| Rule::All { rules }),
            prop::collection::vec(inner, 0..4).prop_map(|rules| Rule::Any { rules }),
        ]
    })
}

fn contact_record(
    owner: aura_types::UserId,
) -> impl Strategy<Value = (ContactRecord, Option<i64>, Option<i64>)> {
    (
        (opt_word(), opt_word(), opt_word(), opt_word(), opt_word()),
        (
            prop::sample::subsequence(vec!["t1", "t2", "t3"], 0..=3),
            prop::sample::select(ContactStatus::ALL),
            prop::sample::select(ContactType::ALL),
        ),
        (
            prop::option::of(prop::sample::select(ConsentStatus::ALL)),
            prop::option::of(opt_word()),
            prop::option::of(0i16..=100),
            any::<bool>(),
        ),
        (prop::option::of(-60i64..60), prop::option::of(-60i64..60)),
    )
        .prop_map(
            move |(
                (first, last, company, city, source),
                (tags, status, kind),
                (consent, custom, score, owned),
                (replied, contacted),
            )| {
                let mut r = ContactRecord::new(ContactId::new());
                r.first_name = first;
                r.last_name = last;
                r.company = company;
                r.city = city;
                r.source = source;
                r.email = Some(format!("{}@example.com", r.id));
                r.tags = tags.into_iter().map(str::to_owned).collect();
                r.status = status;
                r.contact_type = kind;
                if let Some(c) = consent {
                    r.consent.sms.status = c;
                }
                if let Some(v) = custom {
                    r.custom.insert(
                        "k1".into(),
                        v.map_or(serde_json::Value::Null, serde_json::Value::String),
                    );
                }
                r.ai_intent_score = score;
                r.owner_id = owned.then_some(owner);
                (r, replied, contacted)
            },
        )
}

#[sqlx::test(migrations = "../../migrations")]
async fn compiled_rules_select_exactly_what_the_rules_mean(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let org: OrgId = owner.org_id();
    let user = owner.user_id();
    let segment: Segment = owner
        .post(
            "/api/v1/segments",
            json!({"name": "Static", "kind": "static"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut runner = TestRunner::deterministic();
    let mut conn = app.pool.acquire().await.unwrap();
    let records: Vec<_> = (0..120)
        .map(|_| {
            contact_record(user)
                .new_tree(&mut runner)
                .unwrap()
                .current()
        })
        .collect();
    let plain: Vec<ContactRecord> = records.iter().map(|(r, _, _)| r.clone()).collect();
    contacts::upsert(&mut conn, org, &plain).await.unwrap();
    for (r, replied, contacted) in &records {
        sqlx::query("update contacts set last_replied_at = now() + make_interval(days => $2::int), last_contacted_at = now() + make_interval(days => $3::int) where id = $1")
            .bind(r.id.0)
            .bind(replied.map(|d| d as i32))
            .bind(contacted.map(|d| d as i32))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let members: Vec<ContactId> = plain.iter().step_by(3).map(|r| r.id).collect();
    owner
        .post(
            &format!("/api/v1/segments/{}/members", segment.id),
            json!({"selection": {"ids": members}}),
        )
        .await;
    let all: Vec<Contact> = contacts::list(
        &mut conn,
        org,
        &Selection::Rule(Rule::All { rules: vec![] }),
        OffsetDateTime::now_utc(),
        None,
        1000,
    )
    .await
    .unwrap();
    assert_eq!(all.len(), 120);
    let in_segment =
        |s: aura_types::SegmentId, c: ContactId| s == segment.id && members.contains(&c);
    // Every text comparison of every word on every field, then random trees of every kind.
    let mut exhaustive = Vec::new();
    for op in TextOp::ALL {
        for w in WORDS {
            exhaustive.push(Rule::Custom {
                key: "k1".into(),
                op: *op,
                value: (*w).to_owned(),
            });
            exhaustive.push(Rule::Search { q: (*w).to_owned() });
            for field in [
                TextField::FirstName,
                TextField::LastName,
                TextField::Company,
                TextField::City,
                TextField::Source,
            ] {
                exhaustive.push(Rule::Text {
                    field,
                    op: *op,
                    value: (*w).to_owned(),
                });
            }
        }
    }
    let strategy = rule_tree(segment.id, user);
    let random = (0..300).map(|_| strategy.new_tree(&mut runner).unwrap().current());
    let mut non_trivial = 0;
    for (case, rule) in exhaustive.into_iter().chain(random).enumerate() {
        if rule.check().is_err() {
            continue;
        }
        let now = OffsetDateTime::now_utc();
        let mut sql: Vec<ContactId> =
            contacts::ids(&mut conn, org, &Selection::Rule(rule.clone()), now)
                .await
                .unwrap();
        let mut mem: Vec<ContactId> = all
            .iter()
            .filter(|c| rule.matches(c, now, &in_segment))
            .map(|c| c.id)
            .collect();
        sql.sort();
        mem.sort();
        assert_eq!(
            sql,
            mem,
            "case {case}: SQL and memory disagree on {}",
            serde_json::to_string(&rule).unwrap()
        );
        if !sql.is_empty() && sql.len() < all.len() {
            non_trivial += 1;
        }
    }
    assert!(
        non_trivial > 100,
        "only {non_trivial} rule trees split the contacts"
    );
}

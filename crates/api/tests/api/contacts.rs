//! Contacts through the API: parsing at the edge, duplicates, listing with filters and keyset
//! pages, bulk actions, tags, notes and merging.

use crate::helpers::*;
use aura_types::{BulkResult, Contact, ContactDetail, ErrorCode, Page, TagCount};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn a_contact_is_parsed_at_the_edge_and_read_back(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Realty").await;
    owner
        .patch("/api/v1/organizations/current", json!({"country": "IN"}))
        .await;
    let c = owner
        .create_contact(json!({
            "first_name": " Priya ", "last_name": "Sharma", "email": "Priya@Example.COM",
            "phone": "098765 43210", "company": "Sharma Homes", "website": "sharmahomes.in",
            "tags": ["Buyer", "buyer", "Hot Lead"], "custom": {"budget": "2 Cr"},
            "consent": {"email": {"status": "granted", "source": "website form"}},
            "ai_intent_score": 82
        }))
        .await;
    assert_eq!(c.full_name, "Priya Sharma");
    assert_eq!(c.email.as_deref(), Some("Priya@example.com"));
    assert_eq!(c.phone.as_deref(), Some("+919876543210"));
    assert_eq!(
        c.whatsapp.as_deref(),
        Some("+919876543210"),
        "WhatsApp defaults to the phone"
    );
    assert_eq!(
        c.timezone.as_deref(),
        Some("Asia/Kolkata"),
        "inferred from the phone's country"
    );
    assert_eq!(c.website.as_deref(), Some("https://sharmahomes.in"));
    assert_eq!(c.tags, vec!["buyer", "hot lead"]);
    assert!(c.consent.email.at.is_some());

    let res = owner
        .post(
            &format!("/api/v1/contacts/{}/notes", c.id),
            json!({"body": "Wants a 3BHK near the metro"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let detail: ContactDetail = owner
        .get(&format!("/api/v1/contacts/{}", c.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.notes.len(), 1);
    assert_eq!(detail.notes[0].author_name.as_deref(), Some("Test Person"));

    let res = owner
        .patch(
            &format!("/api/v1/contacts/{}", c.id),
            json!({"company": "", "country": "AE", "timezone": "", "owner_id": owner.user_id()}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let c2: Contact = res.json().await.unwrap();
    assert_eq!(c2.company, None, "an empty string clears");
    assert_eq!(
        c2.timezone.as_deref(),
        Some("Asia/Dubai"),
        "re-inferred from the new country"
    );
    assert_eq!(c2.owner_name.as_deref(), Some("Test Person"));
    assert_eq!(c2.custom["budget"], "2 Cr", "absent fields stay");

    assert_eq!(
        owner
            .delete(&format!("/api/v1/contacts/{}", c.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    expect_error(
        owner.get(&format!("/api/v1/contacts/{}", c.id)).await,
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
    )
    .await;
    let notes: i64 = sqlx::query_scalar("select count(*) from contact_notes")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(notes, 0, "deleting a contact erases its notes");
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_fields_are_named_and_duplicates_name_the_existing_contact(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let existing = owner
        .create_contact(
            json!({"email": "ada@example.com", "phone": "+14154522671", "first_name": "Ada"}),
        )
        .await;
    let before = app.snapshot().await;
    let err = expect_error(
        owner.post("/api/v1/contacts", json!({"email": "nope", "phone": "12", "country": "Atlantis", "timezone": "Mars/Base", "ai_intent_score": 101, "linkedin_url": "example.com/x", "tags": ["a,b"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let fields = err.fields.unwrap();
    for f in [
        "email",
        "phone",
        "country",
        "timezone",
        "ai_intent_score",
        "linkedin_url",
        "tags",
    ] {
        assert!(fields.contains_key(f), "{f} not named in {fields:?}");
    }
    let err = expect_error(
        owner
            .post("/api/v1/contacts", json!({"first_name": "No address"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("email"));
    let err = expect_error(
        owner
            .post("/api/v1/contacts", json!({"email": "ADA@EXAMPLE.COM"}))
            .await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    assert_eq!(err.existing_id, Some(existing.id.0));
    assert!(err.message.contains("Ada"), "{}", err.message);
    let err = expect_error(
        owner
            .post("/api/v1/contacts", json!({"phone": "+1 (415) 452-2671"}))
            .await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    assert_eq!(err.existing_id, Some(existing.id.0));
    let stranger = app.signup("s@example.com", "Other").await;
    let err = expect_error(
        owner
            .patch(
                &format!("/api/v1/contacts/{}", existing.id),
                json!({"owner_id": stranger.user_id()}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("owner_id"));
    let after = app.snapshot().await;
    assert_eq!(
        after.lines().find(|l| l.starts_with("contacts")),
        before.lines().find(|l| l.starts_with("contacts")),
        "refused requests changed contacts"
    );
    // The same email is free in another organization.
    stranger
        .create_contact(json!({"email": "ada@example.com"}))
        .await;
}

async fn page(user: &TestUser, query: &str) -> Page<Contact> {
    let res = user.get(&format!("/api/v1/contacts?{query}")).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{query}: {}",
        res.text().await.unwrap()
    );
    res.json().await.unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn lists_page_search_and_filter(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    for i in 0..25 {
        let tags = match i % 3 {
            0 => json!(["buyer"]),
            1 => json!(["seller", "vip"]),
            _ => json!([]),
        };
        owner
            .create_contact(json!({
                "first_name": format!("Person{i}"), "email": format!("p{i}@example.com"),
                "phone": if i % 2 == 0 { json!(format!("+4420794609{i:02}")) } else { json!(null) },
                "company": if i == 7 { "Acme Roofing" } else { "Other Co" }, "tags": tags,
                "country": if i < 5 { "GB" } else { "US" }, "custom": {"budget": if i == 3 { "high" } else { "low" }}
            }))
            .await;
    }
    let first = page(&owner, "limit=10").await;
    assert_eq!((first.items.len(), first.total), (10, 25));
    assert_eq!(
        first.items[0].first_name.as_deref(),
        Some("Person24"),
        "newest first"
    );
    let mut seen: Vec<_> = first.items.iter().map(|c| c.id).collect();
    let mut cursor = first.next_cursor;
    while let Some(c) = cursor {
        let p = page(&owner, &format!("limit=10&cursor={c}")).await;
        seen.extend(p.items.iter().map(|c| c.id));
        cursor = p.next_cursor;
    }
    seen.dedup();
    assert_eq!(seen.len(), 25, "keyset pages cover everyone once");

    assert_eq!(page(&owner, "q=acme").await.total, 1);
    assert_eq!(
        page(&owner, "q=person1").await.total,
        11,
        "Person1 and Person10–19"
    );
    assert_eq!(
        page(&owner, "q=%2B44%2020%207946").await.total,
        13,
        "phone digits match"
    );
    assert_eq!(page(&owner, "q=p7%40example").await.total, 1);
    assert_eq!(page(&owner, "tags_any=buyer,vip").await.total, 17);
    assert_eq!(page(&owner, "tags_all=seller,vip").await.total, 8);
    assert_eq!(page(&owner, "tags_none=buyer").await.total, 16);
    assert_eq!(page(&owner, "has_phone=true").await.total, 13);
    assert_eq!(page(&owner, "has_phone=false&country=gb").await.total, 2);
    assert_eq!(page(&owner, "custom=budget:HIGH").await.total, 1);
    assert_eq!(
        page(&owner, "status=active,bounced&contact_type=lead")
            .await
            .total,
        25
    );
    assert_eq!(
        page(&owner, "created_from=2000-01-01&created_to=2999-12-31")
            .await
            .total,
        25
    );
    assert_eq!(page(&owner, "replied_from=2000-01-01").await.total, 0);
    for bad in [
        "status=sleeping",
        "has_email=maybe",
        "created_to=tomorrow",
        "custom=novalue",
        "limit=0",
        "cursor=abc",
        "owner_id=bob",
        "tags_any=%20,",
    ] {
        let res = owner.get(&format!("/api/v1/contacts?{bad}")).await;
        if bad == "tags_any=%20," {
            // Empty list items are ignored, not an error.
            assert_eq!(res.status(), StatusCode::OK);
            continue;
        }
        let err = expect_error(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
        )
        .await;
        let name = bad.split('=').next().unwrap();
        assert!(err.fields.unwrap().contains_key(name), "{bad}");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn bulk_actions_by_ids_and_by_filter_report_counts(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(owner.create_contact(json!({"email": format!("b{i}@example.com"), "tags": if i < 3 { json!(["cold"]) } else { json!([]) }})).await.id);
    }
    let bulk = |body: serde_json::Value| async {
        let r: BulkResult = owner
            .post("/api/v1/contacts/bulk", body)
            .await
            .json()
            .await
            .unwrap();
        (r.matched, r.changed)
    };
    assert_eq!(bulk(json!({"selection": {"filter": {"tags_any": "cold"}}, "action": "add_tags", "tags": ["Warm Up"]})).await, (3, 3));
    assert_eq!(bulk(json!({"selection": {"filter": {"tags_any": "cold"}}, "action": "add_tags", "tags": ["warm up"]})).await, (3, 0), "already tagged");
    assert_eq!(bulk(json!({"selection": {"ids": [ids[0], ids[3]]}, "action": "remove_tags", "tags": ["cold"]})).await, (2, 1));
    assert_eq!(
        bulk(
            json!({"selection": {"ids": ids}, "action": "set_status", "status": "do_not_contact"})
        )
        .await,
        (6, 6)
    );
    assert_eq!(
        bulk(
            json!({"selection": {"filter": {}}, "action": "set_owner", "owner_id": owner.user_id()})
        )
        .await,
        (6, 6)
    );
    let stranger = app.signup("x@example.com", "X").await;
    let foreign = stranger
        .create_contact(json!({"email": "f@example.com"}))
        .await;
    assert_eq!(
        bulk(json!({"selection": {"ids": [foreign.id]}, "action": "delete"})).await,
        (0, 0),
        "another org's ids match nothing"
    );
    expect_error(
        owner
            .post(
                "/api/v1/contacts/bulk",
                json!({"selection": {"ids": ids}, "action": "add_tags", "tags": []}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    expect_error(
        owner
            .post(
                "/api/v1/contacts/bulk",
                json!({"selection": {"ids": ids}, "action": "explode"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    expect_error(
        owner
            .post(
                "/api/v1/contacts/bulk",
                json!({"selection": {"filter": {"status": "nope"}}, "action": "delete"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert_eq!(
        bulk(json!({"selection": {"filter": {"tags_all": "cold,warm up"}}, "action": "delete"}))
            .await,
        (2, 2)
    );
    assert_eq!(page(&owner, "").await.total, 4);
    assert_eq!(
        stranger
            .get(&format!("/api/v1/contacts/{}", foreign.id))
            .await
            .status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn tags_are_counted_renamed_and_merged(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    owner
        .create_contact(json!({"email": "a@example.com", "tags": ["buyer", "vip"]}))
        .await;
    owner
        .create_contact(json!({"email": "b@example.com", "tags": ["purchaser"]}))
        .await;
    owner
        .create_contact(json!({"email": "c@example.com", "tags": ["purchaser", "buyer"]}))
        .await;
    let r: BulkResult = owner
        .post(
            "/api/v1/contacts/tags/rename",
            json!({"from": "Purchaser", "to": "buyer"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.changed, 2);
    let tags: Vec<TagCount> = owner
        .get("/api/v1/contacts/tags")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        tags.iter()
            .map(|t| (t.tag.as_str(), t.count))
            .collect::<Vec<_>>(),
        vec![("buyer", 3), ("vip", 1)]
    );
    let c: Page<Contact> = owner
        .get("/api/v1/contacts?q=c%40example")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c.items[0].tags, vec!["buyer"], "merged tags appear once");
    expect_error(
        owner
            .post(
                "/api/v1/contacts/tags/rename",
                json!({"from": "ghost", "to": "x"}),
            )
            .await,
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
    )
    .await;
    expect_error(
        owner
            .post(
                "/api/v1/contacts/tags/rename",
                json!({"from": "vip", "to": " "}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn merging_combines_fields_tags_and_notes(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let keep = owner.create_contact(json!({"email": "sam@example.com", "first_name": "Sam", "tags": ["buyer"], "custom": {"a": "1"}})).await;
    let other = owner.create_contact(json!({"phone": "+442079460958", "first_name": "Samuel", "company": "Sam Ltd", "tags": ["vip"], "custom": {"b": "2"}})).await;
    owner
        .post(
            &format!("/api/v1/contacts/{}/notes", other.id),
            json!({"body": "Met at the open house"}),
        )
        .await;
    let res = owner
        .post(
            &format!("/api/v1/contacts/{}/merge", keep.id),
            json!({"other_id": other.id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let m: Contact = res.json().await.unwrap();
    assert_eq!(
        m.first_name.as_deref(),
        Some("Sam"),
        "the kept contact's values win"
    );
    assert_eq!(
        (m.company.as_deref(), m.phone.as_deref()),
        (Some("Sam Ltd"), Some("+442079460958"))
    );
    assert_eq!(m.tags, vec!["buyer", "vip"]);
    assert_eq!(
        (m.custom["a"].as_str(), m.custom["b"].as_str()),
        (Some("1"), Some("2"))
    );
    let detail: ContactDetail = owner
        .get(&format!("/api/v1/contacts/{}", keep.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.notes.len(), 1);
    expect_error(
        owner.get(&format!("/api/v1/contacts/{}", other.id)).await,
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
    )
    .await;
    expect_error(
        owner
            .post(
                &format!("/api/v1/contacts/{}/merge", keep.id),
                json!({"other_id": keep.id}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
}

//! Suppressions: adding one stops matching contacts; the may-we-contact check; CSV import.

use crate::helpers::*;
use aura_types::{
    Contact, ContactPermission, ErrorCode, Page, Suppression, SuppressionImportResult,
};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

async fn may(user: &TestUser, channel: &str, address: &str) -> ContactPermission {
    let res = user
        .get(&format!(
            "/api/v1/suppressions/check?channel={channel}&address={}",
            address.replace('+', "%2B")
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn status_of(user: &TestUser, c: &Contact) -> String {
    let d: aura_types::ContactDetail = user
        .get(&format!("/api/v1/contacts/{}", c.id))
        .await
        .json()
        .await
        .unwrap();
    d.contact.status.as_str().to_owned()
}

#[sqlx::test(migrations = "../../migrations")]
async fn suppressions_stop_contacts_and_answer_the_check(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let ann = owner
        .create_contact(json!({"email": "ann@example.com", "phone": "+442079460958"}))
        .await;
    let bob = owner
        .create_contact(json!({"email": "bob@spam.example"}))
        .await;
    let cid = owner
        .create_contact(
            json!({"email": "cid@example.com", "consent": {"email": {"status": "revoked"}}}),
        )
        .await;
    assert!(may(&owner, "email", "ann@example.com").await.allowed);
    assert!(
        may(&owner, "email", "nobody@example.com").await.allowed,
        "unknown addresses are not blocked"
    );

    let res = owner
        .post(
            "/api/v1/suppressions",
            json!({"kind": "email", "value": "ANN@example.com", "reason": "unsubscribed"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let s: Suppression = res.json().await.unwrap();
    assert_eq!(s.value, "ann@example.com");
    assert_eq!(status_of(&owner, &ann).await, "unsubscribed");
    let check = may(&owner, "email", "Ann@Example.com").await;
    assert!(!check.allowed);
    assert!(check.reason.unwrap().contains("suppressed"));
    // Her phone is not suppressed, but she is unsubscribed: no SMS either.
    assert!(!may(&owner, "sms", "+442079460958").await.allowed);

    owner
        .post(
            "/api/v1/suppressions",
            json!({"kind": "domain", "value": "@Spam.Example", "reason": "complaint"}),
        )
        .await;
    assert_eq!(status_of(&owner, &bob).await, "complained");
    assert!(!may(&owner, "email", "anyone@spam.example").await.allowed);
    owner
        .post(
            "/api/v1/suppressions",
            json!({"kind": "phone", "value": "+1 415 452 2671", "reason": "stop_keyword"}),
        )
        .await;
    assert!(!may(&owner, "whatsapp", "+14154522671").await.allowed);
    let check = may(&owner, "email", "cid@example.com").await;
    assert_eq!(
        (check.allowed, check.reason.as_deref()),
        (false, Some("The contact's Email consent is revoked."))
    );

    expect_error(
        owner
            .post(
                "/api/v1/suppressions",
                json!({"kind": "email", "value": "ann@example.com"}),
            )
            .await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    let err = expect_error(
        owner
            .post(
                "/api/v1/suppressions",
                json!({"kind": "phone", "value": "not a phone"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("value"));
    expect_error(
        owner
            .get("/api/v1/suppressions/check?channel=email&address=nope")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;

    let page: Page<Suppression> = owner
        .get("/api/v1/suppressions?q=spam")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(
        owner
            .delete(&format!("/api/v1/suppressions/{}", s.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    expect_error(
        owner
            .delete(&format!("/api/v1/suppressions/{}", s.id))
            .await,
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
    )
    .await;
    let other = app.signup("other@example.com", "Other").await;
    assert!(
        may(&other, "email", "anyone@spam.example").await.allowed,
        "suppressions belong to one organization"
    );
    let _ = cid;
}

#[sqlx::test(migrations = "../../migrations")]
async fn suppressions_import_from_csv(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let dan = owner
        .create_contact(json!({"email": "dan@example.com"}))
        .await;
    let file = b"Email\r\ndan@example.com\r\nDAN@example.com\r\n+44 20 7946 0958\r\nbounces.example\r\nnot valid@\r\n\r\n".to_vec();
    let res = owner
        .upload(
            "/api/v1/suppressions/import",
            "unsubscribes.csv",
            file,
            &[("reason", "bounced")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: SuppressionImportResult = res.json().await.unwrap();
    assert_eq!((r.added, r.existing, r.contacts_updated), (3, 1, 1));
    assert_eq!(r.invalid.len(), 1);
    assert_eq!(r.invalid[0].row, 6);
    assert_eq!(status_of(&owner, &dan).await, "bounced");
    // Contacts imported later are stopped too.
    let r: aura_types::JsonImportResult = owner.post("/api/v1/contacts/import", serde_json::json!({"contacts": [{"email": "new@bounces.example"}, {"email": "fine@example.org"}]})).await.json().await.unwrap();
    let statuses: Vec<String> = futures_util::future::join_all(r.rows.iter().map(|row| async {
        let d: aura_types::ContactDetail = owner
            .get(&format!("/api/v1/contacts/{}", row.contact_id.unwrap()))
            .await
            .json()
            .await
            .unwrap();
        d.contact.status.as_str().to_owned()
    }))
    .await;
    assert_eq!(statuses, vec!["bounced", "active"]);
    let err = expect_error(
        owner
            .upload(
                "/api/v1/suppressions/import",
                "x.csv",
                b"a@b.co\n".to_vec(),
                &[("reason", "angry")],
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("reason"));
}

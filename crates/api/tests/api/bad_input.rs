//! Bad input on every endpoint that takes a body, found from the OpenAPI document so that new
//! endpoints are covered without touching this file: malformed JSON (400), wrong media type (415),
//! oversized body (413), wrong shape (422) — each with the JSON error, and nothing written.

use crate::helpers::*;
use crate::isolation::{operations, own_ids, path_with};
use aura_types::ErrorCode;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn every_body_endpoint_refuses_bad_input_and_writes_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("bad@example.com", "Org").await;
    let ids = own_ids(&app, &owner).await;
    let before = app.snapshot().await;
    let doc = aura_api::routes::openapi::document();
    let mut checked = 0;
    for (path, item) in &doc.paths.paths {
        for (method, op) in operations(item) {
            // Multipart uploads are tested with their resources; this test is about JSON bodies.
            let json_body = op
                .request_body
                .as_ref()
                .is_some_and(|b| b.content.contains_key("application/json"));
            if !json_body {
                continue;
            }
            let url = app.url(&path_with(path, &ids));
            let what = format!("{method} {path}");
            let send = |body: Vec<u8>, content_type: &'static str| {
                owner
                    .client
                    .request(method.clone(), &url)
                    .bearer_auth(&owner.token)
                    .header("content-type", content_type)
                    .body(body)
            };

            let res = send(b"{\"email\": ".to_vec(), "application/json")
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::BAD_REQUEST,
                "{what}: malformed JSON"
            );
            expect_error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;

            let res = send(b"{}".to_vec(), "text/plain").send().await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{what}: wrong content type"
            );
            expect_error(
                res,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            )
            .await;

            let mut big = b"{\"name\":\"".to_vec();
            big.extend(std::iter::repeat_n(b'a', 1024 * 1024 + 1));
            big.extend(b"\"}");
            let res = send(big, "application/json").send().await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "{what}: oversized body"
            );
            expect_error(
                res,
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
            )
            .await;

            let res = send(b"[1, 2]".to_vec(), "application/json")
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}: wrong shape"
            );
            let err = expect_error(
                res,
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationFailed,
            )
            .await;
            assert!(
                err.fields.is_some_and(|f| !f.is_empty()),
                "{what}: no field named"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 10,
        "only {checked} endpoints with bodies were found"
    );
    assert_eq!(
        app.snapshot().await,
        before,
        "a refused request changed data"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn missing_and_mistyped_fields_are_named(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = client();
    let res = app
        .post_json(&c, "/api/v1/auth/login", json!({"email": "a@example.com"}))
        .await;
    let err = expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert_eq!(
        err.fields.unwrap().get("password").map(String::as_str),
        Some("is required")
    );
    let res = app
        .post_json(&c, "/api/v1/auth/signup", json!({"email": "a@example.com", "password": 1234567890, "name": "A", "organization_name": "B"}))
        .await;
    let err = expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("password"));
    assert_eq!(
        app.row_counts().await.iter().map(|(_, n)| n).sum::<i64>(),
        0
    );
}

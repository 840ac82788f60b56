use crate::helpers::*;
use aura_types::{ErrorCode, Organization};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn settings_update_partially_and_refuse_bad_values_whole(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("s@example.com", "Sunrise Realty").await;
    let org: Organization = owner
        .get("/api/v1/organizations/current")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(org.timezone, "UTC");
    assert!(org.brand_voice.is_none());

    let res = owner
        .patch(
            "/api/v1/organizations/current",
            json!({"brand_voice": "Warm and local", "public_name": "Sunrise", "postal_address": "1 Main St", "timezone": "Europe/Istanbul"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let updated: Organization = res.json().await.unwrap();
    assert_eq!(updated.name, "Sunrise Realty", "absent fields stay");
    assert_eq!(updated.timezone, "Europe/Istanbul");
    assert_eq!(updated.public_name.as_deref(), Some("Sunrise"));
    assert!(updated.updated_at >= org.updated_at);

    // One bad field refuses the whole update.
    let before = app.snapshot().await;
    let res = owner
        .patch(
            "/api/v1/organizations/current",
            json!({"name": "Renamed", "timezone": "Mars/Olympus"}),
        )
        .await;
    let err = expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert_eq!(
        err.fields.unwrap().keys().collect::<Vec<_>>(),
        vec!["timezone"]
    );
    let res = owner
        .patch("/api/v1/organizations/current", json!({"name": "   "}))
        .await;
    expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let res = owner
        .patch(
            "/api/v1/organizations/current",
            json!({"brand_voice": "x".repeat(2001)}),
        )
        .await;
    expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert_eq!(app.snapshot().await, before);

    // An empty string clears an optional field.
    let cleared: Organization = owner
        .patch("/api/v1/organizations/current", json!({"public_name": ""}))
        .await
        .json()
        .await
        .unwrap();
    assert!(cleared.public_name.is_none());
    assert_eq!(cleared.brand_voice.as_deref(), Some("Warm and local"));
}

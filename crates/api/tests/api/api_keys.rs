use crate::helpers::*;
use aura_types::{ApiKey, CreatedApiKey, ErrorCode, Organization, Role};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn keys_are_shown_once_stored_hashed_act_with_their_role_and_stop_when_revoked(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("keys@example.com", "Org").await;
    let res = owner
        .post("/api/v1/api-keys", json!({"name": "n8n", "role": "member"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: CreatedApiKey = res.json().await.unwrap();
    assert!(created.token.starts_with("aura_sk_"));
    assert!(
        created.token.starts_with(&created.api_key.prefix) && created.api_key.prefix.len() < 20
    );
    assert_eq!(created.api_key.role, Role::Member);

    let listed_text = owner.get("/api/v1/api-keys").await.text().await.unwrap();
    assert!(
        !listed_text.contains(&created.token),
        "the secret was listed"
    );
    let listed: Vec<ApiKey> = serde_json::from_str(&listed_text).unwrap();
    assert_eq!(listed.len(), 1);
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from api_keys where position(convert_to($1, 'UTF8') in token_hash) > 0",
    )
    .bind(&created.token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);

    let key = |method: reqwest::Method, path: &str| {
        client()
            .request(method, app.url(path))
            .bearer_auth(&created.token)
    };
    let org: Organization = key(reqwest::Method::GET, "/api/v1/organizations/current")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org.id, owner.org_id());
    let used: ApiKey = owner
        .get("/api/v1/api-keys")
        .await
        .json::<Vec<ApiKey>>()
        .await
        .unwrap()
        .remove(0);
    assert!(used.last_used_at.is_some());

    // A member key cannot change settings; keys cannot act as a person or mint keys.
    let res = key(reqwest::Method::PATCH, "/api/v1/organizations/current")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    expect_error(
        key(reqwest::Method::GET, "/api/v1/me")
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
    )
    .await;
    let res = key(reqwest::Method::POST, "/api/v1/api-keys")
        .json(&json!({"name": "x", "role": "member"}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;

    assert_eq!(
        owner
            .delete(&format!("/api/v1/api-keys/{}", created.api_key.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let res = key(reqwest::Method::GET, "/api/v1/organizations/current")
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
    assert!(owner
        .get("/api/v1/api-keys")
        .await
        .json::<Vec<ApiKey>>()
        .await
        .unwrap()
        .is_empty());
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_admin_key_can_manage_and_nobody_exceeds_their_role(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("o@example.com", "Org").await;
    let admin = app.add_member(&owner, "a@example.com", "admin").await;
    let member = app.add_member(&owner, "m@example.com", "member").await;
    let res = admin
        .post(
            "/api/v1/api-keys",
            json!({"name": "too strong", "role": "owner"}),
        )
        .await;
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    let res = member
        .post(
            "/api/v1/api-keys",
            json!({"name": "nope", "role": "member"}),
        )
        .await;
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    let res = admin
        .post("/api/v1/api-keys", json!({"name": "  ", "role": "member"}))
        .await;
    let err = expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("name"));

    let created: CreatedApiKey = admin
        .post(
            "/api/v1/api-keys",
            json!({"name": "Zapier", "role": "admin"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = client()
        .patch(app.url("/api/v1/organizations/current"))
        .bearer_auth(&created.token)
        .json(&json!({"brand_voice": "Friendly"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Organization>()
            .await
            .unwrap()
            .brand_voice
            .as_deref(),
        Some("Friendly")
    );
}

use crate::helpers::*;
use aura_types::{ErrorCode, Health};
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn health_and_readiness(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = client();
    let live: Health = c
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(live.status, "ok");
    let res = c.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Health>().await.unwrap().status, "ready");
}

#[sqlx::test(migrations = false)]
async fn not_ready_before_migrations(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.json::<Health>().await.unwrap().status,
        "migrations not applied"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_web_app_is_served_with_history_fallback_and_cache_headers(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = client();
    for path in ["/", "/settings/members", "/accept-invite"] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        assert!(res.text().await.unwrap().contains("<div id=app>"), "{path}");
    }
    let res = c
        .get(app.url("/aura-web-0123456789abcdef.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_api_paths_answer_the_json_404(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = client();
    for path in [
        "/api/v1/nothing-here",
        "/api/v2/auth/login",
        "/api/v1/members/x/y",
    ] {
        let res = c.get(app.url(path)).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn docs_and_spec_are_served(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = client();
    let html = c
        .get(app.url("/api/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("/api-docs/swagger-ui-bundle.js") && !html.contains("://"),
        "docs must not load from a CDN"
    );
    let spec: serde_json::Value = c
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/api/v1/auth/signup"]["post"].is_object());
    assert_eq!(
        spec,
        serde_json::to_value(aura_api::routes::openapi::document()).unwrap()
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn wrong_methods_answer_a_json_error(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = client()
        .put(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
}

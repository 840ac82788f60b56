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
async fn built_assets_go_out_as_their_compressed_copies(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = client();
    let wasm = app.url("/aura-web-0123456789abcdef_bg.wasm");
    let fetch = |accept: Option<&'static str>, range: bool| {
        let mut req = c.get(&wasm);
        if let Some(a) = accept {
            req = req.header("accept-encoding", a);
        }
        if range {
            req = req.header("range", "bytes=0-3");
        }
        async move {
            let res = req.send().await.unwrap();
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            };
            let head = (
                res.status(),
                header("content-encoding"),
                header("content-type"),
                header("vary"),
                header("cache-control"),
            );
            (head, res.bytes().await.unwrap().to_vec())
        }
    };
    for (accept, encoding, body) in [
        ("br, gzip", "br", &b"the-brotli-copy"[..]),
        ("gzip, deflate, br;q=0.5", "gzip", b"the-gzip-copy"),
        ("gzip", "gzip", b"the-gzip-copy"),
    ] {
        let ((status, enc, ctype, vary, cache), bytes) = fetch(Some(accept), false).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(enc, encoding, "{accept}");
        assert_eq!(bytes, body, "{accept}");
        assert_eq!(ctype, "application/wasm", "{accept}");
        assert!(
            vary.to_lowercase().contains("accept-encoding"),
            "{accept}: {vary}"
        );
        assert_eq!(cache, "public, max-age=31536000, immutable", "{accept}");
    }
    // No encoding asked for (or only one without a copy): the file itself, still varying.
    let ((status, enc, _, vary, _), bytes) = fetch(None, false).await;
    assert_eq!((status, enc.as_str()), (StatusCode::OK, ""));
    assert_eq!(bytes, b"\0asm-the-file-itself");
    assert!(vary.to_lowercase().contains("accept-encoding"));
    // A range is of the file itself, never of a compressed copy.
    let ((status, enc, ..), bytes) = fetch(Some("br, gzip"), true).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_ne!(enc, "br");
    assert_eq!(bytes, b"\0asm");
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

//! The built web app (with history-API fallback and cache headers), the interactive API docs from
//! vendored assets, and the OpenAPI document.

use crate::{error::ApiError, openapi, startup::AppState};
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderValue},
    middleware::Next,
    web, HttpRequest, HttpResponse,
};

/// `GET /api/v1/openapi.json`: the same document as `openapi.yaml`.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(openapi::document())
}

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Aura API</title>
  <link rel="stylesheet" href="/api-docs/swagger-ui.css">
  <style>body{margin:0;background:#fafafa}.topbar{display:none}</style>
</head>
<body>
  <div id="docs"></div>
  <script src="/api-docs/swagger-ui-bundle.js"></script>
  <script src="/api-docs/init.js"></script>
</body>
</html>"#;

/// `GET /api/docs`: interactive documentation (Swagger UI served from this server, no CDN).
pub async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DOCS_HTML)
}

/// Everything the static files do not have: unknown API paths answer the JSON 404; any other path
/// is a route of the web app, so it gets `index.html`.
pub async fn fallback(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if req.path().starts_with("/api/") || req.path() == "/api" {
        return Err(ApiError::NotFound);
    }
    let index = state.settings.static_dir.join("index.html");
    match tokio::fs::read(&index).await {
        Ok(html) => Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(html)),
        Err(_) => Ok(HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body(format!(
            "The Aura web app is not built ({} is missing). Build it with `make run`; the API is available under /api/v1.",
            index.display()
        ))),
    }
}

/// Whether a file name carries a content hash (`name-0123456789abcdef.ext`), so it never changes.
pub fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    // wasm-bindgen names the module `name-<hash>_bg.wasm`.
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 16 && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Middleware: long-lived caching for hashed assets, revalidation for everything else static.
pub async fn cache_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let hashed = is_hashed_asset(req.path());
    let is_api = req.path().starts_with("/api/");
    let mut res = next.call(req).await?;
    if !is_api && res.status().is_success() && !res.headers().contains_key(header::CACHE_CONTROL) {
        let value = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

    #[test]
    fn recognises_hashed_asset_names() {
        assert!(is_hashed_asset("/aura-web-4f2a9c1d0e8b7a65_bg.wasm"));
        assert!(is_hashed_asset("/aura-web-4f2a9c1d0e8b7a65.js"));
        assert!(is_hashed_asset("/style-0123456789abcdef.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/api-docs/swagger-ui-bundle.js"));
    }
}

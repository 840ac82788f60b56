//! The built web app (with history-API fallback and cache headers) and the interactive API docs
//! from vendored assets (the OpenAPI document itself is `routes::openapi`).

use crate::{error::ApiError, state::AppState};
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderValue},
    middleware::Next,
    web, HttpRequest, HttpResponse,
};

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
#[utoipa::path(get, operation_id = "apiDocs", summary = "Read the interactive API documentation", path = "/api/docs", tag = "docs",
    description = "An HTML page with Swagger UI over this document, served by this server (no CDN). No sign-in needed.",
    responses((status = 200, description = "The documentation page", content_type = "text/html")))]
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

/// The Content-Security-Policy of the web app's pages: scripts only from this server (and the
/// app's own inline loader, allowed by its hash — Trunk writes one to start the WebAssembly),
/// WebAssembly compilation, no plugins, no framing by other sites, forms and links to this
/// server only. Styles may be inline (the app sets style attributes), which cannot run code.
/// Message HTML is shown in sandboxed frames (`srcdoc`, no scripts), never in the app's document.
pub fn page_policy(index_html: &str) -> String {
    let hashes: String = inline_scripts(index_html)
        .iter()
        .map(|script| {
            use base64::Engine;
            use sha2::Digest;
            let digest = sha2::Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; font-src 'self'; \
         connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy of JSON answers: nothing may load, nobody may frame them.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The text of every `<script>` element without a `src` in `html`.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            out.push(&body[..close]);
        }
        rest = &body[close..];
    }
    out
}

/// Middleware: the security headers of every answer — the Content-Security-Policy (the pages'
/// policy for pages, a closed one for the API), no framing, no MIME sniffing, a referrer that
/// never carries a path to other sites, and HSTS when Aura is reached over https.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let is_api = req.path().starts_with("/api/v1") || req.path().starts_with("/t/");
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let policy = match (&state, is_api) {
        (Some(s), false) => HeaderValue::from_str(&s.page_policy).ok(),
        _ => Some(HeaderValue::from_static(API_POLICY)),
    };
    if let Some(policy) = policy {
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A page that asks for less (the unsubscribe page: `no-referrer`) keeps its own.
    if !h.contains_key(header::REFERRER_POLICY) {
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
    if state.as_ref().is_some_and(|s| s.settings.is_https()) {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    Ok(res)
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
    #![allow(clippy::unwrap_used)]
    use super::{inline_scripts, is_hashed_asset, page_policy};

    #[test]
    fn inline_scripts_are_allowed_by_their_hash_only() {
        let html = r#"<head><script type="module">import init from '/a.js';init();</script>
            <script src="/x.js"></script><script>b()</script></head>"#;
        assert_eq!(
            inline_scripts(html),
            vec!["import init from '/a.js';init();", "b()"]
        );
        let policy = page_policy(html);
        use base64::Engine;
        use sha2::Digest;
        let b = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"b()"));
        assert!(policy.contains(&format!("'sha256-{b}'")), "{policy}");
        assert_eq!(policy.matches("'sha256-").count(), 2, "{policy}");
        let scripts = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!scripts.contains("unsafe-inline") && !scripts.contains(" 'unsafe-eval'"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn recognises_hashed_asset_names() {
        assert!(is_hashed_asset("/aura-web-4f2a9c1d0e8b7a65_bg.wasm"));
        assert!(is_hashed_asset("/aura-web-4f2a9c1d0e8b7a65.js"));
        assert!(is_hashed_asset("/style-0123456789abcdef.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/api-docs/swagger-ui-bundle.js"));
    }
}

/// The built app's files that have brotli and gzip copies beside them (written by
/// `scripts/precompress.mjs` at build time), by URL path, read once at start. Sending a copy made
/// at the highest level once beats compressing at a low level on every request.
#[derive(Clone, Default)]
pub struct Precompressed {
    dir: std::path::PathBuf,
    /// URL path → (has `.br`, has `.gz`).
    files: std::sync::Arc<std::collections::HashMap<String, (bool, bool)>>,
}

impl Precompressed {
    pub fn scan(dir: &std::path::Path) -> Self {
        fn walk(
            root: &std::path::Path,
            dir: &std::path::Path,
            out: &mut std::collections::HashMap<String, (bool, bool)>,
        ) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(root, &path, out);
                    continue;
                }
                let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
                    continue;
                };
                if ext != "br" && ext != "gz" {
                    continue;
                }
                let original = path.with_extension("");
                let Ok(relative) = original.strip_prefix(root) else {
                    continue;
                };
                if !original.is_file() {
                    continue;
                }
                let key = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
                let copies = out.entry(key).or_default();
                if ext == "br" {
                    copies.0 = true;
                } else {
                    copies.1 = true;
                }
            }
        }
        let mut files = std::collections::HashMap::new();
        walk(dir, dir, &mut files);
        Self {
            dir: dir.to_path_buf(),
            files: std::sync::Arc::new(files),
        }
    }
}

/// Sends a built file's brotli or gzip copy when the browser takes it (the `Compress` middleware
/// leaves an answer that has a `Content-Encoding` alone). Range requests get the file itself: a
/// range of a compressed copy would be labelled wrongly.
pub async fn precompressed(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::http::header::{AcceptEncoding, ContentEncoding, Encoding};
    use actix_web::HttpMessage as _;
    let found = req.app_data::<Precompressed>().and_then(|p| {
        p.files
            .get(req.path())
            .map(|copies| (p.dir.clone(), *copies))
    });
    let Some((dir, (br, gz))) = found else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let mut offered = vec![Encoding::identity()];
    if br {
        offered.push(Encoding::brotli());
    }
    if gz {
        offered.push(Encoding::gzip());
    }
    let whole = matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) && !req.headers().contains_key(header::RANGE);
    let chosen = req
        .request()
        .get_header::<AcceptEncoding>()
        .and_then(|a| a.negotiate(offered.iter()));
    let copy = match chosen {
        Some(Encoding::Known(ContentEncoding::Brotli)) if whole => {
            Some(("br", ContentEncoding::Brotli))
        }
        Some(Encoding::Known(ContentEncoding::Gzip)) if whole => {
            Some(("gz", ContentEncoding::Gzip))
        }
        _ => None,
    };
    let Some((ext, encoding)) = copy else {
        let mut res = next.call(req).await?.map_into_boxed_body();
        vary_on_encoding(res.headers_mut());
        return Ok(res);
    };
    let original = dir.join(req.path().trim_start_matches('/'));
    let mut copy_path = original.clone().into_os_string();
    copy_path.push(format!(".{ext}"));
    let mime = actix_files::file_extension_to_mime(
        original.extension().and_then(|e| e.to_str()).unwrap_or(""),
    );
    let file = actix_files::NamedFile::open_async(&copy_path)
        .await?
        .set_content_type(mime)
        .disable_content_disposition()
        .set_content_encoding(encoding);
    let (http_req, _) = req.into_parts();
    let mut res = file.into_response(&http_req);
    vary_on_encoding(res.headers_mut());
    Ok(ServiceResponse::new(http_req, res))
}

fn vary_on_encoding(headers: &mut actix_web::http::header::HeaderMap) {
    let already = headers.get_all(header::VARY).any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
    });
    if !already {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

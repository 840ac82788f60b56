//! Logging: `tracing` with a pretty format locally and JSON lines in production.

use crate::config::LogFormat;
use actix_web::HttpMessage;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
    // A subscriber already installed (tests) is fine.
    let _ = result;
}

/// The span of every request: method, target, client, request id and, once known, the route,
/// status and organization (recorded by the `Caller` extractor). Its fields are only worked out
/// when the span is logged, and the route is recorded after routing (see [`access_log`]): naming
/// it before would match the path against the routes a second time.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use tracing::field::Empty;
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = Empty,
            http.client_ip = %crate::client_addr::of_request(request.request())
                .map(|ip| ip.to_string())
                .unwrap_or_default(),
            http.user_agent = %request
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|h| h.to_str().ok())
                .unwrap_or(""),
            http.target = %redacted_target(request.uri()),
            http.status_code = Empty,
            request_id = %request
                .extensions()
                .get::<tracing_actix_web::RequestId>()
                .map(ToString::to_string)
                .unwrap_or_default(),
            exception.message = Empty,
            exception.details = Empty,
            org_id = Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Paths whose last segment is a capability (whoever has the link may act): unsubscribe, the
/// open pixel, click redirects.
const CAPABILITY_PREFIXES: [&str; 3] = ["/u/", "/t/o/", "/t/c/"];

/// Query parameters that may carry a secret.
const SECRET_PARAMS: [&str; 8] = [
    "token",
    "key",
    "api_key",
    "secret",
    "code",
    "password",
    "signature",
    "sig",
];

/// A request's target as the log may show it: a capability token in the path and the values of
/// secret-looking query parameters are replaced by `[redacted]`, so a log reader cannot use a
/// link that was in it.
pub fn redacted_target(uri: &actix_web::http::Uri) -> String {
    // Judged on the decoded path: the router matches `/%75/…` as `/u/…`.
    let path = percent_decoded(uri.path());
    let mut out = match CAPABILITY_PREFIXES.iter().find(|p| path.starts_with(*p)) {
        Some(prefix) => format!("{prefix}[redacted]"),
        None => uri.path().to_owned(),
    };
    if let Some(query) = uri.query() {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s)) => {
                    format!("{k}=[redacted]")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

/// `path` with its `%XX` escapes decoded (bytes that are not UTF-8 are replaced).
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Names the route a request took in its span (the pattern it matched, such as
/// `/api/v1/contacts/{id}`), when the span is logged.
pub fn record_route(route: &str) {
    let span = tracing::Span::current();
    if !span.is_disabled() {
        span.record("http.route", route);
    }
}

/// Middleware: one log line per request, inside the request's span (so it carries the request id,
/// method, route and organization), with its status and duration.
pub async fn access_log(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let res = next.call(req).await?;
    if !tracing::Span::current().is_disabled() {
        if let Some(route) = res.request().match_pattern() {
            record_route(&route);
        }
    }
    let status = res.status().as_u16();
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if status >= 500 {
        tracing::warn!(status, elapsed_ms, "request");
    } else {
        tracing::info!(status, elapsed_ms, "request");
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn capability_tokens_never_reach_the_log() {
        for (uri, shown) in [
            ("/u/AAAA.BBBB", "/u/[redacted]"),
            ("/t/o/tok-en_1", "/t/o/[redacted]"),
            ("/t/c/tok?x=1", "/t/c/[redacted]?x=1"),
            (
                "/api/v1/contacts?q=ana&token=abc&limit=5",
                "/api/v1/contacts?q=ana&token=[redacted]&limit=5",
            ),
            ("/api/v1/contacts/42", "/api/v1/contacts/42"),
            ("/%75/AAAA.BBBB", "/u/[redacted]"),
            ("/t/%6F/tok", "/t/o/[redacted]"),
        ] {
            let uri: actix_web::http::Uri = uri.parse().unwrap();
            assert_eq!(redacted_target(&uri), shown);
        }
    }
}

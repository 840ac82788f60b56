//! The links inside sent email, answered without signing in: the unsubscribe page and RFC 8058
//! one-click unsubscribe (`/u/{token}`), the open pixel (`/t/o/{token}`) and click redirects
//! (`/t/c/{token}`). Tokens are signed (delivery::tokens); anything else is a plain 404.
//! Opens and clicks go to the event sink (`workers::events`), which writes them in batches so the
//! recipient never waits on the database; an unsubscribe is written before the answer.

use crate::{
    db::{self, events::Event},
    delivery::tokens::{Claims, Kind},
    error::{ApiError, ApiResult},
    state::AppState,
};
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use aura_types::template::escape_html;
use aura_types::{ErrorBody, SuppressionReason};
use time::OffsetDateTime;

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

fn event(c: Claims, kind: &'static str) -> Event {
    Event {
        org_id: c.org,
        message_id: c.message,
        kind,
        url: c.url,
        at: OffsetDateTime::now_utc(),
    }
}

/// The token of a tracking address: the one path segment after the prefix. Other methods than
/// GET and HEAD answer 405, as a routed resource would.
fn tracking_token(req: &HttpRequest) -> ApiResult<&str> {
    if req.method() != actix_web::http::Method::GET && req.method() != actix_web::http::Method::HEAD
    {
        return Err(ApiError::MethodNotAllowed);
    }
    match req.match_info().unprocessed().strip_prefix('/') {
        Some(token) if !token.is_empty() && !token.contains('/') => Ok(token),
        _ => Err(ApiError::NotFound),
    }
}

#[utoipa::path(get, operation_id = "openPixel", summary = "Load the open-tracking pixel", path = "/t/o/{token}", tag = "email-links",
    params(("token" = String, Path, description = "The signed token of the message")),
    description = "Answers a transparent 1×1 GIF that is never cached, and records the open. Needs no sign-in; an invalid token is a plain 404.",
    responses(
        (status = 200, description = "A transparent 1×1 GIF, never cached; the open is recorded", content_type = "image/gif"),
        (status = 404, description = "Not a valid token", body = ErrorBody),
    ))]
pub async fn open(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    crate::telemetry::record_route("/t/o/{token}");
    let claims = state
        .links
        .verify(Kind::Open, tracking_token(&req)?)
        .ok_or(ApiError::NotFound)?;
    state.events.record(event(claims, "open"));
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            "no-store, no-cache, must-revalidate, max-age=0",
        ))
        .insert_header((header::PRAGMA, "no-cache"))
        .content_type("image/gif")
        .body(PIXEL))
}

#[utoipa::path(get, operation_id = "clickRedirect", summary = "Follow a tracked link", path = "/t/c/{token}", tag = "email-links",
    params(("token" = String, Path, description = "The signed token of the message and link")),
    description = "Redirects to the link signed into the token, never elsewhere, and records the click. Needs no sign-in; an invalid token is a plain 404.",
    responses(
        (status = 302, description = "To the link that was signed into the token (never elsewhere); the click is recorded"),
        (status = 404, description = "Not a valid token", body = ErrorBody),
    ))]
pub async fn click(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    crate::telemetry::record_route("/t/c/{token}");
    let claims = state
        .links
        .verify(Kind::Click, tracking_token(&req)?)
        .ok_or(ApiError::NotFound)?;
    let url = claims.url.as_deref().unwrap_or_default();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ApiError::NotFound);
    }
    let answer = HttpResponse::Found()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    state.events.record(event(claims, "click"));
    Ok(answer)
}

/// The message a valid unsubscribe token names, and its lead.
async fn recipient(state: &AppState, token: &str) -> ApiResult<(Claims, db::send::Recipient)> {
    let c = state
        .links
        .verify(Kind::Unsubscribe, token)
        .ok_or(ApiError::NotFound)?;
    let row = db::send::recipient(&state.pool, c.org, c.message)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((c, row))
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Robots-Tag", "noindex"))
        .body(format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f8fafc;color:#0f172a;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}}
main{{background:#fff;border:1px solid #e2e8f0;border-radius:12px;padding:32px;max-width:440px;width:calc(100% - 48px);box-shadow:0 1px 3px rgba(0,0,0,.06)}}
h1{{font-size:20px;margin:0 0 12px}}p{{line-height:1.5;color:#334155}}label{{display:flex;gap:8px;align-items:flex-start;margin:10px 0;cursor:pointer}}
button{{margin-top:16px;background:#4f46e5;color:#fff;border:0;border-radius:8px;padding:10px 18px;font-size:15px;cursor:pointer}}button:focus{{outline:3px solid #a5b4fc}}
small{{color:#64748b}}</style></head><body><main>{body}</main></body></html>"#
        ))
}

fn mask(email: Option<&str>) -> String {
    match email.and_then(|e| e.split_once('@')) {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "your address".into(),
    }
}

#[utoipa::path(get, operation_id = "unsubscribePage", summary = "Show the unsubscribe page", path = "/u/{token}", tag = "email-links",
    params(("token" = String, Path, description = "The signed token of the message")),
    description = "An HTML page asking the recipient to confirm, with the choice of all email from the organization or only this series; showing it changes nothing. Needs no sign-in.",
    responses(
        (status = 200, description = "A page asking to confirm, with the choice of all email or only this series", content_type = "text/html"),
        (status = 404, description = "Not a valid token", body = ErrorBody),
    ))]
pub async fn unsubscribe_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (_, r) = recipient(&state, &path).await?;
    let org = escape_html(&r.org_name);
    let who = escape_html(&mask(r.email.as_deref()));
    Ok(page(
        &format!("Unsubscribe from {org}"),
        &format!(
            r#"<h1>Unsubscribe from {org}</h1>
<p>Stop emails from {org} to <strong>{who}</strong>?</p>
<form method="post">
<label><input type="radio" name="scope" value="all" checked autofocus> <span>Unsubscribe from all email from {org}</span></label>
<label><input type="radio" name="scope" value="campaign"> <span>Only stop this series of emails</span></label>
<button type="submit">Unsubscribe</button>
</form>
<p><small>You will not be asked to sign in. It takes effect at once.</small></p>"#
        ),
    ))
}

/// The value of the form field `name` in an urlencoded or multipart body.
fn form_field(req: &HttpRequest, body: &[u8], name: &str) -> Option<String> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        let boundary = content_type
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()?
            .trim_matches('"');
        let text = String::from_utf8_lossy(body);
        let delimiter = format!("--{boundary}");
        return text.split(delimiter.as_str()).find_map(|part| {
            let (headers, value) = part.split_once("\r\n\r\n")?;
            let wanted = format!("name=\"{name}\"");
            headers
                .to_ascii_lowercase()
                .contains(&wanted.to_ascii_lowercase())
                .then(|| value.trim_end_matches("\r\n").to_owned())
        });
    }
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[utoipa::path(post, operation_id = "unsubscribe", summary = "Unsubscribe with one click (RFC 8058)", path = "/u/{token}", tag = "email-links",
    params(("token" = String, Path, description = "The signed token of the message")),
    request_body(content = String, description = "`List-Unsubscribe=One-Click` (RFC 8058; urlencoded or multipart): the address is suppressed. From the page: `scope=all` (suppress the address) or `scope=campaign` (stop only this campaign).", content_type = "application/x-www-form-urlencoded"),
    description = "Needs no sign-in and no cookie. The unsubscribe is written before the answer; there is no redirect.",
    responses(
        (status = 200, description = "Unsubscribed (text for one-click, a page for the form)"),
        (status = 404, description = "Not a valid token", body = ErrorBody),
        (status = 422, description = "The body is neither one-click nor a choice from the page; nothing changed", body = ErrorBody),
    ))]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (c, r) = recipient(&state, &path).await?;
    let one_click = form_field(&req, &body, "List-Unsubscribe").as_deref() == Some("One-Click");
    let only_campaign =
        match (one_click, form_field(&req, &body, "scope").as_deref()) {
            (true, _) | (false, Some("all")) => false,
            (false, Some("campaign")) => true,
            _ => return Err(ApiError::field(
                "List-Unsubscribe",
                "send List-Unsubscribe=One-Click (or scope=all or scope=campaign from the page)",
            )),
        };
    let mut tx = state.pool.begin().await?;
    if only_campaign {
        db::schedule::complete_target(&mut *tx, c.org, r.campaign_id, r.contact_id).await?;
    } else {
        db::send::suppress_contact_email(
            &mut tx,
            c.org,
            r.contact_id,
            SuppressionReason::Unsubscribed,
            if one_click {
                "one-click unsubscribe"
            } else {
                "unsubscribe page"
            },
        )
        .await?;
    }
    db::events::insert_events(
        &mut *tx,
        &[Event {
            org_id: c.org,
            message_id: c.message,
            kind: "unsubscribe",
            url: only_campaign.then(|| "campaign".to_owned()),
            at: OffsetDateTime::now_utc(),
        }],
    )
    .await?;
    tx.commit().await?;
    if one_click {
        return Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("Unsubscribed.\n"));
    }
    let org = escape_html(&r.org_name);
    Ok(page(
        "Unsubscribed",
        &if only_campaign {
            format!("<h1>Done</h1><p>You will get no more emails from this series from {org}.</p>")
        } else {
            format!(
                "<h1>You are unsubscribed</h1><p>{org} will not email {} again.</p>",
                escape_html(&mask(r.email.as_deref()))
            )
        },
    ))
}

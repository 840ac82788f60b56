//! Twilio's webhooks, answered without signing in: each address carries the organization's
//! account id, so the right Auth Token is known before the request's signature
//! (`X-Twilio-Signature`, over the URL built from `AURA_PUBLIC_URL`) is checked; an unsigned or
//! mis-signed request is refused before anything is read or written.

use crate::routes::Routes;
use crate::{
    db,
    error::{ApiError, ApiResult},
    inbox,
    providers::twilio::signature,
    state::AppState,
};
use actix_web::{web, HttpRequest, HttpResponse};
use aura_types::{ErrorBody, PhoneAccountId};

pub fn scope() -> Routes {
    Routes::new("/twilio")
        .post("/{account_id}/inbound", inbound)
        .post("/{account_id}/status", status)
}

/// The webhook's parameters, once its signature is checked against the account's Auth Token.
async fn signed(
    state: &AppState,
    req: &HttpRequest,
    account: PhoneAccountId,
    body: &[u8],
) -> ApiResult<(aura_types::OrgId, Vec<(String, String)>)> {
    let (org, row) = db::phone::account_for_webhook(&state.pool, account)
        .await?
        .ok_or(ApiError::NotFound)?;
    // A shared key of the account's Webhooks settings, when the request names one; else the
    // Auth Token.
    let named = req
        .headers()
        .get(signature::SETTINGS_HEADER)
        .and_then(|v| v.to_str().ok());
    let (algorithm, token) = match named {
        Some(header) => {
            let (key_id, algorithm) = signature::settings(header).ok_or(ApiError::Forbidden(
                "The request's signature settings name no key or an unknown algorithm.",
            ))?;
            let (sealed_key, sealed) = db::phone::webhook_secret(&state.pool, account, &key_id)
                .await?
                .ok_or(ApiError::Forbidden(
                    "The request is signed with a shared key this account does not have.",
                ))?;
            let secret = state.sealer.open(&sealed_key, &sealed).map_err(|_| {
                ApiError::Forbidden("This account's webhook key cannot be read; save it again.")
            })?;
            (algorithm, secret)
        }
        None => (
            signature::Algorithm::Sha1,
            state
                .sealer
                .open_optional(
                    row.auth_token_key_id.as_deref(),
                    row.auth_token_sealed.as_deref(),
                )
                .ok()
                .flatten()
                .ok_or(ApiError::Forbidden(
                    "This account's Auth Token cannot be read; save it again.",
                ))?,
        ),
    };
    let given = req
        .headers()
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Forbidden(
            "The request is not signed (no X-Twilio-Signature).",
        ))?;
    let url = format!(
        "{}{}",
        state.settings.public_url,
        req.uri()
            .path_and_query()
            .map_or(req.path(), |p| p.as_str())
    );
    let json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    let (valid, params) = if json {
        let params: Vec<(String, String)> =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
                .map(|m| {
                    m.into_iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
        (
            signature::valid_json_with(algorithm, &token, &url, body, given),
            params,
        )
    } else {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(body).into_owned().collect();
        (
            signature::valid_form_with(algorithm, &token, &url, &params, given),
            params,
        )
    };
    if !valid {
        return Err(ApiError::Forbidden(
            "The request's signature does not match this account's Auth Token (or its webhook key).",
        ));
    }
    Ok((org, params))
}

#[utoipa::path(post, operation_id = "twilioInbound", summary = "Receive a text message (Twilio webhook)", path = "/twilio/{account_id}/inbound", tag = "webhooks",
    params(("account_id" = uuid::Uuid, Path, description = "The organization's Twilio account in Aura (the address is shown in Settings → Channels)")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Twilio's inbound message parameters (MessageSid, From, To, Body, NumMedia, MediaUrl0…, ProfileName, WaId, OptOutType)"),
    description = "Where Twilio delivers SMS and WhatsApp messages sent to the account's numbers. Signed by Twilio with the account's Auth Token (`X-Twilio-Signature`); needs no sign-in. The message joins the contact's conversation once, however often Twilio retries. STOP and its synonyms opt the number out of everything (answered with a confirmation unless Twilio's Advanced Opt-Out did), START opts back in, HELP answers with the organization's help text; other messages are answered with empty TwiML.",
    responses(
        (status = 200, description = "TwiML: empty, or the confirmation to send back", content_type = "text/xml", body = String),
        (status = 400, description = "Not a message (no MessageSid or From)", body = ErrorBody),
        (status = 403, description = "Not signed with this account's Auth Token", body = ErrorBody),
        (status = 404, description = "No such Twilio account", body = ErrorBody),
    ))]
pub async fn inbound(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<PhoneAccountId>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (org, params) = signed(&state, &req, path.into_inner(), &body).await?;
    let texted = inbox::phone::read(&params).ok_or_else(|| {
        ApiError::BadRequest("The request holds no message (MessageSid and From).".into())
    })?;
    let org_name = db::orgs::get(&state.pool, org)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let mut tx = state.pool.begin().await?;
    let done = inbox::phone::take_in(
        &mut tx,
        org,
        &org_name,
        &texted,
        &body,
        state.clock.now(),
        "text",
    )
    .await?;
    if !done.duplicate {
        db::inbox::event(&mut *tx, org, "message", done.conversation).await?;
    }
    tx.commit().await?;
    if !done.duplicate {
        crate::workers::classify::wake();
    }
    Ok(HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(inbox::phone::twiml(done.answer.as_deref())))
}

#[utoipa::path(post, operation_id = "twilioStatus", summary = "Receive a text's delivery status (Twilio webhook)", path = "/twilio/{account_id}/status", tag = "webhooks",
    params(("account_id" = uuid::Uuid, Path, description = "The organization's Twilio account in Aura (the address is shown in Settings → Channels)")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Twilio's status callback parameters (MessageSid, MessageStatus, ErrorCode)"),
    description = "Where Twilio reports what became of a text Aura sent (queued, sent, delivered, undelivered, failed; read for WhatsApp). Signed by Twilio with the account's Auth Token; needs no sign-in. A status never moves backwards (a late `sent` after `delivered` changes nothing), and a callback Twilio repeats (same `I-Twilio-Idempotency-Token`, or same message and status) counts once.",
    responses(
        (status = 204, description = "Taken (or already known)"),
        (status = 400, description = "Not a status callback (no MessageSid or MessageStatus)", body = ErrorBody),
        (status = 403, description = "Not signed with this account's Auth Token", body = ErrorBody),
        (status = 404, description = "No such Twilio account", body = ErrorBody),
    ))]
pub async fn status(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<PhoneAccountId>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (org, params) = signed(&state, &req, path.into_inner(), &body).await?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let (Some(sid), Some(status)) = (param("MessageSid"), param("MessageStatus")) else {
        return Err(ApiError::BadRequest(
            "The request holds no status (MessageSid and MessageStatus).".into(),
        ));
    };
    let code = param("ErrorCode").and_then(|c| c.parse::<i64>().ok());
    let token = req
        .headers()
        .get("i-twilio-idempotency-token")
        .and_then(|v| v.to_str().ok());
    let mut tx = state.pool.begin().await?;
    db::text::status(&mut tx, org, sid, &status.to_ascii_lowercase(), code, token).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

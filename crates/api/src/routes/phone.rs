//! Settings → Channels: the organization's Twilio accounts (or its sandbox) and their sending
//! numbers, with a Test that makes one real authenticated call, and the webhook addresses to
//! paste into Twilio.

use crate::routes::Routes;
use crate::{
    db,
    domain::phone::{self, StoredAccount},
    error::{ApiError, ApiResult},
    extract::Json,
    providers::twilio::TwilioError,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    ErrorBody, PhoneAccount, PhoneAccountId, PhoneAccountInput, PhoneAccountKind, PhoneAccountTest,
    PhoneNumber, PhoneNumberId, PhoneNumberInput, SimulatedText, SimulatedTextResult, Webhooks,
};

pub fn scope() -> Routes {
    Routes::new("/phone-accounts")
        .get("", list)
        .post("", create)
        .post("/sandbox", connect_sandbox)
        .patch("/{account_id}", update)
        .delete("/{account_id}", delete)
        .post("/{account_id}/test", test)
        .post("/{account_id}/numbers", add_number)
        .post("/{account_id}/simulate", simulate)
        .put("/{account_id}/webhook-key", set_webhook_key)
        .delete("/{account_id}/webhook-key", remove_webhook_key)
}

pub fn numbers_scope() -> Routes {
    Routes::new("/phone-numbers")
        .patch("/{number_id}", update_number)
        .delete("/{number_id}", delete_number)
}

pub fn outbox_scope() -> Routes {
    Routes::new("/phone-outbox").get("", outbox)
}

pub fn templates_scope() -> Routes {
    Routes::new("/whatsapp-templates").get("", templates)
}

pub fn quiet_scope() -> Routes {
    Routes::new("/quiet-hours").get("", quiet_hours)
}

#[utoipa::path(get, operation_id = "getQuietHours", summary = "The quiet hours texts follow", path = "/quiet-hours", tag = "channels", security(("bearer" = [])),
    description = "When a text may reach a person, in their local time (their time zone, else their US state's zones, else their number's country): the default window, and the US states whose law is stricter (some forbid Sundays). A text due outside its window waits for the next allowed moment.",
    responses(
        (status = 200, description = "The rules", body = aura_types::QuietHours),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn quiet_hours(_caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(crate::domain::quiet::table()))
}

#[utoipa::path(get, operation_id = "listWhatsAppTemplates", summary = "WhatsApp templates", path = "/whatsapp-templates", tag = "channels", security(("bearer" = [])),
    description = "The content templates of every Twilio account of the organization, read from Twilio's Content API with WhatsApp's approval (approved, pending, rejected with the reason…), and the sandbox's own templates. Outside a lead's 24-hour window only an approved template may be sent; a WhatsApp step picks one and fills its variables from merge tags. An account whose templates cannot be read is named in `problems`; the others are still listed.",
    responses(
        (status = 200, description = "The templates, by account", body = aura_types::WhatsAppTemplates),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn templates(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let accounts = db::phone::accounts(&state.pool, caller.org_id).await?;
    let mut out = aura_types::WhatsAppTemplates::default();
    for a in accounts {
        if a.kind == PhoneAccountKind::Sandbox {
            out.templates.extend(phone::sandbox_templates(a.id));
            continue;
        }
        let listed = match a.credentials(&state.sealer) {
            Err(e) => Err(e),
            Ok(creds) => state.twilio.templates(&creds).await.map_err(|e| match e {
                TwilioError::Refused { code, message, .. } if code != 0 => {
                    format!("{} (Twilio error {code}: {message})", phone::explain(code))
                }
                e => e.to_string(),
            }),
        };
        match listed {
            Ok(contents) => out
                .templates
                .extend(contents.iter().map(|c| c.template(a.id))),
            Err(e) => out
                .problems
                .push(format!("{}: the templates could not be read: {e}", a.name)),
        }
    }
    Ok(HttpResponse::Ok().json(out))
}

/// How many of the sandbox's texts the outbox shows.
const OUTBOX_SHOWN: i64 = 200;

#[utoipa::path(get, operation_id = "listPhoneOutbox", summary = "Texts the sandbox number kept", path = "/phone-outbox", tag = "channels", security(("bearer" = [])),
    description = "What the sandbox number \"sent\" (SMS and WhatsApp): kept here, never sent, newest first (the latest 200).",
    responses(
        (status = 200, description = "Texts, newest first", body = Vec<aura_types::OutboxText>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn outbox(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let texts = db::text::outbox(&state.pool, caller.org_id, OUTBOX_SHOWN).await?;
    Ok(HttpResponse::Ok().json(texts))
}

/// The addresses Twilio calls for an account: each carries the account's id, so the right Auth
/// Token is known before the signature is checked.
fn webhooks(state: &AppState, id: PhoneAccountId) -> Webhooks {
    let base = &state.settings.public_url;
    Webhooks {
        inbound: format!("{base}/api/v1/twilio/{id}/inbound"),
        status_callback: format!("{base}/api/v1/twilio/{id}/status"),
    }
}

async fn shown_all(state: &AppState, caller: &Caller) -> ApiResult<Vec<PhoneAccount>> {
    let accounts = db::phone::accounts(&state.pool, caller.org_id).await?;
    let numbers = db::phone::numbers(&state.pool, caller.org_id).await?;
    Ok(accounts
        .into_iter()
        .map(|a| PhoneAccount {
            webhooks: (a.kind == PhoneAccountKind::Twilio).then(|| webhooks(state, a.id)),
            numbers: numbers
                .iter()
                .filter(|n| n.account_id == a.id)
                .cloned()
                .collect(),
            id: a.id,
            kind: a.kind,
            name: a.name,
            account_sid: a.account_sid,
            api_key_sid: a.api_key_sid,
            webhook_key_id: a.webhook_key_id,
            last_tested_at: a.last_tested_at,
            last_test_error: a.last_test_error,
        })
        .collect())
}

async fn shown(state: &AppState, caller: &Caller, id: PhoneAccountId) -> ApiResult<PhoneAccount> {
    shown_all(state, caller)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(get, operation_id = "listPhoneAccounts", summary = "List text-message accounts", path = "/phone-accounts", tag = "channels", security(("bearer" = [])),
    description = "The organization's Twilio accounts and its sandbox, each with its sending numbers and (for Twilio) the webhook addresses to paste into Twilio. Auth Tokens and API key secrets are never returned.",
    responses(
        (status = 200, description = "Accounts, oldest first", body = Vec<PhoneAccount>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(shown_all(&state, &caller).await?))
}

#[utoipa::path(post, operation_id = "createPhoneAccount", summary = "Connect a Twilio account", path = "/phone-accounts", tag = "channels", security(("bearer" = [])),
    request_body = PhoneAccountInput,
    description = "Adds a Twilio account: its Account SID (AC…) and Auth Token (required: Twilio signs its webhooks with it), optionally an API key (SK…) and its secret to send with. Secrets are sealed at rest. Add its numbers next, then Test it.",
    responses(
        (status = 201, description = "Connected", body = PhoneAccount),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage channels", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<PhoneAccountInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let f = phone::account(&body.0, None)?;
    let token = state
        .sealer
        .seal(f.auth_token.as_deref().unwrap_or_default());
    let secret = match &f.api_key {
        Some(Some((sid, Some(secret)))) => Some((sid.as_str(), state.sealer.seal(secret))),
        _ => None,
    };
    let id = db::phone::insert_account(
        &state.pool,
        caller.org_id,
        &f,
        &token,
        secret.as_ref().map(|(sid, s)| (*sid, s)),
    )
    .await?;
    Ok(HttpResponse::Created().json(shown(&state, &caller, id).await?))
}

#[utoipa::path(post, operation_id = "connectPhoneSandbox", summary = "Connect the sandbox number", path = "/phone-accounts/sandbox", tag = "channels", security(("bearer" = [])),
    description = "Gives the organization its sandbox account and number (+1 415 555 0199, SMS and WhatsApp) if it has none: messages through it are not sent but kept in the outbox, for demos and trying campaigns out. Idempotent.",
    responses(
        (status = 200, description = "The sandbox account", body = PhoneAccount),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage channels", body = ErrorBody),
    ))]
pub async fn connect_sandbox(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let mut conn = state.pool.acquire().await?;
    let id = db::phone::ensure_sandbox(&mut conn, caller.org_id).await?;
    drop(conn);
    Ok(HttpResponse::Ok().json(shown(&state, &caller, id).await?))
}

#[utoipa::path(patch, operation_id = "updatePhoneAccount", summary = "Update a Twilio account", path = "/phone-accounts/{account_id}", tag = "channels", security(("bearer" = [])),
    params(("account_id" = uuid::Uuid, Path, description = "The account's id")),
    request_body = PhoneAccountInput,
    description = "Changes what the body names (absent secrets are kept; an empty `api_key_sid` removes the API key). The last Test's outcome is cleared. The sandbox cannot be changed.",
    responses(
        (status = 200, description = "Saved", body = PhoneAccount),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage channels", body = ErrorBody),
        (status = 404, description = "No such Twilio account", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody),
    ))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PhoneAccountId>,
    body: Json<PhoneAccountInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    let current = db::phone::account(&state.pool, caller.org_id, id)
        .await?
        .filter(|a| a.kind == PhoneAccountKind::Twilio)
        .ok_or(ApiError::NotFound)?;
    let stored = StoredAccount {
        name: &current.name,
        account_sid: current.account_sid.as_deref().unwrap_or_default(),
        has_api_key_secret: current.api_key_secret_sealed.is_some(),
    };
    let f = phone::account(&body.0, Some(&stored))?;
    let token = f.auth_token.as_deref().map(|t| state.sealer.seal(t));
    let secret = match &f.api_key {
        Some(Some((_, Some(secret)))) => Some(state.sealer.seal(secret)),
        _ => None,
    };
    let key = match &f.api_key {
        None => None,
        Some(None) => Some(None),
        Some(Some((sid, _))) => Some(Some((sid.as_str(), secret.as_ref()))),
    };
    let change = db::phone::AccountChange {
        name: &f.name,
        account_sid: &f.account_sid,
        token: token.as_ref(),
        key,
    };
    if !db::phone::update_account(&state.pool, caller.org_id, id, &change).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(shown(&state, &caller, id).await?))
}

#[utoipa::path(delete, operation_id = "deletePhoneAccount", summary = "Remove an account", path = "/phone-accounts/{account_id}", tag = "channels", security(("bearer" = [])),
    params(("account_id" = uuid::Uuid, Path, description = "The account's id")),
    description = "Removes the account (Twilio or the sandbox) and its numbers.",
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage channels", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PhoneAccountId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    let mut tx = state.pool.begin().await?;
    let now = state.clock.now();
    db::phone::release_texts(&mut *tx, caller.org_id, None, Some(id), now).await?;
    if !db::phone::delete_account(&mut *tx, caller.org_id, id).await? {
        return Err(ApiError::NotFound);
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "testPhoneAccount", summary = "Test a Twilio account", path = "/phone-accounts/{account_id}/test", tag = "channels", security(("bearer" = [])),
    params(("account_id" = uuid::Uuid, Path, description = "The account's id")),
    description = "Makes one real authenticated call to Twilio (reads the account) with the credentials Aura sends with, and says what was found or what failed. The outcome is kept on the account.",
    responses(
        (status = 200, description = "What the Test found (`ok` false with the reason when it failed)", body = PhoneAccountTest),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage channels", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub async fn test(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PhoneAccountId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    let a = db::phone::account(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let outcome = if a.kind == PhoneAccountKind::Sandbox {
        Ok("The sandbox is ready: its messages are kept in the outbox, never sent.".to_owned())
    } else {
        match a.credentials(&state.sealer) {
            Err(e) => Err(e),
            Ok(creds) => match state.twilio.account(&creds).await {
                Ok(found) if found.status == "active" => Ok(format!(
                    "Connected to \"{}\" ({}).",
                    found.friendly_name, found.sid
                )),
                Ok(found) => Err(format!(
                    "The account \"{}\" is {} at Twilio: it cannot send.",
                    found.friendly_name, found.status
                )),
                Err(TwilioError::Refused { code, message, .. }) => Err(format!(
                    "{} (Twilio error {code}: {message})",
                    phone::explain(code)
                )),
                Err(e) => Err(e.to_string()),
            },
        }
    };
    db::phone::tested(
        &state.pool,
        caller.org_id,
        id,
        outcome.as_ref().err().map(String::as_str),
    )
    .await?;
    Ok(HttpResponse::Ok().json(match outcome {
        Ok(message) => PhoneAccountTest { ok: true, message },
        Err(message) => PhoneAccountTest { ok: false, message },
    }))
}

#[utoipa::path(put, operation_id = "setPhoneAccountWebhookKey", summary = "Sign webhooks with a shared key", path = "/phone-accounts/{account_id}/webhook-key", tag = "channels", security(("bearer" = [])),
    params(("account_id" = uuid::Uuid, Path, description = "The account's id")),
    request_body = aura_types::WebhookKeyInput,
    description = "When the account's Twilio Webhooks settings sign with a shared key (HMAC-SHA256) instead of the Auth Token, Aura checks those webhooks with the key named in `X-Twilio-Webhooks-Signature-Settings`. The secret is sealed and never shown again; webhooks signed with the Auth Token are still accepted.",
    responses(
        (status = 200, description = "The account as it is now", body = PhoneAccount),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins change accounts", body = ErrorBody),
        (status = 404, description = "No such Twilio account", body = ErrorBody),
        (status = 422, description = "An empty or malformed key id or secret (the field is named)", body = ErrorBody),
    ))]
pub async fn set_webhook_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PhoneAccountId>,
    body: Json<aura_types::WebhookKeyInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    let (key_id, secret) = phone::webhook_key(&body.0)?;
    let sealed = state.sealer.seal(&secret);
    if !db::phone::set_webhook_key(&state.pool, caller.org_id, id, Some((&key_id, &sealed))).await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(shown(&state, &caller, id).await?))
}

#[utoipa::path(delete, operation_id = "removePhoneAccountWebhookKey", summary = "Stop accepting a shared key's signatures", path = "/phone-accounts/{account_id}/webhook-key", tag = "channels", security(("bearer" = [])),
    params(("account_id" = uuid::Uuid, Path, description = "The account's id")),
    description = "Forgets the shared key: webhooks must be signed with the Auth Token again.",
    responses(
        (status = 200, description = "The account as it is now", body = PhoneAccount),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins change accounts", body = ErrorBody),
        (status = 404, description = "No such Twilio account", body = ErrorBody),
    ))]
pub async fn remove_webhook_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PhoneAccountId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    if !db::phone::set_webhook_key(&state.pool, caller.org_id, id, None).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(shown(&state, &caller, id).await?))
}

#[utoipa::path(post, operation_id = "addPhoneNumber", summary = "Add a sending number", path = "/phone-accounts/{account_id}/numbers", tag = "channels", security(("bearer" = [])),
    params(("account_id" = uuid::Uuid, Path, description = "The Twilio account's id")),
    request_body = PhoneNumberInput,
    description = "Adds a number of the account: E.164 (a national number is read in the organization's country), its channels (SMS by default; WhatsApp), its kind (long code, toll-free, short code) and its pace in messages a second (1, 3 or 100 by kind unless given), optionally a Messaging Service (MG…) to send through.",
    responses(
        (status = 201, description = "Added", body = PhoneNumber),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage channels", body = ErrorBody),
        (status = 404, description = "No such Twilio account", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named; or a number the organization has already", body = ErrorBody),
    ))]
pub async fn add_number(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PhoneAccountId>,
    body: Json<PhoneNumberInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let account = path.into_inner();
    db::phone::account(&state.pool, caller.org_id, account)
        .await?
        .filter(|a| a.kind == PhoneAccountKind::Twilio)
        .ok_or(ApiError::NotFound)?;
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let f = phone::number(&body.0, None, region.as_deref())?;
    let n = db::phone::insert_number(&state.pool, caller.org_id, account, &f).await?;
    Ok(HttpResponse::Created().json(n))
}

#[utoipa::path(patch, operation_id = "updatePhoneNumber", summary = "Update a sending number", path = "/phone-numbers/{number_id}", tag = "channels", security(("bearer" = [])),
    params(("number_id" = uuid::Uuid, Path, description = "The number's id")),
    request_body = PhoneNumberInput,
    description = "Changes what the body names. A new kind brings its default pace unless `per_second` is given. The sandbox's number cannot be changed.",
    responses(
        (status = 200, description = "Saved", body = PhoneNumber),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage channels", body = ErrorBody),
        (status = 404, description = "No such number of a Twilio account", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody),
    ))]
pub async fn update_number(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PhoneNumberId>,
    body: Json<PhoneNumberInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    let current = db::phone::number(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let stored = phone::NumberFields {
        number: current.number,
        sms: current.sms,
        whatsapp: current.whatsapp,
        kind: current.kind,
        per_second: current.per_second,
        messaging_service_sid: current.messaging_service_sid,
    };
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let f = phone::number(&body.0, Some(&stored), region.as_deref())?;
    let n = db::phone::update_number(&state.pool, caller.org_id, id, &f)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(n))
}

#[utoipa::path(delete, operation_id = "deletePhoneNumber", summary = "Remove a sending number", path = "/phone-numbers/{number_id}", tag = "channels", security(("bearer" = [])),
    params(("number_id" = uuid::Uuid, Path, description = "The number's id")),
    description = "Removes the number from its account.",
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage channels", body = ErrorBody),
        (status = 404, description = "No such number", body = ErrorBody),
    ))]
pub async fn delete_number(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PhoneNumberId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    let mut tx = state.pool.begin().await?;
    let now = state.clock.now();
    db::phone::release_texts(&mut *tx, caller.org_id, Some(id), None, now).await?;
    if !db::phone::delete_number(&mut *tx, caller.org_id, id).await? {
        return Err(ApiError::NotFound);
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "simulateText", summary = "Simulate a text to the sandbox number", path = "/phone-accounts/{account_id}/simulate", tag = "channels", security(("bearer" = [])),
    params(("account_id" = uuid::Uuid, Path, description = "The sandbox account's id")),
    request_body = SimulatedText,
    description = "Takes in a text as if a lead had sent it to the sandbox number, through the same path as Twilio's webhook: it lands in the Inbox, and STOP, START and HELP act as from a phone (consent changes are recorded with the source `simulated`). For demos and trying campaigns out.",
    responses(
        (status = 200, description = "Taken in", body = SimulatedTextResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins simulate texts", body = ErrorBody),
        (status = 404, description = "No such sandbox account", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody),
    ))]
pub async fn simulate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PhoneAccountId>,
    body: Json<SimulatedText>,
) -> ApiResult<HttpResponse> {
    // A simulation acts on real contacts (a STOP suppresses, a reply stops sequences): admins only.
    caller.require_admin()?;
    db::phone::account(&state.pool, caller.org_id, path.into_inner())
        .await?
        .filter(|a| a.kind == PhoneAccountKind::Sandbox)
        .ok_or(ApiError::NotFound)?;
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let (from, text) = phone::simulated(&body.0, region.as_deref())?;
    let channel = if body.0.whatsapp {
        aura_types::Channel::Whatsapp
    } else {
        aura_types::Channel::Sms
    };
    let texted = crate::inbox::phone::Texted {
        sid: format!("SM{}", uuid::Uuid::now_v7().simple()),
        channel,
        from_raw: if body.0.whatsapp {
            format!("whatsapp:{from}")
        } else {
            from.clone()
        },
        from: Some(from),
        body: text,
        profile_name: None,
        opt_out_type: None,
        media: Vec::new(),
    };
    let org_name = db::orgs::get(&state.pool, caller.org_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    // As Twilio would have posted it, with the number written to (answers go from it).
    let to = if body.0.whatsapp {
        format!("whatsapp:{}", db::phone::SANDBOX_NUMBER)
    } else {
        db::phone::SANDBOX_NUMBER.to_owned()
    };
    let raw = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("MessageSid", &texted.sid)
        .append_pair("From", &texted.from_raw)
        .append_pair("To", &to)
        .append_pair("Body", &texted.body)
        .finish();
    let mut tx = state.pool.begin().await?;
    let now = state.clock.now();
    let done = crate::inbox::phone::take_in(
        &mut tx,
        caller.org_id,
        &org_name,
        &texted,
        raw.as_bytes(),
        now,
        "simulated",
    )
    .await?;
    db::inbox::event(&mut *tx, caller.org_id, "message", done.conversation).await?;
    tx.commit().await?;
    crate::workers::classify::wake();
    Ok(HttpResponse::Ok().json(SimulatedTextResult {
        conversation_id: done.conversation,
        answer: done.answer,
    }))
}

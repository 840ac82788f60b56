//! Mailboxes: the organization's email accounts (add, edit, test with a real connection,
//! delete), and which of them each campaign sends through.

use crate::routes::Routes;
use crate::{
    db::{self, mailboxes::SecretChange},
    domain::mailbox::{mailbox_fields, MailboxFields, ServerFields},
    error::{ApiError, ApiResult},
    extract::Json,
    providers::{imap, smtp},
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    CampaignId, CampaignMailboxes, ErrorBody, Mailbox, MailboxId, MailboxInput, MailboxKind,
    MailboxSync, MailboxTest, SyncedFolder, TestStage,
};
use std::time::Duration;
use time::OffsetDateTime;

pub fn scope() -> Routes {
    Routes::new("/mailboxes")
        .get("", list)
        .post("", create)
        .get("/{mailbox_id}", get)
        .patch("/{mailbox_id}", update)
        .delete("/{mailbox_id}", delete)
        .post("/{mailbox_id}/test", test)
        .post("/{mailbox_id}/imap/test", test_imap)
        .get("/{mailbox_id}/sync", sync_state)
}

/// The network policy's check of the servers' hosts, when they are saved (422 naming the field).
async fn check_hosts(state: &AppState, f: &MailboxFields) -> ApiResult<()> {
    let mut refused = std::collections::BTreeMap::new();
    for (field, server) in [("smtp.host", &f.smtp), ("imap.host", &f.imap)] {
        if server.host.is_empty() {
            continue;
        }
        if let Err(e) = state
            .settings
            .network
            .check_host(&server.host, server.port)
            .await
        {
            refused.insert(field.to_owned(), e.to_string());
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(refused))
    }
}

fn seal(state: &AppState, change: &Option<Option<String>>) -> SecretChange {
    change
        .as_ref()
        .map(|p| p.as_ref().map(|plain| state.sealer.seal(plain)))
}

async fn shown(state: &AppState, caller: &Caller, id: MailboxId) -> ApiResult<Mailbox> {
    let row = db::mailboxes::get(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(to_api(&row, OffsetDateTime::now_utc()))
}

#[utoipa::path(get, operation_id = "listMailboxes", summary = "List mailboxes", path = "/mailboxes", tag = "mailboxes", security(("bearer" = [])),
    description = "The organization's mailboxes, oldest first, with today's use and health. Passwords are never returned.",
    responses(
        (status = 200, description = "The organization's mailboxes, oldest first, with today's use and health; passwords are never returned", body = Vec<Mailbox>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let now = OffsetDateTime::now_utc();
    let rows = db::mailboxes::list(&state.pool, caller.org_id, None, now).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|r| to_api(r, now)).collect::<Vec<_>>()))
}

#[utoipa::path(post, operation_id = "createMailbox", summary = "Add a mailbox", path = "/mailboxes", tag = "mailboxes", security(("bearer" = [])),
    request_body = MailboxInput,
    description = "Adds an email account: `smtp` (the organization's own server; the password is sealed at rest and never returned, not even in part) or `sandbox` (nothing leaves the machine: messages are kept in the outbox, and handed to a local mail catcher when a host is set). A server on a private, loopback or link-local address (in any spelling, or behind a name that resolves to one) is refused unless the server's administrator allows it (AURA_OUTBOUND_ALLOW); an unencrypted connection is accepted only to such an allowed local server.",
    responses(
        (status = 201, description = "Added", body = Mailbox),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage mailboxes", body = ErrorBody),
        (status = 422, description = "Invalid fields, a server host the network policy refuses, or another mailbox sends from this address", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<MailboxInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let f = mailbox_fields(None, &body.0, false)?;
    check_hosts(&state, &f).await?;
    let id = MailboxId::new();
    db::mailboxes::insert(
        &state.pool,
        caller.org_id,
        id,
        &f,
        &seal(&state, &f.smtp.password),
        &seal(&state, &f.imap.password),
        state.clock.now().date(),
    )
    .await?;
    crate::workers::sync::wake();
    Ok(HttpResponse::Created().json(shown(&state, &caller, id).await?))
}

#[utoipa::path(get, operation_id = "getMailbox", summary = "Get a mailbox", path = "/mailboxes/{mailbox_id}", tag = "mailboxes", security(("bearer" = [])),
    params(("mailbox_id" = uuid::Uuid, Path, description = "The mailbox's id")),
    description = "One mailbox with today's use and health. Its password is never returned.",
    responses(
        (status = 200, description = "The mailbox", body = Mailbox),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such mailbox", body = ErrorBody),
    ))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<MailboxId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(shown(&state, &caller, path.into_inner()).await?))
}

#[utoipa::path(patch, operation_id = "updateMailbox", summary = "Update a mailbox", path = "/mailboxes/{mailbox_id}", tag = "mailboxes", security(("bearer" = [])),
    params(("mailbox_id" = uuid::Uuid, Path, description = "The mailbox's id")),
    request_body = MailboxInput,
    description = "Changes what the body names (a password: absent keeps it, empty or null removes it). Setting `status` to `active` resumes a paused mailbox and clears its failure count; changing the ramp-up restarts it today.",
    responses(
        (status = 200, description = "Saved", body = Mailbox),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage mailboxes", body = ErrorBody),
        (status = 404, description = "No such mailbox", body = ErrorBody),
        (status = 422, description = "Invalid fields, or a server host the network policy refuses", body = ErrorBody),
    ))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<MailboxId>,
    body: Json<MailboxInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    let current = db::mailboxes::get(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let f = mailbox_fields(
        Some(&current.fields()),
        &body.0,
        current.smtp_secret_sealed.is_some(),
    )?;
    check_hosts(&state, &f).await?;
    db::mailboxes::update(
        &state.pool,
        caller.org_id,
        id,
        &f,
        &seal(&state, &f.smtp.password),
        &seal(&state, &f.imap.password),
        state.clock.now().date(),
    )
    .await?;
    crate::workers::schedule::wake();
    crate::workers::sync::wake();
    Ok(HttpResponse::Ok().json(shown(&state, &caller, id).await?))
}

#[utoipa::path(delete, operation_id = "deleteMailbox", summary = "Delete a mailbox", path = "/mailboxes/{mailbox_id}", tag = "mailboxes", security(("bearer" = [])),
    params(("mailbox_id" = uuid::Uuid, Path, description = "The mailbox's id")),
    description = "Deletes the mailbox; campaigns no longer send through it. Refused while messages are queued through it. Admins and owners only.",
    responses(
        (status = 204, description = "Deleted; campaigns no longer send through it"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage mailboxes", body = ErrorBody),
        (status = 404, description = "No such mailbox", body = ErrorBody),
        (status = 409, description = "Messages are queued through it; pause it and let them finish, or pause their campaigns", body = ErrorBody),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<MailboxId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    db::mailboxes::get(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if db::mailboxes::in_use(&state.pool, caller.org_id, id).await? {
        return Err(ApiError::Conflict(
            "Messages are queued through this mailbox. Pause their campaigns first.".into(),
        ));
    }
    db::mailboxes::delete(&state.pool, caller.org_id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "testMailbox", summary = "Test a mailbox's SMTP connection", path = "/mailboxes/{mailbox_id}/test", tag = "mailboxes", security(("bearer" = [])),
    params(("mailbox_id" = uuid::Uuid, Path, description = "The mailbox's id")),
    description = "Makes a real connection to the mailbox's SMTP server — TCP, TLS or STARTTLS, EHLO, AUTH — and reports each stage up to the first that failed, in the server's own words. Sends no email. A sandbox without a host checks that its outbox folder can be written.",
    responses(
        (status = 200, description = "What happened at each stage", body = MailboxTest),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins test mailboxes", body = ErrorBody),
        (status = 404, description = "No such mailbox", body = ErrorBody),
        (status = 409, description = "The stored password cannot be opened (the master key that sealed it is gone)", body = ErrorBody),
    ))]
pub async fn test(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<MailboxId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let row = db::mailboxes::get(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let stages = if row.kind == MailboxKind::Sandbox && row.smtp_host.is_empty() {
        let dir = state.settings.outbox_dir.join(caller.org_id.to_string());
        let result = tokio::fs::create_dir_all(&dir).await;
        vec![TestStage {
            stage: "outbox".into(),
            ok: result.is_ok(),
            detail: match result {
                Ok(()) => format!("messages are kept in the outbox and in {}", dir.display()),
                Err(e) => format!("{} cannot be written: {e}", dir.display()),
            },
        }]
    } else {
        let password = state
            .sealer
            .open_optional(
                row.smtp_secret_key_id.as_deref(),
                row.smtp_secret_sealed.as_deref(),
            )
            .map_err(|e| {
                ApiError::Conflict(format!("The stored password cannot be opened: {e}"))
            })?;
        let fields: ServerFields = row.fields().smtp;
        let server = smtp::Server::new(
            &fields,
            password,
            &row.from_email,
            Duration::from_secs(state.settings.smtp_timeout_secs.clamp(1, 30)),
            &state.settings.network,
        );
        smtp::test(&server).await
    };
    let ok = stages.iter().all(|s| s.ok);
    let failure = stages.iter().find(|s| !s.ok);
    db::mailboxes::record_health(
        &state.pool,
        caller.org_id,
        row.id,
        failure
            .map(|f| format!("{}: {}", f.stage, f.detail))
            .as_deref(),
        false,
        state.settings.mailbox_pause_after,
    )
    .await?;
    Ok(HttpResponse::Ok().json(MailboxTest { ok, stages }))
}

#[utoipa::path(post, operation_id = "testMailboxImap", summary = "Test a mailbox's IMAP settings", path = "/mailboxes/{mailbox_id}/imap/test", tag = "mailboxes", security(("bearer" = [])),
    params(("mailbox_id" = uuid::Uuid, Path, description = "The mailbox's id")),
    description = "Makes a real connection to the mailbox's IMAP server — TCP, TLS or STARTTLS, the greeting, LOGIN — lists its folders and says which ones Aura reads (INBOX, and the folders for junk and sent mail), reporting each stage up to the first that failed, in the server's own words. Reads no mail and changes nothing on the server. The network policy applies to the host as it does to SMTP.",
    responses(
        (status = 200, description = "What happened at each stage", body = MailboxTest),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins test mailboxes", body = ErrorBody),
        (status = 404, description = "No such mailbox", body = ErrorBody),
        (status = 409, description = "No IMAP server is set, or the stored password cannot be opened (the master key that sealed it is gone)", body = ErrorBody),
    ))]
pub async fn test_imap(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<MailboxId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let row = db::mailboxes::get(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    if row.imap_host.is_empty() {
        return Err(ApiError::Conflict(
            "This mailbox has no IMAP server: set one to read its replies.".into(),
        ));
    }
    let password = state
        .sealer
        .open_optional(
            row.imap_secret_key_id.as_deref(),
            row.imap_secret_sealed.as_deref(),
        )
        .map_err(|e| ApiError::Conflict(format!("The stored password cannot be opened: {e}")))?;
    let server = imap::Server::new(
        &row.fields().imap,
        password,
        Duration::from_secs(state.settings.imap_timeout_secs.clamp(1, 30)),
        &state.settings.network,
    );
    let stages = imap::test(&server).await;
    let ok = stages.iter().all(|s| s.ok);
    Ok(HttpResponse::Ok().json(MailboxTest { ok, stages }))
}

#[utoipa::path(get, operation_id = "getMailboxSync", summary = "How a mailbox's replies are read", path = "/mailboxes/{mailbox_id}/sync", tag = "mailboxes", security(("bearer" = [])),
    params(("mailbox_id" = uuid::Uuid, Path, description = "The mailbox's id")),
    description = "The health of reading the mailbox over IMAP: whether a worker holds it and waits on IDLE, the last sync and the last error, and each folder's watermark (UIDVALIDITY, the last UID taken in, messages taken in).",
    responses(
        (status = 200, description = "The sync's health", body = MailboxSync),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such mailbox", body = ErrorBody),
    ))]
pub async fn sync_state(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<MailboxId>,
) -> ApiResult<HttpResponse> {
    let row = db::mailboxes::get(&state.pool, caller.org_id, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let (sync, folders) = db::sync::state(&state.pool, caller.org_id, row.id).await?;
    let now = OffsetDateTime::now_utc();
    let active = sync
        .as_ref()
        .is_some_and(|s| s.holder.is_some() && s.lease_until.is_some_and(|l| l > now));
    Ok(HttpResponse::Ok().json(MailboxSync {
        configured: !row.imap_host.is_empty(),
        active,
        idling: active && sync.as_ref().is_some_and(|s| s.idling),
        last_sync_at: sync.as_ref().and_then(|s| s.last_sync_at),
        last_error: sync.as_ref().and_then(|s| s.last_error.clone()),
        last_error_at: sync.as_ref().and_then(|s| s.last_error_at),
        folders: folders
            .into_iter()
            .map(|f| SyncedFolder {
                name: f.name,
                role: f.role,
                uid_validity: f.uid_validity,
                last_uid: f.last_uid,
                messages: f.messages,
                synced_at: f.synced_at,
            })
            .collect(),
    }))
}

#[utoipa::path(get, operation_id = "getCampaignMailboxes", summary = "List a campaign's mailboxes", path = "/campaigns/{campaign_id}/mailboxes", tag = "mailboxes", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    description = "The ids of the mailboxes the campaign rotates over, oldest mailbox first.",
    responses(
        (status = 200, description = "The mailboxes the campaign sends through", body = CampaignMailboxes),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
pub async fn campaign_mailboxes(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    db::campaigns::get(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mailbox_ids = db::mailboxes::of_campaign(&state.pool, caller.org_id, id).await?;
    Ok(HttpResponse::Ok().json(CampaignMailboxes { mailbox_ids }))
}

#[utoipa::path(put, operation_id = "setCampaignMailboxes", summary = "Set a campaign's mailboxes", path = "/campaigns/{campaign_id}/mailboxes", tag = "mailboxes", security(("bearer" = [])),
    params(("campaign_id" = uuid::Uuid, Path, description = "The campaign's id")),
    request_body = CampaignMailboxes,
    description = "Sets the mailboxes the campaign rotates over. Each lead keeps the mailbox of its first email for every follow-up.",
    responses(
        (status = 200, description = "Saved", body = CampaignMailboxes),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "A mailbox id that is not one of the organization's", body = ErrorBody),
    ))]
pub async fn set_campaign_mailboxes(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CampaignId>,
    body: Json<CampaignMailboxes>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut ids = body.0.mailbox_ids;
    ids.sort();
    ids.dedup();
    if ids.len() > 100 {
        return Err(ApiError::field("mailbox_ids", "at most 100 mailboxes"));
    }
    let mut tx = state.pool.begin().await?;
    db::campaigns::lock(&mut tx, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let known = db::mailboxes::list(
        &mut *tx,
        caller.org_id,
        Some(&ids),
        OffsetDateTime::now_utc(),
    )
    .await?;
    if known.len() != ids.len() {
        return Err(ApiError::field(
            "mailbox_ids",
            "contains an id that is not one of your mailboxes",
        ));
    }
    db::mailboxes::set_for_campaign(&mut tx, caller.org_id, id, &ids).await?;
    let mailbox_ids = db::mailboxes::of_campaign(&mut *tx, caller.org_id, id).await?;
    tx.commit().await?;
    crate::workers::schedule::wake();
    Ok(HttpResponse::Ok().json(CampaignMailboxes { mailbox_ids }))
}

/// What the API shows of a mailbox: never a password, not even part of one — only whether one is
/// set.
fn to_api(row: &db::mailboxes::MailboxRow, now: OffsetDateTime) -> Mailbox {
    Mailbox {
        id: row.id,
        kind: row.kind,
        from_name: row.from_name.clone(),
        from_email: row.from_email.clone(),
        reply_to: row.reply_to.clone(),
        signature: row.signature.clone(),
        smtp: aura_types::ServerSettings {
            host: row.smtp_host.clone(),
            port: db::mailboxes::port(row.smtp_port),
            security: row.smtp_security,
            username: row.smtp_username.clone(),
            password: aura_types::ai::SecretState::set(row.smtp_secret_sealed.is_some()),
        },
        imap: aura_types::ServerSettings {
            host: row.imap_host.clone(),
            port: db::mailboxes::port(row.imap_port),
            security: row.imap_security,
            username: row.imap_username.clone(),
            password: aura_types::ai::SecretState::set(row.imap_secret_sealed.is_some()),
        },
        limits: row.limits(),
        today_limit: crate::domain::mailbox::limit_today(&row.limits(), row.ramp_from, now),
        sent_today: row.sent_today,
        status: row.status,
        paused_reason: row.paused_reason.clone(),
        health: aura_types::MailboxHealth {
            last_success_at: row.last_success_at,
            last_error_at: row.last_error_at,
            last_error: row.last_error.clone(),
            consecutive_failures: row.consecutive_failures,
        },
        dkim_selector: row.dkim_selector.clone(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

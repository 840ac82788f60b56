//! DKIM signing keys: the organization uploads a private key per sending domain; every mailbox
//! sending from an address on the domain signs with it. The private key is sealed at rest and
//! never returned; the API shows the DNS record to publish instead.

use crate::routes::Routes;
use crate::{
    db::{self, dkim::DkimRow},
    delivery::dkim::dns_record,
    domain::mailbox::dkim_fields,
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{DkimKey, DkimKeyId, DkimKeyInput, ErrorBody};
use secrecy::ExposeSecret;

pub fn scope() -> Routes {
    Routes::new("/dkim-keys")
        .get("", list)
        .post("", upload)
        .delete("/{key_id}", delete)
}

fn to_api(r: DkimRow) -> DkimKey {
    let (dns_name, dns_value) = dns_record(&r.selector, &r.domain, r.algorithm, &r.public_key);
    DkimKey {
        id: r.id,
        domain: r.domain,
        selector: r.selector,
        algorithm: r.algorithm,
        description: r.description,
        dns_name,
        dns_value,
        mailbox_ids: r.mailbox_ids,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

#[utoipa::path(get, operation_id = "listDkimKeys", summary = "List DKIM keys", path = "/dkim-keys", tag = "mailboxes", security(("bearer" = [])),
    description = "The organization's signing keys, one per domain, each with the TXT record to publish and the mailboxes that sign with it. Private keys are never returned.",
    responses(
        (status = 200, description = "The organization's DKIM keys by domain, each with the DNS record to publish and the mailboxes that sign with it; private keys are never returned", body = Vec<DkimKey>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = db::dkim::list(&state.pool, caller.org_id, None).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(to_api).collect::<Vec<_>>()))
}

#[utoipa::path(post, operation_id = "uploadDkimKey", summary = "Upload a domain's DKIM key", path = "/dkim-keys", tag = "mailboxes", security(("bearer" = [])),
    request_body = DkimKeyInput,
    description = "Uploads the private key a domain signs with (RSA 1024–4096 bits as PKCS#1 or PKCS#8 PEM, or Ed25519 as PKCS#8 PEM or its 32-byte seed in base64). It replaces the domain's key if it had one. From then on every message from an address on the domain carries a DKIM-Signature (relaxed/relaxed, covering From, To, Subject, Date, Message-ID, threading and the one-click unsubscribe headers). Publish the returned TXT record for receivers to check it.",
    responses(
        (status = 201, description = "Added", body = DkimKey),
        (status = 200, description = "The domain's key was replaced", body = DkimKey),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage mailboxes", body = ErrorBody),
        (status = 422, description = "Invalid domain, selector or key, with the reason by field", body = ErrorBody),
    ))]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<DkimKeyInput>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let f = dkim_fields(&body.0)?;
    let new = db::dkim::NewKey {
        domain: &f.domain,
        selector: &f.selector,
        algorithm: f.key.algorithm,
        sealed: state.sealer.seal(f.key.private.expose_secret()),
        public_key: &f.key.public,
        description: &f.key.description,
    };
    let (id, created) = db::dkim::upsert(&state.pool, caller.org_id, &new).await?;
    let row = db::dkim::list(&state.pool, caller.org_id, Some(id))
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(to_api(row)))
}

#[utoipa::path(delete, operation_id = "deleteDkimKey", summary = "Delete a DKIM key", path = "/dkim-keys/{key_id}", tag = "mailboxes", security(("bearer" = [])),
    params(("key_id" = uuid::Uuid, Path, description = "The key's id")),
    description = "Deletes the domain's key; messages from addresses on the domain are no longer signed. Admins and owners only.",
    responses(
        (status = 204, description = "Deleted; the domain's messages are no longer signed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only owners and admins manage mailboxes", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DkimKeyId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    if !db::dkim::delete(&state.pool, caller.org_id, path.into_inner()).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

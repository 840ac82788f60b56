//! Contacts: list (keyset pages, search, filters), create, read with notes, edit, delete, notes,
//! merge, bulk actions and tags.

use crate::routes::Routes;
use crate::{
    db::{self, contacts::Selection},
    domain::{
        audience::filter_rule,
        contact::{Apply, ContactChanges, ContactRecord},
    },
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{
    parse_tag, parse_tags, parse_text, BulkAction, BulkRequest, BulkResult, Contact, ContactDetail,
    ContactFilter, ContactId, ContactInput, ErrorBody, MergeRequest, Note, NoteInput, OrgId, Page,
    PageQuery, RenameTagRequest, Rule, SegmentKind, TagCount, UserId, NOTE_MAX_CHARS,
};
use serde::Deserialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

pub fn scope() -> Routes {
    Routes::new("/contacts")
        .get("", list)
        .post("", create)
        .post("/bulk", bulk)
        .get("/tags", tags)
        .post("/tags/rename", rename_tag)
        .post("/import", crate::routes::imports::import_json)
        .nest(crate::routes::imports::scope())
        .get("/{contact_id}", get)
        .patch("/{contact_id}", update)
        .delete("/{contact_id}", delete)
        .post("/{contact_id}/notes", add_note)
        .post("/{contact_id}/merge", merge)
}

/// Most ids one bulk request may name.
pub const BULK_IDS_MAX: usize = 10_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[serde(flatten)]
    #[param(inline)]
    pub filter: ContactFilter,
}

/// The rule a filter stands for, including its segment (which must exist in `org`).
pub async fn resolve_filter(
    db: &mut PgConnection,
    org: OrgId,
    f: &ContactFilter,
) -> ApiResult<Rule> {
    let rule = filter_rule(f)?;
    let Some(segment_id) = f.segment_id else {
        return Ok(rule);
    };
    let segment = db::segments::get(&mut *db, org, segment_id)
        .await?
        .ok_or_else(|| ApiError::field("segment_id", "no such segment"))?;
    let member = match (segment.kind, segment.rules) {
        (SegmentKind::Dynamic, Some(rules)) => rules,
        _ => Rule::InSegment { segment_id },
    };
    Ok(Rule::All {
        rules: vec![rule, member],
    })
}

/// A contact selection from an API body: ids (at most `BULK_IDS_MAX`) or a filter.
pub async fn resolve_selection(
    db: &mut PgConnection,
    org: OrgId,
    s: &aura_types::Selection,
) -> ApiResult<Selection> {
    Ok(match s {
        aura_types::Selection::Ids(ids) if ids.len() > BULK_IDS_MAX => {
            return Err(ApiError::field(
                "selection.ids",
                format!("at most {BULK_IDS_MAX} ids"),
            ))
        }
        aura_types::Selection::Ids(ids) => Selection::Ids(ids.clone()),
        aura_types::Selection::Filter(f) => Selection::Rule(resolve_filter(db, org, f).await?),
    })
}

#[utoipa::path(get, operation_id = "listContacts", summary = "List contacts", path = "/contacts", tag = "contacts", security(("bearer" = [])),
    params(ListQuery, PageQuery),
    description = "Contacts matching every given filter, newest first, in pages. `total` counts all matches.",
    responses(
        (status = 200, description = "A page", body = Page<Contact>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A filter value is invalid (the field is named)", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let limit = page.limit()?;
    let cursor = page.after::<ContactId>()?;
    let mut conn = state.pool.acquire().await?;
    let sel = Selection::Rule(resolve_filter(&mut conn, caller.org_id, &q.filter).await?);
    let now = OffsetDateTime::now_utc();
    let items = db::contacts::list(
        &mut conn,
        caller.org_id,
        &sel,
        now,
        cursor,
        i64::from(limit) + 1,
    )
    .await?;
    let total = db::contacts::count(&mut conn, caller.org_id, &sel, now).await?;
    Ok(HttpResponse::Ok().json(Page::keyset(items, total, limit, |c| c.id)))
}

/// A contact's owner must be a member of the organization.
async fn check_owner(conn: &mut PgConnection, org: OrgId, owner: Option<UserId>) -> ApiResult<()> {
    match owner {
        Some(user) if db::members::role_of(&mut *conn, org, user).await?.is_none() => Err(
            ApiError::field("owner_id", "must be a member of the organization"),
        ),
        _ => Ok(()),
    }
}

/// Checks what a saved contact must satisfy beyond its own fields: an address, an owner who is a
/// member, and no other contact with the same email or phone.
async fn check_and_save(
    conn: &mut PgConnection,
    org: OrgId,
    record: &ContactRecord,
) -> ApiResult<()> {
    if !record.has_address() {
        return Err(ApiError::field(
            "email",
            "a contact needs an email or a phone number",
        ));
    }
    check_owner(&mut *conn, org, record.owner_id).await?;
    let emails: Vec<String> = record.email.iter().map(|e| e.to_lowercase()).collect();
    let phones: Vec<String> = record.phone.iter().cloned().collect();
    let others = db::contacts::lock_by_address(&mut *conn, org, &emails, &phones).await?;
    if let Some(other) = others.into_iter().find(|o| o.id != record.id) {
        let by_email = other.email.as_ref().map(|e| e.to_lowercase())
            == record.email.as_ref().map(|e| e.to_lowercase());
        let what = if by_email { "email" } else { "phone number" };
        return Err(ApiError::Duplicate {
            message: format!("{} already has this {what}.", other.full_name),
            existing_id: other.id.0,
        });
    }
    Ok(db::contacts::upsert(&mut *conn, org, std::slice::from_ref(record)).await?)
}

#[utoipa::path(post, operation_id = "createContact", summary = "Create a contact", path = "/contacts", tag = "contacts", security(("bearer" = [])),
    request_body = ContactInput,
    description = "Creates a contact. It needs an email or a phone; phones are stored as E.164; the time zone is inferred when the country (or the phone's country) has only one.",
    responses(
        (status = 201, description = "Created", body = Contact),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "A contact with this email or phone exists (`existing_id` names it)", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ContactInput>,
) -> ApiResult<HttpResponse> {
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let now = OffsetDateTime::now_utc();
    let changes = ContactChanges::parse(body.0, region.as_deref(), now)?;
    let mut record = ContactRecord::new(ContactId::new());
    record.apply(&changes, Apply::Set);
    let mut tx = state.pool.begin().await?;
    check_and_save(&mut tx, caller.org_id, &record).await?;
    let contact = db::contacts::get(&mut tx, caller.org_id, record.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(contact))
}

#[utoipa::path(get, operation_id = "getContact", summary = "Get a contact", path = "/contacts/{contact_id}", tag = "contacts", security(("bearer" = [])),
    params(("contact_id" = uuid::Uuid, Path, description = "The contact's id")),
    description = "The contact with its notes.",
    responses(
        (status = 200, description = "The contact with its notes", body = ContactDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such contact", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ContactId>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut conn = state.pool.acquire().await?;
    let contact = db::contacts::get(&mut conn, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let notes = db::contacts::notes(&mut *conn, caller.org_id, id).await?;
    Ok(HttpResponse::Ok().json(ContactDetail { contact, notes }))
}

#[utoipa::path(patch, operation_id = "updateContact", summary = "Update a contact", path = "/contacts/{contact_id}", tag = "contacts", security(("bearer" = [])),
    params(("contact_id" = uuid::Uuid, Path, description = "The contact's id")),
    request_body = ContactInput,
    description = "Changes the given fields; an empty string or `null` clears one.",
    responses(
        (status = 200, description = "Updated", body = Contact),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such contact", body = ErrorBody),
        (status = 409, description = "Another contact has this email or phone", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ContactId>,
    body: Json<ContactInput>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let region = db::orgs::region(&state.pool, caller.org_id).await?;
    let changes = ContactChanges::parse(body.0, region.as_deref(), OffsetDateTime::now_utc())?;
    let mut tx = state.pool.begin().await?;
    let existing = db::contacts::lock(&mut tx, caller.org_id, &[id])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    let mut record = ContactRecord::from(existing);
    if record.apply(&changes, Apply::Set) {
        check_and_save(&mut tx, caller.org_id, &record).await?;
    }
    let contact = db::contacts::get(&mut tx, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(contact))
}

#[utoipa::path(delete, operation_id = "deleteContact", summary = "Delete a contact", path = "/contacts/{contact_id}", tag = "contacts", security(("bearer" = [])),
    params(("contact_id" = uuid::Uuid, Path, description = "The contact's id")),
    description = "Deletes the contact and erases its personal data (fields, notes, memberships).",
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such contact", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ContactId>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.acquire().await?;
    let sel = Selection::Ids(vec![path.into_inner()]);
    if db::contacts::delete(&mut conn, caller.org_id, &sel, OffsetDateTime::now_utc()).await? == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "addContactNote", summary = "Add a note to a contact", path = "/contacts/{contact_id}/notes", tag = "contacts", security(("bearer" = [])),
    params(("contact_id" = uuid::Uuid, Path, description = "The contact's id")),
    request_body = NoteInput,
    description = "Adds a note of at most 10,000 characters to the contact, written by the signed-in person (with no author when called with an API key).",
    responses(
        (status = 201, description = "Added", body = Note),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such contact", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn add_note(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ContactId>,
    body: Json<NoteInput>,
) -> ApiResult<HttpResponse> {
    let text = parse_text(&body.0.body, NOTE_MAX_CHARS).map_err(|e| ApiError::field("body", e))?;
    let note = db::contacts::add_note(
        &state.pool,
        caller.org_id,
        path.into_inner(),
        caller.user_id().ok(),
        &text,
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Created().json(note))
}

#[utoipa::path(post, operation_id = "mergeContacts", summary = "Merge two contacts", path = "/contacts/{contact_id}/merge", tag = "contacts", security(("bearer" = [])),
    params(("contact_id" = uuid::Uuid, Path, description = "The contact that stays")),
    request_body = MergeRequest,
    description = "Merges `other_id` into this contact: empty fields are filled from it, tags and custom fields combined, notes and segment memberships moved; then `other_id` is deleted.",
    responses(
        (status = 200, description = "The merged contact", body = Contact),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "Either contact does not exist", body = ErrorBody),
        (status = 422, description = "A contact cannot be merged into itself", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn merge(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ContactId>,
    body: Json<MergeRequest>,
) -> ApiResult<HttpResponse> {
    let (keep, other) = (path.into_inner(), body.0.other_id);
    let org = caller.org_id;
    let mut tx = state.pool.begin().await?;
    let locked = db::contacts::lock(&mut tx, org, &[keep, other]).await?;
    let find = |id| locked.iter().find(|c| c.id == id).cloned();
    let Some(kept) = find(keep) else {
        return Err(ApiError::NotFound);
    };
    if keep == other {
        return Err(ApiError::field("other_id", "is the same contact"));
    }
    let Some(merged) = find(other) else {
        return Err(ApiError::NotFound);
    };
    let mut record = ContactRecord::from(kept);
    record.absorb(ContactRecord::from(merged));
    db::contacts::move_children(&mut tx, org, other, keep).await?;
    db::contacts::delete(
        &mut tx,
        org,
        &Selection::Ids(vec![other]),
        OffsetDateTime::now_utc(),
    )
    .await?;
    db::contacts::upsert(&mut tx, org, &[record]).await?;
    let contact = db::contacts::get(&mut tx, org, keep)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(contact))
}

#[utoipa::path(post, operation_id = "bulkContacts", summary = "Apply an action to many contacts", path = "/contacts/bulk", tag = "contacts", security(("bearer" = [])),
    request_body = BulkRequest,
    description = "Applies one action to contacts chosen by ids or by a filter (the same filter as the list). Ids of other organizations are not matched.",
    responses(
        (status = 200, description = "How many were selected and how many changed", body = BulkResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid tags, owner or filter", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn bulk(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<BulkRequest>,
) -> ApiResult<HttpResponse> {
    let org = caller.org_id;
    let req = body.0;
    let now = OffsetDateTime::now_utc();
    let mut tx = state.pool.begin().await?;
    let sel = resolve_selection(&mut tx, org, &req.selection).await?;
    let parse = |tags: &[String]| -> ApiResult<Vec<String>> {
        let tags = parse_tags(tags).map_err(|e| ApiError::field("tags", e))?;
        if tags.is_empty() {
            return Err(ApiError::field("tags", "name at least one tag"));
        }
        Ok(tags)
    };
    let matched = db::contacts::count(&mut tx, org, &sel, now).await?;
    let changed = match &req.action {
        BulkAction::AddTags { tags } => {
            db::contacts::add_tags(&mut tx, org, &sel, now, &parse(tags)?).await?
        }
        BulkAction::RemoveTags { tags } => {
            db::contacts::remove_tags(&mut tx, org, &sel, now, &parse(tags)?).await?
        }
        BulkAction::SetStatus { status } => {
            db::contacts::set_status(&mut tx, org, &sel, now, *status).await?
        }
        BulkAction::SetOwner { owner_id } => {
            check_owner(&mut tx, org, *owner_id).await?;
            db::contacts::set_owner(&mut tx, org, &sel, now, *owner_id).await?
        }
        BulkAction::Delete => db::contacts::delete(&mut tx, org, &sel, now).await?,
    };
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(BulkResult {
        matched,
        changed: changed as i64,
    }))
}

#[utoipa::path(get, operation_id = "listTags", summary = "List tags", path = "/contacts/tags", tag = "contacts", security(("bearer" = [])),
    description = "Every tag in use in the organization with its number of contacts, most used first.",
    responses(
        (status = 200, description = "Tags in use with their number of contacts, most used first", body = Vec<TagCount>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn tags(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(db::contacts::tag_counts(&state.pool, caller.org_id).await?))
}

#[utoipa::path(post, operation_id = "renameTag", summary = "Rename a tag", path = "/contacts/tags/rename", tag = "contacts", security(("bearer" = [])),
    request_body = RenameTagRequest,
    description = "Renames a tag on every contact. Renaming to a tag that exists merges the two.",
    responses(
        (status = 200, description = "How many contacts changed", body = BulkResult),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No contact has the tag", body = ErrorBody),
        (status = 422, description = "Invalid tag", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id))]
pub async fn rename_tag(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<RenameTagRequest>,
) -> ApiResult<HttpResponse> {
    let from = parse_tag(&body.0.from).map_err(|e| ApiError::field("from", e))?;
    let to = parse_tag(&body.0.to).map_err(|e| ApiError::field("to", e))?;
    let changed = db::contacts::rename_tag(&state.pool, caller.org_id, &from, &to).await? as i64;
    if changed == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(BulkResult {
        matched: changed,
        changed,
    }))
}

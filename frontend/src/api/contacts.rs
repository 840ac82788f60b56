//! Contacts, their notes, imports and suppressions.

use super::{Api, ApiResult, Query};
use aura_types::*;

/// A page of contacts matching `filter`.
pub async fn list(api: Api, filter: &ContactFilter, page: &PageQuery) -> ApiResult<Page<Contact>> {
    let query = Query::new().with(filter).with(page);
    api.get(&query.path("/contacts")).await
}

pub async fn get(api: Api, id: ContactId) -> ApiResult<ContactDetail> {
    api.get(&format!("/contacts/{id}")).await
}

pub async fn create(api: Api, input: &ContactInput) -> ApiResult<Contact> {
    api.post("/contacts", input).await
}

pub async fn update(api: Api, id: ContactId, input: &ContactInput) -> ApiResult<Contact> {
    api.patch(&format!("/contacts/{id}"), input).await
}

pub async fn delete(api: Api, id: ContactId) -> ApiResult<()> {
    api.delete(&format!("/contacts/{id}")).await
}

pub async fn add_note(api: Api, id: ContactId, note: &NoteInput) -> ApiResult<Note> {
    api.post(&format!("/contacts/{id}/notes"), note).await
}

pub async fn tags(api: Api) -> ApiResult<Vec<TagCount>> {
    api.get("/contacts/tags").await
}

pub async fn bulk(api: Api, req: &BulkRequest) -> ApiResult<BulkResult> {
    api.post("/contacts/bulk", req).await
}

pub async fn upload_import(api: Api, form: web_sys::FormData) -> ApiResult<Import> {
    api.upload("/contacts/imports", form).await
}

pub async fn get_import(api: Api, id: ImportId) -> ApiResult<Import> {
    api.get(&format!("/contacts/imports/{id}")).await
}

pub async fn preview_import(
    api: Api,
    id: ImportId,
    req: &MappingRequest,
) -> ApiResult<ImportPreview> {
    api.post(&format!("/contacts/imports/{id}/preview"), req)
        .await
}

pub async fn start_import(api: Api, id: ImportId, req: &StartImportRequest) -> ApiResult<Import> {
    api.post(&format!("/contacts/imports/{id}/start"), req)
        .await
}

/// Rows of an import's report with `outcome` (`invalid`, `skipped`…).
pub async fn import_report(
    api: Api,
    id: ImportId,
    outcome: &str,
    page: &PageQuery,
) -> ApiResult<Page<ReportRow>> {
    let query = Query::new().set("outcome", outcome).with(page);
    api.get(&query.path(&format!("/contacts/imports/{id}/report")))
        .await
}

pub async fn import_report_csv(api: Api, id: ImportId) -> ApiResult<String> {
    api.text(&format!("/contacts/imports/{id}/report.csv"))
        .await
}

pub async fn suppressions(api: Api, page: &PageQuery) -> ApiResult<Page<Suppression>> {
    api.get(&Query::new().with(page).path("/suppressions"))
        .await
}

pub async fn suppress(api: Api, input: &SuppressionInput) -> ApiResult<Suppression> {
    api.post("/suppressions", input).await
}

pub async fn unsuppress(api: Api, id: SuppressionId) -> ApiResult<()> {
    api.delete(&format!("/suppressions/{id}")).await
}

pub async fn import_suppressions(
    api: Api,
    form: web_sys::FormData,
) -> ApiResult<SuppressionImportResult> {
    api.upload("/suppressions/import", form).await
}

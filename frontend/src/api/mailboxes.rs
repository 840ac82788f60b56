//! Mailboxes, DKIM keys and the sandbox outbox.

use super::{Api, ApiResult, Query};
use aura_types::*;

pub async fn list(api: Api) -> ApiResult<Vec<Mailbox>> {
    api.get("/mailboxes").await
}

pub async fn create(api: Api, input: &MailboxInput) -> ApiResult<Mailbox> {
    api.post("/mailboxes", input).await
}

pub async fn update(api: Api, id: MailboxId, input: &MailboxInput) -> ApiResult<Mailbox> {
    api.patch(&format!("/mailboxes/{id}"), input).await
}

pub async fn delete(api: Api, id: MailboxId) -> ApiResult<()> {
    api.delete(&format!("/mailboxes/{id}")).await
}

pub async fn test(api: Api, id: MailboxId) -> ApiResult<MailboxTest> {
    api.post(&format!("/mailboxes/{id}/test"), &serde_json::json!({}))
        .await
}

pub async fn test_imap(api: Api, id: MailboxId) -> ApiResult<MailboxTest> {
    api.post(
        &format!("/mailboxes/{id}/imap/test"),
        &serde_json::json!({}),
    )
    .await
}

pub async fn sync(api: Api, id: MailboxId) -> ApiResult<MailboxSync> {
    api.get(&format!("/mailboxes/{id}/sync")).await
}

pub async fn dkim_keys(api: Api) -> ApiResult<Vec<DkimKey>> {
    api.get("/dkim-keys").await
}

pub async fn add_dkim_key(api: Api, input: &DkimKeyInput) -> ApiResult<DkimKey> {
    api.post("/dkim-keys", input).await
}

pub async fn delete_dkim_key(api: Api, id: DkimKeyId) -> ApiResult<()> {
    api.delete(&format!("/dkim-keys/{id}")).await
}

pub async fn outbox(api: Api, page: &PageQuery) -> ApiResult<Page<OutboxItem>> {
    let query = Query::new().with(page);
    api.get(&query.path("/outbox")).await
}

pub async fn outbox_message(api: Api, id: OutboxId) -> ApiResult<OutboxMessage> {
    api.get(&format!("/outbox/{id}")).await
}

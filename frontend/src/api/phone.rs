//! Text-message channels: Twilio accounts, the sandbox and sending numbers.

use super::{Api, ApiResult};
use aura_types::*;

pub async fn list(api: Api) -> ApiResult<Vec<PhoneAccount>> {
    api.get("/phone-accounts").await
}

pub async fn create(api: Api, input: &PhoneAccountInput) -> ApiResult<PhoneAccount> {
    api.post("/phone-accounts", input).await
}

pub async fn connect_sandbox(api: Api) -> ApiResult<PhoneAccount> {
    api.post("/phone-accounts/sandbox", &serde_json::json!({}))
        .await
}

pub async fn delete(api: Api, id: PhoneAccountId) -> ApiResult<()> {
    api.delete(&format!("/phone-accounts/{id}")).await
}

pub async fn test(api: Api, id: PhoneAccountId) -> ApiResult<PhoneAccountTest> {
    api.post(
        &format!("/phone-accounts/{id}/test"),
        &serde_json::json!({}),
    )
    .await
}

pub async fn add_number(
    api: Api,
    account: PhoneAccountId,
    input: &PhoneNumberInput,
) -> ApiResult<PhoneNumber> {
    api.post(&format!("/phone-accounts/{account}/numbers"), input)
        .await
}

pub async fn delete_number(api: Api, id: PhoneNumberId) -> ApiResult<()> {
    api.delete(&format!("/phone-numbers/{id}")).await
}

pub async fn simulate(
    api: Api,
    account: PhoneAccountId,
    input: &SimulatedText,
) -> ApiResult<SimulatedTextResult> {
    api.post(&format!("/phone-accounts/{account}/simulate"), input)
        .await
}

/// What the sandbox number kept, newest first.
pub async fn outbox(api: Api) -> ApiResult<Vec<OutboxText>> {
    api.get("/phone-outbox").await
}

/// The quiet hours texts follow.
pub async fn quiet_hours(api: Api) -> ApiResult<QuietHours> {
    api.get("/quiet-hours").await
}

/// The organization's WhatsApp templates with their approval.
pub async fn whatsapp_templates(api: Api) -> ApiResult<WhatsAppTemplates> {
    api.get("/whatsapp-templates").await
}

/// Signs the account's webhooks with a shared key too (HMAC-SHA256).
pub async fn set_webhook_key(
    api: Api,
    id: PhoneAccountId,
    input: &WebhookKeyInput,
) -> ApiResult<PhoneAccount> {
    api.put(&format!("/phone-accounts/{id}/webhook-key"), input)
        .await
}

/// Forgets the account's shared webhook key.
pub async fn remove_webhook_key(api: Api, id: PhoneAccountId) -> ApiResult<()> {
    api.delete(&format!("/phone-accounts/{id}/webhook-key"))
        .await
}

//! Tenant isolation, for every operation in the OpenAPI document that takes an id: called with an
//! id owned by another organization, it answers 404 and changes nothing. New operations are covered
//! by being in the spec; a new kind of id must be added to `foreign_ids` (the test says so).

use crate::helpers::*;
use aura_types::{CreatedApiKey, CreatedInvitation, ErrorCode};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashMap;
use utoipa::openapi::path::{Operation, PathItem};

pub fn operations(item: &PathItem) -> Vec<(Method, &Operation)> {
    [
        (Method::GET, &item.get),
        (Method::POST, &item.post),
        (Method::PUT, &item.put),
        (Method::PATCH, &item.patch),
        (Method::DELETE, &item.delete),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_ref().map(|op| (m, op)))
    .collect()
}

/// The links inside sent email answer whoever holds their signed token, and vendors' webhooks
/// whoever signs with the account's secret (no caller, no organization); tests/api/delivery.rs
/// and tests/api/phone.rs cover them.
pub fn is_email_link(op: &Operation) -> bool {
    op.tags
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == "email-links" || t == "webhooks"))
}

/// `path` with each `{name}` replaced by `ids[name]`; panics on an id kind the tests do not know.
pub fn path_with(path: &str, ids: &HashMap<&'static str, String>) -> String {
    let mut out = path.to_owned();
    while let Some(start) = out.find('{') {
        let end = out[start..].find('}').unwrap() + start;
        let name = &out[start + 1..end];
        let id = ids.get(name).unwrap_or_else(|| {
            panic!("{path}: no fixture for the path parameter `{name}`; add one to own_ids and foreign_ids in tests/api/isolation.rs")
        });
        out.replace_range(start..=end, id);
    }
    out
}

/// One resource of every kind in `owner`'s organization, keyed by path-parameter name.
pub async fn own_ids(app: &TestApp, owner: &TestUser) -> HashMap<&'static str, String> {
    // The campaign below is enrolled and sent on the Monday the delivery tests use.
    app.clock.set(monday_10am_ny());
    let member = app
        .add_member(
            owner,
            &format!("member-{}@example.com", uuid::Uuid::now_v7()),
            "member",
        )
        .await;
    let invitation: CreatedInvitation = owner
        .post("/api/v1/invitations", json!({"email": format!("invitee-{}@example.com", uuid::Uuid::now_v7()), "role": "member"}))
        .await
        .json()
        .await
        .unwrap();
    let key: CreatedApiKey = owner
        .post(
            "/api/v1/api-keys",
            json!({"name": "fixture", "role": "member"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let contact = owner
        .create_contact(json!({"email": format!("c-{}@example.com", uuid::Uuid::now_v7()), "first_name": "Fixture"}))
        .await;
    let segment: Value = owner
        .post(
            "/api/v1/segments",
            json!({"name": format!("Fixture {}", uuid::Uuid::now_v7()), "kind": "static"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let suppression: Value = owner
        .post(
            "/api/v1/suppressions",
            json!({"kind": "email", "value": format!("s-{}@example.com", uuid::Uuid::now_v7())}),
        )
        .await
        .json()
        .await
        .unwrap();
    let import: Value = owner
        .upload(
            "/api/v1/contacts/imports",
            "fixture.csv",
            b"email\nimport-fixture@example.com\n".to_vec(),
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    let provider: Value = owner
        .post(
            "/api/v1/ai/providers",
            json!({"name": "Fixture", "kind": "openai", "base_url": "https://8.8.8.8/v1", "model": "m", "secret": "sk-fixture"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let personas: Value = owner.get("/api/v1/ai/personas").await.json().await.unwrap();
    let article: Value = owner
        .post(
            "/api/v1/ai/knowledge",
            json!({"title": "Fixture", "content": "Fixture content"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let campaign: Value = owner
        .post("/api/v1/campaigns", json!({"name": "Fixture"}))
        .await
        .json()
        .await
        .unwrap();
    let campaign_id = campaign["campaign"]["id"].as_str().unwrap().to_owned();
    let with_step: Value = owner
        .post(
            &format!("/api/v1/campaigns/{campaign_id}/steps"),
            json!({"channel": "email", "subject": "Hi", "body": "Hello"}),
        )
        .await
        .json()
        .await
        .unwrap();
    owner
        .post(
            &format!("/api/v1/campaigns/{campaign_id}/targets"),
            json!({"selection": {"ids": [contact.id]}}),
        )
        .await;
    owner
        .post(
            &format!("/api/v1/campaigns/{campaign_id}/prepare"),
            json!({}),
        )
        .await;
    app.run_preparations_until_idle().await;
    let messages: Value = owner
        .get(&format!("/api/v1/campaigns/{campaign_id}/messages"))
        .await
        .json()
        .await
        .unwrap();
    // A sandbox mailbox sends the fixture campaign's message, so that there is a caught one.
    let mailbox: Value = owner
        .post(
            "/api/v1/mailboxes",
            json!({"kind": "sandbox", "from_name": "Fixture", "from_email": format!("m-{}@example.com", uuid::Uuid::now_v7())}),
        )
        .await
        .json()
        .await
        .unwrap();
    owner
        .patch(
            "/api/v1/organizations/current",
            json!({"postal_address": "1 Fixture Way"}),
        )
        .await;
    owner
        .call(
            Method::PUT,
            &format!("/api/v1/campaigns/{campaign_id}/mailboxes"),
            Some(json!({"mailbox_ids": [mailbox["id"]]})),
        )
        .await;
    owner
        .post(
            &format!("/api/v1/campaigns/{campaign_id}/messages/review"),
            json!({"action": "approve", "filter": {}}),
        )
        .await;
    let launched = owner
        .post(
            &format!("/api/v1/campaigns/{campaign_id}/status"),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(
        launched.status(),
        StatusCode::OK,
        "{}",
        launched.text().await.unwrap()
    );
    app.deliver_at(monday_10am_ny()).await;
    let outbox: Value = owner.get("/api/v1/outbox").await.json().await.unwrap();
    // Its lead answers, which opens a conversation.
    let answered: Value = owner
        .post(
            &format!(
                "/api/v1/outbox/{}/simulate",
                outbox["items"][0]["id"].as_str().unwrap()
            ),
            json!({"kind": "reply"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let template: Value = owner
        .post(
            "/api/v1/templates",
            json!({"name": "Fixture", "steps": [{"channel": "sms", "body": "Hi"}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let dkim: Value = owner
        .post(
            "/api/v1/dkim-keys",
            json!({"domain": format!("d{}.example.com", uuid::Uuid::now_v7().simple()), "selector": "aura",
                   "private_key": "9Ht2gAzHjTvP+LNpOjMonsNT/4nc26uv+bzOlnNw2Ck="}),
        )
        .await
        .json()
        .await
        .unwrap();
    let account: Value = owner
        .post(
            "/api/v1/phone-accounts",
            json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "f1e2d3c4b5a697887766554433221100"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let number: Value = owner
        .post(
            &format!(
                "/api/v1/phone-accounts/{}/numbers",
                account["id"].as_str().unwrap()
            ),
            json!({"number": format!("+1415555{:04}", uuid::Uuid::now_v7().as_u128() % 10_000)}),
        )
        .await
        .json()
        .await
        .unwrap();
    HashMap::from([
        ("account_id", account["id"].as_str().unwrap().to_owned()),
        ("number_id", number["id"].as_str().unwrap().to_owned()),
        ("key_id", dkim["id"].as_str().unwrap().to_owned()),
        ("mailbox_id", mailbox["id"].as_str().unwrap().to_owned()),
        (
            "outbox_id",
            outbox["items"][0]["id"].as_str().unwrap().to_owned(),
        ),
        ("template_id", template["id"].as_str().unwrap().to_owned()),
        (
            "conversation_id",
            answered["conversation_id"].as_str().unwrap().to_owned(),
        ),
        ("campaign_id", campaign_id),
        (
            "message_id",
            messages["items"][0]["id"].as_str().unwrap().to_owned(),
        ),
        (
            "step_id",
            with_step["steps"][0]["id"].as_str().unwrap().to_owned(),
        ),
        ("provider_id", provider["id"].as_str().unwrap().to_owned()),
        ("persona_id", personas[0]["id"].as_str().unwrap().to_owned()),
        ("article_id", article["id"].as_str().unwrap().to_owned()),
        ("contact_id", contact.id.to_string()),
        ("segment_id", segment["id"].as_str().unwrap().to_owned()),
        (
            "suppression_id",
            suppression["id"].as_str().unwrap().to_owned(),
        ),
        ("import_id", import["id"].as_str().unwrap().to_owned()),
        ("user_id", member.user_id().to_string()),
        ("invitation_id", invitation.invitation.id.to_string()),
        ("api_key_id", key.api_key.id.to_string()),
        // Not an id: which of a text's media files.
        ("index", "0".to_owned()),
    ])
}

/// A body the operation would accept, so that only the id can make it fail.
fn valid_body(op: &Operation) -> Option<Value> {
    let body = op.request_body.as_ref()?;
    let schema = serde_json::to_value(body).unwrap().to_string();
    let bodies = [
        ("UpdateMemberRequest", json!({"role": "member"})),
        ("UpdateOrganizationRequest", json!({"name": "Renamed"})),
        ("ContactInput", json!({"first_name": "Renamed"})),
        ("NoteInput", json!({"body": "A note"})),
        ("MergeRequest", json!({"other_id": uuid::Uuid::now_v7()})),
        ("SegmentPatch", json!({"name": "Renamed"})),
        ("AiProviderInput", json!({"name": "Renamed"})),
        ("PersonaInput", json!({"name": "Renamed"})),
        ("ArticleInput", json!({"title": "Renamed"})),
        ("CampaignInput", json!({"name": "Renamed"})),
        ("StepInput", json!({"body": "Changed"})),
        ("StatusChange", json!({"status": "archived"})),
        ("ReorderSteps", json!({"step_ids": []})),
        ("EnrollRequest", json!({"selection": {"ids": []}})),
        ("TargetChange", json!({"status": "paused"})),
        ("MessageEdit", json!({"text": "Changed"})),
        ("MailboxInput", json!({"from_name": "Renamed"})),
        ("CampaignMailboxes", json!({"mailbox_ids": []})),
        ("DeliveryAction", json!({"action": "retry"})),
        ("ConversationChange", json!({"unread": false})),
        ("SimulateRequest", json!({"kind": "out_of_office"})),
        ("ReplyRequest", json!({"text": "Thanks, Thursday works."})),
        ("ReviewRequest", json!({"action": "approve", "filter": {}})),
        ("TemplateInput", json!({"name": "Renamed"})),
        ("PhoneAccountInput", json!({"name": "Renamed"})),
        ("PhoneNumberInput", json!({"per_second": 2})),
        (
            "WebhookKeyInput",
            json!({"key_id": "KS0123", "secret": "a-shared-secret"}),
        ),
        (
            "SimulatedText",
            json!({"from": "+14155550100", "body": "Hi"}),
        ),
        ("UseTemplate", json!({})),
        ("SaveAsTemplate", json!({})),
        ("MembersRequest", json!({"selection": {"ids": []}})),
        (
            "MappingRequest",
            json!({"mapping": [{"column": 0, "header": "email", "target": "email"}]}),
        ),
        (
            "StartImportRequest",
            json!({"mapping": [{"column": 0, "header": "email", "target": "email"}]}),
        ),
    ];
    Some(
        bodies
            .into_iter()
            .find(|(name, _)| schema.contains(&format!("#/components/schemas/{name}\"")))
            .map(|(_, b)| b)
            .unwrap_or_else(|| {
                panic!("add a valid body for {schema} to valid_body in tests/api/isolation.rs")
            }),
    )
}

#[sqlx::test(migrations = "../../migrations")]
async fn ids_of_another_organization_answer_404_and_change_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let attacker = app.signup("attacker@example.com", "Attacker Org").await;
    let victim = app.signup("victim@example.com", "Victim Org").await;
    let foreign = own_ids(&app, &victim).await;
    let before = app.snapshot().await;
    let doc = aura_api::routes::openapi::document();
    let mut checked = Vec::new();
    for (path, item) in &doc.paths.paths {
        if !path.contains('{') {
            continue;
        }
        for (method, op) in operations(item) {
            if is_email_link(op) {
                continue;
            }
            let url = path_with(path, &foreign);
            let res = attacker.call(method.clone(), &url, valid_body(op)).await;
            assert_eq!(
                res.status(),
                StatusCode::NOT_FOUND,
                "{method} {path} with another organization's id"
            );
            let text = res.text().await.unwrap();
            let body: aura_types::ErrorBody = serde_json::from_str(&text).unwrap();
            assert_eq!(body.error.code, ErrorCode::NotFound);
            // Ids only: a media file's index ("0") is no one's data.
            for id in foreign
                .iter()
                .filter(|(k, _)| **k != "index")
                .map(|(_, v)| v)
            {
                assert!(
                    !text.contains(id.as_str())
                        || url.contains(id.as_str()) && !text.contains("email"),
                    "{method} {path} leaked data"
                );
            }
            checked.push(format!("{method} {path}"));
        }
    }
    assert!(checked.len() >= 4, "only {checked:?} were checked");
    assert_eq!(
        app.snapshot().await,
        before,
        "a request with a foreign id changed data"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_and_malformed_ids_answer_404(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("o@example.com", "Org").await;
    for path in [
        "/api/v1/api-keys/0190a0a0-0000-7000-8000-000000000000",
        "/api/v1/api-keys/not-a-uuid",
        "/api/v1/members/12345",
    ] {
        expect_error(
            owner.delete(path).await,
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        )
        .await;
    }
}

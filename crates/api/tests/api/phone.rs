//! Settings → Channels against a Twilio stand-in speaking Twilio's documented bodies: accounts
//! with sealed secrets, the Test, numbers, the sandbox, and other organizations' ids.

use crate::helpers::*;
use aura_types::{NumberKind, PhoneAccount, PhoneAccountKind, PhoneAccountTest, PhoneNumber};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AC: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f1e2d3c4b5a697887766554433221100";
const SK: &str = "SK00112233445566778899aabbccddeeff";
const SECRET: &str = "sk-secret-Kq2vT9wXb7";

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Twilio's account resource, as documented.
fn account_body() -> serde_json::Value {
    json!({
        "auth_token": "[Redacted]", "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
        "date_updated": "Thu, 30 Jul 2015 20:00:00 +0000", "friendly_name": "Harbor Realty",
        "owner_account_sid": AC, "sid": AC, "status": "active", "subresource_uris": {},
        "type": "Full", "uri": format!("/2010-04-01/Accounts/{AC}.json")
    })
}

#[sqlx::test(migrations = "../../migrations")]
async fn twilio_accounts_are_connected_tested_and_given_numbers(pool: PgPool) {
    let twilio = MockServer::start().await;
    let app = spawn_app_with(
        pool,
        &[
            ("AURA_TWILIO_API_URL", &twilio.uri()),
            ("AURA_OUTBOUND_ALLOW", "127.0.0.1"),
        ],
    )
    .await;
    let user = app.signup("owner@harbor.example", "Harbor Realty").await;
    let other = app.signup("owner@elsewhere.example", "Elsewhere").await;

    // Bad input names each field and changes nothing.
    let res = user
        .post(
            "/api/v1/phone-accounts",
            json!({"account_sid": "AC12", "auth_token": ""}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    let fields = &body["error"]["fields"];
    assert!(
        fields["account_sid"].is_string() && fields["auth_token"].is_string(),
        "{body}"
    );
    let listed: Vec<PhoneAccount> = user
        .get("/api/v1/phone-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert!(listed.is_empty());

    let res = user
        .post(
            "/api/v1/phone-accounts",
            json!({"name": "Main", "account_sid": AC, "auth_token": TOKEN}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let text = res.text().await.unwrap();
    assert!(!text.contains(TOKEN), "the Auth Token is never returned");
    let account: PhoneAccount = serde_json::from_str(&text).unwrap();
    assert_eq!(account.kind, PhoneAccountKind::Twilio);
    let hooks = account.webhooks.clone().unwrap();
    assert!(
        hooks
            .inbound
            .ends_with(&format!("/api/v1/twilio/{}/inbound", account.id)),
        "{}",
        hooks.inbound
    );
    let sealed: Vec<u8> = sqlx::query_scalar("select auth_token_sealed from phone_accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !sealed.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
        "sealed at rest"
    );

    // The Test: one authenticated call, as the Auth Token.
    Mock::given(method("GET"))
        .and(path(format!("/2010-04-01/Accounts/{AC}.json")))
        .and(header("authorization", basic(AC, TOKEN).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(account_body()))
        .expect(1)
        .mount(&twilio)
        .await;
    let url = format!("/api/v1/phone-accounts/{}/test", account.id);
    let t: PhoneAccountTest = user.post(&url, json!({})).await.json().await.unwrap();
    assert!(t.ok, "{}", t.message);
    assert!(t.message.contains("Harbor Realty"), "{}", t.message);
    twilio.verify().await;
    twilio.reset().await;

    // With an API key, Aura authenticates as the key; a refusal is explained in words.
    let res = user
        .patch(
            &format!("/api/v1/phone-accounts/{}", account.id),
            json!({"api_key_sid": SK, "api_key_secret": SECRET}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.text().await.unwrap().contains(SECRET));
    Mock::given(method("GET"))
        .and(header("authorization", basic(SK, SECRET).as_str()))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": 20003, "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401
        })))
        .expect(1)
        .mount(&twilio)
        .await;
    let t: PhoneAccountTest = user.post(&url, json!({})).await.json().await.unwrap();
    assert!(!t.ok);
    assert!(
        t.message.contains("credentials") && t.message.contains("20003"),
        "{}",
        t.message
    );
    assert!(!t.message.contains(SECRET));
    let listed: Vec<PhoneAccount> = user
        .get("/api/v1/phone-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0].api_key_sid.as_deref(), Some(SK));
    assert_eq!(
        listed[0].last_test_error.as_deref(),
        Some(t.message.as_str())
    );

    // Numbers: E.164, the kind's pace, one of each per organization.
    let numbers = format!("/api/v1/phone-accounts/{}/numbers", account.id);
    let res = user
        .post(
            &numbers,
            json!({"number": "+1 (415) 555-0100", "kind": "toll_free", "whatsapp": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let n: PhoneNumber = res.json().await.unwrap();
    assert_eq!(
        (n.number.as_str(), n.kind, n.per_second, n.sms, n.whatsapp),
        ("+14155550100", NumberKind::TollFree, 3.0, true, true)
    );
    let again = user.post(&numbers, json!({"number": "+14155550100"})).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = user
        .patch(&format!("/api/v1/phone-numbers/{}", n.id), json!({"per_second": 2.5, "messaging_service_sid": "MG00112233445566778899aabbccddeeff"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: PhoneNumber = res.json().await.unwrap();
    assert_eq!(
        (changed.per_second, changed.kind),
        (2.5, NumberKind::TollFree)
    );
    assert!(changed.messaging_service_sid.is_some());

    // Another organization's ids answer 404 and change nothing.
    for res in [
        other.post(&url, json!({})).await,
        other
            .patch(
                &format!("/api/v1/phone-accounts/{}", account.id),
                json!({"name": "Mine"}),
            )
            .await,
        other
            .post(&numbers, json!({"number": "+14155550101"}))
            .await,
        other
            .patch(
                &format!("/api/v1/phone-numbers/{}", n.id),
                json!({"per_second": 1}),
            )
            .await,
        other
            .delete(&format!("/api/v1/phone-numbers/{}", n.id))
            .await,
        other
            .delete(&format!("/api/v1/phone-accounts/{}", account.id))
            .await,
    ] {
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let listed: Vec<PhoneAccount> = user
        .get("/api/v1/phone-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (listed[0].name.as_str(), listed[0].numbers.len()),
        ("Main", 1)
    );

    // Removed: the number, then the account.
    let res = user
        .delete(&format!("/api/v1/phone-numbers/{}", n.id))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = user
        .delete(&format!("/api/v1/phone-accounts/{}", account.id))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_sandbox_number_is_connected_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("owner@harbor.example", "Harbor Realty").await;
    for _ in 0..2 {
        let res = user.post("/api/v1/phone-accounts/sandbox", json!({})).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let listed: Vec<PhoneAccount> = user
        .get("/api/v1/phone-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let sandbox = &listed[0];
    assert_eq!(sandbox.kind, PhoneAccountKind::Sandbox);
    assert!(sandbox.webhooks.is_none());
    assert_eq!(sandbox.numbers.len(), 1);
    assert!(sandbox.numbers[0].sms && sandbox.numbers[0].whatsapp);
    let t: PhoneAccountTest = user
        .post(
            &format!("/api/v1/phone-accounts/{}/test", sandbox.id),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(t.ok);
    // The sandbox's number is not edited.
    let res = user
        .patch(
            &format!("/api/v1/phone-numbers/{}", sandbox.numbers[0].id),
            json!({"per_second": 5}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Posts Twilio's inbound webhook for `account`, signed with `token` over the public URL.
async fn text(
    app: &TestApp,
    account: aura_types::PhoneAccountId,
    token: &str,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let path = format!("/api/v1/twilio/{account}/inbound");
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let url = format!("{}{path}", app.settings.public_url);
    let sig = aura_api::providers::twilio::signature::compute(token, &url, &params);
    reqwest::Client::new()
        .post(format!("{}{path}", app.address))
        .header("X-Twilio-Signature", sig)
        .form(&params)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn texts_join_conversations_once_and_stop_opts_the_number_out(pool: PgPool) {
    let app = spawn_app_with(pool, &[("AURA_PUBLIC_URL", "https://aura.example.com")]).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    run_demo_campaign(&app, &demo).await;
    let account: PhoneAccount = demo
        .post(
            "/api/v1/phone-accounts",
            json!({"account_sid": AC, "auth_token": TOKEN}),
        )
        .await
        .json()
        .await
        .unwrap();
    let org = demo.org_id().0;
    // A lead of the running campaign answers by text.
    let (lead, phone): (uuid::Uuid, String) = sqlx::query_as(
        "select c.id, c.phone from contacts c
         join campaign_targets t on t.org_id = c.org_id and t.contact_id = c.id
         where c.org_id = $1 and c.phone is not null and t.status = 'active' limit 1",
    )
    .bind(org)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let answer = [
        ("MessageSid", "SM0000000000000000000000000000a001"),
        ("AccountSid", AC),
        ("From", phone.as_str()),
        ("To", "+14155550100"),
        ("Body", "Sounds good, can you call me tomorrow?"),
        ("NumMedia", "0"),
    ];
    for _ in 0..2 {
        // Twilio retries: the message is taken in once.
        let res = text(&app, account.id, TOKEN, &answer).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml"));
        assert_eq!(
            res.text().await.unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"
        );
    }
    let (stored, channel): (i64, String) = sqlx::query_as(
        "select count(*), min(i.channel::text) from inbound_messages i
         join conversations v on v.org_id = i.org_id and v.id = i.conversation_id
         where i.org_id = $1 and v.contact_id = $2 and v.channel = 'sms'",
    )
    .bind(org)
    .bind(lead)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((stored, channel.as_str()), (1, "sms"));
    let active: i64 = sqlx::query_scalar(
        "select count(*) from campaign_targets where org_id = $1 and contact_id = $2 and status = 'active'",
    )
    .bind(org)
    .bind(lead)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(active, 0, "a reply by text stops the lead's sequences");

    // Dealt with, then Twilio retries once more: the conversation stays as it was left.
    let conversation: uuid::Uuid = sqlx::query_scalar(
        "select id from conversations where org_id = $1 and contact_id = $2 and channel = 'sms'",
    )
    .bind(org)
    .bind(lead)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let res = demo
        .patch(
            &format!("/api/v1/conversations/{conversation}"),
            json!({"status": "done", "unread": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        text(&app, account.id, TOKEN, &answer).await.status(),
        StatusCode::OK
    );
    let (status, unread): (String, bool) = sqlx::query_as(
        "select status::text, unread from conversations where org_id = $1 and id = $2",
    )
    .bind(org)
    .bind(conversation)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), unread), ("done", false));

    // "Yes" from a number that never sent STOP is an answer, not an opt-in.
    let yes = [
        ("MessageSid", "SM0000000000000000000000000000a006"),
        ("From", "+14155550177"),
        ("Body", "Yes"),
    ];
    let body = text(&app, account.id, TOKEN, &yes)
        .await
        .text()
        .await
        .unwrap();
    assert!(!body.contains("<Message>"), "{body}");
    let (needs_reply, replied): (bool, bool) = sqlx::query_as(
        "select v.needs_reply, c.last_replied_at is not null from conversations v
         join contacts c on c.org_id = v.org_id and c.id = v.contact_id
         where v.org_id = $1 and c.phone = '+14155550177'",
    )
    .bind(org)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(needs_reply && replied);

    // Not signed with the account's token, or for no account: refused, nothing stored.
    let forged = [
        ("MessageSid", "SM0000000000000000000000000000a002"),
        ("From", "+14155550111"),
        ("Body", "hi"),
    ];
    let res = text(
        &app,
        account.id,
        "0000000000000000000000000000ffff",
        &forged,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = text(&app, aura_types::PhoneAccountId::new(), TOKEN, &forged).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let unsigned = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/twilio/{}/inbound",
            app.address, account.id
        ))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    let strangers: i64 = sqlx::query_scalar(
        "select count(*) from contacts where org_id = $1 and phone = '+14155550111'",
    )
    .bind(org)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(strangers, 0);

    // STOP from someone new: a contact, the number suppressed, consent revoked with the message,
    // and one confirmation.
    let stop = [
        ("MessageSid", "SM0000000000000000000000000000a003"),
        ("From", "+14155550122"),
        ("Body", " Stop. "),
    ];
    let res = text(&app, account.id, TOKEN, &stop).await;
    let body = res.text().await.unwrap();
    assert!(
        body.contains("<Message>") && body.contains("unsubscribed"),
        "{body}"
    );
    let (reason, consent): (String, serde_json::Value) = sqlx::query_as(
        "select s.reason::text, c.consent from suppressions s, contacts c
         where s.org_id = $1 and s.kind = 'phone' and s.value = '+14155550122'
           and c.org_id = $1 and c.phone = '+14155550122' and c.source = 'inbound'",
    )
    .bind(org)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(reason, "stop_keyword");
    assert_eq!(consent["sms"]["status"], "revoked");
    assert_eq!(consent["whatsapp"]["status"], "revoked");
    assert_eq!(consent["sms"]["evidence"], " Stop. ");
    // Twilio's Advanced Opt-Out answered already: no second confirmation. START opts back in.
    let start = [
        ("MessageSid", "SM0000000000000000000000000000a004"),
        ("From", "+14155550122"),
        ("Body", "START"),
        ("OptOutType", "START"),
    ];
    let res = text(&app, account.id, TOKEN, &start).await;
    assert!(!res.text().await.unwrap().contains("<Message>"));
    let (suppressed, status): (i64, String) = sqlx::query_as(
        "select (select count(*) from suppressions where org_id = $1 and value = '+14155550122'),
                consent->'sms'->>'status' from contacts where org_id = $1 and phone = '+14155550122'",
    )
    .bind(org)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((suppressed, status.as_str()), (0, "granted"));

    // WhatsApp: its own conversation, the profile's name on the new contact.
    let wa = [
        ("MessageSid", "SM0000000000000000000000000000a005"),
        ("From", "whatsapp:+447700900123"),
        ("ProfileName", "Ana Lima"),
        ("Body", "Is the flat still available?"),
    ];
    let res = text(&app, account.id, TOKEN, &wa).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (name, whatsapp, channel): (String, String, String) = sqlx::query_as(
        "select c.first_name || ' ' || c.last_name, c.whatsapp, v.channel::text from contacts c
         join conversations v on v.org_id = c.org_id and v.contact_id = c.id
         where c.org_id = $1 and c.phone = '+447700900123'",
    )
    .bind(org)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (name.as_str(), whatsapp.as_str(), channel.as_str()),
        ("Ana Lima", "+447700900123", "whatsapp")
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_simulated_text_reaches_the_inbox_and_stop_acts_as_from_a_phone(pool: PgPool) {
    use aura_types::{ConversationDetail, SimulatedTextResult};
    let app = spawn_app(pool).await;
    let user = app
        .signup("owner@maple.example", "Maple Home Services")
        .await;
    let sandbox: PhoneAccount = user
        .post("/api/v1/phone-accounts/sandbox", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let url = format!("/api/v1/phone-accounts/{}/simulate", sandbox.id);
    let res = user.post(&url, json!({"from": "12", "body": ""})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"]["fields"]["from"].is_string() && body["error"]["fields"]["body"].is_string()
    );

    let r: SimulatedTextResult = user
        .post(
            &url,
            json!({"from": "+1 415 555 0133", "body": "Can you come fix the boiler on Friday?"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.answer, None);
    let detail: ConversationDetail = user
        .get(&format!(
            "/api/v1/conversations/{}",
            r.conversation_id.unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.conversation.channel, aura_types::Channel::Sms);
    assert!(detail.conversation.needs_reply);
    assert_eq!(detail.items.len(), 1);
    assert!(detail.items[0].text.contains("boiler"));

    let r: SimulatedTextResult = user
        .post(&url, json!({"from": "+14155550133", "body": "STOP"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(r.answer.unwrap().contains("unsubscribed"));
    let suppressed: i64 = sqlx::query_scalar(
        "select count(*) from suppressions where kind = 'phone' and value = '+14155550133' and reason = 'stop_keyword'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(suppressed, 1);

    // An opt-out in words is honoured as STOP is (by the rules, or the classifier after them).
    let r: SimulatedTextResult = user
        .post(&url, json!({"from": "+14155550144", "body": "Please stop texting me, remove me from your list."}))
        .await
        .json()
        .await
        .unwrap();
    assert!(r.conversation_id.is_some());
    aura_api::workers::classify::run_until_idle(&app.pool, &app.ai)
        .await
        .unwrap();
    let (suppressed, consent): (i64, Option<String>) = sqlx::query_as(
        "select (select count(*) from suppressions where kind = 'phone' and value = '+14155550144'),
                (select consent->'sms'->>'status' from contacts where phone = '+14155550144')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((suppressed, consent.as_deref()), (1, Some("revoked")));

    // Only the sandbox is simulated.
    let twilio: PhoneAccount = user
        .post(
            "/api/v1/phone-accounts",
            json!({"account_sid": AC, "auth_token": TOKEN}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = user
        .post(
            &format!("/api/v1/phone-accounts/{}/simulate", twilio.id),
            json!({"from": "+14155550133", "body": "hi"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

//! Texts (SMS) going out: campaigns through the sandbox number and through a Twilio stand-in
//! speaking Twilio's documented bodies and errors; the opt-out footer on a first text; quiet
//! hours in the lead's local time; a post whose answer never came (unknown, then found or not,
//! never posted twice); status callbacks late, twice and out of order. The clock is driven.

use crate::helpers::*;
use aura_types::{CampaignDetail, Contact, PhoneAccount, PhoneNumber};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use wiremock::matchers::{body_string_contains, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const AC: &str = "AC0123456789abcdef0123456789abcdef";
pub(crate) const TOKEN: &str = "f1e2d3c4b5a697887766554433221100";
pub(crate) const FROM: &str = "+14155550100";
pub(crate) const MESSAGES: &str =
    "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

pub(crate) async fn ok<T: serde::de::DeserializeOwned>(
    res: reqwest::Response,
    status: StatusCode,
) -> T {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A message resource as Twilio answers a create (201) or lists it.
pub(crate) fn message_body(sid: &str, to: &str, body: &str, status: &str) -> Value {
    json!({
        "account_sid": AC, "api_version": "2010-04-01", "body": body,
        "date_created": "Mon, 30 Nov 2026 15:00:00 +0000", "date_sent": null,
        "date_updated": "Mon, 30 Nov 2026 15:00:00 +0000", "direction": "outbound-api",
        "error_code": null, "error_message": null, "from": FROM, "messaging_service_sid": null,
        "num_media": "0", "num_segments": "1", "price": null, "price_unit": "USD", "sid": sid,
        "status": status, "subresource_uris": {}, "to": to,
        "uri": format!("{MESSAGES}/{sid}.json")
    })
}

/// Twilio's error body.
pub(crate) fn error_body(code: i64, status: u16, message: &str) -> Value {
    json!({"code": code, "message": message,
           "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})
}

pub(crate) struct Fx {
    pub(crate) app: TestApp,
    pub(crate) user: TestUser,
    pub(crate) campaign: CampaignDetail,
    pub(crate) leads: Vec<Contact>,
}

impl Fx {
    async fn status_of(
        &self,
        lead: &Contact,
        step: usize,
    ) -> (String, Option<String>, Option<String>, Option<i32>) {
        sqlx::query_as(
            "select status::text, provider_message_id, provider_status, error_code from campaign_messages
             where org_id = $1 and contact_id = $2 and step_id = $3",
        )
        .bind(self.user.org_id().0)
        .bind(lead.id.0)
        .bind(self.campaign.steps[step].id.0)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
    }

    /// What became of the lead's first text, in words.
    async fn reply_of(&self, lead: &Contact) -> String {
        sqlx::query_scalar(
            "select coalesce(smtp_reply, '') from campaign_messages where org_id = $1 and contact_id = $2 and step_id = $3",
        )
        .bind(self.user.org_id().0)
        .bind(lead.id.0)
        .bind(self.campaign.steps[0].id.0)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
    }
}

/// An organization ("Acme Realty") whose number is the sandbox's or, given a stand-in, a
/// Twilio number (1 a second); `leads` with SMS consent; a campaign (New York, every day,
/// 00:00–23:59) with `steps`, everyone enrolled, messages approved, launched at `at`.
pub(crate) async fn fixture(
    pool: PgPool,
    twilio: Option<&MockServer>,
    leads: &[Value],
    steps: &[Value],
    at: OffsetDateTime,
) -> Fx {
    fixture_with(pool, twilio, leads, steps, at, json!({})).await
}

/// [`fixture`], with more of the campaign's fields (`campaign`, merged in).
pub(crate) async fn fixture_with(
    pool: PgPool,
    twilio: Option<&MockServer>,
    leads: &[Value],
    steps: &[Value],
    at: OffsetDateTime,
    campaign: Value,
) -> Fx {
    let vars: Vec<(&str, String)> = match twilio {
        Some(t) => vec![
            ("AURA_TWILIO_API_URL", t.uri()),
            ("AURA_TWILIO_CONTENT_URL", t.uri()),
            ("AURA_OUTBOUND_ALLOW", "127.0.0.1".into()),
            ("AURA_TWILIO_TIMEOUT_SECS", "1".into()),
            ("AURA_PUBLIC_URL", "https://aura.example.com".into()),
        ],
        None => vec![],
    };
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(pool, &vars).await;
    app.clock.set(at);
    let user = app.signup("dana@acme.test", "Acme Realty Group").await;
    let _: Value = ok(
        user.patch(
            "/api/v1/organizations/current",
            json!({"public_name": "Acme Realty"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    if twilio.is_some() {
        let account: PhoneAccount = ok(
            user.post(
                "/api/v1/phone-accounts",
                json!({"name": "Main", "account_sid": AC, "auth_token": TOKEN}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let _: PhoneNumber = ok(
            user.post(
                &format!("/api/v1/phone-accounts/{}/numbers", account.id),
                json!({"number": FROM, "kind": "long_code", "whatsapp": true}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    } else {
        let _: Value = ok(
            user.post("/api/v1/phone-accounts/sandbox", json!({})).await,
            StatusCode::OK,
        )
        .await;
    }
    let mut contacts = Vec::new();
    for l in leads {
        let mut body = l.clone();
        body["tags"] = json!(["lead"]);
        if body.get("consent").is_none() {
            body["consent"] =
                json!({"sms": {"status": "granted", "source": "open house sign-up sheet"}});
        }
        contacts.push(user.create_contact(body).await);
    }
    let mut input = json!({"name": "Texts", "timezone": "America/New_York",
                           "window": {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"}});
    for (k, v) in campaign.as_object().into_iter().flatten() {
        input[k] = v.clone();
    }
    let mut c: CampaignDetail = ok(
        user.post("/api/v1/campaigns", input).await,
        StatusCode::CREATED,
    )
    .await;
    let id = c.campaign.id;
    for s in steps {
        c = ok(
            user.post(&format!("/api/v1/campaigns/{id}/steps"), s.clone())
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let _: Value = ok(
        user.post(
            &format!("/api/v1/campaigns/{id}/targets"),
            json!({"selection": {"filter": {"tags_any": "lead"}}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    if steps.iter().any(|s| s["channel"] == "email") {
        // Email goes through a sandbox mailbox (its outbox), with the address the law asks for.
        let _: Value = ok(
            user.patch(
                "/api/v1/organizations/current",
                json!({"postal_address": "1 Harbor St, Portland, ME"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let mailbox: Value = ok(
            user.post(
                "/api/v1/mailboxes",
                json!({"kind": "sandbox", "from_name": "Dana", "from_email": "dana@acme.test",
                       "limits": {"daily_limit": 1000, "ramp_start": 0, "ramp_step": 0,
                                  "min_interval_secs": 0, "jitter_secs": 0}}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let _: Value = ok(
            user.call(
                reqwest::Method::PUT,
                &format!("/api/v1/campaigns/{id}/mailboxes"),
                Some(json!({"mailbox_ids": [mailbox["id"]]})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    let url = format!("/api/v1/campaigns/{id}");
    let _: Value = ok(
        user.post(&format!("{url}/prepare"), json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    app.run_preparations_until_idle().await;
    let _: Value = ok(
        user.post(
            &format!("{url}/messages/review"),
            json!({"action": "approve", "filter": {}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let _: Value = ok(
        user.post(&format!("{url}/status"), json!({"status": "active"}))
            .await,
        StatusCode::OK,
    )
    .await;
    Fx {
        app,
        user,
        campaign: c,
        leads: contacts,
    }
}

fn lead(first: &str, phone: &str) -> Value {
    json!({"first_name": first, "phone": phone, "timezone": "America/New_York"})
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_sandbox_keeps_a_campaigns_texts_with_the_opt_out_footer_on_the_first(pool: PgPool) {
    let now = monday_10am_ny();
    let steps = [
        json!({"channel": "sms", "body": "Hi {{first_name}}, the Harbor St open house is Saturday at 11."}),
        json!({"channel": "sms", "delay_minutes": 60, "body": "Want me to save you a spot, {{first_name}}?"}),
    ];
    let leads = [
        lead("Maya", "+15005550006"),
        lead("Sam", "+15005550007"),
        lead("Nora", "+15005550008"),
    ];
    let fx = fixture(pool, None, &leads, &steps, now).await;
    // Nora withdraws her consent to texts after she was enrolled.
    let res = fx
        .user
        .patch(
            &format!("/api/v1/contacts/{}", fx.leads[2].id),
            json!({"consent": {"sms": {"status": "revoked", "evidence": "said so on the phone"}}}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    fx.app.deliver_at(now).await;
    let outbox: Vec<aura_types::OutboxText> =
        ok(fx.user.get("/api/v1/phone-outbox").await, StatusCode::OK).await;
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    for t in &outbox {
        assert!(
            t.body.ends_with("\n\nAcme Realty: Reply STOP to opt out."),
            "{}",
            t.body
        );
        assert_eq!(t.channel, aura_types::Channel::Sms);
    }
    let maya = outbox
        .iter()
        .find(|t| t.to_number == "+15005550006")
        .unwrap();
    assert!(
        maya.body.starts_with("Hi Maya, the Harbor St open house"),
        "{}",
        maya.body
    );
    // Nora withdrew her consent: her text is not sent, with the reason, and she goes on to the
    // next step (which another channel could carry) rather than leaving the campaign.
    let nora = &fx.leads[2];
    assert_eq!(fx.status_of(nora, 0).await.0, "cancelled");
    assert!(
        fx.reply_of(nora).await.contains("consent"),
        "{}",
        fx.reply_of(nora).await
    );
    let (step, status): (i32, String) = sqlx::query_as(
        "select current_step, status::text from campaign_targets where contact_id = $1",
    )
    .bind(nora.id.0)
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    assert_eq!((step, status.as_str()), (1, "active"));
    for l in &fx.leads[..2] {
        let (status, sid, provider, _) = fx.status_of(l, 0).await;
        assert_eq!(
            (status.as_str(), provider.as_deref()),
            ("sent", Some("sent"))
        );
        assert!(sid.unwrap().starts_with("SM"));
    }
    // The next step an hour later: no footer on a second text to the same number.
    fx.app.deliver_at(now + Duration::minutes(61)).await;
    let outbox: Vec<aura_types::OutboxText> =
        ok(fx.user.get("/api/v1/phone-outbox").await, StatusCode::OK).await;
    assert_eq!(outbox.len(), 4);
    let newest = &outbox[0];
    assert!(
        newest.body.starts_with("Want me to save you a spot"),
        "{}",
        newest.body
    );
    assert!(!newest.body.contains("STOP"), "{}", newest.body);
    // Nothing is sent twice, however often the workers run.
    fx.app.deliver_at(now + Duration::minutes(62)).await;
    let kept: i64 = sqlx::query_scalar("select count(*) from phone_outbox")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 4);
    // Another organization sees none of them.
    let other = fx.app.signup("owner@elsewhere.example", "Elsewhere").await;
    let theirs: Vec<aura_types::OutboxText> =
        ok(other.get("/api/v1/phone-outbox").await, StatusCode::OK).await;
    assert!(theirs.is_empty());
}

#[sqlx::test(migrations = "../../migrations")]
async fn twilios_answers_become_outcomes_and_each_text_is_posted_once(pool: PgPool) {
    let twilio = MockServer::start().await;
    let now = monday_10am_ny();
    let leads = [
        lead("Ok", "+15005550010"),
        lead("Invalid", "+15005550011"),
        lead("Stopped", "+15005550012"),
        lead("Abroad", "+15005550013"),
        lead("Busy", "+15005550014"),
    ];
    let to = |n: &str| format!("To=%2B{}", &n[1..]);
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(body_string_contains(to("+15005550010")))
        .respond_with(ResponseTemplate::new(201).set_body_json(message_body(
            "SM00000000000000000000000000000010",
            "+15005550010",
            "Hi",
            "queued",
        )))
        .expect(1)
        .mount(&twilio)
        .await;
    for (n, code, words) in [
        ("+15005550011", 21211, "The 'To' number +15005550011 is not a valid phone number."),
        ("+15005550012", 21610, "Attempt to send to unsubscribed recipient"),
        ("+15005550013", 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +15005550013."),
    ] {
        Mock::given(method("POST"))
            .and(path(MESSAGES))
            .and(body_string_contains(to(n)))
            .respond_with(ResponseTemplate::new(400).set_body_json(error_body(code, 400, words)))
            .expect(1)
            .mount(&twilio)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(body_string_contains(to("+15005550014")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "7")
                .set_body_json(error_body(20429, 429, "Too Many Requests")),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&twilio)
        .await;
    let steps =
        [json!({"channel": "sms", "body": "Hi {{first_name}}, new listings on Harbor St."})];
    let fx = fixture(pool, Some(&twilio), &leads, &steps, now).await;
    fx.app.deliver_at(now).await;
    twilio.verify().await;

    let [ok_lead, invalid, stopped, abroad, busy] = &fx.leads[..] else {
        unreachable!()
    };
    let sent = fx.status_of(ok_lead, 0).await;
    assert_eq!(sent.0, "sent");
    assert_eq!(
        sent.1.as_deref(),
        Some("SM00000000000000000000000000000010")
    );
    assert_eq!(sent.2.as_deref(), Some("queued"));
    // What Twilio was asked: from the number, with the status callback, the footer once.
    let posted = twilio.received_requests().await.unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(
        &posted
            .iter()
            .find(|r| String::from_utf8_lossy(&r.body).contains("5550010"))
            .unwrap()
            .body,
    )
    .into_owned()
    .collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("From"), Some(FROM));
    assert_eq!(
        get("Body"),
        Some("Hi Ok, new listings on Harbor St.\n\nAcme Realty: Reply STOP to opt out.")
    );
    let account_id: uuid::Uuid = sqlx::query_scalar("select id from phone_accounts")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    assert_eq!(
        get("StatusCallback").unwrap(),
        format!("https://aura.example.com/api/v1/twilio/{account_id}/status")
    );

    // 21211: the number is unusable — failed, suppressed, never tried again.
    let (status, _, _, code) = fx.status_of(invalid, 0).await;
    assert_eq!((status.as_str(), code), ("failed", Some(21211)));
    assert!(fx
        .reply_of(invalid)
        .await
        .contains("not a valid phone number"));
    let reason: String =
        sqlx::query_scalar("select reason::text from suppressions where value = '+15005550011'")
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert_eq!(reason, "unreachable");
    // 21610: opted out with the carrier — suppressed as STOP would.
    let (status, _, _, code) = fx.status_of(stopped, 0).await;
    assert_eq!((status.as_str(), code), ("failed", Some(21610)));
    let consent: String =
        sqlx::query_scalar("select consent -> 'sms' ->> 'status' from contacts where id = $1")
            .bind(stopped.id.0)
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert_eq!(consent, "revoked");
    let suppressed: i64 =
        sqlx::query_scalar("select count(*) from suppressions where value = '+15005550012'")
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert_eq!(suppressed, 1);
    // 21408: failed with the reason in words.
    let (status, _, _, code) = fx.status_of(abroad, 0).await;
    assert_eq!((status.as_str(), code), ("failed", Some(21408)));
    assert!(
        fx.reply_of(abroad).await.contains("not enabled"),
        "{}",
        fx.reply_of(abroad).await
    );
    // 20429 with Retry-After: queued again after the wait it asked for.
    let (status, _, _, code) = fx.status_of(busy, 0).await;
    assert_eq!((status.as_str(), code), ("queued", Some(20429)));
    let after: OffsetDateTime =
        sqlx::query_scalar("select send_after from campaign_messages where contact_id = $1")
            .bind(busy.id.0)
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert!(
        after >= now + Duration::seconds(7) && after <= now + Duration::seconds(70),
        "{after}"
    );
    // …and sent then.
    twilio.reset().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(body_string_contains(to("+15005550014")))
        .respond_with(ResponseTemplate::new(201).set_body_json(message_body(
            "SM00000000000000000000000000000014",
            "+15005550014",
            "Hi",
            "queued",
        )))
        .expect(1)
        .mount(&twilio)
        .await;
    fx.app.deliver_at(after + Duration::seconds(1)).await;
    fx.app.deliver_at(after + Duration::minutes(5)).await;
    twilio.verify().await;
    assert_eq!(fx.status_of(busy, 0).await.0, "sent");
}

/// The provider status of the first lead's first text.
async fn provider(fx: &Fx) -> Option<String> {
    fx.status_of(&fx.leads[0], 0).await.2
}

/// Posts a status callback for `sid`, signed with the account's token.
async fn status_callback(
    app: &TestApp,
    account: uuid::Uuid,
    sid: &str,
    status: &str,
    token: Option<&str>,
) -> StatusCode {
    let path = format!("/api/v1/twilio/{account}/status");
    let params: Vec<(String, String)> = vec![
        ("AccountSid".into(), AC.into()),
        ("MessageSid".into(), sid.into()),
        ("MessageStatus".into(), status.into()),
    ];
    let url = format!("{}{path}", app.settings.public_url);
    let sig = aura_api::providers::twilio::signature::compute(TOKEN, &url, &params);
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", app.address))
        .header("X-Twilio-Signature", sig)
        .form(&params);
    if let Some(t) = token {
        req = req.header("I-Twilio-Idempotency-Token", t);
    }
    req.send().await.unwrap().status()
}

#[sqlx::test(migrations = "../../migrations")]
async fn status_callbacks_late_twice_or_out_of_order_never_move_a_text_backwards(pool: PgPool) {
    let twilio = MockServer::start().await;
    let now = monday_10am_ny();
    let sid = "SM00000000000000000000000000000020";
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(201).set_body_json(message_body(
            sid,
            "+15005550020",
            "Hi",
            "queued",
        )))
        .expect(1)
        .mount(&twilio)
        .await;
    let steps = [json!({"channel": "sms", "body": "Hi {{first_name}}"})];
    let fx = fixture(
        pool,
        Some(&twilio),
        &[lead("Lee", "+15005550020")],
        &steps,
        now,
    )
    .await;
    let account: uuid::Uuid = sqlx::query_scalar("select id from phone_accounts")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    // Twilio's `sent` arrives before Aura recorded Twilio's answer to the post: kept, and
    // applied when the send is recorded.
    assert_eq!(
        status_callback(&fx.app, account, sid, "sent", Some("tok-0")).await,
        StatusCode::NO_CONTENT
    );
    fx.app.deliver_at(now).await;
    assert_eq!(provider(&fx).await.as_deref(), Some("sent"));
    // Then delivered; then sent once more, late; then delivered again, retried.
    assert_eq!(
        status_callback(&fx.app, account, sid, "delivered", Some("tok-1")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(provider(&fx).await.as_deref(), Some("delivered"));
    assert_eq!(
        status_callback(&fx.app, account, sid, "sent", Some("tok-2")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        provider(&fx).await.as_deref(),
        Some("delivered"),
        "a late `sent` changes nothing"
    );
    assert_eq!(
        status_callback(&fx.app, account, sid, "delivered", Some("tok-1")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status_callback(&fx.app, account, sid, "delivered", None).await,
        StatusCode::NO_CONTENT
    );
    let seen: i64 = sqlx::query_scalar("select count(*) from text_status_events")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    assert_eq!(seen, 2, "each (message, status) counts once");
    // Not signed with the account's token: refused, nothing changes.
    let path = format!("/api/v1/twilio/{account}/status");
    let res = reqwest::Client::new()
        .post(format!("{}{path}", fx.app.address))
        .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
        .form(&[("MessageSid", sid), ("MessageStatus", "failed")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(provider(&fx).await.as_deref(), Some("delivered"));
    // A status for a sid of no text of the organization changes nothing either.
    assert_eq!(
        status_callback(
            &fx.app,
            account,
            "SM0000000000000000000000000000ffff",
            "failed",
            None
        )
        .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(provider(&fx).await.as_deref(), Some("delivered"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_post_whose_answer_never_came_is_found_or_left_for_a_person_never_posted_twice(
    pool: PgPool,
) {
    let twilio = MockServer::start().await;
    let now = monday_10am_ny();
    // Twilio takes both posts, and answers neither in time (the client waits 1 s).
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(message_body(
                    "SM00000000000000000000000000000030",
                    "+15005550030",
                    "Hi",
                    "queued",
                ))
                .set_delay(std::time::Duration::from_secs(3)),
        )
        .expect(2)
        .mount(&twilio)
        .await;
    let steps = [json!({"channel": "sms", "body": "Hi {{first_name}}, the open house is on."})];
    let fx = fixture(
        pool,
        Some(&twilio),
        &[lead("Found", "+15005550030"), lead("Lost", "+15005550031")],
        &steps,
        now,
    )
    .await;
    fx.app.deliver_at(now).await;
    for l in &fx.leads {
        assert_eq!(fx.status_of(l, 0).await.0, "unknown");
        assert!(
            fx.reply_of(l)
                .await
                .contains("may or may not have gone out"),
            "{}",
            fx.reply_of(l).await
        );
    }
    // Later, the sender looks among the account's messages to each number: the first was made,
    // the second is not there.
    let listed = |m: Vec<Value>| {
        ResponseTemplate::new(200).set_body_json(json!({
        "messages": m, "end": 0, "first_page_uri": "", "next_page_uri": null, "page": 0, "page_size": 100,
        "previous_page_uri": null, "start": 0, "uri": ""
    }))
    };
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .and(query_param("To", "+15005550030"))
        .respond_with(listed(vec![message_body(
            "SM00000000000000000000000000000030",
            "+15005550030",
            "Hi Found, the open house is on.\n\nAcme Realty: Reply STOP to opt out.",
            "delivered",
        )]))
        .expect(1)
        .mount(&twilio)
        .await;
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .and(query_param("To", "+15005550031"))
        .respond_with(listed(vec![]))
        .expect(1)
        .mount(&twilio)
        .await;
    let later = now + Duration::minutes(3);
    fx.app.text_sender().reconcile(later).await.unwrap();
    fx.app.deliver_at(later + Duration::minutes(5)).await;
    twilio.verify().await;
    let (status, sid, provider, _) = fx.status_of(&fx.leads[0], 0).await;
    assert_eq!(status, "sent");
    assert_eq!(sid.as_deref(), Some("SM00000000000000000000000000000030"));
    assert_eq!(provider.as_deref(), Some("delivered"));
    assert_eq!(fx.status_of(&fx.leads[1], 0).await.0, "unknown");
    assert!(
        fx.reply_of(&fx.leads[1]).await.contains("Not found"),
        "{}",
        fx.reply_of(&fx.leads[1]).await
    );
    // Looked for once: a later turn does not ask Twilio again (the mocks expect one call each).
    fx.app
        .text_sender()
        .reconcile(later + Duration::hours(1))
        .await
        .unwrap();
    twilio.verify().await;
    // A person sends it again: should that try's answer not come either, it is looked for anew.
    let id: uuid::Uuid = sqlx::query_scalar(
        "select id from campaign_messages where contact_id = $1 and status = 'unknown'",
    )
    .bind(fx.leads[1].id.0)
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    let res = fx
        .user
        .post(
            &format!(
                "/api/v1/campaigns/{}/messages/{id}/delivery",
                fx.campaign.campaign.id
            ),
            json!({"action": "retry"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, looked): (String, Option<OffsetDateTime>) =
        sqlx::query_as("select status::text, reconciled_at from campaign_messages where id = $1")
            .bind(id)
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), looked), ("queued", None));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_text_due_at_half_past_eight_in_florida_waits_until_eight_in_the_morning(pool: PgPool) {
    // Monday 20:30 in New York; the lead is in Florida (no time zone of their own: the state's
    // zones, Eastern and Central, both must be inside 08:00–20:00).
    let evening = monday_10am_ny() + Duration::minutes(10 * 60 + 30);
    let steps = [json!({"channel": "sms", "body": "Hi {{first_name}}, a new listing in Tampa."})];
    let fl = json!({"first_name": "Rosa", "phone": "+13055550140", "state": "FL"});
    let fx = fixture(pool, None, &[fl], &steps, evening).await;
    fx.app.deliver_at(evening).await;
    let (status, _, _, _) = fx.status_of(&fx.leads[0], 0).await;
    assert_eq!(status, "queued");
    let after: OffsetDateTime = sqlx::query_scalar("select send_after from campaign_messages")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    // Tuesday 08:00 Central (UTC-6) is 14:00 UTC.
    let tuesday_8_central = monday_10am_ny() + Duration::hours(23);
    assert_eq!(after, tuesday_8_central);
    assert!(
        fx.reply_of(&fx.leads[0]).await.contains("Quiet hours"),
        "{}",
        fx.reply_of(&fx.leads[0]).await
    );
    fx.app
        .deliver_at(tuesday_8_central - Duration::minutes(1))
        .await;
    let kept: i64 = sqlx::query_scalar("select count(*) from phone_outbox")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 0, "never sent in quiet hours");
    fx.app.deliver_at(tuesday_8_central).await;
    assert_eq!(fx.status_of(&fx.leads[0], 0).await.0, "sent");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_text_holds_at_most_1600_characters_and_needs_a_number_to_launch(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("dana@acme.test", "Acme Realty").await;
    user.create_contact(
        json!({"first_name": "Maya", "email": "maya@example.com", "phone": "+15005550006", "tags": ["lead"],
                               "consent": {"sms": {"status": "granted"}}}),
    )
    .await;
    let c: CampaignDetail = ok(
        user.post("/api/v1/campaigns", json!({"name": "Texts"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let url = format!("/api/v1/campaigns/{}", c.campaign.id);
    // Too long for one text: refused at save, by field, nothing changed.
    let before = app.snapshot().await;
    let err = expect_error(
        user.post(
            &format!("{url}/steps"),
            json!({"channel": "sms", "body": "x".repeat(1601)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        aura_types::ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap()["body"].contains("1,600"));
    assert_eq!(app.snapshot().await, before);
    // An email may be longer.
    let _: CampaignDetail = ok(
        user.post(
            &format!("{url}/steps"),
            json!({"channel": "email", "subject": "Hi", "body": "x".repeat(1601)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let c: CampaignDetail = ok(
        user.post(
            &format!("{url}/steps"),
            json!({"channel": "sms", "delay_minutes": 60, "body": "Hi {{first_name}}"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let _: Value = ok(
        user.post(
            &format!("{url}/targets"),
            json!({"selection": {"filter": {"tags_any": "lead"}}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let _: Value = ok(
        user.post(&format!("{url}/prepare"), json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    app.run_preparations_until_idle().await;
    let page: aura_types::Page<aura_types::Message> = ok(
        user.get(&format!("{url}/messages?step_id={}", c.steps[1].id))
            .await,
        StatusCode::OK,
    )
    .await;
    let text = &page.items[0];
    let err = expect_error(
        user.patch(
            &format!("{url}/messages/{}", text.id),
            json!({"text": "y".repeat(1601)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        aura_types::ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("text"));
    // No number sends SMS yet: pre-flight says where to connect one.
    let pre: aura_types::Preflight =
        ok(user.get(&format!("{url}/preflight")).await, StatusCode::OK).await;
    let numbers = pre.checks.iter().find(|c| c.check == "numbers").unwrap();
    assert!(
        !numbers.ok && numbers.detail.contains("Settings → Channels"),
        "{numbers:?}"
    );
    let _: Value = ok(
        user.post("/api/v1/phone-accounts/sandbox", json!({})).await,
        StatusCode::OK,
    )
    .await;
    let pre: aura_types::Preflight =
        ok(user.get(&format!("{url}/preflight")).await, StatusCode::OK).await;
    let numbers = pre.checks.iter().find(|c| c.check == "numbers").unwrap();
    assert!(
        numbers.ok && numbers.detail.contains("sandbox"),
        "{numbers:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_quiet_hours_are_there_to_review(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("dana@acme.test", "Acme Realty").await;
    let q: aura_types::QuietHours = ok(user.get("/api/v1/quiet-hours").await, StatusCode::OK).await;
    assert_eq!((q.default.start, q.default.end), (8, 21));
    let state = |code: &str| q.states.iter().find(|s| s.code == code).unwrap().window;
    assert_eq!((state("FL").start, state("FL").end), (8, 20));
    assert_eq!((state("CT").start, state("CT").end), (9, 20));
    assert_eq!(state("TX").sunday_start, Some(12));
    assert_eq!(state("MS").sunday_start, None);
    let res = reqwest::get(app.url("/api/v1/quiet-hours")).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_paused_leads_text_waits_without_holding_the_number(pool: PgPool) {
    let now = monday_10am_ny();
    let steps = [json!({"channel": "sms", "body": "Hi {{first_name}}, the open house is on."})];
    let leads = [
        lead("Paused", "+15005550050"),
        lead("Going", "+15005550051"),
    ];
    let fx = fixture(pool, None, &leads, &steps, now).await;
    // Both texts queued; then the first lead is paused (as pausing a lead does).
    aura_api::workers::schedule::run_until_idle(&fx.app.pool, now)
        .await
        .unwrap();
    sqlx::query("update campaign_targets set status = 'paused' where contact_id = $1")
        .bind(fx.leads[0].id.0)
        .execute(&fx.app.pool)
        .await
        .unwrap();
    fx.app.send_texts_at(now).await;
    assert_eq!(fx.status_of(&fx.leads[0], 0).await.0, "queued");
    assert_eq!(fx.status_of(&fx.leads[1], 0).await.0, "sent");
    // The same for a paused campaign: its texts wait, and no claim is spent on them.
    sqlx::query("update campaigns set status = 'paused'")
        .execute(&fx.app.pool)
        .await
        .unwrap();
    let sender = fx.app.text_sender();
    sender
        .run_until_idle(now + Duration::seconds(5))
        .await
        .unwrap();
    let claimed: i64 =
        sqlx::query_scalar("select attempts::bigint from campaign_messages where contact_id = $1")
            .bind(fx.leads[0].id.0)
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert_eq!(claimed, 0, "never claimed while paused");
}

#[sqlx::test(migrations = "../../migrations")]
async fn texts_waiting_on_a_removed_number_go_from_another(pool: PgPool) {
    let twilio = MockServer::start().await;
    let now = monday_10am_ny();
    let steps = [json!({"channel": "sms", "body": "Hi {{first_name}}, the open house is on."})];
    let fx = fixture(
        pool,
        Some(&twilio),
        &[lead("Kim", "+15005550060")],
        &steps,
        now,
    )
    .await;
    // Queued on the Twilio number; then that number is removed before it sends.
    aura_api::workers::schedule::run_until_idle(&fx.app.pool, now)
        .await
        .unwrap();
    assert_eq!(fx.status_of(&fx.leads[0], 0).await.0, "queued");
    let number: uuid::Uuid = sqlx::query_scalar("select id from phone_numbers")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    let res = fx
        .user
        .delete(&format!("/api/v1/phone-numbers/{number}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(fx.status_of(&fx.leads[0], 0).await.0, "approved");
    // The sandbox number is connected: the text is queued there and kept.
    let _: Value = ok(
        fx.user
            .post("/api/v1/phone-accounts/sandbox", json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    fx.app.deliver_at(now + Duration::minutes(1)).await;
    assert_eq!(fx.status_of(&fx.leads[0], 0).await.0, "sent");
    let kept: i64 = sqlx::query_scalar("select count(*) from phone_outbox")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 1);
}

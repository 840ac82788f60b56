//! WhatsApp's 24-hour window and content templates, and answering texts from the inbox: the
//! templates listed from a stand-in speaking Twilio's Content API; a step's template sent (with
//! its variables filled from merge tags) to a lead whose window is closed, free text to one who
//! wrote within the day; a step without a template skipped, never posted; pre-flight's warning
//! for marketing templates to US numbers; answers by SMS and WhatsApp from a conversation,
//! through the sandbox and through Twilio. The clock is driven.

use crate::helpers::*;
use crate::texts::{error_body, fixture_with, message_body, ok, AC, FROM, MESSAGES, TOKEN};
use aura_types::{ConversationDetail, ThreadItem, WhatsAppTemplates};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FOLLOW_UP: &str = "HX11111111111111111111111111111111";
const OFFER: &str = "HX22222222222222222222222222222222";
const REJECTED: &str = "HX33333333333333333333333333333333";

/// One entry of the Content API's ContentAndApprovals list.
fn content(sid: &str, name: &str, body: &str, category: &str, status: &str, reason: &str) -> Value {
    json!({
        "date_created": "2026-11-02T10:00:00Z", "date_updated": "2026-11-03T10:00:00Z",
        "sid": sid, "account_sid": AC, "friendly_name": name, "language": "en",
        "variables": {"1": "Ada", "2": "Acme"},
        "types": {"twilio/text": {"body": body}},
        "approval_requests": {"name": name, "category": category, "content_type": "twilio/text",
                              "status": status, "rejection_reason": reason,
                              "allow_category_change": false},
        "url": format!("https://content.twilio.com/v1/Content/{sid}")
    })
}

/// The stand-in's Content API: two pages, as Twilio pages them.
async fn content_api(t: &MockServer) {
    let page = |contents: Vec<Value>, next: Option<&str>| {
        json!({"contents": contents,
               "meta": {"page": 0, "page_size": 2,
                        "first_page_url": "https://content.twilio.com/v1/ContentAndApprovals?PageSize=2&Page=0",
                        "previous_page_url": null, "next_page_url": next,
                        "url": "https://content.twilio.com/v1/ContentAndApprovals?PageSize=2&Page=0",
                        "key": "contents"}})
    };
    Mock::given(method("GET"))
        .and(path("/v1/ContentAndApprovals"))
        .and(wiremock::matchers::query_param("Page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![content(
                REJECTED,
                "flash_sale",
                "SALE {{1}}",
                "MARKETING",
                "rejected",
                "The template's content is promotional but its category is utility.",
            )],
            None,
        )))
        .mount(t)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/ContentAndApprovals"))
        .and(wiremock::matchers::query_param("PageSize", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![
                content(
                    FOLLOW_UP,
                    "follow_up",
                    "Hi {{1}}, this is {{2}} following up. Reply here to pick up where we left off.",
                    "UTILITY",
                    "approved",
                    "",
                ),
                content(
                    OFFER,
                    "spring_offer",
                    "Hi {{1}}, {{2}} has an offer for you.",
                    "MARKETING",
                    "approved",
                    "",
                ),
            ],
            Some("https://content.twilio.com/v1/ContentAndApprovals?PageSize=2&Page=1&PageToken=PT2"),
        )))
        .mount(t)
        .await;
}

fn whatsapp_lead(first: &str, number: &str) -> Value {
    json!({"first_name": first, "whatsapp": number, "phone": number, "timezone": "Europe/London",
           "consent": {"whatsapp": {"status": "granted", "source": "web form"}}})
}

/// The form of each message the stand-in was asked to create.
async fn created(t: &MockServer) -> Vec<Vec<(String, String)>> {
    t.received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == MESSAGES)
        .map(|r| url::form_urlencoded::parse(&r.body).into_owned().collect())
        .collect()
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Posts Twilio's inbound webhook, signed with the account's Auth Token.
async fn inbound(app: &TestApp, params: &[(&str, &str)]) -> reqwest::Response {
    webhook(app, "inbound", params).await
}

/// Posts one of Twilio's webhooks (`inbound`, `status`), signed with the account's Auth Token.
async fn webhook(app: &TestApp, kind: &str, params: &[(&str, &str)]) -> reqwest::Response {
    let account: uuid::Uuid = sqlx::query_scalar("select id from phone_accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let path = format!("/api/v1/twilio/{account}/{kind}");
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let url = format!("{}{path}", app.settings.public_url);
    let sig = aura_api::providers::twilio::signature::compute(TOKEN, &url, &params);
    reqwest::Client::new()
        .post(format!("{}{path}", app.address))
        .header("X-Twilio-Signature", sig)
        .form(&params)
        .send()
        .await
        .unwrap()
}

fn template_step(sid: &str, category: &str) -> Value {
    json!({"channel": "whatsapp", "body": "Hi {{first_name}}, thanks for writing! Still looking in Lisbon?",
           "whatsapp_template": {
               "sid": sid, "name": "follow_up", "language": "en", "category": category,
               "body": "Hi {{1}}, this is {{2}} following up. Reply here to pick up where we left off.",
               "variables": {"1": "{{first_name}}", "2": "{{org.name}}"}}})
}

#[sqlx::test(migrations = "../../migrations")]
async fn outside_the_window_the_steps_template_goes_and_inside_it_free_text(pool: PgPool) {
    let t = MockServer::start().await;
    content_api(&t).await;
    let sids = std::sync::atomic::AtomicUsize::new(0);
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(move |r: &wiremock::Request| {
            let form: Vec<(String, String)> =
                url::form_urlencoded::parse(&r.body).into_owned().collect();
            let n = sids.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let to = param(&form, "To").unwrap_or_default().to_owned();
            ResponseTemplate::new(201).set_body_json(message_body(
                &format!("SM{n:032x}"),
                &to,
                param(&form, "Body").unwrap_or_default(),
                "queued",
            ))
        })
        .expect(2)
        .mount(&t)
        .await;
    let now = monday_10am_ny();
    let leads = [
        whatsapp_lead("Ana", "+442079460958"),
        whatsapp_lead("Ben", "+442079460959"),
    ];
    let fx = fixture_with(
        pool,
        Some(&t),
        &leads,
        &[template_step(FOLLOW_UP, "UTILITY")],
        now,
        json!({"stop_on_reply": false}),
    )
    .await;

    // The templates, from both pages, with WhatsApp's answer.
    let listed: WhatsAppTemplates = ok(
        fx.user.get("/api/v1/whatsapp-templates").await,
        StatusCode::OK,
    )
    .await;
    assert!(listed.problems.is_empty(), "{:?}", listed.problems);
    let sids: Vec<&str> = listed.templates.iter().map(|t| t.sid.as_str()).collect();
    assert_eq!(sids, [FOLLOW_UP, OFFER, REJECTED]);
    let rejected = &listed.templates[2];
    assert_eq!(rejected.status, "rejected");
    assert!(!rejected.approved());
    assert!(rejected
        .rejection_reason
        .as_deref()
        .unwrap()
        .contains("promotional"));
    assert_eq!(listed.templates[0].category, "UTILITY");
    assert!(listed.templates[0]
        .body
        .starts_with("Hi {{1}}, this is {{2}}"));

    // Ana wrote an hour ago: her window is open. Ben never wrote.
    fx.app.clock.set(now - Duration::hours(1));
    let res = inbound(
        &fx.app,
        &[
            ("MessageSid", "SMa0000000000000000000000000000001"),
            ("AccountSid", AC),
            ("From", "whatsapp:+442079460958"),
            ("To", &format!("whatsapp:{FROM}")),
            ("Body", "Hello! Is the flat on Rua Augusta still free?"),
            ("WaId", "442079460958"),
            ("ProfileName", "Ana"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    fx.app.deliver_at(now).await;

    let forms = created(&t).await;
    assert_eq!(forms.len(), 2, "{forms:?}");
    let to = |n: &str| {
        forms
            .iter()
            .find(|f| param(f, "To") == Some(n))
            .unwrap_or_else(|| panic!("nothing to {n}: {forms:?}"))
    };
    let ana = to("whatsapp:+442079460958");
    assert_eq!(param(ana, "From"), Some(&*format!("whatsapp:{FROM}")));
    assert!(param(ana, "ContentSid").is_none(), "{ana:?}");
    assert!(
        param(ana, "Body")
            .unwrap()
            .starts_with("Hi Ana, thanks for writing!"),
        "{ana:?}"
    );
    let ben = to("whatsapp:+442079460959");
    assert_eq!(param(ben, "ContentSid"), Some(FOLLOW_UP));
    assert!(
        param(ben, "Body").is_none(),
        "a template is sent without a body: {ben:?}"
    );
    let vars: Value = serde_json::from_str(param(ben, "ContentVariables").unwrap()).unwrap();
    assert_eq!(vars, json!({"1": "Ben", "2": "Acme Realty"}));
    // What Ben read is what the thread and the campaign show.
    let body: String = sqlx::query_scalar(
        "select body_text from campaign_messages where contact_id = $1 and status = 'sent'",
    )
    .bind(fx.leads[1].id.0)
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    assert_eq!(
        body,
        "Hi Ben, this is Acme Realty following up. Reply here to pick up where we left off."
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_a_template_a_closed_window_skips_the_step_and_posts_nothing(pool: PgPool) {
    let t = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(400).set_body_json(error_body(
            63016,
            400,
            "Failed to send freeform message because you are outside the allowed window.",
        )))
        .expect(0)
        .mount(&t)
        .await;
    let now = monday_10am_ny();
    let steps = [
        json!({"channel": "whatsapp", "body": "Hi {{first_name}}, a quick hello."}),
        json!({"channel": "sms", "delay_minutes": 0, "body": "Hi {{first_name}}, by SMS instead."}),
    ];
    let lead = json!({"first_name": "Ben", "whatsapp": "+442079460959", "phone": "+442079460959",
                      "timezone": "Europe/London",
                      "consent": {"whatsapp": {"status": "granted", "source": "web form"},
                                  "sms": {"status": "granted", "source": "web form"}}});
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(wiremock::matchers::body_string_contains("by+SMS+instead"))
        .respond_with(ResponseTemplate::new(201).set_body_json(message_body(
            "SM00000000000000000000000000000009",
            "+442079460959",
            "Hi Ben, by SMS instead.",
            "queued",
        )))
        .expect(1)
        .with_priority(1)
        .mount(&t)
        .await;
    let fx = fixture_with(pool, Some(&t), &[lead], &steps, now, json!({})).await;
    fx.app.deliver_at(now).await;
    let (status, reason): (String, String) = sqlx::query_as(
        "select status::text, coalesce(smtp_reply, '') from campaign_messages
         where contact_id = $1 and channel = 'whatsapp'",
    )
    .bind(fx.leads[0].id.0)
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    assert_eq!(status, "cancelled", "{reason}");
    assert!(reason.contains("24-hour WhatsApp window"), "{reason}");
    // The lead went on to the next step.
    let sms: String = sqlx::query_scalar(
        "select status::text from campaign_messages where contact_id = $1 and channel = 'sms'",
    )
    .bind(fx.leads[0].id.0)
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    assert_eq!(sms, "sent");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_steps_template_is_checked_and_marketing_to_us_numbers_is_warned_of(pool: PgPool) {
    let now = monday_10am_ny();
    let leads = [whatsapp_lead("Kim", "+12025550143")];
    let fx = fixture_with(
        pool,
        None,
        &leads,
        &[template_step(OFFER, "MARKETING")],
        now,
        json!({}),
    )
    .await;
    let id = fx.campaign.campaign.id;
    let step = fx.campaign.steps[0].id;
    assert_eq!(
        fx.campaign.steps[0]
            .whatsapp_template
            .as_ref()
            .map(|t| t.sid.as_str()),
        Some(OFFER)
    );
    let preflight: aura_types::Preflight = ok(
        fx.user
            .get(&format!("/api/v1/campaigns/{id}/preflight"))
            .await,
        StatusCode::OK,
    )
    .await;
    let warning = preflight
        .checks
        .iter()
        .find(|c| c.check == "whatsapp_templates")
        .unwrap_or_else(|| panic!("{preflight:?}"));
    assert!(warning.ok && warning.warning, "{warning:?}");
    assert!(warning.detail.contains("US (+1)"), "{}", warning.detail);
    assert!(preflight.ready, "a warning does not hold back a launch");

    // Each mistake is named, and nothing changes.
    let _: Value = ok(
        fx.user
            .post(
                &format!("/api/v1/campaigns/{id}/status"),
                json!({"status": "paused"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let url = format!("/api/v1/campaigns/{id}/steps/{step}");
    let bad = [
        (
            json!({"whatsapp_template": {"sid": "HX123", "name": "x", "body": "Hi"}}),
            "whatsapp_template.sid",
        ),
        (
            json!({"whatsapp_template": {"sid": FOLLOW_UP, "name": "follow_up",
                                         "body": "Hi {{1}}, from {{2}}", "variables": {"1": "{{first_name}}"}}}),
            "whatsapp_template.variables.2",
        ),
        (
            json!({"whatsapp_template": {"sid": FOLLOW_UP, "name": "follow_up", "body": "Hi {{1}}",
                                         "variables": {"1": "{{first_name"}}}),
            "whatsapp_template.variables.1",
        ),
        (
            json!({"channel": "sms", "whatsapp_template": {"sid": FOLLOW_UP, "name": "x", "body": "Hi"}}),
            "whatsapp_template",
        ),
    ];
    for (body, field) in bad {
        let res = fx.user.patch(&url, body.clone()).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {text}");
        assert!(text.contains(field), "{field} not named: {text}");
    }
    let detail: aura_types::CampaignDetail = ok(
        fx.user.get(&format!("/api/v1/campaigns/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail.steps[0], fx.campaign.steps[0]);
}

/// The conversation of the lead on `channel`.
async fn conversation(fx: &crate::texts::Fx, contact: usize, channel: &str) -> ConversationDetail {
    let id: uuid::Uuid = sqlx::query_scalar(
        "select id from conversations where contact_id = $1 and channel = $2::channel",
    )
    .bind(fx.leads[contact].id.0)
    .bind(channel)
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    ok(
        fx.user.get(&format!("/api/v1/conversations/{id}")).await,
        StatusCode::OK,
    )
    .await
}

#[sqlx::test(migrations = "../../migrations")]
async fn texts_are_answered_from_the_inbox_within_the_window_or_by_template(pool: PgPool) {
    let now = monday_10am_ny();
    let leads = [
        json!({"first_name": "Maya", "phone": "+15005550006", "whatsapp": "+442079460958",
                        "timezone": "America/New_York",
                        "consent": {"sms": {"status": "granted", "source": "sign-up sheet"},
                                    "whatsapp": {"status": "granted", "source": "sign-up sheet"}}}),
    ];
    let steps =
        [json!({"channel": "sms", "body": "Hi {{first_name}}, the open house is Saturday."})];
    let fx = fixture_with(pool, None, &leads, &steps, now, json!({})).await;
    fx.app.deliver_at(now).await;
    let sandbox: uuid::Uuid = sqlx::query_scalar("select id from phone_accounts")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    // Maya answers by SMS and on WhatsApp.
    for (body, whatsapp, from) in [
        ("Can I bring my partner?", false, "+15005550006"),
        ("Also, is parking available?", true, "+442079460958"),
    ] {
        let _: Value = ok(
            fx.user
                .post(
                    &format!("/api/v1/phone-accounts/{sandbox}/simulate"),
                    json!({"from": from, "body": body, "whatsapp": whatsapp}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }

    // SMS: answered as written, from the number that texted her.
    let sms = conversation(&fx, 0, "sms").await;
    assert!(sms.window_closes_at.is_none());
    let url = format!("/api/v1/conversations/{}/reply", sms.conversation.id);
    let too_long = "x".repeat(1601);
    let res = fx.user.post(&url, json!({"text": too_long})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let item: ThreadItem = ok(
        fx.user
            .post(
                &url,
                json!({"text": "Of course, see you both on Saturday!"}),
            )
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(item.channel, aura_types::Channel::Sms);

    // WhatsApp: free text while her window is open.
    let wa = conversation(&fx, 0, "whatsapp").await;
    assert_eq!(wa.window_closes_at, Some(now + Duration::hours(24)));
    let url = format!("/api/v1/conversations/{}/reply", wa.conversation.id);
    let _: ThreadItem = ok(
        fx.user
            .post(&url, json!({"text": "Yes, two spaces in the courtyard."}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    fx.app.send_texts_at(now).await;

    // A day later the window has closed: only a template goes.
    let later = now + Duration::hours(25);
    fx.app.clock.set(later);
    let res = fx
        .user
        .post(&url, json!({"text": "Did you like the flat?"}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("24-hour"));
    let templates: WhatsAppTemplates = ok(
        fx.user.get("/api/v1/whatsapp-templates").await,
        StatusCode::OK,
    )
    .await;
    let follow_up = templates
        .templates
        .iter()
        .find(|t| t.name == "follow_up" && t.approved())
        .unwrap();
    // A template WhatsApp has not approved, or one of no account of this number, is refused.
    let pending = templates
        .templates
        .iter()
        .find(|t| !t.approved())
        .unwrap()
        .chosen(
            [
                ("1".to_owned(), "Maya".to_owned()),
                ("2".to_owned(), "Lisbon".to_owned()),
            ]
            .into(),
        );
    let res = fx
        .user
        .post(&url, json!({"text": "", "template": pending}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("not approved"));
    let mut foreign = follow_up.chosen(
        [
            ("1".to_owned(), "Maya".to_owned()),
            ("2".to_owned(), "Acme".to_owned()),
        ]
        .into(),
    );
    foreign.sid = "HX99999999999999999999999999999999".into();
    let res = fx
        .user
        .post(&url, json!({"text": "", "template": foreign}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut chosen = follow_up.chosen(Default::default());
    let res = fx
        .user
        .post(&url, json!({"text": "", "template": chosen}))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a variable without a value"
    );
    chosen.variables = [("1", "Maya"), ("2", "Acme Realty")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let item: ThreadItem = ok(
        fx.user
            .post(&url, json!({"text": "", "template": chosen}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(
        item.text,
        "Hi Maya, this is Acme Realty following up on your enquiry. Reply here and we will take it from there."
    );
    fx.app.send_texts_at(later).await;

    let outbox: Vec<aura_types::OutboxText> =
        ok(fx.user.get("/api/v1/phone-outbox").await, StatusCode::OK).await;
    let bodies: Vec<(&str, &str)> = outbox
        .iter()
        .map(|t| (t.to_number.as_str(), t.body.as_str()))
        .collect();
    for (to, body) in [
        ("+15005550006", "Of course, see you both on Saturday!"),
        ("+442079460958", "Yes, two spaces in the courtyard."),
        ("+442079460958", item.text.as_str()),
    ] {
        assert!(bodies.contains(&(to, body)), "{to} {body}: {bodies:?}");
    }
    let thread = conversation(&fx, 0, "whatsapp").await;
    let answers: Vec<_> = thread
        .items
        .iter()
        .filter(|i| i.direction == aura_types::ai::Direction::Outbound)
        .map(|i| (i.text.as_str(), i.status))
        .collect();
    assert_eq!(
        answers,
        [
            (
                "Yes, two spaces in the courtyard.",
                Some(aura_types::MessageStatus::Sent)
            ),
            (item.text.as_str(), Some(aura_types::MessageStatus::Sent)),
        ]
    );

    // After STOP, an answer is not sent.
    let _: Value = ok(
        fx.user
            .post(
                &format!("/api/v1/phone-accounts/{sandbox}/simulate"),
                json!({"from": "+15005550006", "body": "STOP"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let sms_url = format!("/api/v1/conversations/{}/reply", sms.conversation.id);
    let item: ThreadItem = ok(
        fx.user
            .post(&sms_url, json!({"text": "Sorry to see you go."}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    fx.app.send_texts_at(later).await;
    let (status, why): (String, String) = sqlx::query_as(
        "select status::text, coalesce(smtp_reply, '') from conversation_replies where id = $1",
    )
    .bind(item.id)
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    assert_eq!(status, "failed", "{why}");
    let outbox: Vec<aura_types::OutboxText> =
        ok(fx.user.get("/api/v1/phone-outbox").await, StatusCode::OK).await;
    assert!(outbox.iter().all(|t| t.body != "Sorry to see you go."));
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_answer_by_text_goes_through_twilio_once(pool: PgPool) {
    let t = MockServer::start().await;
    let now = monday_10am_ny();
    let fx = fixture_with(
        pool,
        Some(&t),
        &[json!({"first_name": "Sam", "phone": "+15005550007", "timezone": "America/New_York"})],
        &[json!({"channel": "sms", "delay_minutes": 600, "body": "Hi {{first_name}}"})],
        now,
        json!({}),
    )
    .await;
    // A second number of the account: Sam writes to it, and the answer goes from it.
    let account: uuid::Uuid = sqlx::query_scalar("select id from phone_accounts")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    let _: aura_types::PhoneNumber = ok(
        fx.user
            .post(
                &format!("/api/v1/phone-accounts/{account}/numbers"),
                json!({"number": "+14155550123", "kind": "long_code"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let res = inbound(
        &fx.app,
        &[
            ("MessageSid", "SMb0000000000000000000000000000001"),
            ("AccountSid", AC),
            ("From", "+15005550009"),
            ("To", "+14155550123"),
            ("Body", "Who is this?"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(wiremock::matchers::body_string_contains(
            "Body=Dana+from+Acme",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(message_body(
            "SMc0000000000000000000000000000001",
            "+15005550009",
            "Dana from Acme Realty, about the open house.",
            "queued",
        )))
        .expect(1)
        .mount(&t)
        .await;
    // A stranger (a contact made by their text, with no consent recorded): their own message
    // invites the answer.
    let stranger: uuid::Uuid = sqlx::query_scalar(
        "select v.id from conversations v join contacts k on k.org_id = v.org_id and k.id = v.contact_id
         where k.phone = '+15005550009'",
    )
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    let sms: ConversationDetail = ok(
        fx.user
            .get(&format!("/api/v1/conversations/{stranger}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let item: ThreadItem = ok(
        fx.user
            .post(
                &format!("/api/v1/conversations/{}/reply", sms.conversation.id),
                json!({"text": "Dana from Acme Realty, about the open house."}),
            )
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    fx.app.send_texts_at(now).await;
    fx.app.send_texts_at(now + Duration::seconds(5)).await;
    let (status, sid): (String, Option<String>) =
        sqlx::query_as("select status::text, provider_sid from conversation_replies where id = $1")
            .bind(item.id)
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert_eq!(status, "sent");
    assert_eq!(sid.as_deref(), Some("SMc0000000000000000000000000000001"));
    let form = &created(&t).await[0];
    assert_eq!(param(form, "From"), Some("+14155550123"));
    assert_eq!(param(form, "To"), Some("+15005550009"));
    // Twilio reports it undelivered: the thread says so, with why.
    let res = webhook(
        &fx.app,
        "status",
        &[
            ("MessageSid", "SMc0000000000000000000000000000001"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30006"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let thread: ConversationDetail = ok(
        fx.user
            .get(&format!("/api/v1/conversations/{stranger}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let ours = thread.items.iter().find(|i| i.id == item.id).unwrap();
    assert_eq!(ours.status, Some(aura_types::MessageStatus::Failed));
    assert!(
        ours.detail.as_deref().unwrap_or_default().contains("30006"),
        "{:?}",
        ours.detail
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn email_then_sms_then_whatsapp_and_stop_or_a_reply_ends_every_channel(pool: PgPool) {
    let t = MockServer::start().await;
    let n = std::sync::atomic::AtomicUsize::new(0);
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(move |r: &wiremock::Request| {
            let form: Vec<(String, String)> =
                url::form_urlencoded::parse(&r.body).into_owned().collect();
            let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ResponseTemplate::new(201).set_body_json(message_body(
                &format!("SM{i:032x}"),
                param(&form, "To").unwrap_or_default(),
                param(&form, "Body").unwrap_or_default(),
                "queued",
            ))
        })
        .mount(&t)
        .await;
    let now = monday_10am_ny();
    let person = |first: &str, phone: &str, whatsapp: &str| {
        json!({"first_name": first, "email": format!("{}@example.com", first.to_lowercase()),
               "phone": phone, "whatsapp": whatsapp, "timezone": "America/New_York",
               "consent": {"email": {"status": "granted", "source": "open house"},
                           "sms": {"status": "granted", "source": "open house"},
                           "whatsapp": {"status": "granted", "source": "open house"}}})
    };
    let leads = [
        person("Maya", "+15005550006", "+442079460958"),
        person("Ravi", "+15005550007", "+442079460959"),
        person("Lena", "+15005550008", "+442079460957"),
    ];
    let steps = [
        json!({"channel": "email", "subject": "Thanks for coming, {{first_name}}",
               "body": "Hi {{first_name}}, the listings are attached."}),
        json!({"channel": "sms", "delay_minutes": 60,
               "body": "Hi {{first_name}}, did the listings arrive?"}),
        template_step(FOLLOW_UP, "UTILITY"),
        json!({"channel": "email", "delay_minutes": 60, "subject": "A viewing?",
               "body": "Hi {{first_name}}, shall I hold a slot for you?"}),
    ];
    let fx = fixture_with(pool, Some(&t), &leads, &steps, now, json!({})).await;
    let (maya, ravi, lena) = (&fx.leads[0], &fx.leads[1], &fx.leads[2]);
    let sent = |contact: aura_types::ContactId| {
        let pool = fx.app.pool.clone();
        async move {
            let rows: Vec<(String,)> = sqlx::query_as(
                "select m.channel::text from campaign_messages m
                 join campaign_steps s on s.org_id = m.org_id and s.id = m.step_id
                 where m.contact_id = $1 and m.status = 'sent' order by s.position",
            )
            .bind(contact.0)
            .fetch_all(&pool)
            .await
            .unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
        }
    };

    // A mailbox keeps a second between its emails: the clock moves on a few seconds each time.
    let deliver = |at: time::OffsetDateTime| {
        let app = &fx.app;
        async move {
            for s in 0..4 {
                app.deliver_at(at + Duration::seconds(s * 2)).await;
            }
        }
    };
    deliver(now).await;
    for lead in &fx.leads {
        assert_eq!(sent(lead.id).await, ["email"]);
    }
    // Half an hour later Ravi texts STOP: nothing more reaches him, on any channel.
    fx.app.clock.set(now + Duration::minutes(30));
    let res = inbound(
        &fx.app,
        &[
            ("MessageSid", "SMd0000000000000000000000000000001"),
            ("AccountSid", AC),
            ("From", "+15005550007"),
            ("To", FROM),
            ("Body", "STOP"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The SMS step, then WhatsApp (a template: nobody wrote there).
    deliver(now + Duration::minutes(61)).await;
    assert_eq!(sent(maya.id).await, ["email", "sms", "whatsapp"]);
    assert_eq!(sent(lena.id).await, ["email", "sms", "whatsapp"]);
    assert_eq!(sent(ravi.id).await, ["email"]);
    // Lena answers on WhatsApp: her last email does not go.
    fx.app.clock.set(now + Duration::minutes(90));
    let res = inbound(
        &fx.app,
        &[
            ("MessageSid", "SMd0000000000000000000000000000002"),
            ("AccountSid", AC),
            ("From", "whatsapp:+442079460957"),
            ("To", &format!("whatsapp:{FROM}")),
            ("Body", "Yes, Thursday works for a viewing."),
            ("WaId", "442079460957"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    for minutes in [125, 200, 24 * 60] {
        deliver(now + Duration::minutes(minutes)).await;
    }
    assert_eq!(sent(maya.id).await, ["email", "sms", "whatsapp", "email"]);
    assert_eq!(sent(lena.id).await, ["email", "sms", "whatsapp"]);
    assert_eq!(sent(ravi.id).await, ["email"]);

    // Through the stand-in: two SMS and two WhatsApp templates, each posted once.
    let forms = created(&t).await;
    let mut to: Vec<(&str, bool)> = forms
        .iter()
        .map(|f| (param(f, "To").unwrap(), param(f, "ContentSid").is_some()))
        .collect();
    to.sort();
    assert_eq!(
        to,
        [
            ("+15005550006", false),
            ("+15005550008", false),
            ("whatsapp:+442079460957", true),
            ("whatsapp:+442079460958", true),
        ]
    );
    // Ravi's number is suppressed and his consent to texts revoked, with his message as evidence.
    let suppressed: i64 =
        sqlx::query_scalar("select count(*) from suppressions where value = '+15005550007'")
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert_eq!(suppressed, 1);
    let contact: aura_types::ContactDetail = ok(
        fx.user.get(&format!("/api/v1/contacts/{}", ravi.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        contact.contact.consent.sms.status,
        aura_types::ConsentStatus::Revoked
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn webhooks_signed_with_a_shared_key_are_checked_with_it(pool: PgPool) {
    use aura_api::providers::twilio::signature::{compute_with, Algorithm};
    let t = MockServer::start().await;
    let now = monday_10am_ny();
    let fx = fixture_with(
        pool,
        Some(&t),
        &[json!({"first_name": "Sam", "phone": "+15005550007"})],
        &[json!({"channel": "sms", "delay_minutes": 600, "body": "Hi"})],
        now,
        json!({}),
    )
    .await;
    let account: uuid::Uuid = sqlx::query_scalar("select id from phone_accounts")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    let url = format!("/api/v1/phone-accounts/{account}/webhook-key");
    let secret = "shared-key-secret-0123456789abcdef";
    let res = fx
        .user
        .call(
            reqwest::Method::PUT,
            &url,
            Some(json!({"key_id": "key one", "secret": secret})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("key_id"));
    let res = fx
        .user
        .call(
            reqwest::Method::PUT,
            &url,
            Some(json!({"key_id": "KS0123456789", "secret": secret})),
        )
        .await;
    let text = res.text().await.unwrap();
    assert!(!text.contains(secret), "the secret is never shown: {text}");
    let shown: aura_types::PhoneAccount = serde_json::from_str(&text).unwrap();
    assert_eq!(shown.webhook_key_id.as_deref(), Some("KS0123456789"));

    let path = format!("/api/v1/twilio/{account}/inbound");
    let signed_url = format!("{}{path}", fx.app.settings.public_url);
    let post = |sid: &str, header: Option<&str>, algorithm: Algorithm, key: &str| {
        let params: Vec<(String, String)> = [
            ("MessageSid", sid),
            ("AccountSid", AC),
            ("From", "+15005550007"),
            ("To", FROM),
            ("Body", "Is Saturday still on?"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sig = compute_with(algorithm, key, &signed_url, &params);
        let mut req = reqwest::Client::new()
            .post(format!("{}{path}", fx.app.address))
            .header("X-Twilio-Signature", sig)
            .form(&params);
        if let Some(h) = header {
            req = req.header("X-Twilio-Webhooks-Signature-Settings", h);
        }
        req.send()
    };
    let settings = "key=KS0123456789,algorithm=HMAC_SHA256";
    let res = post("SMe01", Some(settings), Algorithm::Sha256, secret)
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    // The Auth Token still signs as before.
    let res = post("SMe02", None, Algorithm::Sha1, TOKEN).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Signed with the token while naming the key, with another key, with SHA-1 under the
    // key's name, or naming a key the account does not have: refused, nothing taken in.
    for (sid, header, algorithm, key) in [
        ("SMe03", Some(settings), Algorithm::Sha256, TOKEN),
        ("SMe04", Some(settings), Algorithm::Sha256, "another-secret"),
        ("SMe05", Some(settings), Algorithm::Sha1, secret),
        (
            "SMe06",
            Some("key=KS999,algorithm=HMAC_SHA256"),
            Algorithm::Sha256,
            secret,
        ),
        (
            "SMe07",
            Some("key=KS0123456789,algorithm=MD5"),
            Algorithm::Sha256,
            secret,
        ),
    ] {
        let res = post(sid, header, algorithm, key).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{sid}");
    }
    let taken: i64 = sqlx::query_scalar("select count(*) from inbound_messages")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    assert_eq!(taken, 2);
    // Forgotten: the key's signatures are refused.
    let res = fx.user.call(reqwest::Method::DELETE, &url, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = post("SMe08", Some(settings), Algorithm::Sha256, secret)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_texts_media_is_listed_and_fetched_with_the_accounts_credentials(pool: PgPool) {
    let t = MockServer::start().await;
    let now = monday_10am_ny();
    let fx = fixture_with(
        pool,
        Some(&t),
        &[json!({"first_name": "Sam", "phone": "+15005550007"})],
        &[json!({"channel": "sms", "delay_minutes": 600, "body": "Hi"})],
        now,
        json!({}),
    )
    .await;
    let media_path =
        format!("/2010-04-01/Accounts/{AC}/Messages/MMf0000000000000000000000000000001/Media/ME00000000000000000000000000000001");
    let picture: Vec<u8> = b"\xff\xd8\xff\xe0 a small jpeg".to_vec();
    // Twilio checks the credentials, then redirects to a short-lived signed address.
    Mock::given(method("GET"))
        .and(path(media_path.clone()))
        .and(wiremock::matchers::header(
            "authorization",
            &*format!(
                "Basic {}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    format!("{AC}:{TOKEN}")
                )
            ),
        ))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/cdn/signed-abc?Expires=1", t.uri())),
        )
        .expect(1)
        .mount(&t)
        .await;
    Mock::given(method("GET"))
        .and(path("/cdn/signed-abc"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "image/jpeg")
                .set_body_bytes(picture.clone()),
        )
        .expect(1)
        .mount(&t)
        .await;
    let media_url = format!("{}{media_path}", t.uri());
    // Twilio's host, but not this message's media: the account itself.
    let account_url = format!("{}/2010-04-01/Accounts/{AC}.json", t.uri());
    let res = inbound(
        &fx.app,
        &[
            ("MessageSid", "MMf0000000000000000000000000000001"),
            ("AccountSid", AC),
            ("From", "+15005550007"),
            ("To", FROM),
            ("Body", "This is the leak under the sink"),
            ("NumMedia", "3"),
            ("MediaUrl0", &media_url),
            ("MediaContentType0", "image/jpeg"),
            ("MediaUrl1", "https://evil.example/steal"),
            ("MediaContentType1", "image/png"),
            ("MediaUrl2", &account_url),
            ("MediaContentType2", "application/json"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let thread = conversation(&fx, 0, "sms").await;
    let arrived = thread
        .items
        .iter()
        .find(|i| i.direction == aura_types::ai::Direction::Inbound)
        .unwrap();
    let types: Vec<&str> = arrived
        .attachments
        .iter()
        .map(|a| a.content_type.as_str())
        .collect();
    assert_eq!(types, ["image/jpeg", "image/png", "application/json"]);
    let base = format!(
        "/api/v1/conversations/{}/media/{}",
        thread.conversation.id, arrived.id
    );
    let res = fx.user.get(&format!("{base}/0")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "image/jpeg"
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().to_vec(), picture);
    // Once fetched, its size is listed with it.
    let thread = conversation(&fx, 0, "sms").await;
    let sizes: Vec<i64> = thread
        .items
        .iter()
        .flat_map(|i| i.attachments.iter().map(|a| a.size))
        .collect();
    assert_eq!(sizes, [picture.len() as i64, 0, 0]);
    // Only this message's media gets the credentials: not another host, not another of
    // Twilio's resources (the stand-in answers nothing else: its mocks expect one call each);
    // no fourth file; another organization's caller finds nothing.
    for index in 1..=3 {
        assert_eq!(
            fx.user.get(&format!("{base}/{index}")).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let stranger = fx.app.signup("eve@else.test", "Elsewhere").await;
    assert_eq!(
        stranger.get(&format!("{base}/0")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_template_chosen_after_preparation_is_not_sent_without_its_values(pool: PgPool) {
    let now = monday_10am_ny();
    let steps = [json!({"channel": "whatsapp", "body": "Hi {{first_name}}, still looking?"})];
    let fx = fixture_with(
        pool,
        None,
        &[whatsapp_lead("Ben", "+442079460959")],
        &steps,
        now,
        json!({}),
    )
    .await;
    let id = fx.campaign.campaign.id;
    let url = format!("/api/v1/campaigns/{id}");
    for status in ["paused", "active"] {
        if status == "active" {
            // Prepared and approved without a template; one is chosen afterwards.
            let res = fx
                .user
                .patch(
                    &format!("{url}/steps/{}", fx.campaign.steps[0].id),
                    template_step(FOLLOW_UP, "UTILITY"),
                )
                .await;
            assert_eq!(
                res.status(),
                StatusCode::OK,
                "{}",
                res.text().await.unwrap()
            );
        }
        let _: Value = ok(
            fx.user
                .post(&format!("{url}/status"), json!({"status": status}))
                .await,
            StatusCode::OK,
        )
        .await;
    }
    fx.app.deliver_at(now).await;
    let (status, why): (String, String) =
        sqlx::query_as("select status::text, coalesce(smtp_reply, '') from campaign_messages")
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert_eq!(status, "cancelled", "{why}");
    assert!(
        why.contains("prepare the campaign's messages again"),
        "{why}"
    );
    let kept: i64 = sqlx::query_scalar("select count(*) from phone_outbox")
        .fetch_one(&fx.app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 0);
}

//! The AI layer against local stand-ins that answer with the vendors' documented bodies: OpenAI
//! chat completions, Anthropic messages, a signed custom endpoint; errors, retries, timeouts,
//! malformed output, fallback, sealed keys, SSRF, personas, knowledge and usage.

use crate::helpers::*;
use aura_api::providers::ai::custom::signature;
use aura_types::ai::{
    AiProviderConfig, ClassifyResult, DraftResult, Persona, RepliesResult, UsageSummary,
};
use aura_types::ErrorCode;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk-test-Zq81secret-9876";

async fn ai_app(pool: PgPool) -> TestApp {
    spawn_app_with(
        pool,
        &[
            ("AURA_ALLOW_PRIVATE_AI_URLS", "true"),
            ("AURA_AI_TIMEOUT_SECS", "1"),
            ("AURA_AI_MAX_RETRY_AFTER_SECS", "3"),
        ],
    )
    .await
}

/// OpenAI's documented chat completion, with `content` as the model's text.
fn openai_body(content: &str) -> Value {
    json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
                  "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306"
    })
}

fn anthropic_body(text: &str) -> Value {
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": 12, "output_tokens": 6}
    })
}

const GOOD: &str = "```json\n{\"subject\": \"A faster sale, {{first_name | \\\"there\\\"}}\", \"body\": \"Hi {{first_name | \\\"there\\\"}},\\n\\nWe sell homes in 21 days. Worth a call?\"}\n```";

async fn add_provider(user: &TestUser, body: Value) -> AiProviderConfig {
    let res = user.post("/api/v1/ai/providers", body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(!text.contains(KEY), "the key is never returned");
    serde_json::from_str(&text).unwrap()
}

async fn use_provider(user: &TestUser, id: impl std::fmt::Display, fallback: bool) {
    let res = user
        .patch(
            "/api/v1/ai/settings",
            json!({"default_provider_id": id.to_string(), "fallback_to_builtin": fallback}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn openai_setup(app: &TestApp, server: &MockServer) -> (TestUser, AiProviderConfig) {
    let user = app.signup("ai@example.com", "Acme Realty").await;
    let p = add_provider(
        &user,
        json!({"name": "OpenAI", "kind": "openai", "base_url": format!("{}/v1", server.uri()), "model": "gpt-4o-mini", "secret": KEY}),
    )
    .await;
    use_provider(&user, p.id, false).await;
    (user, p)
}

fn step_body() -> Value {
    json!({
        "campaign": {"name": "Spring sellers", "offer": "a free valuation and a sale in 21 days", "icp": "homeowners in Austin", "goal": "a 15-minute call"},
        "step": {"channel": "email", "number": 1, "instructions": "Mention the spring market."}
    })
}

async fn generate(user: &TestUser) -> reqwest::Response {
    user.post("/api/v1/ai/generate/step-template", step_body())
        .await
}

#[sqlx::test(migrations = "../../migrations")]
async fn openai_compatible_provider_generates_a_template_and_usage_is_recorded(pool: PgPool) {
    let app = ai_app(pool.clone()).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_body(GOOD)))
        .expect(1)
        .mount(&server)
        .await;
    let (user, provider) = openai_setup(&app, &server).await;
    assert!(provider.secret.set);
    assert_eq!(provider.secret.ends_with.as_deref(), Some("9876"));

    let res = generate(&user).await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: DraftResult = res.json().await.unwrap();
    assert_eq!(
        r.draft.subject.as_deref(),
        Some("A faster sale, {{first_name | \"there\"}}")
    );
    assert!(r.draft.body.contains("21 days"));
    assert_eq!(r.provenance.label, "OpenAI · gpt-4o-mini-2024-07-18");
    assert_eq!(
        (
            r.provenance.tokens_in,
            r.provenance.tokens_out,
            r.provenance.attempts
        ),
        (19, 10, 1)
    );

    // The request spoke the chat-completions format with the persona as the system prompt.
    let sent: Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(sent["messages"][0]["role"], "system");
    assert!(sent["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("a free valuation and a sale in 21 days"));

    // The key is sealed: the stored bytes do not contain it, and no response shows it.
    let sealed: Vec<u8> = sqlx::query_scalar("select secret_sealed from ai_providers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!sealed.windows(KEY.len()).any(|w| w == KEY.as_bytes()));
    assert!(!sealed.windows(6).any(|w| w == b"secret"));
    let listed = user.get("/api/v1/ai/providers").await.text().await.unwrap();
    assert!(!listed.contains(KEY) && listed.contains("9876"));

    let usage: UsageSummary = user.get("/api/v1/ai/usage").await.json().await.unwrap();
    assert_eq!(
        (usage.calls, usage.failed, usage.tokens_in, usage.tokens_out),
        (1, 0, 19, 10)
    );
    assert_eq!(usage.rows[0].operation.as_str(), "generate_step_template");
    assert_eq!(usage.rows[0].provider_name, "OpenAI");
}

#[sqlx::test(migrations = "../../migrations")]
async fn anthropic_messages_with_an_overloaded_retry(pool: PgPool) {
    let app = ai_app(pool).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(529).set_body_json(
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_body(
            "Here is the message:\n{\"body\": \"Hi {{first_name | \\\"there\\\"}}, quick one: free valuation this week?\"}\nHope it helps!",
        )))
        .mount(&server)
        .await;
    let user = app.signup("anthropic@example.com", "Acme").await;
    let p = add_provider(
        &user,
        json!({"name": "Claude", "kind": "anthropic", "base_url": server.uri(), "model": "claude-sonnet-4-5", "secret": KEY}),
    )
    .await;
    assert_eq!(p.api_version, None);
    use_provider(&user, p.id, false).await;
    let res = user
        .post(
            "/api/v1/ai/generate/step-template",
            json!({"campaign": {"offer": "free valuation"}, "step": {"channel": "whatsapp"}}),
        )
        .await;
    let text = res.text().await.unwrap();
    let r: DraftResult = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"));
    assert_eq!(r.draft.subject, None);
    assert!(r.draft.body.starts_with("Hi {{first_name"));
    assert_eq!(
        (
            r.provenance.tokens_in,
            r.provenance.tokens_out,
            r.provenance.attempts
        ),
        (12, 6, 2)
    );
    let sent: Value = server.received_requests().await.unwrap()[1]
        .body_json()
        .unwrap();
    assert_eq!(sent["max_tokens"], 1024);
    assert!(sent["system"].as_str().unwrap().contains("JSON"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn vendor_errors_become_clear_errors_and_are_recorded(pool: PgPool) {
    let app = ai_app(pool).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": "Incorrect API key provided: sk-test-****9876. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})))
        .expect(1)
        .mount(&server)
        .await;
    let (user, _) = openai_setup(&app, &server).await;
    let err = expect_error(
        generate(&user).await,
        StatusCode::BAD_GATEWAY,
        ErrorCode::UpstreamFailed,
    )
    .await;
    assert!(
        err.message.contains("Incorrect API key provided"),
        "{}",
        err.message
    );
    assert!(err.message.contains("401"));
    assert!(!err.message.contains(KEY));
    let usage: UsageSummary = user.get("/api/v1/ai/usage").await.json().await.unwrap();
    assert_eq!((usage.calls, usage.failed), (1, 1));

    // 400: not retried either.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "The model `gpt-9` does not exist", "type": "invalid_request_error"}})))
        .expect(1)
        .mount(&server)
        .await;
    let err = expect_error(
        generate(&user).await,
        StatusCode::BAD_GATEWAY,
        ErrorCode::UpstreamFailed,
    )
    .await;
    assert!(err.message.contains("does not exist"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn rate_limits_honour_retry_after_and_server_errors_retry_then_fail(pool: PgPool) {
    let app = ai_app(pool).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests", "code": "rate_limit_exceeded"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_body(GOOD)))
        .mount(&server)
        .await;
    let (user, _) = openai_setup(&app, &server).await;
    let started = std::time::Instant::now();
    let res = generate(&user).await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: DraftResult = res.json().await.unwrap();
    assert_eq!(r.provenance.attempts, 2);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "waited for Retry-After"
    );

    // A Retry-After beyond what the server allows fails at once.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "60")
                .set_body_json(json!({"error": {"message": "Rate limit reached"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = expect_error(
        generate(&user).await,
        StatusCode::BAD_GATEWAY,
        ErrorCode::UpstreamFailed,
    )
    .await;
    assert!(err.message.contains("429"), "{}", err.message);

    // 500 every time: three attempts, then a clear error.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}})))
        .expect(3)
        .mount(&server)
        .await;
    let err = expect_error(
        generate(&user).await,
        StatusCode::BAD_GATEWAY,
        ErrorCode::UpstreamFailed,
    )
    .await;
    assert!(err.message.contains("after 3 attempt"), "{}", err.message);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_slow_provider_times_out(pool: PgPool) {
    let app = spawn_app_with(
        pool,
        &[
            ("AURA_ALLOW_PRIVATE_AI_URLS", "true"),
            ("AURA_AI_TIMEOUT_SECS", "1"),
            ("AURA_AI_MAX_ATTEMPTS", "2"),
        ],
    )
    .await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(openai_body(GOOD))
                .set_delay(std::time::Duration::from_secs(3)),
        )
        .expect(2)
        .mount(&server)
        .await;
    let (user, _) = openai_setup(&app, &server).await;
    let err = expect_error(
        generate(&user).await,
        StatusCode::BAD_GATEWAY,
        ErrorCode::UpstreamFailed,
    )
    .await;
    assert!(
        err.message
            .contains("did not answer within 1 seconds (2 attempt(s))"),
        "{}",
        err.message
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn malformed_output_gets_one_corrective_retry_then_fails_or_falls_back(pool: PgPool) {
    let app = ai_app(pool).await;
    let server = MockServer::start().await;
    // Prose without JSON, then a usable answer.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_body(
            "Sure! I'd write something friendly about valuations.",
        )))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_body(GOOD)))
        .mount(&server)
        .await;
    let (user, provider) = openai_setup(&app, &server).await;
    let res = generate(&user).await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: DraftResult = res.json().await.unwrap();
    assert_eq!(r.provenance.attempts, 2);
    assert_eq!(r.provenance.tokens_in, 38, "tokens of both calls count");
    let second: Value = server.received_requests().await.unwrap()[1]
        .body_json()
        .unwrap();
    assert!(second["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("no JSON object"));

    // A 2,000-character subject twice: refused with the reason.
    server.reset().await;
    let long = format!(
        "{{\"subject\": \"{}\", \"body\": \"Hello\"}}",
        "x".repeat(2000)
    );
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_body(&long)))
        .expect(2)
        .mount(&server)
        .await;
    let err = expect_error(
        generate(&user).await,
        StatusCode::BAD_GATEWAY,
        ErrorCode::UpstreamFailed,
    )
    .await;
    assert!(err.message.contains("2000 characters"), "{}", err.message);

    // A missing body and an unknown merge tag: also refused.
    for bad in [
        "{\"subject\": \"Hi\"}",
        "{\"subject\": \"Hi\", \"body\": \"Hi {{frist_name}}\"}",
    ] {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(openai_body(bad)))
            .expect(2)
            .mount(&server)
            .await;
        let err = expect_error(
            generate(&user).await,
            StatusCode::BAD_GATEWAY,
            ErrorCode::UpstreamFailed,
        )
        .await;
        assert!(
            err.message.contains("body") || err.message.contains("merge-tag"),
            "{}",
            err.message
        );
    }

    // With the fallback enabled, the built-in writer answers, labelled.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(openai_body("{\"subject\": \"Hi\"}")),
        )
        .expect(2)
        .mount(&server)
        .await;
    use_provider(&user, provider.id, true).await;
    let res = generate(&user).await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: DraftResult = res.json().await.unwrap();
    assert!(r.provenance.fell_back);
    assert_eq!(r.provenance.label, "Built-in writer");
    let usage: UsageSummary = user.get("/api/v1/ai/usage").await.json().await.unwrap();
    assert_eq!(usage.rows.iter().map(|r| r.fallbacks).sum::<i64>(), 1);
}

/// Matches a request whose `X-Aura-Signature` is right for `secret`.
struct Signed(&'static str);

impl wiremock::Match for Signed {
    fn matches(&self, req: &Request) -> bool {
        let ts = req
            .headers
            .get("x-aura-timestamp")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok());
        let sig = req
            .headers
            .get("x-aura-signature")
            .and_then(|v| v.to_str().ok());
        match (ts, sig) {
            (Some(ts), Some(sig)) => signature(self.0, ts, &req.body) == sig,
            _ => false,
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn custom_endpoint_receives_a_signed_task_with_knowledge(pool: PgPool) {
    let app = ai_app(pool).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/aura"))
        .and(Signed("whsec-owner-gpt"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"subject": "Your home, {{first_name | \"neighbour\"}}", "body": "From our own GPT. {{first_name | \"Hi\"}}!"})))
        .mount(&server)
        .await;
    let user = app.signup("custom@example.com", "Acme").await;
    let res = user
        .post("/api/v1/ai/knowledge", json!({"title": "Spring market report", "topic": "market", "content": "Austin homes sold in 21 days on average this spring. Valuations are free."}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    user.post(
        "/api/v1/ai/knowledge",
        json!({"title": "Office hours", "content": "We answer phones from 9 to 5."}),
    )
    .await;
    let p = add_provider(
        &user,
        json!({"name": "Owner GPT", "kind": "custom", "base_url": format!("{}/hooks/aura", server.uri()), "secret": "whsec-owner-gpt"}),
    )
    .await;
    use_provider(&user, p.id, false).await;
    let res = generate(&user).await;
    let text = res.text().await.unwrap();
    let r: DraftResult = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"));
    assert_eq!(
        r.draft.subject.as_deref(),
        Some("Your home, {{first_name | \"neighbour\"}}")
    );
    assert_eq!(
        r.provenance.knowledge,
        vec!["Spring market report".to_string()]
    );
    let task: Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(task["operation"], "generate_step_template");
    assert_eq!(
        task["campaign"]["offer"],
        "a free valuation and a sale in 21 days"
    );
    assert_eq!(task["use_merge_tags"], true);
    assert_eq!(task["knowledge"][0]["title"], "Spring market report");

    // A wrong secret does not match the stand-in's signature check.
    user.patch(
        &format!("/api/v1/ai/providers/{}", p.id),
        json!({"secret": "wrong-secret"}),
    )
    .await;
    expect_error(
        generate(&user).await,
        StatusCode::BAD_GATEWAY,
        ErrorCode::UpstreamFailed,
    )
    .await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn internal_addresses_are_refused_without_a_connection(pool: PgPool) {
    let app = spawn_app_strict(pool.clone()).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_body(GOOD)))
        .mount(&server)
        .await;
    let user = app.signup("ssrf@example.com", "Acme").await;
    let port = server.address().port();
    for url in [
        format!("http://127.0.0.1:{port}/v1"),
        format!("http://localhost:{port}/v1"),
        format!("http://[::1]:{port}/v1"),
        format!("http://2130706433:{port}/v1"),
        format!("http://0177.0.0.1:{port}/v1"),
        "http://10.0.0.5/v1".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
    ] {
        let res = user
            .post(
                "/api/v1/ai/providers",
                json!({"name": "x", "kind": "openai", "base_url": url, "model": "m"}),
            )
            .await;
        let err = expect_error(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
        )
        .await;
        assert!(
            err.fields.unwrap()["base_url"].contains("AURA_OUTBOUND_ALLOW"),
            "{url}"
        );
    }
    // A configuration stored before the operator disallowed private addresses is refused at call time.
    let org: uuid::Uuid = sqlx::query_scalar("select id from organizations")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("insert into ai_providers (org_id, id, name, kind, base_url, model) values ($1, $2, 'Old', 'openai', $3, 'm')")
        .bind(org)
        .bind(uuid::Uuid::now_v7())
        .bind(format!("http://localhost:{port}/v1"))
        .execute(&pool)
        .await
        .unwrap();
    let providers: Vec<AiProviderConfig> =
        user.get("/api/v1/ai/providers").await.json().await.unwrap();
    let test: Value = user
        .post(
            &format!("/api/v1/ai/providers/{}/test", providers[0].id),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(test["ok"], false);
    assert!(
        test["message"].as_str().unwrap().contains("refused"),
        "{test}"
    );
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "no connection was made"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn test_connection_reports_success_and_failure(pool: PgPool) {
    let app = ai_app(pool).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_body("{\"body\": \"OK\"}")))
        .mount(&server)
        .await;
    let (user, p) = openai_setup(&app, &server).await;
    let ok: Value = user
        .post(&format!("/api/v1/ai/providers/{}/test", p.id), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["model"], "gpt-4o-mini-2024-07-18");
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Incorrect API key provided"}})),
        )
        .mount(&server)
        .await;
    let bad: Value = user
        .post(&format!("/api/v1/ai/providers/{}/test", p.id), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bad["ok"], false);
    assert!(bad["message"].as_str().unwrap().contains("credentials"));
    let usage: UsageSummary = user.get("/api/v1/ai/usage").await.json().await.unwrap();
    assert_eq!((usage.calls, usage.failed), (2, 1));
}

#[sqlx::test(migrations = "../../migrations")]
async fn builtin_writer_is_the_default_and_personalises_for_a_lead(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("builtin@example.com", "Acme Realty").await;
    let personas: Vec<Persona> = user.get("/api/v1/ai/personas").await.json().await.unwrap();
    let names: Vec<&str> = personas.iter().map(|p| p.name.as_str()).collect();
    for expected in ["Hormozi", "Sales Agent", "Viral", "Conversational"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let hormozi = personas.iter().find(|p| p.name == "Hormozi").unwrap();
    let contact = user
        .create_contact(
            json!({"email": "maria@example.com", "first_name": "Maria", "company": "Lopez Homes"}),
        )
        .await;
    let mut body = step_body();
    body["persona_id"] = json!(hormozi.id);
    body["contact_id"] = json!(contact.id);
    let res = user.post("/api/v1/ai/generate/message", body.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: DraftResult = res.json().await.unwrap();
    assert_eq!(r.provenance.label, "Built-in writer");
    assert!(r.draft.body.contains("Maria"), "{}", r.draft.body);
    assert!(!r.draft.body.contains("{{") && !r.draft.subject.as_deref().unwrap().contains("{{"));
    assert!(
        r.draft
            .body
            .to_lowercase()
            .contains("a free valuation and a sale in 21 days"),
        "the offer is in the copy: {}",
        r.draft.body
    );
    assert!(
        r.draft.body.contains("spring market"),
        "instructions' mention: {}",
        r.draft.body
    );

    // The template keeps merge tags; the same inputs give the same copy.
    let t1: DraftResult = user
        .post("/api/v1/ai/generate/step-template", body.clone())
        .await
        .json()
        .await
        .unwrap();
    let t2: DraftResult = user
        .post("/api/v1/ai/generate/step-template", body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t1.draft, t2.draft);
    assert!(t1.draft.body.contains("{{first_name"));

    // A lead is required for a personalised message; unknown personas and contacts are named.
    let err = expect_error(
        user.post("/api/v1/ai/generate/message", step_body()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("contact_id"));
    let mut bad = step_body();
    bad["persona_id"] = json!(uuid::Uuid::now_v7());
    let err = expect_error(
        user.post("/api/v1/ai/generate/step-template", bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("persona_id"));

    // Improve, suggest, classify.
    let improved: DraftResult = user
        .post("/api/v1/ai/improve", json!({"channel": "sms", "goal": "more_compliant", "text": "FREE valuation!!! Act now"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        improved.draft.body.contains("Reply STOP"),
        "{}",
        improved.draft.body
    );
    assert!(!improved.draft.body.contains("!!!"));
    let replies: RepliesResult = user
        .post(
            "/api/v1/ai/suggest-replies",
            json!({"channel": "email", "contact_id": contact.id, "conversation": [
            {"direction": "outbound", "text": "Would a free valuation help?"},
            {"direction": "inbound", "text": "Yes, sounds good. Can you call me tomorrow?"}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replies.replies.len(), 3);
    assert!(
        replies.replies[0].contains("Maria"),
        "{:?}",
        replies.replies
    );
    let c: ClassifyResult = user
        .post(
            "/api/v1/ai/classify",
            json!({"text": "Please remove me from your list.\n\nOn Tue, Ann wrote:\n> Hi"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c.classification.label.as_str(), "unsubscribe");
    assert!(c.provenance.is_none(), "rules decided without a model");
    let c: ClassifyResult = user
        .post(
            "/api/v1/ai/classify",
            json!({"text": "How much does the valuation cost?"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c.classification.label.as_str(), "question");
    assert_eq!(c.provenance.unwrap().label, "Built-in writer");
}

#[sqlx::test(migrations = "../../migrations")]
async fn personas_and_knowledge_crud(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("personas@example.com", "Acme").await;
    let res = user.post("/api/v1/ai/personas", json!({"name": "Listing pro", "system_prompt": "You sell listings.", "style": "consultative", "channels": ["email", "email", "sms"]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let p: Persona = res.json().await.unwrap();
    assert_eq!(p.channels.len(), 2);
    let dup: Persona = user
        .post(
            &format!("/api/v1/ai/personas/{}/duplicate", p.id),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dup.name, "Listing pro (copy)");
    let dup2: Persona = user
        .post(
            &format!("/api/v1/ai/personas/{}/duplicate", p.id),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dup2.name, "Listing pro (copy 2)");
    let err = expect_error(
        user.post(
            "/api/v1/ai/personas",
            json!({"name": "listing PRO", "system_prompt": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("name"));
    let before = app.row_counts().await;
    let err = expect_error(
        user.patch(
            &format!("/api/v1/ai/personas/{}", p.id),
            json!({"temperature": 3.5, "channels": [], "provider_id": uuid::Uuid::now_v7()}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let fields = err.fields.unwrap();
    assert!(
        fields.contains_key("temperature") && fields.contains_key("channels"),
        "{fields:?}"
    );
    assert_eq!(app.row_counts().await, before);
    let res = user
        .patch(
            &format!("/api/v1/ai/personas/{}", p.id),
            json!({"system_prompt": "New prompt", "can_auto_reply": true}),
        )
        .await;
    let saved: Persona = res.json().await.unwrap();
    assert_eq!(
        (
            saved.system_prompt.as_str(),
            saved.can_auto_reply,
            saved.name.as_str()
        ),
        ("New prompt", true, "Listing pro")
    );
    assert_eq!(
        user.delete(&format!("/api/v1/ai/personas/{}", p.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        user.get(&format!("/api/v1/ai/personas/{}", p.id))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    for (title, content) in [
        ("Pricing", "Our commission is 2% and valuations are free."),
        ("Pet policy", "Rentals allow cats and small dogs."),
    ] {
        assert_eq!(
            user.post(
                "/api/v1/ai/knowledge",
                json!({"title": title, "content": content})
            )
            .await
            .status(),
            StatusCode::CREATED
        );
    }
    let found: Vec<Value> = user
        .get("/api/v1/ai/knowledge?q=commission")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["title"], "Pricing");
    let all: Vec<Value> = user.get("/api/v1/ai/knowledge").await.json().await.unwrap();
    assert_eq!(all.len(), 2);
    let err = expect_error(
        user.post("/api/v1/ai/knowledge", json!({"title": " "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let fields = err.fields.unwrap();
    assert!(fields.contains_key("title") && fields.contains_key("content"));

    // Providers: admins only; the built-in writer is not a configuration; models are required.
    let err = expect_error(
        user.post(
            "/api/v1/ai/providers",
            json!({"name": "x", "kind": "builtin", "base_url": "https://8.8.8.8"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("kind"));
    let err = expect_error(
        user.post(
            "/api/v1/ai/providers",
            json!({"name": "x", "kind": "openai", "base_url": "https://8.8.8.8/v1"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("model"));
    let member = app
        .add_member(&user, "member-ai@example.com", "member")
        .await;
    expect_error(member.post("/api/v1/ai/providers", json!({"name": "x", "kind": "openai", "base_url": "https://8.8.8.8/v1", "model": "m"})).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    let err = expect_error(
        user.get("/api/v1/ai/usage?month=2026-13").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("month"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn redirects_are_not_followed(pool: PgPool) {
    let app = ai_app(pool).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", "http://169.254.169.254/latest/meta-data/"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (user, _) = openai_setup(&app, &server).await;
    let err = expect_error(
        generate(&user).await,
        StatusCode::BAD_GATEWAY,
        ErrorCode::UpstreamFailed,
    )
    .await;
    assert!(err.message.contains("redirect"), "{}", err.message);
}

#[sqlx::test(migrations = "../../migrations")]
async fn one_organization_has_a_limited_number_of_calls_in_flight(pool: PgPool) {
    let app = spawn_app_with(
        pool,
        &[
            ("AURA_ALLOW_PRIVATE_AI_URLS", "true"),
            ("AURA_AI_CONCURRENCY", "1"),
        ],
    )
    .await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(openai_body(GOOD))
                .set_delay(std::time::Duration::from_millis(400)),
        )
        .expect(3)
        .mount(&server)
        .await;
    let (user, _) = openai_setup(&app, &server).await;
    let started = std::time::Instant::now();
    let (a, b, c) = tokio::join!(generate(&user), generate(&user), generate(&user));
    for r in [a, b, c] {
        assert_eq!(r.status(), StatusCode::OK);
    }
    // With one call in flight at a time the three 400 ms answers cannot overlap.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1200),
        "calls overlapped: {:?}",
        started.elapsed()
    );
}

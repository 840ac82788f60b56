//! What a stranger with an organization of their own tries: the outbound network policy, who is
//! calling behind a proxy, API keys outliving their creator, links outliving a key rotation,
//! bounded forms and all-or-nothing imports. Each refusal shows that nothing was written.

use crate::helpers::*;
use aura_types::{ApiKey, CreatedApiKey, ErrorCode, MailboxTest};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A listener on loopback that counts the connections it receives (and answers none).
struct Listener {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

async fn listener() -> Listener {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = l.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    Listener { port, accepted }
}

fn smtp_mailbox(host: &str, port: u16) -> Value {
    json!({"kind": "smtp", "from_name": "Dana", "from_email": format!("dana-{}@acme.test", uuid::Uuid::now_v7()),
           "smtp": {"host": host, "port": port, "security": "starttls"},
           "limits": {"daily_limit": 100, "ramp_start": 0, "ramp_step": 0, "min_interval_secs": 0, "jitter_secs": 0}})
}

#[sqlx::test(migrations = "../../migrations")]
async fn internal_hosts_are_refused_when_saved_in_every_spelling(pool: PgPool) {
    let app = spawn_app_strict(pool).await;
    let owner = app.signup("owner@acme.test", "Acme").await;
    let before = app.snapshot().await;
    for host in [
        "127.0.0.1",
        "localhost",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "0251.0376.0251.0376",
        "[::1]",
        "::ffff:127.0.0.1",
        "[fd00:ec2::254]",
        "fc00::1",
        "fe80::1",
        "224.0.0.1",
    ] {
        let err = expect_error(
            owner
                .post("/api/v1/mailboxes", smtp_mailbox(host, 25))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
        )
        .await;
        let fields = err.fields.unwrap_or_default();
        assert!(
            fields
                .get("smtp.host")
                .is_some_and(|m| m.contains("AURA_OUTBOUND_ALLOW")),
            "{host}: {fields:?}"
        );
    }
    // The IMAP side is the same policy.
    let mut body = smtp_mailbox("smtp.example.com", 587);
    body["imap"] = json!({"host": "10.0.0.8", "port": 993, "security": "tls"});
    let err = expect_error(
        owner.post("/api/v1/mailboxes", body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("imap.host"));
    assert_eq!(app.snapshot().await, before, "a refused host wrote nothing");
    // A public host is accepted (it need not resolve now: it is checked again at every connect).
    let res = owner
        .post("/api/v1/mailboxes", smtp_mailbox("smtp.example.com", 587))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Changing a saved mailbox to an internal host is refused the same way.
    let m: Value = res.json().await.unwrap();
    let err = expect_error(
        owner
            .patch(
                &format!("/api/v1/mailboxes/{}", m["id"].as_str().unwrap()),
                json!({"smtp": {"host": "169.254.169.254"}}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("smtp.host"));
}

/// A mailbox whose host became internal after it was saved (a name re-pointed at loopback, or a
/// row from before the policy): the test refuses at connection time, after resolution, and the
/// loopback listener receives no connection at all. With the administrator's allowance, the
/// same mailbox connects.
#[sqlx::test(migrations = "../../migrations")]
async fn a_refused_host_is_never_connected_to_and_an_allowed_one_is(pool: PgPool) {
    let target = listener().await;
    let app = spawn_app_strict(pool.clone()).await;
    let owner = app.signup("owner@acme.test", "Acme").await;
    let m: Value = owner
        .post(
            "/api/v1/mailboxes",
            smtp_mailbox("smtp.example.com", target.port),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = m["id"].as_str().unwrap().to_owned();
    for host in ["localhost", "127.0.0.1", "0x7f000001"] {
        sqlx::query("update mailboxes set smtp_host = $1")
            .bind(host)
            .execute(&pool)
            .await
            .unwrap();
        let test: MailboxTest = owner
            .post(&format!("/api/v1/mailboxes/{id}/test"), json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert!(!test.ok);
        assert_eq!(test.stages[0].stage, "connect");
        assert!(
            test.stages[0].detail.contains("AURA_OUTBOUND_ALLOW"),
            "{host}: {}",
            test.stages[0].detail
        );
        assert!(!test.stages[0].detail.contains("reached"), "{host}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        target.accepted.load(Ordering::SeqCst),
        0,
        "the policy let a connection through"
    );

    // A member may not run tests at all (they would probe the network): 403.
    let member = app.add_member(&owner, "m@acme.test", "member").await;
    expect_error(
        member
            .post(&format!("/api/v1/mailboxes/{id}/test"), json!({}))
            .await,
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
    )
    .await;

    // The administrator allows loopback: the same mailbox now reaches the listener.
    let allowed = spawn_app_with(pool, &[("AURA_OUTBOUND_ALLOW", "127.0.0.0/8")]).await;
    let owner_again = TestUser {
        base: allowed.address.clone(),
        ..owner
    };
    let test: MailboxTest = owner_again
        .post(&format!("/api/v1/mailboxes/{id}/test"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(test.stages[0].stage, "connect");
    assert!(test.stages[0].detail.contains("reached"), "{test:?}");
    assert_eq!(target.accepted.load(Ordering::SeqCst), 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn ai_provider_tests_need_an_admin(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@acme.test", "Acme").await;
    let provider: Value = owner
        .post(
            "/api/v1/ai/providers",
            json!({"name": "OpenAI", "kind": "openai", "base_url": "https://8.8.8.8/v1", "model": "m", "secret": "sk-0123456789abcdefghijklmn"}),
        )
        .await
        .json()
        .await
        .unwrap();
    // A long key keeps a short hint; that is all of it that is ever shown.
    assert_eq!(
        provider["secret"],
        json!({"set": true, "ends_with": "klmn"})
    );
    let member = app.add_member(&owner, "m@acme.test", "member").await;
    let before = app.snapshot().await;
    expect_error(
        member
            .post(
                &format!(
                    "/api/v1/ai/providers/{}/test",
                    provider["id"].as_str().unwrap()
                ),
                json!({}),
            )
            .await,
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
    )
    .await;
    assert_eq!(app.snapshot().await, before);
}

/// Failed log-ins through a reverse proxy, counted by the address the proxy saw.
async fn fail_login(app: &TestApp, forwarded_for: &str, i: usize) -> StatusCode {
    client()
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": format!("nobody{i}@example.com"), "password": "wrong password!"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[sqlx::test(migrations = "../../migrations")]
async fn behind_a_trusted_proxy_the_throttle_counts_each_client_apart(pool: PgPool) {
    // The tests' client connects from 127.0.0.1: here, that is the proxy.
    let app = spawn_app_with(pool, &[("AURA_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let mut statuses = Vec::new();
    for i in 0..40 {
        // The client wrote a fake first hop; the proxy appended the address it saw.
        statuses.push(fail_login(&app, &format!("6.6.6.{i}, 203.0.113.7"), i).await);
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        30
    );
    // Another person behind the same proxy is not locked out.
    assert_eq!(
        fail_login(&app, "198.51.100.9", 100).await,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_trusted_proxies_forwarded_headers_change_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    for i in 0..30 {
        // Each request claims another client address; none is believed.
        assert_eq!(
            fail_login(&app, &format!("203.0.113.{i}"), i).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        fail_login(&app, "198.51.100.9", 100).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the socket's address is the client's"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_api_key_acts_with_its_creators_current_role_and_dies_with_their_membership(
    pool: PgPool,
) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@acme.test", "Acme").await;
    let admin = app.add_member(&owner, "admin@acme.test", "admin").await;
    let created: CreatedApiKey = admin
        .post("/api/v1/api-keys", json!({"name": "n8n", "role": "admin"}))
        .await
        .json()
        .await
        .unwrap();
    let key = |method: reqwest::Method, path: &str| {
        client()
            .request(method, app.url(path))
            .bearer_auth(&created.token)
    };
    let invite = || {
        key(reqwest::Method::POST, "/api/v1/invitations")
            .json(&json!({"email": "x@acme.test", "role": "member"}))
    };
    // As an admin key it may invite …
    let res = invite().send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // … until its creator is made a member: then it acts as a member.
    let res = owner
        .patch(
            &format!("/api/v1/members/{}", admin.user_id()),
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = invite().send().await.unwrap();
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    let res = key(reqwest::Method::GET, "/api/v1/contacts")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // An admin sees only the keys they created; an owner sees every key.
    let other_admin = app.add_member(&owner, "admin2@acme.test", "admin").await;
    let mine: Vec<ApiKey> = other_admin
        .get("/api/v1/api-keys")
        .await
        .json()
        .await
        .unwrap();
    assert!(mine.is_empty());
    expect_error(
        other_admin
            .delete(&format!("/api/v1/api-keys/{}", created.api_key.id))
            .await,
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
    )
    .await;

    // The creator leaves: the key stops at once (401), and the owner's list says why.
    let res = owner
        .delete(&format!("/api/v1/members/{}", admin.user_id()))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = key(reqwest::Method::GET, "/api/v1/contacts")
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
    let all: Vec<ApiKey> = owner.get("/api/v1/api-keys").await.json().await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(
        all[0]
            .inactive_reason
            .as_deref()
            .is_some_and(|r| r.contains("no longer a member")),
        "{all:?}"
    );
    // The owner revokes it; a key never manages keys.
    let res = owner
        .delete(&format!("/api/v1/api-keys/{}", created.api_key.id))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let owners_key: CreatedApiKey = owner
        .post("/api/v1/api-keys", json!({"name": "ops", "role": "owner"}))
        .await
        .json()
        .await
        .unwrap();
    let res = client()
        .get(app.url("/api/v1/api-keys"))
        .bearer_auth(&owners_key.token)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_json_import_is_all_or_nothing(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let owner = app.signup("owner@acme.test", "Acme").await;
    // A database failure on the last contact (as a constraint or a lost connection would be).
    sqlx::query(
        "create function refuse_boom() returns trigger language plpgsql as $$
         begin if new.email = 'boom@example.com' then raise exception 'refused'; end if; return new; end $$",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("create trigger refuse_boom before insert on contacts for each row execute function refuse_boom()")
        .execute(&pool)
        .await
        .unwrap();
    let mut contacts: Vec<Value> = (0..6000)
        .map(|i| json!({"email": format!("lead{i}@example.com")}))
        .collect();
    contacts.push(json!({"email": "boom@example.com"}));
    let before = app.snapshot().await;
    let res = owner
        .post("/api/v1/contacts/import", json!({"contacts": contacts}))
        .await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        app.snapshot().await,
        before,
        "not one contact of the request was kept"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn local_phone_numbers_take_the_rows_own_country(pool: PgPool) {
    let app = spawn_app(pool).await;
    // The organization has no country.
    let owner = app.signup("owner@acme.test", "Acme").await;
    let res: Value = owner
        .post(
            "/api/v1/contacts/import",
            json!({"contacts": [
                {"first_name": "Lucía", "phone": "612 345 678", "country": "ES"},
                {"first_name": "Tom", "phone": "(520) 555-0142", "country": "US"},
                {"first_name": "Nadia", "phone": "612 345 679"}
            ]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res["progress"]["created"], 2, "{res}");
    assert_eq!(res["progress"]["invalid"], 1, "{res}");
    let phones: Vec<String> = sqlx::query_scalar("select phone from contacts order by phone")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(phones, vec!["+15205550142", "+34612345678"]);
}

/// Uploads `form` with a small CSV file as its last part.
async fn upload(
    app: &TestApp,
    owner: &TestUser,
    form: reqwest::multipart::Form,
) -> reqwest::Response {
    let file =
        reqwest::multipart::Part::bytes(b"email\na@example.com\n".to_vec()).file_name("a.csv");
    owner
        .client
        .post(app.url("/api/v1/contacts/imports"))
        .bearer_auth(&owner.token)
        .multipart(form.part("file", file))
        .send()
        .await
        .unwrap()
}

/// A multipart body of many tiny fields is refused at the first part past the cap, and a text
/// field past its size at once: nothing is buffered beyond the caps, nothing written.
#[sqlx::test(migrations = "../../migrations")]
async fn forms_are_bounded(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@acme.test", "Acme").await;
    let before = app.snapshot().await;
    // Written by hand: a thousand parts, then the file (a client library nests its parts).
    let mut body = String::new();
    for i in 0..1_000 {
        body.push_str(&format!(
            "--b0undary\r\ncontent-disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n"
        ));
    }
    body.push_str("--b0undary\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nemail\na@example.com\n\r\n--b0undary--\r\n");
    let res = owner
        .client
        .post(app.url("/api/v1/contacts/imports"))
        .bearer_auth(&owner.token)
        .header("content-type", "multipart/form-data; boundary=b0undary")
        .body(body)
        .send()
        .await
        .unwrap();
    let err = expect_error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    assert!(err.message.contains("parts"), "{}", err.message);
    let form = reqwest::multipart::Form::new().text("note", "x".repeat(100_000));
    let res = upload(&app, &owner, form).await;
    expect_error(
        res,
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
    )
    .await;
    assert_eq!(app.snapshot().await, before);
}

#[sqlx::test(migrations = "../../migrations")]
async fn pages_and_answers_carry_the_security_headers(pool: PgPool) {
    let app = spawn_app_with(pool, &[("AURA_PUBLIC_URL", "https://aura.example.com")]).await;
    let page = client().get(app.url("/contacts")).send().await.unwrap();
    let h = page.headers();
    let policy = h["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"));
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    assert!(h["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    let docs = client().get(app.url("/api/docs")).send().await.unwrap();
    assert!(docs.headers().contains_key("content-security-policy"));
    let api = client().get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(
        api.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    // Over http, no HSTS (it would pin a name to https that does not serve it).
    let plain = spawn_app(app.pool.clone()).await;
    let res = client().get(plain.url("/contacts")).send().await.unwrap();
    assert!(!res.headers().contains_key("strict-transport-security"));
}

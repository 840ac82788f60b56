use aura_api::{config::Settings, startup::Application};
use aura_types::{ErrorBody, ErrorCode, Session};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashMap;

pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &str = "test-secret-key-test-secret-key-0123456789";

pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    /// The application's AI machinery, for running its background workers in the test.
    pub ai: std::sync::Arc<aura_api::ai::AiRuntime>,
    pub sealer: std::sync::Arc<aura_api::crypto::Sealer>,
    /// The application's settings, for running its workers in the test.
    pub settings: std::sync::Arc<Settings>,
    /// The clock the application's business rules read (enrollment, ramp-up): the real time
    /// until the test sets it; `deliver_at` moves it.
    pub clock: aura_api::clock::Clock,
}

/// Monday 30 November 2026, 10:00 in New York (15:00 UTC), the moment the delivery tests send
/// at — moved by `AURA_TEST_SHIFT_WEEKS` whole weeks (e.g. -52 or 52), which proves that no test
/// depends on the real date: the suite passes with the moment a year in the past or the future.
pub fn monday_10am_ny() -> time::OffsetDateTime {
    let weeks: i64 = std::env::var("AURA_TEST_SHIFT_WEEKS")
        .ok()
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or(0);
    let at = time::macros::datetime!(2026-11-30 15:00 UTC) + time::Duration::weeks(weeks);
    // New York is on standard time (UTC-5) on the last Monday of November of any year.
    assert_eq!(at.weekday(), time::Weekday::Monday);
    at
}

/// Starts the real application on port 0 against `pool`, with settings overridden by `vars`.
pub async fn spawn_app_with(pool: PgPool, vars: &[(&str, &str)]) -> TestApp {
    let (test_app, app) = build_app(pool, vars);
    tokio::spawn(app.run_until_stopped());
    test_app
}

/// Starts the real application and answers what stops it and its end (after a graceful stop).
pub fn spawn_stoppable_app(
    pool: PgPool,
) -> (
    TestApp,
    actix_web::dev::ServerHandle,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let (test_app, app) = build_app(pool, &[]);
    let handle = app.handle();
    let stopped = tokio::spawn(app.run_until_stopped());
    (test_app, handle, stopped)
}

/// The real application on port 0 against `pool`, with settings overridden by `vars`, built
/// but not yet running.
fn build_app(pool: PgPool, vars: &[(&str, &str)]) -> (TestApp, Application) {
    let static_dir =
        std::env::temp_dir().join(format!("aura-test-static-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&static_dir).unwrap();
    std::fs::write(
        static_dir.join("index.html"),
        "<!doctype html><title>Aura</title><div id=app></div>",
    )
    .unwrap();
    std::fs::write(
        static_dir.join("aura-web-0123456789abcdef.js"),
        "console.log('aura')",
    )
    .unwrap();
    // A built wasm with the brotli and gzip copies the build writes beside it (their bytes are
    // markers: the server sends a copy as it is).
    for (name, bytes) in [
        (
            "aura-web-0123456789abcdef_bg.wasm",
            &b"\0asm-the-file-itself"[..],
        ),
        ("aura-web-0123456789abcdef_bg.wasm.br", b"the-brotli-copy"),
        ("aura-web-0123456789abcdef_bg.wasm.gz", b"the-gzip-copy"),
    ] {
        std::fs::write(static_dir.join(name), bytes).unwrap();
    }
    let mut map: HashMap<String, String> = HashMap::from([
        ("AURA_SECRET_KEY".into(), SECRET.into()),
        ("AURA_BIND".into(), "127.0.0.1:0".into()),
        ("AURA_HTTP_WORKERS".into(), "1".into()),
        ("AURA_STATIC_DIR".into(), static_dir.display().to_string()),
        ("AURA_LOG".into(), "warn".into()),
        // The tests' SMTP servers and stand-ins listen on loopback, which the network policy
        // refuses unless the administrator allows it; the policy tests start without this.
        ("AURA_OUTBOUND_ALLOW".into(), "127.0.0.1, ::1".into()),
        (
            "AURA_OUTBOX_DIR".into(),
            static_dir.join("outbox").display().to_string(),
        ),
    ]);
    for (k, v) in vars {
        map.insert((*k).into(), (*v).into());
    }
    let settings = Settings::from_lookup(|k| map.get(k).cloned()).unwrap();
    aura_api::telemetry::init(settings.log_format, &settings.log_filter);
    let clock = aura_api::clock::Clock::manual(time::OffsetDateTime::now_utc());
    let app = Application::build_with_clock(settings.clone(), pool.clone(), clock.clone()).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let (ai, sealer) = (app.ai(), app.sealer());
    let test_app = TestApp {
        address,
        pool,
        ai,
        sealer,
        settings: std::sync::Arc::new(settings),
        clock,
    };
    (test_app, app)
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, &[]).await
}

/// The application with the network policy as an installation has it by default: no private
/// address allowed, loopback included.
pub async fn spawn_app_strict(pool: PgPool) -> TestApp {
    spawn_app_with(pool, &[("AURA_OUTBOUND_ALLOW", "")]).await
}

/// A browser-like client: keeps cookies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A signed-in person with their own cookie jar and access token.
pub struct TestUser {
    pub client: reqwest::Client,
    pub token: String,
    pub session: Session,
    pub base: String,
}

impl TestUser {
    pub fn org_id(&self) -> aura_types::OrgId {
        self.session.me.active_organization_id
    }

    pub fn user_id(&self) -> aura_types::UserId {
        self.session.me.user.id
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.call(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Response {
        self.call(Method::DELETE, path, None).await
    }

    /// Uploads `bytes` as the `file` field of a multipart form, with extra text fields.
    pub async fn upload(
        &self,
        path: &str,
        filename: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
        );
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Creates a contact and returns it (panics unless 201).
    pub async fn create_contact(&self, body: Value) -> aura_types::Contact {
        let res = self.post("/api/v1/contacts", body).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Replaces the session (after switching organization, refreshing…).
    pub fn adopt(&mut self, session: Session) {
        self.token = session.access_token.clone();
        self.session = session;
    }
}

impl TestApp {
    /// Runs the background import worker until no import is waiting.
    pub async fn run_imports_until_idle(&self) {
        aura_api::workers::import::run_until_idle(&self.pool)
            .await
            .unwrap();
    }

    /// Runs the background preparation worker until no preparation is waiting.
    pub async fn run_preparations_until_idle(&self) {
        aura_api::workers::prepare::run_until_idle(&self.pool, &self.ai)
            .await
            .unwrap();
    }

    /// The application's email sender, as a worker runs it.
    pub fn sender(&self) -> aura_api::workers::send::Sender {
        aura_api::workers::send::Sender::new(
            self.pool.clone(),
            self.settings.clone(),
            self.sealer.clone(),
        )
    }

    /// The application's text sender (SMS and WhatsApp), as a worker runs it.
    pub fn text_sender(&self) -> aura_api::workers::text::TextSender {
        aura_api::workers::text::TextSender::new(
            self.pool.clone(),
            self.settings.clone(),
            self.sealer.clone(),
            self.settings.twilio().unwrap(),
        )
    }

    /// Runs the text sender until no text due at `now` waits. A number sends at its pace, so
    /// while only that pace holds texts back the sender's clock moves on a second at a time
    /// (as the real one does), never past the next minute.
    pub async fn send_texts_at(&self, now: time::OffsetDateTime) {
        let sender = self.text_sender();
        for s in 0..60 {
            sender
                .run_until_idle(now + time::Duration::seconds(s))
                .await
                .unwrap();
            // Answers written in the inbox may wait a few seconds for their number's pace.
            let waiting: i64 = sqlx::query_scalar(
                "select (select count(*) from campaign_messages
                         where status = 'queued' and phone_number_id is not null and locked_until is null
                           and send_after <= $1)
                      + (select count(*) from conversation_replies
                         where status = 'queued' and channel <> 'email' and locked_until is null
                           and send_after <= $1 + interval '1 minute')",
            )
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .unwrap();
            if waiting == 0 {
                break;
            }
        }
    }

    /// Runs the scheduler and the senders until none has anything to do at `now`.
    pub async fn deliver_at(&self, now: time::OffsetDateTime) {
        self.clock.set(now);
        let sender = self.sender();
        loop {
            aura_api::workers::schedule::run_until_idle(&self.pool, now)
                .await
                .unwrap();
            sender.run_until_idle(now).await.unwrap();
            self.send_texts_at(now).await;
            let due: i64 = sqlx::query_scalar(
                "select count(*) from campaign_targets t join campaigns c on c.org_id = t.org_id and c.id = t.campaign_id
                 where t.status = 'active' and c.status = 'active' and t.next_run_at <= $1",
            )
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .unwrap();
            if due == 0 {
                break;
            }
        }
        // A last turn sees the leads the sender just finished (and completes their campaigns).
        aura_api::workers::schedule::run_until_idle(&self.pool, now)
            .await
            .unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, client: &reqwest::Client, path: &str, body: Value) -> Response {
        client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn signup(&self, email: &str, org: &str) -> TestUser {
        let client = client();
        let res = self
            .post_json(
                &client,
                "/api/v1/auth/signup",
                json!({"email": email, "password": PASSWORD, "name": "Test Person", "organization_name": org}),
            )
            .await;
        self.user_from(client, res, StatusCode::CREATED).await
    }

    /// The signed-in person a session response (sign-up, accepted invitation) stands for.
    async fn user_from(
        &self,
        client: reqwest::Client,
        res: Response,
        expected: StatusCode,
    ) -> TestUser {
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, expected, "no session: {text}");
        let session: Session = serde_json::from_str(&text).unwrap();
        TestUser {
            client,
            token: session.access_token.clone(),
            session,
            base: self.address.clone(),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        let client = client();
        self.post_json(
            &client,
            "/api/v1/auth/login",
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Invites `email` into `inviter`'s organization with `role` and accepts as a new account.
    pub async fn add_member(&self, inviter: &TestUser, email: &str, role: &str) -> TestUser {
        let res = inviter
            .post("/api/v1/invitations", json!({"email": email, "role": role}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let client = client();
        let res = self
            .post_json(
                &client,
                "/api/v1/auth/invitations/accept",
                json!({"token": token, "name": "New Member", "password": PASSWORD}),
            )
            .await;
        self.user_from(client, res, StatusCode::OK).await
    }

    /// Every table of the schema, read from the catalogue: a table added later is covered
    /// without anyone remembering to list it. Not the migrations' own table, nor the log of
    /// failed log-ins: counting a refused attempt is what that table is for.
    async fn tables(&self) -> Vec<String> {
        let tables: Vec<String> = sqlx::query_scalar(
            "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'public' and c.relkind in ('r', 'p')
               and c.relname not in ('_sqlx_migrations', 'login_failures')
             order by 1",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        assert!(tables.len() >= 29, "only {} tables found", tables.len());
        tables
    }

    /// Rows in every table, to prove a refused request wrote nothing.
    pub async fn row_counts(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for table in self.tables().await {
            let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
                .fetch_one(&self.pool)
                .await
                .unwrap();
            out.push((table, n));
        }
        out
    }

    /// A digest of every row of every table, to prove a refused request changed nothing.
    pub async fn snapshot(&self) -> String {
        let tables = self.tables().await;
        let mut out = String::new();
        for table in tables {
            let rows: Vec<String> =
                sqlx::query_scalar(&format!("select t::text from {table} t order by t::text"))
                    .fetch_all(&self.pool)
                    .await
                    .unwrap();
            out.push_str(&format!("{table}: {rows:?}\n"));
        }
        out
    }
}

/// Asserts the status and the shared error shape, and returns the error.
pub async fn expect_error(
    res: Response,
    status: StatusCode,
    code: ErrorCode,
) -> aura_types::ErrorDetail {
    assert_eq!(res.status(), status, "unexpected status");
    let header_id = res
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = res.text().await.unwrap();
    let body: ErrorBody =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not the error shape ({e}): {text}"));
    assert_eq!(body.error.code, code, "{text}");
    assert!(!body.error.message.is_empty());
    assert!(
        body.error.request_id.is_some(),
        "error without request id: {text}"
    );
    assert_eq!(
        body.error.request_id, header_id,
        "request id differs from the header"
    );
    body.error
}

/// Signs in as the seeded demo user; the session lands in the organization holding the demo
/// campaign.
pub async fn demo_login(app: &TestApp, email: &str, password: &str) -> TestUser {
    let res = client()
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let session: aura_types::Session = res.json().await.unwrap();
    let realty = session
        .me
        .memberships
        .iter()
        .find(|m| m.organization_name == aura_api::seed::DEMO_ORG)
        .unwrap()
        .organization_id;
    // The demo lands where its campaign is: a newcomer's first look at Campaigns is not empty.
    assert_eq!(session.me.active_organization_id, realty);
    TestUser {
        client: client(),
        token: session.access_token.clone(),
        session,
        base: app.address.clone(),
    }
}

/// Runs the demo campaign on the sandbox mailbox and number as `demo`: prepare, approve every message (two emails and a text each),
/// launch, and drive the clock until every enrolled lead's first email is in the Outbox and their
/// text is in the phone outbox (or refused: not every lead agreed to texts). Returns
/// how many leads are enrolled.
pub async fn run_demo_campaign(app: &TestApp, demo: &TestUser) -> i64 {
    let campaigns: Vec<aura_types::Campaign> =
        demo.get("/api/v1/campaigns").await.json().await.unwrap();
    let demo_campaign = campaigns
        .iter()
        .find(|c| c.name == "Open house follow-up")
        .unwrap();
    let url = format!("/api/v1/campaigns/{}", demo_campaign.id);
    let enrolled = demo_campaign.stats.active;
    assert!(enrolled >= 5, "{:?}", demo_campaign.stats);
    assert_eq!(
        demo.post(&format!("{url}/prepare"), serde_json::json!({}))
            .await
            .status(),
        reqwest::StatusCode::ACCEPTED
    );
    app.run_preparations_until_idle().await;
    let approved: aura_types::ReviewResult = demo
        .post(
            &format!("{url}/messages/review"),
            serde_json::json!({"action": "approve", "filter": {}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved.changed, enrolled * 3);
    let res = demo
        .post(
            &format!("{url}/status"),
            serde_json::json!({"status": "active"}),
        )
        .await;
    assert_eq!(
        res.status(),
        reqwest::StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    // The mailbox keeps a second between sends: drive the clock a second at a time, from the
    // next Monday at 15:00 UTC (the seeded leads are due from now): the demo's texts meet the
    // same quiet hours in each lead's country whenever the suite runs.
    let now = time::OffsetDateTime::now_utc();
    let mut start = now.replace_time(time::macros::time!(15:00));
    while start < now || start.weekday() != time::Weekday::Monday {
        start += time::Duration::days(1);
    }
    for s in 0..=enrolled {
        app.deliver_at(start + time::Duration::seconds(s * 2)).await;
    }
    // The text right after each email: the last ones are queued by the last emails.
    app.deliver_at(start + time::Duration::seconds(enrolled * 2 + 2))
        .await;
    enrolled
}

//! Real `aura worker` processes against one database and a real SMTP server on loopback: two
//! workers never send a message twice, and workers killed with SIGKILL mid-campaign leave every
//! message sent exactly once or marked unknown — none lost, none sent twice.

use crate::helpers::*;
use crate::smtp::{self, SmtpSink};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// A campaign of `leads` one-email leads, approved and launched, sending through `sink` as
/// fast as it can, in a window that is open now.
async fn launched(app: &TestApp, sink: &SmtpSink, leads: i64) {
    let user = app.signup("ops@acme.test", "Acme").await;
    let res = user
        .patch(
            "/api/v1/organizations/current",
            json!({"postal_address": "1 Harbor St, Portland, ME"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    sqlx::query(
        "insert into contacts (org_id, id, email, first_name, tags)
         select $1, gen_random_uuid(), 'lead' || n || '@example.org', 'Lead' || n, '{crash}'
         from generate_series(1, $2) as n",
    )
    .bind(user.org_id().0)
    .bind(leads)
    .execute(&app.pool)
    .await
    .unwrap();
    let mailbox: Value = user
        .post(
            "/api/v1/mailboxes",
            json!({"from_name": "Ops", "from_email": "ops@mail.acme.test",
                   "smtp": {"host": "127.0.0.1", "port": sink.port, "security": "none"},
                   "limits": {"daily_limit": 100000, "ramp_start": 0, "ramp_step": 0, "min_interval_secs": 0, "jitter_secs": 0}}),
        )
        .await
        .json()
        .await
        .unwrap();
    // A time zone where it is daytime now, so the whole run is inside 00:00–23:59.
    let hour = time::OffsetDateTime::now_utc().hour();
    let tz = if (2..=21).contains(&hour) {
        "UTC"
    } else {
        "America/Los_Angeles"
    };
    let c: Value = user
        .post(
            "/api/v1/campaigns",
            json!({"name": "Crash", "timezone": tz, "daily_new_leads": 100000,
                   "window": {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = c["campaign"]["id"].as_str().unwrap().to_owned();
    let url = |rest: &str| format!("/api/v1/campaigns/{id}{rest}");
    let res = user
        .post(
            &url("/steps"),
            json!({"channel": "email", "subject": "Hello {{first_name}}",
                   "body": "Hi {{first_name}},\n\nA message of a campaign that is sent exactly once."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let enrolled: Value = user
        .post(
            &url("/targets"),
            json!({"selection": {"filter": {"tags_any": "crash"}}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(enrolled["enrolled"], leads);
    assert_eq!(
        user.post(&url("/prepare"), json!({})).await.status(),
        StatusCode::ACCEPTED
    );
    app.run_preparations_until_idle().await;
    let res = user
        .post(
            &url("/messages/review"),
            json!({"action": "approve", "filter": {}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = user
        .call(
            reqwest::Method::PUT,
            &url("/mailboxes"),
            Some(json!({"mailbox_ids": [mailbox["id"]]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = user
        .post(&url("/status"), json!({"status": "active"}))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
}

fn database_url(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap()
    )
}

fn worker(pool: &PgPool) -> Child {
    Command::new(env!("CARGO_BIN_EXE_aura"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url(pool))
        .env("AURA_SECRET_KEY", SECRET)
        .env("AURA_LOG", "error")
        // The test's SMTP server is on loopback, which only the administrator may allow.
        .env("AURA_OUTBOUND_ALLOW", "127.0.0.1")
        .env("AURA_SEND_LEASE_SECS", "3")
        .env("AURA_SEND_BATCH", "40")
        .env("AURA_SEND_TASKS", "4")
        .env("AURA_SMTP_CONNECTIONS", "2")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn counts(pool: &PgPool) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "select status::text, count(*) from campaign_messages group by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// Waits until no message is queued or being sent (leases of killed workers expire to unknown).
async fn settle(pool: &PgPool, limit: Duration) -> HashMap<String, i64> {
    let start = Instant::now();
    loop {
        let c = counts(pool).await;
        let open = ["approved", "queued", "sending"]
            .iter()
            .map(|s| c.get(*s).copied().unwrap_or(0))
            .sum::<i64>();
        if open == 0 {
            return c;
        }
        assert!(start.elapsed() < limit, "still open after {limit:?}: {c:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every message is sent or unknown; what the server accepted names each Message-ID at most
/// once, every sent message exactly once, and nothing that is not a message of the campaign.
async fn assert_exactly_once(pool: &PgPool, sink: &SmtpSink, total: i64) -> (i64, i64) {
    let rows: Vec<(String, String)> =
        sqlx::query_as("select status::text, '<' || message_id || '>' from campaign_messages")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(i64::try_from(rows.len()).unwrap(), total);
    let mut received: HashMap<String, usize> = HashMap::new();
    for r in sink.accepted() {
        *received.entry(r.header("Message-ID").unwrap()).or_default() += 1;
    }
    let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    let (mut sent, mut unknown) = (0, 0);
    for (status, mid) in &rows {
        match status.as_str() {
            "sent" => {
                sent += 1;
                assert_eq!(
                    received.get(mid),
                    Some(&1),
                    "{mid} is recorded sent but was not received"
                );
            }
            "unknown" => unknown += 1,
            other => panic!("{mid} ended {other}"),
        }
    }
    let known: std::collections::HashSet<&String> = rows.iter().map(|(_, m)| m).collect();
    assert!(
        received.keys().all(|m| known.contains(m)),
        "received a message that is not the campaign's"
    );
    (sent, unknown)
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_workers_never_send_a_message_twice(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let sink = smtp::start(false).await;
    launched(&app, &sink, 400).await;
    let (mut a, mut b) = (worker(&pool), worker(&pool));
    let c = settle(&pool, Duration::from_secs(120)).await;
    a.kill().await.unwrap();
    b.kill().await.unwrap();
    assert_eq!(c.get("sent"), Some(&400), "{c:?}");
    let (sent, unknown) = assert_exactly_once(&pool, &sink, 400).await;
    assert_eq!((sent, unknown), (400, 0));
    assert_eq!(sink.accepted().len(), 400);
}

#[sqlx::test(migrations = "../../migrations")]
async fn workers_killed_mid_campaign_leave_every_message_sent_once_or_unknown(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let sink = smtp::start(false).await;
    launched(&app, &sink, 2000).await;
    // Kill a worker (SIGKILL) again and again while it sends: each after the server has taken a
    // different number of its messages (so at different points of a batch), however fast or
    // slow the machine is.
    let mut kills = 0;
    // Four sending tasks claim 40 each: up to 160 leased at a kill, and the kills after more
    // than that land after outcomes were recorded.
    for more in [1usize, 12, 45, 90, 170, 7, 33, 60] {
        let from = sink.accepted_count();
        let mut w = worker(&pool);
        let start = Instant::now();
        while sink.accepted_count() < from + more {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "worker {kills} sent {} of {more} messages in 60 s",
                sink.accepted_count() - from
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        w.kill().await.unwrap();
        kills += 1;
    }
    let before_final = sink.accepted_count();
    // One worker finishes the campaign (and turns expired leases into unknown).
    let mut last = worker(&pool);
    let c = settle(&pool, Duration::from_secs(180)).await;
    last.kill().await.unwrap();
    let (sent, unknown) = assert_exactly_once(&pool, &sink, 2000).await;
    assert_eq!(sent + unknown, 2000, "{c:?}");
    assert!(
        before_final > 0 && before_final < 2000,
        "the kills happened mid-campaign ({before_final} received before the last worker)"
    );
    println!(
        "crash test: {kills} SIGKILLs ({before_final} received by then), {sent} sent exactly once, {unknown} unknown ({} of them received), {} received in all",
        sink.accepted().len() - usize::try_from(sent).unwrap(),
        sink.accepted().len()
    );
}

//! Email delivery end to end: mailboxes, launch pre-flight, the scheduler (windows in the lead's
//! time zone, caps, ramp-up, rotation, stickiness, threading), the sender against a real SMTP
//! server on loopback (outcomes, retries, bounces, unknown), unsubscribe and tracking links.
//! The clock is driven: workers run at chosen moments, nothing sleeps.

use crate::helpers::*;
use crate::smtp::{self, Options, SmtpSink};
use aura_types::{
    CampaignDetail, Contact, Delivery, ErrorCode, Mailbox, MailboxTest, Message, Page, Preflight,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

async fn ok<T: serde::de::DeserializeOwned>(res: reqwest::Response, status: StatusCode) -> T {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

struct Fx {
    app: TestApp,
    user: TestUser,
    sink: SmtpSink,
    campaign: CampaignDetail,
    mailboxes: Vec<Mailbox>,
}

impl Fx {
    fn url(&self, rest: &str) -> String {
        format!("/api/v1/campaigns/{}{rest}", self.campaign.campaign.id)
    }

    async fn launch(&self) -> reqwest::Response {
        self.user
            .post(&self.url("/status"), json!({"status": "active"}))
            .await
    }

    async fn messages(&self, query: &str) -> Vec<Message> {
        let page: Page<Message> = ok(
            self.user.get(&self.url(&format!("/messages{query}"))).await,
            StatusCode::OK,
        )
        .await;
        page.items
    }

    async fn message_of(&self, lead: &Contact, step: usize) -> Message {
        let mut items = self
            .messages(&format!(
                "?contact_id={}&step_id={}",
                lead.id, self.campaign.steps[step].id
            ))
            .await;
        assert_eq!(items.len(), 1);
        items.remove(0)
    }

    async fn delivery(&self) -> Delivery {
        ok(self.user.get(&self.url("/delivery")).await, StatusCode::OK).await
    }

    async fn target(&self, lead: &Contact) -> Value {
        let page: Value = ok(
            self.user
                .get(&self.url(&format!("/targets?contact_id={}", lead.id)))
                .await,
            StatusCode::OK,
        )
        .await;
        page["items"][0].clone()
    }

    /// Header `name` of what the server received for `lead`, in order.
    fn headers_for(&self, lead: &Contact, name: &str) -> Vec<Option<String>> {
        let email = lead.email.clone().unwrap();
        self.sink
            .received()
            .iter()
            .filter(|r| r.rcpt.contains(&email))
            .map(|r| r.header(name))
            .collect()
    }
}

fn mailbox_body(sink: &SmtpSink, email: &str, limits: Value) -> Value {
    json!({
        "kind": "smtp", "from_name": "Dana Reyes", "from_email": email,
        "reply_to": "replies@acme.test", "signature": "Dana Reyes\nAcme Realty",
        "smtp": {"host": "127.0.0.1", "port": sink.port, "security": "none"},
        "limits": limits
    })
}

/// An instant as the API writes it.
fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn unlimited() -> Value {
    json!({"daily_limit": 1000, "ramp_start": 0, "ramp_step": 0, "min_interval_secs": 0, "jitter_secs": 0})
}

/// An organization with a postal address, `mailboxes` SMTP mailboxes on a loopback server, the
/// leads, a campaign (New York, weekdays 09–17) with `steps`, everyone enrolled, messages
/// prepared and approved, the mailboxes chosen — ready to launch.
async fn fixture(
    pool: PgPool,
    leads: &[Value],
    steps: &[Value],
    campaign: Value,
    mailbox_limits: &[Value],
    options: Options,
) -> (Fx, Vec<Contact>) {
    let app = spawn_app(pool).await;
    // Everything happens on the Monday the tests send at (inside a 09–17 weekday window in New
    // York): enrollment included.
    app.clock.set(monday_10am_ny());
    let sink = smtp::start_with(options).await;
    let user = app.signup("dana@acme.test", "Acme Realty").await;
    let _: Value = ok(
        user.patch(
            "/api/v1/organizations/current",
            json!({"postal_address": "1 Harbor St, Portland, ME 04101", "public_name": "Acme Realty"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mut mailboxes = Vec::new();
    for (i, limits) in mailbox_limits.iter().enumerate() {
        let m: Mailbox = ok(
            user.post(
                "/api/v1/mailboxes",
                mailbox_body(&sink, &format!("dana{i}@mail.acme.test"), limits.clone()),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        mailboxes.push(m);
    }
    let mut contacts = Vec::new();
    for l in leads {
        let mut body = l.clone();
        body["tags"] = json!(["lead"]);
        contacts.push(user.create_contact(body).await);
    }
    let mut body = json!({"name": "Harbor homes", "timezone": "America/New_York",
                          "window": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}});
    for (k, v) in campaign.as_object().unwrap() {
        body[k] = v.clone();
    }
    let mut c: CampaignDetail = ok(
        user.post("/api/v1/campaigns", body).await,
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
    let fx = Fx {
        app,
        user,
        sink,
        campaign: c,
        mailboxes,
    };
    let _: Value = ok(
        fx.user.post(&fx.url("/prepare"), json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    fx.app.run_preparations_until_idle().await;
    let _: Value = ok(
        fx.user
            .post(
                &fx.url("/messages/review"),
                json!({"action": "approve", "filter": {}}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<_> = fx.mailboxes.iter().map(|m| m.id).collect();
    let _: Value = ok(
        fx.user
            .call(
                reqwest::Method::PUT,
                &fx.url("/mailboxes"),
                Some(json!({"mailbox_ids": ids})),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    (fx, contacts)
}

fn two_email_steps() -> Vec<Value> {
    vec![
        json!({"channel": "email", "subject": "Homes near {{city | \"you\"}}",
               "body": "Hi {{first_name}},\n\nNew listings: https://acme.test/listings?area=harbor&beds=3"}),
        json!({"channel": "email", "delay_minutes": 1440, "subject": "Following up",
               "body": "Hi {{first_name}}, did you see the listings?"}),
    ]
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_launched_campaign_sends_threaded_email_in_the_window(pool: PgPool) {
    let (fx, leads) = fixture(
        pool,
        &[
            json!({"email": "ana@example.org", "first_name": "Ana", "city": "Portland", "timezone": "America/New_York"}),
            // Tokyo: 00:00 on Tuesday when it is 10:00 Monday in New York.
            json!({"email": "kenji@example.jp", "first_name": "Kenji", "timezone": "Asia/Tokyo"}),
        ],
        &two_email_steps(),
        json!({"track_opens": true, "track_clicks": true}),
        &[unlimited()],
        Options::default(),
    )
    .await;
    let (ana, kenji) = (&leads[0], &leads[1]);
    let pre: Preflight = ok(fx.user.get(&fx.url("/preflight")).await, StatusCode::OK).await;
    assert!(pre.ready, "{pre:?}");
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;

    fx.app.deliver_at(monday_10am_ny()).await;
    // Ana got step 1; Kenji's window (09–17 Tokyo) is closed, so he waits — nothing queued.
    let got = fx.sink.accepted();
    assert_eq!(got.len(), 1, "{got:?}");
    let first = &got[0];
    assert_eq!(first.rcpt, vec!["ana@example.org".to_owned()]);
    assert_eq!(
        first.header("Subject").as_deref(),
        Some("Homes near Portland")
    );
    assert_eq!(
        first.header("From").as_deref(),
        Some("\"Dana Reyes\" <dana0@mail.acme.test>")
    );
    let mid = first.header("Message-ID").unwrap();
    assert!(
        mid.starts_with('<') && mid.ends_with("@mail.acme.test>"),
        "{mid}"
    );
    let unsubscribe = first.header("List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.contains("/u/")
            && unsubscribe.contains("<mailto:dana0@mail.acme.test?subject=unsubscribe>"),
        "{unsubscribe}"
    );
    assert_eq!(
        first.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(first
        .header("Content-Type")
        .unwrap()
        .starts_with("multipart/alternative"));
    assert!(
        first.data.contains("Content-Type: text/plain")
            && first.data.contains("Content-Type: text/html")
    );
    assert!(
        first.data.contains("1 Harbor St, Portland, ME 04101"),
        "footer with the postal address"
    );
    assert!(
        first.data.contains("Dana Reyes\r\nAcme Realty"),
        "signature in the text part"
    );
    assert!(first.data.contains("/t/o/"), "open pixel");
    assert!(
        first.data.contains("/t/c/"),
        "tracked link in the HTML part"
    );
    assert!(
        first
            .data
            .contains("https://acme.test/listings?area=harbor&beds=3"),
        "the text part keeps the link"
    );
    assert_eq!(first.header("In-Reply-To"), None);

    let m = fx.message_of(ana, 0).await;
    assert_eq!(m.status.as_str(), "sent");
    let k = fx.message_of(kenji, 0).await;
    assert_eq!(k.status.as_str(), "approved");
    let t = fx.target(kenji).await;
    // Next opening: Tuesday 09:00 in Tokyo = Tuesday 00:00 UTC.
    assert_eq!(
        t["next_run_at"],
        rfc3339(monday_10am_ny() + Duration::hours(9)),
        "{t}"
    );

    // Half a day later nothing more is due; Kenji's morning comes, then Ana's follow-up a day on.
    fx.app
        .deliver_at(monday_10am_ny() + Duration::hours(8))
        .await;
    assert_eq!(fx.sink.accepted().len(), 1);
    fx.app
        .deliver_at(monday_10am_ny() + Duration::hours(9))
        .await;
    assert_eq!(
        fx.headers_for(kenji, "Subject"),
        vec![Some("Homes near you".into())]
    );
    fx.app
        .deliver_at(monday_10am_ny() + Duration::hours(24))
        .await;
    let ana_subjects = fx.headers_for(ana, "Subject");
    assert_eq!(
        ana_subjects,
        vec![
            Some("Homes near Portland".into()),
            Some("Following up".into())
        ]
    );
    // The follow-up threads under the first email, from the same mailbox.
    assert_eq!(
        fx.headers_for(ana, "In-Reply-To")[1].as_deref(),
        Some(mid.as_str())
    );
    assert_eq!(
        fx.headers_for(ana, "References")[1].as_deref(),
        Some(mid.as_str())
    );
    assert_eq!(
        fx.headers_for(ana, "From")[1],
        fx.headers_for(ana, "From")[0]
    );
    let t = fx.target(ana).await;
    assert_eq!(t["status"], "completed");
    assert_eq!(t["current_step"], 2);

    fx.app
        .deliver_at(monday_10am_ny() + Duration::hours(33))
        .await;
    let d = fx.delivery().await;
    assert_eq!((d.steps[0].sent, d.steps[1].sent), (2, 2), "{d:?}");
    assert_eq!((d.active, d.completed), (0, 2));
    // Every lead done: the campaign completes.
    let c: CampaignDetail = ok(fx.user.get(&fx.url("")).await, StatusCode::OK).await;
    assert_eq!(c.campaign.status.as_str(), "completed");
    // Sent messages are the record of what went out: review can no longer change them.
    let err = expect_error(
        fx.user
            .patch(
                &fx.url(&format!("/messages/{}", m.id)),
                json!({"text": "Changed"}),
            )
            .await,
        StatusCode::CONFLICT,
        ErrorCode::Conflict,
    )
    .await;
    assert!(
        err.message.contains("completed") || err.message.contains("sent"),
        "{}",
        err.message
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn launch_is_refused_until_the_pre_flight_passes(pool: PgPool) {
    let (fx, _) = fixture(
        pool,
        &[json!({"email": "ana@example.org", "first_name": "Ana"})],
        &two_email_steps()[..1],
        json!({}),
        &[],
        Options::default(),
    )
    .await;
    let pre: Preflight = ok(fx.user.get(&fx.url("/preflight")).await, StatusCode::OK).await;
    let failed: Vec<&str> = pre
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.check.as_str())
        .collect();
    assert_eq!(failed, vec!["mailboxes"], "{pre:?}");
    let snapshot = fx.app.snapshot().await;
    let err = expect_error(fx.launch().await, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    assert!(err.message.contains("mailboxes"), "{}", err.message);
    assert_eq!(fx.app.snapshot().await, snapshot);
    // A paused mailbox does not count.
    let m: Mailbox = ok(
        fx.user
            .post(
                "/api/v1/mailboxes",
                mailbox_body(&fx.sink, "d@mail.acme.test", unlimited()),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let _: Mailbox = ok(
        fx.user
            .patch(
                &format!("/api/v1/mailboxes/{}", m.id),
                json!({"status": "paused"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let _: Value = ok(
        fx.user
            .call(
                reqwest::Method::PUT,
                &fx.url("/mailboxes"),
                Some(json!({"mailbox_ids": [m.id]})),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let err = expect_error(fx.launch().await, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    assert!(err.message.contains("paused"), "{}", err.message);
    let _: Mailbox = ok(
        fx.user
            .patch(
                &format!("/api/v1/mailboxes/{}", m.id),
                json!({"status": "active"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // Unapproved messages block a manual-approval campaign.
    let _: Value = ok(
        fx.user
            .post(
                &fx.url("/messages/review"),
                json!({"action": "reject", "filter": {}}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let err = expect_error(fx.launch().await, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    assert!(err.message.contains("approve"), "{}", err.message);
    let _: Value = ok(
        fx.user
            .post(
                &fx.url("/messages/review"),
                json!({"action": "approve", "filter": {}}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // No postal address: refused (it goes in the footer of every email).
    sqlx::query("update organizations set postal_address = null")
        .execute(&fx.app.pool)
        .await
        .unwrap();
    let err = expect_error(fx.launch().await, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    assert!(err.message.contains("postal address"), "{}", err.message);
    sqlx::query("update organizations set postal_address = '1 Harbor St'")
        .execute(&fx.app.pool)
        .await
        .unwrap();
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn caps_ramp_up_rotation_and_stickiness(pool: PgPool) {
    let leads: Vec<Value> = (0..6)
        .map(|i| json!({"email": format!("lead{i}@example.org"), "first_name": format!("Lead{i}"), "timezone": "America/New_York"}))
        .collect();
    let (fx, contacts) = fixture(
        pool,
        &leads,
        &two_email_steps(),
        json!({"daily_new_leads": 4}),
        // Two mailboxes; the second ramps up from 1 a day (+1 a day).
        &[unlimited(), json!({"daily_limit": 50, "ramp_start": 1, "ramp_step": 1, "min_interval_secs": 0, "jitter_secs": 0})],
        Options::default(),
    )
    .await;
    // The second mailbox was added on Monday (the test's clock): its ramp-up starts then.
    let ramp_from: time::Date =
        sqlx::query_scalar("select ramp_from from mailboxes where ramp_start > 0")
            .fetch_one(&fx.app.pool)
            .await
            .unwrap();
    assert_eq!(ramp_from, monday_10am_ny().date());
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    fx.app.deliver_at(monday_10am_ny()).await;
    // The campaign starts at most 4 leads a day; the ramping mailbox sends 1 of them.
    let got = fx.sink.accepted();
    assert_eq!(got.len(), 4);
    let froms: Vec<String> = got.iter().map(|r| r.header("From").unwrap()).collect();
    assert_eq!(
        froms.iter().filter(|f| f.contains("dana1@")).count(),
        1,
        "{froms:?}"
    );
    assert_eq!(
        froms.iter().filter(|f| f.contains("dana0@")).count(),
        3,
        "{froms:?}"
    );
    // The two left wait for Tuesday's window.
    let waiting: Vec<Value> = {
        let mut v = Vec::new();
        for c in &contacts {
            let t = fx.target(c).await;
            if t["current_step"] == 0 {
                v.push(t);
            }
        }
        v
    };
    assert_eq!(waiting.len(), 2);
    for t in &waiting {
        assert_eq!(
            t["next_run_at"],
            rfc3339(monday_10am_ny() + Duration::hours(23)),
            "{t}"
        );
    }
    // Tuesday: the two new leads start, and everyone's follow-up comes from their first mailbox.
    fx.app
        .deliver_at(monday_10am_ny() + Duration::hours(24))
        .await;
    assert_eq!(fx.sink.accepted().len(), 4 + 2 + 4);
    for c in &contacts {
        let froms = fx.headers_for(c, "From");
        assert!(!froms.is_empty());
        assert!(
            froms.iter().all(|f| f == &froms[0]),
            "{} moved mailbox: {froms:?}",
            c.email.clone().unwrap()
        );
    }
    // The ramping mailbox sent at most its limit each day (1 on Monday, 2 on Tuesday).
    let from_ramping = fx
        .sink
        .accepted()
        .iter()
        .filter(|r| r.header("From").unwrap().contains("dana1@"))
        .count();
    assert!((2..=3).contains(&from_ramping), "{from_ramping}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn pausing_holds_everything_not_yet_handed_over(pool: PgPool) {
    let (fx, contacts) = fixture(
        pool,
        &[json!({"email": "ana@example.org", "first_name": "Ana", "timezone": "America/New_York"})],
        &two_email_steps(),
        json!({}),
        &[unlimited()],
        Options::default(),
    )
    .await;
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    aura_api::workers::schedule::run_until_idle(&fx.app.pool, monday_10am_ny())
        .await
        .unwrap();
    assert_eq!(
        fx.message_of(&contacts[0], 0).await.status.as_str(),
        "queued"
    );
    let _: CampaignDetail = ok(
        fx.user
            .post(&fx.url("/status"), json!({"status": "paused"}))
            .await,
        StatusCode::OK,
    )
    .await;
    fx.app
        .sender()
        .run_until_idle(monday_10am_ny())
        .await
        .unwrap();
    assert!(fx.sink.accepted().is_empty());
    assert_eq!(
        fx.message_of(&contacts[0], 0).await.status.as_str(),
        "queued"
    );
    let _: CampaignDetail = ok(
        fx.user
            .post(&fx.url("/status"), json!({"status": "active"}))
            .await,
        StatusCode::OK,
    )
    .await;
    fx.app.deliver_at(monday_10am_ny()).await;
    assert_eq!(fx.sink.accepted().len(), 1);
}

/// The token of the unsubscribe link in a received message.
fn unsubscribe_token(r: &smtp::Received) -> String {
    let h = r.header("List-Unsubscribe").unwrap();
    let url = h.trim_start_matches('<').split('>').next().unwrap();
    url.rsplit('/').next().unwrap().to_owned()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_lead_who_unsubscribes_between_claim_and_send_gets_nothing(pool: PgPool) {
    let (fx, contacts) = fixture(
        pool,
        &[
            json!({"email": "ana@example.org", "first_name": "Ana", "timezone": "America/New_York"}),
            json!({"email": "ben@example.org", "first_name": "Ben", "timezone": "America/New_York"}),
        ],
        &two_email_steps(),
        json!({}),
        &[unlimited()],
        Options::default(),
    )
    .await;
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    // Ana gets step 1, so that she has an unsubscribe link.
    aura_api::workers::schedule::run_until_idle(&fx.app.pool, monday_10am_ny())
        .await
        .unwrap();
    let sender = fx.app.sender();
    sender.run_until_idle(monday_10am_ny()).await.unwrap();
    assert_eq!(fx.sink.accepted().len(), 2);
    let ana_mail = fx
        .sink
        .accepted()
        .into_iter()
        .find(|r| r.rcpt[0] == "ana@example.org")
        .unwrap();
    // Her follow-up is claimed by a sender …
    let later = monday_10am_ny() + Duration::hours(24);
    aura_api::workers::schedule::run_until_idle(&fx.app.pool, later)
        .await
        .unwrap();
    let claimed = sender.claim(later).await.unwrap();
    assert_eq!(claimed.len(), 2);
    // (Claimed messages are "sending" and no other claim takes them.)
    assert_eq!(
        fx.message_of(&contacts[1], 1).await.status.as_str(),
        "sending"
    );
    assert!(sender.claim(later).await.unwrap().is_empty());
    // … she unsubscribes with one click …
    let res = reqwest::Client::new()
        .post(fx.app.url(&format!("/u/{}", unsubscribe_token(&ana_mail))))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // … and the sender, handing over what it claimed, sends only Ben's.
    let outcomes = sender.deliver(claimed, later).await.unwrap();
    let mut tx = fx.app.pool.begin().await.unwrap();
    aura_api::db::send::record(&mut tx, &outcomes, later)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let got = fx.sink.accepted();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].rcpt, vec!["ben@example.org".to_owned()]);
    let m = fx.message_of(&contacts[0], 1).await;
    assert_eq!(m.status.as_str(), "cancelled");
    let t = fx.target(&contacts[0]).await;
    assert_eq!(t["status"], "completed");
}

#[sqlx::test(migrations = "../../migrations")]
async fn failures_from_the_server_are_retried_bounced_or_left_unknown(pool: PgPool) {
    let (fx, contacts) = fixture(
        pool,
        &[
            json!({"email": "tempfail@example.org", "first_name": "Tess", "timezone": "America/New_York"}),
            json!({"email": "unknown@example.org", "first_name": "Una", "timezone": "America/New_York"}),
            json!({"email": "drop@example.org", "first_name": "Drew", "timezone": "America/New_York"}),
            json!({"email": "busy@example.org", "first_name": "Bea", "timezone": "America/New_York"}),
            json!({"email": "ok@example.org", "first_name": "Olga", "timezone": "America/New_York"}),
        ],
        &two_email_steps(),
        json!({}),
        &[unlimited()],
        Options::default(),
    )
    .await;
    let [tess, una, drew, bea, olga] = [
        &contacts[0],
        &contacts[1],
        &contacts[2],
        &contacts[3],
        &contacts[4],
    ];
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    fx.app.deliver_at(monday_10am_ny()).await;
    // 451 and 421: back in the queue with a backoff.
    for lead in [tess, bea] {
        let m = fx.message_of(lead, 0).await;
        assert_eq!(
            m.status.as_str(),
            "queued",
            "{}",
            lead.email.clone().unwrap()
        );
    }
    let row: (i32, OffsetDateTime, Option<String>) = sqlx::query_as(
        "select attempts, send_after, smtp_reply from campaign_messages m join contacts c on c.id = m.contact_id
         where c.email = 'tempfail@example.org' and m.step_id = $1",
    )
    .bind(fx.campaign.steps[0].id.0)
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    assert_eq!(row.0, 1);
    assert_eq!(row.1, monday_10am_ny() + Duration::seconds(60));
    assert!(row.2.unwrap().contains("451"));
    // 550 5.1.1: bounced, the address suppressed and the lead stopped.
    assert_eq!(fx.message_of(una, 0).await.status.as_str(), "bounced");
    let perm: Value = ok(
        fx.user
            .get("/api/v1/suppressions/check?channel=email&address=unknown@example.org")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(perm["allowed"], false, "{perm}");
    assert_eq!(fx.target(una).await["status"], "completed");
    // Hung up after the data: unknown, never sent again on its own.
    assert_eq!(fx.message_of(drew, 0).await.status.as_str(), "unknown");
    assert_eq!(fx.message_of(olga, 0).await.status.as_str(), "sent");
    // The server offers PIPELINING: each envelope went out in one write.
    assert!(fx.sink.received().iter().all(|r| r.pipelined));
    let dropped = fx
        .sink
        .received()
        .iter()
        .filter(|r| r.rcpt[0] == "drop@example.org")
        .count();
    assert_eq!(dropped, 1);
    // Retries back off 60 s, 120 s, 240 s, 480 s; the fifth failure gives up.
    let mut at = monday_10am_ny();
    for wait in [60, 120, 240, 480] {
        at += Duration::seconds(wait);
        fx.app.deliver_at(at).await;
    }
    let m = fx.message_of(tess, 0).await;
    assert_eq!(m.status.as_str(), "failed");
    let d = fx.delivery().await;
    assert_eq!(
        (
            d.steps[0].sent,
            d.steps[0].failed,
            d.steps[0].bounced,
            d.steps[0].unknown
        ),
        (1, 2, 1, 1),
        "{d:?}"
    );
    assert_eq!(
        fx.sink
            .received()
            .iter()
            .filter(|r| r.rcpt[0] == "drop@example.org")
            .count(),
        1,
        "unknown is never re-sent"
    );
    // A person decides: Drew's first email counts as sent; his follow-up follows a day later.
    let drew_m = fx.message_of(drew, 0).await;
    let res = fx
        .user
        .post(
            &fx.url(&format!("/messages/{}/delivery", drew_m.id)),
            json!({"action": "mark_sent"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(fx.message_of(drew, 0).await.status.as_str(), "sent");
    let res = fx
        .user
        .post(
            &fx.url(&format!("/messages/{}/delivery", drew_m.id)),
            json!({"action": "retry"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(fx.target(drew).await["current_step"], 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn each_message_travels_with_the_next_envelope_and_a_refusal_loses_none(pool: PgPool) {
    let mut leads: Vec<Value> = (0..8)
        .map(|i| {
            json!({"email": format!("ok{i}@example.org"), "first_name": format!("Lead{i}"),
                   "timezone": "America/New_York"})
        })
        .collect();
    leads.push(
        json!({"email": "busy@example.org", "first_name": "Bea", "timezone": "America/New_York"}),
    );
    let (fx, contacts) = fixture(
        pool,
        &leads,
        &two_email_steps(),
        json!({}),
        &[unlimited()],
        Options {
            watch_next_envelope: true,
            ..Options::default()
        },
    )
    .await;
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    fx.app.deliver_at(monday_10am_ny()).await;
    for lead in &contacts[..8] {
        assert_eq!(fx.message_of(lead, 0).await.status.as_str(), "sent");
    }
    // 421 after Bea's data: back in the queue; whatever followed her went out on a new
    // connection, once.
    assert_eq!(
        fx.message_of(&contacts[8], 0).await.status.as_str(),
        "queued"
    );
    let got = fx.sink.received();
    for i in 0..8 {
        let to = format!("ok{i}@example.org");
        let times = got.iter().filter(|r| r.rcpt[0] == to).count();
        assert_eq!(times, 1, "{to} was received {times} times");
    }
    // On each connection, every message's data came with the next message's envelope, before
    // the server had answered the data: one round trip a message.
    let mut runs: std::collections::BTreeMap<usize, Vec<&smtp::Received>> = Default::default();
    for r in &got {
        runs.entry(r.connection).or_default().push(r);
    }
    let mut followed = 0;
    for run in runs.values() {
        for r in &run[..run.len() - 1] {
            assert!(
                r.next_envelope_with_data,
                "{:?} on connection {}",
                r.rcpt, r.connection
            );
            followed += 1;
        }
    }
    assert!(
        followed >= got.len() - 3,
        "{followed} of {}: {runs:?}",
        got.len()
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_server_that_closes_after_so_many_messages_gets_the_rest_on_new_connections(
    pool: PgPool,
) {
    let leads: Vec<Value> = (0..5)
        .map(|i| json!({"email": format!("lead{i}@example.org"), "first_name": "Lee", "timezone": "America/New_York"}))
        .collect();
    let (fx, _) = fixture(
        pool,
        &leads,
        &two_email_steps()[..1],
        json!({}),
        &[unlimited()],
        Options {
            messages_per_connection: Some(2),
            ..Options::default()
        },
    )
    .await;
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    fx.app.deliver_at(monday_10am_ny()).await;
    // Every message went out at once, each exactly once, two a connection: none waited for a
    // retry after the server's 421.
    let received = fx.sink.received();
    let mut to: Vec<String> = received.iter().map(|r| r.rcpt[0].clone()).collect();
    to.sort();
    let expected: Vec<String> = (0..5).map(|i| format!("lead{i}@example.org")).collect();
    assert_eq!(to, expected);
    assert!(received.iter().all(|r| r.accepted));
    let mut connections: Vec<usize> = received.iter().map(|r| r.connection).collect();
    connections.dedup();
    assert!(connections.len() >= 3, "{connections:?}");
    let messages = fx.messages("").await;
    assert_eq!(messages.len(), 5);
    assert!(
        messages.iter().all(|m| m.status.as_str() == "sent"),
        "{messages:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_pipelining_each_command_waits_for_its_answer(pool: PgPool) {
    let (fx, contacts) = fixture(
        pool,
        &[
            json!({"email": "tempfail@example.org", "first_name": "Tess", "timezone": "America/New_York"}),
            json!({"email": "unknown@example.org", "first_name": "Una", "timezone": "America/New_York"}),
            json!({"email": "ok@example.org", "first_name": "Olga", "timezone": "America/New_York"}),
            json!({"email": "ok2@example.org", "first_name": "Omar", "timezone": "America/New_York"}),
        ],
        &two_email_steps(),
        json!({}),
        &[unlimited()],
        Options {
            no_pipelining: true,
            ..Options::default()
        },
    )
    .await;
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    fx.app.deliver_at(monday_10am_ny()).await;
    let status = |i: usize| {
        let fx = &fx;
        let lead = &contacts[i];
        async move { fx.message_of(lead, 0).await.status.as_str().to_owned() }
    };
    assert_eq!(status(0).await, "queued");
    assert_eq!(status(1).await, "bounced");
    assert_eq!(status(2).await, "sent");
    assert_eq!(status(3).await, "sent");
    let got = fx.sink.accepted();
    assert_eq!(got.len(), 2, "{got:?}");
    // Nothing was written ahead of an answer the server never offered to take early.
    assert!(got.iter().all(|r| !r.pipelined), "{got:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_mailbox_that_keeps_failing_authentication_is_paused(pool: PgPool) {
    let (fx, contacts) = fixture(
        pool,
        &[json!({"email": "ana@example.org", "first_name": "Ana", "timezone": "America/New_York"})],
        &two_email_steps(),
        json!({}),
        &[unlimited()],
        Options {
            auth: Some(("dana".into(), "right-password".into())),
            ..Options::default()
        },
    )
    .await;
    let id = fx.mailboxes[0].id;
    let url = format!("/api/v1/mailboxes/{id}");
    // No credentials: the server wants them.
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    let _: Mailbox = ok(
        fx.user
            .patch(
                &url,
                json!({"smtp": {"username": "dana", "password": "wrong"}}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // "Test" names the stage and the server's words.
    let t: MailboxTest = ok(
        fx.user.post(&format!("{url}/test"), json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert!(!t.ok);
    let last = t.stages.last().unwrap();
    assert_eq!(last.stage, "auth");
    assert!(last.detail.contains("535"), "{t:?}");
    let mut at = monday_10am_ny();
    for _ in 0..3 {
        fx.app.deliver_at(at).await;
        at += Duration::hours(1);
    }
    let m: Mailbox = ok(fx.user.get(&url).await, StatusCode::OK).await;
    assert_eq!(m.status.as_str(), "paused", "{m:?}");
    assert!(m
        .paused_reason
        .unwrap()
        .contains("Authentication failed 3 times"));
    assert!(fx.sink.accepted().is_empty());
    assert_eq!(
        fx.message_of(&contacts[0], 0).await.status.as_str(),
        "queued"
    );
    // Fixed and resumed: it goes out.
    let _: Mailbox = ok(
        fx.user
            .patch(
                &url,
                json!({"smtp": {"password": "right-password"}, "status": "active"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let t: MailboxTest = ok(
        fx.user.post(&format!("{url}/test"), json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert!(t.ok, "{t:?}");
    assert_eq!(
        t.stages
            .iter()
            .map(|s| s.stage.as_str())
            .collect::<Vec<_>>(),
        vec!["connect", "ehlo", "auth"]
    );
    fx.app.deliver_at(at + Duration::hours(1)).await;
    assert_eq!(fx.sink.accepted().len(), 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn mailboxes_keep_passwords_sealed_and_validate_input(pool: PgPool) {
    let app = spawn_app(pool).await;
    let sink = smtp::start(false).await;
    let user = app.signup("dana@acme.test", "Acme").await;
    let mut body = mailbox_body(&sink, "dana@mail.acme.test", unlimited());
    body["smtp"]["username"] = json!("dana");
    body["smtp"]["password"] = json!("s3cret-app-password");
    let res = user.post("/api/v1/mailboxes", body.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let text = res.text().await.unwrap();
    assert!(!text.contains("s3cret-app-password"), "{text}");
    let m: Mailbox = serde_json::from_str(&text).unwrap();
    assert!(m.smtp.password.set);
    // Not even the password's last characters come back: only that it is set.
    assert_eq!(m.smtp.password.ends_with, None);
    assert!(!text.contains("ends_with"), "{text}");
    let shown: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(shown["smtp"]["password"], json!({"set": true}));
    // A one-character password is not returned whole either.
    let mut one = mailbox_body(&sink, "one@mail.acme.test", unlimited());
    one["smtp"]["username"] = json!("one");
    one["smtp"]["password"] = json!("Z");
    let shown: Value = ok(
        user.post("/api/v1/mailboxes", one).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(shown["smtp"]["password"], json!({"set": true}));
    let sealed: Vec<u8> = sqlx::query_scalar("select smtp_secret_sealed from mailboxes")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("s3cret"));
    let listed = user.get("/api/v1/mailboxes").await.text().await.unwrap();
    assert!(!listed.contains("s3cret-app-password"));
    // The same address twice is refused by field.
    let err = expect_error(
        user.post("/api/v1/mailboxes", body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("from_email"));
    // Unencrypted to a public host, bad fields: 422, nothing written.
    let before = app.snapshot().await;
    let err = expect_error(
        user.post("/api/v1/mailboxes", json!({"from_name": "X", "from_email": "x@acme.test", "smtp": {"host": "smtp.gmail.com", "security": "none"}, "limits": {"daily_limit": 0, "ramp_start": 0, "ramp_step": 0, "min_interval_secs": 0, "jitter_secs": 0}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let fields = err.fields.unwrap();
    assert!(
        fields.contains_key("smtp.security") && fields.contains_key("limits.daily_limit"),
        "{fields:?}"
    );
    assert_eq!(app.snapshot().await, before);
    // A server that is not there: the test says so at the first stage.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let _: Mailbox = ok(
        user.patch(
            &format!("/api/v1/mailboxes/{}", m.id),
            json!({"smtp": {"port": port}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let t: MailboxTest = ok(
        user.post(&format!("/api/v1/mailboxes/{}/test", m.id), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (t.ok, t.stages.len(), t.stages[0].stage.as_str()),
        (false, 1, "connect"),
        "{t:?}"
    );
    let m: Mailbox = ok(
        user.get(&format!("/api/v1/mailboxes/{}", m.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(m.health.consecutive_failures, 1);
    assert!(m.health.last_error.unwrap().contains("connect"));
    // A member cannot change mailboxes.
    let member = app.add_member(&user, "sam@acme.test", "member").await;
    let res = member
        .patch(
            &format!("/api/v1/mailboxes/{}", m.id),
            json!({"from_name": "Sam"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = user.delete(&format!("/api/v1/mailboxes/{}", m.id)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[sqlx::test(migrations = "../../migrations")]
async fn unsubscribe_links_and_tracking_are_signed_and_never_fail(pool: PgPool) {
    let (fx, contacts) = fixture(
        pool,
        &[
            json!({"email": "ana@example.org", "first_name": "Ana", "timezone": "America/New_York"}),
            json!({"email": "ben@example.org", "first_name": "Ben", "timezone": "America/New_York"}),
            json!({"email": "cy@example.org", "first_name": "Cy", "timezone": "America/New_York"}),
        ],
        &two_email_steps(),
        json!({"track_opens": true, "track_clicks": true}),
        &[unlimited()],
        Options::default(),
    )
    .await;
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    fx.app.deliver_at(monday_10am_ny()).await;
    let mail = |who: &str| {
        fx.sink
            .accepted()
            .into_iter()
            .find(|r| r.rcpt[0] == who)
            .unwrap()
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The page: confirm with a choice; no sign-in.
    let ana_token = unsubscribe_token(&mail("ana@example.org"));
    let page = client
        .get(fx.app.url(&format!("/u/{ana_token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Acme Realty")
            && html.contains("a•••@example.org")
            && html.contains("name=\"scope\""),
        "{html}"
    );
    // A body that is neither one-click nor a choice: 422, nothing changes.
    let before = fx.app.snapshot().await;
    let res = client
        .post(fx.app.url(&format!("/u/{ana_token}")))
        .form(&[("hello", "world")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fx.app.snapshot().await, before);
    // One-click, multipart (RFC 8058).
    let form = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let res = client
        .post(fx.app.url(&format!("/u/{ana_token}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("location").is_none());
    let perm: Value = ok(
        fx.user
            .get("/api/v1/suppressions/check?channel=email&address=ana@example.org")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(perm["allowed"], false);
    // From the page, "only this series": Ben leaves the campaign but is not suppressed.
    let ben_token = unsubscribe_token(&mail("ben@example.org"));
    let res = client
        .post(fx.app.url(&format!("/u/{ben_token}")))
        .form(&[("scope", "campaign")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(fx.target(&contacts[1]).await["status"], "completed");
    let perm: Value = ok(
        fx.user
            .get("/api/v1/suppressions/check?channel=email&address=ben@example.org")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(perm["allowed"], true);

    // Opens and clicks: the pixel is a no-store GIF; the redirect goes where it was signed to.
    let cy = mail("cy@example.org");
    let pixel = token_after(&cy.data, "/t/o/");
    let res = client
        .get(fx.app.url(&format!("/t/o/{pixel}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/gif");
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    // Only GET and HEAD: another method is refused as on any other address.
    let url = fx.app.url(&format!("/t/o/{pixel}"));
    assert_eq!(
        client.head(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let res = client.post(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "method_not_allowed"
    );
    let link = token_after(&cy.data, "/t/c/");
    let res = client
        .get(fx.app.url(&format!("/t/c/{link}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()["location"],
        "https://acme.test/listings?area=harbor&beds=3"
    );
    // Events are written in the background, shortly.
    let mut d = fx.delivery().await;
    for _ in 0..100 {
        if d.steps[0].opened == 1 && d.steps[0].clicked == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        d = fx.delivery().await;
    }
    assert_eq!((d.steps[0].opened, d.steps[0].clicked), (1, 1), "{d:?}");

    // Garbage, tampered or cross-kind tokens: 404, never 500.
    let mut tampered = link.clone().into_bytes();
    let last = tampered.len() - 5;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for path in [
        "/u/x".to_owned(),
        "/u/%00%ff".to_owned(),
        format!("/u/{pixel}"),
        format!("/t/o/{link}"),
        format!("/t/c/{tampered}"),
        format!("/t/c/{}", "A".repeat(5000)),
        "/t/o/".to_owned() + &"-".repeat(64),
        "/t/o/".to_owned(),
        "/t/o".to_owned(),
        format!("/t/o/{pixel}/"),
        format!("/t/o/{pixel}/{pixel}"),
        format!("/t/c//{link}"),
    ] {
        let res = client.get(fx.app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let res = client
            .post(fx.app.url(&path))
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == StatusCode::NOT_FOUND || res.status() == StatusCode::METHOD_NOT_ALLOWED,
            "{path}: {}",
            res.status()
        );
    }
    // Ana's follow-up never goes out.
    fx.app
        .deliver_at(monday_10am_ny() + Duration::hours(24))
        .await;
    assert_eq!(fx.headers_for(&contacts[0], "Subject").len(), 1);
    assert_eq!(fx.headers_for(&contacts[2], "Subject").len(), 2);

    // Events go with their messages: deleting the campaign (or the organization) leaves none.
    let events = || {
        sqlx::query_scalar::<_, i64>("select count(*) from message_events").fetch_one(&fx.app.pool)
    };
    assert!(events().await.unwrap() >= 3, "open, click, unsubscribe");
    let _ = fx
        .user
        .post(&fx.url("/status"), json!({"status": "paused"}))
        .await;
    let res = fx.user.delete(&fx.url("")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(events().await.unwrap(), 0);
}

/// One lead, one tracked email sent: the fixture and the token of the email's open pixel.
async fn one_tracked_email_sent(pool: PgPool) -> (Fx, String) {
    let (fx, _) = fixture(
        pool,
        &[json!({"email": "ana@example.org", "first_name": "Ana", "timezone": "America/New_York"})],
        &two_email_steps()[..1],
        json!({"track_opens": true}),
        &[unlimited()],
        Options::default(),
    )
    .await;
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    fx.app.deliver_at(monday_10am_ny()).await;
    let sent = fx.sink.accepted();
    assert_eq!(sent.len(), 1);
    let pixel = token_after(&sent[0].data, "/t/o/");
    (fx, pixel)
}

/// The token of the first link in an email's HTML that starts with `path` (`/t/o/`, `/t/c/`).
fn token_after(html: &str, path: &str) -> String {
    let after = html.split(path).nth(1).unwrap();
    after.split('"').next().unwrap().to_owned()
}

/// Loads an open pixel three times; each answers 200.
async fn open_three_times(pixel_url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let res = client.get(pixel_url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}

/// Opens written to the database.
async fn opens_recorded(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from message_events where kind = 'open'")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn opens_wait_out_a_database_that_cannot_take_them(pool: PgPool) {
    let (fx, pixel) = one_tracked_email_sent(pool).await;
    let events = || opens_recorded(&fx.app.pool);

    // The table the writer inserts into is gone for a while: every write fails.
    sqlx::query("alter table message_events rename to message_events_away")
        .execute(&fx.app.pool)
        .await
        .unwrap();
    // The recipient is answered at once, whatever the database does.
    open_three_times(&fx.app.url(&format!("/t/o/{pixel}"))).await;
    // Long enough for the writer to have tried, failed and waited at least once.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    sqlx::query("alter table message_events_away rename to message_events")
        .execute(&fx.app.pool)
        .await
        .unwrap();
    assert_eq!(
        events().await,
        0,
        "nothing could be written while the table was away"
    );

    // Once the database can take them, the kept opens are written: none lost, none twice.
    assert_eq!(opens_written(&fx.app.pool, 3).await, 3);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(events().await, 3);
}

/// The opens recorded once there are `expected` of them, or after 15 s.
async fn opens_written(pool: &PgPool, expected: i64) -> i64 {
    let mut written = 0;
    for _ in 0..150 {
        written = opens_recorded(pool).await;
        if written == expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    written
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_cut_writer_connection_is_replaced_and_no_open_is_lost(pool: PgPool) {
    let (fx, pixel) = one_tracked_email_sent(pool).await;
    let url = fx.app.url(&format!("/t/o/{pixel}"));
    open_three_times(&url).await;
    assert_eq!(opens_written(&fx.app.pool, 3).await, 3);

    // The database ends the writer's session (a restart, a failover, an administrator).
    let cut: i64 = sqlx::query_scalar(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity
         where datname = current_database() and application_name = $1",
    )
    .bind(aura_api::db::events::EVENT_WRITER_NAME)
    .fetch_one(&fx.app.pool)
    .await
    .unwrap();
    assert_eq!(cut, 1, "the writer has one connection of its own");

    // The next opens are written all the same, on a new connection.
    open_three_times(&url).await;
    assert_eq!(opens_written(&fx.app.pool, 6).await, 6);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_stopping_server_writes_the_opens_it_took(pool: PgPool) {
    let (fx, pixel) = one_tracked_email_sent(pool).await;

    // A second server on the same database takes opens, then is stopped at once.
    let (server, handle, stopped) = spawn_stoppable_app(fx.app.pool.clone());
    open_three_times(&server.url(&format!("/t/o/{pixel}"))).await;
    handle.stop(true).await;
    stopped.await.unwrap().unwrap();
    // Once it has stopped, everything it answered is written.
    assert_eq!(opens_recorded(&fx.app.pool).await, 3);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_follow_up_sent_as_a_reply_says_re_and_the_leads_own_subject(pool: PgPool) {
    let mut steps = two_email_steps();
    steps[1]["reply_subject"] = json!(true);
    let (fx, leads) = fixture(
        pool,
        &[
            json!({"email": "ana@example.org", "first_name": "Ana", "city": "Portland", "timezone": "America/New_York"}),
            json!({"email": "ben@example.org", "first_name": "Ben", "timezone": "America/New_York"}),
        ],
        &steps,
        json!({}),
        &[unlimited()],
        Options::default(),
    )
    .await;
    assert!(!fx.campaign.steps[0].reply_subject);
    assert!(fx.campaign.steps[1].reply_subject);
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    fx.app.deliver_at(monday_10am_ny()).await;
    fx.app
        .deliver_at(monday_10am_ny() + Duration::hours(24))
        .await;
    for (lead, first) in [
        (&leads[0], "Homes near Portland"),
        (&leads[1], "Homes near you"),
    ] {
        assert_eq!(
            fx.headers_for(lead, "Subject"),
            vec![Some(first.into()), Some(format!("Re: {first}"))]
        );
        let mids = fx.headers_for(lead, "Message-ID");
        assert_eq!(fx.headers_for(lead, "In-Reply-To")[1], mids[0]);
        // The message as recorded says what went out.
        assert_eq!(
            fx.message_of(lead, 1).await.subject.as_deref(),
            Some(format!("Re: {first}").as_str())
        );
    }
    // Only email steps can be replies.
    let draft: CampaignDetail = ok(
        fx.user
            .post("/api/v1/campaigns", json!({"name": "Texts"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let c: CampaignDetail = ok(
        fx.user
            .post(
                &format!("/api/v1/campaigns/{}/steps", draft.campaign.id),
                json!({"channel": "sms", "body": "Hi {{first_name}}", "reply_subject": true}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(!c.steps[0].reply_subject);
}

/// Links already in recipients' inboxes survive rotating the session secret and the link key:
/// retired link keys still verify, and new links are signed with the new key.
#[sqlx::test(migrations = "../../migrations")]
async fn rotating_the_secrets_keeps_links_already_sent_working(pool: PgPool) {
    use aura_api::delivery::tokens::{Kind, Signer};
    let (fx, contacts) = fixture(
        pool.clone(),
        &[json!({"email": "ana@example.org", "first_name": "Ana", "timezone": "America/New_York"})],
        &two_email_steps(),
        json!({}),
        &[unlimited()],
        Options::default(),
    )
    .await;
    let _: CampaignDetail = ok(fx.launch().await, StatusCode::OK).await;
    fx.app.deliver_at(monday_10am_ny()).await;
    let sent = unsubscribe_token(&fx.sink.accepted()[0]);
    let page = |app: &TestApp, token: &str| {
        let url = app.url(&format!("/u/{token}"));
        async move { client().get(url).send().await.unwrap().status() }
    };
    assert_eq!(page(&fx.app, &sent).await, StatusCode::OK);
    const NEW_SESSION: &str = "a-new-session-secret-0123456789abcdefghij";
    const NEW_LINKS: &str = "a-new-link-key-0123456789abcdefghijklmnop";
    // The secret key rotates, the old one retired (no link key was ever set): links it signed
    // keep working.
    let retired = spawn_app_with(
        pool.clone(),
        &[
            ("AURA_SECRET_KEY", NEW_SESSION),
            ("AURA_SECRET_KEYS_OLD", SECRET),
        ],
    )
    .await;
    assert_eq!(page(&retired, &sent).await, StatusCode::OK);
    // The session secret alone rotates; the link key (here the old secret) is kept.
    let rotated_session = spawn_app_with(
        pool.clone(),
        &[("AURA_SECRET_KEY", NEW_SESSION), ("AURA_LINK_KEY", SECRET)],
    )
    .await;
    assert_eq!(page(&rotated_session, &sent).await, StatusCode::OK);
    // The link key rotates too, the old one retired: old links still work …
    let rotated = spawn_app_with(
        pool.clone(),
        &[
            ("AURA_SECRET_KEY", NEW_SESSION),
            ("AURA_LINK_KEY", NEW_LINKS),
            ("AURA_LINK_KEYS_OLD", SECRET),
        ],
    )
    .await;
    assert_eq!(page(&rotated, &sent).await, StatusCode::OK);
    // … and new links are signed with the new key.
    rotated.clock.set(monday_10am_ny());
    rotated
        .deliver_at(monday_10am_ny() + Duration::hours(24))
        .await;
    let follow_up = fx
        .sink
        .accepted()
        .into_iter()
        .find(|r| r.header("Subject").as_deref() == Some("Following up"))
        .unwrap();
    let new = unsubscribe_token(&follow_up);
    assert!(Signer::new(NEW_LINKS.as_bytes())
        .verify(Kind::Unsubscribe, &new)
        .is_some());
    assert!(Signer::new(SECRET.as_bytes())
        .verify(Kind::Unsubscribe, &new)
        .is_none());
    assert_eq!(page(&rotated, &new).await, StatusCode::OK);
    // Without the retired key, the old link would be dead: the retired list is what keeps it.
    let forgot = spawn_app_with(pool, &[("AURA_LINK_KEY", NEW_LINKS)]).await;
    assert_eq!(page(&forgot, &sent).await, StatusCode::NOT_FOUND);
    let _ = contacts;
}

//! The inbox: a lead's answers to the demo campaign, simulated on the sandbox mailbox as real
//! mail, land in their conversations and stop, postpone or suppress as they should.

use crate::helpers::*;
use aura_types::{
    Conversation, ConversationDetail, InboundKind, OutboxItem, Page, SimulateResult,
    SuppressionReason, Target, TargetStatus,
};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn answers_land_in_conversations_and_act_on_the_sequence(pool: PgPool) {
    let app = spawn_app(pool).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    let enrolled = run_demo_campaign(&app, &demo).await;
    assert!(enrolled >= 4);
    let outbox: Page<OutboxItem> = demo
        .get("/api/v1/outbox?limit=5")
        .await
        .json()
        .await
        .unwrap();
    let [reply, away, bounce, unsubscribe, unthreaded] = &outbox.items[..] else {
        panic!("five caught messages: {outbox:?}")
    };
    let simulate = |item: &OutboxItem, kind: &str| {
        let url = format!("/api/v1/outbox/{}/simulate", item.id);
        let demo = &demo;
        let kind = kind.to_owned();
        async move { demo.post(&url, json!({ "kind": kind })).await }
    };
    let contact_of = |item: &OutboxItem| {
        let app = &app;
        let email = item.recipient.clone();
        async move {
            sqlx::query_as::<_, (uuid::Uuid, String)>(
                "select id, status::text from contacts where lower(email) = lower($1)",
            )
            .bind(email)
            .fetch_one(&app.pool)
            .await
            .unwrap()
        }
    };
    let target_of = |contact: uuid::Uuid| {
        let demo = &demo;
        async move {
            let campaigns: Vec<aura_types::Campaign> =
                demo.get("/api/v1/campaigns").await.json().await.unwrap();
            let c = campaigns.iter().find(|c| c.stats.targets > 0).unwrap();
            let page: Page<Target> = demo
                .get(&format!(
                    "/api/v1/campaigns/{}/targets?contact_id={contact}",
                    c.id
                ))
                .await
                .json()
                .await
                .unwrap();
            page.items.into_iter().next().unwrap()
        }
    };

    // A reply: its conversation shows what was sent and what came back; the sequence stops.
    let (reply_contact, _) = contact_of(reply).await;
    let before = target_of(reply_contact).await;
    assert_eq!(before.status, TargetStatus::Active);
    let r: SimulateResult = simulate(reply, "reply").await.json().await.unwrap();
    assert_eq!(r.kind, InboundKind::Reply);
    let conversation = r.conversation_id.expect("a conversation");
    let detail: ConversationDetail = demo
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.conversation.contact_id.0, reply_contact);
    assert!(detail.conversation.unread);
    assert!(detail.conversation.campaign_name.is_some());
    let kinds: Vec<_> = detail.items.iter().map(|i| (i.direction, i.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (aura_types::ai::Direction::Outbound, None),
            (aura_types::ai::Direction::Inbound, Some(InboundKind::Reply)),
        ]
    );
    assert!(detail.items[1].text.contains("Thursday afternoon"));
    assert_eq!(
        target_of(reply_contact).await.status,
        TargetStatus::Completed
    );
    let replied: Option<time::OffsetDateTime> =
        sqlx::query_scalar("select last_replied_at from contacts where id = $1")
            .bind(reply_contact)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(replied.is_some());
    // The same mail again (the same Message-ID) is stored once.
    let again = simulate(reply, "reply").await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // An out-of-office postpones the next step to the return date; nothing is stopped.
    let (away_contact, _) = contact_of(away).await;
    let due_before = target_of(away_contact).await.next_run_at.unwrap();
    let r: SimulateResult = simulate(away, "out_of_office").await.json().await.unwrap();
    assert_eq!(r.kind, InboundKind::AutoReply);
    let mut ids = vec![conversation, r.conversation_id.unwrap()];
    let after = target_of(away_contact).await;
    assert_eq!(after.status, TargetStatus::Active);
    let due_after = after.next_run_at.unwrap();
    assert!(due_after > due_before, "{due_before} → {due_after}");
    assert!(due_after - app.clock.now() >= time::Duration::days(9));

    // A hard bounce: the contact is bounced and the address suppressed.
    let r: SimulateResult = simulate(bounce, "bounce").await.json().await.unwrap();
    assert_eq!(r.kind, InboundKind::Bounce);
    ids.push(r.conversation_id.unwrap());
    let (bounce_contact, status) = contact_of(bounce).await;
    assert_eq!(status, "bounced");
    let reasons: Vec<SuppressionReason> =
        sqlx::query_scalar("select reason from suppressions where lower(value) = lower($1)")
            .bind(&bounce.recipient)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(reasons, vec![SuppressionReason::Bounced]);
    assert_eq!(
        target_of(bounce_contact).await.status,
        TargetStatus::Completed
    );
    let bounced: String =
        sqlx::query_scalar("select status::text from campaign_messages where id = $1")
            .bind(bounce.message_id.unwrap().0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(bounced, "bounced");

    // An unsubscribe request in words is an opt-out.
    let r: SimulateResult = simulate(unsubscribe, "unsubscribe")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.kind, InboundKind::Reply);
    ids.push(r.conversation_id.unwrap());
    let (_, status) = contact_of(unsubscribe).await;
    assert_eq!(status, "unsubscribed");

    // A reply whose mail client dropped the threading headers ("RE:", extra spaces) still finds
    // the message it answers, by the lead's address and the subject.
    let (plain_contact, _) = contact_of(unthreaded).await;
    let raw = aura_api::inbox::simulate::letter(&aura_api::inbox::simulate::Letter {
        from: &unthreaded.recipient,
        to: "someone@example.com",
        subject: &format!("RE:  {}", unthreaded.subject),
        id: "<outlook-1@example.net>",
        date: app.clock.now(),
        extra: "",
        body: "Yes, please call me tomorrow.",
    });
    let mut conn = app.pool.acquire().await.unwrap();
    let org = demo.session.me.active_organization_id;
    let done = aura_api::inbox::ingest(&mut conn, org, None, &[], &raw, app.clock.now())
        .await
        .unwrap();
    assert!(
        matches!(
            done,
            aura_api::inbox::Ingested::Stored {
                kind: InboundKind::Reply,
                conversation: Some(_)
            }
        ),
        "{done:?}"
    );
    let matched: Option<uuid::Uuid> = sqlx::query_scalar(
        "select campaign_message_id from inbound_messages where message_id = 'outlook-1@example.net'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(matched, unthreaded.message_id.map(|m| m.0));
    assert_eq!(
        target_of(plain_contact).await.status,
        TargetStatus::Completed
    );
    drop(conn);

    // The list (beside the demo's own conversations): the four leads', one each, newest first;
    // marking one read takes it out of "unread".
    let all: Page<Conversation> = demo
        .get("/api/v1/conversations")
        .await
        .json()
        .await
        .unwrap();
    ids.sort_by_key(|c| c.0);
    ids.dedup();
    assert_eq!(ids.len(), 4, "one conversation per lead");
    assert!(ids.iter().all(|id| all.items.iter().any(|c| c.id == *id)));
    let unread_before: Page<Conversation> = demo
        .get("/api/v1/conversations?unread=true&limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert!(all
        .items
        .windows(2)
        .all(|w| w[0].last_message_at >= w[1].last_message_at));
    let read: Conversation = demo
        .patch(
            &format!("/api/v1/conversations/{conversation}"),
            json!({"unread": false}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(!read.unread);
    let unread: Page<Conversation> = demo
        .get("/api/v1/conversations?unread=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread.total, unread_before.total - 1);
    assert!(unread.items.iter().all(|c| c.id.0 != conversation.0));

    // Another organization sees none of it.
    let other = app.signup("other@example.org", "Other Realty").await;
    let theirs: Page<Conversation> = other
        .get("/api/v1/conversations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs.total, 0);
    let res = other
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = other
        .post(
            &format!("/api/v1/outbox/{}/simulate", reply.id),
            json!({"kind": "reply"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Reads the stream until `pred` holds of what arrived (10 s at most); answers all of it.
async fn read_stream_until(mut res: reqwest::Response, pred: impl Fn(&str) -> bool) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !pred(&seen) {
        let next = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("the stream said only: {seen}"));
        seen.push_str(&String::from_utf8_lossy(&next.unwrap().unwrap()));
    }
    seen
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_inbox_stream_tells_what_arrives_and_replays_what_was_missed(pool: PgPool) {
    let app = spawn_app(pool).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    run_demo_campaign(&app, &demo).await;
    let outbox: Page<OutboxItem> = demo
        .get("/api/v1/outbox?limit=1")
        .await
        .json()
        .await
        .unwrap();
    let token: aura_types::StreamToken = demo
        .post("/api/v1/inbox/stream-token", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(token.expires_in, 60);
    // Neither a made-up token nor an access token opens the stream.
    for bad in ["nope", demo.token.as_str()] {
        let res = client()
            .get(app.url(&format!("/api/v1/inbox/stream?token={bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let open = |extra: &str| {
        let url = app.url(&format!(
            "/api/v1/inbox/stream?token={}{extra}",
            token.token
        ));
        async move { client().get(url).send().await.unwrap() }
    };
    let live = open("").await;
    assert_eq!(live.status(), StatusCode::OK);
    assert_eq!(
        live.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    // A lead answers while the stream is open: its conversation's event arrives.
    let r: SimulateResult = demo
        .post(
            &format!("/api/v1/outbox/{}/simulate", outbox.items[0].id),
            json!({"kind": "reply"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let conversation = r.conversation_id.unwrap();
    let said = read_stream_until(live, |s| s.contains("event: message")).await;
    assert!(said.starts_with("retry: 2000\n\n"), "{said}");
    let data = said.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let event: aura_types::InboxEvent = serde_json::from_str(data).unwrap();
    assert_eq!(event.kind, "message");
    assert_eq!(event.conversation_id, Some(conversation));
    assert!(said.contains(&format!("id: {}\n", event.id)));
    // Marked read: a `conversation` event.
    demo.patch(
        &format!("/api/v1/conversations/{conversation}"),
        json!({"unread": false}),
    )
    .await;
    // A client that reconnects with the last id it saw gets what it missed, in order.
    let again = client()
        .get(app.url(&format!("/api/v1/inbox/stream?token={}", token.token)))
        .header("Last-Event-ID", (event.id - 1).to_string())
        .send()
        .await
        .unwrap();
    let replayed = read_stream_until(again, |s| s.contains("event: conversation")).await;
    let ids: Vec<&str> = replayed
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(ids, ["message", "conversation"]);
    // Another organization's stream hears nothing of it.
    let other = app.signup("stranger@example.com", "Other Realty").await;
    let theirs: aura_types::StreamToken = other
        .post("/api/v1/inbox/stream-token", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let res = client()
        .get(app.url(&format!(
            "/api/v1/inbox/stream?token={}&last_event_id=0",
            theirs.token
        )))
        .send()
        .await
        .unwrap();
    let heard = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        read_stream_until(res, |s| s.contains("event:")),
    )
    .await;
    assert!(heard.is_err(), "{heard:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn conversations_are_filtered_by_classification_status_and_words(pool: PgPool) {
    let app = spawn_app(pool).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    let list = |query: &str| {
        let url = format!("/api/v1/conversations?{query}");
        let demo = &demo;
        async move {
            let page: Page<Conversation> = demo.get(&url).await.json().await.unwrap();
            page
        }
    };
    let all = list("").await;
    assert_eq!(all.total, 3);
    let away = list("classification=out_of_office").await;
    assert_eq!(away.total, 1);
    assert!(away.items[0].away_until.is_some());
    // Words in the contact's name, in any case.
    let name = all.items[1].contact_name.clone();
    let first = name.split_whitespace().next().unwrap().to_uppercase();
    let found = list(&format!("q={first}")).await;
    assert!(
        found.items.iter().any(|c| c.id == all.items[1].id),
        "{found:?}"
    );
    // Each found one has the words somewhere: name, address or the last message.
    assert!(found.items.iter().all(|c| {
        let email = c.contact_email.clone().unwrap_or_default();
        format!("{} {email} {}", c.contact_name, c.snippet)
            .to_uppercase()
            .contains(&first)
    }));
    // A wildcard is a character, not a pattern.
    assert_eq!(list("q=%25").await.total, 0);
    assert_eq!(list("q=_").await.total, 0);
    // Done, then only among the done ones.
    demo.patch(
        &format!("/api/v1/conversations/{}", all.items[0].id),
        json!({"status": "done"}),
    )
    .await;
    let done = list("status=done").await;
    assert_eq!((done.total, done.items[0].id), (1, all.items[0].id));
    assert_eq!(list("status=open").await.total, 2);
    let res = demo
        .get(&format!("/api/v1/conversations?q={}", "x".repeat(201)))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_stranger_who_writes_becomes_a_contact_with_a_conversation(pool: PgPool) {
    use aura_api::inbox::simulate::{letter, Letter};
    let app = spawn_app(pool).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    let now = time::OffsetDateTime::now_utc();
    let write = |from: &'static str, id: &'static str, extra: &'static str| {
        letter(&Letter {
            from,
            to: "dana@aura-demo.example",
            subject: "Do you list condos?",
            id,
            date: now,
            extra,
            body: "Hello, do you also list condos downtown?\r\n",
        })
    };
    let ingest = |raw: Vec<u8>| {
        let org = demo.org_id();
        let pool = app.pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap();
            aura_api::inbox::ingest(&mut conn, org, None, &["dana@aura-demo.example"], &raw, now)
                .await
                .unwrap()
        }
    };
    let got = ingest(write(
        "Morgan Lee <Morgan.Lee@example.com>",
        "<stranger-1@example.com>",
        "",
    ))
    .await;
    let aura_api::inbox::Ingested::Stored { kind, conversation } = got else {
        panic!("{got:?}")
    };
    assert_eq!(kind, InboundKind::Reply);
    let (first, last, source): (String, String, String) = sqlx::query_as(
        "select first_name, last_name, source from contacts where lower(email) = 'morgan.lee@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (first.as_str(), last.as_str(), source.as_str()),
        ("Morgan", "Lee", "inbound")
    );
    let detail: ConversationDetail = demo
        .get(&format!("/api/v1/conversations/{}", conversation.unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.conversation.contact_name, "Morgan Lee");
    // Writing again joins the same contact and conversation.
    let again = ingest(write(
        "morgan.lee@example.com",
        "<stranger-2@example.com>",
        "",
    ))
    .await;
    assert!(
        matches!(again, aura_api::inbox::Ingested::Stored { conversation: c, .. } if c == conversation)
    );
    // A newsletter from a stranger makes no contact.
    ingest(write(
        "News <news@shop.example>",
        "<news-1@shop.example>",
        "List-Unsubscribe: <https://shop.example/u>\r\nPrecedence: bulk\r\n",
    ))
    .await;
    let strangers: i64 =
        sqlx::query_scalar("select count(*) from contacts where source = 'inbound'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(strangers, 1);
}

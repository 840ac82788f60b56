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
    // The demo's three emails, one text and two WhatsApp messages.
    let all = list("").await;
    assert_eq!(all.total, 6);
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
    assert_eq!(list("status=open").await.total, 5);
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

#[sqlx::test(migrations = "../../migrations")]
async fn a_batch_is_taken_in_once_with_each_conversation_showing_its_latest_mail(pool: PgPool) {
    use aura_api::inbox::{simulate::letter, simulate::Letter, take_in, Ingested};
    let app = spawn_app(pool).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    let now = time::macros::datetime!(2031-05-06 12:00 UTC);
    let write = |from: &'static str,
                 id: &'static str,
                 hours_ago: i64,
                 extra: &'static str,
                 body: &'static str| {
        letter(&Letter {
            from,
            to: "dana@aura-demo.example",
            subject: "About the condo",
            id,
            date: now - time::Duration::hours(hours_ago),
            extra,
            body,
        })
    };
    let reply = write(
        "Avery Stone <avery@example.com>",
        "<a1@example.com>",
        2,
        "",
        "Could we talk on Friday?\r\n",
    );
    let away = write(
        "avery@example.com",
        "<a2@example.com>",
        1,
        "Auto-Submitted: auto-replied\r\n",
        "I am out of the office until 12 May 2031.\r\n",
    );
    let same_id = write(
        "avery@example.com",
        "<a1@example.com>",
        3,
        "",
        "Another body, same id.\r\n",
    );
    let other = write(
        "Blake Park <blake@example.com>",
        "<b1@example.com>",
        4,
        "",
        "Yes, send me the floor plan.\r\n",
    );
    let batch: Vec<&[u8]> = vec![&reply, &away, &reply, &same_id, b"", &other];
    let take = |batch: Vec<Vec<u8>>| {
        let pool = app.pool.clone();
        let org = demo.org_id();
        async move {
            let raws: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
            let mut tx = pool.begin().await.unwrap();
            let done = take_in(
                &mut tx,
                org,
                None,
                &["dana@aura-demo.example"],
                &raws,
                now,
                true,
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            done
        }
    };
    let owned: Vec<Vec<u8>> = batch.iter().map(|b| b.to_vec()).collect();
    let done = take(owned.clone()).await;
    let conversation = |i: usize| match &done[i] {
        Ingested::Stored { conversation, .. } => conversation.unwrap(),
        other => panic!("message {i}: {other:?}"),
    };
    let (avery, blake) = (conversation(0), conversation(5));
    assert_eq!(conversation(1), avery);
    assert_ne!(avery, blake);
    assert!(matches!(
        done[0],
        Ingested::Stored {
            kind: InboundKind::Reply,
            ..
        }
    ));
    assert!(matches!(
        done[1],
        Ingested::Stored {
            kind: InboundKind::AutoReply,
            ..
        }
    ));
    // The same bytes, or the same Message-ID, twice in a batch: taken once.
    assert_eq!(done[2], Ingested::Duplicate);
    assert_eq!(done[3], Ingested::Duplicate);
    assert_eq!(done[4], Ingested::Unreadable);
    // Avery's conversation shows the later mail (the out-of-office) and still waits for an
    // answer to the reply before it.
    let detail: ConversationDetail = demo
        .get(&format!("/api/v1/conversations/{avery}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(detail.conversation.needs_reply);
    assert!(detail.conversation.unread);
    assert_eq!(
        detail.conversation.classification,
        Some(aura_types::ai::ReplyLabel::OutOfOffice)
    );
    assert!(
        detail.conversation.snippet.contains("out of the office"),
        "{}",
        detail.conversation.snippet
    );
    assert_eq!(detail.conversation.contact_name, "Avery Stone");
    let (made, replied): (i64, Option<time::OffsetDateTime>) = sqlx::query_as(
        "select count(*) over (), last_replied_at from contacts
         where source = 'inbound' and lower(email) = 'avery@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(made, 1);
    assert_eq!(replied, Some(now - time::Duration::hours(2)));
    let stored: i64 = sqlx::query_scalar("select count(*) from inbound_messages where org_id = $1")
        .bind(demo.org_id().0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // Taken in again (a worker that crashed before moving its watermark): nothing new.
    let again = take(owned).await;
    assert!(
        again
            .iter()
            .all(|d| matches!(d, Ingested::Duplicate | Ingested::Unreadable)),
        "{again:?}"
    );
    let after: i64 = sqlx::query_scalar("select count(*) from inbound_messages where org_id = $1")
        .bind(demo.org_id().0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(after, stored);
}

/// A 422 that names `field`.
async fn expect_field(res: reqwest::Response, field: &str) {
    let e = expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        aura_types::ErrorCode::ValidationFailed,
    )
    .await;
    assert!(
        e.fields.unwrap_or_default().contains_key(field),
        "{field} is not named: {}",
        e.message
    );
}

/// The raw bytes of the newest message the sandbox caught, with folded header lines unfolded.
async fn newest_caught(app: &TestApp) -> (String, String) {
    let (recipient, raw): (String, Vec<u8>) = sqlx::query_as(
        "select recipient, raw from outbox order by caught_at desc, id desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let text = String::from_utf8(raw).unwrap().replace("\r\n ", " ");
    (recipient, text)
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_answer_goes_out_once_threaded_through_the_conversations_mailbox(pool: PgPool) {
    use aura_types::{MessageStatus, ThreadItem};
    let app = spawn_app(pool).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    run_demo_campaign(&app, &demo).await;
    let outbox: Page<OutboxItem> = demo
        .get("/api/v1/outbox?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let (first, second) = (&outbox.items[0], &outbox.items[1]);
    let r: SimulateResult = demo
        .post(
            &format!("/api/v1/outbox/{}/simulate", first.id),
            json!({"kind": "reply"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let conversation = r.conversation_id.unwrap();
    let url = format!("/api/v1/conversations/{conversation}");
    let detail: ConversationDetail = demo.get(&url).await.json().await.unwrap();
    assert!(detail.conversation.needs_reply);
    // The rules leave a person's answer unlabelled; the classifier (the built-in writer here: no
    // model is configured) labels it, and its conversation.
    assert_eq!(detail.conversation.classification, None);
    aura_api::workers::classify::run_until_idle(&app.pool, &app.ai)
        .await
        .unwrap();
    let detail: ConversationDetail = demo.get(&url).await.json().await.unwrap();
    // "Could we talk on Thursday afternoon?"
    assert_eq!(
        detail.conversation.classification,
        Some(aura_types::ai::ReplyLabel::MeetingRequest)
    );
    let (label, waiting): (Option<String>, bool) = sqlx::query_as(
        "select classification::text, needs_model from inbound_messages where conversation_id = $1",
    )
    .bind(conversation.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (label.as_deref(), waiting),
        (Some("meeting_request"), false)
    );
    assert_eq!(
        demo.get("/api/v1/conversations?needs_reply=true")
            .await
            .json::<Page<Conversation>>()
            .await
            .unwrap()
            .items
            .iter()
            .filter(|c| c.id == conversation)
            .count(),
        1
    );
    let lead_subject = detail.items.last().unwrap().subject.clone().unwrap();
    let (lead_id, campaign_id): (String, String) = sqlx::query_as(
        "select i.message_id, m.message_id from inbound_messages i
         join campaign_messages m on m.org_id = i.org_id and m.id = i.campaign_message_id
         where i.conversation_id = $1",
    )
    .bind(conversation.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();

    // Bad input changes nothing.
    for (body, field) in [
        (json!({"text": "  "}), "text"),
        (json!({"text": "x".repeat(20_001)}), "text"),
        (json!({"text": "Hi", "subject": "Two\nlines"}), "subject"),
        (json!({"text": "Hi", "subject": " "}), "subject"),
    ] {
        expect_field(demo.post(&format!("{url}/reply"), body).await, field).await;
    }
    let queued: i64 =
        sqlx::query_scalar("select count(*) from conversation_replies where conversation_id = $1")
            .bind(conversation.0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(queued, 0);

    // Queued, then sent by the sender, once.
    let res = demo
        .post(
            &format!("{url}/reply"),
            json!({"text": "Thursday at 3 works.\nI'll bring the listing sheet."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let item: ThreadItem = res.json().await.unwrap();
    assert_eq!(item.status, Some(MessageStatus::Queued));
    assert_eq!(item.author.as_deref(), Some("Dana Demo"));
    let now = app.clock.now();
    let sender = app.sender();
    sender.run_until_idle(now).await.unwrap();
    sender.run_until_idle(now).await.unwrap();
    let caught: i64 = sqlx::query_scalar("select count(*) from outbox where message_id = $1")
        .bind(item.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(caught, 1, "sent exactly once");
    let (to, raw) = newest_caught(&app).await;
    assert_eq!(to, first.recipient);
    assert!(raw.contains(&format!("In-Reply-To: <{lead_id}>")), "{raw}");
    let references = raw
        .lines()
        .find(|l| l.starts_with("References:"))
        .unwrap_or_default();
    assert!(references.contains(&format!("<{campaign_id}>")), "{raw}");
    assert!(references.ends_with(&format!("<{lead_id}>")), "{raw}");
    let expected_subject = if lead_subject.to_lowercase().starts_with("re:") {
        lead_subject.clone()
    } else {
        format!("Re: {lead_subject}")
    };
    assert!(
        raw.contains(&format!("Subject: {expected_subject}")),
        "{raw}"
    );
    let signature: String = sqlx::query_scalar(
        "select signature from mailboxes where org_id = $1 and kind = 'sandbox' limit 1",
    )
    .bind(demo.org_id().0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let signature_line = signature.lines().next().unwrap();
    assert!(raw.contains(signature_line), "the signature in\n{raw}");
    assert!(raw.contains("I'll bring the listing sheet."));
    // A person's answer is no campaign mail: no unsubscribe header or footer.
    assert!(!raw.contains("List-Unsubscribe"), "{raw}");
    let detail: ConversationDetail = demo.get(&url).await.json().await.unwrap();
    assert!(!detail.conversation.needs_reply);
    let shown = detail.items.iter().find(|i| i.id == item.id).unwrap();
    assert_eq!(shown.status, Some(MessageStatus::Sent));
    assert_eq!(shown.direction, aura_types::ai::Direction::Outbound);

    // The lead answers our answer: the same conversation.
    let again: SimulateResult = demo
        .post(
            &format!(
                "/api/v1/outbox/{}/simulate",
                demo.get("/api/v1/outbox?limit=1")
                    .await
                    .json::<Page<OutboxItem>>()
                    .await
                    .unwrap()
                    .items[0]
                    .id
            ),
            json!({"kind": "reply"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.conversation_id, Some(conversation));

    // A sender that stops while handing an answer over leaves it unknown, never re-sent.
    let res = demo
        .post(&format!("{url}/reply"), json!({"text": "See you then."}))
        .await;
    let pending: ThreadItem = res.json().await.unwrap();
    {
        let mut tx = app.pool.begin().await.unwrap();
        let claimed = aura_api::db::replies::claim(&mut tx, now, 10, 60)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        tx.commit().await.unwrap();
    }
    let detail: ConversationDetail = demo.get(&url).await.json().await.unwrap();
    let shown = detail.items.iter().find(|i| i.id == pending.id).unwrap();
    assert_eq!(shown.status, Some(MessageStatus::Sending));
    let later = now + time::Duration::seconds(61);
    sender.run_until_idle(later).await.unwrap();
    sender
        .run_until_idle(later + time::Duration::hours(1))
        .await
        .unwrap();
    let detail: ConversationDetail = demo.get(&url).await.json().await.unwrap();
    let shown = detail.items.iter().find(|i| i.id == pending.id).unwrap();
    assert_eq!(shown.status, Some(MessageStatus::Unknown));
    assert!(shown.detail.as_deref().unwrap().contains("may or may not"));
    let caught: i64 = sqlx::query_scalar("select count(*) from outbox where message_id = $1")
        .bind(pending.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(caught, 0);

    // Suggested answers: up to three, from the thread, labelled with who wrote them.
    let suggested: aura_types::ai::RepliesResult = demo
        .post(&format!("{url}/suggest"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!((1..=3).contains(&suggested.replies.len()), "{suggested:?}");
    assert!(suggested.replies.iter().all(|r| !r.trim().is_empty()));
    assert!(!suggested.provenance.label.is_empty());

    // A lead who may not be contacted any more gets nothing; the thread says why.
    let r: SimulateResult = demo
        .post(
            &format!("/api/v1/outbox/{}/simulate", second.id),
            json!({"kind": "unsubscribe"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = format!("/api/v1/conversations/{}", r.conversation_id.unwrap());
    let blocked: ThreadItem = demo
        .post(
            &format!("{url}/reply"),
            json!({"text": "Sorry to see you go!"}),
        )
        .await
        .json()
        .await
        .unwrap();
    sender.run_until_idle(later).await.unwrap();
    let detail: ConversationDetail = demo.get(&url).await.json().await.unwrap();
    let shown = detail.items.iter().find(|i| i.id == blocked.id).unwrap();
    assert_eq!(shown.status, Some(MessageStatus::Failed));
    assert!(
        shown.detail.as_deref().unwrap().contains("unsubscribed"),
        "{shown:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn conversations_are_assigned_snoozed_reclassified_and_paged(pool: PgPool) {
    let app = spawn_app(pool).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    let all: Page<Conversation> = demo
        .get("/api/v1/conversations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.total, 6);
    let id = all.items[0].id;
    let url = format!("/api/v1/conversations/{id}");
    let me = demo.user_id();

    // Assigned to a member, then found among "assigned to me"; a stranger is refused.
    let c: Conversation = demo
        .patch(&url, json!({"assignee_id": me}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c.assignee_id, Some(me));
    assert!(c.assignee_name.is_some());
    let mine: Page<Conversation> = demo
        .get(&format!("/api/v1/conversations?assignee_id={me}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((mine.total, mine.items[0].id), (1, id));
    expect_field(
        demo.patch(&url, json!({"assignee_id": uuid::Uuid::now_v7()}))
            .await,
        "assignee_id",
    )
    .await;
    let c: Conversation = demo
        .patch(&url, json!({"assignee_id": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c.assignee_id, None);

    // A corrected classification is kept, with the label it replaced.
    let before = all.items[0].classification;
    let c: Conversation = demo
        .patch(&url, json!({"classification": "interested"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        c.classification,
        Some(aura_types::ai::ReplyLabel::Interested)
    );
    assert!(c.classified_by_hand);
    let kept: (Option<String>, String) = sqlx::query_as(
        "select from_label::text, to_label::text from classification_corrections where conversation_id = $1",
    )
    .bind(id.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(kept.0, before.map(|b| b.as_str().to_owned()));
    assert_eq!(kept.1, "interested");

    // Snoozed until a moment: hidden from the open ones, back (unread) when it comes.
    let now = app.clock.now();
    for (body, field) in [
        (json!({"status": "snoozed"}), "snoozed_until"),
        (
            json!({"snoozed_until": "2000-01-01T00:00:00Z"}),
            "snoozed_until",
        ),
        (
            json!({"status": "done", "snoozed_until": (now + time::Duration::hours(1)).format(&time::format_description::well_known::Rfc3339).unwrap()}),
            "snoozed_until",
        ),
    ] {
        expect_field(demo.patch(&url, body).await, field).await;
    }
    let until = now + time::Duration::hours(3);
    let c: Conversation = demo
        .patch(
            &url,
            json!({"unread": false, "snoozed_until": until.format(&time::format_description::well_known::Rfc3339).unwrap()}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c.status, aura_types::ConversationStatus::Snoozed);
    let open: Page<Conversation> = demo
        .get("/api/v1/conversations?status=open")
        .await
        .json()
        .await
        .unwrap();
    assert!(open.items.iter().all(|c| c.id != id));
    let mut conn = app.pool.acquire().await.unwrap();
    assert_eq!(
        aura_api::db::inbox::wake_snoozed(&mut conn, until - time::Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        aura_api::db::inbox::wake_snoozed(&mut conn, until)
            .await
            .unwrap(),
        1
    );
    let c: Conversation = demo
        .get(&url)
        .await
        .json::<aura_types::ConversationDetail>()
        .await
        .unwrap()
        .conversation;
    assert_eq!(c.status, aura_types::ConversationStatus::Open);
    assert!(c.unread && c.snoozed_until.is_none());

    // Keyset pages: one at a time, every conversation once, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/conversations?limit=1&cursor={c}"),
            None => "/api/v1/conversations?limit=1".to_owned(),
        };
        let page: Page<Conversation> = demo.get(&url).await.json().await.unwrap();
        assert_eq!(page.total, 6);
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c.0),
            None => break,
        }
    }
    let mut expected: Vec<_> = all.items.iter().map(|c| c.id).collect();
    // The woken conversation keeps its place: waking does not change its last message.
    expected.sort_by_key(|id| all.items.iter().position(|c| c.id == *id));
    assert_eq!(seen, expected);
    expect_field(
        demo.get("/api/v1/conversations?cursor=nonsense").await,
        "cursor",
    )
    .await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_answer_the_model_could_not_label_is_tried_again_later_then_left(pool: PgPool) {
    use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
    let app = spawn_app_with(pool, &[("AURA_ALLOW_PRIVATE_AI_URLS", "true")]).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    run_demo_campaign(&app, &demo).await;
    // The organization's model refuses its key (OpenAI's documented 401).
    let server = MockServer::start().await;
    let refused = || {
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Incorrect API key provided: sk-test-****.", "type": "invalid_request_error",
                      "param": null, "code": "invalid_api_key"}
        })))
    };
    refused().mount(&server).await;
    let res = demo
        .post(
            "/api/v1/ai/providers",
            json!({"name": "OpenAI", "kind": "openai", "base_url": format!("{}/v1", server.uri()),
                   "model": "gpt-4o-mini", "secret": "sk-test-revoked"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let provider: serde_json::Value = res.json().await.unwrap();
    let res = demo
        .patch(
            "/api/v1/ai/settings",
            json!({"default_provider_id": provider["id"], "fallback_to_builtin": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let outbox: Page<OutboxItem> = demo
        .get("/api/v1/outbox?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let answer = |item: usize| {
        let id = outbox.items[item].id;
        let demo = &demo;
        async move {
            let r: SimulateResult = demo
                .post(
                    &format!("/api/v1/outbox/{id}/simulate"),
                    json!({"kind": "reply"}),
                )
                .await
                .json()
                .await
                .unwrap();
            r.conversation_id.unwrap()
        }
    };
    let state = |conversation: aura_types::ConversationId| {
        let pool = app.pool.clone();
        async move {
            let row: (bool, i32, bool, Option<String>, Option<String>) = sqlx::query_as(
                "select needs_model, classify_attempts, coalesce(classify_after > now(), false),
                        classify_error, classification::text
                 from inbound_messages where conversation_id = $1 and kind = 'reply'",
            )
            .bind(conversation.0)
            .fetch_one(&pool)
            .await
            .unwrap();
            row
        }
    };
    let classify = || aura_api::workers::classify::run_until_idle(&app.pool, &app.ai);
    let first = answer(0).await;
    classify().await.unwrap();
    let (waiting, attempts, later, error, label) = state(first).await;
    assert!(waiting && later, "it waits to be tried again, later");
    assert_eq!((attempts, label), (1, None));
    let error = error.expect("the reason is kept");
    assert!(!error.contains("sk-test-revoked"), "{error}");
    // Not before its time.
    classify().await.unwrap();
    assert_eq!(state(first).await.1, 1);
    // Its time comes after the last attempt but one: it fails again and is left unlabelled.
    sqlx::query(
        "update inbound_messages set classify_attempts = 4, classify_after = now() - interval '1 second'
         where conversation_id = $1",
    )
    .bind(first.0)
    .execute(&app.pool)
    .await
    .unwrap();
    classify().await.unwrap();
    let (waiting, attempts, _, error, label) = state(first).await;
    assert!(!waiting);
    assert_eq!((attempts, label), (5, None));
    assert!(error.is_some());
    // The model answers again: the next answer gets its label ("interested", where the built-in
    // writer would say "meeting request").
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "object": "chat.completion",
            "created": 1741569952,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant",
                            "content": "{\"label\": \"interested\", \"confidence\": 0.9, \"reason\": \"asks for a call\"}",
                            "refusal": null, "annotations": []},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29}
        })))
        .mount(&server)
        .await;
    let second = answer(1).await;
    classify().await.unwrap();
    let (waiting, attempts, _, error, label) = state(second).await;
    assert!(!waiting);
    assert_eq!(
        (attempts, error, label.as_deref()),
        (0, None, Some("interested"))
    );
}

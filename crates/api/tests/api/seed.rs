//! `aura seed-demo`: the demo organization with realistic contacts and two segments, once.

use crate::helpers::*;
use aura_types::{Contact, Page, Segment, TagCount};
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn the_demo_has_contacts_and_segments_and_seeding_twice_changes_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let first = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    assert!(first.created);
    let before = app.snapshot().await;
    assert!(!aura_api::seed::seed_demo(&app.pool).await.unwrap().created);
    assert_eq!(app.snapshot().await, before, "a second run wrote something");

    let mut demo = demo_login(&app, first.email, first.password).await;
    let realty = demo.session.me.active_organization_id;
    let switched: aura_types::Session = demo
        .post(
            "/api/v1/auth/switch-organization",
            serde_json::json!({"organization_id": realty}),
        )
        .await
        .json()
        .await
        .unwrap();
    demo.adopt(switched);
    // A living inbox: three leads wrote in (a reply, a question, an out-of-office), someone
    // texted the sandbox number, and two leads wrote on WhatsApp.
    let inbox: Page<aura_types::Conversation> = demo
        .get("/api/v1/conversations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox.total, 6);
    let on = |channel| inbox.items.iter().filter(|c| c.channel == channel).count();
    assert_eq!(on(aura_types::Channel::Sms), 1);
    // Two wrote on WhatsApp: one's 24-hour window is still open, the other's has closed.
    assert_eq!(on(aura_types::Channel::Whatsapp), 2);
    let mut windows = Vec::new();
    for c in inbox
        .items
        .iter()
        .filter(|c| c.channel == aura_types::Channel::Whatsapp)
    {
        let d: aura_types::ConversationDetail = demo
            .get(&format!("/api/v1/conversations/{}", c.id))
            .await
            .json()
            .await
            .unwrap();
        windows.push(d.window_closes_at.unwrap() > time::OffsetDateTime::now_utc());
    }
    windows.sort();
    assert_eq!(windows, [false, true]);
    // Dana read and answered the first (so it waits for nothing); the others are unread, and
    // the question is Sam's.
    let unread: Vec<bool> = inbox.items.iter().map(|c| c.unread).collect();
    assert_eq!(unread.iter().filter(|u| **u).count(), 5, "{unread:?}");
    let answered = inbox.items.iter().find(|c| !c.unread).unwrap();
    assert!(!answered.needs_reply);
    let thread: aura_types::ConversationDetail = demo
        .get(&format!("/api/v1/conversations/{}", answered.id))
        .await
        .json()
        .await
        .unwrap();
    let ours = thread.items.last().unwrap();
    assert_eq!(ours.author.as_deref(), Some("Dana Demo"));
    assert_eq!(ours.status, Some(aura_types::MessageStatus::Sent));
    assert!(inbox
        .items
        .iter()
        .any(|c| c.assignee_name.as_deref() == Some("Sam Agent") && c.needs_reply));
    assert!(inbox
        .items
        .iter()
        .any(|c| c.classification == Some(aura_types::ai::ReplyLabel::OutOfOffice)));
    let all: Page<Contact> = demo
        .get("/api/v1/contacts?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.total, 160);
    let articles: Vec<serde_json::Value> =
        demo.get("/api/v1/ai/knowledge").await.json().await.unwrap();
    assert_eq!(articles.len(), 3);
    let personas: Vec<serde_json::Value> =
        demo.get("/api/v1/ai/personas").await.json().await.unwrap();
    assert_eq!(
        personas.len(),
        4,
        "every organization starts with the four personas"
    );
    let with_tz: Page<Contact> = demo
        .get("/api/v1/contacts?limit=1&country=IN,AE,GB,TR")
        .await
        .json()
        .await
        .unwrap();
    assert!(with_tz.total > 40, "several countries are represented");
    let tags: Vec<TagCount> = demo
        .get("/api/v1/contacts/tags")
        .await
        .json()
        .await
        .unwrap();
    assert!(tags.iter().any(|t| t.tag == "buyer") && tags.iter().any(|t| t.tag == "seller"));
    let segments: Vec<Segment> = demo.get("/api/v1/segments").await.json().await.unwrap();
    assert_eq!(segments.len(), 2);
    assert!(segments.iter().all(|s| s.member_count > 0), "{segments:?}");
    let phones: i64 = sqlx::query_scalar(
        "select count(*) from contacts where phone like '+%' and timezone is not null",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(phones > 50, "phones are E.164 and time zones inferred");

    // A whole campaign runs on the sandbox mailbox: prepare, approve, launch, and every enrolled
    // visitor's first email lands in the Outbox.
    let mailboxes: Vec<aura_types::Mailbox> =
        demo.get("/api/v1/mailboxes").await.json().await.unwrap();
    assert_eq!(mailboxes.len(), 1);
    assert_eq!(mailboxes[0].kind, aura_types::MailboxKind::Sandbox);
    let enrolled = run_demo_campaign(&app, &demo).await;
    let outbox_page = |query: String| {
        let demo = &demo;
        async move {
            let page: aura_types::Page<aura_types::OutboxItem> = demo
                .get(&format!("/api/v1/outbox{query}"))
                .await
                .json()
                .await
                .unwrap();
            page
        }
    };
    let page = outbox_page("?limit=200".into()).await;
    assert_eq!(page.total, enrolled);
    let outbox = page.items;
    assert_eq!(i64::try_from(outbox.len()).unwrap(), enrolled.min(200));
    assert!(
        outbox.windows(2).all(|w| w[0].caught_at >= w[1].caught_at),
        "newest first"
    );
    // A page at a time: the same order, the same total, and no cursor after the last page.
    let first = outbox_page("?limit=1".into()).await;
    assert_eq!(first.items, outbox[..1].to_vec());
    let cursor = first.next_cursor.expect("a cursor to the second page");
    let second = outbox_page(format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(second.total, enrolled);
    assert_eq!(second.items, outbox[1..3].to_vec());
    let all = outbox_page("?limit=200".into()).await;
    assert_eq!(all.next_cursor.is_some(), enrolled > 200);
    for bad in ["?cursor=somewhere", "?limit=0", "?limit=201"] {
        let res = demo.get(&format!("/api/v1/outbox{bad}")).await;
        assert_eq!(
            res.status(),
            reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
    let bad = demo.get("/api/v1/outbox?limit=many").await;
    assert_eq!(bad.status(), reqwest::StatusCode::BAD_REQUEST);
    // Another organization's outbox is its own.
    let other = app.signup("other@example.org", "Other Realty").await;
    let theirs: aura_types::Page<aura_types::OutboxItem> =
        other.get("/api/v1/outbox").await.json().await.unwrap();
    assert_eq!((theirs.total, theirs.items.len()), (0, 0));
    let caught: aura_types::OutboxMessage = demo
        .get(&format!("/api/v1/outbox/{}", outbox[0].id))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        caught
            .raw
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{}",
        caught.raw
    );
    assert!(caught.raw.contains("120 Harbor Street"));
}

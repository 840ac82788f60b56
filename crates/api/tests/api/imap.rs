//! Replies read over IMAP from a real Dovecot: the demo campaign's emails are answered the ways
//! leads' servers answer — a Gmail-style reply, an Outlook reply without threading headers, a
//! reply to the Message-ID the provider rewrote (learned from Sent), a Postfix hard bounce, a
//! delayed DSN, out-of-offices with and without headers, an unsubscribe request in words, an ARF
//! complaint, a reply filed in Junk — and each lands in its conversation with its outcome, read
//! by two workers at once, once, across a server restart and a new UIDVALIDITY, with nothing on
//! the server marked read or moved.

use crate::dovecot::{Dovecot, PASSWORD};
use crate::helpers::*;
use aura_api::inbox::simulate::{answer, letter, Letter, Original};
use aura_types::{MailboxSync, MailboxTest, OutboxItem, OutboxMessage, Page, SimulatedKind};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

const USER: &str = "dana";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/inbound");

fn original<'a>(s: &'a Sent, key: &'a str) -> Original<'a> {
    Original {
        key,
        recipient: &s.lead,
        subject: &s.subject,
        raw: &s.raw,
    }
}

/// One of our sent messages, as the lead received it.
struct Sent {
    lead: String,
    ours: String,
    subject: String,
    /// Without brackets.
    message_id: String,
    raw: Vec<u8>,
}

fn header_of(raw: &str, name: &str) -> String {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    raw.lines()
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_owned())
        .unwrap()
}

/// A corpus message made about `s`: its lead, our address, our Message-ID and subject put in
/// place of the fixture's.
fn from_corpus(file: &str, lead: &str, message_id: &str, subject: &str, s: &Sent) -> Vec<u8> {
    std::fs::read_to_string(format!("{FIXTURES}/{file}"))
        .unwrap()
        .replace(lead, &s.lead)
        .replace("dana@aura-demo.example", &s.ours)
        .replace(message_id, &s.message_id)
        .replace(subject, &s.subject)
        .into_bytes()
}

fn reply(s: &Sent, id: &str, subject: &str, threading: &str, body: &str) -> Vec<u8> {
    letter(&Letter {
        from: &s.lead,
        to: &s.ours,
        subject,
        id,
        date: OffsetDateTime::now_utc(),
        extra: threading,
        body,
    })
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// Waits (up to 30 s) until `sql` counts `want`.
async fn until_count(app: &TestApp, sql: &str, want: i64) {
    for _ in 0..300 {
        if count(app, sql).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{sql} stayed at {} (wanted {want})", count(app, sql).await);
}

async fn target(app: &TestApp, lead: &str) -> (String, Option<OffsetDateTime>) {
    sqlx::query_as(
        "select t.status::text, t.next_run_at from campaign_targets t
         join contacts c on c.org_id = t.org_id and c.id = t.contact_id
         where lower(c.email) = lower($1)",
    )
    .bind(lead)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn suppressed(app: &TestApp, lead: &str) -> Vec<String> {
    sqlx::query_scalar("select reason::text from suppressions where lower(value) = lower($1)")
        .bind(lead)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// The kind of what arrived from (or about) `lead`, and whether it matched a message of ours.
async fn arrived(app: &TestApp, id: &str) -> (String, Option<uuid::Uuid>) {
    sqlx::query_as(
        "select kind::text, campaign_message_id from inbound_messages where message_id = $1",
    )
    .bind(id.trim_matches(['<', '>']))
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn campaign_message(app: &TestApp, message_id: &str) -> (uuid::Uuid, String) {
    sqlx::query_as("select id, status::text from campaign_messages where message_id = $1")
        .bind(message_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn replies_bounces_and_auto_replies_are_read_from_the_mailbox(pool: PgPool) {
    let mut dovecot = Dovecot::start();
    let app = spawn_app_with(pool, &[("AURA_IMAP_POLL_SECS", "1")]).await;
    let seeded = aura_api::seed::seed_demo(&app.pool).await.unwrap();
    let demo = demo_login(&app, seeded.email, seeded.password).await;
    run_demo_campaign(&app, &demo).await;
    let outbox: Page<OutboxItem> = demo
        .get("/api/v1/outbox?limit=20")
        .await
        .json()
        .await
        .unwrap();
    assert!(outbox.items.len() >= 11, "{}", outbox.items.len());
    let mut sent = Vec::new();
    for item in &outbox.items {
        let m: OutboxMessage = demo
            .get(&format!("/api/v1/outbox/{}", item.id))
            .await
            .json()
            .await
            .unwrap();
        let from = header_of(&m.raw, "From");
        let ours = from
            .rsplit_once('<')
            .map_or(from.as_str(), |(_, a)| a.trim_end_matches('>'))
            .to_owned();
        sent.push(Sent {
            lead: m.item.recipient.clone(),
            ours,
            subject: m.item.subject.clone(),
            message_id: header_of(&m.raw, "Message-ID")
                .trim_matches(['<', '>'])
                .to_owned(),
            raw: m.raw.into_bytes(),
        });
    }
    let mailbox = outbox.items[0].mailbox_id.unwrap();

    // The mailbox's IMAP settings, and its Test: logged in, folders found.
    let res = demo
        .patch(
            &format!("/api/v1/mailboxes/{mailbox}"),
            json!({"imap": {"host": "127.0.0.1", "port": dovecot.port, "security": "none",
                            "username": USER, "password": PASSWORD}}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let test: MailboxTest = demo
        .post(&format!("/api/v1/mailboxes/{mailbox}/imap/test"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(test.ok, "{test:?}");
    let stages: Vec<&str> = test.stages.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(stages, ["connect", "greeting", "login", "folders"]);
    assert_eq!(
        test.stages[3].detail,
        "INBOX (inbox), Junk (junk), Sent (sent)"
    );

    // What the leads' side sends back.
    let [gmail, outlook, rewritten, hard, delayed, away, abwesend, unsubscribe, complaint, junk, later, ..] =
        &sent[..]
    else {
        unreachable!()
    };
    let now = OffsetDateTime::now_utc();
    let thread = |s: &Sent| format!("In-Reply-To: <{0}>\r\nReferences: <{0}>\r\n", s.message_id);
    let provider_id = "AM0PR07MB5113A1B2C3D4E5F6@AM0PR07MB5113.eurprd07.prod.outlook.com";
    let sent_copy = String::from_utf8(rewritten.raw.clone())
        .unwrap()
        .replace(&rewritten.message_id, provider_id);
    let inbox: Vec<(&str, Vec<u8>)> = vec![
        (
            "<gmail-1@mail.gmail.com>",
            reply(
                gmail,
                "<gmail-1@mail.gmail.com>",
                &format!("Re: {}", gmail.subject),
                &thread(gmail),
                "Yes please, a private viewing on Thursday would be great.\r\n\r\nOn Mon, Dana wrote:\r\n> Hi\r\n",
            ),
        ),
        (
            "<DB9PR03MB7321A4E0C2B5F7E91D3C8A6FB5A92@DB9PR03MB7321.eurprd03.prod.example.org>",
            from_corpus(
                "02-outlook-reply-no-threading.eml",
                "p.lindqvist@example.org",
                "msg-02.step1@aura-demo.example",
                "Your home's value in Bayview",
                outlook,
            ),
        ),
        (
            "<rewritten-1@example.net>",
            reply(
                rewritten,
                "<rewritten-1@example.net>",
                "Garden",
                &format!("In-Reply-To: <{provider_id}>\r\n"),
                "Is the garden south facing?\r\n",
            ),
        ),
        (
            "<20261214081251.7A3C21E0F42@smtp-out1.aura-demo.example>",
            from_corpus(
                "19-bounce-postfix-user-unknown.eml",
                "olivia.brandt@example.net",
                "msg-19.step1@aura-demo.example",
                "Quick question about your listing",
                hard,
            ),
        ),
        (
            "<20261217120540.3B9E41E0A17@smtp-out1.aura-demo.example>",
            from_corpus(
                "24-bounce-delayed-transient.eml",
                "l.moreau@example.net",
                "msg-24.step1@aura-demo.example",
                "Quick question about your listing",
                delayed,
            ),
        ),
        (
            "(simulated)",
            answer(SimulatedKind::OutOfOffice, &original(away, "o6"), now),
        ),
        (
            "<abwesend-1@example.de>",
            reply(
                abwesend,
                "<abwesend-1@example.de>",
                &format!("Abwesenheitsnotiz: {}", abwesend.subject),
                "",
                "Vielen Dank für Ihre Nachricht. Ich bin derzeit nicht im Büro und habe nur \
                 eingeschränkt Zugriff auf meine E-Mails.\r\n",
            ),
        ),
        (
            "(simulated)",
            answer(SimulatedKind::Unsubscribe, &original(unsubscribe, "o8"), now),
        ),
        (
            "<cfl-7e21b0c9a4f3.1797258208@fbl.mail.example.net>",
            from_corpus(
                "30-complaint-arf-headers-only.eml",
                "p.osei@example.net",
                "msg-30.step2@aura-demo.example",
                "Your home's value in Bayview",
                complaint,
            ),
        ),
    ];
    for (_, raw) in &inbox {
        dovecot.append(USER, "INBOX", raw).await;
    }
    let junk_id = "<junk-1@example.com>";
    dovecot
        .append(
            USER,
            "Junk",
            &reply(
                junk,
                junk_id,
                &format!("Re: {}", junk.subject),
                &thread(junk),
                "Sorry for the late answer, your email was in my spam. Still interested!\r\n",
            ),
        )
        .await;
    dovecot.append(USER, "Sent", sent_copy.as_bytes()).await;
    let flags_before = (
        dovecot.flags(USER, "INBOX").await,
        dovecot.flags(USER, "Junk").await,
        dovecot.flags(USER, "Sent").await,
    );
    let before = |s: &Sent| {
        let app = &app;
        let lead = s.lead.clone();
        async move { target(app, &lead).await }
    };
    let away_before = before(away).await;
    let abwesend_before = before(abwesend).await;
    assert_eq!(away_before.0, "active");

    // The demo's seeded conversations have mail of their own.
    let base = count(&app, "select count(*) from inbound_messages").await;
    // Two workers at once read the mailbox.
    let readers: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(
                Arc::new(aura_api::workers::sync::Reader::new(
                    app.pool.clone(),
                    app.settings.clone(),
                    app.sealer.clone(),
                ))
                .run_forever(),
            )
        })
        .collect();
    until_count(&app, "select count(*) from inbound_messages", base + 10).await;

    // Each landed with its outcome.
    let kind_of = |id: &'static str| arrived(&app, id);
    let (kind, matched) = kind_of("<gmail-1@mail.gmail.com>").await;
    assert_eq!(kind, "reply");
    assert_eq!(
        matched,
        Some(campaign_message(&app, &gmail.message_id).await.0)
    );
    assert_eq!(target(&app, &gmail.lead).await.0, "completed");
    let (kind, matched) = arrived(&app, inbox[1].0).await;
    assert_eq!(kind, "reply");
    assert_eq!(
        matched,
        Some(campaign_message(&app, &outlook.message_id).await.0)
    );
    assert_eq!(target(&app, &outlook.lead).await.0, "completed");
    // Matched through the Message-ID the provider gave our message (learned from Sent).
    let (kind, matched) = kind_of("<rewritten-1@example.net>").await;
    assert_eq!(kind, "reply");
    assert_eq!(
        matched,
        Some(campaign_message(&app, &rewritten.message_id).await.0)
    );
    assert_eq!(target(&app, &rewritten.lead).await.0, "completed");
    // A hard bounce: message bounced, address suppressed, sequence stopped.
    let (kind, matched) = arrived(&app, inbox[3].0).await;
    assert_eq!(kind, "bounce");
    let (hard_id, status) = campaign_message(&app, &hard.message_id).await;
    assert_eq!((matched, status.as_str()), (Some(hard_id), "bounced"));
    assert_eq!(suppressed(&app, &hard.lead).await, ["bounced"]);
    assert_eq!(target(&app, &hard.lead).await.0, "completed");
    // A delayed DSN: recorded, nothing suppressed, the sequence goes on.
    let (kind, matched) = arrived(&app, inbox[4].0).await;
    assert_eq!(kind, "bounce");
    assert_eq!(
        matched,
        Some(campaign_message(&app, &delayed.message_id).await.0)
    );
    assert!(suppressed(&app, &delayed.lead).await.is_empty());
    assert_eq!(target(&app, &delayed.lead).await.0, "active");
    // Out of office (Auto-Submitted, a return date in ten days): postponed, not stopped.
    let after = target(&app, &away.lead).await;
    assert_eq!(after.0, "active");
    assert!(
        after.1.unwrap() >= now + time::Duration::days(9),
        "{after:?}"
    );
    assert!(after.1 > away_before.1);
    // Out of office with only a localised subject and no date: the default 7 days.
    let (kind, _) = kind_of("<abwesend-1@example.de>").await;
    assert_eq!(kind, "auto_reply");
    let after = target(&app, &abwesend.lead).await;
    assert_eq!(after.0, "active");
    assert!(
        after.1.unwrap() >= now + time::Duration::days(6),
        "{after:?}"
    );
    assert!(after.1 > abwesend_before.1);
    // An unsubscribe request in words, and a complaint: suppressed.
    assert_eq!(suppressed(&app, &unsubscribe.lead).await, ["unsubscribed"]);
    let (kind, _) = arrived(&app, inbox[8].0).await;
    assert_eq!(kind, "complaint");
    assert_eq!(suppressed(&app, &complaint.lead).await, ["complaint"]);
    // A reply filed in Junk counts like any other.
    assert_eq!(kind_of(junk_id).await.0, "reply");
    assert_eq!(target(&app, &junk.lead).await.0, "completed");
    // One conversation per lead who wrote (or was written about), each with its mail.
    let mut ids: Vec<String> = inbox
        .iter()
        .map(|(id, _)| id.trim_matches(['<', '>']).to_owned())
        .collect();
    ids[5] = format!("o6.out_of_office@{}", away.lead.rsplit_once('@').unwrap().1);
    ids[7] = format!(
        "o8.unsubscribe@{}",
        unsubscribe.lead.rsplit_once('@').unwrap().1
    );
    ids.push(junk_id.trim_matches(['<', '>']).to_owned());
    let conversations: i64 = sqlx::query_scalar(
        "select count(distinct conversation_id) from inbound_messages where message_id = any($1)",
    )
    .bind(&ids)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(conversations, 10);

    // Nothing on the server was marked read, moved or deleted.
    let flags_after = (
        dovecot.flags(USER, "INBOX").await,
        dovecot.flags(USER, "Junk").await,
        dovecot.flags(USER, "Sent").await,
    );
    assert_eq!(flags_before, flags_after);
    assert!(flags_after.0.iter().all(|(_, seen)| !seen));
    assert_eq!(flags_after.0.len(), 9);

    // The sync's health.
    let health: MailboxSync = demo
        .get(&format!("/api/v1/mailboxes/{mailbox}/sync"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        health.configured && health.active && health.idling,
        "{health:?}"
    );
    assert_eq!(health.last_error, None);
    let roles: Vec<(&str, i64)> = health
        .folders
        .iter()
        .map(|f| (f.role.as_str(), f.messages))
        .collect();
    assert_eq!(roles, [("inbox", 9), ("junk", 1), ("sent", 1)]);
    let validity = health.folders[0].uid_validity;

    // The server restarts with a new UIDVALIDITY on INBOX, and one more reply arrived: only the
    // new one is taken in.
    dovecot.renew_uidvalidity(USER, "INBOX");
    let later_id = "<later-1@example.org>";
    dovecot
        .append(
            USER,
            "INBOX",
            &reply(
                later,
                later_id,
                &format!("Re: {}", later.subject),
                &thread(later),
                "Can we see it on Saturday?\r\n",
            ),
        )
        .await;
    until_count(&app, "select count(*) from inbound_messages", base + 11).await;
    assert_eq!(kind_of(later_id).await.0, "reply");
    for _ in 0..100 {
        let h: MailboxSync = demo
            .get(&format!("/api/v1/mailboxes/{mailbox}/sync"))
            .await
            .json()
            .await
            .unwrap();
        if h.folders[0].uid_validity != validity && h.last_error.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let h: MailboxSync = demo
        .get(&format!("/api/v1/mailboxes/{mailbox}/sync"))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(h.folders[0].uid_validity, validity);
    assert_eq!(h.folders[0].messages, 1, "{h:?}");
    // Still nothing twice, a moment later.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        count(&app, "select count(*) from inbound_messages").await,
        base + 11
    );
    // The copy of an answer written in Aura's inbox, its Message-ID replaced by the provider: it
    // is known by its answer header, not taken for one written elsewhere (checked once the
    // copy after it was read).
    let rewritten_answer = letter(&Letter {
        from: &gmail.ours,
        to: &gmail.lead,
        subject: &format!("Re: {}", gmail.subject),
        id: "<AM0PR07MB0000REWRITTEN@outlook.example>",
        date: OffsetDateTime::now_utc() + time::Duration::minutes(2),
        extra: "In-Reply-To: <gmail-1@mail.gmail.com>\r\nX-Aura-Answer: 0192f1c4-0000-7000-8000-000000000001\r\n",
        body: "See you Thursday.\r\n",
    });
    dovecot.append(USER, "Sent", &rewritten_answer).await;
    // Dana answers the Gmail lead from her phone's mail app: the copy in Sent joins the thread,
    // once, as sent; the conversation no longer waits for an answer.
    let from_phone = letter(&Letter {
        from: &gmail.ours,
        to: &gmail.lead,
        subject: &format!("Re: {}", gmail.subject),
        id: "<phone-1@mail.aura-demo.example>",
        date: OffsetDateTime::now_utc() + time::Duration::minutes(1),
        extra: "In-Reply-To: <gmail-1@mail.gmail.com>\r\n",
        body: "Thursday it is: 6 pm at the front door.\r\n\r\nSent from my phone\r\n",
    });
    dovecot.append(USER, "Sent", &from_phone).await;
    until_count(
        &app,
        "select count(*) from conversation_replies where message_id = 'phone-1@mail.aura-demo.example' and status = 'sent' and in_reply_to = 'gmail-1@mail.gmail.com'",
        1,
    )
    .await;
    let waiting: bool = sqlx::query_scalar(
        "select v.needs_reply from conversations v join inbound_messages i on i.conversation_id = v.id
         where i.message_id = 'gmail-1@mail.gmail.com'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(!waiting);
    assert_eq!(
        count(
            &app,
            "select count(*) from conversation_replies where message_id = 'AM0PR07MB0000REWRITTEN@outlook.example'"
        )
        .await,
        0
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        count(
            &app,
            "select count(*) from conversation_replies where message_id = 'phone-1@mail.aura-demo.example'"
        )
        .await,
        1
    );
    for r in readers {
        r.abort();
    }
}

use crate::{helpers::*, smtp};
use aura_types::CreatedInvitation;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn invitations_are_emailed_over_smtp(pool: PgPool) {
    let sink = smtp::start(false).await;
    let app = spawn_app_with(
        pool,
        &[
            ("AURA_SMTP_URL", &sink.url),
            ("AURA_MAIL_FROM", "Aura <invites@example.com>"),
        ],
    )
    .await;
    let owner = app.signup("owner@example.com", "Harbor Homes").await;
    let res = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "agent@example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: CreatedInvitation = res.json().await.unwrap();
    assert!(created.email_sent);

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert!(mail.contains("From: Aura <invites@example.com>"), "{mail}");
    assert!(mail.contains("To: agent@example.com"), "{mail}");
    assert!(
        mail.contains("Subject: Test Person invited you to Harbor Homes on Aura"),
        "{mail}"
    );
    assert!(mail.contains("as admin"), "{mail}");
    assert!(
        mail.contains(&created.accept_url),
        "the email must carry the accept link: {mail}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_refused_email_keeps_the_invitation_and_says_so(pool: PgPool) {
    let sink = smtp::start(true).await;
    let app = spawn_app_with(pool, &[("AURA_SMTP_URL", &sink.url)]).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let res = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "nobody@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: CreatedInvitation = res.json().await.unwrap();
    assert!(!created.email_sent);
    assert!(sink.messages().is_empty());
    // The link still works.
    let res = app
        .post_json(
            &client(),
            "/api/v1/auth/invitations/preview",
            json!({"token": created.token}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_smtp_the_link_is_shared_by_hand(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let created: CreatedInvitation = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "x@example.com", "role": "member"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(!created.email_sent);
    assert!(created.accept_url.contains("#token="));
}

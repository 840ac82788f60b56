use crate::helpers::*;
use aura_types::{CreatedInvitation, ErrorCode, InvitationPreview, Member, Role, Session};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn invite_preview_and_accept_as_a_new_person(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Sunrise Realty").await;
    let res = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "Agent@Example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: CreatedInvitation = res.json().await.unwrap();
    assert!(created
        .accept_url
        .ends_with(&format!("/accept-invite#token={}", created.token)));
    assert_eq!(
        created.invitation.invited_by.as_deref(),
        Some("Test Person")
    );
    // The token is stored hashed, never as sent.
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from invitations where token_hash = convert_to($1, 'UTF8')",
    )
    .bind(&created.token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);

    let listed: Vec<aura_types::Invitation> =
        owner.get("/api/v1/invitations").await.json().await.unwrap();
    assert_eq!(listed, vec![created.invitation.clone()]);

    let c = client();
    let preview: InvitationPreview = app
        .post_json(
            &c,
            "/api/v1/auth/invitations/preview",
            json!({"token": created.token}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            preview.organization_name.as_str(),
            preview.role,
            preview.existing_user
        ),
        ("Sunrise Realty", Role::Admin, false)
    );

    // A new account needs a name and a long enough password.
    let res = app
        .post_json(
            &c,
            "/api/v1/auth/invitations/accept",
            json!({"token": created.token, "password": "short"}),
        )
        .await;
    let err = expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(
        err.fields.as_ref().unwrap().contains_key("name")
            && err.fields.unwrap().contains_key("password")
    );

    let res = app
        .post_json(
            &c,
            "/api/v1/auth/invitations/accept",
            json!({"token": created.token, "name": "Alex Agent", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let session: Session = res.json().await.unwrap();
    assert_eq!(session.me.active_organization_id, owner.org_id());
    assert_eq!(session.me.role, Role::Admin);

    let members: Vec<Member> = owner.get("/api/v1/members").await.json().await.unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| (m.name.as_str(), m.role))
            .collect::<Vec<_>>(),
        vec![("Test Person", Role::Owner), ("Alex Agent", Role::Admin)]
    );
    // An invitation is used once.
    let res = app
        .post_json(
            &c,
            "/api/v1/auth/invitations/accept",
            json!({"token": created.token, "name": "Again", "password": PASSWORD}),
        )
        .await;
    expect_error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
    assert!(owner
        .get("/api/v1/invitations")
        .await
        .json::<Vec<serde_json::Value>>()
        .await
        .unwrap()
        .is_empty());
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_existing_account_accepts_with_its_password(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("boss@example.com", "Brand A").await;
    let other = app.signup("freelancer@example.com", "Brand B").await;
    let created: CreatedInvitation = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "freelancer@example.com", "role": "member"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let c = client();
    let preview: InvitationPreview = app
        .post_json(
            &c,
            "/api/v1/auth/invitations/preview",
            json!({"token": created.token}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(preview.existing_user);
    let before = app.snapshot().await;
    let res = app
        .post_json(
            &c,
            "/api/v1/auth/invitations/accept",
            json!({"token": created.token, "password": "not the password"}),
        )
        .await;
    expect_error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
    assert_eq!(app.snapshot().await, before);
    let session: Session = app
        .post_json(
            &c,
            "/api/v1/auth/invitations/accept",
            json!({"token": created.token, "password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session.me.user.id, other.user_id());
    assert_eq!(session.me.memberships.len(), 2);
}

#[sqlx::test(migrations = "../../migrations")]
async fn duplicate_invitations_and_inviting_members_conflict(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("o@example.com", "Org").await;
    assert_eq!(
        owner
            .post(
                "/api/v1/invitations",
                json!({"email": "x@example.com", "role": "member"})
            )
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "X@example.com", "role": "member"}),
        )
        .await;
    expect_error(res, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    let res = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "o@example.com", "role": "member"}),
        )
        .await;
    expect_error(res, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    let res = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "nope", "role": "member"}),
        )
        .await;
    expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let res = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "y@example.com", "role": "emperor"}),
        )
        .await;
    let err = expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    assert!(err.fields.unwrap().contains_key("role"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn revoked_invitations_cannot_be_accepted(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("o@example.com", "Org").await;
    let created: CreatedInvitation = owner
        .post(
            "/api/v1/invitations",
            json!({"email": "gone@example.com", "role": "member"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        owner
            .delete(&format!("/api/v1/invitations/{}", created.invitation.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let res = owner
        .delete(&format!("/api/v1/invitations/{}", created.invitation.id))
        .await;
    expect_error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
    let res = app
        .post_json(
            &client(),
            "/api/v1/auth/invitations/preview",
            json!({"token": created.token}),
        )
        .await;
    expect_error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn roles_limit_who_manages_whom(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("owner@example.com", "Org").await;
    let admin = app.add_member(&owner, "admin@example.com", "admin").await;
    let member = app.add_member(&owner, "member@example.com", "member").await;

    // Members cannot manage anything.
    let res = member
        .post(
            "/api/v1/invitations",
            json!({"email": "z@example.com", "role": "member"}),
        )
        .await;
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    let res = member
        .patch(
            &format!("/api/v1/members/{}", admin.user_id()),
            json!({"role": "member"}),
        )
        .await;
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    let res = member
        .patch("/api/v1/organizations/current", json!({"name": "Hijacked"}))
        .await;
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;

    // Admins cannot make owners, invite owners, or touch owners.
    let res = admin
        .patch(
            &format!("/api/v1/members/{}", member.user_id()),
            json!({"role": "owner"}),
        )
        .await;
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    let res = admin
        .post(
            "/api/v1/invitations",
            json!({"email": "o2@example.com", "role": "owner"}),
        )
        .await;
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
    let res = admin
        .delete(&format!("/api/v1/members/{}", owner.user_id()))
        .await;
    expect_error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;

    // Admins manage members.
    let res = admin
        .patch(
            &format!("/api/v1/members/{}", member.user_id()),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Member>().await.unwrap().role, Role::Admin);
    // The role change takes effect at once for the changed person.
    assert_eq!(
        member
            .post(
                "/api/v1/invitations",
                json!({"email": "z@example.com", "role": "member"})
            )
            .await
            .status(),
        StatusCode::CREATED
    );

    // Removing someone ends their access at once.
    assert_eq!(
        owner
            .delete(&format!("/api/v1/members/{}", member.user_id()))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    expect_error(
        member.get("/api/v1/organizations/current").await,
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthorized,
    )
    .await;
    let res = member
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_last_owner_cannot_be_demoted_or_removed(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.signup("solo@example.com", "Org").await;
    let me = format!("/api/v1/members/{}", owner.user_id());
    let before = app.snapshot().await;
    let res = owner.patch(&me, json!({"role": "admin"})).await;
    expect_error(res, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    let res = owner.delete(&me).await;
    expect_error(res, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    assert_eq!(app.snapshot().await, before);

    // With a second owner, the first may step down.
    let second = app.add_member(&owner, "second@example.com", "owner").await;
    assert_eq!(
        owner.patch(&me, json!({"role": "admin"})).await.status(),
        StatusCode::OK
    );
    // …and now the second is the last one.
    let res = second
        .delete(&format!("/api/v1/members/{}", second.user_id()))
        .await;
    expect_error(res, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    // A member may leave on their own.
    let leaver = app
        .add_member(&second, "leaver@example.com", "member")
        .await;
    assert_eq!(
        leaver
            .delete(&format!("/api/v1/members/{}", leaver.user_id()))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_owners_stepping_down_at_once_leave_one_owner(pool: PgPool) {
    let app = spawn_app_with(pool, &[("AURA_HTTP_WORKERS", "2")]).await;
    let first = app.signup("first@example.com", "Org").await;
    let second = app.add_member(&first, "second@example.com", "owner").await;
    for _ in 0..5 {
        // Both try to step down at the same moment; the membership lock serialises them.
        let (first_path, second_path) = (
            format!("/api/v1/members/{}", first.user_id()),
            format!("/api/v1/members/{}", second.user_id()),
        );
        let (a, b) = tokio::join!(
            first.patch(&first_path, json!({"role": "admin"})),
            second.patch(&second_path, json!({"role": "admin"})),
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
        let owners: i64 =
            sqlx::query_scalar("select count(*) from memberships where role = 'owner'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(owners, 1);
        // Whoever is still owner makes the other an owner again for the next round.
        let (owner, other) = if a.status() == StatusCode::CONFLICT {
            (&first, &second)
        } else {
            (&second, &first)
        };
        let res = owner
            .patch(
                &format!("/api/v1/members/{}", other.user_id()),
                json!({"role": "owner"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}

use crate::helpers::*;
use aura_api::auth::tokens::{AUDIENCE, ISSUER};
use aura_api::crypto::derive_key;
use aura_types::{ErrorCode, Me, Role, Session};
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn signup_creates_organization_owner_and_session(pool: PgPool) {
    let app = spawn_app(pool).await;
    let client = client();
    let res = app
        .post_json(
            &client,
            "/api/v1/auth/signup",
            json!({"email": "Jane@Example.com", "password": PASSWORD, "name": "Jane", "organization_name": "Sunrise Realty"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("aura_refresh="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/api/v1/auth"] {
        assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain-http installs cannot use Secure cookies"
    );
    let session: Session = res.json().await.unwrap();
    assert_eq!(session.token_type, "Bearer");
    assert_eq!(session.me.role, Role::Owner);
    assert_eq!(session.me.user.email, "Jane@example.com");
    assert_eq!(session.me.memberships.len(), 1);
    assert_eq!(
        session.me.memberships[0].organization_name,
        "Sunrise Realty"
    );
    assert_eq!(
        session.me.memberships[0].organization_slug,
        "sunrise-realty"
    );

    let me: Me = client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&session.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me, session.me);
}

#[sqlx::test(migrations = "../../migrations")]
async fn secure_cookie_when_served_over_https(pool: PgPool) {
    let app = spawn_app_with(pool, &[("AURA_PUBLIC_URL", "https://aura.example.com")]).await;
    let res = app
        .post_json(&client(), "/api/v1/auth/signup", json!({"email": "s@example.com", "password": PASSWORD, "name": "S", "organization_name": "S"}))
        .await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn duplicate_email_is_a_conflict_whatever_its_case(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.signup("dup@example.com", "First").await;
    let before = app.row_counts().await;
    let res = app
        .post_json(&client(), "/api/v1/auth/signup", json!({"email": "DUP@example.COM", "password": PASSWORD, "name": "X", "organization_name": "Second"}))
        .await;
    expect_error(res, StatusCode::CONFLICT, ErrorCode::Conflict).await;
    assert_eq!(
        app.row_counts().await,
        before,
        "a refused sign-up left rows behind"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn weak_password_and_bad_fields_are_named(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app
        .post_json(&client(), "/api/v1/auth/signup", json!({"email": "not-an-email", "password": "short", "name": "", "organization_name": "Org"}))
        .await;
    let err = expect_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
    )
    .await;
    let fields = err.fields.unwrap();
    assert!(fields["password"].contains("10"), "{fields:?}");
    assert!(fields.contains_key("email") && fields.contains_key("name"));
    assert!(!fields.contains_key("organization_name"));
    assert_eq!(
        app.row_counts().await.iter().map(|(_, n)| n).sum::<i64>(),
        0
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn login_answers_the_same_for_unknown_email_and_wrong_password(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.signup("login@example.com", "Org").await;
    let ok = app.login("LOGIN@example.com", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let wrong = expect_error(
        app.login("login@example.com", "wrong password!!").await,
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthorized,
    )
    .await;
    let unknown = expect_error(
        app.login("nobody@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthorized,
    )
    .await;
    assert_eq!(wrong.message, unknown.message);
}

#[sqlx::test(migrations = "../../migrations")]
async fn passwords_are_stored_with_argon2id_at_owasp_parameters(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.signup("hash@example.com", "Org").await;
    let hash: String = sqlx::query_scalar("select password_hash from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    let params = hash.split('$').nth(3).unwrap();
    let get = |k: &str| -> u32 {
        params
            .split(',')
            .find_map(|p| p.strip_prefix(&format!("{k}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        get("m") >= 19456 && get("t") >= 2 && get("p") >= 1,
        "{params}"
    );
    assert!(!hash.contains(PASSWORD));
}

#[sqlx::test(migrations = "../../migrations")]
async fn repeated_failures_for_one_email_are_throttled(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.signup("victim@example.com", "Org").await;
    for _ in 0..5 {
        assert_eq!(
            app.login("victim@example.com", "wrong password!!")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused while throttled.
    let res = app.login("victim@example.com", PASSWORD).await;
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 900, "{retry_after}");
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited).await;
    // Another account is not affected by this email's failures.
    app.signup("other@example.com", "Other").await;
    assert_eq!(
        app.login("other@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn repeated_failures_from_one_address_are_throttled(pool: PgPool) {
    let app = spawn_app_with(pool, &[("AURA_LOGIN_MAX_FAILURES_PER_IP", "3")]).await;
    for i in 0..3 {
        assert_eq!(
            app.login(&format!("guess{i}@example.com"), "whatever1234")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.login("guess9@example.com", "whatever1234").await;
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited).await;
}

fn claims(sub: uuid::Uuid, org: uuid::Uuid, exp_offset: i64, aud: &str) -> serde_json::Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({"sub": sub, "org": org, "iat": now, "exp": now + exp_offset, "iss": ISSUER, "aud": aud})
}

#[sqlx::test(migrations = "../../migrations")]
async fn forged_expired_and_misaddressed_tokens_are_refused(pool: PgPool) {
    use base64::Engine as _;
    let app = spawn_app(pool).await;
    let user = app.signup("tok@example.com", "Org").await;
    assert_eq!(user.get("/api/v1/me").await.status(), StatusCode::OK);
    let key = derive_key(SECRET.as_bytes(), b"aura access tokens v1");
    let (sub, org) = (user.user_id().0, user.org_id().0);
    let sign = |c: serde_json::Value| {
        encode(&Header::default(), &c, &EncodingKey::from_secret(&key)).unwrap()
    };
    // Sanity: a token we sign ourselves with the right key and claims is accepted.
    let good = sign(claims(sub, org, 300, AUDIENCE));
    let res = client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut tampered = user.token.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let payload = b64.encode(claims(sub, org, 300, AUDIENCE).to_string());
    let cases = [
        ("tampered signature", String::from_utf8(tampered).unwrap()),
        ("expired", sign(claims(sub, org, -120, AUDIENCE))),
        (
            "wrong audience",
            sign(claims(sub, org, 300, "someone-else")),
        ),
        (
            "alg none",
            format!("{}.{payload}.", b64.encode(r#"{"alg":"none","typ":"JWT"}"#)),
        ),
        (
            "other secret",
            encode(
                &Header::default(),
                &claims(sub, org, 300, AUDIENCE),
                &EncodingKey::from_secret(b"another-secret-another-secret-00"),
            )
            .unwrap(),
        ),
        ("garbage", "not.a.token".into()),
    ];
    for (what, token) in cases {
        let res = client()
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{what} was accepted"
        );
        expect_error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
    }
    let res = client().get(app.url("/api/v1/me")).send().await.unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn refresh_rotates_and_reuse_revokes_the_family(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("refresh@example.com", "Org").await;
    let res = user
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rotated_cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let session: Session = res.json().await.unwrap();
    assert_eq!(session.me.user.id, user.user_id());

    // The first token is now marked used, and its successor belongs to the same family.
    let used: Vec<(uuid::Uuid, Option<time::OffsetDateTime>)> =
        sqlx::query_as("select family_id, rotated_at from refresh_tokens order by created_at")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(used.len(), 2);
    assert!(used[0].1.is_some() && used[1].1.is_none());
    assert_eq!(used[0].0, used[1].0, "the successor is in the same family");

    // Present the new one twice: the second presentation is a reuse.
    let new_value = rotated_cookie.split(';').next().unwrap().to_owned();
    let res = client()
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", &new_value)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client()
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", &new_value)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
    // Reuse revoked the whole family: even the latest token no longer works.
    let live: i64 =
        sqlx::query_scalar("select count(*) from refresh_tokens where revoked_at is null")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(live, 0);
    let res = user
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn logout_revokes_the_session_and_clears_the_cookie(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = app.signup("logout@example.com", "Org").await;
    let res = user
        .client
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        cookie.contains("aura_refresh=;") || cookie.contains("Max-Age=0"),
        "{cookie}"
    );
    let live: i64 =
        sqlx::query_scalar("select count(*) from refresh_tokens where revoked_at is null")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(live, 0);
    let res = user
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn switching_organization_changes_what_the_session_acts_for(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut user = app.signup("agency@example.com", "Agency One").await;
    let stranger = app.signup("stranger@example.com", "Not Yours").await;
    let res = user
        .post("/api/v1/organizations", json!({"name": "Agency Two"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let second: aura_types::Organization = res.json().await.unwrap();
    assert_eq!(second.slug, "agency-two");

    let res = user
        .post(
            "/api/v1/auth/switch-organization",
            json!({"organization_id": second.id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let session: Session = res.json().await.unwrap();
    assert_eq!(session.me.active_organization_id, second.id);
    assert_eq!(session.me.memberships.len(), 2);
    user.adopt(session);
    let current: aura_types::Organization = user
        .get("/api/v1/organizations/current")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current.name, "Agency Two");
    // Refreshing keeps the organization chosen last.
    let refreshed: Session = user
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed.me.active_organization_id, second.id);

    // Someone else's organization answers 404, as if it did not exist.
    let res = user
        .post(
            "/api/v1/auth/switch-organization",
            json!({"organization_id": stranger.org_id()}),
        )
        .await;
    expect_error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
}

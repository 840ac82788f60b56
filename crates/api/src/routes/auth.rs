//! Sign-up, log-in, refresh, log-out, switching organization and accepting invitations.

use crate::routes::Routes;
use crate::{
    auth::{
        cookie::{cleared_refresh_cookie, refresh_cookie, REFRESH_COOKIE},
        password,
    },
    db::{self, sessions::Presented},
    domain::account::{Acceptance, NewSignup},
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpRequest, HttpResponse};
use aura_types::{
    AcceptInvitationRequest, ErrorBody, InvitationPreview, InvitationTokenRequest, LoginRequest,
    Me, OrgId, Role, Session, SignupRequest, SwitchOrganizationRequest, UserId,
};
use sqlx::PgConnection;
use uuid::Uuid;

pub fn scope() -> Routes {
    Routes::new("/auth")
        .post("/signup", signup)
        .post("/login", login)
        .post("/refresh", refresh)
        .post("/logout", logout)
        .post("/switch-organization", switch_organization)
        .post("/invitations/preview", preview_invitation)
        .post("/invitations/accept", accept_invitation)
}

/// Loads who `user` is in `org`, for a session or `GET /me`.
pub async fn load_me(conn: &mut PgConnection, user: UserId, org: OrgId) -> ApiResult<Me> {
    let profile = db::users::get(&mut *conn, user)
        .await?
        .ok_or(ApiError::NotFound)?;
    let memberships = db::members::memberships_of(&mut *conn, user).await?;
    let role = memberships
        .iter()
        .find(|m| m.organization_id == org)
        .map(|m| m.role)
        .ok_or(ApiError::NotFound)?;
    Ok(Me {
        user: profile,
        active_organization_id: org,
        role,
        memberships,
    })
}

/// Issues an access token and the next refresh token (in `family`, or a new one), and answers
/// with the session body and the refresh cookie.
async fn start_session(
    conn: &mut PgConnection,
    state: &AppState,
    user: UserId,
    org: OrgId,
    family: Option<Uuid>,
    status: actix_web::http::StatusCode,
) -> ApiResult<HttpResponse> {
    let refresh = db::sessions::create(
        conn,
        user,
        org,
        family,
        state.settings.refresh_token_ttl_days,
    )
    .await?;
    let me = load_me(conn, user, org).await?;
    let session = Session {
        access_token: state.jwt.issue(user, org)?,
        token_type: "Bearer".into(),
        expires_in: state.jwt.ttl_secs(),
        me,
    };
    Ok(HttpResponse::build(status)
        .cookie(refresh_cookie(&state.settings, refresh))
        .insert_header(("cache-control", "no-store"))
        .json(session))
}

#[utoipa::path(post, operation_id = "signUp", summary = "Sign up", path = "/auth/signup", tag = "auth", request_body = SignupRequest,
    description = "Creates an account, its organization and the owner membership in one transaction, and signs in. The refresh token is set as an httpOnly cookie.",
    responses(
        (status = 201, description = "Signed up and signed in", body = Session),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 409, description = "An account with this email exists", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn signup(
    state: web::Data<AppState>,
    body: Json<SignupRequest>,
) -> ApiResult<HttpResponse> {
    let signup = NewSignup::try_from(body.0)?;
    let hash = password::hash(signup.password.clone()).await?;
    let mut tx = state.pool.begin().await?;
    let user = match db::users::insert(&mut tx, &signup.email, &signup.name, &hash).await {
        Ok(id) => id,
        Err(e) if db::Duplicate::of(&e) == Some(db::Duplicate::UserEmail) => {
            return Err(ApiError::Conflict(
                "An account with this email already exists. Log in instead.".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let org = db::orgs::insert(&mut tx, &signup.organization_name, "UTC").await?;
    db::members::insert(&mut tx, org, user, Role::Owner).await?;
    let response = start_session(
        &mut tx,
        &state,
        user,
        org,
        None,
        actix_web::http::StatusCode::CREATED,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%user, %org, "signed up");
    Ok(response)
}

/// The throttling keys of an attempt: the email and the client address.
fn throttle_keys(email: &str, req: &HttpRequest) -> [String; 2] {
    let ip = crate::client_addr::of_request(req)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into());
    [
        format!("email:{}", email.trim().to_lowercase()),
        format!("ip:{ip}"),
    ]
}

/// 429 when either key had too many recent failures.
async fn check_throttle(state: &AppState, keys: &[String; 2]) -> ApiResult<()> {
    let s = &state.settings;
    for (key, max) in keys
        .iter()
        .zip([s.login_max_failures_per_email, s.login_max_failures_per_ip])
    {
        let (failures, retry_after_secs) =
            db::throttle::recent_failures(&state.pool, key, s.login_window_secs).await?;
        if failures >= max {
            tracing::warn!(key = key.split(':').next(), failures, "log-in throttled");
            return Err(ApiError::RateLimited { retry_after_secs });
        }
    }
    Ok(())
}

const BAD_CREDENTIALS: &str = "The email or password is incorrect.";

/// Checks a password for `email`, throttled; the same answer for an unknown email and a wrong
/// password. Returns the user on success.
async fn verify_credentials(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    pw: String,
) -> ApiResult<UserId> {
    let keys = throttle_keys(email, req);
    check_throttle(state, &keys).await?;
    let creds = db::users::credentials_by_email(&state.pool, email.trim()).await?;
    let ok = password::verify(pw, creds.as_ref().map(|c| c.password_hash.clone())).await?;
    match creds {
        Some(c) if ok => {
            db::throttle::clear(&state.pool, &keys[0]).await?;
            Ok(c.id)
        }
        _ => {
            db::throttle::record_failure(&state.pool, &keys).await?;
            Err(ApiError::Unauthorized(BAD_CREDENTIALS))
        }
    }
}

#[utoipa::path(post, operation_id = "logIn", summary = "Sign in", path = "/auth/login", tag = "auth", request_body = LoginRequest,
    description = "Signs in with email and password. Repeated failures for one email or one client address are throttled.",
    responses(
        (status = 200, description = "Signed in", body = Session),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 422, description = "Missing fields", body = ErrorBody),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { email, password } = body.0;
    let user = verify_credentials(&state, &req, &email, password).await?;
    let memberships = db::members::memberships_of(&state.pool, user).await?;
    // The first organization (alphabetically) is active; the person can switch afterwards.
    let org = memberships
        .first()
        .map(|m| m.organization_id)
        .ok_or(ApiError::Forbidden(
            "This account does not belong to any organization any more.",
        ))?;
    let mut tx = state.pool.begin().await?;
    let response = start_session(
        &mut tx,
        &state,
        user,
        org,
        None,
        actix_web::http::StatusCode::OK,
    )
    .await?;
    tx.commit().await?;
    Ok(response)
}

#[utoipa::path(post, operation_id = "refreshSession", summary = "Refresh the session", path = "/auth/refresh", tag = "auth",
    description = "Exchanges the refresh-token cookie for a new access token and a new refresh token. Presenting an already-used refresh token revokes every session of its family.",
    responses(
        (status = 200, description = "New session", body = Session),
        (status = 401, description = "Missing, expired, revoked or reused refresh token", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn refresh(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    const EXPIRED: &str = "Your session has ended. Log in again.";
    let token = req
        .cookie(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or(ApiError::Unauthorized(EXPIRED))?;
    let mut tx = state.pool.begin().await?;
    match db::sessions::consume(&mut tx, &token).await? {
        Presented::Valid { user, org, family } => {
            // The person may have been removed from the organization since; fall back to another.
            let org = match db::members::role_of(&mut *tx, org, user).await? {
                Some(_) => org,
                None => match db::members::memberships_of(&mut *tx, user).await?.first() {
                    Some(m) => m.organization_id,
                    None => return Err(ApiError::Unauthorized(EXPIRED)),
                },
            };
            let response = start_session(
                &mut tx,
                &state,
                user,
                org,
                Some(family),
                actix_web::http::StatusCode::OK,
            )
            .await?;
            tx.commit().await?;
            Ok(response)
        }
        Presented::Reused => {
            tx.commit().await?;
            tracing::warn!("a rotated refresh token was presented again; its family is revoked");
            Err(ApiError::Unauthorized(EXPIRED))
        }
        Presented::Invalid => Err(ApiError::Unauthorized(EXPIRED)),
    }
}

#[utoipa::path(post, operation_id = "logOut", summary = "Sign out", path = "/auth/logout", tag = "auth",
    description = "Revokes the session of the refresh-token cookie and clears the cookie. Always succeeds.",
    responses((status = 204, description = "Signed out")))]
#[tracing::instrument(skip_all)]
pub async fn logout(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    if let Some(c) = req.cookie(REFRESH_COOKIE) {
        let mut conn = state.pool.acquire().await?;
        db::sessions::revoke_by_token(&mut conn, c.value()).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(cleared_refresh_cookie(&state.settings))
        .finish())
}

#[utoipa::path(post, operation_id = "switchOrganization", summary = "Switch to another organization", path = "/auth/switch-organization", tag = "auth", request_body = SwitchOrganizationRequest,
    security(("bearer" = [])),
    description = "Makes another of the caller's organizations the active one and answers with a session acting for it.",
    responses(
        (status = 200, description = "Session for the chosen organization", body = Session),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "API keys cannot switch organization", body = ErrorBody),
        (status = 404, description = "Not a member of that organization", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn switch_organization(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Json<SwitchOrganizationRequest>,
) -> ApiResult<HttpResponse> {
    let user = caller.user_id()?;
    let target = body.0.organization_id;
    db::members::role_of(&state.pool, target, user)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut tx = state.pool.begin().await?;
    // Continue the cookie's family when there is one (and retire its token), else start one.
    let family = match req.cookie(REFRESH_COOKIE) {
        Some(c) => match db::sessions::consume(&mut tx, c.value()).await? {
            Presented::Valid {
                family,
                user: owner,
                ..
            } if owner == user => Some(family),
            _ => None,
        },
        None => None,
    };
    let response = start_session(
        &mut tx,
        &state,
        user,
        target,
        family,
        actix_web::http::StatusCode::OK,
    )
    .await?;
    tx.commit().await?;
    Ok(response)
}

#[utoipa::path(post, operation_id = "previewInvitation", summary = "Preview an invitation", path = "/auth/invitations/preview", tag = "invitations", request_body = InvitationTokenRequest,
    description = "Shows what an invitation token is for (organization, email, role) and whether an account exists for its email.",
    responses(
        (status = 200, description = "The invitation", body = InvitationPreview),
        (status = 404, description = "Unknown, used, revoked or expired invitation", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn preview_invitation(
    state: web::Data<AppState>,
    body: Json<InvitationTokenRequest>,
) -> ApiResult<HttpResponse> {
    let open = db::invitations::find_open_by_token(&state.pool, &body.0.token)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(InvitationPreview {
        organization_name: open.organization_name,
        email: open.email,
        role: open.role,
        existing_user: open.existing_user.is_some(),
        expires_at: open.expires_at,
    }))
}

#[utoipa::path(post, operation_id = "acceptInvitation", summary = "Accept an invitation", path = "/auth/invitations/accept", tag = "invitations", request_body = AcceptInvitationRequest,
    description = "Accepts an invitation. With an existing account for the invited email, `password` is that account's password; otherwise `name` and a new `password` create the account. Answers with a session acting for the inviting organization.",
    responses(
        (status = 200, description = "Joined and signed in", body = Session),
        (status = 401, description = "Wrong password for the existing account", body = ErrorBody),
        (status = 404, description = "Unknown, used, revoked or expired invitation", body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<AcceptInvitationRequest>,
) -> ApiResult<HttpResponse> {
    let acceptance = Acceptance::try_from(body.0)?;
    let preview = db::invitations::find_open_by_token(&state.pool, &acceptance.token)
        .await?
        .ok_or(ApiError::NotFound)?;
    // Verify or hash the password before taking any lock: both are slow on purpose.
    let new_account = match preview.existing_user {
        Some(_) => {
            verify_credentials(&state, &req, &preview.email, acceptance.password.clone()).await?;
            None
        }
        None => {
            let name = acceptance.new_account_fields()?;
            Some((name, password::hash(acceptance.password.clone()).await?))
        }
    };
    let mut tx = state.pool.begin().await?;
    let invite = db::invitations::find_open_by_token(&mut *tx, &acceptance.token)
        .await?
        .ok_or(ApiError::NotFound)?;
    let user = match (invite.existing_user, new_account) {
        (Some(user), None) => user,
        (None, Some((name, hash))) => {
            let email = aura_types::EmailAddress::parse(&invite.email)
                .map_err(|e| anyhow::anyhow!("stored invitation email: {e}"))?;
            match db::users::insert(&mut tx, &email, &name, &hash).await {
                Ok(id) => id,
                Err(e) if db::Duplicate::of(&e) == Some(db::Duplicate::UserEmail) => {
                    return Err(ApiError::Conflict("An account with this email was just created. Accept again with its password.".into()))
                }
                Err(e) => return Err(e.into()),
            }
        }
        // An account appeared or vanished for this email between the two reads.
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::Conflict(
                "Accept again with your password.".into(),
            ))
        }
    };
    if db::members::role_of(&mut *tx, invite.org_id, user)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(
            "You are already a member of this organization.".into(),
        ));
    }
    db::members::insert(&mut tx, invite.org_id, user, invite.role).await?;
    db::invitations::mark_accepted(&mut tx, invite.org_id, invite.id, user).await?;
    let response = start_session(
        &mut tx,
        &state,
        user,
        invite.org_id,
        None,
        actix_web::http::StatusCode::OK,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%user, org_id = %invite.org_id, "invitation accepted");
    Ok(response)
}

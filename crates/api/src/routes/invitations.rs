//! Invitations of the caller's organization (accepting one is under /auth).

use crate::routes::Routes;
use crate::{
    crypto::random_secret,
    db,
    domain::account::NewInvitation,
    error::{ApiError, ApiResult},
    extract::Json,
    providers::mail::Email,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{CreateInvitationRequest, CreatedInvitation, ErrorBody, Invitation, InvitationId};

pub fn scope() -> Routes {
    Routes::new("/invitations")
        .get("", list)
        .post("", create)
        .delete("/{invitation_id}", revoke)
}

#[utoipa::path(get, operation_id = "listInvitations", summary = "List open invitations", path = "/invitations", tag = "invitations", security(("bearer" = [])),
    description = "Invitations not yet accepted, revoked or expired, newest first. Their tokens are never returned. Admins and owners only.",
    responses(
        (status = 200, description = "Open invitations, newest first", body = Vec<Invitation>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(db::invitations::list_open(&state.pool, caller.org_id).await?))
}

#[utoipa::path(post, operation_id = "createInvitation", summary = "Invite a person", path = "/invitations", tag = "invitations", security(("bearer" = [])),
    request_body = CreateInvitationRequest,
    description = "Invites a person. When Aura has an SMTP server (AURA_SMTP_URL) the link is emailed to them (`email_sent`); the answer also holds the secret accept link, shown once, to share by hand.",
    responses(
        (status = 201, description = "Invited", body = CreatedInvitation),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Role may not grant this role", body = ErrorBody),
        (status = 409, description = "Already a member, or already invited", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateInvitationRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let invite = NewInvitation::try_from(body.0)?;
    if !caller.role.can_grant(invite.role) {
        return Err(ApiError::Forbidden("Only owners can invite owners."));
    }
    let members = db::members::list(&state.pool, caller.org_id).await?;
    if members
        .iter()
        .any(|m| m.email.eq_ignore_ascii_case(invite.email.as_str()))
    {
        return Err(ApiError::Conflict(format!(
            "{} is already a member.",
            invite.email
        )));
    }
    let token = random_secret("");
    let invited_by = caller.person();
    let mut conn = state.pool.acquire().await?;
    let invitation = match db::invitations::insert(
        &mut conn,
        caller.org_id,
        &invite.email,
        invite.role,
        &token,
        invited_by,
        state.settings.invitation_ttl_days,
    )
    .await
    {
        Ok(i) => i,
        Err(e) if db::Duplicate::of(&e) == Some(db::Duplicate::OpenInvitation) => {
            return Err(ApiError::Conflict(format!(
                "{} already has an open invitation. Revoke it to send a new one.",
                invite.email
            )))
        }
        Err(e) => return Err(e.into()),
    };
    // The token travels in the fragment, which browsers never send to a server (or its logs).
    let accept_url = format!("{}/accept-invite#token={token}", state.settings.public_url);
    let email_sent = match &state.mailer {
        Some(mailer) => {
            let org = db::orgs::get(&state.pool, caller.org_id)
                .await?
                .ok_or(ApiError::NotFound)?;
            match mailer
                .send(invitation_email(&org.name, &invitation, &accept_url))
                .await
            {
                Ok(()) => true,
                // The invitation stands; the person who invited shares the link instead.
                Err(e) => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "the invitation email could not be sent"
                    );
                    false
                }
            }
        }
        None => false,
    };
    Ok(HttpResponse::Created().json(CreatedInvitation {
        invitation,
        token,
        accept_url,
        email_sent,
    }))
}

fn invitation_email(org_name: &str, invitation: &Invitation, accept_url: &str) -> Email {
    let inviter = invitation.invited_by.as_deref().unwrap_or("An admin");
    let role = invitation.role.label().to_lowercase();
    let expires = invitation.expires_at.date();
    Email {
        to: invitation.email.clone(),
        subject: format!("{inviter} invited you to {org_name} on Aura"),
        text: format!(
            "{inviter} invited you to join {org_name} on Aura as {role}.\n\n\
             Accept the invitation:\n{accept_url}\n\n\
             The link works once and expires on {expires}. \
             If you did not expect this invitation, you can ignore this email.\n"
        ),
    }
}

#[utoipa::path(delete, operation_id = "revokeInvitation", summary = "Revoke an invitation", path = "/invitations/{invitation_id}", tag = "invitations", security(("bearer" = [])),
    params(("invitation_id" = uuid::Uuid, Path, description = "The invitation id")),
    description = "Revokes an open invitation; its accept link stops working. Admins and owners only, and only owners revoke an invitation to become an owner.",
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins and owners only", body = ErrorBody),
        (status = 404, description = "No open invitation with this id", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<InvitationId>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let id = path.into_inner();
    let invitation = db::invitations::get_open(&state.pool, caller.org_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !caller.role.can_grant(invitation.role) {
        return Err(ApiError::Forbidden(
            "Only owners can revoke an invitation for an owner.",
        ));
    }
    if !db::invitations::revoke(&state.pool, caller.org_id, id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

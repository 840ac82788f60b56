//! Members of the caller's organization: list, change role, remove (or leave).

use crate::routes::Routes;
use crate::{
    db,
    domain::account::{check_membership_change, MembershipRefusal},
    error::{ApiError, ApiResult},
    extract::Json,
    routes::Caller,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use aura_types::{ErrorBody, Member, Role, UpdateMemberRequest, UserId};

pub fn scope() -> Routes {
    Routes::new("/members")
        .get("", list)
        .patch("/{user_id}", update)
        .delete("/{user_id}", remove)
}

#[utoipa::path(get, operation_id = "listMembers", summary = "List members", path = "/members", tag = "members", security(("bearer" = [])),
    description = "The organization's members with their roles, owners first. Every member may list them.",
    responses(
        (status = 200, description = "Members, owners first", body = Vec<Member>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(db::members::list(&state.pool, caller.org_id).await?))
}

/// Applies a role change (`Some`) or a removal (`None`) under the membership lock.
async fn change(
    state: &AppState,
    caller: Caller,
    target: UserId,
    new: Option<Role>,
) -> ApiResult<()> {
    let mut tx = state.pool.begin().await?;
    let roles = db::members::lock_roles(&mut tx, caller.org_id).await?;
    let current = roles
        .iter()
        .find(|(u, _)| *u == target)
        .map(|(_, r)| *r)
        .ok_or(ApiError::NotFound)?;
    let owners = roles.iter().filter(|(_, r)| *r == Role::Owner).count();
    let is_self = caller.principal == crate::routes::Principal::User(target);
    check_membership_change(caller.role, is_self, current, new, owners).map_err(|refusal| {
        match refusal {
            MembershipRefusal::NotAllowed => {
                ApiError::Forbidden("Your role does not allow this change.")
            }
            MembershipRefusal::LastOwner => ApiError::Conflict(
                "An organization needs at least one owner. Make someone else an owner first."
                    .into(),
            ),
        }
    })?;
    match new {
        Some(role) => db::members::set_role(&mut tx, caller.org_id, target, role).await?,
        None => {
            db::members::remove(&mut tx, caller.org_id, target).await?;
            db::sessions::revoke_member(&mut tx, caller.org_id, target).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[utoipa::path(patch, operation_id = "updateMember", summary = "Change a member's role", path = "/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("user_id" = uuid::Uuid, Path, description = "The member's user id")),
    request_body = UpdateMemberRequest,
    description = "Changes a member's role. Admins manage members and admins; only owners grant or take away ownership; the last owner cannot be demoted.",
    responses(
        (status = 200, description = "Updated", body = Member),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Role does not allow this", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
        (status = 409, description = "Would leave no owner", body = ErrorBody),
        (status = 422, description = "Invalid role", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<UserId>,
    body: Json<UpdateMemberRequest>,
) -> ApiResult<HttpResponse> {
    let target = path.into_inner();
    change(&state, caller, target, Some(body.0.role)).await?;
    let member = db::members::get(&state.pool, caller.org_id, target)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(member))
}

#[utoipa::path(delete, operation_id = "removeMember", summary = "Remove a member or leave the organization", path = "/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("user_id" = uuid::Uuid, Path, description = "The member's user id")),
    description = "Removes a member (or, with one's own id, leaves the organization) and ends their sessions in it.",
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Role does not allow this", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
        (status = 409, description = "Would leave no owner", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<UserId>,
) -> ApiResult<HttpResponse> {
    change(&state, caller, path.into_inner(), None).await?;
    Ok(HttpResponse::NoContent().finish())
}

//! Sessions: log in, sign up, invitations, switching organization.

use super::{Api, ApiResult};
use aura_types::*;

pub async fn login(api: Api, req: &LoginRequest) -> ApiResult<Session> {
    api.post("/auth/login", req).await
}

pub async fn signup(api: Api, req: &SignupRequest) -> ApiResult<Session> {
    api.post("/auth/signup", req).await
}

pub async fn preview_invitation(api: Api, token: String) -> ApiResult<InvitationPreview> {
    api.post(
        "/auth/invitations/preview",
        &InvitationTokenRequest { token },
    )
    .await
}

pub async fn accept_invitation(api: Api, req: &AcceptInvitationRequest) -> ApiResult<Session> {
    api.post("/auth/invitations/accept", req).await
}

pub async fn switch_organization(api: Api, req: &SwitchOrganizationRequest) -> ApiResult<Session> {
    api.post("/auth/switch-organization", req).await
}

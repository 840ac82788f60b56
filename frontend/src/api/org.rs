//! The organization and its people: settings, members, invitations, API keys.

use super::{Api, ApiResult};
use aura_types::*;

pub async fn current(api: Api) -> ApiResult<Organization> {
    api.get("/organizations/current").await
}

pub async fn update(api: Api, req: &UpdateOrganizationRequest) -> ApiResult<Organization> {
    api.patch("/organizations/current", req).await
}

pub async fn create(api: Api, req: &CreateOrganizationRequest) -> ApiResult<Organization> {
    api.post("/organizations", req).await
}

pub async fn members(api: Api) -> ApiResult<Vec<Member>> {
    api.get("/members").await
}

pub async fn update_member(api: Api, user: UserId, req: &UpdateMemberRequest) -> ApiResult<Member> {
    api.patch(&format!("/members/{user}"), req).await
}

pub async fn remove_member(api: Api, user: UserId) -> ApiResult<()> {
    api.delete(&format!("/members/{user}")).await
}

pub async fn invitations(api: Api) -> ApiResult<Vec<Invitation>> {
    api.get("/invitations").await
}

pub async fn invite(api: Api, req: &CreateInvitationRequest) -> ApiResult<CreatedInvitation> {
    api.post("/invitations", req).await
}

pub async fn revoke_invitation(api: Api, id: InvitationId) -> ApiResult<()> {
    api.delete(&format!("/invitations/{id}")).await
}

pub async fn api_keys(api: Api) -> ApiResult<Vec<ApiKey>> {
    api.get("/api-keys").await
}

pub async fn create_api_key(api: Api, req: &CreateApiKeyRequest) -> ApiResult<CreatedApiKey> {
    api.post("/api-keys", req).await
}

pub async fn revoke_api_key(api: Api, id: ApiKeyId) -> ApiResult<()> {
    api.delete(&format!("/api-keys/{id}")).await
}

//! Accounts and sessions: sign-up, log-in, the current user, invitations and API keys.

use crate::ids::{ApiKeyId, InvitationId, OrgId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A member's role in an organization. Owners manage everything including other owners; admins
/// manage members (except owners), settings and API keys; members use the product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "server", derive(sqlx::Type, utoipa::ToSchema))]
#[cfg_attr(
    feature = "server",
    sqlx(type_name = "member_role", rename_all = "snake_case")
)]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

    /// Whether this role may manage members, invitations, API keys and organization settings.
    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }

    /// Whether this role may give or take away `other` (only owners touch owners).
    pub fn can_grant(self, other: Role) -> bool {
        self.is_admin() && self >= other
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }
}

/// Create an account together with its first organization.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    #[cfg_attr(feature = "server", schema(example = "jane@example.com"))]
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    #[cfg_attr(feature = "server", schema(example = "Jane Doe"))]
    pub name: String,
    #[cfg_attr(feature = "server", schema(example = "Sunrise Realty"))]
    pub organization_name: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Make another of the caller's organizations the active one.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SwitchOrganizationRequest {
    pub organization_id: OrgId,
}

/// A session: a short-lived access token (send it as `Authorization: Bearer …`) and who it is for.
/// The refresh token travels only in an httpOnly cookie.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Session {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub me: Me,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An organization the user belongs to, with the user's role in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Membership {
    pub organization_id: OrgId,
    pub organization_name: String,
    pub organization_slug: String,
    pub role: Role,
}

/// The signed-in user, the organization the session acts for, and every organization they belong to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Me {
    pub user: User,
    pub active_organization_id: OrgId,
    pub role: Role,
    pub memberships: Vec<Membership>,
}

impl Me {
    pub fn active_membership(&self) -> Option<&Membership> {
        self.memberships
            .iter()
            .find(|m| m.organization_id == self.active_organization_id)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UpdateMemberRequest {
    pub role: Role,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreateInvitationRequest {
    pub email: String,
    pub role: Role,
}

/// A pending invitation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A new invitation with its secret token, shown once. Share `accept_url` with the invitee.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreatedInvitation {
    pub invitation: Invitation,
    pub token: String,
    pub accept_url: String,
    /// Whether Aura emailed the link to the invitee.
    pub email_sent: bool,
}

/// What the invitee sees before accepting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct InvitationPreview {
    pub organization_name: String,
    pub email: String,
    pub role: Role,
    /// Whether an account with this email exists (then accept with its password; else choose a
    /// name and a password).
    pub existing_user: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The secret token from an invitation link.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct InvitationTokenRequest {
    pub token: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AcceptInvitationRequest {
    pub token: String,
    /// Required when no account exists for the invited email.
    #[serde(default)]
    pub name: Option<String>,
    /// The existing account's password, or the new account's password.
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    /// The first characters of the key, for recognising it.
    pub prefix: String,
    /// The role it was given. It acts with the lesser of this and its creator's current role.
    pub role: Role,
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// Why the key does not work, when it does not (its creator left the organization); such a
    /// key answers 401 until it is revoked and replaced.
    #[serde(default)]
    pub inactive_reason: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreateApiKeyRequest {
    #[cfg_attr(feature = "server", schema(example = "n8n"))]
    pub name: String,
    pub role: Role,
}

/// A new API key with its secret, shown once. Send it as `Authorization: Bearer …`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub api_key: ApiKey,
    pub token: String,
}

//! The one extractor that says who is calling: the organization every tenant query is scoped by,
//! the role that role checks use, and whether it is a person or an API key.

use crate::{db, error::ApiError, state::AppState};
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use aura_types::{ApiKeyId, OrgId, Role, UserId};
use futures_util::future::LocalBoxFuture;

use crate::auth::tokens::API_KEY_PREFIX;
use crate::crypto::hash_secret;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    User(UserId),
    ApiKey(ApiKeyId),
}

/// An authenticated caller acting for one organization.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub org_id: OrgId,
    pub role: Role,
    pub principal: Principal,
}

impl Caller {
    /// Admins and owners only (403 otherwise).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("Only admins and owners can do this."))
        }
    }

    /// The person calling, if a person is (an API key acts for the organization).
    pub fn person(&self) -> Option<UserId> {
        match self.principal {
            Principal::User(id) => Some(id),
            Principal::ApiKey(_) => None,
        }
    }

    /// The person calling; API keys act for an organization, not a person (403).
    pub fn user_id(&self) -> Result<UserId, ApiError> {
        self.person().ok_or(ApiError::Forbidden(
            "This needs a signed-in person, not an API key.",
        ))
    }
}

const UNAUTHORIZED: &str =
    "Sign in to continue: send a valid access token or API key as `Authorization: Bearer …`.";

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let span = req
            .extensions()
            .get::<tracing_actix_web::RootSpan>()
            .cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        Box::pin(async move {
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let token = token.ok_or(ApiError::Unauthorized(UNAUTHORIZED))?;
            let caller = if token.starts_with(API_KEY_PREFIX) {
                db::api_keys::authenticate(&state.pool, &hash_secret(&token))
                    .await?
                    .map(|(org_id, key_id, role)| Caller {
                        org_id,
                        role,
                        principal: Principal::ApiKey(key_id),
                    })
            } else {
                match state.jwt.verify(&token) {
                    // Roles are read on every request, so a removed member or a changed role takes
                    // effect at once, not when the token expires.
                    Some(claims) => db::members::role_of(&state.pool, claims.org, claims.sub)
                        .await?
                        .map(|role| Caller {
                            org_id: claims.org,
                            role,
                            principal: Principal::User(claims.sub),
                        }),
                    None => None,
                }
            };
            let caller = caller.ok_or(ApiError::Unauthorized(UNAUTHORIZED))?;
            if let Some(span) = span {
                span.record("org_id", tracing::field::display(caller.org_id));
            }
            Ok(caller)
        })
    }
}

//! Access tokens (HS256 JWTs with pinned algorithm, issuer and audience) and opaque secrets
//! (refresh tokens, invitation tokens, API keys) that are stored only as SHA-256 hashes.

use crate::crypto::derive_key;
use aura_types::{OrgId, UserId};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "aura";
pub const AUDIENCE: &str = "aura-api";
/// Prefix of API keys, so they are recognisable in configuration and by secret scanners.
pub const API_KEY_PREFIX: &str = "aura_sk_";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: UserId,
    /// The organization this token acts for.
    pub org: OrgId,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// Keys for signing and checking access tokens, derived from the root secret.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
}

impl JwtKeys {
    pub fn new(secret: &SecretString, ttl_secs: u64) -> Self {
        let key = derive_key(secret.expose_secret().as_bytes(), b"aura access tokens v1");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
            ttl_secs,
        }
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    pub fn issue(&self, user: UserId, org: OrgId) -> anyhow::Result<String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: user,
            org,
            iat: now,
            exp: now + i64::try_from(self.ttl_secs).unwrap_or(900),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        Ok(encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Checks signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::crypto::{hash_secret, random_secret};

    fn keys() -> JwtKeys {
        JwtKeys::new(&SecretString::from("k".repeat(32)), 60)
    }

    #[test]
    fn issued_tokens_verify_and_carry_their_claims() {
        let (u, o) = (UserId::new(), OrgId::new());
        let c = keys().verify(&keys().issue(u, o).unwrap()).unwrap();
        assert_eq!((c.sub, c.org), (u, o));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = JwtKeys::new(&SecretString::from("x".repeat(32)), 60);
        let t = other.issue(UserId::new(), OrgId::new()).unwrap();
        assert!(keys().verify(&t).is_none());
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let (a, b) = (random_secret(API_KEY_PREFIX), random_secret(API_KEY_PREFIX));
        assert_ne!(a, b);
        assert!(a.starts_with(API_KEY_PREFIX) && a.len() == API_KEY_PREFIX.len() + 64);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_ne!(hash_secret(&a), hash_secret(&b));
    }
}

//! Access tokens (HS256 JWTs with pinned algorithm, issuer and audience) and opaque secrets
//! (refresh tokens, invitation tokens, API keys) that are stored only as SHA-256 hashes.

use crate::crypto::derive_key;
use aura_types::{OrgId, UserId};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "aura";
pub const AUDIENCE: &str = "aura-api";
/// The audience of the inbox stream's tokens: they open the event stream and nothing else.
pub const STREAM_AUDIENCE: &str = "aura-inbox-stream";
/// How long a stream token may be used to open the stream.
pub const STREAM_TOKEN_SECS: i64 = 60;
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

/// What a stream token says: the organization whose inbox it opens.
#[derive(Debug, Serialize, Deserialize)]
pub struct StreamClaims {
    pub org: OrgId,
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
    stream_validation: Validation,
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
        let mut stream_validation = Validation::new(Algorithm::HS256);
        stream_validation.set_issuer(&[ISSUER]);
        stream_validation.set_audience(&[STREAM_AUDIENCE]);
        stream_validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        stream_validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
            stream_validation,
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

    /// A short-lived token that opens `org`'s inbox stream (a browser's EventSource cannot send
    /// an Authorization header, so it goes in the stream's address): single-purpose, so it is
    /// no access token, and it lives a minute.
    pub fn issue_stream(&self, org: OrgId) -> anyhow::Result<String> {
        let claims = StreamClaims {
            org,
            exp: time::OffsetDateTime::now_utc().unix_timestamp() + STREAM_TOKEN_SECS,
            iss: ISSUER.into(),
            aud: STREAM_AUDIENCE.into(),
        };
        Ok(encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The organization a valid stream token opens.
    pub fn verify_stream(&self, token: &str) -> Option<OrgId> {
        decode::<StreamClaims>(token, &self.decoding, &self.stream_validation)
            .ok()
            .map(|d| d.claims.org)
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

    #[test]
    fn stream_tokens_open_the_stream_and_nothing_else() {
        let (u, o) = (UserId::new(), OrgId::new());
        let stream = keys().issue_stream(o).unwrap();
        assert_eq!(keys().verify_stream(&stream), Some(o));
        // Neither is the other: an access token opens no stream, a stream token is no access.
        assert!(keys().verify(&stream).is_none());
        assert_eq!(keys().verify_stream(&keys().issue(u, o).unwrap()), None);
    }
}

//! Password hashing with argon2id at OWASP's recommended parameters, off the async threads.

use anyhow::Context;
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use std::sync::OnceLock;

/// Memory cost in KiB (OWASP: at least 19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Iterations (OWASP: at least 2).
pub const ITERATIONS: u32 = 2;
/// Parallelism (OWASP: 1).
pub const PARALLELISM: u32 = 1;

fn hasher() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?
        .to_string())
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .context("password hashing task")?
}

/// Verifies `password` against `stored`. When there is no stored hash (unknown account) a dummy
/// hash is verified instead, so both cases take the same time and answer the same way.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let dummy;
        let phc = match stored.as_deref() {
            Some(phc) => phc,
            None => {
                dummy = dummy_hash()?;
                dummy
            }
        };
        let parsed =
            PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored password hash: {e}"))?;
        // The comparison inside `verify_password` is constant-time.
        let ok = hasher()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && stored.is_some())
    })
    .await
    .context("password verification task")?
}

fn dummy_hash() -> anyhow::Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let h = hash_blocking("not a real password, only spends the same time")?;
    Ok(DUMMY.get_or_init(|| h))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!verify("correct horse batterz".into(), Some(h))
            .await
            .unwrap());
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }
}

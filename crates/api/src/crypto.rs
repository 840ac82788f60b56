//! Secrets at rest: AES-256-GCM with a random 96-bit nonce per value. A sealed value is stored as
//! `nonce || ciphertext+tag` beside the id of the master key that sealed it, so keys can rotate:
//! new values are sealed with the current key, older ones still open with the keys they name.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 12;

/// A value sealed by [`Sealer::seal`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("sealed with master key {0}, which is not configured (AURA_MASTER_KEYS_OLD)")]
    UnknownKey(String),
    #[error("the sealed value is damaged or was sealed with another key")]
    Damaged,
}

/// The master keys of this process.
pub struct Sealer {
    current: (String, Aes256Gcm),
    older: Vec<(String, Aes256Gcm)>,
}

/// A 256-bit key derived from `secret` for `purpose`.
pub fn derive_key(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(purpose);
    h.update([0u8]);
    h.update(secret);
    h.finalize().into()
}

/// A new random secret: 32 bytes from the OS, hex-encoded, after `prefix`.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// What is stored for a secret: its SHA-256. The secrets are random and long, so a fast hash is
/// enough, and lookups by hash need no comparison of secrets.
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A key's public id: the first 8 hex characters of a hash of it.
fn key_id(key: &[u8; 32]) -> String {
    hex::encode(&derive_key(key, b"aura key id")[..4])
}

impl Sealer {
    pub fn new(current: &[u8; 32], older: &[&[u8; 32]]) -> Self {
        let entry = |k: &[u8; 32]| (key_id(k), Aes256Gcm::new(k.into()));
        Self {
            current: entry(current),
            older: older.iter().map(|k| entry(k)).collect(),
        }
    }

    /// Opens a secret that may not be set (both parts or neither).
    pub fn open_optional(
        &self,
        key_id: Option<&str>,
        sealed: Option<&[u8]>,
    ) -> Result<Option<String>, OpenError> {
        match (key_id, sealed) {
            (Some(k), Some(b)) => self.open(k, b).map(Some),
            _ => Ok(None),
        }
    }

    pub fn seal(&self, plain: &str) -> Sealed {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let (id, cipher) = &self.current;
        // Encryption with a valid key and nonce length cannot fail.
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        Sealed {
            key_id: id.clone(),
            bytes,
        }
    }

    pub fn open(&self, key_id: &str, bytes: &[u8]) -> Result<String, OpenError> {
        let cipher = std::iter::once(&self.current)
            .chain(&self.older)
            .find(|(id, _)| id == key_id)
            .map(|(_, c)| c)
            .ok_or_else(|| OpenError::UnknownKey(key_id.to_owned()))?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError::Damaged);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| OpenError::Damaged)?;
        String::from_utf8(plain).map_err(|_| OpenError::Damaged)
    }

    pub fn current_key_id(&self) -> &str {
        &self.current.0
    }
}

/// The shortest secret whose last four characters may be shown: a long random key (provider
/// keys are 32+ characters) keeps ample secret after them; a short one would be half told.
pub const HINT_MIN_LEN: usize = 20;

/// The last four characters of a long random key, to recognise it by; nothing for a shorter
/// secret. Never used for passwords, which show no part of themselves.
pub fn hint(secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    (chars.len() >= HINT_MIN_LEN).then(|| chars[chars.len() - 4..].iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_with_random_nonces_and_opens() {
        let s = Sealer::new(&[7u8; 32], &[]);
        let a = s.seal("sk-test-123456");
        let b = s.seal("sk-test-123456");
        assert_ne!(a.bytes, b.bytes, "nonces are random");
        assert!(
            !a.bytes.windows(6).any(|w| w == b"123456"),
            "no plain text in the sealed bytes"
        );
        assert_eq!(
            s.open(&a.key_id, &a.bytes).expect("opens"),
            "sk-test-123456"
        );
    }

    #[test]
    fn any_flipped_bit_fails() {
        let s = Sealer::new(&[7u8; 32], &[]);
        let sealed = s.seal("secret value");
        for i in 0..sealed.bytes.len() * 8 {
            let mut bytes = sealed.bytes.clone();
            bytes[i / 8] ^= 1 << (i % 8);
            assert!(
                matches!(s.open(&sealed.key_id, &bytes), Err(OpenError::Damaged)),
                "bit {i}"
            );
        }
    }

    #[test]
    fn rotation_opens_old_values_and_seals_with_the_new_key() {
        let old = Sealer::new(&[1u8; 32], &[]);
        let sealed = old.seal("kept");
        let rotated = Sealer::new(&[2u8; 32], &[&[1u8; 32]]);
        assert_eq!(
            rotated
                .open(&sealed.key_id, &sealed.bytes)
                .expect("old key"),
            "kept"
        );
        assert_ne!(rotated.seal("x").key_id, sealed.key_id);
        let forgot = Sealer::new(&[2u8; 32], &[]);
        assert!(matches!(
            forgot.open(&sealed.key_id, &sealed.bytes),
            Err(OpenError::UnknownKey(_))
        ));
    }

    #[test]
    fn hints_are_the_last_four_characters() {
        assert_eq!(hint("sk-0123456789abcdefghij").as_deref(), Some("ghij"));
        assert_eq!(hint("sk-abcdef"), None);
        assert_eq!(hint("ab"), None);
    }
}

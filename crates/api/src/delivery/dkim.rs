//! DKIM signing keys: what a person pastes (an RSA key as PKCS#1 or PKCS#8 PEM, an Ed25519 key
//! as PKCS#8 PEM or its 32-byte seed in base64) parsed into the form the signer uses, the public
//! half as the DNS record to publish, and the signing configuration for a message.

use aura_types::{DkimAlgorithm, OrgId};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use secrecy::SecretString;
use time::OffsetDateTime;

/// The headers every signature covers. One-click unsubscribe must be signed for mailbox
/// providers to honour it (RFC 8058 §4); a header a message lacks is signed as absent, so it
/// cannot be added on the way. Not Content-Type: the message's MIME part writes it after
/// signing, so a signature naming it would not verify.
pub const SIGNED_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
];

/// RSA keys shorter than this are refused (RFC 8301).
const MIN_RSA_BITS: usize = 1024;
/// … and longer than this make every send slow for no gain.
const MAX_RSA_BITS: usize = 4096;

/// The DER prefix of an Ed25519 private key in PKCS#8 (RFC 8410), before the 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A private key as the signer stores it, with its public half.
pub struct ParsedKey {
    pub algorithm: DkimAlgorithm,
    /// PKCS#1 PEM (RSA) or the base64 seed (Ed25519): secret, to be sealed.
    pub private: SecretString,
    /// The `p=` value of the DNS record.
    pub public: String,
    /// A human description ("RSA 2048 bits", "Ed25519").
    pub description: String,
}

/// Parses a pasted private key; the error says what was wrong in the person's terms.
pub fn parse_private_key(text: &str) -> Result<ParsedKey, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Paste the domain's private key.".into());
    }
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err("This key is protected by a passphrase; export it without one.".into());
    }
    if text.contains("PUBLIC KEY") {
        return Err(
            "This is a public key; paste the private key (the public one goes in DNS).".into(),
        );
    }
    if text.contains("BEGIN RSA PRIVATE KEY") {
        let key = RsaPrivateKey::from_pkcs1_pem(text)
            .map_err(|e| format!("This RSA key cannot be read: {e}."))?;
        return rsa_key(&key);
    }
    if text.contains("BEGIN PRIVATE KEY") {
        if let Ok(key) = RsaPrivateKey::from_pkcs8_pem(text) {
            return rsa_key(&key);
        }
        let der = pem_body(text).ok_or(
            "This key cannot be read: the text between the BEGIN and END lines is not base64.",
        )?;
        return match der.strip_prefix(&ED25519_PKCS8_PREFIX[..]) {
            Some(seed) if seed.len() == 32 => ed25519_key(seed),
            _ => Err("Only RSA and Ed25519 keys can sign email.".into()),
        };
    }
    if text.starts_with("-----BEGIN") {
        return Err("Only RSA and Ed25519 private keys can sign email.".into());
    }
    match B64.decode(text.split_whitespace().collect::<String>()) {
        Ok(seed) if seed.len() == 32 => ed25519_key(&seed),
        _ => Err(
            "This is not a private key: paste a PEM block (-----BEGIN … PRIVATE KEY-----) or an Ed25519 key in base64."
                .into(),
        ),
    }
}

fn pem_body(text: &str) -> Option<Vec<u8>> {
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    B64.decode(body).ok()
}

fn rsa_key(key: &RsaPrivateKey) -> Result<ParsedKey, String> {
    let bits = key.size() * 8;
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "This RSA key has {bits} bits; mailbox providers ignore signatures under {MIN_RSA_BITS} (2048 is usual)."
        ));
    }
    if bits > MAX_RSA_BITS {
        return Err(format!(
            "This RSA key has {bits} bits; use one of at most {MAX_RSA_BITS} (2048 is usual)."
        ));
    }
    let private = key
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| format!("This RSA key cannot be used: {e}."))?;
    let public = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| format!("This RSA key cannot be used: {e}."))?;
    Ok(ParsedKey {
        algorithm: DkimAlgorithm::Rsa,
        private: SecretString::from(private.to_string()),
        public: B64.encode(public.as_bytes()),
        description: format!("RSA {bits} bits"),
    })
}

fn ed25519_key(seed: &[u8]) -> Result<ParsedKey, String> {
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| "An Ed25519 key has 32 bytes.".to_owned())?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    Ok(ParsedKey {
        algorithm: DkimAlgorithm::Ed25519,
        private: SecretString::from(B64.encode(seed)),
        public: B64.encode(key.verifying_key().to_bytes()),
        description: "Ed25519".into(),
    })
}

/// The TXT record to publish for a key: its name and value.
pub fn dns_record(
    selector: &str,
    domain: &str,
    algorithm: DkimAlgorithm,
    public: &str,
) -> (String, String) {
    let k = match algorithm {
        DkimAlgorithm::Rsa => "rsa",
        DkimAlgorithm::Ed25519 => "ed25519",
    };
    (
        format!("{selector}._domainkey.{domain}"),
        format!("v=DKIM1; k={k}; p={public}"),
    )
}

/// The signing configuration for a stored key (relaxed/relaxed canonicalization, which survives
/// the re-folding servers do on the way).
pub fn config(
    selector: &str,
    domain: &str,
    algorithm: DkimAlgorithm,
    private: &str,
) -> Result<DkimConfig, String> {
    let alg = match algorithm {
        DkimAlgorithm::Rsa => DkimSigningAlgorithm::Rsa,
        DkimAlgorithm::Ed25519 => DkimSigningAlgorithm::Ed25519,
    };
    let key = DkimSigningKey::new(private, alg)
        .map_err(|e| format!("The DKIM key of {domain} cannot be used: {e}"))?;
    Ok(DkimConfig::new(
        selector.to_owned(),
        domain.to_owned(),
        key,
        SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect(),
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    ))
}

/// Signing configurations opened so far, by organization and domain, each with its key's
/// `updated_at`: a key is opened (unsealed and parsed) once, and again only once it is replaced.
#[derive(Default)]
pub struct SigningCache(std::sync::Mutex<std::collections::HashMap<(OrgId, String), Opened>>);

/// An opened key's configuration, with the `updated_at` of the key it was opened from.
type Opened = (OffsetDateTime, std::sync::Arc<DkimConfig>);

impl SigningCache {
    /// The configuration of `domain`'s key as of `version`, opened with `open` when it is not
    /// known yet or has changed.
    pub fn get_or_open(
        &self,
        org: OrgId,
        domain: &str,
        version: OffsetDateTime,
        open: impl FnOnce() -> Result<DkimConfig, String>,
    ) -> Result<std::sync::Arc<DkimConfig>, String> {
        let key = (org, domain.to_owned());
        if let Ok(cache) = self.0.lock() {
            if let Some((stamp, config)) = cache.get(&key) {
                if *stamp == version {
                    return Ok(config.clone());
                }
            }
        }
        let config = std::sync::Arc::new(open()?);
        if let Ok(mut cache) = self.0.lock() {
            cache.insert(key, (version, config.clone()));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use secrecy::ExposeSecret;

    /// An Ed25519 key made for these tests (`openssl genpkey -algorithm ed25519`).
    const ED_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPR7doAMx407z/izaTozKJ7DU/+J3Nurr/m8zpZzcNgp\n-----END PRIVATE KEY-----\n";
    const ED_SEED: &str = "9Ht2gAzHjTvP+LNpOjMonsNT/4nc26uv+bzOlnNw2Ck=";

    #[test]
    fn an_ed25519_key_reads_the_same_as_pem_or_seed() {
        let a = parse_private_key(ED_PEM).unwrap();
        let b = parse_private_key(&format!("  {ED_SEED}\n")).unwrap();
        assert_eq!(a.algorithm, DkimAlgorithm::Ed25519);
        assert_eq!(a.private.expose_secret(), ED_SEED);
        assert_eq!(a.public, b.public);
        assert_eq!(B64.decode(&a.public).unwrap().len(), 32);
        assert!(config(
            "aura",
            "example.com",
            a.algorithm,
            a.private.expose_secret()
        )
        .is_ok());
        let (name, value) = dns_record("aura", "example.com", a.algorithm, &a.public);
        assert_eq!(name, "aura._domainkey.example.com");
        assert_eq!(value, format!("v=DKIM1; k=ed25519; p={}", a.public));
    }

    #[test]
    fn what_is_not_a_usable_private_key_is_refused_with_the_reason() {
        for (text, says) in [
            ("", "Paste"),
            ("hello", "not a private key"),
            (
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                "public key",
            ),
            (
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
                "passphrase",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
                "not base64",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                "Only RSA and Ed25519",
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
                "Only RSA and Ed25519",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
                "cannot be read",
            ),
            ("AAAA", "not a private key"),
        ] {
            let e = parse_private_key(text).err().unwrap();
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }
}

//! Signed tokens in the links of sent email: unsubscribe, open pixel and click redirects.
//! A token is base64url(kind · organization · message · [url]) + a 128-bit HMAC-SHA256 tag, so
//! it names exactly one message (ids are random, and cannot be guessed or enumerated) and a click
//! token redirects only to the URL that was signed into it — never an open redirect.

use aura_types::{MessageId, OrgId};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const TAG_LEN: usize = 16;
const IDS_LEN: usize = 1 + 16 + 16;
/// Longest URL a click token carries.
pub const MAX_URL_LEN: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Unsubscribe = 1,
    Open = 2,
    Click = 3,
}

/// What a valid token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    pub kind: Kind,
    pub org: OrgId,
    pub message: MessageId,
    /// The link's target, for clicks.
    pub url: Option<String>,
}

/// Signs tokens with the current link key and checks them against it and every retired one
/// (`AURA_LINK_KEY`, `AURA_LINK_KEYS_OLD`), so rotating the key never breaks a link already sent.
#[derive(Clone)]
pub struct Signer {
    /// Each key's HMAC keyed once (the current one first); each signature starts from a copy.
    keyed: Vec<Hmac<Sha256>>,
}

fn keyed(secret: &[u8]) -> Hmac<Sha256> {
    let key = crate::crypto::derive_key(secret, b"aura email links");
    // HMAC accepts keys of any length.
    <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length")
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Self::with_retired(secret, &[])
    }

    /// Signs with `current`; also accepts what the `retired` keys signed.
    pub fn with_retired(current: &[u8], retired: &[&[u8]]) -> Self {
        Self {
            keyed: std::iter::once(current)
                .chain(retired.iter().copied())
                .map(keyed)
                .collect(),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        self.keyed[0].clone()
    }

    pub fn sign(&self, kind: Kind, org: OrgId, message: MessageId, url: Option<&str>) -> String {
        let mut bytes = Vec::with_capacity(IDS_LEN + url.map_or(0, str::len) + TAG_LEN);
        bytes.push(kind as u8);
        bytes.extend_from_slice(org.0.as_bytes());
        bytes.extend_from_slice(message.0.as_bytes());
        if let Some(url) = url {
            bytes.extend_from_slice(url.as_bytes());
        }
        let mut mac = self.mac();
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes()[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The claims of a token of `kind` signed by this key; `None` for anything else.
    pub fn verify(&self, kind: Kind, token: &str) -> Option<Claims> {
        if token.len() > (IDS_LEN + MAX_URL_LEN + TAG_LEN) * 4 / 3 + 4 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
        if bytes.len() < IDS_LEN + TAG_LEN {
            return None;
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        self.keyed.iter().find(|k| {
            let mut mac = (*k).clone();
            mac.update(body);
            mac.verify_truncated_left(tag).is_ok()
        })?;
        if body[0] != kind as u8 {
            return None;
        }
        let org = uuid::Uuid::from_slice(&body[1..17]).ok()?;
        let message = uuid::Uuid::from_slice(&body[17..33]).ok()?;
        let url = match kind {
            Kind::Click => Some(String::from_utf8(body[IDS_LEN..].to_vec()).ok()?),
            _ if body.len() == IDS_LEN => None,
            _ => return None,
        };
        Some(Claims {
            kind,
            org: OrgId(org),
            message: MessageId(message),
            url,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn ids() -> (OrgId, MessageId) {
        (OrgId(uuid::Uuid::now_v7()), MessageId(uuid::Uuid::now_v7()))
    }

    #[test]
    fn a_token_says_what_was_signed_and_only_for_its_kind() {
        let s = Signer::new(b"a secret key of enough length......");
        let (org, msg) = ids();
        let t = s.sign(Kind::Click, org, msg, Some("https://example.com/a?b=c"));
        let c = s.verify(Kind::Click, &t).unwrap();
        assert_eq!((c.org, c.message), (org, msg));
        assert_eq!(c.url.as_deref(), Some("https://example.com/a?b=c"));
        assert_eq!(s.verify(Kind::Open, &t), None);
        let u = s.sign(Kind::Unsubscribe, org, msg, None);
        assert_eq!(s.verify(Kind::Unsubscribe, &u).unwrap().url, None);
        // Another key does not accept it.
        assert_eq!(
            Signer::new(b"another key").verify(Kind::Unsubscribe, &u),
            None
        );
    }

    #[test]
    fn a_rotated_key_still_accepts_what_the_retired_one_signed() {
        let (org, msg) = ids();
        let old = Signer::new(b"the first link key, long enough....");
        let sent = old.sign(Kind::Unsubscribe, org, msg, None);
        let rotated = Signer::with_retired(
            b"the second link key, long enough...",
            &[b"the first link key, long enough...."],
        );
        assert_eq!(
            rotated.verify(Kind::Unsubscribe, &sent).unwrap().message,
            msg
        );
        let new = rotated.sign(Kind::Unsubscribe, org, msg, None);
        assert_ne!(new, sent);
        assert_eq!(old.verify(Kind::Unsubscribe, &new), None);
        assert!(Signer::new(b"the second link key, long enough...")
            .verify(Kind::Unsubscribe, &new)
            .is_some());
    }

    #[test]
    fn changing_the_url_or_any_byte_breaks_the_tag() {
        let s = Signer::new(b"k");
        let (org, msg) = ids();
        let t = s.sign(Kind::Click, org, msg, Some("https://example.com/"));
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            assert_eq!(
                s.verify(Kind::Click, &URL_SAFE_NO_PAD.encode(&bytes)),
                None,
                "byte {i}"
            );
            bytes[i] ^= 1;
        }
        // Swapping the URL for another (an open redirect attempt) fails.
        let mut forged = bytes[..IDS_LEN].to_vec();
        forged.extend_from_slice(b"https://evil.example/");
        forged.extend_from_slice(&bytes[bytes.len() - TAG_LEN..]);
        assert_eq!(
            s.verify(Kind::Click, &URL_SAFE_NO_PAD.encode(&forged)),
            None
        );
    }

    proptest! {
        #[test]
        fn garbage_is_never_accepted(token in ".{0,200}") {
            let s = Signer::new(b"k");
            prop_assert_eq!(s.verify(Kind::Open, &token), None);
            prop_assert_eq!(s.verify(Kind::Click, &token), None);
        }
    }
}

//! Twilio's webhook signatures (`X-Twilio-Signature`): the Base64 HMAC, keyed with the
//! account's Auth Token, of the full URL Twilio requested followed by each form parameter's name
//! and value, sorted by name (then value, for a repeated name). A JSON body is signed through
//! the URL instead: its SHA-256 in hex is the URL's `bodySHA256` parameter. Twilio may have
//! signed the URL with or without the scheme's default port, so both are tried. Comparison is in
//! constant time.
//!
//! The hash is SHA-1, unless the account signs its webhooks with a shared key of its Webhooks
//! settings: then `X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256` says
//! which key and which hash, and only the key and the hash change (the signed text is the same).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use url::Url;

/// The HMAC a signature is made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
}

/// The header naming a shared key and its algorithm.
pub const SETTINGS_HEADER: &str = "x-twilio-webhooks-signature-settings";

/// Reads `X-Twilio-Webhooks-Signature-Settings` (`key=<id>,algorithm=HMAC_SHA256`): the key's
/// id and the algorithm, or `None` when it names no key or an algorithm Aura does not know.
pub fn settings(header: &str) -> Option<(String, Algorithm)> {
    let mut key = None;
    let mut algorithm = None;
    for part in header.split(',') {
        let (name, value) = part.split_once('=')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "key" => key = Some(value.trim().to_owned()).filter(|k| !k.is_empty()),
            "algorithm" => {
                algorithm = match value.trim().to_ascii_uppercase().as_str() {
                    "HMAC_SHA256" | "HMAC-SHA256" => Some(Algorithm::Sha256),
                    "HMAC_SHA1" | "HMAC-SHA1" => Some(Algorithm::Sha1),
                    _ => return None,
                }
            }
            _ => {}
        }
    }
    Some((key?, algorithm.unwrap_or(Algorithm::Sha256)))
}

/// What is signed: the URL, then each parameter's name and value, sorted.
fn signed_text(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut out = url.as_bytes().to_vec();
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (name, value) in sorted {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

fn digest(algorithm: Algorithm, key: &str, text: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    match algorithm {
        Algorithm::Sha1 => {
            let mut mac =
                Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!());
            mac.update(text);
            mac.finalize().into_bytes().to_vec()
        }
        Algorithm::Sha256 => {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!());
            mac.update(text);
            mac.finalize().into_bytes().to_vec()
        }
    }
}

fn verify(algorithm: Algorithm, key: &str, text: &[u8], given: &[u8]) -> bool {
    match algorithm {
        Algorithm::Sha1 => {
            let mut mac =
                Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!());
            mac.update(text);
            mac.verify_slice(given).is_ok()
        }
        Algorithm::Sha256 => {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!());
            mac.update(text);
            mac.verify_slice(given).is_ok()
        }
    }
}

/// The signature Twilio sends for a request to `url` with the form `params` (SHA-1, keyed with
/// the Auth Token).
pub fn compute(token: &str, url: &str, params: &[(String, String)]) -> String {
    compute_with(Algorithm::Sha1, token, url, params)
}

/// The signature made with `algorithm` and `key`.
pub fn compute_with(
    algorithm: Algorithm,
    key: &str,
    url: &str,
    params: &[(String, String)],
) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest(
        algorithm,
        key,
        &signed_text(url, params),
    ))
}

/// `url` as written, without its port when it is the scheme's default, and with it: the forms
/// Twilio may have signed.
fn spellings(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    if let Ok(mut u) = Url::parse(url) {
        let default = match u.scheme() {
            "https" => 443,
            "http" => 80,
            _ => return out,
        };
        // `Url` drops a default port by itself; a non-default one is dropped too (Twilio's
        // libraries accept a URL whose port a proxy added).
        let given = u.port();
        if u.set_port(None).is_ok() {
            out.push(u.to_string());
        }
        if given.is_none() || given == Some(default) {
            let s = u.to_string();
            if let Some(at) = host_end(&s) {
                out.push(format!("{}:{default}{}", &s[..at], &s[at..]));
            }
        }
    }
    out.dedup();
    out
}

/// Where the authority of a URL without a port ends (the start of its path).
fn host_end(url: &str) -> Option<usize> {
    let after_scheme = url.find("://")? + 3;
    Some(
        url[after_scheme..]
            .find('/')
            .map_or(url.len(), |i| after_scheme + i),
    )
}

/// Whether `signature` is Twilio's for a form request to `url` with `params`.
pub fn valid_form(token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    valid_form_with(Algorithm::Sha1, token, url, params, signature)
}

/// [`valid_form`] with another key and algorithm (a shared key's).
pub fn valid_form_with(
    algorithm: Algorithm,
    key: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    spellings(url)
        .iter()
        .any(|u| verify(algorithm, key, &signed_text(u, params), &given))
}

/// Whether `signature` is Twilio's for a JSON request to `url` (whose `bodySHA256` parameter
/// must be the SHA-256 of `body`).
pub fn valid_json(token: &str, url: &str, body: &[u8], signature: &str) -> bool {
    valid_json_with(Algorithm::Sha1, token, url, body, signature)
}

/// [`valid_json`] with another key and algorithm (a shared key's).
pub fn valid_json_with(
    algorithm: Algorithm,
    key: &str,
    url: &str,
    body: &[u8],
    signature: &str,
) -> bool {
    let Ok(parsed) = Url::parse(url) else {
        return false;
    };
    let Some(claimed) = parsed
        .query_pairs()
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned())
    else {
        return false;
    };
    let actual = hex(&Sha256::digest(body));
    // Not secret, but compared whole.
    actual.eq_ignore_ascii_case(&claimed) && valid_form_with(algorithm, key, url, &[], signature)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // Twilio's own published test values (its helper libraries' request-validator tests).
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn twilios_published_values_verify() {
        assert_eq!(
            compute(TOKEN, URL, &params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(valid_form(
            TOKEN,
            URL,
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // A repeated name: sorted by value too.
        let repeated: Vec<(String, String)> = [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            compute(TOKEN, URL, &repeated),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
        // With a port, and without: each form Twilio may have signed.
        let with_port = URL.replace(".com", ".com:1234");
        assert!(valid_form(
            TOKEN,
            &with_port,
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let http_port = with_port.replace("https", "http");
        assert!(valid_form(
            TOKEN,
            &http_port,
            &params(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
        assert!(valid_form(
            TOKEN,
            URL,
            &params(),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        let http = URL.replace("https", "http");
        assert!(valid_form(
            TOKEN,
            &http,
            &params(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
        // A JSON body, signed through its hash in the URL.
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(hex(&Sha256::digest(body)), hash);
        let signed = format!("{URL}&bodySHA256={hash}");
        assert!(valid_json(
            TOKEN,
            &signed,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(!valid_json(
            TOKEN,
            &signed,
            b"{}",
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(!valid_json(
            TOKEN,
            URL,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
    }

    #[test]
    fn a_shared_keys_sha256_signature_is_checked_the_same_way() {
        // The same signed text as Twilio's published values, with HMAC-SHA256 (Base64).
        let sig = compute_with(Algorithm::Sha256, TOKEN, URL, &params());
        assert_eq!(sig, "033hgUJA9M/hXIZsYjwkerEP/DBm35nEri5FhCYjA5s=");
        assert!(valid_form_with(
            Algorithm::Sha256,
            TOKEN,
            URL,
            &params(),
            &sig
        ));
        // Not the SHA-1 signature, nor another key's.
        assert!(!valid_form(TOKEN, URL, &params(), &sig));
        assert!(!valid_form_with(
            Algorithm::Sha256,
            "54321",
            URL,
            &params(),
            &sig
        ));
        assert!(!valid_form_with(
            Algorithm::Sha256,
            TOKEN,
            URL,
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert_eq!(
            settings("key=KS0123,algorithm=HMAC_SHA256"),
            Some(("KS0123".to_owned(), Algorithm::Sha256))
        );
        assert_eq!(
            settings(" key = KS9 , algorithm = hmac_sha1 "),
            Some(("KS9".to_owned(), Algorithm::Sha1))
        );
        assert_eq!(settings("algorithm=HMAC_SHA256"), None);
        assert_eq!(settings("key=KS1,algorithm=MD5"), None);
        assert_eq!(settings("garbage"), None);
    }

    #[test]
    fn anything_changed_is_refused() {
        use proptest::prelude::*;
        // Either algorithm: SHA-1 with the Auth Token, SHA-256 with a shared key.
        let good = |alg| compute_with(alg, TOKEN, URL, &params());
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 10_000,
            ..ProptestConfig::default()
        });
        runner
            .run(
                &(
                    0usize..4,
                    0usize..64,
                    any::<u8>().prop_filter("a change", |b| *b != 0),
                    any::<bool>(),
                ),
                |(what, at, flip, sha256)| {
                    let alg = if sha256 {
                        Algorithm::Sha256
                    } else {
                        Algorithm::Sha1
                    };
                    let mut p = params();
                    let mut url = URL.to_owned();
                    let mut token = TOKEN.to_owned();
                    let mut sig = good(alg);
                    let flip_in = |s: &mut String| {
                        let mut bytes = s.clone().into_bytes();
                        let i = at % bytes.len();
                        bytes[i] ^= flip;
                        *s = String::from_utf8_lossy(&bytes).into_owned();
                    };
                    match what {
                        0 => flip_in(&mut p[at % 5].1),
                        1 => flip_in(&mut url),
                        2 => flip_in(&mut token),
                        _ => flip_in(&mut sig),
                    }
                    // A change to the URL that leaves it the same URL once parsed (a host's
                    // case, a port) is the same request.
                    let normal = |u: &str| {
                        Url::parse(u).ok().map(|mut u| {
                            u.set_port(None).ok();
                            u.to_string()
                        })
                    };
                    let same =
                        url == URL || (normal(&url).is_some() && normal(&url) == normal(URL));
                    prop_assert!(
                        same || !valid_form_with(alg, &token, &url, &p, &sig),
                        "{what} {at} {flip}"
                    );
                    Ok(())
                },
            )
            .unwrap();
    }
}

//! Twilio's webhook signatures (`X-Twilio-Signature`): the Base64 HMAC-SHA1, keyed with the
//! account's Auth Token, of the full URL Twilio requested followed by each form parameter's name
//! and value, sorted by name (then value, for a repeated name). A JSON body is signed through
//! the URL instead: its SHA-256 in hex is the URL's `bodySHA256` parameter. Twilio may have
//! signed the URL with or without the scheme's default port, so both are tried. Comparison is in
//! constant time.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use url::Url;

type HmacSha1 = Hmac<Sha1>;

fn mac(token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    // HMAC takes a key of any length.
    let mut mac = HmacSha1::new_from_slice(token.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a request to `url` with the form `params`.
pub fn compute(token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(mac(token, url, params).finalize().into_bytes())
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
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    spellings(url)
        .iter()
        .any(|u| mac(token, u, params).verify_slice(&given).is_ok())
}

/// Whether `signature` is Twilio's for a JSON request to `url` (whose `bodySHA256` parameter
/// must be the SHA-256 of `body`).
pub fn valid_json(token: &str, url: &str, body: &[u8], signature: &str) -> bool {
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
    actual.eq_ignore_ascii_case(&claimed) && valid_form(token, url, &[], signature)
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
    fn anything_changed_is_refused() {
        use proptest::prelude::*;
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
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
                ),
                |(what, at, flip)| {
                    let mut p = params();
                    let mut url = URL.to_owned();
                    let mut token = TOKEN.to_owned();
                    let mut sig = good.to_owned();
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
                        same || !valid_form(&token, &url, &p, &sig),
                        "{what} {at} {flip}"
                    );
                    Ok(())
                },
            )
            .unwrap();
    }
}

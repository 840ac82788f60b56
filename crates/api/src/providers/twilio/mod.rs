//! Twilio's Messaging API, through a small client of our own on reqwest: messages are created by
//! a form-encoded POST to `/2010-04-01/Accounts/{AccountSid}/Messages.json` (a repeated
//! `MediaUrl` is repeated in the form), with HTTP Basic authentication by the Account SID and
//! Auth Token or by an API key and its secret. Answers and the error body
//! `{code, message, more_info, status}` are read as Twilio documents them (counts and prices are
//! strings, dates RFC 2822). The base URL comes from configuration, so tests point it at a
//! stand-in; every connection goes through the network policy.
//!
//! Twilio documents no idempotency key for creating a message, so a create is never retried
//! here: an answer that did not come (a timeout after the request left, a connection dropped
//! mid-answer) is [`SendError::Unknown`], for the caller to reconcile by listing messages.

pub mod content;
pub mod signature;

use crate::providers::http;
use crate::providers::policy::NetPolicy;
use serde::Deserialize;
use std::time::Duration;
use url::Url;

/// Whom a request is made as (its `Debug` leaves the secret out).
#[derive(Clone)]
pub struct Credentials {
    pub account_sid: String,
    /// The Account SID or an API key's SID (SK…).
    pub username: String,
    /// The Auth Token or the API key's secret.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("account_sid", &self.account_sid)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A message as Twilio describes it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Message {
    pub sid: String,
    pub status: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub error_code: Option<i64>,
    #[serde(default)]
    pub error_message: Option<String>,
    /// A count, as a string.
    #[serde(default)]
    pub num_segments: Option<String>,
    /// RFC 2822.
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_sent: Option<String>,
    /// MG… when it went through a Messaging Service.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
}

/// Twilio's error body.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub code: i64,
    pub message: String,
    #[serde(default)]
    pub more_info: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
}

/// Why a request did not give what was asked.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TwilioError {
    /// Twilio answered with an error.
    #[error("Twilio refused the request ({status}, error {code}): {message}")]
    Refused {
        status: u16,
        code: i64,
        message: String,
        /// `Retry-After`, on 429.
        retry_after: Option<Duration>,
    },
    /// Certainly not done: the policy refused the host, or no connection could be made.
    #[error("{0}")]
    NotSent(String),
    /// The request may have reached Twilio, and no answer came.
    #[error("no answer from Twilio: {0}")]
    Unknown(String),
}

/// What is sent.
#[derive(Clone, Debug, Default)]
pub struct Outgoing<'a> {
    /// E.164, or `whatsapp:+…`.
    pub to: &'a str,
    pub from: Option<&'a str>,
    pub messaging_service_sid: Option<&'a str>,
    pub body: Option<&'a str>,
    /// A WhatsApp template (HX…) and its variables as JSON.
    pub content_sid: Option<&'a str>,
    pub content_variables: Option<&'a str>,
    pub media_urls: &'a [String],
    pub status_callback: Option<&'a str>,
}

impl Outgoing<'_> {
    fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![("To", self.to.to_owned())];
        let optional = [
            ("From", self.from),
            ("MessagingServiceSid", self.messaging_service_sid),
            ("Body", self.body),
            ("ContentSid", self.content_sid),
            ("ContentVariables", self.content_variables),
            ("StatusCallback", self.status_callback),
        ];
        form.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v.to_owned()))),
        );
        form.extend(self.media_urls.iter().map(|u| ("MediaUrl", u.clone())));
        form
    }
}

/// The account, as the Test reads it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Account {
    pub sid: String,
    pub friendly_name: String,
    pub status: String,
}

#[derive(Deserialize)]
struct MessagePage {
    messages: Vec<Message>,
}

/// The client, shared by the process.
#[derive(Clone)]
pub struct Twilio {
    client: reqwest::Client,
    base: Url,
    /// Twilio's Content API (`https://content.twilio.com`): WhatsApp templates.
    content_base: Url,
    network: NetPolicy,
    timeout: Duration,
}

const MAX_BODY: usize = 1024 * 1024;

impl Twilio {
    pub fn new(
        base: Url,
        content_base: Url,
        network: NetPolicy,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: http::client(&network, timeout.min(Duration::from_secs(10)))?,
            base,
            content_base,
            network,
            timeout,
        })
    }

    fn url(&self, path: &str) -> Result<Url, TwilioError> {
        self.base
            .join(path)
            .map_err(|e| TwilioError::NotSent(format!("bad Twilio URL: {e}")))
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
        creds: &Credentials,
    ) -> Result<T, TwilioError> {
        http::check(url, &self.network)
            .await
            .map_err(|e| TwilioError::NotSent(e.to_string()))?;
        let response = request
            .basic_auth(&creds.username, Some(&creds.password))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| match http::refused(&e) {
                Some(r) => TwilioError::NotSent(r.to_string()),
                None if e.is_connect() => TwilioError::NotSent(http::describe(&e)),
                None => TwilioError::Unknown(http::describe(&e)),
            })?;
        let status = response.status();
        let retry_after = http::retry_after(response.headers());
        let body = http::read_body(response, MAX_BODY)
            .await
            .map_err(|e| TwilioError::Unknown(http::describe(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                TwilioError::Unknown(format!("Twilio's answer could not be read: {e}"))
            });
        }
        let error: Option<ErrorBody> = serde_json::from_slice(&body).ok();
        Err(TwilioError::Refused {
            status: status.as_u16(),
            code: error.as_ref().map_or(0, |e| e.code),
            message: error.map(|e| e.message).unwrap_or_else(|| {
                let text = String::from_utf8_lossy(&body);
                let text: String = text.chars().take(200).collect();
                if text.trim().is_empty() {
                    status.canonical_reason().unwrap_or("error").to_owned()
                } else {
                    text
                }
            }),
            retry_after,
        })
    }

    /// Creates (sends) one message. Never retried: see the module's note.
    pub async fn send(
        &self,
        creds: &Credentials,
        m: &Outgoing<'_>,
    ) -> Result<Message, TwilioError> {
        let url = self.url(&format!(
            "/2010-04-01/Accounts/{}/Messages.json",
            creds.account_sid
        ))?;
        let request = self.client.post(url.clone()).form(&m.form());
        self.call(request, &url, creds).await
    }

    /// Reads the account: one authenticated call (the Test of Settings → Channels).
    pub async fn account(&self, creds: &Credentials) -> Result<Account, TwilioError> {
        let url = self.url(&format!("/2010-04-01/Accounts/{}.json", creds.account_sid))?;
        let request = self.client.get(url.clone());
        self.call(request, &url, creds).await
    }

    /// The account's latest messages to `to` (newest first, up to 100): what reconciles a send
    /// whose outcome is unknown. Not filtered by date: a message still queued at Twilio has no
    /// date sent yet, and must be found too.
    pub async fn messages_to(
        &self,
        creds: &Credentials,
        to: &str,
    ) -> Result<Vec<Message>, TwilioError> {
        let mut url = self.url(&format!(
            "/2010-04-01/Accounts/{}/Messages.json",
            creds.account_sid
        ))?;
        url.query_pairs_mut()
            .append_pair("To", to)
            .append_pair("PageSize", "100");
        let request = self.client.get(url.clone());
        self.call::<MessagePage>(request, &url, creds)
            .await
            .map(|p| p.messages)
    }
}

/// The most a media file may weigh (Twilio's limit for a message's media is 5 MB in all).
const MAX_MEDIA: usize = 5 * 1024 * 1024;

/// A message's media file as fetched.
#[derive(Clone, Debug)]
pub struct Media {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Twilio {
    /// Fetches a message's media file from its `MediaUrl`, with the account's credentials.
    /// Only Twilio's own address (the configured one) gets them; Twilio answers with the file,
    /// or redirects to a short-lived signed address, fetched without credentials (through the
    /// network policy, as every connection is).
    pub async fn media(&self, creds: &Credentials, url: &Url) -> Result<Media, TwilioError> {
        let same_host = url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default();
        if !same_host {
            return Err(TwilioError::NotSent(format!(
                "the media's address is not Twilio's ({})",
                url.host_str().unwrap_or("no host")
            )));
        }
        let mut next = url.clone();
        for hop in 0..3 {
            http::check(&next, &self.network)
                .await
                .map_err(|e| TwilioError::NotSent(e.to_string()))?;
            let mut request = self.client.get(next.clone()).timeout(self.timeout);
            if hop == 0 {
                request = request.basic_auth(&creds.username, Some(&creds.password));
            }
            let response = request
                .send()
                .await
                .map_err(|e| TwilioError::NotSent(http::describe(&e)))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| next.join(l).ok())
                    .ok_or_else(|| TwilioError::NotSent("a redirect without a Location".into()))?;
                next = location;
                continue;
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            let body = http::read_body(response, MAX_MEDIA)
                .await
                .map_err(|e| TwilioError::NotSent(http::describe(&e)))?;
            if !status.is_success() {
                let error: Option<ErrorBody> = serde_json::from_slice(&body).ok();
                return Err(TwilioError::Refused {
                    status: status.as_u16(),
                    code: error.as_ref().map_or(0, |e| e.code),
                    message: error.map_or_else(
                        || status.canonical_reason().unwrap_or("error").to_owned(),
                        |e| e.message,
                    ),
                    retry_after: None,
                });
            }
            return Ok(Media {
                content_type,
                bytes: body,
            });
        }
        Err(TwilioError::NotSent("too many redirects".into()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_form_repeats_media_urls_and_leaves_out_what_is_not_given() {
        let media = vec![
            "https://a.example/1.jpg".to_owned(),
            "https://a.example/2.jpg".to_owned(),
        ];
        let m = Outgoing {
            to: "+15558675310",
            messaging_service_sid: Some("MG9752274e9e519418a7406176694466fa"),
            body: Some("Hi & welcome"),
            media_urls: &media,
            ..Outgoing::default()
        };
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(m.form())
            .finish();
        assert_eq!(
            encoded,
            "To=%2B15558675310&MessagingServiceSid=MG9752274e9e519418a7406176694466fa&Body=Hi+%26+welcome\
             &MediaUrl=https%3A%2F%2Fa.example%2F1.jpg&MediaUrl=https%3A%2F%2Fa.example%2F2.jpg"
        );
    }

    #[test]
    fn documented_bodies_are_read() {
        // The create answer as Twilio documents it (counts and prices as strings).
        let created: Message = serde_json::from_str(
            r#"{"account_sid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "api_version": "2010-04-01",
                "body": "Hi there", "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
                "date_sent": "Thu, 24 Aug 2023 05:01:45 +0000", "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
                "direction": "outbound-api", "error_code": null, "error_message": null,
                "from": "+14155552345", "num_media": "0", "num_segments": "1", "price": null,
                "price_unit": null, "messaging_service_sid": "MGXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                "sid": "SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "status": "queued",
                "subresource_uris": {"media": "/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages/SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Media.json"},
                "to": "+14155552345", "uri": "/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages/SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX.json"}"#,
        )
        .unwrap();
        assert_eq!(created.status, "queued");
        assert_eq!(created.num_segments.as_deref(), Some("1"));
        let error: ErrorBody = serde_json::from_str(
            r#"{"code": 21211, "message": "Invalid 'To' Phone Number: +1555", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#,
        )
        .unwrap();
        assert_eq!((error.code, error.status), (21211, Some(400)));
    }
}

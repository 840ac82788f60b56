//! Typed settings, read once from the environment (`DATABASE_URL`, `AURA_*`) with local defaults.
//! Every variable is documented in `.env.example`.

use crate::client_addr::TrustedProxies;
use crate::providers::policy::NetPolicy;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use std::{net::SocketAddr, path::PathBuf, str::FromStr, sync::Arc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: SecretString,
    pub db_max_connections: u32,
    pub bind: SocketAddr,
    /// The address people use to reach Aura (links in invitations; `https` turns on Secure cookies).
    pub public_url: String,
    /// Root secret: signs access tokens and derives the keys that encrypt secrets at rest.
    pub secret_key: SecretString,
    /// Signs the links in sent email (unsubscribe, open, click); the secret key when unset.
    pub link_key: SecretString,
    /// Retired link keys: links they signed keep working.
    pub old_link_keys: Vec<SecretString>,
    pub static_dir: PathBuf,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u32,
    pub invitation_ttl_days: u32,
    pub max_json_bytes: usize,
    pub request_timeout_secs: u64,
    pub login_max_failures_per_email: u32,
    pub login_max_failures_per_ip: u32,
    pub login_window_secs: u64,
    /// HTTP worker threads; 0 means one per core.
    pub http_workers: usize,
    /// SMTP server for Aura's own email (invitations); none means links are shared by hand.
    pub smtp_url: Option<SecretString>,
    /// Sender of Aura's own email.
    pub mail_from: String,
    /// Seals secrets at rest (AES-256-GCM); derived from the secret key unless set.
    pub master_key: Arc<SecretBox<[u8; 32]>>,
    /// Earlier master keys, still accepted for opening what they sealed.
    pub old_master_keys: Vec<Arc<SecretBox<[u8; 32]>>>,
    /// Which hosts an organization's servers (SMTP, IMAP, webhooks) may be on: public
    /// addresses, plus what `AURA_OUTBOUND_ALLOW` lists.
    pub network: NetPolicy,
    /// The same for AI providers, where `AURA_ALLOW_PRIVATE_AI_URLS=true` (the older,
    /// all-or-nothing form) also allows every private address.
    pub ai_network: NetPolicy,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers are believed.
    pub trusted_proxies: TrustedProxies,
    /// Seconds one HTTP attempt to an AI provider may take.
    pub ai_timeout_secs: u64,
    /// HTTP attempts per AI call (retries on 429, 5xx, timeouts).
    pub ai_max_attempts: u32,
    /// AI calls one organization may have in flight in this process.
    pub ai_concurrency: usize,
    /// The longest `Retry-After` honoured; a provider asking for more fails at once.
    pub ai_max_retry_after_secs: u64,
    /// Seconds a worker holds a message it is sending; after that its outcome is unknown.
    pub send_lease_secs: i64,
    /// Attempts per message on temporary failures (4xx, connection errors) before it fails.
    pub send_max_attempts: i32,
    /// The first retry's delay; each further one doubles it (at most six hours).
    pub send_retry_secs: i64,
    /// Messages claimed at once (per mailbox without an interval between sends).
    pub send_batch: i64,
    /// SMTP connections one batch uses per mailbox.
    pub smtp_connections: usize,
    /// Batches a worker sends at once (each claims its own).
    pub send_tasks: usize,
    /// Seconds an SMTP connection or answer may take.
    pub smtp_timeout_secs: u64,
    /// Authentication failures in a row after which a mailbox is paused.
    pub mailbox_pause_after: i32,
    /// Where sandbox mailboxes write `.eml` files.
    pub outbox_dir: PathBuf,
    /// Seconds an IMAP connection or command may take.
    pub imap_timeout_secs: u64,
    /// How many days back the first sync of a mailbox reads.
    pub imap_lookback_days: u32,
    /// Seconds between polls of Junk and Sent (and the longest an IDLE waits before it is
    /// re-issued; servers may drop an IDLE after 29 minutes).
    pub imap_poll_secs: u64,
    /// Mailboxes one worker process reads at once.
    pub imap_max_mailboxes: i64,
    /// Twilio's REST API (`https://api.twilio.com`; tests point it at a stand-in).
    pub twilio_api_url: url::Url,
    /// Twilio's Content API, where WhatsApp templates are listed (`https://content.twilio.com`).
    pub twilio_content_url: url::Url,
    /// Seconds a call to Twilio may take.
    pub twilio_timeout_secs: u64,
    /// Opens and clicks that may wait in memory for the database; beyond this, new ones are
    /// dropped (and counted in the log).
    pub tracking_buffer: usize,
}

/// A setting that is missing or cannot be parsed; printed as one line at start-up.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/aura";

impl Settings {
    /// The signer of the links inside sent email (the current link key and the retired ones).
    pub fn link_signer(&self) -> crate::delivery::tokens::Signer {
        let retired: Vec<&[u8]> = self
            .old_link_keys
            .iter()
            .map(|k| k.expose_secret().as_bytes())
            .collect();
        crate::delivery::tokens::Signer::with_retired(
            self.link_key.expose_secret().as_bytes(),
            &retired,
        )
    }

    /// The sealer of this process's master keys (the current one and the retired ones).
    pub fn sealer(&self) -> crate::crypto::Sealer {
        let older: Vec<&[u8; 32]> = self
            .old_master_keys
            .iter()
            .map(|k| k.expose_secret())
            .collect();
        crate::crypto::Sealer::new(self.master_key.expose_secret(), &older)
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds settings from any source of variables (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret_key = get("AURA_SECRET_KEY").ok_or_else(|| ConfigError {
            name: "AURA_SECRET_KEY",
            reason: "is required: set it to a random string of at least 32 characters (for example the output of `openssl rand -hex 32`)".into(),
        })?;
        if secret_key.len() < 32 {
            return Err(ConfigError {
                name: "AURA_SECRET_KEY",
                reason: format!("must be at least 32 characters, got {}", secret_key.len()),
            });
        }
        let public_url = get("AURA_PUBLIC_URL").unwrap_or_else(|| "http://localhost:8080".into());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError {
                name: "AURA_PUBLIC_URL",
                reason: format!("must start with http:// or https://, got {public_url:?}"),
            });
        }
        let log_format = match get("AURA_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    name: "AURA_LOG_FORMAT",
                    reason: format!("must be `pretty` or `json`, got {other:?}"),
                })
            }
        };
        let master_key = match get("AURA_MASTER_KEY") {
            Some(hex) => parse_master_key(&hex, "AURA_MASTER_KEY")?,
            None => crate::crypto::derive_key(secret_key.as_bytes(), b"aura master key"),
        };
        // Retired secret keys: never accepted for sessions (rotating the secret signs everyone
        // out), but what they derived — the master key that sealed stored secrets, the key that
        // signed links in sent email — is still accepted for opening and verifying.
        let old_secret_keys: Vec<String> = get("AURA_SECRET_KEYS_OLD")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut old_master_keys = get("AURA_MASTER_KEYS_OLD")
            .map(|list| {
                list.split(',')
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| {
                        parse_master_key(k, "AURA_MASTER_KEYS_OLD")
                            .map(|k| Arc::new(SecretBox::new(Box::new(k))))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        // What a retired secret derived: the master key only while AURA_MASTER_KEY was unset,
        // the link key only while AURA_LINK_KEY was unset (a secret retired because it leaked
        // must not keep signing links an explicit link key now signs).
        let derived_master = get("AURA_MASTER_KEY").is_none();
        let derived_links = get("AURA_LINK_KEY").is_none();
        old_master_keys.extend(old_secret_keys.iter().filter(|_| derived_master).map(|k| {
            Arc::new(SecretBox::new(Box::new(crate::crypto::derive_key(
                k.as_bytes(),
                b"aura master key",
            ))))
        }));
        let link_key = get("AURA_LINK_KEY").unwrap_or_else(|| secret_key.clone());
        if link_key.len() < 32 {
            return Err(ConfigError {
                name: "AURA_LINK_KEY",
                reason: format!("must be at least 32 characters, got {}", link_key.len()),
            });
        }
        let old_link_keys: Vec<SecretString> = get("AURA_LINK_KEYS_OLD")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .chain(old_secret_keys.into_iter().filter(|_| derived_links))
            .map(SecretString::from)
            .collect();
        Ok(Self {
            link_key: SecretString::from(link_key),
            old_link_keys,
            database_url: SecretString::from(database_url_from(&get)),
            db_max_connections: parse(&get, "AURA_DB_MAX_CONNECTIONS", 10)?,
            bind: parse(&get, "AURA_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            public_url: public_url.trim_end_matches('/').to_owned(),
            secret_key: SecretString::from(secret_key),
            static_dir: PathBuf::from(
                get("AURA_STATIC_DIR").unwrap_or_else(|| "frontend/dist".into()),
            ),
            log_format,
            log_filter: get("AURA_LOG").unwrap_or_else(|| "info".into()),
            access_token_ttl_secs: parse(&get, "AURA_ACCESS_TOKEN_TTL_SECS", 900)?,
            refresh_token_ttl_days: parse(&get, "AURA_REFRESH_TOKEN_TTL_DAYS", 30)?,
            invitation_ttl_days: parse(&get, "AURA_INVITATION_TTL_DAYS", 7)?,
            max_json_bytes: parse(&get, "AURA_MAX_JSON_BYTES", 1024 * 1024)?,
            request_timeout_secs: parse(&get, "AURA_REQUEST_TIMEOUT_SECS", 30)?,
            login_max_failures_per_email: parse(&get, "AURA_LOGIN_MAX_FAILURES_PER_EMAIL", 5)?,
            login_max_failures_per_ip: parse(&get, "AURA_LOGIN_MAX_FAILURES_PER_IP", 30)?,
            login_window_secs: parse(&get, "AURA_LOGIN_WINDOW_SECS", 900)?,
            http_workers: parse(&get, "AURA_HTTP_WORKERS", 0)?,
            smtp_url: get("AURA_SMTP_URL").map(SecretString::from),
            mail_from: get("AURA_MAIL_FROM").unwrap_or_else(|| "Aura <no-reply@localhost>".into()),
            master_key: Arc::new(SecretBox::new(Box::new(master_key))),
            old_master_keys,
            network: NetPolicy::parse(&get("AURA_OUTBOUND_ALLOW").unwrap_or_default(), false)
                .map_err(|reason| ConfigError {
                    name: "AURA_OUTBOUND_ALLOW",
                    reason,
                })?
                .without_internet(!parse(&get, "AURA_OUTBOUND_PUBLIC", true)?),
            ai_network: NetPolicy::parse(
                &get("AURA_OUTBOUND_ALLOW").unwrap_or_default(),
                parse(&get, "AURA_ALLOW_PRIVATE_AI_URLS", false)?,
            )
            .map_err(|reason| ConfigError {
                name: "AURA_OUTBOUND_ALLOW",
                reason,
            })?
            .without_internet(!parse(&get, "AURA_OUTBOUND_PUBLIC", true)?),
            trusted_proxies: TrustedProxies::parse(
                &get("AURA_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|reason| ConfigError {
                name: "AURA_TRUSTED_PROXIES",
                reason,
            })?,
            ai_timeout_secs: parse(&get, "AURA_AI_TIMEOUT_SECS", 60)?,
            ai_max_attempts: parse(&get, "AURA_AI_MAX_ATTEMPTS", 3)?,
            ai_concurrency: parse(&get, "AURA_AI_CONCURRENCY", 4)?,
            ai_max_retry_after_secs: parse(&get, "AURA_AI_MAX_RETRY_AFTER_SECS", 30)?,
            send_lease_secs: parse(&get, "AURA_SEND_LEASE_SECS", 120)?,
            send_max_attempts: parse(&get, "AURA_SEND_MAX_ATTEMPTS", 5)?,
            send_retry_secs: parse(&get, "AURA_SEND_RETRY_SECS", 60)?,
            send_batch: parse(&get, "AURA_SEND_BATCH", 200)?,
            smtp_connections: parse(&get, "AURA_SMTP_CONNECTIONS", 2)?,
            send_tasks: parse(&get, "AURA_SEND_TASKS", 4)?,
            smtp_timeout_secs: parse(&get, "AURA_SMTP_TIMEOUT_SECS", 30)?,
            mailbox_pause_after: parse(&get, "AURA_MAILBOX_PAUSE_AFTER", 3)?,
            outbox_dir: PathBuf::from(
                get("AURA_OUTBOX_DIR").unwrap_or_else(|| ".aura/outbox".into()),
            ),
            tracking_buffer: parse(&get, "AURA_TRACKING_BUFFER", 1_000_000)?,
            imap_timeout_secs: parse(&get, "AURA_IMAP_TIMEOUT_SECS", 60)?,
            imap_lookback_days: parse(&get, "AURA_IMAP_LOOKBACK_DAYS", 30)?,
            imap_poll_secs: parse(&get, "AURA_IMAP_POLL_SECS", 60)?,
            imap_max_mailboxes: parse(&get, "AURA_IMAP_MAX_MAILBOXES", 500)?,
            twilio_api_url: get("AURA_TWILIO_API_URL")
                .unwrap_or_else(|| "https://api.twilio.com".into())
                .parse()
                .map_err(|e| ConfigError {
                    name: "AURA_TWILIO_API_URL",
                    reason: format!("is not a URL: {e}"),
                })?,
            twilio_content_url: get("AURA_TWILIO_CONTENT_URL")
                .unwrap_or_else(|| "https://content.twilio.com".into())
                .parse()
                .map_err(|e| ConfigError {
                    name: "AURA_TWILIO_CONTENT_URL",
                    reason: format!("is not a URL: {e}"),
                })?,
            twilio_timeout_secs: parse(&get, "AURA_TWILIO_TIMEOUT_SECS", 15)?,
        })
    }

    /// Whether Aura is reached over https (cookies are then marked Secure).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}

/// The database address alone, for commands that need nothing else (`aura migrate`).
pub fn database_url_from_env() -> String {
    database_url_from(&|name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

fn database_url_from(get: &impl Fn(&str) -> Option<String>) -> String {
    get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into())
}

/// A 256-bit key written as 64 hex characters.
fn parse_master_key(hex_text: &str, name: &'static str) -> Result<[u8; 32], ConfigError> {
    let bytes = hex::decode(hex_text.trim()).map_err(|e| ConfigError {
        name,
        reason: format!("must be 64 hex characters (openssl rand -hex 32): {e}"),
    })?;
    bytes.try_into().map_err(|b: Vec<u8>| ConfigError {
        name,
        reason: format!(
            "must be 32 bytes (64 hex characters), got {} bytes",
            b.len()
        ),
    })
}

fn parse<T: FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match get(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e: T::Err| ConfigError {
            name,
            reason: format!("cannot parse {raw:?}: {e}"),
        }),
    }
}

impl Settings {
    /// Twilio's client for these settings (its address, the network policy, the timeout).
    pub fn twilio(&self) -> anyhow::Result<crate::providers::twilio::Twilio> {
        crate::providers::twilio::Twilio::new(
            self.twilio_api_url.clone(),
            self.twilio_content_url.clone(),
            self.network.clone(),
            std::time::Duration::from_secs(self.twilio_timeout_secs.max(1)),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    const KEY: (&str, &str) = ("AURA_SECRET_KEY", "0123456789abcdef0123456789abcdef");

    #[test]
    fn defaults_apply_when_only_the_secret_is_set() {
        let s = settings(&[KEY]).unwrap();
        assert_eq!(s.database_url(), DEFAULT_DATABASE_URL);
        assert_eq!(s.bind.port(), 8080);
        assert_eq!(s.max_json_bytes, 1024 * 1024);
        assert!(!s.is_https());
    }

    #[test]
    fn a_missing_or_short_secret_is_one_clear_error() {
        let e = settings(&[]).unwrap_err().to_string();
        assert!(
            e.contains("AURA_SECRET_KEY") && e.contains("required"),
            "{e}"
        );
        let e = settings(&[("AURA_SECRET_KEY", "short")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 32"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn a_retired_secret_verifies_only_what_it_derived() {
        const OLD: &str = "an-old-secret-key-0123456789abcdefghijklmn";
        let s = settings(&[KEY, ("AURA_SECRET_KEYS_OLD", OLD)]).unwrap();
        assert_eq!(s.old_link_keys.len(), 1);
        assert_eq!(s.old_master_keys.len(), 1);
        // With their own keys set, a retired secret (perhaps retired because it leaked) signs
        // and opens nothing.
        let s = settings(&[
            KEY,
            ("AURA_SECRET_KEYS_OLD", OLD),
            ("AURA_LINK_KEY", "a-link-key-of-enough-length-0123456789"),
            (
                "AURA_MASTER_KEY",
                "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            ),
        ])
        .unwrap();
        assert!(s.old_link_keys.is_empty() && s.old_master_keys.is_empty());
        // AURA_ALLOW_PRIVATE_AI_URLS opens AI providers only, never mailboxes.
        let s = settings(&[KEY, ("AURA_ALLOW_PRIVATE_AI_URLS", "true")]).unwrap();
        let private = "10.0.0.1".parse().unwrap();
        assert!(s.ai_network.allows_ip(private, Some(80)));
        assert!(!s.network.allows_ip(private, Some(25)));
        assert_eq!(
            settings(&[KEY, ("AURA_TRUSTED_PROXIES", "proxy.local")])
                .unwrap_err()
                .name,
            "AURA_TRUSTED_PROXIES"
        );
    }

    #[test]
    fn unparsable_values_name_the_variable() {
        let e = settings(&[KEY, ("AURA_BIND", "nowhere")]).unwrap_err();
        assert_eq!(e.name, "AURA_BIND");
        let e = settings(&[KEY, ("AURA_LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(e.name, "AURA_LOG_FORMAT");
        let e = settings(&[KEY, ("AURA_PUBLIC_URL", "example.com")]).unwrap_err();
        assert_eq!(e.name, "AURA_PUBLIC_URL");
    }
}

//! Mailboxes (the organization's own email accounts), their sending limits and health, and what
//! delivery reports: pre-flight checks, per-step counters, the sandbox outbox.

use crate::ai::SecretState;
use crate::contact::nullable;
use crate::ids::{DkimKeyId, MailboxId, MessageId, OutboxId, StepId};
use crate::string_enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

string_enum!(
    /// Where a mailbox's email goes.
    #[derive(Default)]
    MailboxKind as "mailbox_kind" {
        /// The organization's own SMTP server.
        #[default]
        Smtp = "smtp" / "SMTP",
        /// Nothing leaves the machine: messages are kept in the outbox (and handed to a local
        /// mail catcher when a host is set). For demos and trying campaigns out.
        Sandbox = "sandbox" / "Sandbox",
    }
);

string_enum!(
    /// How the connection to a mail server is protected.
    #[derive(Default)]
    SmtpSecurity as "smtp_security" {
        /// TLS from the first byte (usually port 465, IMAP 993).
        Tls = "tls" / "TLS (implicit)",
        /// Plain connection upgraded with STARTTLS, required (usually port 587).
        #[default]
        Starttls = "starttls" / "STARTTLS",
        /// No encryption: only for a server on this machine or network.
        None = "none" / "None (local servers only)",
    }
);

string_enum!(
    /// Whether a mailbox sends.
    #[derive(Default)]
    MailboxStatus as "mailbox_status" {
        #[default]
        Active = "active" / "Active",
        /// Stopped by a person, or by Aura after repeated authentication failures.
        Paused = "paused" / "Paused",
    }
);

/// Most sends a day (a mailbox with ramp-up starts lower and grows a step a day).
pub const MAX_DAILY_LIMIT: i32 = 100_000;

/// A mailbox's limit on the `day`-th day of its ramp-up (day 0 is the first).
pub fn limit_on_day(daily_limit: i32, ramp_start: i32, ramp_step: i32, day: i64) -> i32 {
    if ramp_start <= 0 {
        return daily_limit;
    }
    let grown = i64::from(ramp_start) + i64::from(ramp_step) * day.max(0);
    i32::try_from(grown.min(i64::from(daily_limit))).unwrap_or(daily_limit)
}

/// A mailbox as the API shows it; passwords are never returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Mailbox {
    pub id: MailboxId,
    pub kind: MailboxKind,
    pub from_name: String,
    pub from_email: String,
    pub reply_to: Option<String>,
    /// Plain text added under every message.
    pub signature: String,
    pub smtp: ServerSettings,
    /// For reading replies.
    pub imap: ServerSettings,
    pub limits: SendingLimits,
    /// Today's limit (after ramp-up) and what was used of it.
    pub today_limit: i32,
    pub sent_today: i64,
    pub status: MailboxStatus,
    pub paused_reason: Option<String>,
    pub health: MailboxHealth,
    /// The DKIM selector its messages are signed with (the key of its From domain); `None`:
    /// not signed.
    #[serde(default)]
    pub dkim_selector: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

string_enum!(
    /// How a DKIM key signs.
    DkimAlgorithm as "dkim_algorithm" {
        Rsa = "rsa" / "RSA",
        Ed25519 = "ed25519" / "Ed25519",
    }
);

/// A sending domain's DKIM key as the API shows it: the private key is never returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DkimKey {
    pub id: DkimKeyId,
    /// The domain it signs for: every mailbox sending from an address on it.
    pub domain: String,
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    /// "RSA 2048 bits", "Ed25519".
    pub description: String,
    /// The TXT record to publish: its name (`selector._domainkey.domain`) …
    pub dns_name: String,
    /// … and its value (`v=DKIM1; k=…; p=…`).
    pub dns_value: String,
    /// The organization's mailboxes that sign with it.
    pub mailbox_ids: Vec<MailboxId>,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A DKIM private key to upload for a domain (it replaces the domain's key, if there is one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DkimKeyInput {
    /// The domain of the From addresses it signs, e.g. `mail.example.com`.
    pub domain: String,
    /// The selector it is published under in DNS (`selector._domainkey.domain`).
    pub selector: String,
    /// PEM (`-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN PRIVATE KEY-----`, RSA 1024–4096
    /// bits or Ed25519), or an Ed25519 key's 32 bytes in base64.
    pub private_key: String,
}

/// A mail server's address and login; the password only as "set, ends with …".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: SecretState,
}

/// How fast a mailbox may send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SendingLimits {
    /// Most sends a day.
    pub daily_limit: i32,
    /// Ramp-up: the first day's limit (0: no ramp-up) …
    pub ramp_start: i32,
    /// … growing by this much a day up to `daily_limit`.
    pub ramp_step: i32,
    /// Seconds between two sends at least …
    pub min_interval_secs: i32,
    /// … plus a random 0..=jitter_secs.
    pub jitter_secs: i32,
}

impl Default for SendingLimits {
    fn default() -> Self {
        Self {
            daily_limit: 50,
            ramp_start: 0,
            ramp_step: 0,
            min_interval_secs: 60,
            jitter_secs: 30,
        }
    }
}

/// How a mailbox has been doing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MailboxHealth {
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_success_at: Option<OffsetDateTime>,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_error_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
}

/// Changes to a server's settings (absent: unchanged). `password`: absent keeps the stored one,
/// `""` or `null` removes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ServerInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SmtpSecurity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub password: Option<Option<String>>,
}

/// A new mailbox, or changes to one (absent: unchanged, or the default for a new one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MailboxInput {
    /// Only when creating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MailboxKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_email: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub reply_to: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<ServerInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap: Option<ServerInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<SendingLimits>,
    /// Pausing stops its sends; making it active again clears the failure count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MailboxStatus>,
}

/// The result of "Test": each stage of a real SMTP (or IMAP) connection, up to the first that
/// failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MailboxTest {
    pub ok: bool,
    pub stages: Vec<TestStage>,
}

/// One stage of a connection test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TestStage {
    /// SMTP: `connect`, `tls`, `ehlo`, `starttls`, `auth` or `outbox`. IMAP: `connect`, `tls`,
    /// `greeting`, `starttls`, `login`, `folders`.
    pub stage: String,
    pub ok: bool,
    /// What happened, in the server's own words where it answered.
    pub detail: String,
}

/// How reading a mailbox's replies over IMAP goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MailboxSync {
    /// Whether IMAP settings are set (otherwise replies are not read).
    pub configured: bool,
    /// Whether a worker holds the mailbox now.
    pub active: bool,
    /// Whether that worker waits on IDLE (new mail is taken in as it arrives).
    pub idling: bool,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_sync_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_error_at: Option<OffsetDateTime>,
    /// The folders read, inbox first.
    pub folders: Vec<SyncedFolder>,
}

/// One folder's watermark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SyncedFolder {
    pub name: String,
    /// `inbox`, `junk` or `sent`.
    pub role: String,
    pub uid_validity: i64,
    /// The last UID taken in.
    pub last_uid: i64,
    /// Messages taken in since the UIDVALIDITY began (for Sent: our messages recognised).
    pub messages: i64,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub synced_at: Option<OffsetDateTime>,
}

/// The mailboxes a campaign sends through (rotated, sticky per lead).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CampaignMailboxes {
    pub mailbox_ids: Vec<MailboxId>,
}

/// One pre-flight check before launch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PreflightCheck {
    /// `steps`, `mailboxes`, `postal_address`, `numbers`, `tags`, `messages`, `window`.
    pub check: String,
    pub ok: bool,
    pub detail: String,
    /// Passes, but something deserves a look before launch (e.g. a WhatsApp marketing template
    /// for US numbers, which Meta does not deliver).
    #[serde(default)]
    pub warning: bool,
}

/// Whether a campaign can launch, and why not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Preflight {
    pub ready: bool,
    pub checks: Vec<PreflightCheck>,
}

impl Preflight {
    pub fn new(checks: Vec<PreflightCheck>) -> Self {
        Self {
            ready: checks.iter().all(|c| c.ok),
            checks,
        }
    }

    /// The failed checks as one sentence each, for an error message.
    pub fn problems(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.detail.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Delivery counters of one step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StepDelivery {
    pub step_id: StepId,
    pub position: i32,
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub bounced: i64,
    pub unknown: i64,
    pub cancelled: i64,
    /// Sent messages opened / clicked at least once (when tracking is on).
    pub opened: i64,
    pub clicked: i64,
}

/// A campaign's delivery: per-step counters and where its leads are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub steps: Vec<StepDelivery>,
    /// Leads still in the campaign.
    pub active: i64,
    /// Active leads whose next message is not written or not approved yet.
    pub waiting_for_approval: i64,
    /// Leads past their last step, or stopped (bounced, unsubscribed, failed).
    pub completed: i64,
    /// Leads who unsubscribed (or were otherwise stopped) since enrolling.
    pub unsubscribed: i64,
}

/// What to do with a message whose outcome is unknown (or that failed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeliveryAction {
    pub action: DeliveryActionKind,
}

string_enum!(
    /// Resolving a message that did not clearly go out.
    DeliveryActionKind as "delivery_action" {
        /// Queue it again (the lead may get it twice if it did go out).
        Retry = "retry" / "Retry",
        /// Count it as sent and move the lead on.
        MarkSent = "mark_sent" / "Mark as sent",
    }
);

/// A message a sandbox mailbox caught.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OutboxItem {
    pub id: OutboxId,
    pub mailbox_id: Option<MailboxId>,
    pub message_id: Option<MessageId>,
    pub recipient: String,
    pub subject: String,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub caught_at: OffsetDateTime,
}

/// A caught message with its parts decoded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OutboxMessage {
    pub item: OutboxItem,
    /// The whole message as it went out (RFC 5322).
    pub raw: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_up_grows_a_step_a_day_up_to_the_limit() {
        assert_eq!(limit_on_day(50, 0, 0, 0), 50);
        assert_eq!(limit_on_day(50, 10, 5, 0), 10);
        assert_eq!(limit_on_day(50, 10, 5, 3), 25);
        assert_eq!(limit_on_day(50, 10, 5, 30), 50);
        assert_eq!(limit_on_day(50, 10, 0, 30), 10);
        assert_eq!(limit_on_day(50, 10, 5, -2), 10);
        assert_eq!(
            limit_on_day(i32::MAX, 10, i32::MAX, i64::from(i32::MAX)),
            i32::MAX
        );
    }

    #[test]
    fn preflight_is_ready_only_when_every_check_passes() {
        let ok = |c: &str| PreflightCheck {
            check: c.into(),
            ok: true,
            detail: "fine".into(),
            warning: false,
        };
        let mut p = Preflight::new(vec![ok("steps"), ok("mailboxes")]);
        assert!(p.ready);
        p = Preflight::new(vec![
            ok("steps"),
            PreflightCheck {
                check: "mailboxes".into(),
                ok: false,
                detail: "Add a mailbox.".into(),
                warning: false,
            },
        ]);
        assert!(!p.ready);
        assert_eq!(p.problems(), "Add a mailbox.");
    }
}

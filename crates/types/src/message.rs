//! Prepared messages — what each lead will get at each step — their review, and the background
//! preparation that writes them.

use crate::ai::Provenance;
use crate::contact::Channel;
use crate::ids::{CampaignId, ContactId, MessageId, PreparationId, StepId};
use crate::string_enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

string_enum!(
    /// Where a prepared message is in review.
    MessageStatus as "message_status" {
        /// Written; waiting for a person's decision.
        Prepared = "prepared" / "Needs review",
        /// Ready to be sent.
        Approved = "approved" / "Approved",
        /// Will not be sent.
        Rejected = "rejected" / "Rejected",
        /// Handed to the sender: goes out in the window, at the mailbox's pace.
        Queued = "queued" / "Queued",
        /// Being handed to the mail server right now.
        Sending = "sending" / "Sending",
        /// Accepted by the mail server.
        Sent = "sent" / "Sent",
        /// Refused for good, or gave up after retries.
        Failed = "failed" / "Failed",
        /// The address does not exist; now suppressed.
        Bounced = "bounced" / "Bounced",
        /// The sender stopped while handing it over: it may or may not have gone out. Never
        /// re-sent on its own; a person retries it or marks it as sent.
        Unknown = "unknown" / "Outcome unknown",
        /// Not sent: the lead unsubscribed or stopped before it went out.
        Cancelled = "cancelled" / "Cancelled",
    }
);

impl MessageStatus {
    /// Still being reviewed: a person may edit, approve, reject or regenerate it.
    pub fn in_review(self) -> bool {
        matches!(
            self,
            MessageStatus::Prepared | MessageStatus::Approved | MessageStatus::Rejected
        )
    }

    /// The delivery statuses, in the order the activity view shows them.
    pub const DELIVERY: &'static [MessageStatus] = &[
        MessageStatus::Queued,
        MessageStatus::Sending,
        MessageStatus::Sent,
        MessageStatus::Failed,
        MessageStatus::Bounced,
        MessageStatus::Unknown,
        MessageStatus::Cancelled,
    ];
}

string_enum!(
    /// Where a preparation run is.
    PreparationStatus as "preparation_status" {
        Queued = "queued" / "Queued",
        Running = "running" / "Preparing",
        Done = "done" / "Done",
        Failed = "failed" / "Failed",
    }
);

/// One lead's message at one step, exactly as it will be sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: MessageId,
    pub campaign_id: CampaignId,
    pub step_id: StepId,
    /// The step's position (1, 2, 3…).
    pub step: i32,
    pub channel: Channel,
    pub contact_id: ContactId,
    pub full_name: String,
    /// The email address or phone number the channel sends to, if the lead has one.
    pub address: Option<String>,
    /// "A", "B"… — the A/B variant this lead was given.
    pub variant: String,
    /// Email only.
    pub subject: Option<String>,
    /// The plain text (also the SMS / WhatsApp text).
    pub text: String,
    /// The email's HTML part, made from the text.
    pub html: Option<String>,
    pub status: MessageStatus,
    /// Changed by a person after it was prepared.
    pub edited: bool,
    /// The step changed after this message was prepared (preparing again rewrites it unless it
    /// was edited or decided).
    pub stale: bool,
    /// What is wrong with it (a merge tag with no value, no address for the channel, AI failure);
    /// a message with problems cannot be approved.
    pub problems: Vec<String>,
    /// Who wrote it, when AI did.
    pub provenance: Option<Provenance>,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub prepared_at: OffsetDateTime,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// Once handed to the sender: how it went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryInfo>,
}

/// What the sender did with a message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeliveryInfo {
    /// The mailbox it goes (or went) out through.
    pub mailbox_id: Option<crate::ids::MailboxId>,
    /// Its Message-ID header.
    pub message_id: Option<String>,
    pub attempts: i32,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub queued_at: Option<OffsetDateTime>,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub sent_at: Option<OffsetDateTime>,
    /// The next attempt, while it waits in the queue.
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The mail server's last answer, or why it was not sent.
    pub reply: Option<String>,
}

/// Which prepared messages (every field narrows; none: all of the campaign's).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MessageFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<StepId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MessageStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// true: only messages with problems; false: only messages without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<bool>,
    /// Only this lead's messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<ContactId>,
}

/// `PATCH /campaigns/{id}/messages/{message_id}`: a person's changes to the final text (no merge
/// tags are filled in; what is written is what is sent).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MessageEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

string_enum!(
    /// What to do with prepared messages.
    ReviewAction as "review_action" {
        Approve = "approve" / "Approve",
        Reject = "reject" / "Reject",
        /// Write them again (from the step as it is now; edits are lost).
        Regenerate = "regenerate" / "Regenerate",
    }
);

/// `POST /campaigns/{id}/messages/review`: act on the listed messages, or on every message the
/// filter matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReviewRequest {
    pub action: ReviewAction,
    /// These messages (at most 10,000)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<MessageId>>,
    /// …or every message matching this filter (`{}`: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<MessageFilter>,
}

/// What a review action did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReviewResult {
    /// Messages changed (for regenerate: removed, to be written again).
    pub changed: i64,
    /// Messages left as they were: already in that state, or with problems (not approvable).
    pub skipped: i64,
    /// For regenerate: the preparation writing them again.
    pub preparation: Option<Preparation>,
}

/// A run of "prepare messages".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Preparation {
    pub id: PreparationId,
    pub status: PreparationStatus,
    /// Messages to write (known once running).
    pub total: i64,
    /// Messages written so far.
    pub done: i64,
    /// Of those, messages AI could not write (kept with the problem, to regenerate).
    pub failed: i64,
    pub error: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

impl Preparation {
    /// Still working (poll again).
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            PreparationStatus::Queued | PreparationStatus::Running
        )
    }

    /// Share done, 0–100.
    pub fn percent(&self) -> u8 {
        if self.total <= 0 {
            return if self.is_open() { 0 } else { 100 };
        }
        ((self.done.min(self.total) * 100) / self.total) as u8
    }
}

/// `GET /campaigns/{id}/review`: where a campaign's messages stand.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReviewSummary {
    /// The latest preparation, if any.
    pub preparation: Option<Preparation>,
    pub prepared: i64,
    pub approved: i64,
    pub rejected: i64,
    /// Messages with problems (any status).
    pub with_problems: i64,
    /// Messages written before their step last changed.
    pub stale: i64,
    /// Steps of active or paused leads that have no message yet.
    pub missing: i64,
}

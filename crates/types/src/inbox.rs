//! The inbox: conversations (a contact on one channel) and the messages in and out of them.

use crate::ai::{Direction, ReplyLabel};
use crate::contact::nullable;
use crate::string_enum;
use crate::{
    CampaignId, Channel, ContactId, ConversationId, MailboxId, MessageStatus, OutboxId, UserId,
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

string_enum!(
    /// Where a conversation stands for the people answering it.
    ConversationStatus as "conversation_status" {
        Open = "open" / "Open",
        Done = "done" / "Done",
        Snoozed = "snoozed" / "Snoozed",
    }
);

string_enum!(
    /// What an arrived message is.
    InboundKind as "inbound_kind" {
        /// Written by a person.
        Reply = "reply" / "Reply",
        /// An out-of-office or other automatic answer.
        AutoReply = "auto_reply" / "Auto-reply",
        /// A delivery report: the message did not (yet) arrive.
        Bounce = "bounce" / "Bounce",
        /// A spam complaint from the recipient's provider.
        Complaint = "complaint" / "Complaint",
        /// Lists, notifications, read receipts.
        Machine = "machine" / "Automated",
    }
);

/// A conversation as the inbox lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Conversation {
    #[cfg_attr(feature = "server", schema(value_type = uuid::Uuid))]
    pub id: ConversationId,
    #[cfg_attr(feature = "server", schema(value_type = uuid::Uuid))]
    pub contact_id: ContactId,
    /// The contact's name (their address when they have none).
    pub contact_name: String,
    pub contact_email: Option<String>,
    pub channel: Channel,
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>))]
    pub campaign_id: Option<CampaignId>,
    pub campaign_name: Option<String>,
    /// The mailbox answers go out through (the one the last message came through).
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>))]
    pub mailbox_id: Option<MailboxId>,
    pub status: ConversationStatus,
    pub unread: bool,
    /// The lead's last answer waits for ours.
    pub needs_reply: bool,
    /// What the last reply means (rules first; a person may correct it).
    pub classification: Option<ReplyLabel>,
    /// A person set the classification.
    pub classified_by_hand: bool,
    /// The member who answers this conversation.
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>))]
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    /// A snoozed conversation opens again at this moment.
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub snoozed_until: Option<OffsetDateTime>,
    /// An out-of-office's return date.
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = Date))]
    pub away_until: Option<Date>,
    /// The start of the last message.
    pub snippet: String,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub last_message_at: OffsetDateTime,
}

/// One message of a thread, in or out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ThreadItem {
    /// The message's id: an arrived message's, a campaign message's, or an answer's.
    pub id: uuid::Uuid,
    pub direction: Direction,
    pub channel: Channel,
    /// Arrived messages: what they are.
    pub kind: Option<InboundKind>,
    /// Sent messages: where delivery stands.
    pub status: Option<MessageStatus>,
    pub subject: Option<String>,
    pub text: String,
    /// A bounce's status and diagnostic, an out-of-office's return date; for what we sent, the
    /// server's answer or why it did not go out.
    pub detail: Option<String>,
    /// Answers written in the inbox: who wrote it (a campaign's messages have none).
    #[serde(default)]
    pub author: Option<String>,
    /// Arrived mail: its HTML part as it came (show it only in a sandboxed frame).
    #[serde(default)]
    pub html: Option<String>,
    /// Arrived mail: what was attached (listed, not kept apart from the message).
    #[serde(default)]
    pub attachments: Vec<MailAttachment>,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A file attached to an arrived message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MailAttachment {
    pub name: String,
    /// e.g. `application/pdf`.
    pub content_type: String,
    /// Bytes, decoded.
    pub size: i64,
}

/// A conversation with its whole thread, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub items: Vec<ThreadItem>,
    /// WhatsApp: when the lead's 24-hour window closes (or closed), from their last message;
    /// free text may go until then, an approved template after.
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub window_closes_at: Option<OffsetDateTime>,
}

/// `PATCH /conversations/{id}`: what is given changes, the rest stays.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConversationChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<bool>,
    /// `open` or `done`; `snoozed` needs `snoozed_until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConversationStatus>,
    /// Snoozes the conversation until this moment (in the future, within a year).
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub snoozed_until: Option<OffsetDateTime>,
    /// A member of the organization, or `null` to unassign.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>))]
    pub assignee_id: Option<Option<UserId>>,
    /// Corrects what the last answer means; kept as a correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<ReplyLabel>,
}

/// `POST /conversations/{id}/reply`: an answer to send through the conversation's mailbox.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReplyRequest {
    /// The answer's words (the mailbox's signature is added).
    pub text: String,
    /// "Re: " and the lead's last subject when absent (email only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// WhatsApp, once the lead's 24-hour window has closed: the approved template to send
    /// instead (its variables filled with the values given; `text` is then what it reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<crate::phone::WhatsAppContent>,
}

string_enum!(
    /// What a lead's simulated answer to a sandbox message is.
    SimulatedKind as "simulated_kind" {
        /// "Sounds interesting, can we talk on Thursday?"
        Reply = "reply" / "A reply",
        /// An out-of-office with a return date.
        OutOfOffice = "out_of_office" / "Out of office",
        /// The address does not exist.
        Bounce = "bounce" / "A bounce",
        /// "Please take me off your list."
        Unsubscribe = "unsubscribe" / "An unsubscribe request",
    }
);

/// `POST /outbox/{id}/simulate`: make a sandbox message's lead answer, as if by mail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SimulateRequest {
    pub kind: SimulatedKind,
}

/// What became of a simulated answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SimulateResult {
    #[cfg_attr(feature = "server", schema(value_type = uuid::Uuid))]
    pub outbox_id: OutboxId,
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>))]
    pub conversation_id: Option<ConversationId>,
    pub kind: InboundKind,
}

/// A token that opens the inbox's event stream (`GET /inbox/stream?token=…`), valid for a
/// minute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StreamToken {
    pub token: String,
    /// Seconds it can still be used to open the stream.
    pub expires_in: i64,
}

/// One event of the inbox stream (the `data` of a server-sent event whose `id` is `id`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct InboxEvent {
    pub id: i64,
    /// `message` (mail arrived in a conversation) or `conversation` (its state changed).
    pub kind: String,
    pub conversation_id: Option<ConversationId>,
}

//! The inbox: conversations (a contact on one channel) and the messages in and out of them.

use crate::ai::{Direction, ReplyLabel};
use crate::string_enum;
use crate::{CampaignId, Channel, ContactId, ConversationId, MessageStatus, OutboxId};
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
    pub status: ConversationStatus,
    pub unread: bool,
    /// What the last reply means (rules first; a person may correct it).
    pub classification: Option<ReplyLabel>,
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
    /// The message's id: an arrived message's, or the campaign message's.
    pub id: uuid::Uuid,
    pub direction: Direction,
    pub channel: Channel,
    /// Arrived messages: what they are.
    pub kind: Option<InboundKind>,
    /// Sent messages: where delivery stands.
    pub status: Option<MessageStatus>,
    pub subject: Option<String>,
    pub text: String,
    /// A bounce's status and diagnostic, an out-of-office's return date.
    pub detail: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A conversation with its whole thread, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub items: Vec<ThreadItem>,
}

/// `PATCH /conversations/{id}`: mark read or unread, done or open.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConversationChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConversationStatus>,
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

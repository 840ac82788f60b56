//! Identifier newtypes. Every id is a time-ordered UUIDv7 wrapped in a type of its own, so an
//! organization id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "server", derive(sqlx::Type, utoipa::ToSchema))]
        #[cfg_attr(feature = "server", sqlx(transparent))]
        #[cfg_attr(feature = "server", schema(value_type = uuid::Uuid))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organization (a tenant).
    OrgId
);
id_type!(
    /// A person who can log in.
    UserId
);
id_type!(
    /// An API key for integrations.
    ApiKeyId
);
id_type!(
    /// An invitation to join an organization.
    InvitationId
);
id_type!(
    /// A contact (a lead, a customer…).
    ContactId
);
id_type!(
    /// A note on a contact.
    NoteId
);
id_type!(
    /// A segment of contacts.
    SegmentId
);
id_type!(
    /// A suppression entry.
    SuppressionId
);
id_type!(
    /// A contact import (CSV upload and its run).
    ImportId
);
id_type!(
    /// A configured AI provider (an API or the organization's own endpoint).
    AiProviderId
);
id_type!(
    /// An AI persona.
    PersonaId
);
id_type!(
    /// A knowledge-base article.
    ArticleId
);
id_type!(
    /// One recorded AI operation.
    AiCallId
);
id_type!(
    /// A campaign.
    CampaignId
);
id_type!(
    /// A step of a campaign.
    StepId
);
id_type!(
    /// A campaign template (a system one or the organization's own).
    TemplateId
);
id_type!(
    /// A prepared message: what one lead gets at one step of a campaign.
    MessageId
);
id_type!(
    /// A run of "prepare messages" for a campaign.
    PreparationId
);
id_type!(
    /// An email account campaigns send through.
    MailboxId
);
id_type!(
    /// A domain's DKIM signing key.
    DkimKeyId
);
id_type!(
    /// A message a sandbox mailbox caught.
    OutboxId
);
id_type!(
    /// A contact's thread on one channel in the inbox.
    ConversationId
);
id_type!(
    /// A message that arrived (a reply, an auto-reply, a delivery report…).
    InboundId
);
id_type!(
    /// An answer a person wrote in a conversation.
    ReplyId
);
id_type!(
    /// A Twilio account of an organization, or its sandbox.
    PhoneAccountId
);
id_type!(
    /// A number an organization sends text messages from.
    PhoneNumberId
);

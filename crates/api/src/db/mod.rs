//! Every SQL statement of the API lives here, grouped by aggregate. Functions that touch tenant data
//! take the caller's `OrgId` and filter by it; routes never build SQL.

pub mod ai;
pub mod api_keys;
pub mod campaigns;
pub mod contacts;
pub mod dkim;
pub mod events;
pub mod imports;
pub mod inbox;
pub mod invitations;
pub mod mailboxes;
pub mod members;
pub mod messages;
pub mod orgs;
pub mod outbox;
pub mod phone;
pub mod planner;
pub mod replies;
pub mod reports;
pub mod rules;
pub mod schedule;
pub mod segments;
pub mod send;
pub mod sessions;
pub mod suppressions;
pub mod sync;
pub mod targets;
pub mod templates;
pub mod text;
pub mod throttle;
pub mod users;

/// A write refused because it would duplicate what must be unique: the rule it broke, named once
/// here from the schema's constraints. `ApiError` turns each into its answer, so a route needs no
/// matching of its own (`routes` matches one only to say more in its context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duplicate {
    UserEmail,
    OpenInvitation,
    ContactAddress,
    SegmentName,
    MailboxEmail,
    ProviderName,
    PersonaName,
    PhoneNumber,
}

impl Duplicate {
    /// The rule `e` broke, when it is a unique violation of one of them.
    pub fn of(e: &sqlx::Error) -> Option<Self> {
        let sqlx::Error::Database(db) = e else {
            return None;
        };
        if !db.is_unique_violation() {
            return None;
        }
        Some(match db.constraint()? {
            "users_email_key" => Self::UserEmail,
            "invitations_open_email_key" => Self::OpenInvitation,
            "contacts_email_key" | "contacts_phone_key" => Self::ContactAddress,
            "segments_name_key" => Self::SegmentName,
            "mailboxes_email_key" => Self::MailboxEmail,
            "ai_providers_name_key" => Self::ProviderName,
            "ai_personas_name_key" => Self::PersonaName,
            "phone_numbers_org_id_number_key" => Self::PhoneNumber,
            _ => return None,
        })
    }
}

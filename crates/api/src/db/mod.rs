//! Every SQL statement of the API lives here, grouped by aggregate. Functions that touch tenant data
//! take the caller's `OrgId` and filter by it; routes never build SQL.

pub mod ai;
pub mod api_keys;
pub mod campaigns;
pub mod contacts;
pub mod dkim;
pub mod events;
pub mod imports;
pub mod invitations;
pub mod mailboxes;
pub mod members;
pub mod messages;
pub mod orgs;
pub mod outbox;
pub mod planner;
pub mod reports;
pub mod rules;
pub mod schedule;
pub mod segments;
pub mod send;
pub mod sessions;
pub mod suppressions;
pub mod targets;
pub mod templates;
pub mod throttle;
pub mod users;

//! Business rules on parsed types. Request bodies from `aura-types` are turned into these at the
//! edge (`TryFrom`), and everything below the routes only ever sees parsed values.

pub mod account;
pub mod address;
pub mod ai;
pub mod audience;
pub mod campaign;
pub mod contact;
pub mod contactability;
pub mod csvfile;
pub mod import;
pub mod inbound;
pub mod mailbox;
pub mod message;
pub mod org;
pub mod phone;
pub mod preflight;
pub mod quiet;
pub mod replies;
pub mod templates;

use aura_types::{parse_optional_text, parse_text, FieldErrors};

/// A required text field of a create-or-update body: absent keeps `current`; a new record must
/// have it; given, it is trimmed and checked (non-empty, at most `max` characters).
pub fn required_text(
    e: &mut FieldErrors,
    field: &str,
    input: &Option<String>,
    current: Option<&str>,
    max: usize,
) -> Option<String> {
    match (input, current) {
        (Some(v), _) => e.check(field, parse_text(v, max)),
        (None, Some(c)) => Some(c.to_owned()),
        (None, None) => {
            e.add(field, "is required");
            None
        }
    }
}

/// An optional text field of a create-or-update body: absent keeps `current` (empty for a new
/// record); given, it is trimmed and checked, and empty clears it.
pub fn optional_text(
    e: &mut FieldErrors,
    field: &str,
    input: &Option<String>,
    current: Option<&str>,
    max: usize,
) -> Option<String> {
    match input {
        Some(v) => e
            .check(field, parse_optional_text(v, max))
            .map(Option::unwrap_or_default),
        None => Some(current.unwrap_or_default().to_owned()),
    }
}

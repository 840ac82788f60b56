//! Business rules on parsed types. Request bodies from `aura-types` are turned into these at the
//! edge (`TryFrom`), and everything below the routes only ever sees parsed values.

pub mod account;
pub mod ai;
pub mod audience;
pub mod campaign;
pub mod contact;
pub mod csvfile;
pub mod import;
pub mod org;
pub mod templates;

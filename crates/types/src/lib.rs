//! What the Aura API and the Aura web app must agree on: request and response bodies, id newtypes,
//! status enums, error codes and the pure validation rules both sides run.
//!
//! This crate performs no IO. It builds for `wasm32-unknown-unknown`; the `server` feature adds the
//! database and OpenAPI derives.

pub mod account;
pub mod ai;
pub mod campaign;
pub mod contact;
mod countries;
pub mod enums;
pub mod error;
pub mod geo;
pub mod html;
pub mod ids;
pub mod import;
pub mod inbox;
pub mod mailbox;
pub mod message;
pub mod mime;
pub mod org;
pub mod page;
pub mod phone;
pub mod quote;
pub mod segment;
pub mod suppression;
pub mod template;
pub mod validate;

pub use account::*;
pub use campaign::*;
pub use contact::*;
pub use error::*;
pub use geo::*;
pub use ids::*;
pub use import::*;
pub use inbox::*;
pub use mailbox::*;
pub use message::*;
pub use org::*;
pub use page::*;
pub use phone::*;
pub use segment::*;
pub use suppression::*;
pub use validate::*;

//! Authentication and access: password hashing, tokens, the refresh cookie and the extractor that
//! yields the caller's organization and role.

pub mod caller;
pub mod cookie;
pub mod password;
pub mod tokens;

pub use caller::{Caller, Principal};

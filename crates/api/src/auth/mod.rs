//! Authentication: password hashing, tokens and the refresh cookie (the extractor that yields a
//! request's organization and role is `routes::Caller`).

pub mod cookie;
pub mod password;
pub mod tokens;

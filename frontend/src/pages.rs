pub mod ai;
pub mod auth;
pub mod contacts;
pub mod home;
pub mod import;
pub mod segments;
pub mod settings;
pub mod suppressions;

pub mod auth;
pub mod home;
pub mod settings;

//! Integration tests through the HTTP API: the real application on port 0, a fresh PostgreSQL
//! database per test (`#[sqlx::test]` applies the migrations).
#![allow(clippy::unwrap_used)]

mod api_keys;
mod auth;
mod bad_input;
mod helpers;
mod invitation_email;
mod isolation;
mod members;
mod organization;
mod smtp;
mod spec;
mod web;

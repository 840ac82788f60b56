//! Integration tests through the HTTP API: the real application on port 0, a fresh PostgreSQL
//! database per test (`#[sqlx::test]` applies the migrations).
#![allow(clippy::unwrap_used)]

mod ai;
mod api_keys;
mod auth;
mod bad_input;
mod campaigns;
mod contactability;
mod contacts;
mod delivery;
mod dkim;
mod dovecot;
mod hardening;
mod helpers;
mod imap;
mod imports;
mod inbox;
mod invitation_email;
mod isolation;
mod members;
mod messages;
mod organization;
mod phone;
mod schema;
mod seed;
mod segments;
mod smtp;
mod spec;
mod suppressions;
mod texts;
mod web;
mod whatsapp;
mod workers;

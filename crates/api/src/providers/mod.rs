//! Everything that talks to the outside world, each behind a trait with its address from
//! configuration, so tests point it at a local stand-in that speaks the real protocol.

pub mod ai;
pub mod http;
pub mod imap;
pub mod mail;
pub mod policy;
pub mod smtp;
pub mod twilio;

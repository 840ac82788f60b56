//! Email delivery's pure parts: send windows in a lead's time zone, the signed tokens of
//! unsubscribe and tracking links and the addresses made of them, and writing a campaign email.

pub mod dkim;
pub mod email;
pub mod links;
pub mod retry;
pub mod tokens;
pub mod window;

//! The links inside sent email: where the tracking addresses are served, and the signed
//! unsubscribe, open and click addresses the sender writes into each email.

use super::tokens::{Kind, Signer, MAX_URL_LEN};
use aura_types::{MessageId, OrgId};

/// Where the open pixel and click redirects are served. They are the busiest addresses of the
/// server, so they are matched by these fixed prefixes (`routes::root`) rather than by a pattern
/// with a `{token}` segment, which actix matches with a regular expression (twice a request:
/// once to route it and once to name its route in the request's span).
pub const OPEN_PREFIX: &str = "/t/o";
pub const CLICK_PREFIX: &str = "/t/c";

/// The signed addresses of one message, on the server's public address.
pub struct Links<'a> {
    pub base: &'a str,
    pub signer: &'a Signer,
    pub org: OrgId,
    pub message: MessageId,
}

impl Links<'_> {
    /// The unsubscribe page (and RFC 8058 one-click target).
    pub fn unsubscribe(&self) -> String {
        let token = self
            .signer
            .sign(Kind::Unsubscribe, self.org, self.message, None);
        format!("{}/u/{token}", self.base)
    }

    /// The open pixel.
    pub fn pixel(&self) -> String {
        let token = self.signer.sign(Kind::Open, self.org, self.message, None);
        format!("{}{OPEN_PREFIX}/{token}", self.base)
    }

    /// A link through the click redirect; a URL too long to sign stays as it is.
    pub fn click(&self, url: &str) -> String {
        if url.len() > MAX_URL_LEN {
            return url.to_owned();
        }
        let token = self
            .signer
            .sign(Kind::Click, self.org, self.message, Some(url));
        format!("{}{CLICK_PREFIX}/{token}", self.base)
    }
}

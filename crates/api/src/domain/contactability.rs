//! "May we contact this address on this channel?" — the reason a message may not go out, as
//! the database's one definition (`contact_block`, see the migrations) answers it, turned into
//! a typed value and then into words here, not in SQL. Enrollment's skips, the sender's re-check
//! and `GET /suppressions/check` all read it through this type.

use aura_types::{BlockReason, Channel, ContactPermission, SkipReason};

/// Why an address may not be messaged, with what the database said about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub reason: BlockReason,
    /// The suppression's reason, the contact's status, or the consent's state.
    pub detail: Option<String>,
}

impl Block {
    /// The block `contact_block` answered as (code, detail); `None` when there was none or the
    /// code is unknown to this build (which then refuses: see [`Block::unknown`]).
    pub fn from_row(code: Option<&str>, detail: Option<String>) -> Option<Self> {
        let code = code?;
        Some(match BlockReason::parse(code) {
            Some(reason) => Block { reason, detail },
            None => Self::unknown(code),
        })
    }

    /// A code this build does not know: treated as a block on the safe side.
    fn unknown(code: &str) -> Self {
        Block {
            reason: BlockReason::ContactStatus,
            detail: Some(code.to_owned()),
        }
    }

    /// The reason in words, for people.
    pub fn describe(&self, channel: Channel) -> String {
        let detail = self.detail.as_deref().unwrap_or("").replace('_', " ");
        match self.reason {
            BlockReason::Suppressed => format!("The address is suppressed ({detail})."),
            BlockReason::SuppressedDomain => {
                format!("The address's domain is suppressed ({detail}).")
            }
            BlockReason::ContactStatus => format!("The contact is {detail}."),
            BlockReason::ConsentRefused => {
                format!("The contact's {} consent is {detail}.", channel.label())
            }
            BlockReason::NoConsent => format!(
                "{} needs the contact's consent, and none is recorded as granted.",
                channel.label()
            ),
        }
    }

    /// Whether the block stops an answer a person wrote to a lead who wrote to us on the
    /// channel (`lead_wrote`): their message invites the answer, so missing consent does not
    /// stop it; a suppression, STOP, a refused consent or an inactive contact still does.
    pub fn holds_for_answer(&self, lead_wrote: bool) -> bool {
        !(lead_wrote && self.reason == BlockReason::NoConsent)
    }

    /// The reason enrollment counts it under.
    pub fn skip_reason(&self) -> SkipReason {
        match self.reason {
            BlockReason::Suppressed | BlockReason::SuppressedDomain => SkipReason::Suppressed,
            BlockReason::ContactStatus => SkipReason::NotActive,
            BlockReason::ConsentRefused | BlockReason::NoConsent => SkipReason::NoConsent,
        }
    }
}

/// The check endpoint's answer for a block (or none).
pub fn permission(block: Option<&Block>, channel: Channel) -> ContactPermission {
    ContactPermission {
        allowed: block.is_none(),
        code: block.map(|b| b.reason),
        reason: block.map(|b| b.describe(channel)),
    }
}

/// Why an email must not go out now, checked right before sending (`None`: it may): the lead has
/// no address, may not be contacted (`block`), or left the campaign.
pub fn email_stop(no_email: bool, block: Option<Block>, left: bool) -> Option<String> {
    if no_email {
        return Some("The lead has no email address.".into());
    }
    if let Some(block) = block {
        return Some(block.describe(Channel::Email));
    }
    left.then(|| "The lead left the campaign.".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_answer_to_a_lead_who_wrote_needs_no_recorded_consent_but_honours_the_rest() {
        let block = |reason| Block {
            reason,
            detail: None,
        };
        assert!(!block(BlockReason::NoConsent).holds_for_answer(true));
        assert!(block(BlockReason::NoConsent).holds_for_answer(false));
        for reason in [
            BlockReason::Suppressed,
            BlockReason::SuppressedDomain,
            BlockReason::ContactStatus,
            BlockReason::ConsentRefused,
        ] {
            assert!(block(reason).holds_for_answer(true), "{reason:?}");
        }
    }

    #[test]
    fn every_reason_reads_as_a_sentence_and_maps_to_a_skip() {
        for reason in BlockReason::ALL {
            let b = Block {
                reason: *reason,
                detail: Some("do_not_contact".into()),
            };
            let text = b.describe(Channel::Sms);
            assert!(text.ends_with('.') && !text.contains('_'), "{text}");
            let _ = b.skip_reason();
        }
        assert_eq!(Block::from_row(None, None), None);
        // A code this build does not know still blocks.
        assert!(Block::from_row(Some("quiet_hours"), None).is_some());
        let p = permission(None, Channel::Email);
        assert!(p.allowed && p.reason.is_none() && p.code.is_none());
    }
}

//! Status pills: one look for every status the app shows, each status with its colour once.

use aura_types::{ai::ReplyLabel, CampaignStatus, ContactStatus, InboundKind, MessageStatus};
use leptos::prelude::*;

/// What a status says about the thing: its colour.
#[derive(Clone, Copy)]
enum Tone {
    Neutral,
    Muted,
    Good,
    Waiting,
    Moving,
    Done,
    Bad,
    Unsure,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Neutral => "bg-slate-100 text-slate-700",
            Tone::Muted => "bg-slate-100 text-slate-500",
            Tone::Good => "bg-emerald-100 text-emerald-800",
            Tone::Waiting => "bg-amber-100 text-amber-800",
            Tone::Moving => "bg-sky-100 text-sky-800",
            Tone::Done => "bg-indigo-100 text-indigo-800",
            Tone::Bad => "bg-rose-100 text-rose-800",
            Tone::Unsure => "bg-orange-100 text-orange-800",
        }
    }
}

fn pill(tone: Tone, label: &'static str, testid: &'static str) -> impl IntoView {
    view! {
        <span class=format!("whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium {}", tone.class()) data-testid=testid>{label}</span>
    }
}

pub fn campaign_status(s: CampaignStatus) -> impl IntoView {
    let tone = match s {
        CampaignStatus::Draft => Tone::Neutral,
        CampaignStatus::Active => Tone::Good,
        CampaignStatus::Paused => Tone::Waiting,
        CampaignStatus::Completed => Tone::Moving,
        CampaignStatus::Archived => Tone::Muted,
    };
    pill(tone, s.label(), "campaign-status")
}

pub fn message_status(s: MessageStatus) -> impl IntoView {
    let tone = match s {
        MessageStatus::Prepared => Tone::Waiting,
        MessageStatus::Approved => Tone::Good,
        MessageStatus::Rejected | MessageStatus::Cancelled => Tone::Muted,
        MessageStatus::Queued | MessageStatus::Sending => Tone::Moving,
        MessageStatus::Sent => Tone::Done,
        MessageStatus::Failed | MessageStatus::Bounced => Tone::Bad,
        MessageStatus::Unknown => Tone::Unsure,
    };
    pill(tone, s.label(), "message-status")
}

pub fn contact_status(s: ContactStatus) -> impl IntoView {
    let tone = match s {
        ContactStatus::Active => Tone::Good,
        ContactStatus::Unsubscribed | ContactStatus::DoNotContact => Tone::Muted,
        ContactStatus::Bounced | ContactStatus::Complained => Tone::Bad,
    };
    pill(tone, s.label(), "contact-status")
}

/// What a reply means (interested, question, out of office…).
pub fn reply_label(l: ReplyLabel) -> impl IntoView {
    let tone = match l {
        ReplyLabel::Interested | ReplyLabel::MeetingRequest => Tone::Good,
        ReplyLabel::WrongPerson => Tone::Waiting,
        ReplyLabel::Question => Tone::Moving,
        ReplyLabel::OutOfOffice => Tone::Waiting,
        ReplyLabel::NotInterested | ReplyLabel::Other => Tone::Muted,
        ReplyLabel::Bounce | ReplyLabel::Unsubscribe => Tone::Bad,
    };
    pill(tone, l.label(), "reply-label")
}

/// What an arrived message is (reply, auto-reply, bounce…).
pub fn inbound_kind(k: InboundKind) -> impl IntoView {
    let tone = match k {
        InboundKind::Reply => Tone::Good,
        InboundKind::AutoReply => Tone::Waiting,
        InboundKind::Bounce | InboundKind::Complaint => Tone::Bad,
        InboundKind::Machine => Tone::Muted,
    };
    pill(tone, k.label(), "inbound-kind")
}

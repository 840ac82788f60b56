//! A message as the lead sees it, wherever the app shows one (the builder's preview, Review).

use super::HtmlFrame;
use aura_types::Channel;
use leptos::prelude::*;

/// A message as the lead sees it: an email in a mail client (its HTML part when there is one), a
/// WhatsApp chat bubble, an SMS phone bubble.
pub fn message_view(
    channel: Channel,
    subject: Option<String>,
    text: String,
    html: Option<String>,
) -> AnyView {
    match channel {
        Channel::Email => {
            let body = match html {
                // Shown in a sandboxed frame, never in the app's document.
                Some(h) => view! { <HtmlFrame html=h title="The email as the lead sees it" /> }.into_any(),
                None => view! { <div class="whitespace-pre-wrap px-4 py-4 text-sm leading-relaxed">{text}</div> }.into_any(),
            };
            view! {
                <div class="card overflow-hidden" data-testid="preview">
                    <div class="border-b border-line bg-slate-50 px-4 py-3 text-xs">
                        <p><span class="text-muted">"Subject: "</span><strong>{subject.unwrap_or_default()}</strong></p>
                    </div>
                    {body}
                </div>
            }
            .into_any()
        }
        Channel::Whatsapp => view! {
            <div class="rounded-2xl bg-[#e5ddd5] p-4" data-testid="preview">
                <div class="ml-auto max-w-[85%] whitespace-pre-wrap rounded-lg rounded-tr-none bg-[#dcf8c6] px-3 py-2 text-sm shadow-sm">{text}</div>
            </div>
        }
        .into_any(),
        Channel::Sms => view! {
            <div class="rounded-[2rem] border-4 border-slate-800 bg-white p-4" data-testid="preview">
                <div class="ml-auto max-w-[85%] whitespace-pre-wrap rounded-2xl bg-sky-500 px-3 py-2 text-sm text-white">{text}</div>
            </div>
        }
        .into_any(),
    }
}

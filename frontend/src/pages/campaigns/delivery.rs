//! The campaign's Delivery tab: which mailboxes it sends from, the launch checklist
//! (pre-flight), live per-step counters, and the messages handed to the sender with what the
//! mail server said — including those whose outcome is unknown, to retry or mark as sent.

use crate::api;
use crate::components::badges;
use crate::components::*;
use crate::icons;
use crate::live::use_live;
use crate::state::{use_api, use_toasts};
use aura_types::{
    Campaign, CampaignMailboxes, CampaignStatus, DeliveryAction, DeliveryActionKind, MailboxId,
    MailboxKind, MailboxStatus, MessageId, MessageStatus,
};
use leptos::{prelude::*, task::spawn_local};
use std::collections::BTreeSet;

/// Messages listed per page.
const PAGE: u32 = 100;

fn leads(n: i64) -> String {
    format!("{n} {}", if n == 1 { "lead" } else { "leads" })
}

#[component]
pub fn DeliveryPanel(campaign: Campaign) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let id = campaign.id;
    let running = campaign.status == CampaignStatus::Active;
    let mailboxes = LocalResource::new(move || async move { api::mailboxes::list(api).await });
    let chosen = RwSignal::new(BTreeSet::<MailboxId>::new());
    let chosen_saved = RwSignal::new(BTreeSet::<MailboxId>::new());
    let status = RwSignal::new(MessageStatus::Sent);
    let paging = Paging::new(PAGE);
    // While the campaign runs, the counters and the list follow it.
    let every = running.then_some(std::time::Duration::from_secs(2));
    let preflight = use_live(move || api::messages::preflight(api, id), None, |_| false);
    let delivery = use_live(move || api::messages::delivery(api, id), every, |_| true);
    let page = use_live(
        move || {
            let filter = aura_types::MessageFilter {
                status: Some(status.get_untracked()),
                ..Default::default()
            };
            let at = paging.query();
            async move { api::messages::list(api, id, &filter, &at).await }
        },
        every,
        |_| true,
    );
    let page_at = page.page_at();
    // What each list's frame depends on (loading, failed, or how many) as Memos, and its rows
    // keyed by their content: a poll that changes nothing re-renders nothing, and one that moves a
    // counter re-renders that row only.
    let counters_state = Memo::new(move |_| {
        delivery.with(|d| {
            d.as_ref()
                .map(|r| r.as_ref().map(|_| ()).map_err(Clone::clone))
        })
    });
    let step_rows = Memo::new(move |_| {
        delivery.with(|d| match d {
            Some(Ok(d)) => d.steps.clone(),
            _ => Vec::new(),
        })
    });
    let page_state = Memo::new(move |_| {
        page.with(|p| {
            p.as_ref()
                .map(|r| r.as_ref().map(|p| p.total).map_err(Clone::clone))
        })
    });
    let message_rows = Memo::new(move |_| {
        page.with(|p| match p {
            Some(Ok(p)) => p.items.clone(),
            _ => Vec::new(),
        })
    });
    let load_preflight = move || preflight.refresh();
    let load_delivery = move || {
        delivery.refresh();
        page.refresh();
    };
    spawn_local(async move {
        if let Ok(c) = api::messages::campaign_mailboxes(api, id).await {
            let set: BTreeSet<_> = c.mailbox_ids.into_iter().collect();
            chosen.try_set(set.clone());
            chosen_saved.try_set(set);
        }
    });
    Effect::new(move |prev: Option<()>| {
        status.track();
        if prev.is_some() {
            paging.reset();
            page.reload();
        }
    });

    let save_mailboxes = move |_| {
        let body = CampaignMailboxes {
            mailbox_ids: chosen.get_untracked().into_iter().collect(),
        };
        spawn_local(async move {
            match api::messages::set_campaign_mailboxes(api, id, &body).await {
                Ok(saved) => {
                    let set: BTreeSet<_> = saved.mailbox_ids.into_iter().collect();
                    toasts.success(format!(
                        "Sends from {} mailbox{}.",
                        set.len(),
                        if set.len() == 1 { "" } else { "es" }
                    ));
                    chosen.try_set(set.clone());
                    chosen_saved.try_set(set);
                    load_preflight();
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    let resolve = move |message: MessageId, action: DeliveryActionKind| {
        spawn_local(async move {
            let body = DeliveryAction { action };
            match api::messages::resolve(api, id, message, &body).await {
                Ok(()) => {
                    toasts.success(match action {
                        DeliveryActionKind::Retry => "Queued again.",
                        DeliveryActionKind::MarkSent => "Marked as sent; the lead moves on.",
                    });
                    load_delivery();
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };

    view! {
        <div class="grid gap-6 lg:grid-cols-[1fr_20rem]">
            <div class="grid gap-6">
                <section class="card p-5" aria-label="Activity">
                    <div class="mb-3 flex items-center justify-between">
                        <h2 class="text-lg font-semibold">"Activity"</h2>
                        {running.then(|| view! { <span class="flex items-center gap-2 text-xs text-muted"><span class="h-2 w-2 animate-pulse rounded-full bg-emerald-500"></span>"Live"</span> })}
                    </div>
                    {move || match counters_state.get() {
                        None => view! { <LoadingCard rows=2 /> }.into_any(),
                        Some(Err(e)) => view! { <ErrorCard message=e /> }.into_any(),
                        Some(Ok(())) => {
                            view! {
                                <p class="mb-3 text-sm text-muted" data-testid="delivery-leads">
                                    {move || delivery.with(|d| match d {
                                        Some(Ok(d)) => {
                                            let total_sent: i64 = d.steps.iter().map(|s| s.sent).sum();
                                            format!("{} in progress · {} waiting for approval · {} done · {} stopped (unsubscribed or bounced) · {} sent in all", leads(d.active), d.waiting_for_approval, d.completed, d.unsubscribed, total_sent)
                                        }
                                        _ => String::new(),
                                    })}
                                </p>
                                <div class="overflow-x-auto">
                                    <table class="w-full text-right text-sm" data-testid="delivery-steps">
                                        <thead class="text-xs uppercase tracking-wide text-muted">
                                            <tr><th class="py-2 text-left">"Step"</th><th>"Queued"</th><th>"Sending"</th><th>"Sent"</th><th>"Failed"</th><th>"Bounced"</th><th>"Unknown"</th><th>"Cancelled"</th><th>"Opened"</th><th>"Clicked"</th></tr>
                                        </thead>
                                        <tbody class="divide-y divide-line">
                                            <For each=move || step_rows.get() key=|s| format!("{s:?}") let:s>
                                                <tr>
                                                    <td class="py-2 text-left font-medium">{format!("Step {}", s.position)}</td>
                                                    <td>{s.queued}</td><td>{s.sending}</td>
                                                    <td class="font-semibold text-indigo-700" data-testid="step-sent">{s.sent}</td>
                                                    <td>{s.failed}</td><td>{s.bounced}</td><td>{s.unknown}</td><td>{s.cancelled}</td>
                                                    <td>{s.opened}</td><td>{s.clicked}</td>
                                                </tr>
                                            </For>
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any()
                        }
                    }}
                </section>
                <section class="card p-5" aria-label="Sent messages">
                    <div class="mb-3 flex flex-wrap items-center gap-1" role="tablist" aria-label="Delivery status">
                        {MessageStatus::DELIVERY.iter().map(|s| {
                            let s = *s;
                            view! {
                                <button role="tab" aria-selected=move || (status.get() == s).to_string()
                                    class=move || if status.get() == s { "rounded-full bg-accent-600 px-3 py-1 text-xs font-medium text-white" } else { "rounded-full px-3 py-1 text-xs font-medium text-muted hover:bg-slate-100" }
                                    on:click=move |_| status.set(s)>{s.label()}</button>
                            }
                        }).collect_view()}
                    </div>
                    {move || match page_state.get() {
                        None => view! { <LoadingCard rows=3 /> }.into_any(),
                        Some(Err(e)) => view! { <ErrorCard message=e /> }.into_any(),
                        Some(Ok(0)) => view! { <p class="py-6 text-center text-sm text-muted">{format!("No {} messages.", status.get_untracked().label().to_lowercase())}</p> }.into_any(),
                        Some(Ok(total)) => {
                            view! {
                            <ul class="divide-y divide-line" data-testid="delivery-messages">
                                <For each=move || message_rows.get() key=|m| format!("{:?}", (m.id, m.status, &m.delivery)) let:m>
                                {
                                    let mid = m.id;
                                    let info = m.delivery.clone().unwrap_or_default();
                                    let when = info.sent_at.or(info.next_attempt_at).or(info.queued_at).map(|t| short_date(&t)).unwrap_or_default();
                                    view! {
                                        <li class="flex flex-wrap items-start gap-3 py-3 text-sm">
                                            <div class="min-w-0 flex-1">
                                                <p class="font-medium">{format!("{} · Step {}", m.full_name, m.step)}<span class="ml-2">{badges::message_status(m.status)}</span></p>
                                                <p class="truncate text-muted">{m.subject.clone().unwrap_or_default()}</p>
                                                {info.reply.clone().map(|r| view! { <p class="text-xs text-muted" data-testid="delivery-reply">{r}</p> })}
                                            </div>
                                            <p class="text-xs text-muted">{when}{(info.attempts > 1).then(|| format!(" · {} attempts", info.attempts))}</p>
                                            {(m.status == MessageStatus::Unknown).then(|| view! {
                                                <div class="flex gap-2">
                                                    <button class="btn-secondary" title="It may reach the lead twice if it did go out" on:click=move |_| resolve(mid, DeliveryActionKind::Retry)>"Retry"</button>
                                                    <button class="btn-ghost" on:click=move |_| resolve(mid, DeliveryActionKind::MarkSent)>"Mark as sent"</button>
                                                </div>
                                            })}
                                        </li>
                                    }
                                }
                                </For>
                            </ul>
                            {(total > i64::from(PAGE) || paging.past_first()).then(|| view! { <Pager paging at=page_at testid="delivery-total" /> })}
                        }.into_any()
                        }
                    }}
                </section>
            </div>
            <aside class="grid content-start gap-6">
                <section class="card p-5" aria-label="Launch checklist">
                    <div class="mb-3 flex items-center justify-between">
                        <h2 class="font-semibold">"Launch checklist"</h2>
                        <button class="btn-ghost px-2 py-1 text-xs" on:click=move |_| load_preflight()>"Check again"</button>
                    </div>
                    {move || match preflight.get() {
                        None => view! { <Spinner label="Checking…" /> }.into_any(),
                        Some(Err(e)) => view! { <ErrorCard message=e /> }.into_any(),
                        Some(Ok(p)) => view! {
                            <ul class="grid gap-2 text-sm" data-testid="preflight">
                                {p.checks.into_iter().map(|c| view! {
                                    <li class="flex gap-2">
                                        <span class=if c.warning { "text-amber-600" } else if c.ok { "text-emerald-600" } else { "text-rose-600" } inner_html=if c.ok { icons::CHECK } else { icons::X }></span>
                                        <span class=if c.warning { "text-amber-800" } else if c.ok { "text-ink" } else { "text-rose-800" } data-warning=c.warning.to_string()>{c.detail}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                            <p class=if p.ready { "mt-3 text-sm font-medium text-emerald-700" } else { "mt-3 text-sm font-medium text-rose-700" }>{if p.ready { "Ready to launch." } else { "Fix these to launch." }}</p>
                        }.into_any(),
                    }}
                </section>
                <section class="card p-5" aria-label="Mailboxes">
                    <h2 class="mb-1 font-semibold">"Sends from"</h2>
                    <p class="mb-3 text-xs text-muted">"Rotates over the chosen mailboxes; each lead keeps the one of its first email."</p>
                    <Transition fallback=|| view! { <Spinner /> }>
                        {move || mailboxes.get().map(|r| match r {
                            Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                            Ok(list) if list.is_empty() => view! {
                                <p class="text-sm text-muted">"No mailboxes yet. "<a class="text-accent-700 underline" href="/settings/mailboxes">"Add one in Settings → Mailboxes"</a>"."</p>
                            }.into_any(),
                            Ok(list) => view! {
                                <div class="grid gap-2">
                                    {list.into_iter().map(|m| {
                                        let mid = m.id;
                                        view! {
                                            <label class="flex items-start gap-2 text-sm">
                                                <input type="checkbox" class="mt-0.5" name="campaign-mailbox"
                                                    prop:checked=move || chosen.with(|c| c.contains(&mid))
                                                    on:change=move |ev| { let on = event_target_checked(&ev); chosen.update(|c| { if on { c.insert(mid); } else { c.remove(&mid); } }); } />
                                                <span class="min-w-0">
                                                    <span class="block truncate">{m.from_email.clone()}</span>
                                                    <span class="block text-xs text-muted">
                                                        {if m.kind == MailboxKind::Sandbox { "Sandbox · " } else { "" }}
                                                        {if m.status == MailboxStatus::Paused { "Paused · ".to_owned() } else { String::new() }}
                                                        {format!("{} of {} today", m.sent_today, m.today_limit)}
                                                    </span>
                                                </span>
                                            </label>
                                        }
                                    }).collect_view()}
                                    <button class="btn-secondary mt-2" disabled=move || chosen.get() == chosen_saved.get() on:click=save_mailboxes>"Save mailboxes"</button>
                                </div>
                            }.into_any(),
                        })}
                    </Transition>
                </section>
            </aside>
        </div>
    }
}

//! The inbox: every conversation (a contact on a channel) with its latest message, and the open
//! one's whole thread — what campaigns sent, and what came back (replies, out-of-office notices,
//! delivery reports). New mail appears without a reload; opening a conversation marks it read.

use crate::api;
use crate::live::{use_debounced, use_live};
use crate::{
    components::{
        badges, short_date, EmptyState, ErrorCard, LoadingCard, PageHeader, Pager, Paging,
    },
    icons,
    state::{use_api, use_toasts},
};
use aura_types::{
    ai::{Direction, ReplyLabel},
    Channel, Conversation, ConversationChange, ConversationDetail, ConversationId,
    ConversationStatus, ThreadItem,
};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::{use_navigate, use_query_map};
use std::time::Duration;

/// Conversations listed at once.
const PAGE: u32 = 50;

#[component]
pub fn InboxPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let paging = Paging::new(PAGE);
    // The filter and the open conversation are part of the address.
    let query = use_query_map();
    let unread_only =
        Memo::new(move |_| query.with(|q| q.get("filter").as_deref() == Some("unread")));
    let open = Memo::new(move |_| {
        query.with(|q| q.get("c").and_then(|c| c.parse::<ConversationId>().ok()))
    });
    // Narrowing the list further: by classification, and by words (debounced).
    let classification = RwSignal::new(None::<ReplyLabel>);
    let search_box = RwSignal::new(String::new());
    let search = use_debounced(search_box, Duration::from_millis(300));
    let shortcuts_open = RwSignal::new(false);
    let navigate = use_navigate();
    let go = move |unread: bool, c: Option<ConversationId>| {
        let mut q = crate::api::Query::new();
        if unread {
            q = q.set("filter", "unread");
        }
        navigate(&q.opt("c", c).path("/inbox"), Default::default());
    };
    // New mail shows up while the page is open: the inbox's live stream says when (and a poll
    // now and then covers a stream that could not be opened).
    let pulse = crate::live::use_inbox_pulse();
    let list = use_live(
        move || {
            pulse.track();
            let filter = api::inbox::Filter {
                unread: unread_only.get(),
                classification: classification.get(),
                search: search.get(),
            };
            let at = paging.query();
            async move { api::inbox::list(api, &filter, &at).await }
        },
        Some(Duration::from_secs(30)),
        |_| true,
    );
    let page_at = list.page_at();
    let frame = Memo::new(move |_| {
        list.with(|l| {
            l.as_ref()
                .map(|r| r.as_ref().map(|p| p.total).map_err(Clone::clone))
        })
    });
    let rows = Memo::new(move |_| {
        list.with(|l| match l {
            Some(Ok(p)) => p.items.clone(),
            _ => Vec::new(),
        })
    });
    Effect::new(move |prev: Option<()>| {
        unread_only.track();
        classification.track();
        search.track();
        if prev.is_some() {
            paging.reset();
        }
    });
    // The open conversation, fetched again when the list shows it changed.
    let thread = RwSignal::new(None::<Result<ConversationDetail, String>>);
    // What of the open conversation the list shows: a new message or a new status fetches its
    // thread again.
    let shown_version = Memo::new(move |_| {
        let id = open.get()?;
        let version = rows.with(|r| {
            r.iter()
                .find(|c| c.id == id)
                .map(|c| (c.last_message_at, c.status))
        });
        Some((id, version))
    });
    Effect::new(move |prev: Option<Option<ConversationId>>| {
        let Some((id, _)) = shown_version.get() else {
            thread.set(None);
            return None;
        };
        // Another conversation: the last one's thread is not shown meanwhile.
        if prev.flatten() != Some(id) {
            thread.set(None);
        }
        spawn_local(async move {
            let got = api::inbox::get(api, id).await.map_err(|e| e.message());
            // Only the answer for the conversation still open is shown.
            if open.try_get_untracked() != Some(Some(id)) {
                return;
            }
            let unread = matches!(&got, Ok(d) if d.conversation.unread);
            thread.try_set(Some(got));
            // Opening a conversation reads it.
            if unread {
                let read = ConversationChange {
                    unread: Some(false),
                    status: None,
                };
                if api::inbox::change(api, id, &read).await.is_ok() {
                    list.refresh();
                }
            }
        });
        Some(id)
    });
    let set = move |id: ConversationId, change: ConversationChange, done: &'static str| {
        spawn_local(async move {
            match api::inbox::change(api, id, &change).await {
                Ok(_) => {
                    toasts.success(done);
                    list.refresh();
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };

    // Keyboard: j / k the next or previous conversation, e done, / search, ? the shortcuts.
    let go_key = go.clone();
    let keys = window_event_listener(leptos::ev::keydown, move |e| {
        use wasm_bindgen::JsCast;
        let typing = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing || e.ctrl_key() || e.meta_key() || e.alt_key() {
            return;
        }
        let ids: Vec<ConversationId> = rows.with_untracked(|r| r.iter().map(|c| c.id).collect());
        let at = open
            .get_untracked()
            .and_then(|id| ids.iter().position(|x| *x == id));
        match e.key().as_str() {
            "j" | "k" => {
                let next = match (at, e.key() == "j") {
                    (None, _) => ids.first(),
                    (Some(i), true) => ids.get(i + 1),
                    (Some(i), false) => i.checked_sub(1).and_then(|i| ids.get(i)),
                };
                if let Some(id) = next {
                    go_key(unread_only.get_untracked(), Some(*id));
                }
            }
            "e" => {
                if let Some(id) = open.get_untracked() {
                    let done = ConversationChange {
                        unread: None,
                        status: Some(ConversationStatus::Done),
                    };
                    set(id, done, "Marked done.");
                }
            }
            "/" => {
                e.prevent_default();
                if let Some(input) = document().get_element_by_id("inbox-search") {
                    if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
                        input.focus().ok();
                    }
                }
            }
            "?" => shortcuts_open.update(|o| *o = !*o),
            "Escape" => shortcuts_open.set(false),
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());
    let labels: Vec<(String, String)> =
        std::iter::once((String::new(), "Any classification".to_owned()))
            .chain(
                ReplyLabel::ALL
                    .iter()
                    .map(|l| (l.as_str().to_owned(), l.label().to_owned())),
            )
            .collect();

    let go_list = go.clone();
    view! {
        <PageHeader title="Inbox" subtitle="Every reply to every campaign, matched to its lead: replies stop the lead's sequence, out-of-office notices postpone it, bounces suppress the address." />
        <div class="grid gap-6 lg:grid-cols-[24rem_1fr]">
            <section aria-label="Conversations" class="min-w-0">
                <div class="mb-3 flex gap-2" role="group" aria-label="Show">
                    {[(false, "All"), (true, "Unread")].into_iter().map(|(unread, label)| {
                        let go = go_list.clone();
                        view! {
                            <button class=move || if unread_only.get() == unread { "btn-secondary border-accent-400 text-accent-700" } else { "btn-ghost" }
                                aria-pressed=move || (unread_only.get() == unread).to_string()
                                on:click=move |_| go(unread, open.get_untracked())>{label}</button>
                        }
                    }).collect_view()}
                    <label class="sr-only" for="inbox-classification">"Classification"</label>
                    <select id="inbox-classification" class="field-input ml-auto w-auto py-1.5 text-sm"
                        on:change=move |ev| classification.set(ReplyLabel::parse(&event_target_value(&ev)))>
                        {labels.into_iter().map(|(value, label)| view! { <option value=value.clone() selected=move || classification.get().map(|c| c.as_str().to_owned()).unwrap_or_default() == value>{label}</option> }).collect_view()}
                    </select>
                </div>
                <div class="mb-3">
                    <label class="sr-only" for="inbox-search">"Search conversations"</label>
                    <input id="inbox-search" type="search" class="field-input" placeholder="Search names, addresses and messages  ( / )"
                        prop:value=move || search_box.get() on:input=move |ev| search_box.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.key() == "Escape" { search_box.set(String::new()); } />
                </div>
                <Show when=move || shortcuts_open.get()>
                    <div class="card mb-3 p-4 text-sm" role="dialog" aria-label="Keyboard shortcuts" data-testid="inbox-shortcuts">
                        <p class="mb-2 font-semibold">"Keyboard shortcuts"</p>
                        <dl class="grid grid-cols-[4rem_1fr] gap-1">
                            <dt><kbd>"j"</kbd>" / "<kbd>"k"</kbd></dt><dd>"Next / previous conversation"</dd>
                            <dt><kbd>"e"</kbd></dt><dd>"Mark the open conversation done"</dd>
                            <dt><kbd>"/"</kbd></dt><dd>"Search"</dd>
                            <dt><kbd>"?"</kbd></dt><dd>"Show or hide these shortcuts"</dd>
                        </dl>
                    </div>
                </Show>
                {move || match frame.get() {
                    None => view! { <LoadingCard rows=4 /> }.into_any(),
                    Some(Err(e)) => view! { <ErrorCard message=e /> }.into_any(),
                    Some(Ok(0)) => view! {
                        <EmptyState icon=icons::INBOX title="No conversations" body="Replies to your campaigns land here. With a sandbox mailbox, open a message in the Outbox and simulate the lead's answer." />
                    }.into_any(),
                    Some(Ok(total)) => {
                        let go = go_list.clone();
                        view! {
                            <div class="card overflow-hidden">
                                <ul class="divide-y divide-line" data-testid="conversations">
                                    <For each=move || rows.get() key=|c| format!("{c:?}") let:c>
                                        {conversation_row(c, open, go.clone(), unread_only)}
                                    </For>
                                </ul>
                                {(total > i64::from(PAGE) || paging.past_first()).then(|| view! { <Pager paging at=page_at testid="conversations-total" /> })}
                            </div>
                        }.into_any()
                    }
                }}
            </section>
            <section aria-label="Conversation" class="min-w-0">
                {move || match (open.get(), thread.get()) {
                    (None, _) => view! { <div class="card p-6 text-sm text-muted">"Choose a conversation to read it."</div> }.into_any(),
                    (Some(_), None) => view! { <LoadingCard rows=5 /> }.into_any(),
                    (Some(_), Some(Err(e))) => view! { <ErrorCard message=e /> }.into_any(),
                    (Some(_), Some(Ok(d))) => thread_view(d, set).into_any(),
                }}
            </section>
        </div>
    }
}

fn conversation_row(
    c: Conversation,
    open: Memo<Option<ConversationId>>,
    go: impl Fn(bool, Option<ConversationId>) + Clone + 'static,
    unread_only: Memo<bool>,
) -> impl IntoView {
    let id = c.id;
    let name_class = if c.unread {
        "truncate font-semibold text-ink"
    } else {
        "truncate font-medium text-slate-600"
    };
    view! {
        <li>
            <button data-testid="conversation" data-unread=c.unread.to_string()
                aria-current=move || (open.get() == Some(id)).then_some("true")
                class=move || if open.get() == Some(id) { "w-full bg-accent-50 px-4 py-3 text-left" } else { "w-full px-4 py-3 text-left hover:bg-slate-50" }
                on:click=move |_| go(unread_only.get_untracked(), Some(id))>
                <div class="flex items-center gap-2">
                    <span class="text-muted" inner_html=channel_icon(c.channel)></span>
                    <p class=name_class>{c.contact_name.clone()}</p>
                    {c.unread.then(|| view! { <span class="h-2 w-2 shrink-0 rounded-full bg-accent-600"></span><span class="sr-only">"Unread"</span> })}
                    <span class="ml-auto shrink-0 text-xs text-muted">{short_date(&c.last_message_at)}</span>
                </div>
                <div class="mt-1 flex items-center gap-2">
                    {c.classification.map(badges::reply_label)}
                    {(c.status == ConversationStatus::Done).then(|| view! { <span class="text-xs text-muted">"Done"</span> })}
                    <p class="truncate text-xs text-muted">{c.campaign_name.clone().unwrap_or_default()}</p>
                </div>
                <p class="mt-1 truncate text-sm text-muted">{c.snippet.clone()}</p>
            </button>
        </li>
    }
}

fn channel_icon(c: Channel) -> &'static str {
    match c {
        Channel::Email => icons::MAIL,
        Channel::Sms | Channel::Whatsapp => icons::INBOX,
    }
}

fn thread_view(
    d: ConversationDetail,
    set: impl Fn(ConversationId, ConversationChange, &'static str) + Copy + 'static,
) -> impl IntoView {
    let c = d.conversation;
    let id = c.id;
    let done = c.status == ConversationStatus::Done;
    view! {
        <div class="card overflow-hidden">
            <header class="flex flex-wrap items-center gap-3 border-b border-line px-5 py-4">
                <div class="min-w-0 flex-1">
                    <h2 class="truncate text-lg font-semibold">{c.contact_name.clone()}</h2>
                    <p class="truncate text-xs text-muted">
                        {c.contact_email.clone().unwrap_or_default()}
                        {c.campaign_name.clone().map(|n| format!(" · {n}"))}
                    </p>
                </div>
                {c.classification.map(badges::reply_label)}
                {c.away_until.map(|d| view! { <span class="text-xs text-amber-800" data-testid="away-until">{format!("Out of office until {} {} {}", d.day(), &format!("{}", d.month())[..3], d.year())}</span> })}
                <button class="btn-ghost" on:click=move |_| set(id, ConversationChange { unread: Some(true), status: None }, "Marked unread.")>"Mark unread"</button>
                {if done {
                    view! { <button class="btn-secondary" on:click=move |_| set(id, ConversationChange { unread: None, status: Some(ConversationStatus::Open) }, "Reopened.")>"Reopen"</button> }.into_any()
                } else {
                    view! { <button class="btn-primary" on:click=move |_| set(id, ConversationChange { unread: None, status: Some(ConversationStatus::Done) }, "Marked done.")>"Mark done"</button> }.into_any()
                }}
            </header>
            <ol class="grid gap-4 bg-slate-50/60 p-5" data-testid="thread">
                {d.items.into_iter().map(thread_item).collect_view()}
            </ol>
        </div>
    }
}

fn thread_item(i: ThreadItem) -> impl IntoView {
    let ours = i.direction == Direction::Outbound;
    let (side, bubble) = if ours {
        ("ml-auto", "bg-white border border-line")
    } else {
        ("mr-auto", "bg-accent-50 border border-accent-100")
    };
    view! {
        <li class=format!("max-w-[85%] {side}") data-testid="thread-item" data-direction=i.direction.as_str()>
            <div class="mb-1 flex items-center gap-2 text-xs text-muted">
                <span>{if ours { "Sent" } else { "Received" }}</span>
                <span>{short_date(&i.at)}</span>
                {i.kind.map(badges::inbound_kind)}
                {i.status.filter(|_| ours).map(badges::message_status)}
            </div>
            <div class=format!("rounded-xl px-4 py-3 text-sm shadow-sm {bubble}")>
                {i.subject.clone().filter(|s| !s.is_empty()).map(|s| view! { <p class="mb-2 font-semibold">{s}</p> })}
                <div class="whitespace-pre-wrap leading-relaxed">{i.text.clone()}</div>
                {i.detail.clone().filter(|_| !ours).map(|d| view! { <p class="mt-2 text-xs text-muted">{d}</p> })}
            </div>
        </li>
    }
}

//! The inbox: every conversation (a contact on a channel) with its latest message, the open
//! one's whole thread — what campaigns sent, what came back (replies, out-of-office notices,
//! delivery reports) and the answers written here — a composer to answer it, and the contact's
//! card. New mail appears without a reload; opening a conversation marks it read.

use crate::api;
use crate::live::{use_debounced, use_live};
use crate::{
    components::{
        badges, on_result, short_date, EmptyState, ErrorCard, HtmlFrame, LoadingCard, PageHeader,
        Pager, Paging,
    },
    icons,
    state::{use_api, use_auth, use_toasts},
};
use aura_types::{
    ai::{Direction, RepliesResult, ReplyLabel},
    quote::own_words,
    CampaignId, Channel, ContactId, ContactInput, ContactStatus, Conversation, ConversationChange,
    ConversationDetail, ConversationId, ConversationStatus, MailboxId, Member, MessageStatus,
    ReplyRequest, ThreadItem, UserId, WhatsAppTemplate,
};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::HashMap;
use std::time::Duration;

/// Conversations listed at once.
const PAGE: u32 = 50;

/// The list's views (the `filter` of the address).
const VIEWS: &[(&str, &str)] = &[
    ("", "All"),
    ("unread", "Unread"),
    ("needs_reply", "Needs reply"),
    ("mine", "Mine"),
];

/// What a conversation may be snoozed for.
const SNOOZES: &[(&str, &str, i64)] = &[
    ("3h", "For 3 hours", 3 * 60),
    ("1d", "For a day", 24 * 60),
    ("3d", "For 3 days", 3 * 24 * 60),
    ("7d", "For a week", 7 * 24 * 60),
];

/// The browser's clock (the app has no other).
fn now() -> time::OffsetDateTime {
    let millis = js_sys::Date::now() as i128;
    time::OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn change() -> ConversationChange {
    ConversationChange::default()
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let api = use_api();
    let auth = use_auth();
    let toasts = use_toasts();
    let paging = Paging::new(PAGE);
    // The view and the open conversation are part of the address.
    let query = use_query_map();
    let view_name = Memo::new(move |_| query.with(|q| q.get("filter").unwrap_or_default()));
    let open = Memo::new(move |_| {
        query.with(|q| q.get("c").and_then(|c| c.parse::<ConversationId>().ok()))
    });
    let me = Memo::new(move |_| auth.me().map(|m| m.user.id));
    // Narrowing the list further: by classification, status, campaign, mailbox, and by words
    // (debounced).
    let classification = RwSignal::new(None::<ReplyLabel>);
    // Open conversations by default: what is done or snoozed is out of the way until asked for.
    let status = RwSignal::new(Some(ConversationStatus::Open));
    let campaign = RwSignal::new(None::<CampaignId>);
    let mailbox = RwSignal::new(None::<MailboxId>);
    let search_box = RwSignal::new(String::new());
    let search = use_debounced(search_box, Duration::from_millis(300));
    let shortcuts_open = RwSignal::new(false);
    // What is written and not yet sent, by conversation: moving around loses nothing.
    let drafts = RwSignal::new(HashMap::<ConversationId, String>::new());
    let members = LocalResource::new(move || async move { api::org::members(api).await });
    let campaigns = LocalResource::new(move || async move { api::campaigns::list(api).await });
    let mailboxes = LocalResource::new(move || async move { api::mailboxes::list(api).await });
    let navigate = use_navigate();
    let go = move |filter: String, c: Option<ConversationId>| {
        let mut q = crate::api::Query::new();
        if !filter.is_empty() {
            q = q.set("filter", filter);
        }
        navigate(&q.opt("c", c).path("/inbox"), Default::default());
    };
    // New mail shows up while the page is open: the inbox's live stream says when (and a poll
    // now and then covers a stream that could not be opened).
    let pulse = crate::live::use_inbox_pulse();
    let list = use_live(
        move || {
            pulse.track();
            let v = view_name.get();
            let filter = api::inbox::Filter {
                unread: v == "unread",
                needs_reply: v == "needs_reply",
                assignee: if v == "mine" { me.get() } else { None },
                campaign: campaign.get(),
                mailbox: mailbox.get(),
                contact: None,
                status: status.get(),
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
        view_name.track();
        classification.track();
        status.track();
        campaign.track();
        mailbox.track();
        search.track();
        if prev.is_some() {
            paging.reset();
        }
    });
    // The open conversation, fetched again on every inbox event (a new message, an answer's
    // outcome, a change by someone else).
    let thread = RwSignal::new(None::<Result<ConversationDetail, String>>);
    provide_context(Unfolded::default());
    let refetch = RwSignal::new(0u64);

    Effect::new(move |prev: Option<Option<ConversationId>>| {
        pulse.track();
        refetch.track();
        let Some(id) = open.get() else {
            thread.set(None);
            return None;
        };
        // Another conversation: the last one's thread is not shown meanwhile, and opening it
        // reads it (a refresh of the open one does not: it stays unread when marked so).
        let opened = prev.flatten() != Some(id);
        if opened {
            thread.set(None);
        }
        spawn_local(async move {
            let got = api::inbox::get(api, id).await.map_err(|e| e.message());
            // Only the answer for the conversation still open is shown.
            if open.try_get_untracked() != Some(Some(id)) {
                return;
            }
            let unread = matches!(&got, Ok(d) if d.conversation.unread);
            let shown = |t: &Option<Result<ConversationDetail, String>>| match t {
                Some(Ok(d)) if d.conversation.id == id => Some(d.items.len()),
                _ => None,
            };
            // Mail that arrives in the conversation a person has open, on screen, is read as
            // it appears (one they marked unread stays so until something new comes).
            let grew = match (thread.try_with_untracked(shown).flatten(), &got) {
                (Some(before), Ok(d)) => d.items.len() > before,
                _ => false,
            } && !document().hidden();
            // An unchanged thread is left as shown (its frames are not rebuilt).
            if thread.try_with_untracked(|t| t.as_ref() != Some(&got)) == Some(true) {
                thread.try_set(Some(got));
            }
            if unread && (opened || grew) {
                let read = ConversationChange {
                    unread: Some(false),
                    ..change()
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
                    refetch.update(|n| *n += 1);
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    // The open conversation's channel, once its thread is read: the composer answers email.
    let open_channel = Memo::new(move |_| {
        thread.with(|t| match t {
            Some(Ok(d)) => Some((
                d.conversation.id,
                d.conversation.channel,
                d.conversation.channel != Channel::Email
                    || (d.conversation.mailbox_id.is_some()
                        && d.conversation.contact_email.is_some()),
            )),
            _ => None,
        })
    });

    // Keyboard: j / k the next or previous conversation, r answer, e done, / search, ? the
    // shortcuts.
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
        let focus = |id: &str| {
            if let Some(el) = document().get_element_by_id(id) {
                if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                    el.focus().ok();
                }
            }
        };
        match e.key().as_str() {
            "j" | "k" => {
                let next = match (at, e.key() == "j") {
                    (None, _) => ids.first(),
                    (Some(i), true) => ids.get(i + 1),
                    (Some(i), false) => i.checked_sub(1).and_then(|i| ids.get(i)),
                };
                if let Some(id) = next {
                    go_key(view_name.get_untracked(), Some(*id));
                }
            }
            "r" => {
                e.prevent_default();
                focus("reply-text");
            }
            "e" => {
                if let Some(id) = open.get_untracked() {
                    let done = ConversationChange {
                        status: Some(ConversationStatus::Done),
                        ..change()
                    };
                    set(id, done, "Marked done.");
                }
            }
            "/" => {
                e.prevent_default();
                focus("inbox-search");
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
    let statuses: Vec<(String, String)> = std::iter::once((String::new(), "Any status".to_owned()))
        .chain(
            ConversationStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
        )
        .collect();

    let go_list = go.clone();
    view! {
        <PageHeader title="Inbox" subtitle="Every reply to every campaign, matched to its lead: replies stop the lead's sequence, out-of-office notices postpone it, bounces suppress the address. Answer from the thread." />
        <div class="grid gap-6 lg:grid-cols-[22rem_1fr]">
            <section aria-label="Conversations" class="min-w-0">
                <div class="mb-3 flex flex-wrap gap-1" role="group" aria-label="Show">
                    {VIEWS.iter().map(|(name, label)| {
                        let go = go_list.clone();
                        view! {
                            <button class=move || if view_name.get() == *name { "btn-secondary border-accent-400 text-accent-700" } else { "btn-ghost" }
                                aria-pressed=move || (view_name.get() == *name).to_string()
                                on:click=move |_| go((*name).to_owned(), open.get_untracked())>{*label}</button>
                        }
                    }).collect_view()}
                </div>
                <div class="mb-3 grid grid-cols-2 gap-2">
                    <label class="sr-only" for="inbox-classification">"Classification"</label>
                    <select id="inbox-classification" class="field-input py-1.5 text-sm"
                        on:change=move |ev| classification.set(ReplyLabel::parse(&event_target_value(&ev)))>
                        {labels.into_iter().map(|(value, label)| view! { <option value=value.clone() selected=move || classification.get().map(|c| c.as_str().to_owned()).unwrap_or_default() == value>{label}</option> }).collect_view()}
                    </select>
                    <label class="sr-only" for="inbox-status">"Status"</label>
                    <select id="inbox-status" class="field-input py-1.5 text-sm"
                        on:change=move |ev| status.set(ConversationStatus::parse(&event_target_value(&ev)))>
                        {statuses.into_iter().map(|(value, label)| view! { <option value=value.clone() selected=move || status.get().map(|c| c.as_str().to_owned()).unwrap_or_default() == value>{label}</option> }).collect_view()}
                    </select>
                    {move || campaigns.get().and_then(Result::ok).filter(|c| !c.is_empty()).map(|list| view! {
                        <label class="sr-only" for="inbox-campaign">"Campaign"</label>
                        <select id="inbox-campaign" class="field-input py-1.5 text-sm"
                            on:change=move |ev| campaign.set(event_target_value(&ev).parse().ok())>
                            <option value="">"Any campaign"</option>
                            {list.into_iter().map(|c| view! { <option value=c.id.to_string() selected=move || campaign.get() == Some(c.id)>{c.name}</option> }).collect_view()}
                        </select>
                    })}
                    {move || mailboxes.get().and_then(Result::ok).filter(|m| m.len() > 1).map(|list| view! {
                        <label class="sr-only" for="inbox-mailbox">"Mailbox"</label>
                        <select id="inbox-mailbox" class="field-input py-1.5 text-sm"
                            on:change=move |ev| mailbox.set(event_target_value(&ev).parse().ok())>
                            <option value="">"Any mailbox"</option>
                            {list.into_iter().map(|m| view! { <option value=m.id.to_string() selected=move || mailbox.get() == Some(m.id)>{m.from_email}</option> }).collect_view()}
                        </select>
                    })}
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
                            <dt><kbd>"r"</kbd></dt><dd>"Answer the open conversation"</dd>
                            <dt><kbd>"e"</kbd></dt><dd>"Mark the open conversation done"</dd>
                            <dt><kbd>"/"</kbd></dt><dd>"Search"</dd>
                            <dt><kbd>"?"</kbd></dt><dd>"Show or hide these shortcuts"</dd>
                            <dt><kbd>"Ctrl"</kbd>" "<kbd>"↵"</kbd></dt><dd>"Send the answer being written"</dd>
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
                                        {conversation_row(c, open, go.clone(), view_name)}
                                    </For>
                                </ul>
                                {(total > i64::from(PAGE) || paging.past_first()).then(|| view! { <Pager paging at=page_at testid="conversations-total" /> })}
                            </div>
                        }.into_any()
                    }
                }}
            </section>
            <div class="grid min-w-0 content-start gap-6 2xl:grid-cols-[1fr_18rem]">
                <section aria-label="Conversation" class="min-w-0">
                    {move || match (open.get(), thread.get()) {
                        (None, _) => view! { <div class="card p-6 text-sm text-muted">"Choose a conversation to read it."</div> }.into_any(),
                        (Some(_), None) => view! { <LoadingCard rows=5 /> }.into_any(),
                        (Some(_), Some(Err(e))) => view! { <ErrorCard message=e /> }.into_any(),
                        (Some(_), Some(Ok(d))) => thread_view(d, set, members).into_any(),
                    }}
                    // The composer lives as long as its conversation is open (a refreshed thread
                    // keeps what is being written and the suggestions shown).
                    {move || match open_channel.get() {
                        Some((id, channel, true)) => {
                            let window = Signal::derive(move || thread.with(|t| match t { Some(Ok(d)) => d.window_closes_at, _ => None }));
                            view! {
                                <Composer id channel window drafts on_sent=Callback::new(move |()| { list.refresh(); refetch.update(|n| *n += 1); }) />
                            }.into_any()
                        }
                        Some((_, _, false)) => view! { <p class="card mt-4 p-4 text-sm text-muted">"No answer can go out from here: the conversation has no mailbox (it was deleted) or the contact has no email address."</p> }.into_any(),
                        None => ().into_any(),
                    }}
                </section>
                {move || {
                    let d = thread.with(|t| match t { Some(Ok(d)) => Some(d.conversation.clone()), _ => None })?;
                    Some(view! { <ContactCard conversation=d on_changed=Callback::new(move |()| list.refresh()) /> })
                }}
            </div>
        </div>
    }
}

fn conversation_row(
    c: Conversation,
    open: Memo<Option<ConversationId>>,
    go: impl Fn(String, Option<ConversationId>) + Clone + 'static,
    view_name: Memo<String>,
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
                on:click=move |_| go(view_name.get_untracked(), Some(id))>
                <div class="flex items-center gap-2">
                    <span class="text-muted" inner_html=channel_icon(c.channel)></span>
                    <p class=name_class>{c.contact_name.clone()}</p>
                    {c.unread.then(|| view! { <span class="h-2 w-2 shrink-0 rounded-full bg-accent-600"></span><span class="sr-only">"Unread"</span> })}
                    <span class="ml-auto shrink-0 text-xs text-muted">{short_date(&c.last_message_at)}</span>
                </div>
                <div class="mt-1 flex items-center gap-2">
                    {c.classification.map(badges::reply_label)}
                    {c.needs_reply.then(|| view! { <span class="text-xs font-medium text-accent-700">"Needs reply"</span> })}
                    {match c.status {
                        ConversationStatus::Done => Some(view! { <span class="text-xs text-muted">"Done"</span> }.into_any()),
                        ConversationStatus::Snoozed => Some(view! { <span class="text-xs text-muted">{c.snoozed_until.map(|t| format!("Snoozed until {}", short_date(&t))).unwrap_or_else(|| "Snoozed".into())}</span> }.into_any()),
                        ConversationStatus::Open => None,
                    }}
                    <p class="truncate text-xs text-muted">{c.campaign_name.clone().unwrap_or_default()}</p>
                    {c.assignee_name.clone().map(|n| view! { <span class="ml-auto shrink-0 text-xs text-muted" title="Assigned to">{n}</span> })}
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
    members: LocalResource<Result<Vec<Member>, api::ApiError>>,
) -> impl IntoView {
    let c = d.conversation;
    let id = c.id;
    let done = c.status == ConversationStatus::Done;
    let assignee = c.assignee_id;
    let label = c.classification;
    view! {
        <div class="card overflow-hidden">
            <header class="border-b border-line px-5 py-4">
                <div class="flex flex-wrap items-center gap-3">
                    <div class="min-w-0 flex-1">
                        <h2 class="truncate text-lg font-semibold">{c.contact_name.clone()}</h2>
                        <p class="truncate text-xs text-muted">
                            {c.contact_email.clone().unwrap_or_default()}
                            {c.campaign_name.clone().map(|n| format!(" · {n}"))}
                        </p>
                    </div>
                    {c.away_until.map(|d| view! { <span class="text-xs text-amber-800" data-testid="away-until">{format!("Out of office until {} {} {}", d.day(), &format!("{}", d.month())[..3], d.year())}</span> })}
                    <button class="btn-ghost" on:click=move |_| set(id, ConversationChange { unread: Some(true), ..change() }, "Marked unread.")>"Mark unread"</button>
                    {if done {
                        view! { <button class="btn-secondary" on:click=move |_| set(id, ConversationChange { status: Some(ConversationStatus::Open), ..change() }, "Reopened.")>"Reopen"</button> }.into_any()
                    } else {
                        view! { <button class="btn-primary" on:click=move |_| set(id, ConversationChange { status: Some(ConversationStatus::Done), ..change() }, "Marked done.")>"Mark done"</button> }.into_any()
                    }}
                </div>
                <div class="mt-3 flex flex-wrap items-center gap-2">
                    <select class="field-input w-auto py-1.5 text-sm" aria-label="Label this answer"
                        on:change=move |ev| if let Some(l) = ReplyLabel::parse(&event_target_value(&ev)) {
                            set(id, ConversationChange { classification: Some(l), ..change() }, "Label corrected.");
                        }>
                        <option value="" selected=label.is_none()>"Label…"</option>
                        {ReplyLabel::ALL.iter().map(|l| view! { <option value=l.as_str() selected=label == Some(*l)>{l.label()}</option> }).collect_view()}
                    </select>
                    <select class="field-input w-auto py-1.5 text-sm" aria-label="Assign to"
                        on:change=move |ev| {
                            let to = event_target_value(&ev).parse::<UserId>().ok();
                            set(id, ConversationChange { assignee_id: Some(to), ..change() }, if to.is_some() { "Assigned." } else { "Unassigned." });
                        }>
                        <option value="" selected=assignee.is_none()>"Unassigned"</option>
                        {move || members.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|m| view! {
                            <option value=m.user_id.to_string() selected=assignee == Some(m.user_id)>{m.name}</option>
                        }).collect_view()}
                    </select>
                    <select class="field-input w-auto py-1.5 text-sm" aria-label="Snooze"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            if let Some((_, _, minutes)) = SNOOZES.iter().find(|(k, ..)| *k == v) {
                                let until = now() + time::Duration::minutes(*minutes);
                                set(id, ConversationChange { snoozed_until: Some(until), ..change() }, "Snoozed.");
                            }
                        }>
                        <option value="" selected=true>{match c.snoozed_until { Some(t) => format!("Snoozed until {}", short_date(&t)), None => "Snooze…".into() }}</option>
                        {SNOOZES.iter().map(|(k, label, _)| view! { <option value=*k>{*label}</option> }).collect_view()}
                    </select>
                    {c.classified_by_hand.then(|| view! { <span class="text-xs text-muted">"Label set by hand"</span> })}
                </div>
            </header>
            <Timeline items=d.items conversation=id />
        </div>
    }
}

/// A conversation's messages in and out, oldest first (the inbox's thread, and the contact
/// panel's timeline).
#[component]
pub fn Timeline(
    items: Vec<ThreadItem>,
    /// The conversation, when its texts' media can be opened.
    #[prop(optional)]
    conversation: Option<ConversationId>,
) -> impl IntoView {
    view! {
        <ol class="grid gap-4 bg-slate-50/60 p-5" data-testid="thread">
            {items.into_iter().map(|i| thread_item(i, conversation)).collect_view()}
        </ol>
    }
}

/// A picture, sound or document a lead sent by text: fetched through Aura when asked, then
/// shown (pictures, sounds and films) or offered for download.
#[component]
fn TextMedia(
    conversation: ConversationId,
    message: uuid::Uuid,
    index: usize,
    attachment: aura_types::MailAttachment,
) -> impl IntoView {
    let api = use_api();
    let loaded = RwSignal::new(None::<Result<api::Fetched, String>>);
    let loading = RwSignal::new(false);
    // The file's object URL is let go with the thread.
    on_cleanup(move || {
        if let Some(Some(Ok(f))) = loaded.try_get_untracked() {
            web_sys::Url::revoke_object_url(&f.url).ok();
        }
    });
    let load = move |_| {
        loading.set(true);
        spawn_local(async move {
            let got = api::inbox::media(api, conversation, message, index)
                .await
                .map_err(|e| e.message());
            loaded.try_set(Some(got));
            loading.try_set(false);
        });
    };
    let name = attachment.name.clone();
    view! {
        <li class="grid gap-1" data-testid="text-media">
            <div class="flex items-center gap-2">
                <span class="font-medium">{attachment.content_type.clone()}</span>
                {(attachment.size > 0).then(|| view! { <span class="text-muted">{size_label(attachment.size)}</span> })}
                {move || match loaded.get() {
                    Some(Ok(f)) if attachment.size == 0 => view! { <span class="text-muted">{size_label(f.size as i64)}</span> }.into_any(),
                    Some(Ok(_)) => ().into_any(),
                    _ => view! { <button type="button" class="text-accent-700 hover:underline" disabled=move || loading.get() on:click=load>{move || if loading.get() { "Loading…" } else { "Show" }}</button> }.into_any(),
                }}
            </div>
            {move || loaded.get().map(|r| match r {
                Err(e) => view! { <p class="text-red-700" role="alert">{e}</p> }.into_any(),
                Ok(f) if f.content_type.starts_with("image/") && f.content_type != "image/svg+xml" => view! { <img src=f.url alt=format!("Sent by the lead ({})", f.content_type) class="max-h-72 max-w-full rounded-lg border border-line" /> }.into_any(),
                Ok(f) if f.content_type.starts_with("audio/") => view! { <audio controls src=f.url></audio> }.into_any(),
                Ok(f) if f.content_type.starts_with("video/") => view! { <video controls class="max-h-72 max-w-full" src=f.url></video> }.into_any(),
                Ok(f) => view! { <a class="text-accent-700 hover:underline" href=f.url download=name.clone()>"Download"</a> }.into_any(),
            })}
        </li>
    }
}

fn thread_item(i: ThreadItem, conversation: Option<ConversationId>) -> impl IntoView {
    let ours = i.direction == Direction::Outbound;
    let (side, bubble) = if ours {
        ("ml-auto", "bg-white border border-line")
    } else {
        ("mr-auto", "bg-accent-50 border border-accent-100")
    };
    // What the lead quoted (our earlier message, mostly) is folded away.
    let (own, quoted) = if ours {
        (i.text.clone(), String::new())
    } else {
        let own = own_words(&i.text);
        let own = if own.trim().is_empty() {
            i.text.as_str()
        } else {
            own
        };
        (
            own.trim_end().to_owned(),
            i.text[own.len()..].trim().to_owned(),
        )
    };
    let trouble = ours
        && matches!(
            i.status,
            Some(MessageStatus::Failed | MessageStatus::Unknown | MessageStatus::Bounced)
        );
    view! {
        <li class=format!("max-w-[85%] {side}") data-testid="thread-item" data-direction=i.direction.as_str()>
            <div class="mb-1 flex items-center gap-2 text-xs text-muted">
                <span>{match (ours, i.author.clone()) { (true, Some(a)) => a, (true, None) => "Sent".into(), (false, _) => "Received".into() }}</span>
                <span>{short_date(&i.at)}</span>
                {i.kind.map(badges::inbound_kind)}
                {i.status.filter(|_| ours).map(badges::message_status)}
            </div>
            <div class=format!("rounded-xl px-4 py-3 text-sm shadow-sm {bubble}")>
                {i.subject.clone().filter(|s| !s.is_empty()).map(|s| view! { <p class="mb-2 font-semibold">{s}</p> })}
                {match i.html.clone().filter(|_| !ours) {
                    Some(html) => html_body(i.id, html).into_any(),
                    None => view! {
                        <div class="whitespace-pre-wrap leading-relaxed">{own}</div>
                        {(!quoted.is_empty()).then(|| view! {
                            <details class="mt-2 text-xs text-muted">
                                <summary class="cursor-pointer select-none">"Show quoted text"</summary>
                                <div class="mt-2 whitespace-pre-wrap border-l-2 border-line pl-3">{quoted}</div>
                            </details>
                        })}
                    }.into_any(),
                }}
                {(!i.attachments.is_empty()).then(|| view! {
                    <ul class="mt-3 grid gap-1 border-t border-line pt-2 text-xs" data-testid="attachments" aria-label="Attachments">
                        {i.attachments.iter().enumerate().map(|(index, a)| match conversation.filter(|_| i.channel != Channel::Email) {
                            // A text's media stays at Twilio: fetched through Aura when asked.
                            Some(conversation) => view! { <TextMedia conversation message=i.id index attachment=a.clone() /> }.into_any(),
                            None => view! {
                                <li class="flex gap-2"><span class="font-medium">{a.name.clone()}</span><span class="text-muted">{format!("{} · {}", a.content_type, size_label(a.size))}</span></li>
                            }.into_any(),
                        }).collect_view()}
                    </ul>
                })}
                {i.detail.clone().filter(|_| !ours || trouble).map(|d| view! {
                    <p class=if trouble { "mt-2 text-xs text-red-700" } else { "mt-2 text-xs text-muted" } data-testid="thread-detail">{d}</p>
                })}
            </div>
        </li>
    }
}

/// Which arrived messages' quoted text and remote images a person asked to see: kept by the page,
/// so a refreshed thread shows them as they were.
#[derive(Clone, Copy, Default)]
struct Unfolded {
    quotes: RwSignal<std::collections::HashSet<uuid::Uuid>>,
    images: RwSignal<std::collections::HashSet<uuid::Uuid>>,
}

/// An arrived message's HTML, in a sandboxed frame: remote images blocked and quotes folded until
/// asked.
fn html_body(id: uuid::Uuid, html: String) -> impl IntoView {
    let unfolded = use_context::<Unfolded>().unwrap_or_default();
    let images = Signal::derive(move || unfolded.images.with(|s| s.contains(&id)));
    let quotes = Signal::derive(move || unfolded.quotes.with(|s| s.contains(&id)));
    let has_images = html.contains("<img");
    let has_quotes = [
        "<blockquote",
        "gmail_quote",
        "yahoo_quoted",
        "divRplyFwdMsg",
    ]
    .iter()
    .any(|q| html.contains(q));
    view! {
        <div class="overflow-hidden rounded-lg border border-line bg-white">
            {move || view! { <HtmlFrame html=html.clone() title="The message as it arrived" block_remote=!images.get() hide_quotes=!quotes.get() /> }}
        </div>
        <div class="mt-2 flex flex-wrap gap-3 text-xs">
            {(has_images).then(|| view! {
                <Show when=move || !images.get()>
                    <button class="text-accent-700 hover:underline" on:click=move |_| unfolded.images.update(|s| { s.insert(id); })>"Load remote images"</button>
                </Show>
            })}
            {has_quotes.then(|| view! {
                <button class="text-muted hover:underline" on:click=move |_| unfolded.quotes.update(|s| { if !s.remove(&id) { s.insert(id); } })>
                    {move || if quotes.get() { "Hide quoted text" } else { "Show quoted text" }}
                </button>
            })}
        </div>
    }
}

fn size_label(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} bytes"),
    }
}

/// How long until `closes`, in words ("5 h 12 min"), or `None` once it has passed.
fn time_left(closes: time::OffsetDateTime, now: time::OffsetDateTime) -> Option<String> {
    let left = closes - now;
    if left <= time::Duration::ZERO {
        return None;
    }
    let minutes = left.whole_minutes();
    Some(match (minutes / 60, minutes % 60) {
        (0, m) => format!("{} min", m.max(1)),
        (h, m) => format!("{h} h {m} min"),
    })
}

/// The SMS counter under an answer: characters, segments, encoding, and when it is long.
fn sms_counter(text: Signal<String>) -> impl IntoView {
    use aura_types::template::{sms_info, SmsEncoding, SMS_LONG_CHARS, SMS_MAX_CHARS};
    let info = Memo::new(move |_| sms_info(&text.get()));
    view! {
        <p class="mt-1 text-xs text-muted" data-testid="reply-sms-counter">{move || {
            let i = info.get();
            format!("{} characters · {} segment{} · {}", i.units, i.segments, if i.segments == 1 { "" } else { "s" },
                if i.encoding == SmsEncoding::Gsm7 { "GSM-7" } else { "Unicode (UCS-2): 70 per segment" })
        }}</p>
        {move || {
            let i = info.get();
            if i.units > SMS_MAX_CHARS {
                Some(view! { <p class="text-xs text-rose-700" role="alert">{format!("Too long: a text holds at most {SMS_MAX_CHARS} characters.")}</p> }.into_any())
            } else if i.units > SMS_LONG_CHARS {
                Some(view! { <p class="text-xs text-amber-700">{format!("Long text: it goes as {} segments, each billed.", i.segments)}</p> }.into_any())
            } else {
                None
            }
        }}
    }
}

/// Writing an answer: suggestions to start from, then Send — by email through the
/// conversation's mailbox (with its signature), or by text from the number that wrote to the
/// lead (an SMS shows its segments; on WhatsApp, the time left in the lead's 24-hour window, and
/// once it has closed, a picker of approved templates instead of free text).
#[component]
fn Composer(
    id: ConversationId,
    channel: Channel,
    #[prop(into)] window: Signal<Option<time::OffsetDateTime>>,
    drafts: RwSignal<HashMap<ConversationId, String>>,
    on_sent: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    // WhatsApp: minutes tick while the composer is open, so the window's time stays true.
    let tick = RwSignal::new(now());
    if channel == Channel::Whatsapp {
        let handle =
            set_interval_with_handle(move || tick.set(now()), Duration::from_secs(30)).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }
    let closed = Memo::new(move |_| {
        channel == Channel::Whatsapp
            && window
                .get()
                .is_none_or(|w| time_left(w, tick.get()).is_none())
    });
    // Asked of Twilio only once a template is needed.
    let templates = LocalResource::new(move || {
        let needed = closed.get();
        async move {
            if needed {
                api::phone::whatsapp_templates(api)
                    .await
                    .map(|t| t.templates)
            } else {
                Ok(Vec::new())
            }
        }
    });
    let picked = RwSignal::new(None::<WhatsAppTemplate>);
    let values = RwSignal::new(std::collections::BTreeMap::<String, String>::new());
    let filled = Memo::new(move |_| {
        picked.with(|p| {
            p.as_ref()
                .map(|t| aura_types::fill_content(&t.body, &values.get()))
        })
    });
    let toasts = use_toasts();
    let text = RwSignal::new(drafts.with_untracked(|d| d.get(&id).cloned().unwrap_or_default()));
    Effect::new(move |_| {
        let t = text.get();
        drafts.update_untracked(|d| {
            if t.is_empty() {
                d.remove(&id);
            } else {
                d.insert(id, t);
            }
        });
    });
    let suggestions = RwSignal::new(None::<Result<RepliesResult, String>>);
    let suggesting = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let suggest = move |_| {
        suggesting.set(true);
        spawn_local(async move {
            let got = api::inbox::suggest(api, id).await.map_err(|e| e.message());
            suggestions.try_set(Some(got));
            suggesting.try_set(false);
        });
    };
    let send = move || {
        let body = text.get_untracked();
        let template = if closed.get_untracked() {
            match picked.get_untracked() {
                Some(t) => Some(t.chosen(values.get_untracked())),
                None => return,
            }
        } else {
            None
        };
        if (template.is_none() && body.trim().is_empty()) || sending.get_untracked() {
            return;
        }
        sending.set(true);
        error.set(None);
        spawn_local(async move {
            let req = ReplyRequest {
                text: if template.is_some() {
                    String::new()
                } else {
                    body
                },
                subject: None,
                template,
            };
            match api::inbox::reply(api, id, &req).await {
                Ok(_) => {
                    // Sent: no draft comes back, even if the composer closed meanwhile.
                    drafts.try_update(|d| {
                        d.remove(&id);
                    });
                    text.try_set(String::new());
                    suggestions.try_set(None);
                    picked.try_set(None);
                    toasts.success(match channel {
                        Channel::Email => {
                            "Answer queued: it goes out through the conversation's mailbox."
                        }
                        _ => "Answer queued: it goes out from the number that wrote to the lead.",
                    });
                    on_sent.run(());
                }
                // What was written stays, with what went wrong.
                Err(e) => {
                    error.try_set(Some(e.message()));
                }
            }
            sending.try_set(false);
        });
    };
    let insert = move |r: String| {
        text.set(r);
        if let Some(el) = document().get_element_by_id("reply-text") {
            use wasm_bindgen::JsCast;
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                el.focus().ok();
            }
        }
    };
    view! {
        <form class="card mt-4 p-5" aria-label="Answer" on:submit=move |ev| { ev.prevent_default(); send(); }>
            <label for="reply-text" class="mb-1 block text-sm font-semibold">{match channel {
                Channel::Email => "Your answer",
                Channel::Sms => "Your answer by SMS",
                Channel::Whatsapp => "Your answer on WhatsApp",
            }}</label>
            {(channel == Channel::Whatsapp).then(|| view! {
                <p class="mb-2 text-xs" data-testid="whatsapp-window">{move || match window.get().and_then(|w| time_left(w, tick.get())) {
                    Some(left) => view! { <span class="text-emerald-700">{format!("The lead's 24-hour window is open: {left} left for free text.")}</span> }.into_any(),
                    None => view! { <span class="text-amber-700">"The lead's 24-hour window has closed: only an approved template can reach them until they write again."</span> }.into_any(),
                }}</p>
            })}
            <Show when=move || !closed.get() fallback=move || view! {
                <TemplatePicker templates picked values filled />
            }>
                <textarea id="reply-text" rows=5 class="field-input" placeholder="Write an answer…  ( r )"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) { ev.prevent_default(); send(); }></textarea>
                {(channel == Channel::Sms).then(|| sms_counter(text.into()))}
            </Show>
            {move || error.get().map(|e| view! { <p class="mt-2 text-sm text-red-700" role="alert">{e}</p> })}
            <div class="mt-3 flex flex-wrap items-center gap-2">
                <Show when=move || !closed.get()>
                    <button type="button" class="btn-secondary" on:click=suggest disabled=move || suggesting.get()>
                        {move || if suggesting.get() { "Suggesting…" } else { "Suggest replies" }}
                    </button>
                </Show>
                <span class="text-xs text-muted">{match channel {
                    Channel::Email => "Sent from the conversation's mailbox, with its signature · Ctrl+Enter sends",
                    _ => "Sent from the number that wrote to the lead · Ctrl+Enter sends",
                }}</span>
                <button type="submit" class="btn-primary ml-auto" disabled=move || sending.get()
                    || if closed.get() { filled.get().is_none_or(|f| f.contains("{{")) } else { text.get().trim().is_empty() }>
                    {move || if sending.get() { "Sending…" } else { "Send" }}
                </button>
            </div>
            {move || suggestions.get().map(|r| match r {
                Err(e) => view! { <p class="mt-3 text-sm text-red-700" role="alert">{e}</p> }.into_any(),
                Ok(s) => view! {
                    <div class="mt-4 grid gap-2" data-testid="suggestions">
                        <p class="text-xs text-muted">{format!("Suggested by {} — insert one, then edit it", s.provenance.label)}</p>
                        {s.replies.into_iter().map(|r| {
                            let chosen = r.clone();
                            view! {
                                <div class="rounded-lg border border-line bg-slate-50 p-3 text-sm" data-testid="suggestion">
                                    <p class="whitespace-pre-wrap">{r}</p>
                                    <button type="button" class="btn-ghost mt-2" on:click=move |_| insert(chosen.clone())>"Insert"</button>
                                </div>
                            }
                        }).collect_view()}
                    </div>
                }.into_any(),
            })}
        </form>
    }
}

/// Choosing an approved WhatsApp template and filling its variables, with what the lead will read.
#[component]
fn TemplatePicker(
    templates: LocalResource<Result<Vec<WhatsAppTemplate>, crate::api::ApiError>>,
    picked: RwSignal<Option<WhatsAppTemplate>>,
    values: RwSignal<std::collections::BTreeMap<String, String>>,
    filled: Memo<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="grid gap-3" data-testid="template-picker">
            <Suspense fallback=|| view! { <p class="text-sm text-muted">"Loading the templates…"</p> }>
                {move || templates.get().map(|r| match r {
                    Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                    Ok(all) => {
                        let approved: Vec<WhatsAppTemplate> = all.into_iter().filter(WhatsAppTemplate::approved).collect();
                        if approved.is_empty() {
                            return view! { <p class="text-sm text-muted">"No approved template yet: submit one for approval in Twilio, then it appears here."</p> }.into_any();
                        }
                        let options = approved.clone();
                        view! {
                            <label for="reply-template" class="text-sm font-semibold">"Template"</label>
                            <select id="reply-template" class="field-input" on:change=move |ev| {
                                let sid = event_target_value(&ev);
                                let t = options.iter().find(|t| t.sid == sid).cloned();
                                values.set(Default::default());
                                picked.set(t);
                            }>
                                <option value="" selected=move || picked.with(Option::is_none)>"Choose an approved template…"</option>
                                {approved.iter().map(|t| view! {
                                    <option value=t.sid.clone()>{format!("{} · {} · {}", t.name, t.language, if t.category.is_empty() { "no category" } else { t.category.as_str() })}</option>
                                }).collect_view()}
                            </select>
                        }.into_any()
                    }
                })}
            </Suspense>
            {move || picked.get().map(|t| {
                let names = aura_types::content_placeholders(&t.body);
                view! {
                    <div class="grid gap-2 sm:grid-cols-2">
                        {names.into_iter().map(|name| {
                            let sample = t.variables.get(&name).cloned().unwrap_or_default();
                            let key = name.clone();
                            let field = format!("template-var-{name}");
                            view! {
                                <div>
                                    <label for=field.clone() class="field-label">{format!("{{{{{name}}}}}")}</label>
                                    <input id=field class="field-input" placeholder=format!("e.g. {sample}")
                                        prop:value={ let key = key.clone(); move || values.with(|v| v.get(&key).cloned().unwrap_or_default()) }
                                        on:input=move |ev| { let v = event_target_value(&ev); values.update(|m| { m.insert(key.clone(), v); }); } />
                                </div>
                            }
                        }).collect_view()}
                    </div>
                    <div class="rounded-2xl rounded-bl-sm bg-emerald-50 p-3 text-sm whitespace-pre-wrap" data-testid="template-preview">{move || filled.get().unwrap_or_default()}</div>
                }
            })}
        </div>
    }
}

/// The contact of the open conversation: who they are, where they stand in the campaign, their
/// notes, and what can be done about them at once.
#[component]
fn ContactCard(conversation: Conversation, on_changed: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let contact_id: ContactId = conversation.contact_id;
    let campaign = conversation.campaign_id;
    let campaign_name = conversation.campaign_name.clone();
    let detail =
        LocalResource::new(move || async move { api::contacts::get(api, contact_id).await });
    let target = LocalResource::new(move || async move {
        match campaign {
            Some(c) => api::campaigns::target(api, c, contact_id).await,
            None => Ok(None),
        }
    });
    let tag = RwSignal::new(String::new());
    let save = Action::new_local(move |(input, done): &(ContactInput, &'static str)| {
        let (input, done) = (input.clone(), *done);
        async move {
            api::contacts::update(api, contact_id, &input)
                .await
                .map(|_| done)
        }
    });
    on_result(save, move |r| match r {
        Ok(done) => {
            toasts.success(done);
            tag.set(String::new());
            detail.refetch();
            on_changed.run(());
        }
        Err(e) => toasts.error(e.message()),
    });
    let remove = Action::new_local(move |c: &CampaignId| {
        let c = *c;
        async move { api::campaigns::remove_target(api, c, contact_id).await }
    });
    on_result(remove, move |r| match r {
        Ok(()) => {
            toasts.success("Removed from the campaign: nothing more goes out to them from it.");
            target.refetch();
        }
        Err(e) => toasts.error(e.message()),
    });
    view! {
        <aside class="card h-fit p-5 text-sm" aria-label="Contact card" data-testid="contact-card">
            <Transition fallback=|| view! { <LoadingCard rows=3 /> }>
                {move || detail.get().map(|r| match r {
                    Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                    Ok(d) => {
                        let c = d.contact;
                        let tags = c.tags.clone();
                        let rows: Vec<(&str, Option<String>)> = vec![
                            ("Email", c.email.clone()), ("Phone", c.phone.clone()), ("Company", c.company.clone()),
                            ("Job title", c.job_title.clone()), ("City", c.city.clone()), ("Source", c.source.clone()),
                        ];
                        let status = c.status;
                        view! {
                            <h2 class="text-base font-semibold">{c.full_name.clone()}</h2>
                            <div class="mt-2 flex flex-wrap items-center gap-1">
                                {badges::contact_status(c.status)}
                                {c.tags.iter().map(|t| view! { <span class="badge bg-slate-50 text-slate-700 ring-line">{t.clone()}</span> }).collect_view()}
                            </div>
                            <dl class="mt-4 grid grid-cols-[5.5rem_1fr] gap-x-3 gap-y-1.5">
                                {rows.into_iter().filter_map(|(k, v)| v.map(|v| view! { <dt class="text-muted">{k}</dt><dd class="break-words">{v}</dd> })).collect_view()}
                            </dl>
                            {campaign_name.clone().map(|name| view! {
                                <h3 class="mt-4 font-semibold">"Campaign"</h3>
                                <p class="mt-1">{name}</p>
                                {move || target.get().and_then(Result::ok).map(|t| match t {
                                    Some(t) => view! {
                                        <p class="mt-1 text-xs text-muted" data-testid="contact-step">{format!("{} · {} step{} sent", t.status.label(), t.current_step, if t.current_step == 1 { "" } else { "s" })}</p>
                                        {campaign.map(|cid| view! { <button class="btn-ghost mt-1 px-0 text-xs" on:click=move |_| { remove.dispatch(cid); }>"Remove from campaign"</button> })}
                                    }.into_any(),
                                    None => view! { <p class="mt-1 text-xs text-muted">"No longer in it."</p> }.into_any(),
                                })}
                            })}
                            <h3 class="mt-4 font-semibold">"Quick actions"</h3>
                            <div class="mt-2 grid gap-2">
                                <label class="sr-only" for="card-status">"Contact status"</label>
                                <select id="card-status" class="field-input py-1.5 text-sm"
                                    on:change=move |ev| if let Some(s) = ContactStatus::parse(&event_target_value(&ev)) {
                                        save.dispatch((ContactInput { status: Some(s), ..Default::default() }, "Status changed."));
                                    }>
                                    {ContactStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=status == *s>{s.label()}</option> }).collect_view()}
                                </select>
                                <form class="flex gap-2" on:submit={
                                    let tags = tags.clone();
                                    move |ev| {
                                        ev.prevent_default();
                                        let new = tag.get_untracked().trim().to_owned();
                                        if new.is_empty() { return; }
                                        let mut all = tags.clone();
                                        if !all.iter().any(|t| t.eq_ignore_ascii_case(&new)) { all.push(new); }
                                        save.dispatch((ContactInput { tags: Some(all), ..Default::default() }, "Tag added."));
                                    }
                                }>
                                    <input class="field-input flex-1 py-1.5" placeholder="Add a tag" aria-label="Tag"
                                        prop:value=move || tag.get() on:input=move |ev| tag.set(event_target_value(&ev)) />
                                    <button class="btn-secondary" type="submit" disabled=move || tag.get().trim().is_empty()>"Tag"</button>
                                </form>
                                {(status != ContactStatus::DoNotContact).then(|| view! {
                                    <button class="btn-danger" on:click=move |_| { save.dispatch((ContactInput { status: Some(ContactStatus::DoNotContact), ..Default::default() }, "Marked do-not-contact: nothing more goes out to them.")); }>"Do not contact"</button>
                                })}
                            </div>
                            <h3 class="mt-4 font-semibold">"Notes"</h3>
                            {if d.notes.is_empty() {
                                view! { <p class="mt-1 text-xs text-muted">"No notes yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="mt-2 space-y-2">
                                        {d.notes.into_iter().take(5).map(|n| view! {
                                            <li class="rounded-lg bg-slate-50 p-2">
                                                <p class="whitespace-pre-wrap">{n.body}</p>
                                                <p class="mt-1 text-xs text-muted">{format!("{} · {}", n.author_name.unwrap_or_else(|| "API".into()), short_date(&n.created_at))}</p>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                })}
            </Transition>
        </aside>
    }
}

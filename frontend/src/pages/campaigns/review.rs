//! The campaign's Review tab: prepare every lead's messages (a progress bar while the background
//! preparation runs), then read each one exactly as the lead will get it, edit it, and approve,
//! reject or regenerate — one, a selection, or everything a filter matches.

use crate::api;
use crate::live::use_live;
use crate::{
    components::{
        badges, message_view, EmptyState, ErrorCard, LoadingCard, Pager, Paging, SelectField,
        TextArea,
    },
    icons,
    state::{use_api, use_toasts},
};
use aura_types::{
    Campaign, Channel, Message, MessageEdit, MessageFilter, MessageId, MessageStatus, Page,
    Preparation, ReviewAction, ReviewRequest, ReviewSummary, Step,
};
use leptos::{prelude::*, task::spawn_local};
use std::collections::BTreeSet;

const PAGE: u32 = 50;

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[component]
pub fn ReviewPanel(campaign: Campaign, steps: Vec<Step>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let id = campaign.id;
    let open = campaign.status.is_open();
    let paging = Paging::new(PAGE);
    // Filters, as the selects hold them.
    let f_step = RwSignal::new(String::new());
    let f_status = RwSignal::new(String::new());
    let f_variant = RwSignal::new(String::new());
    let f_problems = RwSignal::new(false);
    let filter = Memo::new(move |_| MessageFilter {
        step_id: f_step.get().parse().ok(),
        status: MessageStatus::parse(&f_status.get()),
        variant: Some(f_variant.get()).filter(|v| !v.is_empty()),
        problems: f_problems.get().then_some(true),
        contact_id: None,
    });
    let chosen = RwSignal::new(BTreeSet::<MessageId>::new());
    let current = RwSignal::new(None::<Message>);
    let busy = RwSignal::new(false);

    // The list, on the filters and page as they are when it is fetched.
    let page = use_live(
        move || {
            let (f, at) = (filter.get_untracked(), paging.query());
            async move { api::messages::list(api, id, &f, &at).await }
        },
        None,
        |_: &Page<Message>| false,
    );
    let page_at = page.page_at();
    // Keep the open message in step with the list.
    Effect::new(move |_| {
        if let Some(Ok(p)) = page.get() {
            if let Some(m) = current.get_untracked() {
                current.set(p.items.iter().find(|x| x.id == m.id).cloned().or(Some(m)));
            }
        }
    });
    // The list's frame depends only on loading, failure or how many (a Memo); its rows are keyed
    // by what they show, so a reload after an action re-renders only the rows that changed.
    let list_state = Memo::new(move |_| {
        page.with(|p| {
            p.as_ref()
                .map(|r| r.as_ref().map(|p| p.total).map_err(Clone::clone))
        })
    });
    let rows = Memo::new(move |_| {
        page.with(|p| match p {
            Some(Ok(p)) => p.items.clone(),
            _ => Vec::new(),
        })
    });
    // The summary, polled while a preparation runs.
    let summary = use_live(
        move || api::messages::review_summary(api, id),
        Some(std::time::Duration::from_millis(600)),
        |s: &ReviewSummary| s.preparation.as_ref().is_some_and(Preparation::is_open),
    );
    // A preparation this tab started or saw running: announce it and refresh the list when done.
    let watching = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(Ok(s)) = summary.get() else { return };
        let running = s.preparation.as_ref().is_some_and(Preparation::is_open);
        if !running && watching.get_untracked() {
            if let Some(p) = &s.preparation {
                let done = plural(p.done, "message", "messages");
                if p.failed > 0 {
                    toasts.error(format!(
                        "Prepared {done}; AI could not write {} (see the problems).",
                        p.failed
                    ));
                } else {
                    toasts.success(format!("Prepared {done}."));
                }
            }
            page.refresh();
        }
        watching.set(running);
    });
    Effect::new(move |prev: Option<()>| {
        filter.track();
        if prev.is_some() {
            paging.reset();
            chosen.set(BTreeSet::new());
            page.refresh();
        }
    });

    let prepare = move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::messages::prepare(api, id).await {
                Ok(_) => {
                    watching.try_set(true);
                    summary.refresh();
                }
                Err(e) => toasts.error(e.message()),
            }
            busy.try_set(false);
        });
    };
    let act = move |action: ReviewAction, ids: Option<Vec<MessageId>>| {
        busy.set(true);
        let body = ReviewRequest {
            action,
            filter: ids.is_none().then(|| filter.get_untracked()),
            ids,
        };
        spawn_local(async move {
            match api::messages::review(api, id, &body).await {
                Ok(r) => {
                    let verb = match action {
                        ReviewAction::Approve => "Approved",
                        ReviewAction::Reject => "Rejected",
                        ReviewAction::Regenerate => "Writing again",
                    };
                    let mut msg = format!("{verb} {}.", plural(r.changed, "message", "messages"));
                    if r.skipped > 0 {
                        msg.push_str(&format!(
                            " {} left as {} ({}).",
                            r.skipped,
                            if r.skipped == 1 {
                                "it was"
                            } else {
                                "they were"
                            },
                            if action == ReviewAction::Approve {
                                "already approved, or with problems to fix first"
                            } else {
                                "already so"
                            }
                        ));
                    }
                    toasts.success(msg);
                    if r.preparation.is_some() {
                        watching.try_set(true);
                    }
                    chosen.try_set(BTreeSet::new());
                    if action == ReviewAction::Regenerate {
                        current.try_set(None);
                    }
                    summary.refresh();
                    page.refresh();
                }
                Err(e) => toasts.error(e.message()),
            }
            busy.try_set(false);
        });
    };

    // Owned by the tab, not by the message panel they replace.
    // What the message panel asks for: show a saved message, or act on one message.
    let saved = RwSignal::new(None::<Message>);
    let asked = RwSignal::new(None::<(ReviewAction, MessageId)>);
    Effect::new(move |_| {
        if let Some(m) = saved.get() {
            summary.refresh();
            page.refresh();
            current.set(Some(m));
        }
    });
    Effect::new(move |_| {
        if let Some((a, mid)) = asked.get() {
            act(a, Some(vec![mid]));
        }
    });

    let step_options = {
        let mut o = vec![(String::new(), "All steps".to_owned())];
        o.extend(steps.iter().map(|s| {
            (
                s.id.to_string(),
                format!("Step {} · {}", s.position, s.channel.label()),
            )
        }));
        o
    };
    let status_options = {
        let mut o = vec![(String::new(), "Any status".to_owned())];
        o.extend(
            MessageStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
        );
        o
    };
    let variant_options = {
        let mut labels = BTreeSet::from(["A".to_owned()]);
        for s in &steps {
            labels.extend(s.variants.iter().map(|v| v.label.clone()));
        }
        let mut o = vec![(String::new(), "Any variant".to_owned())];
        o.extend(
            labels
                .into_iter()
                .map(|l| (l.clone(), format!("Variant {l}"))),
        );
        if steps.iter().any(|s| s.personalize) {
            o.push(("AI".into(), "Written by AI".into()));
        }
        o
    };

    view! {
        <div class="grid gap-6">
            // Where things stand, and "Prepare".
            <section class="card p-5" aria-label="Preparation">
                {move || match summary.get() {
                    None => view! { <div class="h-16 animate-pulse rounded bg-slate-100"></div> }.into_any(),
                    Some(Err(e)) => view! { <ErrorCard message=e /> }.into_any(),
                    Some(Ok(s)) => {
                        let running = s.preparation.as_ref().filter(|p| p.is_open()).cloned();
                        let todo = s.missing + s.stale;
                        let failed = s.preparation.as_ref().filter(|p| p.status == aura_types::PreparationStatus::Failed).and_then(|p| p.error.clone());
                        view! {
                            <div class="flex flex-wrap items-center gap-4">
                                <dl class="flex flex-1 flex-wrap gap-6 text-sm" data-testid="review-counts">
                                    <div><dt class="text-xs text-muted">"Needs review"</dt><dd class="text-lg font-semibold tabular-nums">{s.prepared}</dd></div>
                                    <div><dt class="text-xs text-muted">"Approved"</dt><dd class="text-lg font-semibold tabular-nums text-emerald-700">{s.approved}</dd></div>
                                    <div><dt class="text-xs text-muted">"Rejected"</dt><dd class="text-lg font-semibold tabular-nums">{s.rejected}</dd></div>
                                    <div><dt class="text-xs text-muted">"With problems"</dt><dd class="text-lg font-semibold tabular-nums text-amber-700">{s.with_problems}</dd></div>
                                    <div><dt class="text-xs text-muted">"Not prepared yet"</dt><dd class="text-lg font-semibold tabular-nums">{s.missing}</dd></div>
                                    {(s.stale > 0).then(|| view! { <div><dt class="text-xs text-muted">"Step changed since"</dt><dd class="text-lg font-semibold tabular-nums">{s.stale}</dd></div> })}
                                </dl>
                                {open.then(|| view! {
                                    <button class="btn-primary" disabled=move || busy.get() || running.is_some() || todo == 0 on:click=prepare>
                                        <span inner_html=icons::SPARKLES></span>
                                        {if todo == 0 { "All messages prepared".to_owned() } else { format!("Prepare {}", plural(todo, "message", "messages")) }}
                                    </button>
                                })}
                            </div>
                            {s.preparation.clone().filter(|p| p.is_open()).map(|p| {
                                let pct = p.percent();
                                view! {
                                    <div class="mt-4" data-testid="prepare-progress">
                                        <div class="flex justify-between text-xs text-muted"><span>{if p.total == 0 { "Starting…".to_owned() } else { "Preparing messages…".to_owned() }}</span><span class="tabular-nums">{format!("{} of {}", p.done, p.total)}</span></div>
                                        <div class="mt-1.5 h-2 overflow-hidden rounded-full bg-slate-100" role="progressbar" aria-label="Preparing messages" aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct.to_string()>
                                            <div class="h-full rounded-full bg-accent-600 transition-all" style=format!("width: {pct}%")></div>
                                        </div>
                                    </div>
                                }
                            })}
                            {failed.map(|e| view! { <p class="field-error mt-3" role="alert">{e}</p> })}
                        }.into_any()
                    }
                }}
            </section>

            <div class="grid gap-6 xl:grid-cols-[1fr_26rem]">
                <section class="card min-w-0 overflow-hidden" aria-label="Messages">
                    <div class="grid gap-3 border-b border-line p-4 sm:grid-cols-4">
                        <SelectField label="Step" name="review-step" value=f_step options=step_options />
                        <SelectField label="Status" name="review-status" value=f_status options=status_options />
                        <SelectField label="Variant" name="review-variant" value=f_variant options=variant_options />
                        <label class="flex items-end gap-2 pb-2 text-sm"><input type="checkbox" prop:checked=move || f_problems.get() on:change=move |ev| f_problems.set(event_target_checked(&ev)) />"Only with problems"</label>
                    </div>
                    {open.then(|| view! {
                        <div class="flex flex-wrap items-center gap-2 border-b border-line bg-slate-50 px-4 py-2 text-sm" data-testid="bulk-actions">
                            {move || {
                                let n = chosen.with(BTreeSet::len);
                                if n == 0 {
                                    let total = page.with(|p| p.as_ref().and_then(|r| r.as_ref().ok()).map_or(0, |p| p.total));
                                    view! {
                                        <span class="text-muted">{format!("{} shown by the filter", plural(total, "message", "messages"))}</span>
                                        <span class="flex-1"></span>
                                        <button class="btn-primary" disabled=move || { busy.get() || total == 0 || summary.with(|s| matches!(s, Some(Ok(s)) if s.prepared == 0)) } on:click=move |_| act(ReviewAction::Approve, None)>{format!("Approve all {total}")}</button>
                                        <button class="btn-ghost" disabled=move || busy.get() || total == 0 on:click=move |_| act(ReviewAction::Reject, None)>"Reject all"</button>
                                    }.into_any()
                                } else {
                                    let ids = move || Some(chosen.get_untracked().into_iter().collect::<Vec<_>>());
                                    view! {
                                        <span class="font-medium">{format!("{n} selected")}</span>
                                        <button class="btn-ghost px-2 py-1 text-xs" on:click=move |_| chosen.set(BTreeSet::new())>"Clear"</button>
                                        <span class="flex-1"></span>
                                        <button class="btn-primary" disabled=move || busy.get() on:click=move |_| act(ReviewAction::Approve, ids())>"Approve selected"</button>
                                        <button class="btn-secondary" disabled=move || busy.get() on:click=move |_| act(ReviewAction::Reject, ids())>"Reject selected"</button>
                                        <button class="btn-ghost" disabled=move || busy.get() on:click=move |_| act(ReviewAction::Regenerate, ids())>"Regenerate selected"</button>
                                    }.into_any()
                                }
                            }}
                        </div>
                    })}
                    {move || match list_state.get() {
                        None => view! { <LoadingCard rows=4 /> }.into_any(),
                        Some(Err(e)) => view! { <div class="p-4"><ErrorCard message=e /></div> }.into_any(),
                        Some(Ok(0)) => {
                            let none_yet = summary.with(|s| matches!(s, Some(Ok(s)) if s.prepared + s.approved + s.rejected == 0));
                            view! { <div class="p-6">{if none_yet {
                                view! { <EmptyState icon=icons::MAIL title="No messages prepared yet" body="Enroll leads in the Audience tab, then prepare: every lead's message for every step is written, ready for you to read and approve." /> }.into_any()
                            } else {
                                view! { <EmptyState icon=icons::MAIL title="No message matches" body="Change or clear the filters above." /> }.into_any()
                            }}</div> }.into_any()
                        }
                        Some(Ok(_)) => {
                            let all_ids = move || rows.with(|r| r.iter().map(|m| m.id).collect::<Vec<MessageId>>());
                            view! {
                                <div class="overflow-x-auto">
                                <table class="w-full text-left text-sm">
                                    <thead class="bg-slate-50 text-xs uppercase tracking-wide text-muted">
                                        <tr>
                                            <th class="w-10 px-4 py-3"><input type="checkbox" aria-label="Select all on this page"
                                                prop:checked=move || { let ids = all_ids(); let c = chosen.get(); !ids.is_empty() && ids.iter().all(|i| c.contains(i)) }
                                                on:change=move |ev| { let on = event_target_checked(&ev); let ids = all_ids(); chosen.update(|c| for i in &ids { if on { c.insert(*i); } else { c.remove(i); } }); } /></th>
                                            <th class="px-2 py-3">"Lead"</th><th class="px-2 py-3">"Step"</th><th class="px-2 py-3">"Message"</th><th class="px-4 py-3">"Status"</th>
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-line" data-testid="messages">
                                        <For each=move || rows.get() key=|m| format!("{:?}", (m.id, m.status, m.edited, m.stale, &m.problems, &m.subject, &m.text)) let:m>
                                        {
                                            let mid = m.id;
                                            let line = m.subject.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| m.text.chars().take(80).collect());
                                            let row = m.clone();
                                            let row2 = m.clone();
                                            view! {
                                                <tr tabindex="0" data-testid="message-row"
                                                    class=move || if current.with(|c| c.as_ref().is_some_and(|c| c.id == mid)) { "cursor-pointer bg-accent-50/60" } else { "cursor-pointer hover:bg-slate-50" }
                                                    on:click=move |_| current.set(Some(row.clone()))
                                                    on:keydown=move |ev| if ev.key() == "Enter" { current.set(Some(row2.clone())) }>
                                                    <td class="px-4 py-3" on:click=|ev| ev.stop_propagation()>
                                                        <input type="checkbox" aria-label=format!("Select {}'s step {}", m.full_name, m.step)
                                                            prop:checked=move || chosen.with(|c| c.contains(&mid))
                                                            on:change=move |ev| { let on = event_target_checked(&ev); chosen.update(|c| { if on { c.insert(mid); } else { c.remove(&mid); } }); } />
                                                    </td>
                                                    <td class="px-2 py-3"><p class="font-medium">{m.full_name.clone()}</p><p class="text-xs text-muted">{m.address.clone().unwrap_or_else(|| "no address".into())}</p></td>
                                                    <td class="px-2 py-3 whitespace-nowrap text-xs">{format!("{} · {}", m.step, m.channel.label())}<span class="ml-1 rounded bg-slate-100 px-1.5 text-[11px]">{m.variant.clone()}</span></td>
                                                    <td class="max-w-[16rem] px-2 py-3"><p class="truncate">{line}</p>
                                                        <p class="flex gap-2 text-[11px]">
                                                            {m.edited.then(|| view! { <span class="text-accent-700">"Edited"</span> })}
                                                            {m.stale.then(|| view! { <span class="text-muted">"Step changed since"</span> })}
                                                            {(!m.problems.is_empty()).then(|| view! { <span class="text-amber-700" data-testid="has-problems">{plural(m.problems.len() as i64, "problem", "problems")}</span> })}
                                                        </p>
                                                    </td>
                                                    <td class="px-4 py-3">{badges::message_status(m.status)}</td>
                                                </tr>
                                            }
                                        }
                                        </For>
                                    </tbody>
                                </table>
                                </div>
                                <Pager paging at=page_at testid="messages-total" />
                            }.into_any()
                        }
                    }}
                </section>
                <aside aria-label="Message">
                    {move || match current.get() {
                        None => view! { <div class="card p-6 text-sm text-muted">"Select a message to see it as the lead will, edit it, or decide on it."</div> }.into_any(),
                        Some(m) => view! { <MessageDetail campaign=id message=m open=open saved=saved asked=asked /> }.into_any(),
                    }}
                </aside>
            </div>
        </div>
    }
}

/// One message as the lead will get it, its problems and who wrote it; edit, approve, reject,
/// regenerate.
#[component]
fn MessageDetail(
    campaign: aura_types::CampaignId,
    message: Message,
    open: bool,
    saved: RwSignal<Option<Message>>,
    asked: RwSignal<Option<(ReviewAction, MessageId)>>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let editing = RwSignal::new(false);
    let subject = RwSignal::new(message.subject.clone().unwrap_or_default());
    let text = RwSignal::new(message.text.clone());
    let errs = RwSignal::new(std::collections::BTreeMap::<String, String>::new());
    let saving = RwSignal::new(false);
    let m = message.clone();
    let mid = m.id;
    let channel = m.channel;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saving.set(true);
        let body = MessageEdit {
            subject: (channel == Channel::Email).then(|| subject.get_untracked()),
            text: Some(text.get_untracked()),
        };
        spawn_local(async move {
            match api::messages::edit(api, campaign, mid, &body).await {
                Ok(m) => {
                    toasts.success("Message saved; it is marked as edited.");
                    saving.try_set(false);
                    // The tab shows the saved message in a new panel (this one is then disposed).
                    saved.set(Some(m));
                }
                Err(e) => {
                    let f = e.fields();
                    if f.is_empty() {
                        toasts.error(e.message());
                    }
                    errs.try_set(f);
                    saving.try_set(false);
                }
            }
        });
    };
    let err = move |k: &'static str| Signal::derive(move || errs.with(|e| e.get(k).cloned()));
    view! {
        <div class="card grid gap-4 p-5" data-testid="message-detail">
            <div class="flex items-start justify-between gap-2">
                <div>
                    <h2 class="font-semibold">{m.full_name.clone()}</h2>
                    <p class="text-xs text-muted">{format!("Step {} · {} · variant {} · to {}", m.step, m.channel.label(), m.variant, m.address.clone().unwrap_or_else(|| "no address".into()))}</p>
                </div>
                {badges::message_status(m.status)}
            </div>
            {(!m.problems.is_empty()).then(|| view! {
                <ul class="list-disc rounded-lg bg-amber-50 py-2 pl-8 pr-3 text-xs text-amber-900" role="status" data-testid="message-problems">
                    {m.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}
                </ul>
            })}
            {move || if editing.get() {
                view! {
                    <form class="grid gap-3" aria-label="Edit message" on:submit=save>
                        {(channel == Channel::Email).then(|| view! { <crate::components::Field label="Subject" name="message-subject" value=subject error=err("subject") /> })}
                        <TextArea label="Text" name="message-text" value=text error=err("text") rows=10 help="This is the final text: merge tags are not filled in here." />
                        <div class="flex gap-2">
                            <button class="btn-primary" type="submit" disabled=move || saving.get()>{move || if saving.get() { "Saving…" } else { "Save" }}</button>
                            <button class="btn-ghost" type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </div>
                    </form>
                }.into_any()
            } else {
                message_view(channel, message.subject.clone(), message.text.clone(), message.html.clone())
            }}
            <p class="text-xs text-muted">
                {match &m.provenance { Some(p) => format!("Written by {}{}", p.label, p.persona_name.as_ref().map(|n| format!(" as {n}")).unwrap_or_default()), None => "Rendered from the step's template".into() }}
                {m.edited.then_some(" · edited by a person")}
            </p>
            {open.then(|| view! {
                <div class="flex flex-wrap gap-2">
                    {(m.status != MessageStatus::Approved).then(|| view! { <button class="btn-primary" disabled=!m.problems.is_empty() title=if m.problems.is_empty() { "" } else { "Fix the problems first (edit or regenerate)" } on:click=move |_| asked.set(Some((ReviewAction::Approve, mid)))>"Approve"</button> })}
                    {(m.status != MessageStatus::Rejected).then(|| view! { <button class="btn-secondary" on:click=move |_| asked.set(Some((ReviewAction::Reject, mid)))>"Reject"</button> })}
                    <button class="btn-ghost" on:click=move |_| editing.set(true)>"Edit"</button>
                    <button class="btn-ghost" on:click=move |_| asked.set(Some((ReviewAction::Regenerate, mid)))>"Regenerate"</button>
                </div>
            })}
        </div>
    }
}

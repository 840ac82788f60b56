//! The Audience tab: choose who joins, see how many can be reached and why others cannot, enroll,
//! and manage the enrolled leads.

use crate::api;
use crate::{
    components::*,
    icons,
    state::{use_api, use_toasts},
};
use aura_types::*;
use leptos::{prelude::*, task::spawn_local};

/// What a lead's row in the Audience tab can do.
#[derive(Clone, Copy)]
enum TargetAction {
    Remove,
    Set(TargetStatus),
}

/// Enrolled leads listed at once on the Audience tab.
const TARGETS_PAGE: u32 = 50;

#[component]
pub fn AudiencePanel(campaign: Campaign, on_changed: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let id = campaign.id;
    let open = campaign.status.is_open();
    let kind = RwSignal::new("all".to_owned());
    let tags = RwSignal::new(String::new());
    let segment = RwSignal::new(String::new());
    let skip_elsewhere = RwSignal::new(false);
    let check = RwSignal::new(None::<EnrollResult>);
    let busy = RwSignal::new(false);
    let segments =
        LocalResource::new(
            move || async move { api::segments::list(api).await.unwrap_or_default() },
        );
    let paging = Paging::new(TARGETS_PAGE);
    let targets = crate::live::use_live(
        move || {
            let at = paging.query();
            async move { api::campaigns::targets(api, id, &at).await }
        },
        None,
        |_| false,
    );
    let page_at = targets.page_at();
    // The table's frame depends on loading, failure or how many; its rows are keyed by what they
    // show, so pausing one lead re-renders that row only.
    let targets_state = Memo::new(move |_| {
        targets.with(|t| {
            t.as_ref()
                .map(|r| r.as_ref().map(|p| p.total).map_err(Clone::clone))
        })
    });
    let target_rows = Memo::new(move |_| {
        targets.with(|t| match t {
            Some(Ok(p)) => p.items.clone(),
            _ => Vec::new(),
        })
    });
    let request = move |dry_run: bool| {
        let filter = match kind.get_untracked().as_str() {
            "tags" => ContactFilter {
                tags_any: Some(tags.get_untracked()),
                ..Default::default()
            },
            "segment" => ContactFilter {
                segment_id: segment.get_untracked().parse().ok(),
                ..Default::default()
            },
            _ => ContactFilter::default(),
        };
        EnrollRequest {
            selection: Selection::Filter(Box::new(filter)),
            skip_active_elsewhere: skip_elsewhere.get_untracked(),
            dry_run,
        }
    };
    let run = move |dry_run: bool| {
        busy.set(true);
        let body = request(dry_run);
        spawn_local(async move {
            match api::campaigns::enroll(api, id, &body).await {
                Ok(r) if r.dry_run => {
                    check.try_set(Some(r));
                }
                Ok(r) => {
                    toasts.success(format!(
                        "{} lead{} enrolled.",
                        r.enrolled,
                        if r.enrolled == 1 { "" } else { "s" }
                    ));
                    check.try_set(None);
                    targets.refresh();
                    on_changed.run(());
                }
                Err(e) => toasts.error(
                    e.fields()
                        .values()
                        .next()
                        .cloned()
                        .unwrap_or_else(|| e.message()),
                ),
            }
            busy.try_set(false);
        });
    };
    let target_action = move |contact: ContactId, action: TargetAction| {
        spawn_local(async move {
            let r = match action {
                TargetAction::Remove => api::campaigns::remove_target(api, id, contact).await,
                TargetAction::Set(status) => {
                    api::campaigns::change_target(api, id, contact, &TargetChange { status })
                        .await
                        .map(|_| ())
                }
            };
            match r {
                Ok(()) => {
                    targets.refresh();
                    // Pausing or resuming a lead changes nothing about the campaign; reloading
                    // it would remount this tab under the person's next click.
                    if matches!(action, TargetAction::Remove) {
                        on_changed.run(());
                    }
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    let kinds: Vec<(String, String)> = [
        ("all", "All contacts"),
        ("tags", "Contacts with tags"),
        ("segment", "A segment"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    view! {
        <div class="grid gap-6 lg:grid-cols-[24rem_1fr]">
            <form class="card grid content-start gap-4 p-5" aria-label="Audience" on:submit=move |ev| { ev.prevent_default(); run(true); }>
                <h2 class="font-semibold">"Who joins"</h2>
                <SelectField label="Audience" name="audience" value=kind options=kinds />
                <Show when=move || kind.get() == "tags">
                    <Field label="Tags (any of, comma-separated)" name="audience-tags" value=tags error=Signal::derive(|| None) placeholder="buyer, open house" />
                </Show>
                <Show when=move || kind.get() == "segment">
                    {move || {
                        let mut options = vec![(String::new(), "Choose a segment".to_owned())];
                        options.extend(segments.get().unwrap_or_default().into_iter().map(|s| (s.id.to_string(), format!("{} ({})", s.name, s.member_count))));
                        view! { <SelectField label="Segment" name="audience-segment" value=segment options=options /> }
                    }}
                </Show>
                <label class="flex items-center gap-2 text-sm"><input type="checkbox" prop:checked=move || skip_elsewhere.get() on:change=move |ev| skip_elsewhere.set(event_target_checked(&ev)) />"Skip leads active in another campaign"</label>
                <button class="btn-secondary" type="submit" disabled=move || busy.get() || !open>"Check audience"</button>
                {move || check.get().map(|r| view! {
                    <div class="rounded-lg border border-line p-4 text-sm" data-testid="audience-check">
                        <p><strong>{r.enrolled}</strong>{format!(" of {} can be enrolled", r.matched)}</p>
                        {(!r.skipped.is_empty()).then(|| view! {
                            <ul class="mt-2 grid gap-1 text-xs text-muted">
                                {r.skipped.iter().map(|(reason, n)| view! { <li class="flex justify-between gap-2"><span>{reason.label()}</span><span>{*n}</span></li> }).collect_view()}
                            </ul>
                        })}
                        <button type="button" class="btn-primary mt-3 w-full" disabled=move || busy.get() || r.enrolled == 0 on:click=move |_| run(false)>{format!("Enroll {} lead{}", r.enrolled, if r.enrolled == 1 { "" } else { "s" })}</button>
                    </div>
                })}
            </form>
            <section class="card overflow-hidden" aria-label="Enrolled leads">
                    {move || match targets_state.get() {
                        None => view! { <LoadingCard rows=3 /> }.into_any(),
                        Some(Err(e)) => view! { <ErrorCard message=e /> }.into_any(),
                        Some(Ok(0)) => view! { <div class="p-6"><EmptyState icon=icons::USERS title="Nobody enrolled yet" body="Choose an audience and check it: you will see how many leads can be reached and why the others cannot." /></div> }.into_any(),
                        Some(Ok(total)) => view! {
                            <table class="w-full text-left text-sm">
                                <thead class="bg-slate-50 text-xs uppercase tracking-wide text-muted"><tr><th class="px-4 py-3">"Lead"</th><th class="px-4 py-3">"Status"</th><th class="px-4 py-3">"Steps sent"</th><th class="px-4 py-3">"Enrolled"</th><th></th></tr></thead>
                                <tbody class="divide-y divide-line" data-testid="targets">
                                    <For each=move || target_rows.get() key=|t| format!("{t:?}") let:t>
                                    {
                                        let contact = t.contact_id;
                                        let paused = t.status == TargetStatus::Paused;
                                        view! {
                                            <tr>
                                                <td class="px-4 py-3"><p class="font-medium">{t.full_name}</p><p class="text-xs text-muted">{t.email.or(t.phone).unwrap_or_default()}</p></td>
                                                <td class="px-4 py-3">{t.status.label()}</td>
                                                <td class="px-4 py-3">{t.current_step}</td>
                                                <td class="px-4 py-3 text-muted">{short_date(&t.enrolled_at)}</td>
                                                <td class="px-4 py-3 text-right">
                                                    {(t.status != TargetStatus::Completed).then(|| view! {
                                                        <button class="btn-ghost" on:click=move |_| target_action(contact, TargetAction::Set(if paused { TargetStatus::Active } else { TargetStatus::Paused }))>{if paused { "Resume" } else { "Pause" }}</button>
                                                    })}
                                                    <button class="btn-ghost text-red-600" on:click=move |_| target_action(contact, TargetAction::Remove)>"Remove"</button>
                                                </td>
                                            </tr>
                                        }
                                    }
                                    </For>
                                </tbody>
                            </table>
                            {(total > i64::from(TARGETS_PAGE) || paging.past_first()).then(|| view! { <Pager paging at=page_at testid="targets-pages" /> })}
                            <p class="border-t border-line px-4 py-3 text-sm text-muted" data-testid="targets-total">{format!("{total} enrolled")}</p>
                        }.into_any(),
                    }}
            </section>
        </div>
    }
}

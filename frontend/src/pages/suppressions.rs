//! Suppressions: addresses never to message again, added by hand or from a CSV file.

use crate::api;
use crate::{
    components::{
        chosen_file_form, on_result, short_date, EmptyState, ErrorCard, LoadingCard, PageAt,
        PageHeader, Pager, Paging, SelectField,
    },
    icons,
    state::{use_api, use_toasts},
};
use aura_types::{SuppressionInput, SuppressionKind, SuppressionReason};
use leptos::{prelude::*, task::spawn_local};

#[component]
pub fn SuppressionsPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let paging = Paging::new(50);
    let list = LocalResource::new(move || {
        let at = paging.query();
        async move { api::contacts::suppressions(api, &at).await }
    });
    let kind = RwSignal::new("email".to_owned());
    let value = RwSignal::new(String::new());
    let reason = RwSignal::new("manual".to_owned());
    let add = Action::new_local(move |input: &SuppressionInput| {
        let input = input.clone();
        async move { api::contacts::suppress(api, &input).await }
    });
    on_result(add, move |r| match r {
        Ok(s) => {
            toasts.success(format!(
                "{} is suppressed; matching contacts were stopped.",
                s.value
            ));
            value.set(String::new());
            list.refetch();
        }
        Err(e) => toasts.error(
            e.fields()
                .get("value")
                .cloned()
                .unwrap_or_else(|| e.message()),
        ),
    });
    let remove = Action::new_local(move |id: &aura_types::SuppressionId| {
        let id = *id;
        async move { api::contacts::unsuppress(api, id).await }
    });
    on_result(remove, move |r| match r {
        Ok(()) => list.refetch(),
        Err(e) => toasts.error(e.message()),
    });
    let on_file = move |ev: leptos::ev::Event| {
        let Some(form) = chosen_file_form(&ev) else {
            return;
        };
        spawn_local(async move {
            match api::contacts::import_suppressions(api, form).await {
                Ok(r) => {
                    toasts.success(format!(
                        "{} added, {} already there, {} invalid; {} contacts stopped.",
                        r.added,
                        r.existing,
                        r.invalid.len(),
                        r.contacts_updated
                    ));
                    list.refetch();
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    let kinds: Vec<(String, String)> = SuppressionKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), k.label().to_owned()))
        .collect();
    let reasons: Vec<(String, String)> = SuppressionReason::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), k.label().to_owned()))
        .collect();
    view! {
        <PageHeader title="Suppressions" subtitle="Addresses Aura will never message, whatever the campaign." crumbs=vec![("Contacts", "/contacts"), ("Suppressions", "/contacts/suppressions")]>
            <label class="btn-secondary cursor-pointer">"Import CSV"<input type="file" accept=".csv,text/csv,text/plain" class="sr-only" on:change=on_file /></label>
        </PageHeader>
        <form class="card mb-6 grid items-end gap-3 p-5 sm:grid-cols-[10rem_1fr_12rem_auto]" on:submit=move |ev| {
            ev.prevent_default();
            add.dispatch(SuppressionInput {
                kind: SuppressionKind::parse(&kind.get_untracked()).unwrap_or(SuppressionKind::Email),
                value: value.get_untracked(),
                reason: SuppressionReason::parse(&reason.get_untracked()).unwrap_or(SuppressionReason::Manual),
                source: Some("added by hand".into()),
            });
        }>
            <SelectField label="Kind" name="kind" value=kind options=kinds />
            <div>
                <label class="field-label" for="suppression-value">"Address"</label>
                <input id="suppression-value" class="field-input" placeholder="name@example.com, +44…, or example.com" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </div>
            <SelectField label="Reason" name="reason" value=reason options=reasons />
            <button class="btn-primary" type="submit" disabled=move || value.get().trim().is_empty()>"Suppress"</button>
        </form>
        <Transition fallback=|| view! { <LoadingCard rows=4 /> }>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                Ok(p) if p.items.is_empty() => view! { <EmptyState icon=icons::USERS title="Nobody is suppressed" body="Unsubscribes, bounces, complaints and STOP replies land here automatically once campaigns send. Add addresses by hand or import a list from your previous tool." /> }.into_any(),
                Ok(p) => {
                    let at = PageAt::of(&p);
                    view! {
                    <div class="card overflow-hidden">
                        <table class="w-full text-left text-sm">
                            <thead class="bg-slate-50 text-xs uppercase tracking-wide text-muted"><tr><th class="px-4 py-3">"Address"</th><th class="px-4 py-3">"Kind"</th><th class="px-4 py-3">"Reason"</th><th class="px-4 py-3">"Source"</th><th class="px-4 py-3">"Added"</th><th></th></tr></thead>
                            <tbody class="divide-y divide-line">
                                {p.items.into_iter().map(|s| {
                                    let id = s.id;
                                    view! {
                                        <tr class="hover:bg-slate-50">
                                            <td class="px-4 py-3 font-medium">{s.value}</td>
                                            <td class="px-4 py-3">{s.kind.label()}</td>
                                            <td class="px-4 py-3">{s.reason.label()}</td>
                                            <td class="px-4 py-3 text-muted">{s.source.unwrap_or_default()}</td>
                                            <td class="px-4 py-3 text-muted">{short_date(&s.created_at)}</td>
                                            <td class="px-4 py-3 text-right"><button class="btn-ghost" on:click=move |_| { remove.dispatch(id); }>"Lift"</button></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager paging at=Signal::stored(at) testid="suppressions-total" />
                    </div>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

//! Contacts: the table (search as you type, tag and status filters, pages, bulk actions), the
//! contact panel with notes, and the new-contact form.

use crate::api;
use crate::live::use_debounced;
use crate::{
    components::{
        badges, country_options, field_err, on_result, reset_when_opened, short_date,
        DialogButtons, EmptyState, ErrorCard, Field, FieldErrs, LoadingCard, Modal, PageAt,
        PageHeader, Pager, Paging, SelectField,
    },
    icons,
    state::{use_api, use_toasts},
};
use aura_types::{
    BulkAction, BulkRequest, ConsentStatus, Contact, ContactFilter, ContactId, ContactInput,
    ContactStatus, NoteInput, Selection,
};
use leptos::prelude::*;
use leptos_router::components::A;

fn consent_dot(label: &'static str, s: ConsentStatus) -> impl IntoView {
    let class = match s {
        ConsentStatus::Granted => "bg-emerald-500",
        ConsentStatus::Denied | ConsentStatus::Revoked => "bg-red-500",
        ConsentStatus::Unknown => "bg-slate-300",
    };
    view! {
        <span class="inline-flex items-center gap-1 text-[11px] text-muted" title=format!("{label} consent: {}", s.label())>
            <span class=format!("h-1.5 w-1.5 rounded-full {class}")></span>{label}
        </span>
    }
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    // The filters live in the address (`/contacts?q=…&tags_any=…&status=…&segment_id=…`), so a
    // filtered list survives a reload and can be shared (the segments page links to one).
    let url = leptos_router::hooks::use_query_map();
    let initial = |key: &str| url.with_untracked(|u| u.get(key)).unwrap_or_default();
    let q = RwSignal::new(initial("q"));
    // The search box asks once the person pauses typing.
    let q_settled = use_debounced(q, std::time::Duration::from_millis(250));
    let tag = RwSignal::new(initial("tags_any"));
    let status = RwSignal::new(initial("status"));
    let segment = RwSignal::new(initial("segment_id"));
    let paging = Paging::new(50);
    let selected = RwSignal::new(Vec::<ContactId>::new());
    let open_contact = RwSignal::new(None::<ContactId>);
    let new_open = RwSignal::new(false);
    let editing = RwSignal::new(None::<Contact>);
    let filter = Memo::new(move |_| ContactFilter {
        q: Some(q_settled.get()).filter(|s| !s.trim().is_empty()),
        tags_any: Some(tag.get()).filter(|s| !s.is_empty()),
        status: Some(status.get()).filter(|s| !s.is_empty()),
        segment_id: segment.get().parse().ok(),
        ..Default::default()
    });
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |prev: Option<()>| {
        let f = filter.get();
        if prev.is_some() {
            paging.reset();
            selected.set(Vec::new());
            navigate(
                &crate::api::Query::new().with(&f).path("/contacts"),
                leptos_router::NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    });
    let page = crate::live::use_live(
        move || {
            let (filter, at) = (filter.get(), paging.query());
            async move { api::contacts::list(api, &filter, &at).await }
        },
        None,
        |_| false,
    );
    // The table's frame depends on loading, failure, or whether there is anything at all (a
    // Memo); its rows are keyed by what they show, so a save re-renders the rows it changed.
    let frame = Memo::new(move |_| {
        page.with(|p| {
            p.as_ref()
                .map(|r| r.as_ref().map(|p| p.total == 0).map_err(Clone::clone))
        })
    });
    let rows = Memo::new(move |_| {
        page.with(|p| match p {
            Some(Ok(p)) => p.items.clone(),
            _ => Vec::new(),
        })
    });
    let page_at = page.page_at();
    let tags = LocalResource::new(move || async move { api::contacts::tags(api).await });
    let segments = LocalResource::new(move || async move { api::segments::list(api).await });
    let reload = Callback::new(move |_| {
        page.refresh();
        tags.refetch();
    });
    let bulk = Action::new_local(move |req: &BulkRequest| {
        let req = req.clone();
        async move { api::contacts::bulk(api, &req).await }
    });
    on_result(bulk, move |r| match r {
        Ok(r) => {
            toasts.success(format!(
                "{} of {} selected contacts changed.",
                r.changed, r.matched
            ));
            selected.set(Vec::new());
            reload.run(());
        }
        Err(e) => toasts.error(e.message()),
    });
    let bulk_tag = RwSignal::new(String::new());
    let list_id = RwSignal::new(String::new());
    // Adds the selected contacts to (or removes them from) a static segment.
    let membership = Action::new_local(move |(add, segment): &(bool, String)| {
        let (add, segment) = (*add, segment.clone());
        let req = aura_types::MembersRequest {
            selection: Selection::Ids(selected.get_untracked()),
        };
        async move {
            let segment = segment
                .parse()
                .map_err(|_| crate::api::ApiError::invalid("Choose a list."))?;
            api::segments::members(api, segment, &req, !add).await
        }
    });
    on_result(membership, move |r| match r {
        Ok(r) => {
            toasts.success(format!(
                "{} changed; the list now has {} contacts.",
                r.changed, r.member_count
            ));
            selected.set(Vec::new());
            segments.refetch();
        }
        Err(e) => toasts.error(e.message()),
    });
    let run_bulk = move |action: BulkAction| {
        bulk.dispatch(BulkRequest {
            selection: Selection::Ids(selected.get_untracked()),
            action,
        });
    };
    let status_options: Vec<(String, String)> =
        std::iter::once((String::new(), "Any status".to_owned()))
            .chain(
                ContactStatus::ALL
                    .iter()
                    .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
            )
            .collect();

    view! {
        <PageHeader title="Contacts" subtitle="Your leads, customers and partners." crumbs=vec![("Contacts", "/contacts")]>
            <A href="/contacts/suppressions" attr:class="btn-secondary">"Suppressions"</A>
            <A href="/contacts/import" attr:class="btn-secondary">"Import CSV"</A>
            <button class="btn-primary" on:click=move |_| { editing.set(None); new_open.set(true) }>
                <span inner_html=icons::PLUS></span>"New contact"
            </button>
        </PageHeader>
        <div class="card mb-4 flex flex-wrap items-end gap-3 p-4">
            <div class="min-w-64 flex-1">
                <label class="field-label" for="contact-search">"Search"</label>
                <input id="contact-search" type="search" class="field-input" placeholder="Name, email, phone or company"
                    prop:value=move || q.get() on:input=move |ev| q.set(event_target_value(&ev)) />
            </div>
            <div class="w-48"><SelectField label="Status" name="status-filter" value=status options=status_options /></div>
            <div class="w-56">
                <label class="field-label" for="segment-filter">"Segment"</label>
                <select id="segment-filter" class="field-input" on:change=move |ev| segment.set(event_target_value(&ev))>
                    <option value="">"All contacts"</option>
                    {move || segments.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|s| {
                        let id = s.id.to_string();
                        let chosen = id.clone();
                        view! { <option value=id selected=move || segment.get() == chosen>{format!("{} ({})", s.name, s.member_count)}</option> }
                    }).collect_view()}
                </select>
            </div>
        </div>
        <div class="mb-4 flex flex-wrap gap-2" aria-label="Tags">
            {move || tags.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|t| {
                let name = t.tag.clone();
                let active = { let name = name.clone(); Signal::derive(move || tag.get() == name) };
                let click = { let name = name.clone(); move |_| tag.update(|cur| *cur = if *cur == name { String::new() } else { name.clone() }) };
                view! {
                    <button class=move || if active.get() { "badge bg-accent-600 text-white ring-accent-600" } else { "badge bg-white text-slate-700 ring-line hover:bg-slate-50" }
                        aria-pressed=move || active.get().to_string() on:click=click>
                        {format!("{} · {}", t.tag, t.count)}
                    </button>
                }
            }).collect_view()}
        </div>
        <Show when=move || !selected.get().is_empty()>
            <div class="card mb-4 flex flex-wrap items-center gap-3 border-accent-200 bg-accent-50/50 px-4 py-3" role="region" aria-label="Bulk actions">
                <span class="text-sm font-medium">{move || format!("{} selected", selected.get().len())}</span>
                <input class="field-input w-40" placeholder="Tag" aria-label="Tag for selected" prop:value=move || bulk_tag.get() on:input=move |ev| bulk_tag.set(event_target_value(&ev)) />
                <button class="btn-secondary" on:click=move |_| run_bulk(BulkAction::AddTags { tags: vec![bulk_tag.get_untracked()] })>"Add tag"</button>
                <button class="btn-secondary" on:click=move |_| run_bulk(BulkAction::RemoveTags { tags: vec![bulk_tag.get_untracked()] })>"Remove tag"</button>
                <button class="btn-secondary" on:click=move |_| run_bulk(BulkAction::SetStatus { status: ContactStatus::DoNotContact })>"Do not contact"</button>
                <select class="field-input w-48" aria-label="Static segment" on:change=move |ev| list_id.set(event_target_value(&ev))>
                    <option value="">"Choose a list…"</option>
                    {move || segments.get().and_then(Result::ok).unwrap_or_default().into_iter().filter(|s| s.kind == aura_types::SegmentKind::Static).map(|s| {
                        view! { <option value=s.id.to_string()>{s.name}</option> }
                    }).collect_view()}
                </select>
                <button class="btn-secondary" disabled=move || list_id.get().is_empty() on:click=move |_| { membership.dispatch((true, list_id.get_untracked())); }>"Add to list"</button>
                <button class="btn-secondary" disabled=move || list_id.get().is_empty() on:click=move |_| { membership.dispatch((false, list_id.get_untracked())); }>"Remove from list"</button>
                <button class="btn-danger" on:click=move |_| run_bulk(BulkAction::Delete)>"Delete"</button>
            </div>
        </Show>
        {move || match frame.get() {
                None => view! { <LoadingCard rows=6 /> }.into_any(),
                Some(Err(e)) => view! { <ErrorCard message=e retry=reload /> }.into_any(),
                Some(Ok(true)) if filter.get().is_empty() => view! {
                    <EmptyState icon=icons::USERS title="No contacts yet" body="Import a CSV from your CRM or spreadsheet, or add a contact by hand. Aura reads commas, semicolons and tabs, and proposes the column mapping for you.">
                        <A href="/contacts/import" attr:class="btn-primary">"Import CSV"</A>
                        <button class="btn-secondary" on:click=move |_| { editing.set(None); new_open.set(true) }>"New contact"</button>
                    </EmptyState>
                }.into_any(),
                Some(Ok(_)) => view! { <ContactTable rows=rows at=page_at selected=selected open=open_contact paging=paging /> }.into_any(),
        }}
        <ContactPanel id=open_contact on_changed=reload on_edit=Callback::new(move |c: Contact| { editing.set(Some(c)); new_open.set(true); }) />
        <ContactDialog open=new_open editing=editing on_saved=Callback::new(move |_| { reload.run(()); let current = open_contact.get_untracked(); open_contact.set(None); open_contact.set(current); }) />
    }
}

#[component]
fn ContactTable(
    rows: Memo<Vec<Contact>>,
    at: Memo<PageAt>,
    selected: RwSignal<Vec<ContactId>>,
    open: RwSignal<Option<ContactId>>,
    paging: Paging,
) -> impl IntoView {
    let ids = move || rows.with(|r| r.iter().map(|c| c.id).collect::<Vec<ContactId>>());
    view! {
        <div class="card overflow-hidden">
            <div class="max-h-[70vh] overflow-auto">
            <table class="w-full text-left text-sm">
                <thead class="sticky top-0 z-10 bg-slate-50 text-xs uppercase tracking-wide text-muted">
                    <tr>
                        <th class="w-10 px-4 py-3"><input type="checkbox" aria-label="Select all on this page"
                            prop:checked=move || { let all = ids(); !all.is_empty() && selected.with(|s| all.iter().all(|i| s.contains(i))) }
                            on:change=move |ev| { if event_target_checked(&ev) { selected.set(ids()) } else { selected.set(Vec::new()) } } /></th>
                        <th class="px-4 py-3">"Name"</th>
                        <th class="px-4 py-3">"Phone"</th>
                        <th class="px-4 py-3">"Company"</th>
                        <th class="px-4 py-3">"Tags"</th>
                        <th class="px-4 py-3">"Status"</th>
                        <th class="px-4 py-3">"Added"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-line">
                    <For each=move || rows.get() key=|c| format!("{c:?}") let:c>
                    {
                        let id = c.id;
                        view! {
                            <tr class="cursor-pointer transition hover:bg-slate-50" on:click=move |_| open.set(Some(id))>
                                <td class="px-4 py-3" on:click=|ev| ev.stop_propagation()>
                                    <input type="checkbox" aria-label=format!("Select {}", c.full_name)
                                        prop:checked=move || selected.with(|s| s.contains(&id))
                                        on:change=move |ev| { let on = event_target_checked(&ev); selected.update(|s| { s.retain(|x| *x != id); if on { s.push(id) } }) } />
                                </td>
                                <td class="px-4 py-3">
                                    <div class="font-medium text-ink">{c.full_name.clone()}</div>
                                    <div class="text-xs text-muted">{c.email.clone().unwrap_or_default()}</div>
                                </td>
                                <td class="px-4 py-3 tabular-nums text-muted">{c.phone.clone().unwrap_or_default()}</td>
                                <td class="px-4 py-3">{c.company.clone().unwrap_or_default()}</td>
                                <td class="px-4 py-3"><div class="flex flex-wrap gap-1">{c.tags.iter().map(|t| view! { <span class="badge bg-slate-50 text-slate-700 ring-line">{t.clone()}</span> }).collect_view()}</div></td>
                                <td class="px-4 py-3">
                                    <div class="flex flex-col gap-1">
                                        {badges::contact_status(c.status)}
                                        <div class="flex gap-2">{consent_dot("Email", c.consent.email.status)}{consent_dot("SMS", c.consent.sms.status)}{consent_dot("WA", c.consent.whatsapp.status)}</div>
                                    </div>
                                </td>
                                <td class="px-4 py-3 text-muted">{short_date(&c.created_at)}</td>
                            </tr>
                        }
                    }
                    </For>
                </tbody>
            </table>
            </div>
            <Pager paging at=at testid="contacts-total" />
        </div>
    }
}

/// Creates a contact, or edits `editing` when it is set.
#[component]
fn ContactDialog(
    open: RwSignal<bool>,
    editing: RwSignal<Option<Contact>>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let first = RwSignal::new(String::new());
    let last = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let company = RwSignal::new(String::new());
    let country = RwSignal::new(String::new());
    let tags = RwSignal::new(String::new());
    let errs: FieldErrs = RwSignal::new(Default::default());
    reset_when_opened(open, move || {
        let c = editing.get_untracked();
        let get = |f: fn(&Contact) -> Option<String>| c.as_ref().and_then(f).unwrap_or_default();
        first.set(get(|c| c.first_name.clone()));
        last.set(get(|c| c.last_name.clone()));
        email.set(get(|c| c.email.clone()));
        phone.set(get(|c| c.phone.clone()));
        company.set(get(|c| c.company.clone()));
        country.set(get(|c| c.country.clone()));
        tags.set(c.as_ref().map(|c| c.tags.join(", ")).unwrap_or_default());
        errs.set(Default::default());
    });
    let save = Action::new_local(move |(id, input): &(Option<ContactId>, ContactInput)| {
        let (id, input) = (*id, input.clone());
        async move {
            match id {
                Some(id) => api::contacts::update(api, id, &input).await,
                None => api::contacts::create(api, &input).await,
            }
        }
    });
    on_result(save, move |r| match r {
        Ok(c) => {
            toasts.success(format!("{} saved.", c.full_name));
            open.set(false);
            on_saved.run(());
        }
        Err(e) => {
            errs.set(e.fields());
            toasts.error(e.message());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = editing.get_untracked().map(|c| c.id);
        // New contacts send what is filled in; edits send every field (empty clears it).
        let opt = move |s: RwSignal<String>| {
            Some(s.get_untracked()).filter(|v| id.is_some() || !v.trim().is_empty())
        };
        save.dispatch((
            id,
            ContactInput {
                first_name: opt(first),
                last_name: opt(last),
                email: opt(email),
                phone: opt(phone),
                company: opt(company),
                country: opt(country),
                tags: opt(tags).map(|t| {
                    aura_types::split_list(&t)
                        .into_iter()
                        .map(str::to_owned)
                        .collect()
                }),
                ..Default::default()
            },
        ));
    };
    view! {
        <Modal open=open title=if editing.get_untracked().is_some() { "Edit contact" } else { "New contact" }>
            <form class="space-y-4" on:submit=submit novalidate>
                <div class="grid gap-4 sm:grid-cols-2">
                    <Field label="First name" name="first_name" value=first error=field_err(errs, "first_name") autofocus=true />
                    <Field label="Last name" name="last_name" value=last error=field_err(errs, "last_name") />
                </div>
                <Field label="Email" name="email" kind="email" value=email error=field_err(errs, "email") />
                <Field label="Phone" name="phone" kind="tel" value=phone error=field_err(errs, "phone") help="Any format; numbers without a country code use your organization's country." />
                <div class="grid gap-4 sm:grid-cols-2">
                    <Field label="Company" name="company" value=company error=field_err(errs, "company") />
                    <SelectField label="Country" name="country" value=country options=country_options() error=field_err(errs, "country") />
                </div>
                <Field label="Tags" name="tags" value=tags error=field_err(errs, "tags") help="Comma-separated, e.g. buyer, open house" />
                <DialogButtons open=open pending=save.pending().into() label="Save contact" busy="Saving…" />
            </form>
        </Modal>
    }
}

#[component]
fn ContactPanel(
    id: RwSignal<Option<ContactId>>,
    on_changed: Callback<()>,
    on_edit: Callback<Contact>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let detail = LocalResource::new(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => api::contacts::get(api, id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let note = RwSignal::new(String::new());
    let add_note = Action::new_local(move |(cid, body): &(ContactId, String)| {
        let (cid, body) = (*cid, body.clone());
        async move { api::contacts::add_note(api, cid, &NoteInput { body }).await }
    });
    on_result(add_note, move |r| match r {
        Ok(_) => {
            note.set(String::new());
            detail.refetch();
        }
        Err(e) => toasts.error(e.message()),
    });
    let remove = Action::new_local(move |cid: &ContactId| {
        let cid = *cid;
        async move { api::contacts::delete(api, cid).await }
    });
    on_result(remove, move |r| match r {
        Ok(()) => {
            toasts.success("Contact deleted and its personal data erased.");
            id.set(None);
            on_changed.run(());
        }
        Err(e) => toasts.error(e.message()),
    });
    view! {
        <Show when=move || id.get().is_some()>
            <div class="fixed inset-0 z-30 bg-slate-900/20" on:click=move |_| id.set(None)></div>
            <aside class="fixed inset-y-0 right-0 z-30 w-full max-w-md overflow-y-auto bg-white p-6 shadow-2xl" role="dialog" aria-label="Contact">
                <button class="absolute right-4 top-4 text-muted hover:text-ink" aria-label="Close" on:click=move |_| id.set(None) inner_html=icons::X></button>
                <Transition fallback=|| view! { <LoadingCard rows=5 /> }>
                    {move || detail.get().map(|r| match r {
                        Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                        Ok(None) => ().into_any(),
                        Ok(Some(d)) => {
                            let c = d.contact.clone();
                            let cid = c.id;
                            let rows: Vec<(&str, Option<String>)> = vec![
                                ("Email", c.email.clone()), ("Phone", c.phone.clone()), ("WhatsApp", c.whatsapp.clone()),
                                ("Company", c.company.clone()), ("Job title", c.job_title.clone()), ("Website", c.website.clone()),
                                ("City", c.city.clone()), ("Country", c.country.clone()), ("Time zone", c.timezone.clone()),
                                ("Source", c.source.clone()), ("Type", Some(c.contact_type.label().to_owned())),
                                ("Owner", c.owner_name.clone()), ("Intent score", c.ai_intent_score.map(|s| s.to_string())),
                                ("Next action", c.ai_next_action.clone()),
                            ];
                            view! {
                                <div class="flex items-start justify-between gap-3 pr-8">
                                    <h2 class="text-lg font-semibold">{c.full_name.clone()}</h2>
                                    <button class="btn-secondary" on:click={ let c = c.clone(); move |_| on_edit.run(c.clone()) }>"Edit"</button>
                                </div>
                                <div class="mt-2 flex flex-wrap items-center gap-2">{badges::contact_status(c.status)}{c.tags.iter().map(|t| view! { <span class="badge bg-slate-50 text-slate-700 ring-line">{t.clone()}</span> }).collect_view()}</div>
                                <dl class="mt-6 grid grid-cols-[8rem_1fr] gap-x-4 gap-y-2 text-sm">
                                    {rows.into_iter().filter_map(|(k, v)| v.map(|v| view! { <dt class="text-muted">{k}</dt><dd class="break-words">{v}</dd> })).collect_view()}
                                    {c.custom.iter().map(|(k, v)| view! { <dt class="text-muted">{k.clone()}</dt><dd>{v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())}</dd> }).collect_view()}
                                </dl>
                                <h3 class="mt-6 text-sm font-semibold">"Consent"</h3>
                                <div class="mt-2 flex gap-4">{consent_dot("Email", c.consent.email.status)}{consent_dot("SMS", c.consent.sms.status)}{consent_dot("WhatsApp", c.consent.whatsapp.status)}</div>
                                <h3 class="mt-6 text-sm font-semibold">"Notes"</h3>
                                <form class="mt-2 flex gap-2" on:submit=move |ev| { ev.prevent_default(); add_note.dispatch((cid, note.get_untracked())); }>
                                    <input class="field-input flex-1" placeholder="Add a note" aria-label="Note" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev)) />
                                    <button class="btn-secondary" type="submit" disabled=move || note.get().trim().is_empty()>"Add"</button>
                                </form>
                                <ul class="mt-3 space-y-3">
                                    {d.notes.into_iter().map(|n| view! {
                                        <li class="rounded-lg bg-slate-50 p-3 text-sm">
                                            <p class="whitespace-pre-wrap">{n.body}</p>
                                            <p class="mt-1 text-xs text-muted">{format!("{} · {}", n.author_name.unwrap_or_else(|| "API".into()), short_date(&n.created_at))}</p>
                                        </li>
                                    }).collect_view()}
                                </ul>
                                <ContactTimeline id=cid />
                                <button class="btn-danger mt-6" on:click=move |_| { remove.dispatch(cid); }>"Delete contact"</button>
                            }.into_any()
                        }
                    })}
                </Transition>
            </aside>
        </Show>
    }
}

/// What the contact was sent and answered, on every channel: the inbox's thread of each of their
/// conversations.
#[component]
fn ContactTimeline(id: ContactId) -> impl IntoView {
    let api = use_api();
    let threads = LocalResource::new(move || async move { api::inbox::of_contact(api, id).await });
    view! {
        <h3 class="mt-6 text-sm font-semibold">"Conversations"</h3>
        <Transition fallback=|| view! { <LoadingCard rows=2 /> }>
            {move || threads.get().map(|r| match r {
                Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <p class="mt-2 text-xs text-muted">"No conversation yet: what campaigns send and what the contact answers appears here once they answer."</p>
                }.into_any(),
                Ok(list) => list.into_iter().map(|d| view! {
                    <div class="mt-2 overflow-hidden rounded-lg border border-line" data-testid="contact-timeline">
                        <a class="block px-3 py-2 text-xs font-medium text-accent-700 hover:underline" href=format!("/inbox?c={}", d.conversation.id)>
                            {format!("{} · open in the Inbox", d.conversation.channel.label())}
                        </a>
                        <crate::pages::inbox::Timeline items=d.items />
                    </div>
                }).collect_view().into_any(),
            })}
        </Transition>
    }
}

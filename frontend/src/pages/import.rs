//! The import wizard: upload → mapping → preview → options → run with a live progress bar →
//! the per-row report with a CSV download.

use crate::api;
use crate::live::use_live;
use crate::{
    components::{chosen_file_form, PageHeader, SelectField},
    state::{use_api, use_toasts},
};
use aura_types::{
    ColumnMapping, DuplicateStrategy, Import, ImportOptions, ImportPreview, ImportStatus,
    MappingRequest, PageQuery, ReportRow, StartImportRequest, IMPORT_TARGETS, PAGE_MAX,
};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;

fn finished(i: &Import) -> bool {
    matches!(i.status, ImportStatus::Completed | ImportStatus::Failed)
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let import = RwSignal::new(None::<Import>);
    let mapping = RwSignal::new(Vec::<ColumnMapping>::new());
    let preview = RwSignal::new(None::<ImportPreview>);
    let strategy = RwSignal::new("skip".to_owned());
    let tags = RwSignal::new(String::new());
    let uploading = RwSignal::new(false);
    let upload_error = RwSignal::new(None::<String>);
    // The first rows of each kind that needs a look (the CSV download holds them all), and how
    // many there are.
    let report = RwSignal::new(None::<(Vec<ReportRow>, i64)>);
    let download = RwSignal::new(None::<String>);

    let on_file = move |ev: leptos::ev::Event| {
        let Some(form) = chosen_file_form(&ev) else {
            return;
        };
        uploading.set(true);
        upload_error.set(None);
        spawn_local(async move {
            match api::contacts::upload_import(api, form).await {
                Ok(i) => {
                    mapping.set(i.mapping.clone());
                    import.set(Some(i));
                }
                Err(e) => upload_error.set(Some(
                    e.fields()
                        .get("file")
                        .cloned()
                        .unwrap_or_else(|| e.message()),
                )),
            }
            uploading.set(false);
        });
    };
    let load_preview = move || {
        let Some(i) = import.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match api::contacts::preview_import(
                api,
                i.id,
                &MappingRequest {
                    mapping: mapping.get_untracked(),
                },
            )
            .await
            {
                Ok(p) => preview.set(Some(p)),
                Err(e) => toasts.error(
                    e.fields()
                        .into_values()
                        .next()
                        .unwrap_or_else(|| e.message()),
                ),
            }
        });
    };
    // The import running, followed until it is done; then the rows that need attention.
    let running = RwSignal::new(None::<aura_types::ImportId>);
    let progress = use_live(
        move || {
            let id = running.get_untracked();
            async move {
                match id {
                    Some(id) => api::contacts::get_import(api, id).await.map(Some),
                    None => Ok(None),
                }
            }
        },
        Some(std::time::Duration::from_millis(400)),
        |i: &Option<Import>| i.as_ref().is_some_and(|i| !finished(i)),
    );
    let load_report = move |id: aura_types::ImportId| {
        spawn_local(async move {
            // Invalid rows first, then skipped ones.
            let mut rows = Vec::new();
            let mut total = 0;
            for outcome in ["invalid", "skipped"] {
                let first = PageQuery::first(PAGE_MAX);
                if let Ok(r) = api::contacts::import_report(api, id, outcome, &first).await {
                    total += r.total;
                    rows.extend(r.items);
                }
            }
            report.try_set(Some((rows, total)));
            if let Ok(csv) = api::contacts::import_report_csv(api, id).await {
                download.try_set(Some(format!(
                    "data:text/csv;charset=utf-8,{}",
                    crate::api::encode(&csv)
                )));
            }
        });
    };
    Effect::new(move |_| match progress.get() {
        Some(Ok(Some(i))) => {
            let (id, done) = (i.id, finished(&i));
            import.set(Some(i));
            if done {
                running.set(None);
                load_report(id);
            }
        }
        Some(Err(e)) => {
            toasts.error(e);
            running.set(None);
        }
        _ => {}
    });
    let start = move |_| {
        let Some(i) = import.get_untracked() else {
            return;
        };
        let req = StartImportRequest {
            mapping: mapping.get_untracked(),
            options: ImportOptions {
                duplicate_strategy: DuplicateStrategy::parse(&strategy.get_untracked())
                    .unwrap_or_default(),
                tags: aura_types::split_list(&tags.get_untracked())
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                ..Default::default()
            },
        };
        spawn_local(async move {
            match api::contacts::start_import(api, i.id, &req).await {
                Ok(started) => {
                    running.try_set(Some(started.id));
                    import.try_set(Some(started));
                    progress.refresh();
                }
                Err(e) => toasts.error(
                    e.fields()
                        .into_values()
                        .next()
                        .unwrap_or_else(|| e.message()),
                ),
            }
        });
    };
    let targets = move |header: &str| -> Vec<(String, String)> {
        let custom = format!(
            "custom.{}",
            header
                .to_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join("_")
        );
        std::iter::once((String::new(), "Don't import".to_owned()))
            .chain(
                IMPORT_TARGETS
                    .iter()
                    .map(|(k, l)| ((*k).to_owned(), (*l).to_owned())),
            )
            .chain(std::iter::once((
                custom.clone(),
                format!("Custom field “{custom}”"),
            )))
            .collect()
    };
    let strategies: Vec<(String, String)> = DuplicateStrategy::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
        .collect();

    view! {
        <PageHeader title="Import contacts" subtitle="From a CSV file: map the columns, check a preview, then import." crumbs=vec![("Contacts", "/contacts"), ("Import", "/contacts/import")] />
        {move || match import.get() {
            None => view! {
                <div class="card p-8">
                    <label for="import-file" class="flex cursor-pointer flex-col items-center rounded-xl border-2 border-dashed border-line px-6 py-12 text-center hover:border-accent-400">
                        <span class="text-sm font-semibold">{move || if uploading.get() { "Reading the file…" } else { "Choose a CSV file" }}</span>
                        <span class="mt-1 text-xs text-muted">"Comma, semicolon or tab separated; UTF-8 or Latin-1; up to 50 MB. It needs an email or a phone column."</span>
                        <input id="import-file" type="file" accept=".csv,text/csv,text/plain" class="sr-only" on:change=on_file />
                    </label>
                    {move || upload_error.get().map(|e| view! { <p class="field-error mt-3" role="alert">{e}</p> })}
                </div>
            }.into_any(),
            Some(i) if i.status == ImportStatus::Uploaded => view! {
                <div class="space-y-6">
                    <section class="card p-6">
                        <h2 class="text-sm font-semibold">{format!("1. Map the columns of {} ({} rows, {} separated, {})", i.filename, i.total_rows, i.delimiter, i.encoding)}</h2>
                        <div class="mt-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
                            {i.mapping.iter().enumerate().map(|(n, m)| {
                                let value = RwSignal::new(m.target.clone().unwrap_or_default());
                                Effect::new(move |_| {
                                    let v = value.get();
                                    mapping.update(|all| if let Some(slot) = all.get_mut(n) { slot.target = Some(v).filter(|t| !t.is_empty()) });
                                });
                                view! { <SelectField label=m.header.clone() name=format!("map-{n}") value=value options=targets(&m.header) /> }
                            }).collect_view()}
                        </div>
                        <button class="btn-secondary mt-4" on:click=move |_| load_preview()>"Preview"</button>
                    </section>
                    {move || preview.get().map(|p| view! {
                        <section class="card overflow-auto p-6">
                            <h2 class="text-sm font-semibold">"2. Preview (first 20 rows)"</h2>
                            <table class="mt-3 w-full text-left text-xs">
                                <thead class="text-muted"><tr><th class="py-2 pr-3">"Row"</th><th class="py-2 pr-3">"Values"</th><th class="py-2">"Problems"</th></tr></thead>
                                <tbody class="divide-y divide-line">
                                    {p.rows.into_iter().map(|r| {
                                        let bad = !r.problems.is_empty();
                                        view! {
                                            <tr class=if bad { "bg-red-50/60" } else { "" }>
                                                <td class="py-2 pr-3 tabular-nums">{r.row_number}</td>
                                                <td class="py-2 pr-3">{r.values.iter().map(|m| format!("{}: {}", m.target, m.value)).collect::<Vec<_>>().join(" · ")}</td>
                                                <td class="py-2 text-red-700">{r.problems.join("; ")}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    })}
                    <section class="card grid gap-4 p-6 sm:grid-cols-2">
                        <h2 class="text-sm font-semibold sm:col-span-2">"3. Options"</h2>
                        <SelectField label="When a contact already exists" name="duplicate_strategy" value=strategy options=strategies.clone() />
                        <div>
                            <label class="field-label" for="import-tags">"Tags for every imported contact"</label>
                            <input id="import-tags" class="field-input" placeholder="e.g. open house, spring 2026" prop:value=move || tags.get() on:input=move |ev| tags.set(event_target_value(&ev)) />
                        </div>
                        <div class="flex justify-end sm:col-span-2"><button class="btn-primary" on:click=start>"Import contacts"</button></div>
                    </section>
                </div>
            }.into_any(),
            Some(i) => {
                let p = i.progress.clone();
                let pct = if i.total_rows > 0 { p.read * 100 / i.total_rows } else { 100 };
                view! {
                    <section class="card p-6">
                        <div class="flex items-center justify-between text-sm">
                            <span class="font-semibold">{i.status.label()}</span>
                            <span class="tabular-nums text-muted">{format!("{} of {} rows", p.read, i.total_rows)}</span>
                        </div>
                        <div class="mt-3 h-2 overflow-hidden rounded-full bg-slate-100" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct.to_string()>
                            <div class="h-full rounded-full bg-accent-600 transition-all" style=format!("width: {pct}%")></div>
                        </div>
                        <dl class="mt-4 grid grid-cols-4 gap-4 text-center text-sm" data-testid="import-counts">
                            <div><dt class="text-muted">"Created"</dt><dd class="text-lg font-semibold">{p.created}</dd></div>
                            <div><dt class="text-muted">"Updated"</dt><dd class="text-lg font-semibold">{p.updated}</dd></div>
                            <div><dt class="text-muted">"Skipped"</dt><dd class="text-lg font-semibold">{p.skipped}</dd></div>
                            <div><dt class="text-muted">"Invalid"</dt><dd class="text-lg font-semibold">{p.invalid}</dd></div>
                        </dl>
                        {i.error.map(|e| view! { <p class="field-error mt-3">{e}</p> })}
                    </section>
                    {move || report.get().map(|(rows, total)| view! {
                        <section class="card mt-6 p-6">
                            <div class="flex items-center justify-between">
                                <div>
                                    <h2 class="text-sm font-semibold">"Report"</h2>
                                    <p class="text-xs text-muted">{format!("{total} rows need attention; the CSV lists every row.")}</p>
                                </div>
                                <div class="flex gap-2">
                                    {move || download.get().map(|href| view! { <a class="btn-secondary" href=href download="import-report.csv">"Download CSV"</a> })}
                                    <A href="/contacts" attr:class="btn-primary">"View contacts"</A>
                                </div>
                            </div>
                            <table class="mt-3 w-full text-left text-xs">
                                <thead class="text-muted"><tr><th class="py-2 pr-3">"Row"</th><th class="py-2 pr-3">"Outcome"</th><th class="py-2">"Reason"</th></tr></thead>
                                <tbody class="divide-y divide-line">
                                    {rows.into_iter().filter(|row| row.reason.is_some()).map(|row| view! {
                                        <tr><td class="py-2 pr-3 tabular-nums">{row.row_number}</td><td class="py-2 pr-3">{row.outcome.label()}</td><td class="py-2">{row.reason.unwrap_or_default()}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    })}
                }.into_any()
            }
        }}
    }
}

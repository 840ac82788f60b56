//! The templates library: Aura's system templates and the organization's own, filtered by
//! industry and channel; start a campaign from one.

use crate::api;
use crate::{
    components::{on_result, EmptyState, ErrorCard, LoadingCard, PageHeader, SelectField},
    icons,
    pages::campaigns::wait_label,
    state::{use_api, use_toasts},
};
use aura_types::{Channel, TemplateId};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let list = LocalResource::new(move || async move { api::campaigns::templates(api).await });
    let industry = RwSignal::new(String::new());
    let channel = RwSignal::new(String::new());
    let use_it = Action::new_local(move |id: &TemplateId| {
        let id = *id;
        async move { api::campaigns::use_template(api, id).await }
    });
    on_result(use_it, move |r| match r {
        Ok(d) => {
            toasts.success(format!("Created {} from the template.", d.campaign.name));
            navigate(&format!("/campaigns/{}", d.campaign.id), Default::default());
        }
        Err(e) => toasts.error(e.message()),
    });
    let remove = Action::new_local(move |id: &TemplateId| {
        let id = *id;
        async move { api::campaigns::delete_template(api, id).await }
    });
    on_result(remove, move |r| match r {
        Ok(()) => list.refetch(),
        Err(e) => toasts.error(e.message()),
    });
    let channels: Vec<(String, String)> =
        std::iter::once((String::new(), "Any channel".to_owned()))
            .chain(
                Channel::ALL
                    .iter()
                    .map(|c| (c.as_str().to_owned(), c.label().to_owned())),
            )
            .collect();
    view! {
        <PageHeader title="Templates" subtitle="Proven sequences to start from. Use one, then make it yours in the builder." />
        <Transition fallback=|| view! { <LoadingCard rows=4 /> }>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                Ok(all) if all.is_empty() => view! { <EmptyState icon=icons::TEMPLATE title="No templates yet" body="Save a campaign as a template from the campaign builder." /> }.into_any(),
                Ok(all) => {
                    let mut industries: Vec<String> = all.iter().map(|t| t.industry.clone()).filter(|i| !i.is_empty()).collect();
                    industries.sort();
                    industries.dedup();
                    let industry_options: Vec<(String, String)> = std::iter::once((String::new(), "All industries".to_owned())).chain(industries.into_iter().map(|i| (i.clone(), i))).collect();
                    let channels = channels.clone();
                    view! {
                        <div class="mb-5 grid max-w-xl gap-4 sm:grid-cols-2">
                            <SelectField label="Industry" name="template-industry" value=industry options=industry_options />
                            <SelectField label="Channel" name="template-channel" value=channel options=channels />
                        </div>
                        <ul class="grid gap-4 md:grid-cols-2 xl:grid-cols-3" aria-label="Templates">
                            {move || {
                                let (ind, ch) = (industry.get(), channel.get());
                                all.iter()
                                    .filter(|t| ind.is_empty() || t.industry == ind)
                                    .filter(|t| ch.is_empty() || t.channels.iter().any(|c| c.as_str() == ch))

                                    .map(|t| {
                                        let id = t.id;
                                        view! {
                                            <li class="card flex flex-col p-5" data-testid="template">
                                                <div class="flex items-start justify-between gap-2">
                                                    <h2 class="font-semibold">{t.name.clone()}</h2>
                                                    <span class=if t.system { "rounded-full bg-slate-100 px-2 py-0.5 text-[11px] text-slate-600" } else { "rounded-full bg-accent-50 px-2 py-0.5 text-[11px] text-accent-700" }>{if t.system { "Aura" } else { "Yours" }}</span>
                                                </div>
                                                <p class="mt-1 text-xs text-muted">{[t.industry.clone(), t.use_case.clone()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")}</p>
                                                <p class="mt-2 text-sm text-muted">{t.description.clone()}</p>
                                                <ol class="mt-3 grid gap-1 text-xs">
                                                    {t.steps.iter().enumerate().map(|(i, s)| {
                                                        let when = if i == 0 { "Start".to_string() } else { format!("+{}", wait_label(s.delay_minutes)) };
                                                        let first: String = if s.subject.is_empty() { s.body.chars().take(48).collect() } else { s.subject.chars().take(48).collect() };
                                                        view! { <li class="flex min-w-0 gap-2"><span class="w-16 shrink-0 text-muted">{when}</span><span class="shrink-0 font-medium">{s.channel.label()}</span><span class="min-w-0 truncate text-muted">{first}</span></li> }
                                                    }).collect_view()}
                                                </ol>
                                                <div class="mt-auto flex items-center gap-2 pt-4">
                                                    <button class="btn-primary" disabled=move || use_it.pending().get() on:click=move |_| { use_it.dispatch(id); }>"Use template"</button>
                                                    {(!t.system).then(|| view! { <button class="btn-ghost text-red-600" on:click=move |_| { remove.dispatch(id); }>"Delete"</button> })}
                                                    <span class="ml-auto text-xs text-muted">{format!("Used {} time{}", t.usage_count, if t.usage_count == 1 { "" } else { "s" })}</span>
                                                </div>
                                            </li>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </ul>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

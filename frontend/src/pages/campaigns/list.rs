//! The campaigns list: every campaign with its counters, new, duplicate and archive.

use super::steps::channel_icon;
use crate::api;
use crate::{
    components::*,
    icons,
    state::{use_api, use_toasts},
};
use aura_types::*;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};
use std::collections::BTreeMap;

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let list = LocalResource::new(move || async move { api::campaigns::list(api).await });
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let create = Action::new_local(move |input: &CampaignInput| {
        let input = input.clone();
        async move { api::campaigns::create(api, &input).await }
    });
    on_result(create, move |r| match r {
        Ok(d) => {
            open.set(false);
            navigate(&format!("/campaigns/{}", d.campaign.id), Default::default());
        }
        Err(e) => show_error(errs, &e),
    });
    let duplicate = Action::new_local(move |id: &CampaignId| {
        let id = *id;
        async move { api::campaigns::duplicate(api, id).await }
    });
    on_result(duplicate, move |r| match r {
        Ok(d) => {
            toasts.success(format!("Created {}.", d.campaign.name));
            list.refetch();
        }
        Err(e) => toasts.error(e.message()),
    });
    let new_campaign = move |_| {
        name.set(String::new());
        errs.set(BTreeMap::new());
        open.set(true);
    };
    view! {
        <PageHeader title="Campaigns" subtitle="Multi-step sequences over email, WhatsApp and SMS.">
            <button class="btn-primary" on:click=new_campaign><span inner_html=icons::PLUS></span>"New campaign"</button>
        </PageHeader>
        <Modal open=open title="New campaign">
            <form class="grid gap-4" on:submit=move |ev| { ev.prevent_default(); create.dispatch(CampaignInput { name: Some(name.get_untracked()), ..Default::default() }); }>
                <Field label="Campaign name" name="campaign-name" value=name error=field_err(errs, "name") placeholder="Spring sellers" autofocus=true />
                <DialogButtons open=open pending=create.pending().into() label="Create campaign" busy="Creating…" />
            </form>
        </Modal>
        <Transition fallback=|| view! { <LoadingCard rows=3 /> }>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                Ok(l) if l.is_empty() => view! { <EmptyState icon=icons::MEGAPHONE title="No campaigns yet" body="Create a campaign, add email, WhatsApp and SMS steps with the waits between them, and let your personas write them." /> }.into_any(),
                Ok(l) => view! {
                    <ul class="grid gap-3" aria-label="Campaigns">
                        {l.into_iter().map(|c| {
                            let id = c.id;
                            view! {
                                <li class="card flex flex-wrap items-center gap-4 p-4">
                                    <div class="min-w-0 flex-1">
                                        <A href=format!("/campaigns/{id}") attr:class="font-semibold hover:text-accent-700">{c.name.clone()}</A>
                                        <p class="mt-1 flex items-center gap-2 text-xs text-muted">
                                            {badges::campaign_status(c.status)}
                                            <span>{format!("{} step{}", c.channels.len(), if c.channels.len() == 1 { "" } else { "s" })}</span>
                                            {Channel::ALL.iter().filter(|ch| c.channels.contains(ch)).map(|ch| view! { <span title=ch.label() class="inline-flex items-center gap-1"><span class="scale-75" inner_html=channel_icon(*ch)></span>{ch.label()}</span> }).collect_view()}
                                            <span data-testid="campaign-counts">{format!("· {} lead{} enrolled, {} active, {} completed", c.stats.targets, if c.stats.targets == 1 { "" } else { "s" }, c.stats.active, c.stats.completed)}</span>
                                            <span>{format!("· changed {}", short_date(&c.updated_at))}</span>
                                        </p>
                                    </div>
                                    <A href=format!("/campaigns/{id}") attr:class="btn-secondary">"Open"</A>
                                    <button class="btn-ghost" on:click=move |_| { duplicate.dispatch(id); }>"Duplicate"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Transition>
    }
}

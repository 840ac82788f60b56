//! An open campaign: the header (name, status, launch/pause, duplicate, save as template,
//! archive), the merge-tag problems banner and the tabs. Each tab is a child route rendered in the
//! builder's outlet; what they share (the campaign as loaded, the selected step, the preview's
//! sample lead) is the [`Builder`] context, so switching tabs reloads nothing.

use super::{
    audience::AudiencePanel, delivery::DeliveryPanel, review::ReviewPanel,
    settings::CampaignSettings,
};
use crate::api::{self, Api, ApiError};
use crate::{
    components::*,
    state::{use_api, use_toasts, Toasts},
};
use aura_types::*;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{
    components::{Outlet, A},
    hooks::{use_navigate, use_params_map},
};

/// The tabs of a campaign, each an address of its own (`/campaigns/{id}/{key}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CampaignTab {
    Steps,
    Audience,
    Review,
    Delivery,
    Settings,
}

impl CampaignTab {
    const ALL: [Self; 5] = [
        Self::Steps,
        Self::Audience,
        Self::Review,
        Self::Delivery,
        Self::Settings,
    ];

    fn key(self) -> &'static str {
        match self {
            Self::Steps => "steps",
            Self::Audience => "audience",
            Self::Review => "review",
            Self::Delivery => "delivery",
            Self::Settings => "settings",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Steps => "Steps",
            Self::Audience => "Audience",
            Self::Review => "Review",
            Self::Delivery => "Delivery",
            Self::Settings => "Settings",
        }
    }

    fn href(self, id: CampaignId) -> String {
        format!("/campaigns/{id}/{}", self.key())
    }
}

/// What the tabs of an open campaign share, provided by [`CampaignBuilderPage`].
#[derive(Clone, Copy)]
pub struct Builder {
    api: Api,
    toasts: Toasts,
    /// The campaign in the address.
    pub id: Memo<Option<CampaignId>>,
    data: RwSignal<Option<Result<CampaignDetail, String>>>,
    /// The campaign and its steps as last loaded or saved.
    pub detail: Memo<Option<CampaignDetail>>,
    /// The campaign alone: views that show only it re-render when it changes, not its steps.
    pub campaign: Memo<Option<Campaign>>,
    /// The step open in the editor.
    pub selected: RwSignal<Option<StepId>>,
    /// The preview's sample lead, kept across steps, saves and tabs.
    pub sample: RwSignal<String>,
}

impl Builder {
    /// Loads the campaign again (after a change another view made).
    pub fn load(&self) {
        let (api, data) = (self.api, self.data);
        if let Some(id) = self.id.get_untracked() {
            let open = self.id;
            spawn_local(async move {
                let got = api::campaigns::get(api, id).await.map_err(|e| e.message());
                // Only while this campaign is still the one open.
                if open.try_get_untracked() == Some(Some(id)) {
                    data.try_set(Some(got));
                }
            });
        }
    }

    /// Shows what a request answered: the campaign it returned, or its error as a toast (and, when
    /// the view is gone by then, nothing).
    pub fn apply(&self, r: Result<CampaignDetail, ApiError>, done: Option<String>) {
        match r {
            // An answer about a campaign no longer open changes nothing shown.
            Ok(d) if self.id.try_get_untracked() != Some(Some(d.campaign.id)) => {}
            Ok(d) => {
                self.data.try_set(Some(Ok(d)));
                if let Some(m) = done {
                    self.toasts.success(m);
                }
            }
            Err(e) => self.toasts.error(e.message()),
        }
    }
}

pub fn use_builder() -> Builder {
    expect_context::<Builder>()
}

#[component]
pub fn CampaignBuilderPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| s.parse().ok())));
    let data = RwSignal::new(None::<Result<CampaignDetail, String>>);
    let detail =
        Memo::new(move |_| data.with(|d| d.as_ref().and_then(|d| d.as_ref().ok().cloned())));
    let b = Builder {
        api,
        toasts,
        id,
        data,
        detail,
        campaign: Memo::new(move |_| detail.with(|d| d.as_ref().map(|d| d.campaign.clone()))),
        selected: RwSignal::new(None),
        sample: RwSignal::new(String::new()),
    };
    provide_context(b);
    // Loaded when the page opens and when the address names another campaign.
    Effect::new(move |prev: Option<()>| {
        id.track();
        // Another campaign: nothing of the last one shows while it loads.
        if prev.is_some() {
            data.set(None);
        }
        b.load();
    });
    // The outlet depends only on whether the campaign is there: tabs stay mounted through saves.
    let state = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .map(|r| r.as_ref().map(|_| ()).map_err(Clone::clone))
        })
    });

    // Merge tags that resolve to nothing for enrolled leads (launch is refused while there are any).
    let problems = RwSignal::new(Vec::<TagProblem>::new());
    Effect::new(move |_| {
        let Some(c) = b.campaign.get() else { return };
        if c.stats.targets == 0 || !c.status.is_editable() {
            problems.set(Vec::new());
            return;
        }
        spawn_local(async move {
            if let Ok(p) = api::campaigns::problems(api, c.id).await {
                problems.try_set(p);
            }
        });
    });

    let status_to = {
        let navigate = navigate.clone();
        move |to: CampaignStatus| {
            let Some(id) = id.get_untracked() else { return };
            let navigate = navigate.clone();
            spawn_local(async move {
                let r = api::campaigns::set_status(api, id, &StatusChange { status: to }).await;
                b.apply(r, Some(format!("Campaign {}.", to.label().to_lowercase())));
                // Launching (or being refused) shows the Delivery tab: its checklist says why,
                // its counters follow the sending. Only while this campaign is still the one open.
                if to == CampaignStatus::Active && b.id.try_get_untracked() == Some(Some(id)) {
                    navigate(&CampaignTab::Delivery.href(id), Default::default());
                }
            });
        }
    };
    let duplicate = move |_| {
        let Some(id) = id.get_untracked() else { return };
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::campaigns::duplicate(api, id).await {
                Ok(copy) => {
                    toasts.success(format!("Created {}.", copy.campaign.name));
                    navigate(
                        &format!("/campaigns/{}", copy.campaign.id),
                        Default::default(),
                    );
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    let save_as_template = move |_| {
        let Some(id) = id.get_untracked() else { return };
        spawn_local(async move {
            match api::campaigns::save_as_template(api, id).await {
                Ok(t) => toasts.success(format!("Saved as the template {}.", t.name)),
                Err(e) => toasts.error(e.message()),
            }
        });
    };

    let header = move || {
        let c = b.campaign.get()?;
        let status = c.status;
        let status_to = status_to.clone();
        let (launch, archive) = (status_to.clone(), status_to.clone());
        Some(view! {
            <header class="mb-6 flex flex-wrap items-center gap-3">
                <div class="min-w-0 flex-1">
                    <p class="text-xs text-muted"><A href="/campaigns" attr:class="hover:text-ink">"Campaigns"</A>" / "</p>
                    <h1 class="flex items-center gap-3 text-2xl font-semibold tracking-tight">{c.name.clone()}{badges::campaign_status(status)}</h1>
                </div>
                {match status {
                    CampaignStatus::Draft => view! { <button class="btn-primary" on:click=move |_| launch(CampaignStatus::Active)>"Launch"</button> }.into_any(),
                    CampaignStatus::Active => view! { <button class="btn-secondary" on:click=move |_| launch(CampaignStatus::Paused)>"Pause"</button> }.into_any(),
                    CampaignStatus::Paused => view! { <button class="btn-primary" on:click=move |_| launch(CampaignStatus::Active)>"Resume"</button> }.into_any(),
                    _ => ().into_any(),
                }}
                <button class="btn-secondary" on:click=duplicate.clone()>"Duplicate"</button>
                <button class="btn-ghost" on:click=save_as_template>"Save as template"</button>
                {status.can_become(CampaignStatus::Archived).then(|| view! { <button class="btn-ghost" on:click=move |_| archive(CampaignStatus::Archived)>"Archive"</button> })}
            </header>
            {(!status.is_editable()).then(|| view! { <p class="mb-4 rounded-lg bg-amber-50 px-4 py-2 text-sm text-amber-900" role="status">{if status == CampaignStatus::Active { "This campaign is running. Pause it to edit its steps or settings." } else { "This campaign is read-only." }}</p> })}
        })
    };
    let tabs = move || {
        id.get().map(|id| {
            let tabs = CampaignTab::ALL
                .into_iter()
                .map(|t| TabLink {
                    href: t.href(id),
                    label: t.label(),
                    icon: None,
                })
                .collect();
            view! { <Tabs label="Campaign" tabs=tabs /> }
        })
    };

    view! {
        {move || match state.get() {
            None => view! { <LoadingCard rows=5 /> }.into_any(),
            Some(Err(m)) => view! { <ErrorCard message=m /> }.into_any(),
            Some(Ok(())) => view! {
                {header.clone()}
                {move || (!problems.get().is_empty()).then(|| view! {
                    <div class="mb-4 rounded-lg border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="tag-problems" role="status">
                        <p class="font-medium">"Fix these before launching: some enrolled leads have no value for a merge tag without a fallback."</p>
                        <ul class="mt-1 list-disc pl-5">
                            {problems.get().into_iter().map(|p| view! {
                                <li>{format!("Step {} ({}): {{{{{}}}}} is empty for {} lead{}: {}", p.step, p.field, p.tag, p.leads, if p.leads == 1 { "" } else { "s" }, p.examples.join(", "))}</li>
                            }).collect_view()}
                        </ul>
                    </div>
                })}
                {tabs}
                <Outlet />
            }.into_any(),
        }}
    }
}

/// The Audience tab (a route): who joins and the enrolled leads.
#[component]
pub fn AudienceTab() -> impl IntoView {
    let b = use_builder();
    move || {
        b.campaign.get().map(|c| {
            view! { <AudiencePanel campaign=c on_changed=Callback::new(move |_| b.load()) /> }
        })
    }
}

/// The Review tab (a route): the prepared messages, to read, edit, approve or reject.
#[component]
pub fn ReviewTab() -> impl IntoView {
    let b = use_builder();
    move || {
        b.detail
            .get()
            .map(|d| view! { <ReviewPanel campaign=d.campaign steps=d.steps /> })
    }
}

/// The Delivery tab (a route): the launch checklist, mailboxes, counters and sent messages.
#[component]
pub fn DeliveryTab() -> impl IntoView {
    let b = use_builder();
    move || {
        b.campaign
            .get()
            .map(|c| view! { <DeliveryPanel campaign=c /> })
    }
}

/// The Settings tab (a route).
#[component]
pub fn SettingsTab() -> impl IntoView {
    let b = use_builder();
    move || {
        b.campaign.get().map(|c| {
            let editable = c.status.is_editable();
            view! { <CampaignSettings campaign=c editable=editable on_saved=Callback::new(move |d| b.apply(Ok(d), None)) /> }
        })
    }
}

//! Campaigns: the list, and the builder — step cards joined by their waits, the step editor with
//! "Generate with AI", and a live preview rendered in the browser by the shared template renderer
//! for a chosen sample lead.

use crate::api;
use crate::{
    components::{
        badges, field_err, message_view, on_result, short_date, show_error, DialogButtons,
        EmptyState, ErrorCard, Field, FieldErrs, LoadingCard, Modal, PageHeader, SelectField,
        TextArea,
    },
    icons,
    state::{use_api, use_auth, use_toasts},
};
use aura_types::ai::{CampaignBrief, DraftResult, GenerateRequest, Persona, StepBrief};
use aura_types::template::{
    self, message_seed, sms_info, MergeValues, Sender, SmsEncoding, LEAD_TAGS, SENDER_TAGS,
};
use aura_types::{
    Campaign, CampaignDetail, CampaignId, CampaignInput, CampaignStatus, Channel, Contact,
    ContactFilter, ContactId, EnrollRequest, EnrollResult, ReorderSteps, Selection, SendWindow,
    StatusChange, Step, StepId, StepInput, TargetChange, TargetStatus,
};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};
use std::collections::BTreeMap;

fn channel_icon(c: Channel) -> &'static str {
    match c {
        Channel::Email => icons::MAIL,
        Channel::Sms | Channel::Whatsapp => icons::INBOX,
    }
}

/// "2 days", "3 hours", "45 minutes", "no wait".
pub fn wait_label(minutes: i32) -> String {
    let plural = |n: i32, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    match minutes {
        0 => "no wait".into(),
        m if m % 1440 == 0 => plural(m / 1440, "day"),
        m if m % 60 == 0 => plural(m / 60, "hour"),
        m => plural(m, "minute"),
    }
}

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

/// The sample lead's merge values; without a lead, an empty set (fallbacks show).
fn sample_values(contact: Option<&Contact>, org: &str) -> MergeValues {
    let sender = Sender {
        name: "You".into(),
        email: String::new(),
        org_name: org.into(),
    };
    match contact {
        Some(c) => MergeValues::for_contact(c, &sender),
        None => MergeValues(BTreeMap::from([
            ("sender.name".to_string(), "You".to_string()),
            ("org.name".to_string(), org.to_string()),
        ])),
    }
}

/// The tabs of a campaign, each an address of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CampaignTab {
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

    fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.key() == key)
    }
}

/// What a step card's buttons do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepAction {
    Up,
    Down,
    Duplicate,
    Delete,
}

#[component]
pub fn CampaignBuilderPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<CampaignId>().ok()));
    let data = RwSignal::new(None::<Result<CampaignDetail, String>>);
    let load = move || {
        if let Some(id) = id() {
            spawn_local(async move {
                data.try_set(Some(
                    api::campaigns::get(api, id).await.map_err(|e| e.message()),
                ));
            });
        }
    };
    Effect::new(move |_| load());
    let personas =
        LocalResource::new(move || async move { api::ai::personas(api).await.unwrap_or_default() });
    let contacts = LocalResource::new(move || async move {
        api::contacts::list(api, &Default::default(), None, 50)
            .await
            .map(|p| p.items)
            .unwrap_or_default()
    });
    // The open tab is part of the address (`/campaigns/{id}/{tab}`), so it survives a reload and
    // can be shared.
    let tab = Memo::new(move |_| {
        params
            .with(|p| p.get("tab").and_then(|t| CampaignTab::parse(&t)))
            .unwrap_or(CampaignTab::Steps)
    });
    let navigate_to_tab = {
        let navigate = navigate.clone();
        move |t: CampaignTab| {
            if let Some(id) = id() {
                navigate(&format!("/campaigns/{id}/{}", t.key()), Default::default());
            }
        }
    };
    // A tab to open once a request answers (set with try_set: the page may be gone by then).
    let open_tab = RwSignal::new(None::<CampaignTab>);
    Effect::new({
        let go = navigate_to_tab.clone();
        move |_| {
            // Only `open_tab` is followed: the address changing (leaving the page) must not
            // bring the tab back.
            if let Some(t) = open_tab.get() {
                open_tab.set(None);
                untrack(|| go(t));
            }
        }
    });
    // The preview's sample lead stays chosen across steps and saves.
    let sample = RwSignal::new(String::new());
    // Merge tags that resolve to nothing for enrolled leads (launch is refused while there are any).
    let problems = RwSignal::new(Vec::<aura_types::TagProblem>::new());
    Effect::new(move |_| {
        let Some(Ok(d)) = data.get() else {
            return;
        };
        if d.campaign.stats.targets == 0 || !d.campaign.status.is_editable() {
            problems.set(Vec::new());
            return;
        }
        let id = d.campaign.id;
        spawn_local(async move {
            if let Ok(p) = api::campaigns::problems(api, id).await {
                problems.set(p);
            }
        });
    });
    let selected = RwSignal::new(None::<StepId>);

    // The builder opens on the first step (its editor and live preview showing); a selection
    // whose step is gone moves to the first.
    Effect::new(move |_| {
        data.with(|d| {
            if let Some(Ok(d)) = d {
                if selected
                    .get_untracked()
                    .is_none_or(|s| !d.steps.iter().any(|x| x.id == s))
                {
                    selected.set(d.steps.first().map(|s| s.id));
                }
            }
        })
    });
    // After a request: the view may be gone (try_set), and then nothing changes.
    let apply = move |r: Result<CampaignDetail, crate::api::ApiError>, ok: Option<String>| match r {
        Ok(d) => {
            data.try_set(Some(Ok(d)));
            if let Some(m) = ok {
                toasts.success(m);
            }
        }
        Err(e) => toasts.error(e.message()),
    };
    let status_to = move |to: CampaignStatus| {
        let Some(id) = id() else { return };
        spawn_local(async move {
            let r = api::campaigns::set_status(api, id, &StatusChange { status: to }).await;
            // Launching (or being refused) shows the Delivery tab: its checklist says why, its
            // counters follow the sending.
            if to == CampaignStatus::Active {
                open_tab.try_set(Some(CampaignTab::Delivery));
            }
            apply(r, Some(format!("Campaign {}.", to.label().to_lowercase())));
        });
    };
    let add_step = move |channel: Channel| {
        let Some(id) = id() else { return };
        spawn_local(async move {
            let body = match channel {
                Channel::Email => "{Hi|Hello} {{first_name | \"there\"}},\n\n\n\n{{sender.name}}",
                _ => "Hi {{first_name | \"there\"}}, ",
            };
            let steps = data
                .get_untracked()
                .and_then(|d| d.ok())
                .map(|d| d.steps.len())
                .unwrap_or(0);
            let input = StepInput {
                channel: Some(channel),
                delay_minutes: Some(if steps == 0 { 0 } else { 2 * 1440 }),
                body: Some(body.into()),
                ..Default::default()
            };
            match api::campaigns::add_step(api, id, &input).await {
                Ok(d) => {
                    selected.set(d.steps.last().map(|s| s.id));
                    data.set(Some(Ok(d)));
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    let step_action = move |step: StepId, action: StepAction| {
        let Some(id) = id() else { return };
        // The order as shown, read now (the view may be gone once the request answers).
        let ids: Vec<StepId> = data.with_untracked(|d| match d {
            Some(Ok(d)) => d.steps.iter().map(|s| s.id).collect(),
            _ => Vec::new(),
        });
        spawn_local(async move {
            let r = match action {
                StepAction::Delete => api::campaigns::delete_step(api, id, step).await,
                StepAction::Duplicate => api::campaigns::duplicate_step(api, id, step).await,
                StepAction::Up | StepAction::Down => {
                    let mut ids = ids;
                    let Some(i) = ids.iter().position(|s| *s == step) else {
                        return;
                    };
                    let j = if action == StepAction::Up {
                        i.checked_sub(1)
                    } else {
                        (i + 1 < ids.len()).then_some(i + 1)
                    };
                    let Some(j) = j else { return };
                    ids.swap(i, j);
                    api::campaigns::reorder_steps(api, id, &ReorderSteps { step_ids: ids }).await
                }
            };
            apply(r, None);
        });
    };

    view! {
        {move || match data.get() {
            None => view! { <LoadingCard rows=5 /> }.into_any(),
            Some(Err(m)) => view! { <ErrorCard message=m /> }.into_any(),
            Some(Ok(d)) => {
                let c = d.campaign.clone();
                let status = c.status;
                let editable = status.is_editable();
                // Untracked: a refreshed session (new access token) must not rebuild the builder
                // and lose what is open in it.
                let org_name = untrack(|| use_auth().me())
                    .and_then(|m| m.active_membership().map(|a| a.organization_name.clone()))
                    .unwrap_or_default();
                view! {
                    <header class="mb-6 flex flex-wrap items-center gap-3">
                        <div class="min-w-0 flex-1">
                            <p class="text-xs text-muted"><A href="/campaigns" attr:class="hover:text-ink">"Campaigns"</A>" / "</p>
                            <h1 class="flex items-center gap-3 text-2xl font-semibold tracking-tight">{c.name.clone()}{badges::campaign_status(status)}</h1>
                        </div>
                        {match status {
                            CampaignStatus::Draft => view! { <button class="btn-primary" on:click=move |_| status_to(CampaignStatus::Active)>"Launch"</button> }.into_any(),
                            CampaignStatus::Active => view! { <button class="btn-secondary" on:click=move |_| status_to(CampaignStatus::Paused)>"Pause"</button> }.into_any(),
                            CampaignStatus::Paused => view! { <button class="btn-primary" on:click=move |_| status_to(CampaignStatus::Active)>"Resume"</button> }.into_any(),
                            _ => ().into_any(),
                        }}
                        <button class="btn-secondary" on:click={
                            let navigate = navigate.clone();
                            move |_| {
                                let Some(id) = id() else { return };
                                let navigate = navigate.clone();
                                spawn_local(async move {
                                    match api::campaigns::duplicate(api, id).await {
                                        Ok(copy) => {
                                            toasts.success(format!("Created {}.", copy.campaign.name));
                                            navigate(&format!("/campaigns/{}", copy.campaign.id), Default::default());
                                        }
                                        Err(e) => toasts.error(e.message()),
                                    }
                                });
                            }
                        }>"Duplicate"</button>
                        <button class="btn-ghost" on:click=move |_| {
                            let Some(id) = id() else { return };
                            spawn_local(async move {
                                match api::campaigns::save_as_template(api, id).await {
                                    Ok(t) => toasts.success(format!("Saved as the template {}.", t.name)),
                                    Err(e) => toasts.error(e.message()),
                                }
                            });
                        }>"Save as template"</button>
                        {status.can_become(CampaignStatus::Archived).then(|| view! { <button class="btn-ghost" on:click=move |_| status_to(CampaignStatus::Archived)>"Archive"</button> })}
                    </header>
                    {(!editable).then(|| view! { <p class="mb-4 rounded-lg bg-amber-50 px-4 py-2 text-sm text-amber-900" role="status">{if status == CampaignStatus::Active { "This campaign is running. Pause it to edit its steps or settings." } else { "This campaign is read-only." }}</p> })}
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
                    <nav class="mb-6 flex gap-1 border-b border-line" aria-label="Campaign">
                        {CampaignTab::ALL.into_iter().map(|t| {
                            let go = navigate_to_tab.clone();
                            view! {
                                <button aria-current=move || (tab.get() == t).then_some("page") class=move || if tab.get() == t { "-mb-px border-b-2 border-accent-600 px-4 py-2.5 text-sm font-medium text-accent-700" } else { "-mb-px border-b-2 border-transparent px-4 py-2.5 text-sm font-medium text-muted hover:text-ink" } on:click=move |_| go(t)>{t.label()}</button>
                            }
                        }).collect_view()}
                    </nav>
                    {move || match tab.get() {
                    CampaignTab::Audience => {
                        view! { <AudienceTab campaign=c.clone() on_changed=Callback::new(move |_| load()) /> }.into_any()
                    }
                    CampaignTab::Delivery => {
                        view! { <super::delivery::DeliveryTab campaign=c.clone() /> }.into_any()
                    }
                    CampaignTab::Review => {
                        view! { <super::review::ReviewTab campaign=c.clone() steps=d.steps.clone() /> }.into_any()
                    }
                    CampaignTab::Settings => {
                        view! { <CampaignSettings campaign=c.clone() editable=editable on_saved=Callback::new(move |d: CampaignDetail| data.set(Some(Ok(d)))) /> }.into_any()
                    }
                    CampaignTab::Steps => {
                        let steps = d.steps.clone();
                        let c = c.clone();
                        let org_name = org_name.clone();
                        view! {
                            <div class="grid gap-6 xl:grid-cols-[17rem_1fr_22rem]">
                                <section class="min-w-0" aria-label="Steps">
                                    <ol class="min-w-0">
                                        {steps.iter().enumerate().map(|(i, s)| {
                                            let sid = s.id;
                                            let wait = if i == 0 { format!("Start: {}", if s.delay_minutes == 0 { "at enrollment".to_string() } else { format!("{} after enrollment", wait_label(s.delay_minutes)) }) } else { format!("Wait {}", wait_label(s.delay_minutes)) };
                                            let preview: String = if s.channel == Channel::Email && !s.subject.is_empty() { s.subject.clone() } else { s.body.chars().take(60).collect() };
                                            view! {
                                                <li>
                                                    <p class="flex items-center gap-2 py-2 pl-5 text-xs text-muted" data-testid="step-wait"><span class="h-5 border-l-2 border-dashed border-line"></span>{wait}</p>
                                                    <div role="button" tabindex="0" data-testid="step-card"
                                                        class=move || if selected.get() == Some(sid) { "card cursor-pointer border-accent-500 p-3 ring-2 ring-accent-100" } else { "card cursor-pointer p-3 hover:border-slate-300" }
                                                        on:click=move |_| selected.set(Some(sid))
                                                        on:keydown=move |ev| if ev.key() == "Enter" { selected.set(Some(sid)) }>
                                                        <p class="flex items-center gap-2 text-sm font-medium"><span inner_html=channel_icon(s.channel)></span>{format!("{}. {}", s.position, s.channel.label())}{s.personalize.then(|| view! { <span class="rounded bg-accent-50 px-1.5 text-[11px] text-accent-700">"AI per lead"</span> })}</p>
                                                        <p class="mt-1 truncate text-xs text-muted">{preview}</p>
                                                        {editable.then(|| view! {
                                                            <div class="mt-2 flex gap-1 text-xs">
                                                                <button class="btn-ghost px-2 py-1" aria-label="Move up" on:click=move |ev| { ev.stop_propagation(); step_action(sid, StepAction::Up); }>"↑"</button>
                                                                <button class="btn-ghost px-2 py-1" aria-label="Move down" on:click=move |ev| { ev.stop_propagation(); step_action(sid, StepAction::Down); }>"↓"</button>
                                                                <button class="btn-ghost px-2 py-1" on:click=move |ev| { ev.stop_propagation(); step_action(sid, StepAction::Duplicate); }>"Duplicate"</button>
                                                                <button class="btn-ghost px-2 py-1 text-red-600" on:click=move |ev| { ev.stop_propagation(); step_action(sid, StepAction::Delete); }>"Delete"</button>
                                                            </div>
                                                        })}
                                                    </div>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ol>
                                    {editable.then(|| view! {
                                        <div class="card mt-4 p-3" aria-label="Add step">
                                            <p class="mb-2 text-xs font-medium text-muted">"Add step"</p>
                                            <div class="flex flex-wrap gap-2">
                                                {Channel::ALL.iter().map(|ch| { let ch = *ch; view! { <button class="btn-secondary" on:click=move |_| add_step(ch)>{format!("+ {}", ch.label())}</button> } }).collect_view()}
                                            </div>
                                        </div>
                                    })}
                                    {steps.is_empty().then(|| view! { <p class="mt-4 text-sm text-muted">"No steps yet. Start with an email or a WhatsApp message."</p> })}
                                </section>
                                {move || {
                                    let step = selected.get().and_then(|sid| steps.iter().find(|s| s.id == sid).cloned());
                                    match step {
                                        None => view! { <div class="card p-6 text-sm text-muted xl:col-span-2">"Select a step to edit it."</div> }.into_any(),
                                        Some(step) => view! {
                                            <StepEditor campaign=c.clone() step=step editable=editable personas=personas contacts=contacts org_name=org_name.clone() sample=sample
                                                on_saved=Callback::new(move |d: CampaignDetail| data.set(Some(Ok(d)))) />
                                        }.into_any(),
                                    }
                                }}
                            </div>
                        }.into_any()
                    }
                    }}
                }.into_any()
            }
        }}
    }
}

#[component]
fn StepEditor(
    campaign: Campaign,
    step: Step,
    editable: bool,
    personas: LocalResource<Vec<Persona>>,
    contacts: LocalResource<Vec<Contact>>,
    org_name: String,
    sample: RwSignal<String>,
    on_saved: Callback<CampaignDetail>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let campaign_id = campaign.id;
    let step_id = step.id;
    let channel = step.channel;
    // A/B variants: slot 0 is the main variant (A); the subject, body and weight fields edit the
    // active slot, written back when another tab is chosen and before saving.
    let slots = RwSignal::new(
        std::iter::once(aura_types::Variant {
            label: "A".into(),
            subject: step.subject.clone(),
            body: step.body.clone(),
            weight: step.weight,
        })
        .chain(step.variants.iter().cloned())
        .collect::<Vec<_>>(),
    );
    let active = RwSignal::new(0usize);
    let subject = RwSignal::new(step.subject.clone());
    let body = RwSignal::new(step.body.clone());
    let weight = RwSignal::new(step.weight.to_string());
    let store = move || {
        let i = active.get_untracked();
        slots.update(|v| {
            if let Some(slot) = v.get_mut(i) {
                slot.subject = subject.get_untracked();
                slot.body = body.get_untracked();
                slot.weight = weight.get_untracked().trim().parse().unwrap_or(-1);
            }
        });
    };
    let switch_to = move |i: usize| {
        store();
        if let Some(slot) = slots.get_untracked().get(i) {
            subject.set(slot.subject.clone());
            body.set(slot.body.clone());
            weight.set(slot.weight.to_string());
            active.set(i);
        }
    };
    let add_variant = move |_| {
        store();
        let n = slots.get_untracked().len();
        let label = ((b'A' + n as u8) as char).to_string();
        slots.update(|v| {
            v.push(aura_types::Variant {
                label,
                subject: subject.get_untracked(),
                body: body.get_untracked(),
                weight: 1,
            })
        });
        switch_to(n);
    };
    let remove_variant = move |_| {
        let i = active.get_untracked();
        if i == 0 {
            return;
        }
        slots.update(|v| {
            v.remove(i);
            for (k, slot) in v.iter_mut().enumerate().skip(1) {
                slot.label = ((b'A' + k as u8) as char).to_string();
            }
        });
        if let Some(a) = slots.get_untracked().first() {
            subject.set(a.subject.clone());
            body.set(a.body.clone());
            weight.set(a.weight.to_string());
        }
        active.set(0);
    };
    let instructions = RwSignal::new(step.ai_instructions.clone());
    let persona = RwSignal::new(step.persona_id.map(|p| p.to_string()).unwrap_or_default());
    let personalize = RwSignal::new(step.personalize);
    let reply = RwSignal::new(step.reply_subject);
    let (value, unit) = match step.delay_minutes {
        m if m % 1440 == 0 => (m / 1440, "days"),
        m if m % 60 == 0 => (m / 60, "hours"),
        m => (m, "minutes"),
    };
    let delay_value = RwSignal::new(value.to_string());
    let delay_unit = RwSignal::new(unit.to_owned());
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let proposal = RwSignal::new(None::<DraftResult>);
    let generating = RwSignal::new(false);

    let save = Action::new_local(move |_: &()| {
        let minutes = delay_value
            .get_untracked()
            .trim()
            .parse::<i32>()
            .unwrap_or(-1)
            .saturating_mul(match delay_unit.get_untracked().as_str() {
                "days" => 1440,
                "hours" => 60,
                _ => 1,
            });
        store();
        let all = slots.get_untracked();
        let main = all.first().cloned().unwrap_or_else(|| aura_types::Variant {
            label: "A".into(),
            subject: String::new(),
            body: String::new(),
            weight: 1,
        });
        let input = StepInput {
            weight: Some(main.weight),
            variants: Some(all.iter().skip(1).cloned().collect()),
            delay_minutes: Some(minutes),
            persona_id: Some(persona.get_untracked().parse().ok()),
            ai_instructions: Some(instructions.get_untracked()),
            personalize: Some(personalize.get_untracked()),
            subject: (channel == Channel::Email).then(|| main.subject.clone()),
            reply_subject: (channel == Channel::Email).then(|| reply.get_untracked()),
            body: Some(main.body.clone()),
            ..Default::default()
        };
        async move { api::campaigns::update_step(api, campaign_id, step_id, &input).await }
    });
    on_result(save, move |r| match r {
        Ok(d) => {
            errs.set(BTreeMap::new());
            toasts.success("Step saved.");
            on_saved.run(d);
        }
        Err(e) => {
            let f = e.fields();
            if f.is_empty() {
                toasts.error(e.message());
            }
            errs.set(f);
        }
    });
    let brief = CampaignBrief {
        name: campaign.name.clone(),
        offer: campaign.offer.clone(),
        icp: campaign.icp.clone(),
        goal: campaign.goal.clone(),
    };
    let number = step.position as u16;
    let generate = move |_| {
        generating.set(true);
        proposal.set(None);
        let request = GenerateRequest {
            persona_id: persona.get_untracked().parse().ok(),
            campaign: brief.clone(),
            step: StepBrief {
                channel,
                number,
                instructions: instructions.get_untracked(),
            },
            contact_id: sample.get_untracked().parse().ok(),
        };
        spawn_local(async move {
            match api::ai::generate_step_template(api, &request).await {
                Ok(r) => proposal.set(Some(r)),
                Err(e) => toasts.error(e.message()),
            }
            generating.set(false);
        });
    };
    let accept = move |_| {
        if let Some(p) = proposal.get_untracked() {
            if let Some(s) = p.draft.subject {
                subject.set(s);
            }
            body.set(p.draft.body);
            proposal.set(None);
        }
    };
    let insert_tag = move |tag: &str| {
        let tag = if LEAD_TAGS.contains(&tag) && tag != "email" && tag != "phone" {
            format!("{{{{{tag} | \"\"}}}}")
        } else {
            format!("{{{{{tag}}}}}")
        };
        body.update(|b| b.push_str(&tag));
    };

    // The live preview: the shared renderer, in the browser, for the chosen sample lead.
    let rendered = Memo::new(move |_| {
        let lead = contacts.get().and_then(|list| {
            let id = sample.get();
            list.into_iter().find(|c| c.id.to_string() == id)
        });
        let values = sample_values(lead.as_ref(), &org_name);
        let seed = message_seed(
            &lead.as_ref().map(|c| c.id.to_string()).unwrap_or_default(),
            &step_id.to_string(),
            &slots.with(|v| {
                v.get(active.get())
                    .map(|s| s.label.clone())
                    .unwrap_or_default()
            }),
        );
        let render = |text: &str| match template::parse(text) {
            Ok(t) => {
                let r = t.render(&values, seed);
                Ok((r.text, r.missing))
            }
            Err(e) => Err(e.to_string()),
        };
        (render(&subject.get()), render(&body.get()))
    });
    let sms = Memo::new(move |_| match &rendered.get().1 {
        Ok((text, _)) => Some(sms_info(text)),
        Err(_) => None,
    });
    let delay_units: Vec<(String, String)> =
        [("minutes", "minutes"), ("hours", "hours"), ("days", "days")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    let disabled = Signal::derive(move || !editable);
    view! {
        <form class="card grid content-start gap-4 p-5" aria-label="Step editor" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <div class="flex items-center justify-between">
                <h2 class="font-semibold">{format!("Step {} · {}", step.position, channel.label())}</h2>
                <button type="button" class="btn-secondary" disabled=move || generating.get() || !editable on:click=generate>
                    <span inner_html=icons::SPARKLES></span>{move || if generating.get() { "Writing…" } else { "Generate with AI" }}
                </button>
            </div>
            {move || proposal.get().map(|p| view! {
                <div class="rounded-lg border border-accent-200 bg-accent-50 p-4" data-testid="ai-proposal">
                    <p class="mb-2 text-xs font-medium text-accent-700">{format!("Suggestion by {}", p.provenance.label)}</p>
                    {p.draft.subject.clone().map(|s| view! { <p class="text-sm font-semibold">{s}</p> })}
                    <pre class="mt-1 whitespace-pre-wrap font-sans text-sm">{p.draft.body.clone()}</pre>
                    <div class="mt-3 flex gap-2">
                        <button type="button" class="btn-primary" on:click=accept>"Use this"</button>
                        <button type="button" class="btn-ghost" on:click=move |_| proposal.set(None)>"Discard"</button>
                    </div>
                </div>
            })}
            <div class="grid gap-4 sm:grid-cols-2">
                <Field label=if step.position == 1 { "Start after" } else { "Wait" } name="delay" value=delay_value error=field_err(errs, "delay_minutes") disabled=disabled />
                <SelectField label="Unit" name="delay-unit" value=delay_unit options=delay_units disabled=disabled />
                {move || {
                    let mut options = vec![(String::new(), "Organization default".to_owned())];
                    options.extend(personas.get().unwrap_or_default().into_iter().map(|p| (p.id.to_string(), p.name)));
                    view! { <div class="sm:col-span-2"><SelectField label="Persona" name="step-persona" value=persona options=options error=field_err(errs, "persona_id") disabled=disabled /></div> }
                }}
            </div>
            <TextArea label="AI instructions" name="ai-instructions" value=instructions error=field_err(errs, "ai_instructions") rows=2 placeholder="e.g. Mention the spring market. Keep it under 80 words." disabled=disabled />
            <label class="flex items-center gap-2 text-sm"><input type="checkbox" prop:checked=move || personalize.get() on:change=move |ev| personalize.set(event_target_checked(&ev)) disabled=!editable />"Personalise each lead's message with AI"</label>
            {(channel == Channel::Email && step.position > 1).then(|| view! {
                <label class="flex items-start gap-2 text-sm">
                    <input type="checkbox" class="mt-1" prop:checked=move || reply.get() on:change=move |ev| reply.set(event_target_checked(&ev)) disabled=!editable />
                    <span>"Send as a reply"<span class="block text-xs text-muted">"The subject becomes “Re: ” and the subject of the lead's previous email, so it lands in the same conversation. The subject below is used only if the lead got no earlier email."</span></span>
                </label>
            })}
            <div class="flex flex-wrap items-center gap-1 border-b border-line" role="tablist" aria-label="Variants">
                {move || slots.get().into_iter().enumerate().map(|(i, v)| view! {
                    <button type="button" role="tab" aria-selected=move || (active.get() == i).to_string()
                        class=move || if active.get() == i { "-mb-px border-b-2 border-accent-600 px-3 py-1.5 text-sm font-medium text-accent-700" } else { "-mb-px border-b-2 border-transparent px-3 py-1.5 text-sm text-muted hover:text-ink" }
                        on:click=move |_| switch_to(i)>{format!("Variant {}", v.label)}</button>
                }).collect_view()}
                {editable.then(|| view! { <button type="button" class="btn-ghost px-2 py-1 text-xs" disabled=move || slots.with(|v| v.len() >= 6) on:click=add_variant>"+ Variant"</button> })}
                <span class="ml-auto"></span>
                <Show when=move || { slots.with(|v| v.len() > 1) }>
                    <div class="flex items-center gap-2 pb-1 text-xs">
                        <label for="field-variant-weight" class="text-muted">"Weight"</label>
                        <input id="field-variant-weight" class="field-input w-16 py-1" type="number" min="0" disabled=!editable prop:value=move || weight.get() on:input=move |ev| weight.set(event_target_value(&ev)) />
                        {move || (editable && active.get() > 0).then(|| view! { <button type="button" class="btn-ghost px-2 py-1 text-red-600" on:click=remove_variant>"Remove variant"</button> })}
                    </div>
                </Show>
            </div>
            {move || field_err(errs, "variants").get().or_else(|| errs.with(|e| e.iter().find(|(k, _)| k.starts_with("variants[")).map(|(k, v)| format!("{k}: {v}")))).map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            {(channel == Channel::Email).then(|| view! { <Field label="Subject" name="subject" value=subject error=field_err(errs, "subject") disabled=disabled /> })}
            <TextArea label="Message" name="body" value=body error=field_err(errs, "body") rows=10 disabled=disabled help="Merge tags like {{first_name | \"there\"}} use the fallback when a lead has no value; {Hi|Hello} picks one option per lead." />
            <div class="flex flex-wrap items-center gap-1.5" aria-label="Merge tags">
                <span class="text-xs text-muted">"Insert:"</span>
                {LEAD_TAGS.iter().chain(SENDER_TAGS).map(|t| { let t = *t; view! { <button type="button" class="rounded-full border border-line px-2 py-0.5 text-xs hover:border-accent-400 hover:text-accent-700" disabled=!editable on:click=move |_| insert_tag(t)>{t}</button> } }).collect_view()}
            </div>
            {(channel == Channel::Sms).then(|| view! {
                <p class="text-xs text-muted" data-testid="sms-counter">{move || sms.get().map(|i| format!("{} characters · {} segment{} · {}", i.units, i.segments, if i.segments == 1 { "" } else { "s" }, if i.encoding == SmsEncoding::Gsm7 { "GSM-7" } else { "Unicode (UCS-2): 70 per segment" })).unwrap_or_default()}</p>
            })}
            {editable.then(|| view! { <div><button class="btn-primary" type="submit" disabled=move || save.pending().get()>{move || if save.pending().get() { "Saving…" } else { "Save step" }}</button></div> })}
        </form>
        <aside class="grid content-start gap-3" aria-label="Preview">
            {move || {
                let mut options = vec![(String::new(), "No lead (fallbacks)".to_owned())];
                options.extend(contacts.get().unwrap_or_default().into_iter().map(|c| (c.id.to_string(), c.full_name)));
                view! { <SelectField label="Preview for" name="sample-lead" value=sample options=options /> }
            }}
            {move || {
                let (subject_r, body_r) = rendered.get();
                let missing: Vec<String> = [&subject_r, &body_r].iter().filter_map(|r| r.as_ref().ok()).flat_map(|(_, m)| m.clone()).collect();
                let problem = [&subject_r, &body_r].iter().find_map(|r| r.as_ref().err().cloned());
                let text = body_r.map(|(t, _)| t).unwrap_or_default();
                let subject = (channel == Channel::Email).then(|| subject_r.map(|(s, _)| s).unwrap_or_default());
                let bubble = message_view(channel, subject, text, None);
                view! {
                    {bubble}
                    {problem.map(|p| view! { <p class="rounded-lg bg-red-50 px-3 py-2 text-xs text-red-800" role="alert">{p}</p> })}
                    {(!missing.is_empty()).then(|| view! { <p class="rounded-lg bg-amber-50 px-3 py-2 text-xs text-amber-900" data-testid="unresolved">{format!("No value and no fallback for this lead: {}", missing.iter().map(|m| format!("{{{{{m}}}}}")).collect::<Vec<_>>().join(", "))}</p> })}
                }
            }}
            {move || personalize.get().then(|| view! { <p class="text-xs text-muted">"Each lead's message will be written by AI when messages are prepared; this preview shows the template."</p> })}
        </aside>
    }
}

#[component]
fn CampaignSettings(
    campaign: Campaign,
    editable: bool,
    on_saved: Callback<CampaignDetail>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let id = campaign.id;
    let name = RwSignal::new(campaign.name.clone());
    let description = RwSignal::new(campaign.description.clone());
    let offer = RwSignal::new(campaign.offer.clone());
    let icp = RwSignal::new(campaign.icp.clone());
    let goal = RwSignal::new(campaign.goal.clone());
    let timezone = RwSignal::new(campaign.timezone.clone());
    let days = RwSignal::new(campaign.window.days.clone());
    let start = RwSignal::new(campaign.window.start.clone());
    let end = RwSignal::new(campaign.window.end.clone());
    let cap = RwSignal::new(campaign.daily_new_leads.to_string());
    let stop_on_reply = RwSignal::new(campaign.stop_on_reply);
    let opens = RwSignal::new(campaign.track_opens);
    let clicks = RwSignal::new(campaign.track_clicks);
    let approval = RwSignal::new(campaign.approval.as_str().to_owned());
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let save = Action::new_local(move |_: &()| {
        let input = CampaignInput {
            name: Some(name.get_untracked()),
            description: Some(description.get_untracked()),
            icp: Some(icp.get_untracked()),
            offer: Some(offer.get_untracked()),
            goal: Some(goal.get_untracked()),
            timezone: Some(timezone.get_untracked()),
            window: Some(SendWindow {
                days: days.get_untracked(),
                start: start.get_untracked(),
                end: end.get_untracked(),
            }),
            daily_new_leads: Some(cap.get_untracked().trim().parse().unwrap_or(0)),
            stop_on_reply: Some(stop_on_reply.get_untracked()),
            track_opens: Some(opens.get_untracked()),
            track_clicks: Some(clicks.get_untracked()),
            approval: aura_types::ApprovalMode::parse(&approval.get_untracked()),
        };
        async move { api::campaigns::update(api, id, &input).await }
    });
    on_result(save, move |r| match r {
        Ok(d) => {
            errs.set(BTreeMap::new());
            toasts.success("Settings saved.");
            on_saved.run(d);
        }
        Err(e) => {
            let f = e.fields();
            if f.is_empty() {
                toasts.error(e.message());
            }
            errs.set(f);
        }
    });
    let disabled = Signal::derive(move || !editable);
    let check = |label: &'static str, value: RwSignal<bool>, help: &'static str| {
        view! {
            <label class="flex items-start gap-2 text-sm"><input type="checkbox" class="mt-0.5" prop:checked=move || value.get() on:change=move |ev| value.set(event_target_checked(&ev)) disabled=!editable /><span>{label}<span class="block text-xs text-muted">{help}</span></span></label>
        }
    };
    let approvals: Vec<(String, String)> = aura_types::ApprovalMode::ALL
        .iter()
        .map(|a| (a.as_str().to_owned(), a.label().to_owned()))
        .collect();
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    view! {
        <form class="grid max-w-3xl gap-6" aria-label="Campaign settings" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <section class="card grid gap-4 p-5">
                <h2 class="font-semibold">"Brief"</h2>
                <Field label="Name" name="campaign-name" value=name error=field_err(errs, "name") disabled=disabled />
                <Field label="Offer" name="campaign-offer" value=offer error=field_err(errs, "offer") disabled=disabled placeholder="A free valuation and a sale in under 30 days" />
                <Field label="Ideal customer" name="campaign-icp" value=icp error=field_err(errs, "icp") disabled=disabled placeholder="Homeowners thinking of selling this year" />
                <Field label="Goal" name="campaign-goal" value=goal error=field_err(errs, "goal") disabled=disabled placeholder="A 15-minute call" />
                <TextArea label="Description" name="campaign-description" value=description error=field_err(errs, "description") rows=2 disabled=disabled />
            </section>
            <section class="card grid gap-4 p-5">
                <h2 class="font-semibold">"Sending"</h2>
                <Field label="Time zone" name="campaign-timezone" value=timezone error=field_err(errs, "timezone") disabled=disabled help="Used for leads without their own time zone." />
                <fieldset>
                    <legend class="field-label">"Days"</legend>
                    <div class="flex flex-wrap gap-3">
                        {DAYS.iter().enumerate().map(|(i, d)| {
                            let n = (i + 1) as u8;
                            view! { <label class="flex items-center gap-1.5 text-sm"><input type="checkbox" prop:checked=move || days.with(|l| l.contains(&n)) disabled=!editable on:change=move |ev| { let on = event_target_checked(&ev); days.update(|l| { l.retain(|x| *x != n); if on { l.push(n); l.sort_unstable(); } }); } />{*d}</label> }
                        }).collect_view()}
                    </div>
                    {move || field_err(errs, "window.days").get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                </fieldset>
                <div class="grid gap-4 sm:grid-cols-3">
                    <Field label="From" name="window-start" kind="time" value=start error=field_err(errs, "window.start") disabled=disabled />
                    <Field label="Until" name="window-end" kind="time" value=end error=field_err(errs, "window.end") disabled=disabled />
                    <Field label="New leads per day" name="daily-cap" kind="number" value=cap error=field_err(errs, "daily_new_leads") disabled=disabled />
                </div>
                {check("Stop a lead's sequence when they reply", stop_on_reply, "Recommended: nobody likes a follow-up after answering.")}
                {check("Track opens", opens, "Adds a tracking pixel; off by default for cold email, which it can hurt.")}
                {check("Track clicks", clicks, "Rewrites links through Aura.")}
                <SelectField label="Approval" name="approval" value=approval options=approvals disabled=disabled />
            </section>
            {editable.then(|| view! { <div><button class="btn-primary" type="submit" disabled=move || save.pending().get()>"Save settings"</button></div> })}
        </form>
    }
}

/// What a lead's row in the Audience tab can do.
#[derive(Clone, Copy)]
enum TargetAction {
    Remove,
    Set(TargetStatus),
}

/// The Audience tab: choose who joins, see how many can be reached and why others cannot, enroll,
/// and manage the enrolled leads.
#[component]
fn AudienceTab(campaign: Campaign, on_changed: Callback<()>) -> impl IntoView {
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
    let targets = crate::live::use_live(move || api::campaigns::targets(api, id), None, |_| false);
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
                    check.set(None);
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
                            <p class="border-t border-line px-4 py-3 text-sm text-muted" data-testid="targets-total">{format!("{total} enrolled")}</p>
                        }.into_any(),
                    }}
            </section>
        </div>
    }
}

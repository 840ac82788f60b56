//! A campaign's settings: its brief (for AI), sending window and time zone, daily new-lead cap.

use crate::api;
use crate::{
    components::*,
    state::{use_api, use_toasts},
};
use aura_types::*;
use leptos::prelude::*;
use std::collections::BTreeMap;

#[component]
pub fn CampaignSettings(
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

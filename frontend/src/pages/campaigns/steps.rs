//! The Steps tab: the sequence as cards (wait, channel, first line; move, duplicate, delete), the
//! "Add step" buttons, and the editor with its live preview for the selected step.

use super::builder::use_builder;
use super::step_editor::StepEditor;
use crate::api;
use crate::{
    icons,
    state::{use_api, use_auth, use_toasts},
};
use aura_types::*;
use leptos::{prelude::*, task::spawn_local};

pub(super) fn channel_icon(c: Channel) -> &'static str {
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

/// What a step card's buttons do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepAction {
    Up,
    Down,
    Duplicate,
    Delete,
}

/// The Steps tab (a route).
#[component]
pub fn StepsTab() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let b = use_builder();
    let personas =
        LocalResource::new(move || async move { api::ai::personas(api).await.unwrap_or_default() });
    let contacts = LocalResource::new(move || async move {
        api::contacts::list(api, &Default::default(), &PageQuery::first(50))
            .await
            .map(|p| p.items)
            .unwrap_or_default()
    });
    let steps = Memo::new(move |_| {
        b.detail
            .with(|d| d.as_ref().map(|d| d.steps.clone()).unwrap_or_default())
    });
    let editable = Memo::new(move |_| {
        b.campaign
            .with(|c| c.as_ref().is_some_and(|c| c.status.is_editable()))
    });
    let selected = b.selected;
    // The tab opens on the first step (its editor and live preview showing); a selection whose
    // step is gone moves to the first.
    Effect::new(move |_| {
        steps.with(|steps| {
            if selected
                .get_untracked()
                .is_none_or(|s| !steps.iter().any(|x| x.id == s))
            {
                selected.set(steps.first().map(|s| s.id));
            }
        })
    });
    // What the editor shows: re-rendered when the selected step, the campaign's brief or whether
    // it can change does, not on every save of another step.
    let editing = Memo::new(move |_| {
        let campaign = b.campaign.get()?;
        let sid = selected.get()?;
        let step = steps.with(|s| s.iter().find(|s| s.id == sid).cloned())?;
        Some((campaign, step))
    });

    let add_step = move |channel: Channel| {
        let Some(id) = b.id.get_untracked() else {
            return;
        };
        let first = steps.with_untracked(Vec::is_empty);
        spawn_local(async move {
            let body = match channel {
                Channel::Email => "{Hi|Hello} {{first_name | \"there\"}},\n\n\n\n{{sender.name}}",
                _ => "Hi {{first_name | \"there\"}}, ",
            };
            let input = StepInput {
                channel: Some(channel),
                delay_minutes: Some(if first { 0 } else { 2 * 1440 }),
                body: Some(body.into()),
                ..Default::default()
            };
            match api::campaigns::add_step(api, id, &input).await {
                Ok(d) => {
                    selected.try_set(d.steps.last().map(|s| s.id));
                    b.apply(Ok(d), None);
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    let step_action = move |step: StepId, action: StepAction| {
        let Some(id) = b.id.get_untracked() else {
            return;
        };
        // The order as shown, read now (the view may be gone once the request answers).
        let ids: Vec<StepId> = steps.with_untracked(|s| s.iter().map(|s| s.id).collect());
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
            b.apply(r, None);
        });
    };
    // Untracked: a refreshed session (new access token) must not rebuild the editor and lose
    // what is open in it.
    let org_name = untrack(|| use_auth().me())
        .and_then(|m| m.active_membership().map(|a| a.organization_name.clone()))
        .unwrap_or_default();

    view! {
        <div class="grid gap-6 xl:grid-cols-[17rem_1fr_22rem]">
            <section class="min-w-0" aria-label="Steps">
                <ol class="min-w-0">
                    // Keyed by position and content: a save re-renders the card it changed.
                    <For each=move || steps.get().into_iter().enumerate() key=|(i, s)| format!("{i}:{s:?}") let:((i, s))>
                    {
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
                                    {move || editable.get().then(|| view! {
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
                    }
                    </For>
                </ol>
                {move || editable.get().then(|| view! {
                    <div class="card mt-4 p-3" aria-label="Add step">
                        <p class="mb-2 text-xs font-medium text-muted">"Add step"</p>
                        <div class="flex flex-wrap gap-2">
                            {Channel::ALL.iter().map(|ch| { let ch = *ch; view! { <button class="btn-secondary" on:click=move |_| add_step(ch)>{format!("+ {}", ch.label())}</button> } }).collect_view()}
                        </div>
                    </div>
                })}
                {move || steps.with(Vec::is_empty).then(|| view! { <p class="mt-4 text-sm text-muted">"No steps yet. Start with an email or a WhatsApp message."</p> })}
            </section>
            {move || match editing.get() {
                None => view! { <div class="card p-6 text-sm text-muted xl:col-span-2">"Select a step to edit it."</div> }.into_any(),
                Some((campaign, step)) => {
                    let editable = campaign.status.is_editable();
                    view! {
                        <StepEditor campaign=campaign step=step editable=editable personas=personas contacts=contacts org_name=org_name.clone() sample=b.sample
                            on_saved=Callback::new(move |d: CampaignDetail| b.apply(Ok(d), None)) />
                    }.into_any()
                }
            }}
        </div>
    }
}

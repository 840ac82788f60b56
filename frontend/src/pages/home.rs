//! The dashboard (getting started, from real data) and the sections whose capabilities come next,
//! each with an empty state that says what is coming and links to what already works.

use crate::api;
use crate::{
    components::{ErrorCard, LoadingCard, PageHeader},
    icons,
    state::{use_api, use_auth},
};
use aura_types::{ApiKey, Member, Organization};
use leptos::prelude::*;
use leptos_router::components::A;

#[derive(Clone)]
struct Overview {
    org: Organization,
    members: Vec<Member>,
    api_keys: Option<Vec<ApiKey>>,
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let api = use_api();
    let auth = use_auth();
    let overview = LocalResource::new(move || {
        // Reload when the active organization changes.
        let me = auth.me();
        async move {
            let org = api::org::current(api).await?;
            let members = api::org::members(api).await?;
            let api_keys = match me.map(|m| m.role.is_admin()) {
                Some(true) => Some(api::org::api_keys(api).await?),
                _ => None,
            };
            Ok::<_, crate::api::ApiError>(Overview {
                org,
                members,
                api_keys,
            })
        }
    });
    let first_name = move || {
        auth.me()
            .map(|m| {
                m.user
                    .name
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default()
    };
    view! {
        <PageHeader title=format!("Welcome, {}", first_name()) subtitle="Here is where your workspace stands." />
        <Transition fallback=|| view! { <LoadingCard rows=4 /> }>
            {move || {
                overview
                    .get()
                    .map(|r| match r {
                        Err(e) => view! { <ErrorCard message=e.message() retry=Callback::new(move |_| overview.refetch()) /> }.into_any(),
                        Ok(o) => view! { <DashboardBody o=o /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn DashboardBody(o: Overview) -> impl IntoView {
    let steps = [
        (
            o.org.brand_voice.is_some() && o.org.postal_address.is_some(),
            "Describe your brand",
            "Brand voice guides every AI persona; the postal address goes in email footers.",
            "/settings/organization",
        ),
        (
            o.members.len() > 1,
            "Invite your team",
            "Agents, assistants and partners work in the same workspace.",
            "/settings/members",
        ),
        (
            o.api_keys.as_ref().is_some_and(|k| !k.is_empty()),
            "Connect n8n or another tool",
            "An API key lets your automations drive Aura through the documented API.",
            "/settings/api-keys",
        ),
    ];
    let done = steps.iter().filter(|s| s.0).count();
    let total = steps.len();
    let pct = done * 100 / total;
    view! {
        <div class="grid gap-6 lg:grid-cols-3">
            <section class="card p-6 lg:col-span-2">
                <div class="flex items-center justify-between">
                    <h2 class="text-base font-semibold">"Get your workspace ready"</h2>
                    <span class="text-sm text-muted">{format!("{done} of {total} done")}</span>
                </div>
                <div class="mt-3 h-2 overflow-hidden rounded-full bg-slate-100" role="progressbar" aria-valuenow=pct aria-valuemin="0" aria-valuemax="100">
                    <div class="h-full rounded-full bg-accent-600 transition-all" style=format!("width: {pct}%")></div>
                </div>
                <ul class="mt-6 divide-y divide-line">
                    {steps
                        .into_iter()
                        .map(|(ok, title, body, href)| {
                            view! {
                                <li class="flex items-center gap-4 py-4">
                                    <span class=if ok {
                                        "flex h-8 w-8 shrink-0 items-center justify-center rounded-full bg-emerald-50 text-emerald-600"
                                    } else {
                                        "flex h-8 w-8 shrink-0 items-center justify-center rounded-full border border-dashed border-slate-300 text-slate-300"
                                    } inner_html=icons::CHECK></span>
                                    <div class="flex-1">
                                        <p class=if ok { "text-sm font-medium text-muted line-through" } else { "text-sm font-medium" }>{title}</p>
                                        <p class="text-xs text-muted">{body}</p>
                                    </div>
                                    <A href=href attr:class="btn-secondary">{if ok { "Review" } else { "Start" }}</A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
            <section class="card p-6">
                <h2 class="text-base font-semibold">{o.org.name.clone()}</h2>
                <dl class="mt-4 space-y-3 text-sm">
                    <div class="flex justify-between"><dt class="text-muted">"Members"</dt><dd class="font-medium">{o.members.len()}</dd></div>
                    <div class="flex justify-between"><dt class="text-muted">"Time zone"</dt><dd class="font-medium">{o.org.timezone.clone()}</dd></div>
                    <div class="flex justify-between"><dt class="text-muted">"Public name"</dt><dd class="font-medium">{o.org.public_name.clone().unwrap_or_else(|| o.org.name.clone())}</dd></div>
                </dl>
                <div class="mt-6 rounded-lg bg-slate-50 p-4 text-xs leading-5 text-muted">
                    "Campaign funnels, replies and sending health will appear here once contacts and campaigns arrive in Aura."
                </div>
            </section>
        </div>
    }
}

//! The AI layer in the app: Settings → AI (providers, default, fallback, usage), the AI studio
//! (run any operation as the campaign builder will), personas and the knowledge base.

use crate::api;
use crate::{
    components::{
        field_err, on_result, short_date, show_error, EmptyState, ErrorCard, Field, FieldErrs,
        FormButtons, LoadingCard, PageHeader, SelectField, Spinner, TextArea,
    },
    icons,
    state::{use_api, use_auth, use_toasts},
};
use aura_types::ai::*;
use aura_types::{AiProviderId, Channel, PersonaId};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use std::collections::BTreeMap;

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// The tabs of the AI area.
#[component]
fn AiTabs() -> impl IntoView {
    let tabs = [
        ("/ai", "Studio"),
        ("/ai/personas", "Personas"),
        ("/ai/knowledge", "Knowledge base"),
        ("/settings/ai", "Providers & usage"),
    ];
    view! {
        <nav class="mb-6 flex gap-1 border-b border-line" aria-label="AI">
            {tabs.into_iter().map(|(href, label)| view! {
                <A href=href exact=true attr:class="-mb-px border-b-2 border-transparent px-4 py-2.5 text-sm font-medium text-muted transition hover:text-ink aria-[current=page]:border-accent-600 aria-[current=page]:text-accent-700">{label}</A>
            }).collect_view()}
        </nav>
    }
}

/// Who wrote a result, shown beside it.
#[component]
fn ProvenanceLine(p: Provenance) -> impl IntoView {
    let badge = if p.fell_back {
        format!("{} (fallback)", p.label)
    } else {
        p.label.clone()
    };
    let knowledge =
        (!p.knowledge.is_empty()).then(|| format!(" · knowledge: {}", p.knowledge.join(", ")));
    view! {
        <p class="mt-3 flex flex-wrap items-center gap-2 text-xs text-muted" data-testid="provenance">
            <span class="rounded-full bg-accent-50 px-2.5 py-0.5 font-medium text-accent-700">{badge}</span>
            <span>{p.persona_name.map(|n| format!("as {n} · ")).unwrap_or_default()}{format!("{} ms · {} tokens in, {} out · {} attempt(s)", p.latency_ms, p.tokens_in, p.tokens_out, p.attempts)}{knowledge}</span>
        </p>
    }
}

// ---------------------------------------------------------------- Settings → AI

#[component]
pub fn AiSettingsPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let auth = use_auth();
    let is_admin = Signal::derive(move || auth.me().is_some_and(|m| m.role.is_admin()));
    let providers = LocalResource::new(move || async move { api::ai::providers(api).await });
    let settings = LocalResource::new(move || async move { api::ai::settings(api).await });
    let usage = LocalResource::new(move || async move { api::ai::usage(api).await });
    let default_choice = RwSignal::new(String::new());
    let fallback = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(s)) = settings.get() {
            default_choice.set(
                s.default_provider_id
                    .map(|i| i.to_string())
                    .unwrap_or_default(),
            );
            fallback.set(s.fallback_to_builtin);
        }
    });
    let save_settings = Action::new_local(move |input: &AiSettingsInput| {
        let input = input.clone();
        async move { api::ai::update_settings(api, &input).await }
    });
    on_result(save_settings, move |r| match r {
        Ok(_) => {
            toasts.success("AI settings saved.");
            settings.refetch();
        }
        Err(e) => toasts.error(e.message()),
    });

    // The provider form (new or editing one).
    let editing = RwSignal::new(None::<AiProviderId>);
    let form_open = RwSignal::new(false);
    let kind = RwSignal::new("openai".to_owned());
    let name = RwSignal::new(String::new());
    let base_url = RwSignal::new(String::new());
    let model = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let api_version = RwSignal::new(String::new());
    let secret_hint = RwSignal::new(None::<String>);
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let open_form = move |p: Option<AiProviderConfig>| {
        errs.set(BTreeMap::new());
        secret.set(String::new());
        match p {
            Some(p) => {
                editing.set(Some(p.id));
                kind.set(p.kind.as_str().to_owned());
                name.set(p.name);
                base_url.set(p.base_url);
                model.set(p.model);
                api_version.set(p.api_version.unwrap_or_default());
                secret_hint.set(p.secret.set.then(|| p.secret.ends_with.unwrap_or_default()));
            }
            None => {
                editing.set(None);
                kind.set("openai".into());
                name.set("OpenAI".into());
                base_url.set("https://api.openai.com/v1".into());
                model.set("gpt-4o-mini".into());
                api_version.set(String::new());
                secret_hint.set(None);
            }
        }
        form_open.set(true);
    };
    let save_provider = Action::new_local(move |_: &()| {
        let k = ProviderKind::parse(&kind.get_untracked());
        let input = AiProviderInput {
            name: Some(name.get_untracked()),
            kind: k,
            base_url: Some(base_url.get_untracked()),
            model: Some(model.get_untracked()),
            temperature: None,
            api_version: (k == Some(ProviderKind::Anthropic))
                .then(|| opt(&api_version.get_untracked())),
            secret: opt(&secret.get_untracked()).map(Some),
        };
        let id = editing.get_untracked();
        async move {
            match id {
                Some(id) => api::ai::update_provider(api, id, &input).await,
                None => api::ai::create_provider(api, &input).await,
            }
        }
    });
    on_result(save_provider, move |r| match r {
        Ok(p) => {
            toasts.success(format!("{} saved.", p.name));
            form_open.set(false);
            providers.refetch();
        }
        Err(e) => show_error(errs, &e),
    });
    let delete_provider = Action::new_local(move |id: &AiProviderId| {
        let id = *id;
        async move { api::ai::delete_provider(api, id).await }
    });
    on_result(delete_provider, move |r| match r {
        Ok(()) => {
            providers.refetch();
            settings.refetch();
        }
        Err(e) => toasts.error(e.message()),
    });
    let tests = RwSignal::new(BTreeMap::<AiProviderId, Option<ConnectionTest>>::new());
    let run_test = move |id: AiProviderId| {
        tests.update(|t| {
            t.insert(id, None);
        });
        spawn_local(async move {
            let r = api::ai::test_provider(api, id).await;
            match r {
                Ok(t) => tests.update(|m| {
                    m.insert(id, Some(t));
                }),
                Err(e) => {
                    tests.update(|m| {
                        m.remove(&id);
                    });
                    toasts.error(e.message());
                }
            }
            usage.refetch();
        });
    };
    let kinds: Vec<(String, String)> = [
        ProviderKind::Openai,
        ProviderKind::Anthropic,
        ProviderKind::Custom,
    ]
    .iter()
    .map(|k| (k.as_str().to_owned(), k.label().to_owned()))
    .collect();
    Effect::new(move |prev: Option<String>| {
        let k = kind.get();
        if prev.is_some_and(|p| p != k) && editing.get_untracked().is_none() {
            let (n, u, m) = match k.as_str() {
                "anthropic" => (
                    "Anthropic",
                    "https://api.anthropic.com",
                    "claude-sonnet-4-5",
                ),
                "custom" => ("My GPT", "https://", ""),
                _ => ("OpenAI", "https://api.openai.com/v1", "gpt-4o-mini"),
            };
            name.set(n.into());
            base_url.set(u.into());
            model.set(m.into());
        }
        k
    });

    view! {
        <AiTabs />
        <div class="grid gap-6 lg:grid-cols-[1fr_22rem]">
            <section>
                <div class="mb-3 flex items-center justify-between">
                    <h2 class="text-lg font-semibold">"Providers"</h2>
                    <Show when=move || is_admin.get()>
                        <button class="btn-primary" on:click=move |_| open_form(None)><span inner_html=icons::PLUS></span>"Add provider"</button>
                    </Show>
                </div>
                <Show when=move || form_open.get()>
                    <form class="card mb-4 grid gap-4 p-5 sm:grid-cols-2" aria-label="Provider" on:submit=move |ev| { ev.prevent_default(); save_provider.dispatch(()); }>
                        <SelectField label="Kind" name="provider-kind" value=kind options=kinds.clone() error=field_err(errs, "kind") help="OpenAI-compatible covers OpenAI, DeepSeek, Groq, OpenRouter, Ollama, vLLM and LM Studio." />
                        <Field label="Name" name="provider-name" value=name error=field_err(errs, "name") />
                        <Field label="Base URL (or endpoint URL)" name="provider-url" value=base_url error=field_err(errs, "base_url") help="Aura refuses private and local addresses unless the server allows them." />
                        <Field label="Model" name="provider-model" value=model error=field_err(errs, "model") placeholder="gpt-4o-mini, claude-sonnet-4-5, llama3.1…" />
                        <div>
                            <label class="field-label" for="field-provider-secret">{move || if kind.get() == "custom" { "Signing secret" } else { "API key" }}</label>
                            <input id="field-provider-secret" name="provider-secret" type="password" autocomplete="off" class="field-input"
                                placeholder=move || match secret_hint.get() { Some(h) if !h.is_empty() => format!("Saved, ends in {h}; leave empty to keep it"), Some(_) => "Saved; leave empty to keep it".into(), None => "Paste the key".into() }
                                prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev)) />
                            <p class="field-help">"Encrypted at rest and never shown again."</p>
                            {move || field_err(errs, "secret").get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                        </div>
                        <Show when=move || kind.get() == "anthropic">
                            <Field label="API version" name="provider-version" value=api_version error=field_err(errs, "api_version") placeholder="2023-06-01" />
                        </Show>
                        <FormButtons open=form_open pending=save_provider.pending().into() label="Save provider" />
                    </form>
                </Show>
                <Transition fallback=|| view! { <LoadingCard rows=2 /> }>
                    {move || providers.get().map(|r| match r {
                        Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState icon=icons::SPARKLES title="Using the built-in writer" body="Aura writes with its own offline writer until you add a provider: your custom GPT behind an endpoint, OpenAI, Anthropic, or a local model." />
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="grid gap-3">
                                {list.into_iter().map(|p| {
                                    let id = p.id;
                                    let edit = p.clone();
                                    let key = match (p.secret.set, &p.secret.ends_with) { (true, Some(h)) => format!("Key set, ends in {h}"), (true, None) => "Key set".into(), (false, _) => "No key".into() };
                                    view! {
                                        <li class="card p-4" data-testid="provider">
                                            <div class="flex flex-wrap items-start justify-between gap-3">
                                                <div>
                                                    <p class="font-semibold">{p.name.clone()}</p>
                                                    <p class="text-sm text-muted">{format!("{} · {} · {}", p.kind.label(), p.base_url, if p.model.is_empty() { "—".into() } else { p.model.clone() })}</p>
                                                    <p class="text-xs text-muted">{key}</p>
                                                </div>
                                                <div class="flex gap-2">
                                                    // Testing calls the provider's server: admins only.
                                                    <Show when=move || is_admin.get()>
                                                        <button class="btn-secondary" on:click=move |_| run_test(id)>"Test connection"</button>
                                                        <button class="btn-ghost" on:click={ let edit = edit.clone(); move |_| open_form(Some(edit.clone())) }>"Edit"</button>
                                                        <button class="btn-ghost text-red-600" on:click=move |_| { delete_provider.dispatch(id); }>"Delete"</button>
                                                    </Show>
                                                </div>
                                            </div>
                                            {move || tests.with(|t| t.get(&id).cloned()).map(|t| match t {
                                                None => view! { <div class="mt-3"><Spinner label="Calling the provider…" /></div> }.into_any(),
                                                Some(t) => view! {
                                                    <p class=if t.ok { "mt-3 rounded-lg bg-emerald-50 px-3 py-2 text-sm text-emerald-800" } else { "mt-3 rounded-lg bg-red-50 px-3 py-2 text-sm text-red-800" } role="status">
                                                        {if t.ok { "✓ " } else { "✗ " }}{t.message}{format!(" ({} ms)", t.latency_ms)}
                                                    </p>
                                                }.into_any(),
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    })}
                </Transition>
            </section>
            <aside class="grid content-start gap-6">
                <form class="card grid gap-4 p-5" aria-label="AI defaults" on:submit=move |ev| {
                    ev.prevent_default();
                    let id = default_choice.get_untracked().parse::<AiProviderId>().ok();
                    save_settings.dispatch(AiSettingsInput { default_provider_id: Some(id), fallback_to_builtin: Some(fallback.get_untracked()) });
                }>
                    <h2 class="font-semibold">"Default"</h2>
                    {move || {
                        let mut options = vec![(String::new(), BUILTIN_WRITER.to_owned())];
                        if let Some(Ok(list)) = providers.get() {
                            options.extend(list.into_iter().map(|p| (p.id.to_string(), p.name)));
                        }
                        view! { <SelectField label="Default provider" name="default-provider" value=default_choice options=options disabled=Signal::derive(move || !is_admin.get()) help="Personas can override it." /> }
                    }}
                    <label class="flex items-start gap-2 text-sm">
                        <input type="checkbox" class="mt-0.5" prop:checked=move || fallback.get() on:change=move |ev| fallback.set(event_target_checked(&ev)) disabled=move || !is_admin.get() />
                        <span>"Fall back to the built-in writer when a provider fails" <span class="block text-xs text-muted">"Otherwise a failure is reported and nothing is written."</span></span>
                    </label>
                    <Show when=move || is_admin.get()>
                        <button class="btn-primary" type="submit">"Save"</button>
                    </Show>
                </form>
                <section class="card p-5" aria-label="Usage">
                    <h2 class="mb-3 font-semibold">"Usage this month"</h2>
                    <Transition fallback=|| view! { <Spinner /> }>
                        {move || usage.get().map(|r| match r {
                            Err(e) => view! { <p class="text-sm text-red-700">{e.message()}</p> }.into_any(),
                            Ok(u) => view! {
                                <dl class="grid grid-cols-3 gap-2 text-center" data-testid="usage">
                                    <div><dt class="text-xs text-muted">"Calls"</dt><dd class="text-xl font-semibold">{u.calls}</dd></div>
                                    <div><dt class="text-xs text-muted">"Failed"</dt><dd class="text-xl font-semibold">{u.failed}</dd></div>
                                    <div><dt class="text-xs text-muted">"Tokens"</dt><dd class="text-xl font-semibold">{u.tokens_in + u.tokens_out}</dd></div>
                                </dl>
                                <ul class="mt-4 divide-y divide-line text-sm">
                                    {u.rows.into_iter().map(|r| view! {
                                        <li class="py-2">
                                            <p class="font-medium">{format!("{} · {}", r.provider_name, r.operation.label())}</p>
                                            <p class="text-xs text-muted">{format!("{} calls, {} failed, {} fell back · {}+{} tokens · {} ms average", r.calls, r.failed, r.fallbacks, r.tokens_in, r.tokens_out, r.avg_latency_ms)}</p>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                        })}
                    </Transition>
                </section>
            </aside>
        </div>
    }
}

// ---------------------------------------------------------------- AI studio

#[component]
pub fn AiStudioPage() -> impl IntoView {
    let api = use_api();
    let personas = LocalResource::new(move || async move { api::ai::personas(api).await });
    let contacts = LocalResource::new(move || async move {
        api::contacts::list(api, &Default::default(), &aura_types::PageQuery::first(50)).await
    });
    let operation = RwSignal::new("generate_step_template".to_owned());
    let persona = RwSignal::new(String::new());
    let contact = RwSignal::new(String::new());
    let channel = RwSignal::new("email".to_owned());
    let offer = RwSignal::new("A free home valuation and a sale in under 30 days".to_owned());
    let icp = RwSignal::new("Homeowners thinking of selling this year".to_owned());
    let goal = RwSignal::new("a 15-minute call".to_owned());
    let instructions = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let goal_choice = RwSignal::new("higher_reply_rate".to_owned());
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let result = RwSignal::new(None::<Result<StudioResult, String>>);
    let running = RwSignal::new(false);

    let run = move || {
        errs.set(BTreeMap::new());
        running.set(true);
        result.set(None);
        let op = operation.get_untracked();
        let persona_id = persona.get_untracked().parse::<PersonaId>().ok();
        let contact_id = contact.get_untracked().parse().ok();
        let ch = Channel::parse(&channel.get_untracked()).unwrap_or(Channel::Email);
        let generate = GenerateRequest {
            persona_id,
            campaign: CampaignBrief {
                name: "Studio".into(),
                offer: offer.get_untracked(),
                icp: icp.get_untracked(),
                goal: goal.get_untracked(),
            },
            step: StepBrief {
                channel: ch,
                number: 1,
                instructions: instructions.get_untracked(),
            },
            contact_id,
        };
        let body = text.get_untracked();
        let improve_goal = ImproveGoal::parse(&goal_choice.get_untracked())
            .unwrap_or(ImproveGoal::HigherReplyRate);
        spawn_local(async move {
            let r = match op.as_str() {
                "generate_message_for_lead" => api::ai::generate_message(api, &generate)
                    .await
                    .map(StudioResult::Draft),
                "improve_message" => api::ai::improve(
                    api,
                    &ImproveRequest {
                        persona_id,
                        channel: ch,
                        goal: improve_goal,
                        subject: None,
                        text: body,
                    },
                )
                .await
                .map(StudioResult::Draft),
                "suggest_replies" => api::ai::suggest_replies(
                    api,
                    &SuggestRepliesRequest {
                        persona_id,
                        channel: ch,
                        contact_id,
                        conversation: vec![ConversationMessage {
                            direction: Direction::Inbound,
                            text: body,
                        }],
                    },
                )
                .await
                .map(StudioResult::Replies),
                "classify_reply" => api::ai::classify(
                    api,
                    &ClassifyRequest {
                        text: body,
                        ..Default::default()
                    },
                )
                .await
                .map(StudioResult::Classified),
                _ => api::ai::generate_step_template(api, &generate)
                    .await
                    .map(StudioResult::Draft),
            };
            running.set(false);
            match r {
                Ok(v) => result.set(Some(Ok(v))),
                Err(e) => {
                    let fields = e.fields();
                    let message = if fields.is_empty() {
                        e.message()
                    } else {
                        fields
                            .iter()
                            .map(|(k, v)| format!("{k}: {v}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    errs.set(fields);
                    result.set(Some(Err(message)));
                }
            }
        });
    };
    let ops: Vec<(String, String)> = [
        AiOperation::GenerateStepTemplate,
        AiOperation::GenerateMessageForLead,
        AiOperation::ImproveMessage,
        AiOperation::SuggestReplies,
        AiOperation::ClassifyReply,
    ]
    .iter()
    .map(|o| (o.as_str().to_owned(), o.label().to_owned()))
    .collect();
    let channels: Vec<(String, String)> = Channel::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.label().to_owned()))
        .collect();
    let goals: Vec<(String, String)> = ImproveGoal::ALL
        .iter()
        .map(|g| (g.as_str().to_owned(), g.label().to_owned()))
        .collect();
    let uses_brief = move || {
        matches!(
            operation.get().as_str(),
            "generate_step_template" | "generate_message_for_lead"
        )
    };
    view! {
        <PageHeader title="AI studio" subtitle="Try the same calls the campaign builder makes: pick an operation, a persona and a sample lead." />
        <AiTabs />
        <div class="grid gap-6 lg:grid-cols-[24rem_1fr]">
            <form class="card grid content-start gap-4 p-5" aria-label="Studio" on:submit=move |ev| { ev.prevent_default(); run(); }>
                <SelectField label="Operation" name="operation" value=operation options=ops />
                {move || {
                    let mut options = vec![(String::new(), "First persona".to_owned())];
                    if let Some(Ok(list)) = personas.get() {
                        options.extend(list.into_iter().map(|p| (p.id.to_string(), p.name)));
                    }
                    view! { <SelectField label="Persona" name="persona" value=persona options=options /> }
                }}
                <Show when=move || operation.get() != "classify_reply">
                    <SelectField label="Channel" name="channel" value=channel options=channels.clone() />
                </Show>
                <Show when=move || uses_brief() || operation.get() == "suggest_replies">
                    {move || {
                        let mut options = vec![(String::new(), "No lead (template only)".to_owned())];
                        if let Some(Ok(page)) = contacts.get() {
                            options.extend(page.items.into_iter().map(|c| (c.id.to_string(), c.full_name)));
                        }
                        view! { <SelectField label="Sample lead" name="lead" value=contact options=options error=field_err(errs, "contact_id") /> }
                    }}
                </Show>
                <Show when=uses_brief>
                    <Field label="Offer" name="offer" value=offer error=field_err(errs, "campaign.offer") />
                    <Field label="Ideal customer" name="icp" value=icp error=field_err(errs, "campaign.icp") />
                    <Field label="Goal" name="goal" value=goal error=field_err(errs, "campaign.goal") />
                    <TextArea label="Step instructions" name="instructions" value=instructions error=field_err(errs, "step.instructions") rows=2 placeholder="e.g. Mention the spring market. Keep it short." />
                </Show>
                <Show when=move || operation.get() == "improve_message">
                    <SelectField label="Improve for" name="improve-goal" value=goal_choice options=goals.clone() />
                </Show>
                <Show when=move || !uses_brief()>
                    <TextArea label=match operation.get_untracked().as_str() { "classify_reply" | "suggest_replies" => "The lead's reply", _ => "Message" } name="text" value=text error=field_err(errs, "text") rows=6 />
                </Show>
                <button class="btn-primary" type="submit" disabled=move || running.get()>{move || if running.get() { "Working…" } else { "Run" }}</button>
            </form>
            <section aria-label="Result" aria-live="polite">
                {move || match (running.get(), result.get()) {
                    (true, _) => view! { <div class="card p-6"><Spinner label="Writing…" /></div> }.into_any(),
                    (false, None) => view! { <EmptyState icon=icons::SPARKLES title="Nothing run yet" body="Choose an operation and press Run. With no provider configured, the built-in writer answers, offline and labelled." /> }.into_any(),
                    (false, Some(Err(m))) => view! { <ErrorCard message=m /> }.into_any(),
                    (false, Some(Ok(r))) => r.view(),
                }}
            </section>
        </div>
    }
}

#[derive(Clone)]
enum StudioResult {
    Draft(DraftResult),
    Replies(RepliesResult),
    Classified(ClassifyResult),
}

impl StudioResult {
    fn view(self) -> AnyView {
        match self {
            StudioResult::Draft(d) => view! {
                <article class="card p-6" data-testid="studio-result">
                    {d.draft.subject.map(|s| view! { <p class="mb-3 text-sm"><span class="text-muted">"Subject: "</span><strong>{s}</strong></p> })}
                    <pre class="whitespace-pre-wrap font-sans text-sm leading-relaxed">{d.draft.body}</pre>
                    <ProvenanceLine p=d.provenance />
                </article>
            }
            .into_any(),
            StudioResult::Replies(r) => view! {
                <article class="card p-6" data-testid="studio-result">
                    <ol class="grid gap-3">
                        {r.replies.into_iter().map(|t| view! { <li class="rounded-lg border border-line p-3 text-sm">{t}</li> }).collect_view()}
                    </ol>
                    <ProvenanceLine p=r.provenance />
                </article>
            }
            .into_any(),
            StudioResult::Classified(c) => view! {
                <article class="card p-6" data-testid="studio-result">
                    <p class="text-lg font-semibold">{c.classification.label.label()}</p>
                    <p class="text-sm text-muted">{format!("{:.0}% confident · decided by {} · {}", c.classification.confidence * 100.0, c.classification.decided_by.label().to_lowercase(), c.classification.reason)}</p>
                    {c.provenance.map(|p| view! { <ProvenanceLine p=p /> })}
                </article>
            }
            .into_any(),
        }
    }
}

// ---------------------------------------------------------------- Personas

#[component]
pub fn PersonasPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let list = LocalResource::new(move || async move { api::ai::personas(api).await });
    let providers = LocalResource::new(move || async move { api::ai::providers(api).await });
    let selected = RwSignal::new(None::<PersonaId>);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let prompt = RwSignal::new(String::new());
    let style = RwSignal::new("conversational".to_owned());
    let provider = RwSignal::new(String::new());
    let model = RwSignal::new(String::new());
    let channels = RwSignal::new(Channel::ALL.to_vec());
    let auto_reply = RwSignal::new(false);
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let load = move |p: Option<Persona>| {
        errs.set(BTreeMap::new());
        match p {
            Some(p) => {
                selected.set(Some(p.id));
                name.set(p.name);
                description.set(p.description);
                prompt.set(p.system_prompt);
                style.set(p.style.as_str().into());
                provider.set(p.provider_id.map(|i| i.to_string()).unwrap_or_default());
                model.set(p.model.unwrap_or_default());
                channels.set(p.channels);
                auto_reply.set(p.can_auto_reply);
            }
            None => {
                selected.set(None);
                name.set(String::new());
                description.set(String::new());
                prompt.set(String::new());
                style.set("conversational".into());
                provider.set(String::new());
                model.set(String::new());
                channels.set(Channel::ALL.to_vec());
                auto_reply.set(false);
            }
        }
    };
    Effect::new(move |_| {
        if selected.get_untracked().is_none() {
            if let Some(Ok(l)) = list.get() {
                if let Some(first) = l.into_iter().next() {
                    load(Some(first));
                }
            }
        }
    });
    let save = Action::new_local(move |_: &()| {
        let input = PersonaInput {
            name: Some(name.get_untracked()),
            description: Some(description.get_untracked()),
            system_prompt: Some(prompt.get_untracked()),
            style: WritingStyle::parse(&style.get_untracked()),
            channels: Some(channels.get_untracked()),
            provider_id: Some(provider.get_untracked().parse().ok()),
            model: Some(opt(&model.get_untracked())),
            temperature: None,
            can_auto_reply: Some(auto_reply.get_untracked()),
        };
        let id = selected.get_untracked();
        async move {
            match id {
                Some(id) => api::ai::update_persona(api, id, &input).await,
                None => api::ai::create_persona(api, &input).await,
            }
        }
    });
    on_result(save, move |r| match r {
        Ok(p) => {
            toasts.success(format!("{} saved.", p.name));
            load(Some(p));
            list.refetch();
        }
        Err(e) => {
            errs.set(e.fields());
            toasts.error(e.message());
        }
    });
    let duplicate = Action::new_local(move |id: &PersonaId| {
        let id = *id;
        async move { api::ai::duplicate_persona(api, id).await }
    });
    on_result(duplicate, move |r| match r {
        Ok(p) => {
            toasts.success(format!("Created {}.", p.name));
            load(Some(p));
            list.refetch();
        }
        Err(e) => toasts.error(e.message()),
    });
    let remove = Action::new_local(move |id: &PersonaId| {
        let id = *id;
        async move { api::ai::delete_persona(api, id).await }
    });
    on_result(remove, move |r| match r {
        Ok(()) => {
            load(None);
            list.refetch();
        }
        Err(e) => toasts.error(e.message()),
    });
    let styles: Vec<(String, String)> = WritingStyle::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
        .collect();
    view! {
        <PageHeader title="Personas" subtitle="The voices your messages are written in. Replace the prompts with your own GPTs' instructions.">
            <button class="btn-primary" on:click=move |_| load(None)><span inner_html=icons::PLUS></span>"New persona"</button>
        </PageHeader>
        <AiTabs />
        <div class="grid gap-6 lg:grid-cols-[16rem_1fr]">
            <Transition fallback=|| view! { <LoadingCard rows=4 /> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                    Ok(l) => view! {
                        <ul class="card divide-y divide-line self-start" aria-label="Personas">
                            {l.into_iter().map(|p| {
                                let id = p.id;
                                let pick = p.clone();
                                view! {
                                    <li>
                                        <button class=move || if selected.get() == Some(id) { "w-full bg-accent-50 px-4 py-3 text-left" } else { "w-full px-4 py-3 text-left hover:bg-slate-50" } on:click=move |_| load(Some(pick.clone()))>
                                            <span class="block font-medium">{p.name.clone()}</span>
                                            <span class="block text-xs text-muted">{p.style.label()}{if p.can_auto_reply { " · may auto-reply" } else { "" }}</span>
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
            <form class="card grid gap-4 p-5" aria-label="Persona" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <div class="grid gap-4 sm:grid-cols-2">
                    <Field label="Name" name="persona-name" value=name error=field_err(errs, "name") />
                    <SelectField label="Built-in writer style" name="persona-style" value=style options=styles error=field_err(errs, "style") help="How the offline writer writes for this persona." />
                </div>
                <Field label="Description" name="persona-description" value=description error=field_err(errs, "description") />
                <TextArea label="System prompt" name="persona-prompt" value=prompt error=field_err(errs, "system_prompt") rows=14 help="Sent to your provider with every call made as this persona." />
                <fieldset>
                    <legend class="field-label">"Channels"</legend>
                    <div class="flex gap-4">
                        {Channel::ALL.iter().map(|c| {
                            let c = *c;
                            view! {
                                <label class="flex items-center gap-2 text-sm">
                                    <input type="checkbox" prop:checked=move || channels.with(|l| l.contains(&c)) on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        channels.update(|l| { l.retain(|x| *x != c); if on { l.push(c); } });
                                    } />
                                    {c.label()}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                    {move || field_err(errs, "channels").get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                </fieldset>
                <div class="grid gap-4 sm:grid-cols-2">
                    {move || {
                        let mut options = vec![(String::new(), "Organization default".to_owned())];
                        if let Some(Ok(list)) = providers.get() {
                            options.extend(list.into_iter().map(|p| (p.id.to_string(), p.name)));
                        }
                        view! { <SelectField label="Provider" name="persona-provider" value=provider options=options error=field_err(errs, "provider_id") /> }
                    }}
                    <Field label="Model override" name="persona-model" value=model error=field_err(errs, "model") placeholder="Provider's model" />
                </div>
                <label class="flex items-center gap-2 text-sm"><input type="checkbox" prop:checked=move || auto_reply.get() on:change=move |ev| auto_reply.set(event_target_checked(&ev)) />"May answer replies on its own"</label>
                <div class="flex flex-wrap gap-2">
                    <button class="btn-primary" type="submit" disabled=move || save.pending().get()>{move || if selected.get().is_some() { "Save persona" } else { "Create persona" }}</button>
                    {move || selected.get().map(|id| view! {
                        <button class="btn-secondary" type="button" on:click=move |_| { duplicate.dispatch(id); }>"Duplicate"</button>
                        <button class="btn-ghost text-red-600" type="button" on:click=move |_| { remove.dispatch(id); }>"Delete"</button>
                    })}
                </div>
            </form>
        </div>
    }
}

// ---------------------------------------------------------------- Knowledge base

#[component]
pub fn KnowledgePage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let q = RwSignal::new(String::new());
    // Searched once the person pauses typing.
    let q_settled = crate::live::use_debounced(q, std::time::Duration::from_millis(250));
    let list = LocalResource::new(move || {
        let q = q_settled.get();
        async move { api::ai::articles(api, opt(&q).as_deref()).await }
    });
    let editing = RwSignal::new(None::<Option<aura_types::ArticleId>>);
    let title = RwSignal::new(String::new());
    let topic = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let content = RwSignal::new(String::new());
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let open = move |a: Option<KnowledgeArticle>| {
        errs.set(BTreeMap::new());
        editing.set(Some(a.as_ref().map(|a| a.id)));
        title.set(a.as_ref().map(|a| a.title.clone()).unwrap_or_default());
        topic.set(a.as_ref().map(|a| a.topic.clone()).unwrap_or_default());
        source.set(a.as_ref().map(|a| a.source.clone()).unwrap_or_default());
        content.set(a.map(|a| a.content).unwrap_or_default());
    };
    let save = Action::new_local(move |_: &()| {
        let input = ArticleInput {
            title: Some(title.get_untracked()),
            topic: Some(topic.get_untracked()),
            content: Some(content.get_untracked()),
            source: Some(source.get_untracked()),
        };
        let id = editing.get_untracked().flatten();
        async move {
            match id {
                Some(id) => api::ai::update_article(api, id, &input).await,
                None => api::ai::create_article(api, &input).await,
            }
        }
    });
    on_result(save, move |r| match r {
        Ok(a) => {
            toasts.success(format!("{} saved.", a.title));
            editing.set(None);
            list.refetch();
        }
        Err(e) => errs.set(e.fields()),
    });
    let remove = Action::new_local(move |id: &aura_types::ArticleId| {
        let id = *id;
        async move { api::ai::delete_article(api, id).await }
    });
    on_result(remove, move |r| match r {
        Ok(()) => list.refetch(),
        Err(e) => toasts.error(e.message()),
    });
    view! {
        <PageHeader title="Knowledge base" subtitle="Facts the AI may use: offers, prices, FAQs, listings, policies. The most relevant articles are sent with each call.">
            <button class="btn-primary" on:click=move |_| open(None)><span inner_html=icons::PLUS></span>"New article"</button>
        </PageHeader>
        <AiTabs />
        <Show when=move || editing.get().is_some()>
            <form class="card mb-6 grid gap-4 p-5" aria-label="Article" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <div class="grid gap-4 sm:grid-cols-3">
                    <Field label="Title" name="article-title" value=title error=field_err(errs, "title") />
                    <Field label="Topic" name="article-topic" value=topic error=field_err(errs, "topic") placeholder="pricing, FAQ, listing…" />
                    <Field label="Source" name="article-source" value=source error=field_err(errs, "source") placeholder="URL or document" />
                </div>
                <TextArea label="Content" name="article-content" value=content error=field_err(errs, "content") rows=10 />
                <div class="flex gap-2">
                    <button class="btn-primary" type="submit" disabled=move || save.pending().get()>"Save article"</button>
                    <button class="btn-secondary" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                </div>
            </form>
        </Show>
        <input class="field-input mb-4 max-w-md" type="search" placeholder="Search articles…" aria-label="Search articles" prop:value=move || q.get() on:input=move |ev| q.set(event_target_value(&ev)) />
        <Transition fallback=|| view! { <LoadingCard rows=3 /> }>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                Ok(l) if l.is_empty() => view! { <EmptyState icon=icons::BOOK title="No articles" body="Add what your writers should know: your offer, prices, guarantees, answers to common questions." /> }.into_any(),
                Ok(l) => view! {
                    <ul class="grid gap-3 md:grid-cols-2">
                        {l.into_iter().map(|a| {
                            let id = a.id;
                            let edit = a.clone();
                            view! {
                                <li class="card p-4">
                                    <div class="flex items-start justify-between gap-2">
                                        <div>
                                            <p class="font-semibold">{a.title.clone()}</p>
                                            <p class="text-xs text-muted">{[a.topic.clone(), a.source.clone(), short_date(&a.updated_at)].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")}</p>
                                        </div>
                                        <div class="flex gap-1">
                                            <button class="btn-ghost" on:click=move |_| open(Some(edit.clone()))>"Edit"</button>
                                            <button class="btn-ghost text-red-600" on:click=move |_| { remove.dispatch(id); }>"Delete"</button>
                                        </div>
                                    </div>
                                    <p class="mt-2 line-clamp-3 text-sm text-muted">{a.content}</p>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Transition>
    }
}

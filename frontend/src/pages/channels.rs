//! Settings → Channels: the Twilio accounts (or the sandbox number) SMS and WhatsApp go through,
//! their numbers, a Test of each account, and the webhook addresses to paste into Twilio.

use crate::api;
use crate::components::*;
use crate::icons;
use crate::state::{use_api, use_auth, use_toasts};
use aura_types::{
    NumberKind, PhoneAccount, PhoneAccountId, PhoneAccountInput, PhoneAccountKind,
    PhoneNumberInput, SimulatedText,
};
use leptos::{prelude::*, task::spawn_local};
use std::collections::BTreeMap;

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A webhook address with a copy button.
#[component]
fn CopyLine(#[prop(into)] label: String, #[prop(into)] value: String) -> impl IntoView {
    let toasts = use_toasts();
    let copy_value = value.clone();
    let copy = move |_| {
        let _ = window().navigator().clipboard().write_text(&copy_value);
        toasts.success("Copied to the clipboard.");
    };
    view! {
        <div class="flex items-center gap-2">
            <span class="w-40 shrink-0 text-xs text-muted">{label.clone()}</span>
            <code class="flex-1 break-all rounded-md bg-slate-50 px-2 py-1 font-mono text-xs ring-1 ring-line" data-testid="webhook">{value}</code>
            <button type="button" class="btn-secondary px-2" on:click=copy aria-label=format!("Copy the {label} address") inner_html=icons::COPY></button>
        </div>
    }
}

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let auth = use_auth();
    let is_admin = Signal::derive(move || auth.me().is_some_and(|m| m.role.is_admin()));
    let accounts = LocalResource::new(move || async move { api::phone::list(api).await });
    let refresh = move || accounts.refetch();

    let form_open = RwSignal::new(false);
    let name = RwSignal::new("Twilio".to_owned());
    let sid = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let key_sid = RwSignal::new(String::new());
    let key_secret = RwSignal::new(String::new());
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    reset_when_opened(form_open, move || {
        errs.set(BTreeMap::new());
        sid.set(String::new());
        token.set(String::new());
        key_sid.set(String::new());
        key_secret.set(String::new());
    });
    let save = Action::new_local(move |input: &PhoneAccountInput| {
        let input = input.clone();
        async move { api::phone::create(api, &input).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            form_open.set(false);
            toasts.success("Twilio account connected. Add its numbers, then Test it.");
            refresh();
        }
        Some(Err(e)) => show_error(errs, &e),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(PhoneAccountInput {
            name: opt(&name.get_untracked()),
            account_sid: Some(sid.get_untracked()),
            auth_token: Some(token.get_untracked()),
            api_key_sid: opt(&key_sid.get_untracked()),
            api_key_secret: opt(&key_secret.get_untracked()),
        });
    };
    let connect_sandbox = move |_| {
        spawn_local(async move {
            match api::phone::connect_sandbox(api).await {
                Ok(_) => {
                    toasts.success("Sandbox number connected: its messages are kept, never sent.");
                    refresh();
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };

    view! {
        <PageHeader title="Channels" subtitle="The numbers SMS and WhatsApp steps go out from: your Twilio accounts, or the sandbox number for trying campaigns out.">
            <Show when=move || is_admin.get()>
                <button class="btn-secondary" on:click=connect_sandbox>"Connect the sandbox number"</button>
                <button class="btn-primary" on:click=move |_| form_open.set(true)>"Connect Twilio"</button>
            </Show>
        </PageHeader>
        <Show when=move || form_open.get()>
            <form class="card mb-6 grid gap-4 p-6 sm:grid-cols-2" on:submit=submit novalidate>
                <h2 class="text-base font-semibold sm:col-span-2">"Connect a Twilio account"</h2>
                <Field label="Name" name="name" value=name error=field_err(errs, "name") />
                <Field label="Account SID" name="account_sid" value=sid error=field_err(errs, "account_sid") placeholder="AC…" autofocus=true help="Twilio Console → Account info" />
                <Field label="Auth Token" name="auth_token" kind="password" value=token error=field_err(errs, "auth_token") autocomplete="off" help="Required: Twilio signs its webhooks with it. Sealed at rest, never shown again." />
                <Field label="API key SID (optional)" name="api_key_sid" value=key_sid error=field_err(errs, "api_key_sid") placeholder="SK…" help="Send with an API key instead of the Auth Token." />
                <Field label="API key secret" name="api_key_secret" kind="password" value=key_secret error=field_err(errs, "api_key_secret") autocomplete="off" />
                <FormButtons open=form_open pending=save.pending().into() label="Connect" />
            </form>
        </Show>
        <Suspense fallback=|| view! { <LoadingCard /> }>
            {move || accounts.get().map(|r| match r {
                Err(e) => view! { <ErrorCard message=e.message() retry=Callback::new(move |_| refresh()) /> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <EmptyState icon=icons::PHONE title="No text-message channel yet" body="Connect a Twilio account to send SMS and WhatsApp steps, or the sandbox number to try a campaign out: its messages are kept in the outbox, never sent." />
                }.into_any(),
                Ok(list) => view! {
                    <div class="space-y-6">
                        {list.into_iter().map(|a| view! { <AccountCard account=a is_admin=is_admin on_change=Callback::new(move |_| refresh()) /> }).collect_view()}
                    </div>
                }.into_any(),
            })}
        </Suspense>
        <QuietHoursCard />
    }
}

/// The quiet hours every text follows, to review (they are the law's, not settings).
#[component]
fn QuietHoursCard() -> impl IntoView {
    let api = use_api();
    let rules = LocalResource::new(move || async move { api::phone::quiet_hours(api).await });
    let hours = |w: &aura_types::QuietWindow| {
        let sunday = match w.sunday_start {
            None => "no texts on Sundays".to_owned(),
            Some(h) if h == w.start => "Sundays too".to_owned(),
            Some(h) => format!("Sundays from {h}:00"),
        };
        format!("{}:00–{}:00, {sunday}", w.start, w.end)
    };
    view! {
        <details class="card mt-6 p-5" data-testid="quiet-hours">
            <summary class="cursor-pointer font-semibold">"Quiet hours"</summary>
            <p class="mt-2 text-sm text-muted">"A text reaches a person only inside these hours of their local time (their time zone, else their state's — every zone of a state that spans two — else their number's country). One due outside waits for the next allowed moment."</p>
            <Suspense fallback=|| view! { <LoadingCard rows=2 /> }>
                {move || rules.get().map(|r| match r {
                    Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                    Ok(q) => view! {
                        <table class="mt-3 w-full text-sm">
                            <thead><tr class="text-left text-xs text-muted"><th class="py-1">"Where"</th><th class="py-1">"Texts may arrive"</th></tr></thead>
                            <tbody class="divide-y divide-line">
                                <tr><td class="py-1.5">"Everywhere else"</td><td class="py-1.5">{hours(&q.default)}</td></tr>
                                {q.states.iter().map(|s| view! {
                                    <tr><td class="py-1.5">{format!("{} ({})", s.name, s.code)}</td><td class="py-1.5">{hours(&s.window)}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </details>
    }
}

#[component]
fn AccountCard(
    account: PhoneAccount,
    is_admin: Signal<bool>,
    on_change: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let id: PhoneAccountId = account.id;
    let sandbox = account.kind == PhoneAccountKind::Sandbox;
    let testing = RwSignal::new(false);
    let result = RwSignal::new(
        account
            .last_test_error
            .clone()
            .map(|e| (false, e))
            .or_else(|| {
                account
                    .last_tested_at
                    .map(|_| (true, "Tested: connected.".to_owned()))
            }),
    );
    let test = move |_| {
        testing.set(true);
        spawn_local(async move {
            match api::phone::test(api, id).await {
                Ok(t) => {
                    result.try_set(Some((t.ok, t.message)));
                }
                Err(e) => toasts.error(e.message()),
            }
            testing.try_set(false);
        });
    };
    let remove = move |_| {
        let confirmed = window()
            .confirm_with_message("Remove this account and its numbers? Text steps will wait until another number is connected.")
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        spawn_local(async move {
            match api::phone::delete(api, id).await {
                Ok(()) => {
                    toasts.success("Account removed.");
                    on_change.run(());
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    // Adding a number.
    let adding = RwSignal::new(false);
    let number = RwSignal::new(String::new());
    let kind = RwSignal::new("long_code".to_owned());
    let whatsapp = RwSignal::new(false);
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let add = Callback::new(move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = PhoneNumberInput {
            number: Some(number.get_untracked()),
            kind: NumberKind::parse(&kind.get_untracked()),
            whatsapp: Some(whatsapp.get_untracked()),
            sms: Some(true),
            ..Default::default()
        };
        spawn_local(async move {
            match api::phone::add_number(api, id, &input).await {
                Ok(_) => {
                    adding.try_set(false);
                    number.try_set(String::new());
                    errs.try_set(BTreeMap::new());
                    toasts.success("Number added.");
                    on_change.run(());
                }
                Err(e) => show_error(errs, &e),
            }
        });
    });
    let kinds = StoredValue::new(
        NumberKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str().to_owned(),
                    format!("{} ({} a second)", k.label(), k.default_per_second()),
                )
            })
            .collect::<Vec<(String, String)>>(),
    );
    // The sandbox: a text as a lead would send it.
    let sim_from = RwSignal::new("+1 415 555 0142".to_owned());
    let sim_body = RwSignal::new(String::new());
    let sim_whatsapp = RwSignal::new(false);
    let sim_errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let simulate = Callback::new(move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = SimulatedText {
            from: sim_from.get_untracked(),
            body: sim_body.get_untracked(),
            whatsapp: sim_whatsapp.get_untracked(),
        };
        spawn_local(async move {
            match api::phone::simulate(api, id, &input).await {
                Ok(r) => {
                    sim_body.try_set(String::new());
                    sim_errs.try_set(BTreeMap::new());
                    match r.answer {
                        Some(a) => toasts
                            .success(format!("Simulated: it is in the Inbox. Aura answered: {a}")),
                        None => toasts.success("Simulated: it is in the Inbox."),
                    }
                }
                Err(e) => show_error(sim_errs, &e),
            }
        });
    });
    let webhooks = account.webhooks.clone();
    // A shared key Twilio's Webhooks settings may sign with (HMAC-SHA256).
    let key_id = RwSignal::new(String::new());
    let key_secret = RwSignal::new(String::new());
    let key_errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let save_key = Callback::new(move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = aura_types::WebhookKeyInput {
            key_id: key_id.get_untracked(),
            secret: key_secret.get_untracked(),
        };
        spawn_local(async move {
            match api::phone::set_webhook_key(api, id, &input).await {
                Ok(_) => {
                    key_secret.try_set(String::new());
                    key_errs.try_set(BTreeMap::new());
                    toasts.success("Webhooks signed with this key are accepted.");
                    on_change.run(());
                }
                Err(e) => show_error(key_errs, &e),
            }
        });
    });
    let forget_key = move |_| {
        spawn_local(async move {
            match api::phone::remove_webhook_key(api, id).await {
                Ok(()) => {
                    toasts.success("Key forgotten: webhooks must be signed with the Auth Token.");
                    on_change.run(());
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    let shared_key = account.webhook_key_id.clone();
    view! {
        <section class="card p-6" data-testid="phone-account">
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div>
                    <h2 class="flex items-center gap-2 text-base font-semibold">
                        {account.name.clone()}
                        {sandbox.then(|| view! { <span class="badge bg-violet-50 text-violet-800 ring-violet-200" title="Nothing is sent: messages are kept in the outbox">"Sandbox"</span> })}
                    </h2>
                    {account.account_sid.clone().map(|s| view! { <p class="mt-1 font-mono text-xs text-muted">{s}</p> })}
                    {account.api_key_sid.clone().map(|s| view! { <p class="text-xs text-muted">{format!("Sends with API key {s}")}</p> })}
                </div>
                <Show when=move || is_admin.get()>
                    <div class="flex gap-2">
                        <button class="btn-secondary" on:click=test disabled=move || testing.get()>{move || if testing.get() { "Testing…" } else { "Test" }}</button>
                        <button class="btn-ghost text-rose-700" on:click=remove>"Remove"</button>
                    </div>
                </Show>
            </div>
            {move || result.get().map(|(ok, message)| view! {
                <p class=if ok { "mt-3 text-sm text-emerald-700" } else { "mt-3 text-sm text-rose-700" } role="status" data-testid="phone-test">{message}</p>
            })}
            {webhooks.map(|w| view! {
                <div class="mt-4 space-y-2">
                    <p class="text-xs text-muted">"Paste this into Twilio (each number's or Messaging Service's messaging settings, \"A message comes in\"):"</p>
                    <CopyLine label="A message comes in" value=w.inbound />
                    <p class="text-xs text-muted">"Aura names this status callback on every text it sends (nothing to paste; allow it where your account restricts callbacks):"</p>
                    <CopyLine label="Status callback" value=w.status_callback />
                    {match shared_key.clone() {
                        Some(k) => view! {
                            <p class="text-xs text-muted" data-testid="webhook-key">{format!("Webhooks signed with the shared key {k} (HMAC-SHA256) are accepted too. ")}
                                <Show when=move || is_admin.get()><button type="button" class="text-rose-700 hover:underline" on:click=forget_key>"Forget it"</button></Show>
                            </p>
                        }.into_any(),
                        None => view! {
                            <Show when=move || is_admin.get()>
                                <details class="text-sm">
                                    <summary class="cursor-pointer text-xs text-muted">"Twilio signs your webhooks with a shared key (Webhooks settings)?"</summary>
                                    <form class="mt-2 grid gap-2 sm:grid-cols-[1fr_1fr_auto] sm:items-end" on:submit=move |ev| save_key.run(ev)>
                                        <Field label="Key id" name="webhook_key_id" value=key_id error=field_err(key_errs, "key_id") />
                                        <Field label="Secret" name="webhook_key_secret" value=key_secret error=field_err(key_errs, "secret") kind="password" autocomplete="off" />
                                        <button class="btn-secondary" type="submit">"Save key"</button>
                                    </form>
                                </details>
                            </Show>
                        }.into_any(),
                    }}
                </div>
            })}
            <h3 class="mt-6 text-sm font-semibold">"Numbers"</h3>
            {if account.numbers.is_empty() {
                view! { <p class="mt-2 text-sm text-muted">"No number yet: add the numbers of this account that send."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 divide-y divide-line rounded-lg ring-1 ring-line">
                        {account.numbers.iter().map(|n| {
                            let channels = [n.sms.then_some("SMS"), n.whatsapp.then_some("WhatsApp")].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                            let nid = n.id;
                            let remove_number = move |_| {
                                spawn_local(async move {
                                    match api::phone::delete_number(api, nid).await {
                                        Ok(()) => { toasts.success("Number removed."); on_change.run(()); }
                                        Err(e) => toasts.error(e.message()),
                                    }
                                });
                            };
                            view! {
                                <li class="flex flex-wrap items-center justify-between gap-2 px-4 py-2 text-sm" data-testid="phone-number">
                                    <span class="font-mono">{n.number.clone()}</span>
                                    <span class="text-muted">{format!("{channels} · {} · {} a second", n.kind.label(), n.per_second)}</span>
                                    {(!sandbox).then(|| view! { <Show when=move || is_admin.get()><button class="btn-ghost text-xs" on:click=remove_number>"Remove"</button></Show> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {sandbox.then(|| view! {
                <form class="mt-6 grid gap-3 sm:grid-cols-3" on:submit=move |ev| simulate.run(ev) novalidate data-testid="simulate-text">
                    <h3 class="text-sm font-semibold sm:col-span-3">"Simulate a text to this number"</h3>
                    <Field label="From" name="sim-from" value=sim_from error=field_err(sim_errs, "from") />
                    <div class="sm:col-span-2">
                        <Field label="Message" name="sim-body" value=sim_body error=field_err(sim_errs, "body") placeholder="Yes, Saturday works. (Or STOP, START, HELP)" />
                    </div>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" prop:checked=move || sim_whatsapp.get() on:change=move |ev| sim_whatsapp.set(event_target_checked(&ev)) />
                        "Over WhatsApp"
                    </label>
                    <div class="sm:col-span-3"><button class="btn-secondary" type="submit">"Send to the sandbox"</button></div>
                </form>
            })}
            {(!sandbox).then(|| view! {
                <Show when=move || is_admin.get()>
                    <Show when=move || adding.get() fallback=move || view! { <button class="btn-secondary mt-3" on:click=move |_| adding.set(true)>"Add a number"</button> }>
                        <form class="mt-3 grid gap-3 sm:grid-cols-3" on:submit=move |ev| add.run(ev) novalidate>
                            <Field label="Number" name="number" value=number error=field_err(errs, "number") placeholder="+1 415 555 0100" autofocus=true />
                            <SelectField label="Kind" name="kind" value=kind options=kinds.get_value() />
                            <label class="flex items-end gap-2 pb-2 text-sm">
                                <input type="checkbox" prop:checked=move || whatsapp.get() on:change=move |ev| whatsapp.set(event_target_checked(&ev)) />
                                "Also sends WhatsApp"
                            </label>
                            <div class="flex gap-2 sm:col-span-3">
                                <button class="btn-primary" type="submit">"Add"</button>
                                <button class="btn-secondary" type="button" on:click=move |_| adding.set(false)>"Cancel"</button>
                            </div>
                        </form>
                    </Show>
                </Show>
            })}
        </section>
    }
}

/// The texts the sandbox number kept (SMS and WhatsApp), as phone bubbles, newest first; each
/// can be answered as the lead would (STOP included), which lands in the Inbox.
#[component]
pub fn PhoneOutbox() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let texts = crate::live::use_live(
        move || async move { api::phone::outbox(api).await },
        Some(std::time::Duration::from_secs(3)),
        |_| true,
    );
    // Loading, failed, or how many: what the list's frame depends on; the bubbles are keyed, so
    // a poll that brings a new text adds its bubble and leaves the others (and an answer being
    // typed) alone.
    let head = Memo::new(move |_| {
        texts.with(|d| {
            d.as_ref()
                .map(|r| r.as_ref().map(Vec::len).map_err(Clone::clone))
        })
    });
    let rows = Memo::new(move |_| {
        texts.with(|d| match d {
            Some(Ok(list)) => list.clone(),
            _ => Vec::new(),
        })
    });
    let answering = RwSignal::new(None::<uuid::Uuid>);
    let answer = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let send = move |from: String, whatsapp: bool| {
        let body = answer.get_untracked();
        if body.trim().is_empty() {
            toasts.error("Write what the lead answers.");
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let sandbox = api::phone::list(api).await.ok().and_then(|all| {
                all.into_iter()
                    .find(|a| a.kind == PhoneAccountKind::Sandbox)
            });
            let Some(sandbox) = sandbox else {
                busy.try_set(false);
                toasts.error("The sandbox number is not connected (Settings → Channels).");
                return;
            };
            let input = SimulatedText {
                from,
                body,
                whatsapp,
            };
            match api::phone::simulate(api, sandbox.id, &input).await {
                Ok(_) => {
                    toasts.success("The lead's answer is in the Inbox.");
                    answering.try_set(None);
                    answer.try_set(String::new());
                }
                Err(e) => toasts.error(e.message()),
            }
            busy.try_set(false);
        });
    };
    view! {
        <section aria-label="Texts" class="mt-8">
            <h2 class="text-lg font-semibold">"Texts"</h2>
            <p class="mb-3 text-sm text-muted">"What the sandbox number kept: every SMS and WhatsApp message exactly as it would have gone out. None was sent."</p>
            {move || match head.get() {
                None => view! { <LoadingCard rows=2 /> }.into_any(),
                Some(Err(e)) => view! { <ErrorCard message=e /> }.into_any(),
                Some(Ok(0)) => view! {
                    <EmptyState icon=icons::INBOX title="No text yet" body="Launch a campaign with an SMS or WhatsApp step; with the sandbox number connected, its texts land here." />
                }.into_any(),
                Some(Ok(_)) => view! {
                    <ul class="grid gap-3 sm:grid-cols-2 xl:grid-cols-3">
                        <For each=move || rows.get() key=|t| t.id let:t>
                            {
                                let id = t.id;
                                let whatsapp = t.channel == aura_types::Channel::Whatsapp;
                                let from = t.to_number.clone();
                                view! {
                                    <li class="card p-4" data-testid="phone-bubble">
                                        <p class="text-xs text-muted">{format!("{} to {} · {}", t.channel.label(), t.to_number, short_date(&t.created_at))}</p>
                                        <p class=if whatsapp { "mt-2 whitespace-pre-wrap rounded-2xl rounded-tr-sm bg-emerald-100 px-3 py-2 text-sm" } else { "mt-2 whitespace-pre-wrap rounded-2xl rounded-tr-sm bg-accent-600 px-3 py-2 text-sm text-white" }>{t.body.clone()}</p>
                                        <p class="mt-1 text-right text-[11px] text-muted">{format!("from {}", t.from_number)}</p>
                                        {move || if answering.get() == Some(id) {
                                            let from = from.clone();
                                            view! {
                                                <form class="mt-2 flex gap-2" on:submit=move |ev| { ev.prevent_default(); send(from.clone(), whatsapp); }>
                                                    <input class="input flex-1" aria-label="The lead's answer" placeholder="e.g. Yes please! or STOP" prop:value=move || answer.get() on:input=move |ev| answer.set(event_target_value(&ev)) />
                                                    <button class="btn-primary" type="submit" disabled=move || busy.get()>"Send"</button>
                                                </form>
                                            }.into_any()
                                        } else {
                                            view! { <button type="button" class="btn-ghost mt-2 text-sm" on:click=move |_| { answer.set(String::new()); answering.set(Some(id)); }>"Answer as the lead"</button> }.into_any()
                                        }}
                                    </li>
                                }
                            }
                        </For>
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

//! Settings → Mailboxes (the organization's email accounts: add, edit, test, pause, limits and
//! health) and the Outbox (what sandbox mailboxes caught, shown as it would have gone out).

use crate::api;
use crate::components::*;
use crate::icons;
use crate::live::use_live;
use crate::state::{use_api, use_auth, use_toasts};
use aura_types::{
    DkimKeyId, DkimKeyInput, Mailbox, MailboxId, MailboxInput, MailboxKind, MailboxStatus,
    MailboxTest, OutboxId, OutboxMessage, SendingLimits, ServerInput, SimulatedKind, SmtpSecurity,
};
use leptos::{prelude::*, task::spawn_local};
use std::collections::BTreeMap;

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A number field's value, or `field` named in the errors.
fn number<T: std::str::FromStr>(
    errs: &mut BTreeMap<String, String>,
    field: &str,
    text: &str,
) -> Option<T> {
    match text.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.insert(field.into(), "must be a whole number".into());
            None
        }
    }
}

/// The kind and health of a mailbox as badges.
fn badges(m: &Mailbox) -> impl IntoView {
    let kind = (m.kind == MailboxKind::Sandbox).then(|| view! {
        <span class="badge bg-violet-50 text-violet-800 ring-violet-200" title="Nothing leaves this machine: messages are kept in the Outbox">"Sandbox"</span>
    });
    let health = if m.status == MailboxStatus::Paused {
        view! { <span class="badge bg-amber-50 text-amber-800 ring-amber-200" data-testid="mailbox-health">"Paused"</span> }.into_any()
    } else if m.health.consecutive_failures > 0 {
        view! { <span class="badge bg-rose-50 text-rose-800 ring-rose-200" data-testid="mailbox-health">{format!("Failing ({}×)", m.health.consecutive_failures)}</span> }.into_any()
    } else if m.health.last_success_at.is_some() {
        view! { <span class="badge bg-emerald-50 text-emerald-800 ring-emerald-200" data-testid="mailbox-health">"Healthy"</span> }.into_any()
    } else {
        view! { <span class="badge bg-slate-50 text-slate-700 ring-line" data-testid="mailbox-health">"Not used yet"</span> }.into_any()
    };
    let dkim = m.dkim_selector.clone().map(|s| view! {
        <span class="badge bg-sky-50 text-sky-800 ring-sky-200" data-testid="mailbox-dkim" title=format!("Signed with the DKIM key of its domain (selector {s})")>"DKIM signed"</span>
    });
    view! { {kind}{health}{dkim} }
}

#[component]
pub fn MailboxesPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let auth = use_auth();
    let is_admin = Signal::derive(move || auth.me().is_some_and(|m| m.role.is_admin()));
    let mailboxes = LocalResource::new(move || async move { api::mailboxes::list(api).await });

    let editing = RwSignal::new(None::<MailboxId>);
    let form_open = RwSignal::new(false);
    let kind = RwSignal::new("smtp".to_owned());
    let from_name = RwSignal::new(String::new());
    let from_email = RwSignal::new(String::new());
    let reply_to = RwSignal::new(String::new());
    let signature = RwSignal::new(String::new());
    let host = RwSignal::new(String::new());
    let port = RwSignal::new("587".to_owned());
    let security = RwSignal::new("starttls".to_owned());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password_saved = RwSignal::new(false);
    let imap_host = RwSignal::new(String::new());
    let imap_port = RwSignal::new("993".to_owned());
    let imap_security = RwSignal::new("tls".to_owned());
    let imap_username = RwSignal::new(String::new());
    let imap_password = RwSignal::new(String::new());
    let daily = RwSignal::new("50".to_owned());
    let ramp_start = RwSignal::new("0".to_owned());
    let ramp_step = RwSignal::new("0".to_owned());
    let interval = RwSignal::new("60".to_owned());
    let jitter = RwSignal::new("30".to_owned());
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());

    let open_form = move |m: Option<Mailbox>| {
        errs.set(BTreeMap::new());
        password.set(String::new());
        imap_password.set(String::new());
        let (limits, m) = match m {
            Some(m) => (m.limits.clone(), Some(m)),
            None => (SendingLimits::default(), None),
        };
        editing.set(m.as_ref().map(|m| m.id));
        kind.set(m.as_ref().map_or("smtp", |m| m.kind.as_str()).to_owned());
        from_name.set(m.as_ref().map(|m| m.from_name.clone()).unwrap_or_default());
        from_email.set(m.as_ref().map(|m| m.from_email.clone()).unwrap_or_default());
        reply_to.set(
            m.as_ref()
                .and_then(|m| m.reply_to.clone())
                .unwrap_or_default(),
        );
        signature.set(m.as_ref().map(|m| m.signature.clone()).unwrap_or_default());
        host.set(m.as_ref().map(|m| m.smtp.host.clone()).unwrap_or_default());
        port.set(m.as_ref().map_or(587, |m| m.smtp.port).to_string());
        security.set(
            m.as_ref()
                .map_or("starttls", |m| m.smtp.security.as_str())
                .to_owned(),
        );
        username.set(
            m.as_ref()
                .map(|m| m.smtp.username.clone())
                .unwrap_or_default(),
        );
        password_saved.set(m.as_ref().is_some_and(|m| m.smtp.password.set));
        imap_host.set(m.as_ref().map(|m| m.imap.host.clone()).unwrap_or_default());
        imap_port.set(m.as_ref().map_or(993, |m| m.imap.port).to_string());
        imap_security.set(
            m.as_ref()
                .map_or("tls", |m| m.imap.security.as_str())
                .to_owned(),
        );
        imap_username.set(
            m.as_ref()
                .map(|m| m.imap.username.clone())
                .unwrap_or_default(),
        );
        daily.set(limits.daily_limit.to_string());
        ramp_start.set(limits.ramp_start.to_string());
        ramp_step.set(limits.ramp_step.to_string());
        interval.set(limits.min_interval_secs.to_string());
        jitter.set(limits.jitter_secs.to_string());
        form_open.set(true);
    };

    let save = Action::new_local(move |_: &()| {
        let mut local = BTreeMap::new();
        let limits = (|| {
            Some(SendingLimits {
                daily_limit: number(&mut local, "limits.daily_limit", &daily.get_untracked())?,
                ramp_start: number(&mut local, "limits.ramp_start", &ramp_start.get_untracked())?,
                ramp_step: number(&mut local, "limits.ramp_step", &ramp_step.get_untracked())?,
                min_interval_secs: number(
                    &mut local,
                    "limits.min_interval_secs",
                    &interval.get_untracked(),
                )?,
                jitter_secs: number(&mut local, "limits.jitter_secs", &jitter.get_untracked())?,
            })
        })();
        let smtp_port: Option<u16> = number(&mut local, "smtp.port", &port.get_untracked());
        let imap_port_n: Option<u16> = number(&mut local, "imap.port", &imap_port.get_untracked());
        let id = editing.get_untracked();
        let new_password = opt(&password.get_untracked());
        let input = MailboxInput {
            kind: if id.is_none() {
                MailboxKind::parse(&kind.get_untracked())
            } else {
                None
            },
            from_name: Some(from_name.get_untracked()),
            from_email: Some(from_email.get_untracked()),
            reply_to: Some(opt(&reply_to.get_untracked())),
            signature: Some(signature.get_untracked()),
            smtp: Some(ServerInput {
                host: Some(host.get_untracked()),
                port: smtp_port,
                security: SmtpSecurity::parse(&security.get_untracked()),
                username: Some(username.get_untracked()),
                password: new_password.map(Some),
            }),
            imap: Some(ServerInput {
                host: Some(imap_host.get_untracked()),
                port: imap_port_n,
                security: SmtpSecurity::parse(&imap_security.get_untracked()),
                username: Some(imap_username.get_untracked()),
                password: opt(&imap_password.get_untracked()).map(Some),
            }),
            limits,
            status: None,
        };
        async move {
            if !local.is_empty() {
                errs.set(local);
                return None;
            }
            Some(match id {
                Some(id) => api::mailboxes::update(api, id, &input).await,
                None => api::mailboxes::create(api, &input).await,
            })
        }
    });
    on_result(save, move |r| match r {
        None => {}
        Some(Ok(m)) => {
            toasts.success(format!("{} saved.", m.from_email));
            form_open.set(false);
            mailboxes.refetch();
        }
        Some(Err(e)) => show_error(errs, &e),
    });
    let set_status = move |id: MailboxId, to: MailboxStatus| {
        spawn_local(async move {
            let input = MailboxInput {
                status: Some(to),
                ..Default::default()
            };
            match api::mailboxes::update(api, id, &input).await {
                Ok(m) => {
                    toasts.success(format!(
                        "{} {}.",
                        m.from_email,
                        if to == MailboxStatus::Paused {
                            "paused"
                        } else {
                            "resumed"
                        }
                    ));
                    mailboxes.refetch();
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    let remove = move |id: MailboxId| {
        spawn_local(async move {
            match api::mailboxes::delete(api, id).await {
                Ok(()) => mailboxes.refetch(),
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    // The last test of each mailbox: its SMTP server, or (`true`) its IMAP server.
    let tests = RwSignal::new(BTreeMap::<MailboxId, (bool, Option<MailboxTest>)>::new());
    let run_test = move |id: MailboxId, imap: bool| {
        tests.update(|t| {
            t.insert(id, (imap, None));
        });
        spawn_local(async move {
            let result = if imap {
                api::mailboxes::test_imap(api, id).await
            } else {
                api::mailboxes::test(api, id).await
            };
            match result {
                Ok(t) => tests.update(|m| {
                    m.insert(id, (imap, Some(t)));
                }),
                Err(e) => {
                    tests.update(|m| {
                        m.remove(&id);
                    });
                    toasts.error(e.message());
                }
            }
            mailboxes.refetch();
        });
    };
    let kinds = StoredValue::new(vec![
        (
            "smtp".to_owned(),
            "Your SMTP server (Google Workspace, Microsoft 365, any provider)".to_owned(),
        ),
        (
            "sandbox".to_owned(),
            "Sandbox — nothing leaves this machine".to_owned(),
        ),
    ]);
    let securities: Vec<(String, String)> = SmtpSecurity::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
        .collect();
    let sandbox = Signal::derive(move || kind.get() == "sandbox");

    view! {
        <div class="mb-4 flex flex-wrap items-center justify-between gap-3">
            <div>
                <h2 class="text-lg font-semibold">"Mailboxes"</h2>
                <p class="text-sm text-muted">"The email accounts campaigns send from. Each lead keeps the mailbox of its first email, so follow-ups thread."</p>
            </div>
            <div class="flex gap-2">
                <a href="/outbox" class="btn-secondary"><span inner_html=icons::INBOX></span>"Outbox"</a>
                <Show when=move || is_admin.get()>
                    <button class="btn-primary" on:click=move |_| open_form(None)><span inner_html=icons::PLUS></span>"Add mailbox"</button>
                </Show>
            </div>
        </div>
        <Show when=move || form_open.get()>
            <form class="card mb-6 grid gap-4 p-5 sm:grid-cols-2" aria-label="Mailbox" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <Show when=move || editing.get().is_none()>
                    <div class="sm:col-span-2"><SelectField label="Kind" name="mailbox-kind" value=kind options=kinds.get_value() error=field_err(errs, "kind") /></div>
                </Show>
                <Show when=move || sandbox.get()>
                    <p class="rounded-lg bg-violet-50 px-3 py-2 text-sm text-violet-900 sm:col-span-2">"A sandbox mailbox sends nothing: every message is kept in the Outbox (and as an .eml file), or handed to a local mail catcher when you give its host. Use it to try campaigns safely."</p>
                </Show>
                <Field label="From name" name="mailbox-from-name" value=from_name error=field_err(errs, "from_name") placeholder="Dana Reyes" autofocus=true />
                <Field label="From address" name="mailbox-from-email" kind="email" value=from_email error=field_err(errs, "from_email") placeholder="dana@yourcompany.com" />
                <Field label="Reply-to (optional)" name="mailbox-reply-to" kind="email" value=reply_to error=field_err(errs, "reply_to") />
                <TextArea label="Signature" name="mailbox-signature" value=signature error=field_err(errs, "signature") rows=3 />
                <fieldset class="grid gap-4 sm:col-span-2 sm:grid-cols-2">
                    <legend class="mb-1 text-sm font-semibold">{move || if sandbox.get() { "Mail catcher (optional)" } else { "SMTP server" }}</legend>
                    <Field label="Host" name="mailbox-host" value=host error=field_err(errs, "smtp.host") placeholder=if sandbox.get_untracked() { "mailpit" } else { "smtp.gmail.com" } />
                    <Field label="Port" name="mailbox-port" kind="number" value=port error=field_err(errs, "smtp.port") help="587 with STARTTLS, 465 with TLS." />
                    <SelectField label="Security" name="mailbox-security" value=security options=securities.clone() error=field_err(errs, "smtp.security") help="None is only accepted for a server on this machine or a private network." />
                    <Field label="Username" name="mailbox-username" value=username error=field_err(errs, "smtp.username") autocomplete="off" />
                    <div>
                        <label class="field-label" for="field-mailbox-password">"Password or app password"</label>
                        <input id="field-mailbox-password" name="mailbox-password" type="password" autocomplete="new-password" class="field-input"
                            placeholder=move || if password_saved.get() { "Saved; leave empty to keep it" } else { "" }
                            prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                        <p class="field-help">"Encrypted at rest and never shown again."</p>
                        {move || field_err(errs, "smtp.password").get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                    </div>
                </fieldset>
                <details class="sm:col-span-2">
                    <summary class="cursor-pointer text-sm font-semibold">"IMAP (for reading replies)"</summary>
                    <p class="mt-2 text-sm text-muted">"Aura reads new mail in the inbox, junk and sent folders to find replies, bounces and out-of-office answers. It never marks mail as read, moves or deletes it."</p>
                    <div class="mt-3 grid gap-4 sm:grid-cols-2">
                        <Field label="IMAP host" name="mailbox-imap-host" value=imap_host error=field_err(errs, "imap.host") placeholder="imap.gmail.com" />
                        <Field label="IMAP port" name="mailbox-imap-port" kind="number" value=imap_port error=field_err(errs, "imap.port") help="993 with TLS, 143 with STARTTLS." />
                        <SelectField label="IMAP security" name="mailbox-imap-security" value=imap_security options=securities.clone() error=field_err(errs, "imap.security") />
                        <Field label="IMAP username" name="mailbox-imap-username" value=imap_username error=field_err(errs, "imap.username") autocomplete="off" />
                        <Field label="IMAP password" name="mailbox-imap-password" kind="password" value=imap_password error=field_err(errs, "imap.password") autocomplete="new-password" help="Leave empty to keep the saved one." />
                    </div>
                </details>
                <fieldset class="grid gap-4 sm:col-span-2 sm:grid-cols-5">
                    <legend class="mb-1 text-sm font-semibold">"Pace"</legend>
                    <Field label="Daily limit" name="mailbox-daily" kind="number" value=daily error=field_err(errs, "limits.daily_limit") />
                    <Field label="Ramp-up: first day" name="mailbox-ramp-start" kind="number" value=ramp_start error=field_err(errs, "limits.ramp_start") help="0: no ramp-up" />
                    <Field label="…then + per day" name="mailbox-ramp-step" kind="number" value=ramp_step error=field_err(errs, "limits.ramp_step") />
                    <Field label="Seconds between sends" name="mailbox-interval" kind="number" value=interval error=field_err(errs, "limits.min_interval_secs") />
                    <Field label="+ random up to (s)" name="mailbox-jitter" kind="number" value=jitter error=field_err(errs, "limits.jitter_secs") />
                </fieldset>
                <FormButtons open=form_open pending=save.pending().into() label="Save mailbox" />
            </form>
        </Show>
        <Transition fallback=|| view! { <LoadingCard rows=2 /> }>
            {move || mailboxes.get().map(|r| match r {
                Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <EmptyState icon=icons::MAIL title="No mailboxes yet" body="Add the email accounts your campaigns send from — or a sandbox mailbox to try a campaign without sending real email." />
                }.into_any(),
                Ok(list) => view! {
                    <ul class="grid gap-3">
                        {list.into_iter().map(|m| {
                            let id = m.id;
                            let edit = m.clone();
                            let paused = m.status == MailboxStatus::Paused;
                            let server = if m.kind == MailboxKind::Sandbox && m.smtp.host.is_empty() {
                                "Kept in the Outbox".to_owned()
                            } else {
                                format!("{}:{} · {}", m.smtp.host, m.smtp.port, m.smtp.security.label())
                            };
                            let pace = format!(
                                "{} of {} today{} · {} s apart (+ up to {} s)",
                                m.sent_today, m.today_limit,
                                if m.limits.ramp_start > 0 && m.today_limit < m.limits.daily_limit { format!(" (ramping up to {})", m.limits.daily_limit) } else { String::new() },
                                m.limits.min_interval_secs, m.limits.jitter_secs
                            );
                            let reads = !m.imap.host.is_empty();
                            let used = if m.today_limit > 0 { (m.sent_today * 100 / i64::from(m.today_limit)).min(100) } else { 0 };
                            view! {
                                <li class="card p-4" data-testid="mailbox">
                                    <div class="flex flex-wrap items-start justify-between gap-3">
                                        <div class="min-w-0">
                                            <p class="flex flex-wrap items-center gap-2 font-semibold">{format!("{} <{}>", m.from_name, m.from_email)}{badges(&m)}</p>
                                            <p class="text-sm text-muted">{server}</p>
                                            <p class="text-xs text-muted">{pace}</p>
                                            <div class="mt-2 h-1.5 w-48 overflow-hidden rounded-full bg-slate-100" role="progressbar" aria-label="Used today" aria-valuenow=used aria-valuemin="0" aria-valuemax="100"><div class="h-full bg-accent-500" style=format!("width:{used}%")></div></div>
                                            {m.paused_reason.clone().map(|r| view! { <p class="mt-2 text-sm text-amber-800" role="status">{r}</p> })}
                                            {m.health.last_error.clone().filter(|_| m.health.consecutive_failures > 0).map(|e| view! { <p class="mt-1 text-xs text-rose-700">{format!("Last error: {e}")}</p> })}
                                            {reads.then(|| view! { <SyncHealth id=id /> })}
                                        </div>
                                        <div class="flex flex-wrap gap-2">
                                            // Testing connects to the mailbox's server: admins only.
                                            <Show when=move || is_admin.get()>
                                                <button class="btn-secondary" on:click=move |_| run_test(id, false)>{if reads { "Test sending" } else { "Test" }}</button>
                                                <Show when=move || reads>
                                                    <button class="btn-secondary" data-testid="mailbox-test-imap" on:click=move |_| run_test(id, true)>"Test reading"</button>
                                                </Show>
                                                <button class="btn-ghost" on:click={ let edit = edit.clone(); move |_| open_form(Some(edit.clone())) }>"Edit"</button>
                                                <button class="btn-ghost" on:click=move |_| set_status(id, if paused { MailboxStatus::Active } else { MailboxStatus::Paused })>{if paused { "Resume" } else { "Pause" }}</button>
                                                <button class="btn-ghost text-red-600" on:click=move |_| remove(id)>"Delete"</button>
                                            </Show>
                                        </div>
                                    </div>
                                    {move || tests.with(|t| t.get(&id).cloned()).map(|(imap, t)| match t {
                                        None => view! { <div class="mt-3"><Spinner label="Connecting…" /></div> }.into_any(),
                                        Some(t) => view! {
                                            <ol class="mt-3 grid gap-1 text-sm" data-testid="mailbox-test" aria-label=if imap { "IMAP connection test" } else { "Connection test" }>
                                                {t.stages.into_iter().map(|s| view! {
                                                    <li class=if s.ok { "flex gap-2 text-emerald-800" } else { "flex gap-2 text-rose-700" }>
                                                        <span class="w-20 shrink-0 font-medium uppercase tracking-wide text-xs pt-0.5">{s.stage.clone()}</span>
                                                        <span>{if s.ok { "✓ " } else { "✗ " }}{s.detail}</span>
                                                    </li>
                                                }).collect_view()}
                                            </ol>
                                        }.into_any(),
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Transition>
        <DkimSection is_admin=is_admin on_change=Callback::new(move |()| mailboxes.refetch()) />
    }
}

/// How reading a mailbox's replies goes: waiting for new mail, the last sync, each folder's
/// count, or the last error; refreshed while shown.
#[component]
fn SyncHealth(id: MailboxId) -> impl IntoView {
    let api = use_api();
    let sync = use_live(
        move || async move { api::mailboxes::sync(api, id).await },
        Some(std::time::Duration::from_secs(15)),
        |_| true,
    );
    view! {
        <p class="mt-1 text-xs" data-testid="mailbox-sync">
            {move || sync.get().map(|r| match r {
                Err(e) => view! { <span class="text-rose-700">{e}</span> }.into_any(),
                Ok(s) => {
                    let folders = s.folders.iter().map(|f| format!("{} {}", f.name, f.messages)).collect::<Vec<_>>().join(" · ");
                    let state = if s.idling { "Reading replies: waiting for new mail" } else if s.active { "Reading replies" } else { "Replies: waiting for a worker" };
                    let last = s.last_sync_at.map(|t| format!(" · last sync {}", clock_time(&t))).unwrap_or_default();
                    match s.last_error {
                        Some(e) => view! { <span class="text-rose-700" role="status">{format!("Reading replies failed: {e}")}</span> }.into_any(),
                        None => view! { <span class="text-muted">{format!("{state}{last}{}", if folders.is_empty() { String::new() } else { format!(" · {folders}") })}</span> }.into_any(),
                    }
                }
            })}
        </p>
    }
}

/// "14:05 UTC" (the time of day of a recent moment).
fn clock_time(t: &time::OffsetDateTime) -> String {
    format!("{}, {:02}:{:02} UTC", short_date(t), t.hour(), t.minute())
}

/// Domain signing: a DKIM private key per sending domain, the DNS record to publish, and which
/// mailboxes sign with it.
#[component]
fn DkimSection(is_admin: Signal<bool>, on_change: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let keys = LocalResource::new(move || async move { api::mailboxes::dkim_keys(api).await });
    let form_open = RwSignal::new(false);
    let domain = RwSignal::new(String::new());
    let selector = RwSignal::new("aura".to_owned());
    let private_key = RwSignal::new(String::new());
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let save = Action::new_local(move |_: &()| {
        let input = DkimKeyInput {
            domain: domain.get_untracked(),
            selector: selector.get_untracked(),
            private_key: private_key.get_untracked(),
        };
        async move { api::mailboxes::add_dkim_key(api, &input).await }
    });
    on_result(save, move |r| match r {
        Ok(k) => {
            toasts.success(format!(
                "Key saved for {}. Publish its DNS record so receivers can check the signature.",
                k.domain
            ));
            private_key.set(String::new());
            errs.set(BTreeMap::new());
            form_open.set(false);
            keys.refetch();
            on_change.run(());
        }
        Err(e) => show_error(errs, &e),
    });
    let remove = move |id: DkimKeyId| {
        spawn_local(async move {
            match api::mailboxes::delete_dkim_key(api, id).await {
                Ok(()) => {
                    keys.refetch();
                    on_change.run(());
                }
                Err(e) => toasts.error(e.message()),
            }
        });
    };
    view! {
        <section class="mt-8" aria-labelledby="dkim-heading">
            <div class="mb-3 flex flex-wrap items-center justify-between gap-3">
                <div>
                    <h2 id="dkim-heading" class="text-lg font-semibold">"Domain signing (DKIM)"</h2>
                    <p class="text-sm text-muted">"Upload the private key of a sending domain: every mailbox on that domain signs its email, one-click unsubscribe headers included. Mailbox providers trust signed mail more."</p>
                </div>
                <Show when=move || is_admin.get() && !form_open.get()>
                    <button class="btn-secondary" on:click=move |_| { errs.set(BTreeMap::new()); form_open.set(true); }><span inner_html=icons::PLUS></span>"Add signing key"</button>
                </Show>
            </div>
            <Show when=move || form_open.get()>
                <form class="card mb-4 grid gap-4 p-5 sm:grid-cols-2" aria-label="DKIM key" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                    <Field label="Domain" name="dkim-domain" value=domain error=field_err(errs, "domain") placeholder="mail.yourcompany.com" help="The part after @ in the From address. A domain has one key; uploading another replaces it." autofocus=true />
                    <Field label="Selector" name="dkim-selector" value=selector error=field_err(errs, "selector") help="The name it is published under: selector._domainkey.domain" />
                    <div class="sm:col-span-2">
                        <TextArea label="Private key" name="dkim-private-key" value=private_key error=field_err(errs, "private_key") rows=6 placeholder="-----BEGIN PRIVATE KEY-----" help="RSA (1024–4096 bits) or Ed25519, as PEM; an Ed25519 key may also be its 32 bytes in base64. Encrypted at rest and never shown again." />
                    </div>
                    <FormButtons open=form_open pending=save.pending().into() label="Save key" />
                </form>
            </Show>
            <Transition fallback=|| view! { <LoadingCard rows=1 /> }>
                {move || keys.get().map(|r| match r {
                    Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="card p-4 text-sm text-muted">"No signing keys yet: email goes out unsigned (your provider may sign it for its own domain)."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="grid gap-3">
                            {list.into_iter().map(|k| {
                                let id = k.id;
                                let users = match k.mailbox_ids.len() {
                                    0 => "No mailbox sends from this domain yet".to_owned(),
                                    1 => "Signs 1 mailbox".to_owned(),
                                    n => format!("Signs {n} mailboxes"),
                                };
                                view! {
                                    <li class="card p-4" data-testid="dkim-key">
                                        <div class="flex flex-wrap items-start justify-between gap-3">
                                            <div class="min-w-0">
                                                <p class="font-semibold">{k.domain.clone()}</p>
                                                <p class="text-sm text-muted">{format!("Selector {} · {} · {}", k.selector, k.description, users)}</p>
                                            </div>
                                            <Show when=move || is_admin.get()>
                                                <button class="btn-ghost text-red-600" on:click=move |_| remove(id)>"Delete"</button>
                                            </Show>
                                        </div>
                                        <dl class="mt-3 grid gap-1 text-sm">
                                            <dt class="text-xs font-medium uppercase tracking-wide text-muted">"Publish this TXT record"</dt>
                                            <dd><code class="select-all break-all rounded bg-slate-50 px-1.5 py-0.5" data-testid="dkim-dns-name">{k.dns_name.clone()}</code></dd>
                                            <dd><code class="block select-all break-all rounded bg-slate-50 px-1.5 py-1 text-xs" data-testid="dkim-dns-value">{k.dns_value.clone()}</code></dd>
                                        </dl>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// "Signed by d (selector s)" from a DKIM-Signature header's value.
fn dkim_summary(value: &str) -> Option<String> {
    let tag = |name: &str| {
        value.split(';').find_map(|t| {
            let (k, v) = t.split_once('=')?;
            (k.trim() == name).then(|| v.trim().to_owned())
        })
    };
    Some(format!("Signed by {} (selector {})", tag("d")?, tag("s")?))
}

/// Caught messages listed at once on the Outbox page.
const OUTBOX_PAGE: u32 = 50;

#[component]
pub fn OutboxPage() -> impl IntoView {
    let api = use_api();
    // The page shown: newest first, OUTBOX_PAGE at a time.
    let paging = Paging::new(OUTBOX_PAGE);
    // Newly caught messages appear without reloading.
    let items = use_live(
        move || {
            let at = paging.query();
            async move { api::mailboxes::outbox(api, &at).await }
        },
        Some(std::time::Duration::from_secs(3)),
        |_| true,
    );
    let page_at = items.page_at();
    // Loading, failed, or how many: what the list's frame depends on (a Memo, so a poll with the
    // same total leaves the frame, and the rows in it, alone).
    let head = Memo::new(move |_| {
        items.with(|d| {
            d.as_ref()
                .map(|r| r.as_ref().map(|p| p.total).map_err(Clone::clone))
        })
    });
    // The rows, keyed by message: a poll that brings nothing new changes nothing on the page.
    let rows = Memo::new(move |_| {
        items.with(|d| match d {
            Some(Ok(page)) => page.items.clone(),
            _ => Vec::new(),
        })
    });
    let open = RwSignal::new(None::<OutboxId>);
    let shown = RwSignal::new(None::<Result<OutboxMessage, String>>);
    Effect::new(move |_| {
        let Some(id) = open.get() else { return };
        shown.set(None);
        spawn_local(async move {
            shown.try_set(Some(
                api::mailboxes::outbox_message(api, id)
                    .await
                    .map_err(|e| e.message()),
            ));
        });
    });
    view! {
        <PageHeader title="Outbox" subtitle="What the sandbox mailboxes and number caught: every email and text exactly as it would have gone out. Nothing here left this machine." />
        <div class="grid gap-6 lg:grid-cols-[22rem_1fr]">
            <section aria-label="Caught messages">
                {move || match head.get() {
                    None => view! { <LoadingCard rows=4 /> }.into_any(),
                    Some(Err(e)) => view! { <ErrorCard message=e /> }.into_any(),
                    Some(Ok(0)) => view! {
                        <EmptyState icon=icons::INBOX title="Nothing caught yet" body="Launch a campaign that sends through a sandbox mailbox; its messages land here." />
                    }.into_any(),
                    Some(Ok(total)) => view! {
                        <div class="card overflow-hidden">
                        <ul class="divide-y divide-line">
                            <For each=move || rows.get() key=|m| m.id let:m>
                                {
                                    let id = m.id;
                                    view! {
                                        <li>
                                            <button class=move || if open.get() == Some(id) { "w-full bg-accent-50 px-4 py-3 text-left" } else { "w-full px-4 py-3 text-left hover:bg-slate-50" }
                                                data-testid="outbox-item" on:click=move |_| open.set(Some(id))>
                                                <p class="truncate text-sm font-medium">{m.subject.clone()}</p>
                                                <p class="truncate text-xs text-muted">{format!("To {} · {}", m.recipient, short_date(&m.caught_at))}</p>
                                            </button>
                                        </li>
                                    }
                                }
                            </For>
                        </ul>
                        {(total > i64::from(OUTBOX_PAGE) || paging.past_first()).then(|| view! {
                            <Pager paging at=page_at testid="outbox-total" />
                        })}
                        </div>
                    }.into_any(),
                }}
            </section>
            <section aria-label="Message" class="min-w-0">
                {move || match (open.get(), shown.get()) {
                    (None, _) => view! { <p class="text-sm text-muted">"Choose a message to read it."</p> }.into_any(),
                    (Some(_), None) => view! { <LoadingCard rows=6 /> }.into_any(),
                    (Some(_), Some(Err(e))) => view! { <ErrorCard message=e /> }.into_any(),
                    (Some(_), Some(Ok(m))) => {
                        let h = aura_types::mime::headers(&m.raw);
                        let get = |name: &str| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).unwrap_or_default();
                        let unsubscribe = get("List-Unsubscribe")
                            .split(',')
                            .map(|p| p.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
                            .find(|u| u.starts_with("http"));
                        view! {
                            <article class="card p-5" data-testid="outbox-message">
                                <dl class="grid grid-cols-[7rem_1fr] gap-x-3 gap-y-1 text-sm">
                                    {["From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "List-Unsubscribe-Post"].into_iter().filter(|k| !get(k).is_empty()).map(|k| view! {
                                        <dt class="text-muted">{k}</dt><dd class="break-all">{get(k)}</dd>
                                    }).collect_view()}
                                    {dkim_summary(&get("DKIM-Signature")).map(|d| view! {
                                        <dt class="text-muted">"DKIM"</dt><dd class="break-all" data-testid="outbox-dkim">{d}</dd>
                                    })}
                                </dl>
                                <pre class="mt-4 whitespace-pre-wrap rounded-lg bg-slate-50 p-4 font-sans text-sm" data-testid="outbox-text">{aura_types::mime::text_part(&m.raw)}</pre>
                                <div class="mt-4 flex flex-wrap gap-2">
                                    {unsubscribe.map(|u| view! { <a class="btn-secondary" href=u target="_blank" rel="noopener" data-testid="outbox-unsubscribe">"Open the unsubscribe link"</a> })}
                                </div>
                                <SimulateAnswer outbox=m.item.id />
                                <details class="mt-4">
                                    <summary class="cursor-pointer text-sm text-muted">"Raw message"</summary>
                                    <pre class="mt-2 max-h-96 overflow-auto rounded-lg bg-slate-900 p-4 text-xs text-slate-100">{m.raw.clone()}</pre>
                                </details>
                            </article>
                        }.into_any()
                    }
                }}
            </section>
        </div>
        <super::channels::PhoneOutbox />
    }
}

/// The lead's side of a caught message: answer it as the lead would (a reply, an out-of-office,
/// a bounce, an unsubscribe request), as real mail that lands in the Inbox.
#[component]
fn SimulateAnswer(outbox: OutboxId) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let simulate = move |kind: SimulatedKind| {
        busy.set(true);
        spawn_local(async move {
            match api::inbox::simulate(api, outbox, kind).await {
                Ok(_) => {
                    toasts.success(format!("Simulated: {}. It is in the Inbox.", kind.label()))
                }
                Err(e) => toasts.error(e.message()),
            }
            busy.try_set(false);
        });
    };
    view! {
        <div class="mt-4 rounded-lg border border-dashed border-line p-4" aria-label="Simulate the lead's answer">
            <p class="text-sm font-medium">"Simulate the lead's answer"</p>
            <p class="mb-3 text-xs text-muted">"Arrives as real mail would: matched to this message, it stops, postpones or suppresses the lead's sequence."</p>
            <div class="flex flex-wrap gap-2">
                {SimulatedKind::ALL.iter().map(|k| { let k = *k; view! {
                    <button class="btn-secondary" disabled=move || busy.get() on:click=move |_| simulate(k)>{k.label()}</button>
                } }).collect_view()}
            </div>
        </div>
    }
}

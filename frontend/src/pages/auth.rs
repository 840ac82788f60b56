//! Log-in, sign-up and accepting an invitation.

use crate::api;
use crate::{
    api::ApiResult,
    components::{field_err, Field, FieldErrs, Spinner},
    state::{use_api, use_auth},
};
use aura_types::{
    check_new_password, AcceptInvitationRequest, EmailAddress, FieldErrors, LoginRequest, Session,
    SignupRequest,
};
use leptos::prelude::*;
use leptos_router::{
    components::{Redirect, A},
    hooks::use_navigate,
};

/// Two panes: the brand on the left, the form on the right.
#[component]
fn AuthLayout(
    #[prop(into)] title: String,
    #[prop(into)] subtitle: String,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="grid min-h-screen lg:grid-cols-[1fr_1.1fr]">
            <div class="relative hidden overflow-hidden bg-sidebar p-12 text-white lg:flex lg:flex-col lg:justify-between">
                <div class="absolute -right-24 -top-24 h-96 w-96 rounded-full bg-accent-600/30 blur-3xl"></div>
                <div class="absolute -bottom-32 -left-16 h-96 w-96 rounded-full bg-sky-500/20 blur-3xl"></div>
                <div class="relative flex items-center gap-2.5">
                    <img src="/favicon.svg" alt="" class="h-8 w-8" />
                    <span class="text-xl font-semibold tracking-tight">"Aura"</span>
                </div>
                <div class="relative max-w-md">
                    <p class="text-3xl font-semibold leading-tight tracking-tight">"Outreach that sounds like you, sent at a pace your inboxes can keep."</p>
                    <p class="mt-4 text-sm leading-6 text-slate-400">
                        "Import your leads, let your own AI personas write, approve what goes out, and answer every reply — email, WhatsApp and SMS — from one inbox."
                    </p>
                </div>
                <p class="relative text-xs text-slate-500">"Self-hosted. Your data stays on your servers."</p>
            </div>
            <div class="flex items-center justify-center px-6 py-12">
                <div class="w-full max-w-sm animate-in">
                    <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
                    <p class="mt-1.5 text-sm text-muted">{subtitle}</p>
                    <div class="mt-8">{children()}</div>
                </div>
            </div>
        </div>
    }
}

/// Sends a session request; on success signs in and goes to the dashboard, on failure shows the
/// server's field errors inline and its message above the form.
fn session_action<I: Clone + 'static>(
    errs: FieldErrs,
    form_error: RwSignal<Option<String>>,
    call: impl Fn(I) -> std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<Session>>>>
        + 'static,
) -> Action<I, ()> {
    let auth = use_auth();
    let navigate = use_navigate();
    let call = std::rc::Rc::new(call);
    Action::new_local(move |input: &I| {
        let fut = call(input.clone());
        let navigate = navigate.clone();
        async move {
            match fut.await {
                Ok(session) => {
                    auth.set(session);
                    navigate("/", Default::default());
                }
                Err(e) => {
                    let fields = e.fields();
                    form_error.set(if fields.is_empty() {
                        Some(e.message())
                    } else {
                        None
                    });
                    errs.set(fields);
                }
            }
        }
    })
}

#[component]
fn FormError(error: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! { <div class="mb-5 rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-700" role="alert">{e}</div> }
        })
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errs: FieldErrs = RwSignal::new(Default::default());
    let form_error = RwSignal::new(None);
    let api = use_api();
    let submit = session_action(errs, form_error, move |req: LoginRequest| {
        Box::pin(async move { api::auth::login(api, &req).await })
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut e = FieldErrors::new();
        if email.get_untracked().trim().is_empty() {
            e.add("email", "is required");
        }
        if password.get_untracked().is_empty() {
            e.add("password", "is required");
        }
        errs.set(e.0.clone());
        if e.is_empty() {
            submit.dispatch(LoginRequest {
                email: email.get_untracked(),
                password: password.get_untracked(),
            });
        }
    };
    view! {
        <Show when=move || !auth.signed_in() fallback=|| view! { <Redirect path="/" /> }>
            <AuthLayout title="Welcome back" subtitle="Log in to your Aura workspace.">
                <FormError error=form_error />
                <form class="space-y-5" on:submit=on_submit novalidate>
                    <Field label="Email" name="email" kind="email" autocomplete="email" autofocus=true value=email error=field_err(errs, "email") />
                    <Field label="Password" name="password" kind="password" autocomplete="current-password" value=password error=field_err(errs, "password") />
                    <button type="submit" class="btn-primary w-full py-2.5" disabled=move || submit.pending().get()>
                        {move || if submit.pending().get() { "Logging in…" } else { "Log in" }}
                    </button>
                </form>
                <p class="mt-6 text-center text-sm text-muted">
                    "New to Aura? " <A href="/signup" attr:class="font-medium text-accent-600 hover:text-accent-700">"Create an account"</A>
                </p>
            </AuthLayout>
        </Show>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let auth = use_auth();
    let name = RwSignal::new(String::new());
    let org = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errs: FieldErrs = RwSignal::new(Default::default());
    let form_error = RwSignal::new(None);
    let api = use_api();
    let submit = session_action(errs, form_error, move |req: SignupRequest| {
        Box::pin(async move { api::auth::signup(api, &req).await })
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The same rules the server applies, checked before sending.
        let mut e = FieldErrors::new();
        if name.get_untracked().trim().is_empty() {
            e.add("name", "is required");
        }
        if org.get_untracked().trim().is_empty() {
            e.add("organization_name", "is required");
        }
        e.check("email", EmailAddress::parse(&email.get_untracked()));
        e.check("password", check_new_password(&password.get_untracked()));
        errs.set(e.0.clone());
        if e.is_empty() {
            submit.dispatch(SignupRequest {
                email: email.get_untracked(),
                password: password.get_untracked(),
                name: name.get_untracked(),
                organization_name: org.get_untracked(),
            });
        }
    };
    view! {
        <Show when=move || !auth.signed_in() fallback=|| view! { <Redirect path="/" /> }>
            <AuthLayout title="Create your workspace" subtitle="Set up Aura for your team in a minute.">
                <FormError error=form_error />
                <form class="space-y-5" on:submit=on_submit novalidate>
                    <Field label="Your name" name="name" autocomplete="name" autofocus=true value=name error=field_err(errs, "name") />
                    <Field label="Organization" name="organization_name" autocomplete="organization" placeholder="Sunrise Realty" value=org error=field_err(errs, "organization_name") help="Your company or brand. You can add more later." />
                    <Field label="Work email" name="email" kind="email" autocomplete="email" value=email error=field_err(errs, "email") />
                    <Field label="Password" name="password" kind="password" autocomplete="new-password" value=password error=field_err(errs, "password") help="At least 10 characters. A short sentence works well." />
                    <button type="submit" class="btn-primary w-full py-2.5" disabled=move || submit.pending().get()>
                        {move || if submit.pending().get() { "Creating your workspace…" } else { "Create workspace" }}
                    </button>
                </form>
                <p class="mt-6 text-center text-sm text-muted">
                    "Already have an account? " <A href="/login" attr:class="font-medium text-accent-600 hover:text-accent-700">"Log in"</A>
                </p>
            </AuthLayout>
        </Show>
    }
}

/// The invitation token, from the link's fragment (`#token=…`), which never reaches a server.
fn token_from_location() -> Option<String> {
    let hash = window().location().hash().ok()?;
    hash.trim_start_matches('#')
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .map(str::to_owned)
}

#[component]
pub fn AcceptInvitePage() -> impl IntoView {
    let api = use_api();
    let token = token_from_location().unwrap_or_default();
    let preview = {
        let token = token.clone();
        LocalResource::new(move || {
            let token = token.clone();
            async move { api::auth::preview_invitation(api, token).await }
        })
    };
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errs: FieldErrs = RwSignal::new(Default::default());
    let form_error = RwSignal::new(None);
    let submit = session_action(errs, form_error, move |req: AcceptInvitationRequest| {
        Box::pin(async move { api::auth::accept_invitation(api, &req).await })
    });
    let token = StoredValue::new(token);
    view! {
        <AuthLayout title="Join your team" subtitle="You have been invited to an Aura workspace.">
            <Transition fallback=|| view! { <Spinner label="Checking your invitation…" /> }>
                {move || {
                    preview
                        .get()
                        .map(|result| match result {
                            Err(e) => {
                                view! {
                                    <div class="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-700" role="alert">
                                        {if e.code() == aura_types::ErrorCode::NotFound {
                                            "This invitation link is invalid, was already used, or has expired. Ask for a new one.".to_owned()
                                        } else {
                                            e.message()
                                        }}
                                    </div>
                                    <A href="/login" attr:class="btn-secondary mt-6 w-full">"Go to log in"</A>
                                }
                                    .into_any()
                            }
                            Ok(inv) => {
                                let existing = inv.existing_user;
                                let on_submit = move |ev: leptos::ev::SubmitEvent| {
                                    ev.prevent_default();
                                    let mut e = FieldErrors::new();
                                    if !existing {
                                        if name.get_untracked().trim().is_empty() {
                                            e.add("name", "is required");
                                        }
                                        e.check("password", check_new_password(&password.get_untracked()));
                                    } else if password.get_untracked().is_empty() {
                                        e.add("password", "is required");
                                    }
                                    errs.set(e.0.clone());
                                    if e.is_empty() {
                                        submit.dispatch(AcceptInvitationRequest {
                                            token: token.get_value(),
                                            name: (!existing).then(|| name.get_untracked()),
                                            password: password.get_untracked(),
                                        });
                                    }
                                };
                                view! {
                                    <div class="mb-6 rounded-xl border border-accent-100 bg-accent-50/60 p-4 text-sm">
                                        <p class="font-medium text-ink">{inv.organization_name.clone()}</p>
                                        <p class="mt-0.5 text-muted">{format!("{} · joining as {}", inv.email, inv.role.label())}</p>
                                    </div>
                                    <FormError error=form_error />
                                    <form class="space-y-5" on:submit=on_submit novalidate>
                                        {(!existing).then(|| view! { <Field label="Your name" name="name" autocomplete="name" autofocus=true value=name error=field_err(errs, "name") /> })}
                                        <Field
                                            label=if existing { "Your Aura password" } else { "Choose a password" }
                                            name="password"
                                            kind="password"
                                            autocomplete=if existing { "current-password" } else { "new-password" }
                                            value=password
                                            error=field_err(errs, "password")
                                            help=if existing { "You already have an account with this email." } else { "At least 10 characters." }
                                        />
                                        <button type="submit" class="btn-primary w-full py-2.5" disabled=move || submit.pending().get()>
                                            {move || if submit.pending().get() { "Joining…" } else { "Accept invitation" }}
                                        </button>
                                    </form>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </AuthLayout>
    }
}

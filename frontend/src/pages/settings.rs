//! Settings: the organization, its members and invitations, and API keys.

use crate::api;
use crate::{
    api::ApiError,
    components::{
        country_options, field_err, on_result, reset_when_opened, short_date, DialogButtons,
        EmptyState, ErrorCard, Field, FieldErrs, LoadingCard, Modal, PageHeader, RoleBadge,
        RoleSelect, SecretBox, SelectField, TextArea,
    },
    icons,
    state::{use_api, use_auth, use_toasts},
};
use aura_types::{
    ApiKey, CreateApiKeyRequest, CreateInvitationRequest, CreatedApiKey, CreatedInvitation,
    EmailAddress, FieldErrors, Invitation, Member, Organization, Role, UpdateMemberRequest,
    UpdateOrganizationRequest,
};
use leptos::prelude::*;

/// Common IANA zones offered as suggestions; any valid zone is accepted.
const ZONES: [&str; 16] = [
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Istanbul",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Australia/Sydney",
    "Pacific/Auckland",
];

fn is_admin() -> Signal<bool> {
    let auth = use_auth();
    Signal::derive(move || auth.me().is_some_and(|m| m.role.is_admin()))
}

/// The active organization id, read so that resources reload when it changes.
fn active_org() -> Option<aura_types::OrgId> {
    use_auth().me().map(|m| m.active_organization_id)
}

#[component]
pub fn OrganizationSettingsPage() -> impl IntoView {
    let api = use_api();
    let org = LocalResource::new(move || {
        let _ = active_org();
        async move { api::org::current(api).await }
    });
    view! {
        <PageHeader title="Organization" subtitle="How your organization appears to the people you contact." crumbs=vec![("Settings", "/settings"), ("Organization", "/settings/organization")] />
        <Transition fallback=|| view! { <LoadingCard rows=6 /> }>
            {move || {
                org.get()
                    .map(|r| match r {
                        Err(e) => view! { <ErrorCard message=e.message() retry=Callback::new(move |_| org.refetch()) /> }.into_any(),
                        Ok(o) => view! { <OrganizationForm org=o /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn OrganizationForm(org: Organization) -> impl IntoView {
    let api = use_api();
    let auth = use_auth();
    let toasts = use_toasts();
    let can_edit = is_admin();
    let read_only = Signal::derive(move || !can_edit.get());
    let name = RwSignal::new(org.name.clone());
    let public_name = RwSignal::new(org.public_name.clone().unwrap_or_default());
    let brand_voice = RwSignal::new(org.brand_voice.clone().unwrap_or_default());
    let postal_address = RwSignal::new(org.postal_address.clone().unwrap_or_default());
    let timezone = RwSignal::new(org.timezone.clone());
    let country = RwSignal::new(org.country.clone().unwrap_or_default());
    let errs: FieldErrs = RwSignal::new(Default::default());

    let save = Action::new_local(move |req: &UpdateOrganizationRequest| {
        let req = req.clone();
        async move { api::org::update(api, &req).await }
    });
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            match result {
                Ok(updated) => {
                    errs.set(Default::default());
                    auth.update_me(|me| {
                        for m in me
                            .memberships
                            .iter_mut()
                            .filter(|m| m.organization_id == updated.id)
                        {
                            m.organization_name = updated.name.clone();
                        }
                    });
                    toasts.success("Organization settings saved.");
                }
                Err(e) => {
                    errs.set(e.fields());
                    toasts.error(e.message());
                }
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if name.get_untracked().trim().is_empty() {
            errs.set([("name".to_owned(), "is required".to_owned())].into());
            return;
        }
        save.dispatch(UpdateOrganizationRequest {
            name: Some(name.get_untracked()),
            brand_voice: Some(brand_voice.get_untracked()),
            public_name: Some(public_name.get_untracked()),
            postal_address: Some(postal_address.get_untracked()),
            timezone: Some(timezone.get_untracked()),
            country: Some(country.get_untracked()),
        });
    };
    view! {
        <form class="space-y-6" on:submit=on_submit novalidate>
            <Show when=move || !can_edit.get()>
                <div class="rounded-lg border border-line bg-slate-50 px-4 py-3 text-sm text-muted">"Only admins and owners can change these settings."</div>
            </Show>
            <section class="card grid gap-8 p-6 md:grid-cols-[14rem_1fr]">
                <div>
                    <h2 class="text-sm font-semibold">"Identity"</h2>
                    <p class="mt-1 text-xs leading-5 text-muted">"The name your team sees, and the one recipients see."</p>
                </div>
                <div class="space-y-5">
                    <Field label="Organization name" name="name" value=name error=field_err(errs, "name") disabled=read_only />
                    <Field label="Public name" name="public_name" value=public_name error=field_err(errs, "public_name") placeholder=org.name.clone() help="Shown to recipients, for example at the start of an SMS. Leave empty to use the organization name." disabled=read_only />
                    <Field label="Time zone" name="timezone" value=timezone error=field_err(errs, "timezone") list="zones" help="Default for campaigns' send windows. Any IANA zone, such as Europe/London." disabled=read_only />
                    <SelectField label="Country" name="country" value=country options=country_options() error=field_err(errs, "country") help="Phone numbers written without a country code are read as this country's." disabled=read_only />
                    <datalist id="zones">{ZONES.into_iter().map(|z| view! { <option value=z></option> }).collect_view()}</datalist>
                </div>
            </section>
            <section class="card grid gap-8 p-6 md:grid-cols-[14rem_1fr]">
                <div>
                    <h2 class="text-sm font-semibold">"Voice & compliance"</h2>
                    <p class="mt-1 text-xs leading-5 text-muted">"Used by your AI personas and printed in email footers."</p>
                </div>
                <div class="space-y-5">
                    <TextArea label="Brand voice" name="brand_voice" value=brand_voice error=field_err(errs, "brand_voice") rows=4 placeholder="Warm, local and straightforward. We never pressure anyone." help="How you sound. Every AI persona writes with this in mind." disabled=read_only />
                    <TextArea label="Postal address" name="postal_address" value=postal_address error=field_err(errs, "postal_address") rows=3 help="Anti-spam laws require a physical address in marketing email footers." disabled=read_only />
                </div>
            </section>
            <Show when=move || can_edit.get()>
                <div class="flex justify-end">
                    <button type="submit" class="btn-primary" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save changes" }}
                    </button>
                </div>
            </Show>
        </form>
    }
}

#[component]
pub fn MembersPage() -> impl IntoView {
    let api = use_api();
    let admin = is_admin();
    let members = LocalResource::new(move || {
        let _ = active_org();
        async move { api::org::members(api).await }
    });
    let invitations = LocalResource::new(move || {
        let _ = active_org();
        let admin = admin.get();
        async move {
            if admin {
                api::org::invitations(api).await
            } else {
                Ok(Vec::new())
            }
        }
    });
    let invite_open = RwSignal::new(false);
    let reload = Callback::new(move |_| {
        members.refetch();
        invitations.refetch();
    });
    view! {
        <PageHeader title="Members" subtitle="The people who work in this organization." crumbs=vec![("Settings", "/settings"), ("Members", "/settings/members")]>
            <Show when=move || admin.get()>
                <button class="btn-primary" on:click=move |_| invite_open.set(true)>
                    <span inner_html=icons::PLUS></span>
                    "Invite member"
                </button>
            </Show>
        </PageHeader>
        <Transition fallback=|| view! { <LoadingCard rows=4 /> }>
            {move || {
                members
                    .get()
                    .map(|r| match r {
                        Err(e) => view! { <ErrorCard message=e.message() retry=reload /> }.into_any(),
                        Ok(list) => view! { <MemberTable members=list reload=reload /> }.into_any(),
                    })
            }}
        </Transition>
        <Transition fallback=|| ()>
            {move || {
                invitations
                    .get()
                    .map(|r| match r {
                        Ok(list) if !list.is_empty() => view! { <InvitationList invitations=list reload=reload /> }.into_any(),
                        Ok(_) => ().into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorCard message=e.message() retry=reload /></div> }.into_any(),
                    })
            }}
        </Transition>
        <InviteDialog open=invite_open reload=reload />
    }
}

#[component]
fn MemberTable(members: Vec<Member>, reload: Callback<()>) -> impl IntoView {
    let api = use_api();
    let auth = use_auth();
    let toasts = use_toasts();
    let me = auth.me();
    let my_role = me.as_ref().map(|m| m.role).unwrap_or(Role::Member);
    let my_id = me.map(|m| m.user.id);
    let change = Action::new_local(move |(user, role): &(aura_types::UserId, Option<Role>)| {
        let (user, role) = (*user, *role);
        async move {
            let result = match role {
                Some(role) => api::org::update_member(api, user, &UpdateMemberRequest { role })
                    .await
                    .map(|_| "Role updated."),
                None => api::org::remove_member(api, user)
                    .await
                    .map(|_| "Member removed."),
            };
            (result, user == my_id.unwrap_or_default() && role.is_none())
        }
    });
    on_result(change, move |(result, left)| {
        match result {
            Ok(message) => {
                toasts.success(message);
                if left {
                    // Leaving the organization ends the session's access to it.
                    auth.clear();
                }
            }
            Err(e) => toasts.error(e.message()),
        }
        reload.run(());
    });
    let rows = members
        .into_iter()
        .map(|m| {
            let is_me = Some(m.user_id) == my_id;
            let can_manage = my_role.can_grant(m.role);
            let user = m.user_id;
            let name = m.name.clone();
            view! {
                <tr class="transition hover:bg-slate-50/70">
                    <td class="px-6 py-4">
                        <div class="flex items-center gap-3">
                            <span class="flex h-9 w-9 items-center justify-center rounded-full bg-slate-100 text-xs font-semibold text-slate-600">{crate::app::initials(&m.name)}</span>
                            <div>
                                <p class="text-sm font-medium">{m.name.clone()} {is_me.then(|| view! { <span class="ml-1 text-xs text-muted">"(you)"</span> })}</p>
                                <p class="text-xs text-muted">{m.email.clone()}</p>
                            </div>
                        </div>
                    </td>
                    <td class="px-6 py-4">
                        {if can_manage {
                            view! {
                                <select
                                    class="rounded-md border border-line bg-white px-2 py-1 text-sm"
                                    aria-label=format!("Role of {}", m.name)
                                    on:change=move |ev| {
                                        let v = event_target_value(&ev);
                                        if let Some(r) = Role::ALL.into_iter().find(|r| r.as_str() == v) {
                                            change.dispatch((user, Some(r)));
                                        }
                                    }
                                >
                                    {Role::ALL
                                        .into_iter()
                                        .filter(|r| my_role.can_grant(*r))
                                        .map(|r| view! { <option value=r.as_str() selected=r == m.role>{r.label()}</option> })
                                        .collect_view()}
                                </select>
                            }
                                .into_any()
                        } else {
                            view! { <RoleBadge role=m.role /> }.into_any()
                        }}
                    </td>
                    <td class="px-6 py-4 text-sm text-muted">{short_date(&m.joined_at)}</td>
                    <td class="px-6 py-4 text-right">
                        {(can_manage || is_me)
                            .then(|| {
                                let label = if is_me { "Leave" } else { "Remove" };
                                view! {
                                    <button
                                        class="btn-ghost px-2 py-1 text-xs text-red-600 hover:bg-red-50 hover:text-red-700"
                                        on:click=move |_| {
                                            let question = if is_me {
                                                "Leave this organization?".to_owned()
                                            } else {
                                                format!("Remove {name} from this organization?")
                                            };
                                            if window().confirm_with_message(&question).unwrap_or(false) {
                                                change.dispatch((user, None));
                                            }
                                        }
                                    >
                                        {label}
                                    </button>
                                }
                            })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="card overflow-hidden">
            <table class="w-full text-left">
                <thead class="border-b border-line bg-slate-50/80 text-xs font-medium uppercase tracking-wide text-muted">
                    <tr>
                        <th class="px-6 py-3">"Member"</th>
                        <th class="px-6 py-3">"Role"</th>
                        <th class="px-6 py-3">"Joined"</th>
                        <th class="px-6 py-3"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-line">{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn InvitationList(invitations: Vec<Invitation>, reload: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let revoke = Action::new_local(move |id: &aura_types::InvitationId| {
        let id = *id;
        async move { api::org::revoke_invitation(api, id).await }
    });
    on_result(revoke, move |result| {
        toast_result(toasts, result, "Invitation revoked.");
        reload.run(());
    });
    view! {
        <section class="card mt-6 p-6">
            <h2 class="text-sm font-semibold">"Pending invitations"</h2>
            <ul class="mt-4 divide-y divide-line">
                {invitations
                    .into_iter()
                    .map(|i| {
                        let id = i.id;
                        view! {
                            <li class="flex items-center gap-4 py-3">
                                <span class="text-muted" inner_html=icons::MAIL></span>
                                <div class="flex-1">
                                    <p class="text-sm font-medium">{i.email.clone()}</p>
                                    <p class="text-xs text-muted">
                                        {format!("Invited {}{} · expires {}", short_date(&i.created_at), i.invited_by.map(|n| format!(" by {n}")).unwrap_or_default(), short_date(&i.expires_at))}
                                    </p>
                                </div>
                                <RoleBadge role=i.role />
                                <button class="btn-ghost px-2 py-1 text-xs" on:click=move |_| { revoke.dispatch(id); }>"Revoke"</button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn InviteDialog(open: RwSignal<bool>, reload: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member);
    let max = auth.me().map(|m| m.role).unwrap_or(Role::Member);
    let (send, created, errs) = create_and_reveal::<CreateInvitationRequest, CreatedInvitation>(
        open,
        |api, req| Box::pin(async move { api::org::invite(api, &req).await }),
        "email",
        reload,
        move || email.set(String::new()),
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut e = FieldErrors::new();
        e.check("email", EmailAddress::parse(&email.get_untracked()));
        errs.set(e.0.clone());
        if e.is_empty() {
            send.dispatch(CreateInvitationRequest {
                email: email.get_untracked(),
                role: role.get_untracked(),
            });
        }
    };
    view! {
        <Modal open=open title="Invite a member">
            {move || match created.get() {
                Some(c) => {
                    view! {
                        <div class="space-y-4">
                            <p class="text-sm text-muted">
                                {if c.email_sent {
                                    format!("We emailed {} a link to join. It works once and expires on {}.", c.invitation.email, short_date(&c.invitation.expires_at))
                                } else {
                                    format!("{} can join with this link. It works once and expires on {}.", c.invitation.email, short_date(&c.invitation.expires_at))
                                }}
                            </p>
                            <SecretBox
                                value=c.accept_url.clone()
                                note=if c.email_sent { "You can also share the link yourself." } else { "Aura does not send email yet (no SMTP server configured): send this link to the person you invited." }
                            />
                            <div class="flex justify-end"><button class="btn-primary" on:click=move |_| open.set(false)>"Done"</button></div>
                        </div>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <form class="space-y-5" on:submit=on_submit novalidate>
                            <Field label="Email" name="invite_email" kind="email" autofocus=true value=email error=field_err(errs, "email") placeholder="teammate@example.com" />
                            <RoleSelect value=role max=max name="invite_role" />
                            <DialogButtons open=open pending=send.pending().into() label="Create invitation" busy="Inviting…" />
                        </form>
                    }
                        .into_any()
                }
            }}
        </Modal>
    }
}

/// What `create_and_reveal` hands a dialog.
type CreateAndReveal<Req, Out> = (
    Action<Req, Result<Out, ApiError>>,
    RwSignal<Option<Out>>,
    FieldErrs,
);

/// The state of a dialog that creates something and then shows its secret once: the action that
/// sends the form with `create`, the created value (shown instead of the form), and the field errors
/// (a message without fields goes under `field`). Each opening starts fresh.
fn create_and_reveal<Req, Out>(
    open: RwSignal<bool>,
    create: fn(
        crate::api::Api,
        Req,
    ) -> futures_util::future::LocalBoxFuture<'static, Result<Out, ApiError>>,
    field: &'static str,
    reload: Callback<()>,
    clear_form: impl Fn() + 'static,
) -> CreateAndReveal<Req, Out>
where
    Req: serde::Serialize + Clone + 'static,
    Out: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    let api = use_api();
    let errs: FieldErrs = RwSignal::new(Default::default());
    let created = RwSignal::new(None);
    let action = Action::new_local(move |req: &Req| {
        let req = req.clone();
        create(api, req)
    });
    on_result(action, move |result| match result {
        Ok(value) => {
            created.set(Some(value));
            reload.run(());
        }
        Err(e) => errs.set(with_message(e, field)),
    });
    reset_when_opened(open, move || {
        clear_form();
        errs.set(Default::default());
        created.set(None);
    });
    (action, created, errs)
}

/// A success or failure toast for a finished action.
fn toast_result(toasts: crate::state::Toasts, result: Result<(), ApiError>, success: &str) {
    match result {
        Ok(()) => toasts.success(success),
        Err(e) => toasts.error(e.message()),
    }
}

/// The server's field errors, or its message under `field` when it named none.
pub fn with_message(e: ApiError, field: &str) -> std::collections::BTreeMap<String, String> {
    let fields = e.fields();
    if fields.is_empty() {
        [(field.to_owned(), e.message())].into()
    } else {
        fields
    }
}

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let api = use_api();
    let admin = is_admin();
    let keys = LocalResource::new(move || {
        let _ = active_org();
        async move { api::org::api_keys(api).await }
    });
    let create_open = RwSignal::new(false);
    let reload = Callback::new(move |_| keys.refetch());
    view! {
        <PageHeader title="API keys" subtitle="Let n8n and other tools work with Aura through its API." crumbs=vec![("Settings", "/settings"), ("API keys", "/settings/api-keys")]>
            <a href="/api/docs" target="_blank" class="btn-secondary"><span inner_html=icons::BOOK></span>"API docs"</a>
            <Show when=move || admin.get()>
                <button class="btn-primary" on:click=move |_| create_open.set(true)>
                    <span inner_html=icons::PLUS></span>
                    "Create API key"
                </button>
            </Show>
        </PageHeader>
        <Show
            when=move || admin.get()
            fallback=|| view! { <EmptyState icon=icons::KEY title="Admins manage API keys" body="Ask an admin or owner of this organization to create a key for your integration." /> }
        >
            <Transition fallback=|| view! { <LoadingCard rows=3 /> }>
                {move || {
                    keys.get()
                        .map(|r| match r {
                            Err(e) => view! { <ErrorCard message=e.message() retry=reload /> }.into_any(),
                            Ok(list) if list.is_empty() => {
                                view! {
                                    <EmptyState icon=icons::KEY title="No API keys yet" body="Create a key for each integration, so you can revoke one without touching the others. Keys act for this organization with the role you give them.">
                                        <button class="btn-primary" on:click=move |_| create_open.set(true)>"Create your first key"</button>
                                    </EmptyState>
                                }
                                    .into_any()
                            }
                            Ok(list) => view! { <KeyTable keys=list reload=reload /> }.into_any(),
                        })
                }}
            </Transition>
        </Show>
        <CreateKeyDialog open=create_open reload=reload />
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKey>, reload: Callback<()>) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let revoke = Action::new_local(move |id: &aura_types::ApiKeyId| {
        let id = *id;
        async move { api::org::revoke_api_key(api, id).await }
    });
    on_result(revoke, move |result| {
        toast_result(
            toasts,
            result,
            "API key revoked. It stops working immediately.",
        );
        reload.run(());
    });
    view! {
        <div class="card overflow-hidden">
            <table class="w-full text-left">
                <thead class="border-b border-line bg-slate-50/80 text-xs font-medium uppercase tracking-wide text-muted">
                    <tr>
                        <th class="px-6 py-3">"Name"</th>
                        <th class="px-6 py-3">"Key"</th>
                        <th class="px-6 py-3">"Role"</th>
                        <th class="px-6 py-3">"Last used"</th>
                        <th class="px-6 py-3"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-line">
                    {keys
                        .into_iter()
                        .map(|k| {
                            let id = k.id;
                            let name = k.name.clone();
                            view! {
                                <tr class="transition hover:bg-slate-50/70">
                                    <td class="px-6 py-4">
                                        <p class="text-sm font-medium">{k.name.clone()}</p>
                                        <p class="text-xs text-muted">{format!("Created {}{}", short_date(&k.created_at), k.created_by.map(|n| format!(" by {n}")).unwrap_or_default())}</p>
                                    </td>
                                    <td class="px-6 py-4"><code class="rounded bg-slate-100 px-2 py-1 font-mono text-xs">{format!("{}…", k.prefix)}</code></td>
                                    <td class="px-6 py-4"><RoleBadge role=k.role /></td>
                                    <td class="px-6 py-4 text-sm text-muted">
                                        {k.last_used_at.map(|t| short_date(&t)).unwrap_or_else(|| "Never".into())}
                                        {k.inactive_reason.map(|why| view! {
                                            <p class="mt-1 text-xs font-medium text-amber-700" title="The key answers 401. Revoke it and create a new one.">{format!("Not working: {why}")}</p>
                                        })}
                                    </td>
                                    <td class="px-6 py-4 text-right">
                                        <button
                                            class="btn-ghost px-2 py-1 text-xs text-red-600 hover:bg-red-50 hover:text-red-700"
                                            on:click=move |_| {
                                                if window().confirm_with_message(&format!("Revoke \"{name}\"? Integrations using it stop working at once.")).unwrap_or(false) {
                                                    revoke.dispatch(id);
                                                }
                                            }
                                        >
                                            "Revoke"
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn CreateKeyDialog(open: RwSignal<bool>, reload: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member);
    let max = auth.me().map(|m| m.role).unwrap_or(Role::Member);
    let (create, created, errs) = create_and_reveal::<CreateApiKeyRequest, CreatedApiKey>(
        open,
        |api, req| Box::pin(async move { api::org::create_api_key(api, &req).await }),
        "name",
        reload,
        move || name.set(String::new()),
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if name.get_untracked().trim().is_empty() {
            errs.set([("name".to_owned(), "is required".to_owned())].into());
            return;
        }
        create.dispatch(CreateApiKeyRequest {
            name: name.get_untracked(),
            role: role.get_untracked(),
        });
    };
    view! {
        <Modal open=open title="Create an API key">
            {move || match created.get() {
                Some(c) => {
                    view! {
                        <div class="space-y-4">
                            <SecretBox value=c.token.clone() note="Copy this key now. For your security it will not be shown again." />
                            <p class="text-xs text-muted">"Send it as the header " <code class="font-mono">"Authorization: Bearer <key>"</code> "."</p>
                            <div class="flex justify-end"><button class="btn-primary" on:click=move |_| open.set(false)>"Done"</button></div>
                        </div>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <form class="space-y-5" on:submit=on_submit novalidate>
                            <Field label="Name" name="key_name" autofocus=true value=name error=field_err(errs, "name") placeholder="n8n production" help="Say where it is used, so you know what breaks if you revoke it." />
                            <RoleSelect value=role max=max name="key_role" />
                            <DialogButtons open=open pending=create.pending().into() label="Create key" busy="Creating…" />
                        </form>
                    }
                        .into_any()
                }
            }}
        </Modal>
    }
}

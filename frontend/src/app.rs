//! The router and the signed-in layout (sidebar, top bar, content).

use crate::{
    api::{self, Api},
    components::{
        field_err, on_result, reset_when_opened, DialogButtons, Field, FieldErrs, Modal, Spinner,
        TabLink, Tabs, ToastRegion,
    },
    icons,
    pages::settings::with_message,
    pages::{
        ai::{AiSettingsPage, AiStudioPage, KnowledgePage, PersonasPage},
        auth::*,
        campaigns::{
            AudienceTab, CampaignBuilderPage, CampaignsPage, DeliveryTab, ReviewTab, SettingsTab,
            StepsTab,
        },
        channels::ChannelsPage,
        contacts::ContactsPage,
        home::*,
        import::ImportPage,
        inbox::InboxPage,
        mailboxes::{MailboxesPage, OutboxPage},
        segments::SegmentsPage,
        settings::*,
        suppressions::SuppressionsPage,
        templates::TemplatesPage,
    },
    state::{use_api, use_auth, use_toasts, Auth, Toasts},
};
use aura_types::{CreateOrganizationRequest, SwitchOrganizationRequest};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{
    components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A},
    hooks::use_navigate,
    path,
};

#[component]
pub fn App() -> impl IntoView {
    let auth = Auth::new();
    provide_context(auth);
    provide_context(Api::new(auth));
    provide_context(Toasts::new());
    // Restore the session from the refresh cookie, if there is one.
    spawn_local(async move {
        if let Ok(session) = api::refresh_shared().await {
            auth.set(session);
        }
        auth.ready.set(true);
    });

    view! {
        <Router>
            <Show when=move || auth.ready.get() fallback=|| view! { <Splash /> }>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/signup") view=SignupPage />
                    <Route path=path!("/accept-invite") view=AcceptInvitePage />
                    <ParentRoute path=path!("") view=Shell>
                        <Route path=path!("") view=DashboardPage />
                        <Route path=path!("contacts") view=ContactsPage />
                        <Route path=path!("contacts/import") view=ImportPage />
                        <Route path=path!("contacts/suppressions") view=SuppressionsPage />
                        <Route path=path!("segments") view=SegmentsPage />
                        <Route path=path!("ai") view=AiStudioPage />
                        <Route path=path!("ai/personas") view=PersonasPage />
                        <Route path=path!("ai/knowledge") view=KnowledgePage />
                        <Route path=path!("campaigns") view=CampaignsPage />
                        // The builder holds the campaign; each tab is a child route, so switching
                        // tabs keeps the builder and what it loaded.
                        <ParentRoute path=path!("campaigns/:id") view=CampaignBuilderPage>
                            <Route path=path!("") view=StepsTab />
                            <Route path=path!("steps") view=StepsTab />
                            <Route path=path!("audience") view=AudienceTab />
                            <Route path=path!("review") view=ReviewTab />
                            <Route path=path!("delivery") view=DeliveryTab />
                            <Route path=path!("settings") view=SettingsTab />
                        </ParentRoute>
                        <Route path=path!("inbox") view=InboxPage />
                        <Route path=path!("outbox") view=OutboxPage />
                        <Route path=path!("templates") view=TemplatesPage />
                        <ParentRoute path=path!("settings") view=SettingsLayout>
                            <Route path=path!("") view=|| view! { <Redirect path="/settings/organization" /> } />
                            <Route path=path!("organization") view=OrganizationSettingsPage />
                            <Route path=path!("members") view=MembersPage />
                            <Route path=path!("api-keys") view=ApiKeysPage />
                            <Route path=path!("ai") view=AiSettingsPage />
                            <Route path=path!("mailboxes") view=MailboxesPage />
                            <Route path=path!("channels") view=ChannelsPage />
                        </ParentRoute>
                    </ParentRoute>
                </Routes>
            </Show>
            <ToastRegion />
        </Router>
    }
}

#[component]
fn Splash() -> impl IntoView {
    view! {
        <div class="flex min-h-screen items-center justify-center">
            <Spinner label="Loading Aura…" />
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <div class="flex min-h-screen flex-col items-center justify-center gap-3 text-center">
            <p class="text-sm font-medium text-accent-600">"404"</p>
            <h1 class="text-2xl font-semibold">"This page does not exist"</h1>
            <A href="/" attr:class="btn-primary mt-2">"Back to the dashboard"</A>
        </div>
    }
}

const NAV: [(&str, &str, &str); 9] = [
    ("/", "Dashboard", icons::HOME),
    ("/contacts", "Contacts", icons::USERS),
    ("/segments", "Segments", icons::TEMPLATE),
    ("/campaigns", "Campaigns", icons::MEGAPHONE),
    ("/inbox", "Inbox", icons::INBOX),
    ("/outbox", "Outbox", icons::SEND),
    ("/ai", "AI studio", icons::SPARKLES),
    ("/templates", "Templates", icons::TEMPLATE),
    ("/settings", "Settings", icons::SETTINGS),
];

/// The signed-in layout. Sends people who are not signed in to the log-in page.
#[component]
fn Shell() -> impl IntoView {
    let auth = use_auth();
    crate::live::provide_inbox_stream(
        use_api(),
        Signal::derive(move || {
            auth.signed_in()
                .then(|| auth.me().map(|m| m.active_organization_id))
                .flatten()
        }),
    );
    view! {
        <Show when=move || auth.signed_in() fallback=|| view! { <Redirect path="/login" /> }>
            <div class="flex min-h-screen">
                <aside class="sticky top-0 flex h-screen w-60 shrink-0 flex-col bg-sidebar px-3 py-5 text-slate-400">
                    <A href="/" attr:class="mb-8 flex items-center gap-2.5 px-3">
                        <img src="/favicon.svg" alt="" class="h-7 w-7" />
                        <span class="text-lg font-semibold tracking-tight text-white">"Aura"</span>
                    </A>
                    <nav class="flex flex-1 flex-col gap-1" aria-label="Main">
                        {NAV
                            .into_iter()
                            .map(|(href, label, icon)| {
                                view! {
                                    <A
                                        href=href
                                        exact=href == "/"
                                        attr:class="group flex items-center gap-3 rounded-lg px-3 py-2 text-sm font-medium transition hover:bg-white/5 hover:text-white aria-[current=page]:bg-white/10 aria-[current=page]:text-white"
                                    >
                                        <span class="opacity-80 group-hover:opacity-100" inner_html=icon></span>
                                        {label}
                                        {(href == "/inbox").then(|| view! { <UnreadCount /> })}
                                    </A>
                                }
                            })
                            .collect_view()}
                    </nav>
                    <a href="/api/docs" target="_blank" class="flex items-center gap-3 rounded-lg px-3 py-2 text-xs hover:bg-white/5 hover:text-white">
                        <span inner_html=icons::BOOK></span>
                        "API documentation"
                    </a>
                </aside>
                <div class="flex min-w-0 flex-1 flex-col">
                    <TopBar />
                    <main class="mx-auto w-full max-w-6xl flex-1 px-8 py-8">
                        <Outlet />
                    </main>
                </div>
            </div>
        </Show>
    }
}

/// How many conversations have unread mail, beside "Inbox" (none: nothing shown). Follows the
/// inbox's live stream, and looks again every minute.
#[component]
fn UnreadCount() -> impl IntoView {
    let api = use_api();
    let pulse = crate::live::use_inbox_pulse();
    let unread = crate::live::use_live(
        move || {
            pulse.track();
            let first = aura_types::PageQuery {
                limit: Some(1),
                cursor: None,
            };
            let unread = api::inbox::Filter {
                unread: true,
                ..Default::default()
            };
            async move { api::inbox::list(api, &unread, &first).await }
        },
        Some(std::time::Duration::from_secs(60)),
        |_| true,
    );
    move || {
        unread.with(|u| match u {
            Some(Ok(page)) if page.total > 0 => Some(view! {
                <span class="ml-auto rounded-full bg-accent-500 px-2 py-0.5 text-xs font-semibold text-white" data-testid="unread-count" aria-label=format!("{} unread", page.total)>{page.total}</span>
            }),
            _ => None,
        })
    }
}

#[component]
fn TopBar() -> impl IntoView {
    let auth = use_auth();
    let api = use_api();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let menu_open = RwSignal::new(false);
    let new_org_open = RwSignal::new(false);
    let me = move || auth.me();

    let switch = Action::new_local(move |org_id: &aura_types::OrgId| {
        let body = SwitchOrganizationRequest {
            organization_id: *org_id,
        };
        async move { api::auth::switch_organization(api, &body).await }
    });
    let nav = navigate.clone();
    on_result(switch, move |result| match result {
        Ok(session) => {
            let name = session
                .me
                .active_membership()
                .map(|m| m.organization_name.clone())
                .unwrap_or_default();
            auth.set(session);
            toasts.success(format!("Now working in {name}."));
            nav("/", Default::default());
        }
        Err(e) => toasts.error(e.message()),
    });

    let logout = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            api::logout().await;
            auth.clear();
            navigate("/login", Default::default());
        });
    };

    view! {
        <header class="sticky top-0 z-30 flex h-16 items-center justify-between border-b border-line bg-white/85 px-8 backdrop-blur">
            <div class="flex items-center gap-3">
                <span class="text-muted" inner_html=icons::BUILDING></span>
                <label for="org-switcher" class="sr-only">"Organization"</label>
                <select
                    id="org-switcher"
                    class="rounded-lg border border-transparent bg-transparent py-1.5 pl-2 pr-8 text-sm font-semibold text-ink hover:border-line focus:border-accent-500 focus:outline-none"
                    on:change=move |ev| {
                        if let Ok(id) = event_target_value(&ev).parse() {
                            switch.dispatch(id);
                        }
                    }
                >
                    {move || {
                        me().map(|me| {
                            me.memberships
                                .iter()
                                .map(|m| {
                                    let selected = m.organization_id == me.active_organization_id;
                                    view! { <option value=m.organization_id.to_string() selected=selected>{m.organization_name.clone()}</option> }
                                })
                                .collect_view()
                        })
                    }}
                </select>
                {move || switch.pending().get().then(|| view! { <Spinner /> })}
            </div>
            <div class="relative">
                <button
                    class="flex items-center gap-2 rounded-full py-1 pl-1 pr-2 text-sm hover:bg-slate-100"
                    aria-haspopup="menu"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|o| *o = !*o)
                >
                    <span class="flex h-8 w-8 items-center justify-center rounded-full bg-accent-600 text-xs font-semibold text-white">
                        {move || me().map(|m| initials(&m.user.name)).unwrap_or_default()}
                    </span>
                    <span class="font-medium">{move || me().map(|m| m.user.name).unwrap_or_default()}</span>
                    <span class="text-muted" inner_html=icons::CHEVRON_DOWN></span>
                </button>
                <Show when=move || menu_open.get()>
                    <div role="menu" class="absolute right-0 mt-2 w-64 rounded-xl border border-line bg-white p-2 shadow-pop animate-in">
                        <div class="border-b border-line px-3 pb-3 pt-1">
                            <p class="text-sm font-medium">{move || me().map(|m| m.user.name).unwrap_or_default()}</p>
                            <p class="truncate text-xs text-muted">{move || me().map(|m| m.user.email).unwrap_or_default()}</p>
                        </div>
                        <A href="/settings/organization" attr:class="mt-1 flex items-center gap-2 rounded-lg px-3 py-2 text-sm hover:bg-slate-50" on:click=move |_| menu_open.set(false)>
                            <span class="text-muted" inner_html=icons::SETTINGS></span>
                            "Settings"
                        </A>
                        <button
                            role="menuitem"
                            class="flex w-full items-center gap-2 rounded-lg px-3 py-2 text-left text-sm hover:bg-slate-50"
                            on:click=move |_| {
                                menu_open.set(false);
                                new_org_open.set(true);
                            }
                        >
                            <span class="text-muted" inner_html=icons::PLUS></span>
                            "New organization…"
                        </button>
                        <button role="menuitem" class="flex w-full items-center gap-2 rounded-lg px-3 py-2 text-left text-sm hover:bg-slate-50" on:click=logout.clone()>
                            <span class="text-muted" inner_html=icons::LOGOUT></span>
                            "Log out"
                        </button>
                    </div>
                </Show>
            </div>
            <NewOrganizationDialog open=new_org_open on_created=Callback::new(move |id| { switch.dispatch(id); }) />
        </header>
    }
}

/// Creates another organization (agencies run several brands), then switches to it.
#[component]
fn NewOrganizationDialog(
    open: RwSignal<bool>,
    on_created: Callback<aura_types::OrgId>,
) -> impl IntoView {
    let api = use_api();
    let name = RwSignal::new(String::new());
    let errs: FieldErrs = RwSignal::new(Default::default());
    let create = Action::new_local(move |req: &CreateOrganizationRequest| {
        let req = req.clone();
        async move { api::org::create(api, &req).await }
    });
    on_result(create, move |result| match result {
        Ok(org) => {
            open.set(false);
            on_created.run(org.id);
        }
        Err(e) => errs.set(with_message(e, "name")),
    });
    reset_when_opened(open, move || {
        name.set(String::new());
        errs.set(Default::default());
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if name.get_untracked().trim().is_empty() {
            errs.set([("name".to_owned(), "is required".to_owned())].into());
            return;
        }
        create.dispatch(CreateOrganizationRequest {
            name: name.get_untracked(),
        });
    };
    view! {
        <Modal open=open title="New organization">
            <form class="space-y-5" on:submit=on_submit novalidate>
                <Field label="Organization name" name="new_org_name" autofocus=true value=name error=field_err(errs, "name") help="You become its owner. Switch between organizations at the top left." />
                <DialogButtons open=open pending=create.pending().into() label="Create organization" busy="Creating…" />
            </form>
        </Modal>
    }
}

pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[component]
fn SettingsLayout() -> impl IntoView {
    let tab = |href: &str, label, icon| TabLink {
        href: href.into(),
        label,
        icon: Some(icon),
    };
    let tabs = vec![
        tab("/settings/organization", "Organization", icons::BUILDING),
        tab("/settings/members", "Members", icons::USERS),
        tab("/settings/api-keys", "API keys", icons::KEY),
        tab("/settings/ai", "AI", icons::SPARKLES),
        tab("/settings/mailboxes", "Mailboxes", icons::MAIL),
        tab("/settings/channels", "Channels", icons::PHONE),
    ];
    view! {
        <div>
            <Tabs label="Settings" tabs=tabs />
            <Outlet />
        </div>
    }
}

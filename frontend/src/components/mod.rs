//! Reusable pieces: form fields, page header, tabs, cards, empty/loading/error states, modal,
//! toasts, badges, the pager.

pub mod badges;
mod message;
mod pager;
mod tabs;

pub use message::message_view;
pub use pager::{PageAt, Pager, Paging};
pub use tabs::{TabLink, Tabs};

use crate::{
    icons,
    state::{use_toasts, ToastKind},
};
use aura_types::Role;
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::BTreeMap;

/// Field errors of a form, keyed like the server's `fields`.
pub type FieldErrs = RwSignal<BTreeMap<String, String>>;

/// The error of one field, as a signal.
pub fn field_err(errs: FieldErrs, name: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || errs.with(|e| e.get(name).cloned()))
}

/// Shows a failed save: under its fields when the server named them, else as a toast.
pub fn show_error(errs: FieldErrs, e: &crate::api::ApiError) {
    let fields = e.fields();
    if fields.is_empty() {
        use_toasts().error(e.message());
    }
    errs.set(fields);
}

#[component]
pub fn Field(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(optional, into)] kind: Option<String>,
    #[prop(optional, into)] placeholder: Option<String>,
    #[prop(optional, into)] help: Option<String>,
    #[prop(optional, into)] autocomplete: Option<String>,
    #[prop(optional, into)] list: Option<String>,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] disabled: Signal<bool>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let help_view = help.map(|h| view! { <p class="field-help">{h}</p> });
    view! {
        <div>
            <label class="field-label" for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind.unwrap_or_else(|| "text".into())
                class=move || if error.get().is_some() { "field-input field-input-error" } else { "field-input" }
                placeholder=placeholder
                autocomplete=autocomplete
                list=list
                autofocus=autofocus
                disabled=move || disabled.get()
                aria-invalid=move || error.get().is_some().to_string()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {help_view}
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </div>
    }
}

/// A labelled `<select>` over (value, label) options.
#[component]
pub fn SelectField(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    value: RwSignal<String>,
    options: Vec<(String, String)>,
    #[prop(optional)] error: Option<Signal<Option<String>>>,
    #[prop(optional, into)] help: Option<String>,
    #[prop(optional)] disabled: Signal<bool>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error = error.unwrap_or_else(|| Signal::derive(|| None));
    view! {
        <div>
            <label class="field-label" for=id.clone()>{label}</label>
            <select
                id=id
                name=name
                class=move || if error.get().is_some() { "field-input field-input-error" } else { "field-input" }
                disabled=move || disabled.get()
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                {options
                    .into_iter()
                    .map(|(v, l)| {
                        let selected = v.clone();
                        view! { <option value=v selected=move || value.get() == selected>{l}</option> }
                    })
                    .collect_view()}
            </select>
            {help.map(|h| view! { <p class="field-help">{h}</p> })}
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </div>
    }
}

/// Countries as select options, with "None" first.
pub fn country_options() -> Vec<(String, String)> {
    std::iter::once((String::new(), "—".to_owned()))
        .chain(
            aura_types::COUNTRIES
                .iter()
                .map(|(c, n, _)| ((*c).to_owned(), format!("{n} ({c})"))),
        )
        .collect()
}

#[component]
pub fn TextArea(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(optional, into)] placeholder: Option<String>,
    #[prop(optional, into)] help: Option<String>,
    #[prop(default = 4)] rows: u32,
    #[prop(optional)] disabled: Signal<bool>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let help_view = help.map(|h| view! { <p class="field-help">{h}</p> });
    view! {
        <div>
            <label class="field-label" for=id.clone()>{label}</label>
            <textarea
                id=id
                name=name
                rows=rows
                class=move || if error.get().is_some() { "field-input field-input-error" } else { "field-input" }
                placeholder=placeholder
                disabled=move || disabled.get()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
            {help_view}
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </div>
    }
}

/// A role picker limited to the roles `max` may grant.
#[component]
pub fn RoleSelect(value: RwSignal<Role>, max: Role, #[prop(into)] name: String) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <div>
            <label class="field-label" for=id.clone()>"Role"</label>
            <select
                id=id
                name=name
                class="field-input"
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Some(r) = Role::ALL.into_iter().find(|r| r.as_str() == v) {
                        value.set(r);
                    }
                }
            >
                {Role::ALL
                    .into_iter()
                    .filter(|r| *r <= max)
                    .map(|r| view! { <option value=r.as_str() selected=move || value.get() == r>{r.label()}</option> })
                    .collect_view()}
            </select>
            <p class="field-help">{move || role_help(value.get())}</p>
        </div>
    }
}

pub fn role_help(role: Role) -> &'static str {
    match role {
        Role::Owner => "Full control, including billing and other owners.",
        Role::Admin => "Manages settings, members and API keys.",
        Role::Member => "Works with contacts, campaigns and the inbox.",
    }
}

#[component]
pub fn RoleBadge(role: Role) -> impl IntoView {
    let class = match role {
        Role::Owner => "badge bg-accent-50 text-accent-700 ring-accent-100",
        Role::Admin => "badge bg-sky-50 text-sky-700 ring-sky-100",
        Role::Member => "badge bg-slate-50 text-slate-600 ring-slate-200",
    };
    view! { <span class=class>{role.label()}</span> }
}

/// Breadcrumbs, title, subtitle and the page's primary action(s).
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(optional, into)] subtitle: Option<String>,
    #[prop(optional)] crumbs: Vec<(&'static str, &'static str)>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="mb-8 flex flex-wrap items-end justify-between gap-4">
            <div>
                <nav aria-label="Breadcrumb" class="mb-2 flex items-center gap-1 text-xs text-muted">
                    <A href="/" attr:class="hover:text-ink">"Aura"</A>
                    {crumbs
                        .into_iter()
                        .map(|(label, href)| {
                            view! {
                                <span class="opacity-60" inner_html=icons::CHEVRON_RIGHT></span>
                                <A href=href attr:class="hover:text-ink">{label}</A>
                            }
                        })
                        .collect_view()}
                </nav>
                <h1 class="text-2xl font-semibold tracking-tight text-ink">{title}</h1>
                {subtitle.map(|s| view! { <p class="mt-1 text-sm text-muted">{s}</p> })}
            </div>
            <div class="flex items-center gap-2">{children.map(|c| c())}</div>
        </div>
    }
}

#[component]
pub fn EmptyState(
    icon: &'static str,
    #[prop(into)] title: String,
    #[prop(into)] body: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="card flex flex-col items-center px-8 py-14 text-center animate-in">
            <div class="mb-4 flex h-12 w-12 items-center justify-center rounded-xl bg-accent-50 text-accent-600" inner_html=icon></div>
            <h2 class="text-base font-semibold text-ink">{title}</h2>
            <p class="mt-2 max-w-md text-sm leading-6 text-muted">{body}</p>
            <div class="mt-6 flex flex-wrap justify-center gap-2">{children.map(|c| c())}</div>
        </div>
    }
}

#[component]
pub fn Spinner(#[prop(optional, into)] label: Option<String>) -> impl IntoView {
    view! {
        <span class="inline-flex items-center gap-2 text-sm text-muted" role="status">
            <span class="h-4 w-4 animate-spin rounded-full border-2 border-slate-300 border-t-accent-600"></span>
            {label}
        </span>
    }
}

/// A skeleton for a card that is loading.
#[component]
pub fn LoadingCard(#[prop(default = 3)] rows: usize) -> impl IntoView {
    view! {
        <div class="card p-6" aria-busy="true">
            <div class="space-y-4 animate-pulse">
                {(0..rows)
                    .map(|i| {
                        let w = ["w-2/3", "w-1/2", "w-5/6", "w-1/3"][i % 4];
                        view! { <div class=format!("h-4 rounded bg-slate-100 {w}")></div> }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

/// The server's message, with a way to try again.
#[component]
pub fn ErrorCard(message: String, #[prop(optional)] retry: Option<Callback<()>>) -> impl IntoView {
    view! {
        <div class="card flex items-start gap-3 border-red-200 bg-red-50/40 p-5" role="alert">
            <span class="mt-0.5 text-red-600" inner_html=icons::ALERT></span>
            <div class="flex-1">
                <p class="text-sm font-medium text-red-800">"This could not be loaded"</p>
                <p class="mt-1 text-sm text-red-700">{message}</p>
            </div>
            {retry.map(|r| view! { <button class="btn-secondary" on:click=move |_| r.run(())>"Try again"</button> })}
        </div>
    }
}

/// A dialog over the page; closes with Escape or the close button.
#[component]
pub fn Modal(
    open: RwSignal<bool>,
    #[prop(into)] title: String,
    children: ChildrenFn,
) -> impl IntoView {
    let title = StoredValue::new(title);
    view! {
        <Show when=move || open.get()>
            <div
                class="fixed inset-0 z-40 flex items-start justify-center bg-slate-900/40 px-4 pt-[12vh] backdrop-blur-[2px]"
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        open.set(false);
                    }
                }
            >
                <div role="dialog" aria-modal="true" aria-label=title.get_value() class="w-full max-w-lg rounded-card bg-white shadow-pop animate-in">
                    <div class="flex items-center justify-between border-b border-line px-6 py-4">
                        <h2 class="text-base font-semibold">{title.get_value()}</h2>
                        <button class="btn-ghost -mr-2 px-2" aria-label="Close" on:click=move |_| open.set(false) inner_html=icons::X></button>
                    </div>
                    <div class="px-6 py-5">{children()}</div>
                </div>
            </div>
        </Show>
    }
}

/// A secret shown once, with a copy button.
#[component]
pub fn SecretBox(#[prop(into)] value: String, #[prop(into)] note: String) -> impl IntoView {
    let toasts = use_toasts();
    let copy_value = value.clone();
    let copy = move |_| {
        let clipboard = window().navigator().clipboard();
        let _ = clipboard.write_text(&copy_value);
        toasts.success("Copied to the clipboard.");
    };
    view! {
        <div class="rounded-lg border border-amber-200 bg-amber-50 p-4">
            <p class="mb-2 text-xs font-medium text-amber-800">{note}</p>
            <div class="flex items-center gap-2">
                <code data-testid="secret" class="flex-1 break-all rounded-md bg-white px-3 py-2 font-mono text-xs text-ink ring-1 ring-amber-200">{value}</code>
                <button type="button" class="btn-secondary px-3" on:click=copy aria-label="Copy" inner_html=icons::COPY></button>
            </div>
        </div>
    }
}

#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="pointer-events-none fixed bottom-6 right-6 z-50 flex w-80 flex-col gap-2" aria-live="polite">
            <For each=move || toasts.list.get() key=|t| t.id let:t>
                <div class=if t.kind == ToastKind::Success {
                    "pointer-events-auto flex items-start gap-3 rounded-xl bg-slate-900 px-4 py-3 text-sm text-white shadow-pop animate-in"
                } else {
                    "pointer-events-auto flex items-start gap-3 rounded-xl bg-red-600 px-4 py-3 text-sm text-white shadow-pop animate-in"
                }>
                    <span class="mt-0.5 shrink-0" inner_html=if t.kind == ToastKind::Success { icons::CHECK } else { icons::ALERT }></span>
                    <span class="flex-1">{t.message.clone()}</span>
                    <button class="opacity-70 hover:opacity-100" aria-label="Dismiss" on:click=move |_| toasts.dismiss(t.id) inner_html=icons::X></button>
                </div>
            </For>
        </div>
    }
}

/// Formats an RFC 3339 time's date for display ("Nov 22, 2026").
pub fn short_date(t: &time::OffsetDateTime) -> String {
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = months[usize::from(u8::from(t.month())) - 1];
    format!("{m} {}, {}", t.day(), t.year())
}

/// Calls `on_done` with each result of `action` as it arrives.
pub fn on_result<I: 'static, O: Clone + Send + Sync + 'static>(
    action: Action<I, O>,
    on_done: impl Fn(O) + 'static,
) {
    Effect::new(move |_| {
        if let Some(result) = action.value().get() {
            on_done(result);
        }
    });
}

/// Runs `reset` every time the dialog opens, so it starts fresh.
pub fn reset_when_opened(open: RwSignal<bool>, reset: impl Fn() + 'static) {
    Effect::new(move |_| {
        if open.get() {
            reset();
        }
    });
}

/// A dialog form's Cancel and submit buttons; the submit button shows `busy` while pending.
#[component]
pub fn DialogButtons(
    open: RwSignal<bool>,
    pending: Signal<bool>,
    label: &'static str,
    busy: &'static str,
) -> impl IntoView {
    view! {
        <div class="flex justify-end gap-2">
            <button type="button" class="btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
            <button type="submit" class="btn-primary" disabled=move || pending.get()>
                {move || if pending.get() { busy } else { label }}
            </button>
        </div>
    }
}

/// An in-page form's submit and Cancel buttons; the submit button shows "Saving…" while pending.
#[component]
pub fn FormButtons(
    open: RwSignal<bool>,
    pending: Signal<bool>,
    label: &'static str,
) -> impl IntoView {
    view! {
        <div class="flex gap-2 sm:col-span-2">
            <button class="btn-primary" type="submit" disabled=move || pending.get()>{move || if pending.get() { "Saving…" } else { label }}</button>
            <button class="btn-secondary" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
        </div>
    }
}

/// A multipart form holding the file chosen in the `<input type=file>` that fired `ev`, as the
/// field `file` (what the API's upload endpoints read).
pub fn chosen_file_form(ev: &leptos::ev::Event) -> Option<web_sys::FormData> {
    use wasm_bindgen::JsCast;
    let input = ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    let file = input.files()?.get(0)?;
    let form = web_sys::FormData::new().ok()?;
    form.append_with_blob_and_filename("file", &file, &file.name())
        .ok()?;
    Some(form)
}

/// HTML from outside the app (a message's HTML part) shown in a sandboxed frame: its own
/// document (`srcdoc`), no scripts, no same-origin access, no forms — never injected into the
/// app's document. Its links open in a new tab, with no referrer and no way back to the frame
/// (`noopener`). Its height follows the amount of text, within bounds.
///
/// Mail that arrived is shown with `block_remote` (its own policy allows no image from the
/// network: a remote image can tell its sender the mail was read) until a person asks, and with
/// `hide_quotes` (what it quotes, as mail clients mark it, folded away).
#[component]
pub fn HtmlFrame(
    #[prop(into)] html: String,
    #[prop(into)] title: String,
    #[prop(optional)] block_remote: bool,
    #[prop(optional)] hide_quotes: bool,
) -> impl IntoView {
    let lines = html.matches("<p").count() + html.matches("<br").count() + html.len() / 90;
    let height = (48 + lines * 24).clamp(120, 640);
    let policy = if block_remote {
        "<meta http-equiv=\"Content-Security-Policy\" content=\"img-src data:\">"
    } else {
        ""
    };
    let quotes = if hide_quotes {
        "blockquote,.gmail_quote,.yahoo_quoted,#divRplyFwdMsg,#divRplyFwdMsg~*{display:none!important}"
    } else {
        ""
    };
    let html = aura_types::html::links_without_opener(&html);
    let doc = format!(
        "<!doctype html><html><head>{policy}<meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"><base target=\"_blank\"><style>\
         body{{margin:16px;font:14px/1.6 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#0f172a}}\
         a{{color:#4338ca;text-decoration:underline}}p{{margin:0 0 12px}}{quotes}</style></head><body>{html}</body></html>"
    );
    view! {
        <iframe
            class="block w-full border-0 bg-white"
            style=format!("height:{height}px")
            sandbox="allow-popups allow-popups-to-escape-sandbox"
            referrerpolicy="no-referrer"
            title=title
            srcdoc=doc
            data-testid="html-frame"
        ></iframe>
    }
}

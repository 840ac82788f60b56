//! A row of tabs that are addresses: each tab a link, the current one marked for assistive
//! technology (`aria-current="page"`) and styled from that mark.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// One tab: where it leads, its name, and an optional icon (SVG markup from `icons`).
#[derive(Clone, Debug)]
pub struct TabLink {
    pub href: String,
    pub label: &'static str,
    pub icon: Option<&'static str>,
}

/// Tabs under a page header. The current tab is the one whose address the browser is at or under;
/// when none is (an index route showing the first tab), the first.
#[component]
pub fn Tabs(#[prop(into)] label: String, tabs: Vec<TabLink>) -> impl IntoView {
    let location = use_location();
    let hrefs: Vec<String> = tabs.iter().map(|t| t.href.clone()).collect();
    let current = Memo::new(move |_| {
        location.pathname.with(|path| {
            hrefs
                .iter()
                .position(|h| {
                    path == h
                        || path
                            .strip_prefix(h.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                })
                .unwrap_or(0)
        })
    });
    view! {
        <nav class="mb-6 flex gap-1 overflow-x-auto border-b border-line" aria-label=label>
            {tabs.into_iter().enumerate().map(|(i, t)| view! {
                <a href=t.href aria-current=move || (current.get() == i).then_some("page")
                    class="-mb-px flex items-center gap-2 whitespace-nowrap border-b-2 border-transparent px-4 py-2.5 text-sm font-medium text-muted transition hover:text-ink aria-[current=page]:border-accent-600 aria-[current=page]:text-accent-700">
                    {t.icon.map(|icon| view! { <span inner_html=icon></span> })}
                    {t.label}
                </a>
            }).collect_view()}
        </nav>
    }
}

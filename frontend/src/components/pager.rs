//! Paging through a list the API answers a page at a time (`Page<T>`): where the view is, and the
//! "1–50 of 120 · Previous · Next" bar under the list.

use aura_types::{Cursor, Page, PageQuery};
use leptos::prelude::*;

/// Which page of a list is shown: the cursors that led to it (so Previous is a step back along
/// the trail) and how many items a page holds.
#[derive(Clone, Copy)]
pub struct Paging {
    trail: RwSignal<Vec<Cursor>>,
    size: u32,
}

impl Paging {
    pub fn new(size: u32) -> Self {
        Paging {
            trail: RwSignal::new(Vec::new()),
            size,
        }
    }

    /// The request for the page shown (tracked: a fetch that reads it runs again on a turn).
    pub fn query(&self) -> PageQuery {
        PageQuery {
            limit: Some(self.size),
            cursor: self.trail.with(|t| t.last().cloned()),
        }
    }

    /// Back to the first page (what a changed filter wants).
    pub fn reset(&self) {
        if !self.trail.with_untracked(Vec::is_empty) {
            self.trail.set(Vec::new());
        }
    }

    /// Whether a page after the first is shown (tracked): its pager stays, even when the list
    /// shrank under it.
    pub fn past_first(&self) -> bool {
        self.trail.with(|t| !t.is_empty())
    }

    fn start(&self) -> usize {
        self.trail.with(Vec::len) * self.size as usize
    }
}

/// Where a shown page sits in its list: how many items the list holds, how many are on the page,
/// and the cursor of the next page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageAt {
    pub total: i64,
    pub shown: usize,
    pub next: Option<Cursor>,
}

impl PageAt {
    pub fn of<T>(page: &Page<T>) -> Self {
        PageAt {
            total: page.total,
            shown: page.items.len(),
            next: page.next_cursor.clone(),
        }
    }
}

/// "1–50 of 120" with Previous and Next under a paged list, for the page `at` describes.
#[component]
pub fn Pager(
    paging: Paging,
    #[prop(into)] at: Signal<PageAt>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="flex items-center justify-between border-t border-line px-4 py-3 text-sm text-muted">
            <span data-testid=testid>{move || {
                let (start, PageAt { total, shown, .. }) = (paging.start(), at.get());
                let first = if shown == 0 { start } else { start + 1 };
                format!("{first}–{} of {total}", start + shown)
            }}</span>
            <div class="flex gap-2">
                <button class="btn-secondary" disabled=move || paging.trail.with(Vec::is_empty)
                    on:click=move |_| paging.trail.update(|t| { t.pop(); })>"Previous"</button>
                <button class="btn-secondary" disabled=move || at.with(|a| a.next.is_none())
                    on:click=move |_| if let Some(n) = at.with_untracked(|a| a.next.clone()) { paging.trail.update(|t| t.push(n)) }>"Next"</button>
            </div>
        </div>
    }
}

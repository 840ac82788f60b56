//! Live data: the one way a view shows what changes on the server while it is open.

use crate::api::ApiResult;
use leptos::{prelude::*, task::spawn_local};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

/// Data a view shows: fetched when the view opens, again on [`Live::refresh`] and, while
/// `poll_while` holds of the last answer (or the last fetch failed), every `every`. Once the view
/// is gone nothing of it is read or written again (Leptos panics on a read of a disposed signal),
/// and its timer stops. An answer to an older request than the latest is dropped.
pub struct Live<T: Send + Sync + 'static> {
    data: RwSignal<Option<Result<T, String>>>,
    requested: RwSignal<u64>,
}

impl<T: Send + Sync + 'static> Clone for Live<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Live<T> {}

impl<T: Clone + Send + Sync + 'static> Live<T> {
    /// The last answer (tracked): `None` until the first one arrives, then the data or why not.
    pub fn get(&self) -> Option<Result<T, String>> {
        self.data.get()
    }

    /// Reads the last answer in place (tracked).
    pub fn with<R>(&self, f: impl FnOnce(&Option<Result<T, String>>) -> R) -> R {
        self.data.with(f)
    }

    /// Fetches again now, showing the last answer until the new one arrives (a no-op once the
    /// view is gone).
    pub fn refresh(&self) {
        self.requested.try_update(|n| *n += 1);
    }

    /// Fetches again now, showing "loading" until the answer arrives (what a changed filter
    /// wants: the old answer is not an answer to it).
    pub fn reload(&self) {
        self.data.try_set(None);
        self.refresh();
    }
}

impl<U: Clone + Send + Sync + 'static> Live<aura_types::Page<U>> {
    /// Where the page last answered sits in its list (for a [`crate::components::Pager`]); it
    /// changes only when the total, the count shown or the next cursor does.
    pub fn page_at(&self) -> Memo<crate::components::PageAt> {
        let live = *self;
        Memo::new(move |_| {
            live.with(|p| match p {
                Some(Ok(page)) => crate::components::PageAt::of(page),
                _ => Default::default(),
            })
        })
    }
}

/// Live data from `fetch` (see [`Live`]). `fetch` reads what it needs (filters, pages) when it is
/// called, while the view is alive, and returns the request.
pub fn use_live<T, Fut>(
    fetch: impl Fn() -> Fut + 'static,
    every: Option<Duration>,
    poll_while: impl Fn(&T) -> bool + 'static,
) -> Live<T>
where
    T: Clone + Send + Sync + 'static,
    Fut: Future<Output = ApiResult<T>> + 'static,
{
    let live = Live {
        data: RwSignal::new(None),
        requested: RwSignal::new(0),
    };
    let fetch = Rc::new(fetch);
    // Every run of the effect is a request (a refresh, or a filter or page the fetch reads
    // changing); only the latest one's answer is shown.
    let latest = Rc::new(std::cell::Cell::new(0u64));
    Effect::new(move |_| {
        live.requested.track();
        let n = latest.get() + 1;
        latest.set(n);
        let request = fetch();
        let latest = latest.clone();
        spawn_local(async move {
            let answer = request.await.map_err(|e| e.message());
            if latest.get() == n {
                live.data.try_set(Some(answer));
            }
        });
    });
    if let Some(every) = every {
        spawn_local(async move {
            loop {
                gloo_timers::future::sleep(every).await;
                let due = live.data.try_with_untracked(|d| match d {
                    Some(Ok(v)) => poll_while(v),
                    Some(Err(_)) => true,
                    None => false,
                });
                match due {
                    None => break,
                    Some(true) => live.refresh(),
                    Some(false) => {}
                }
            }
        });
    }
    live
}

/// `input`, passed on only once it has stopped changing for `quiet` (what a search box wants: one
/// request when the person pauses, not one a keystroke).
pub fn use_debounced(input: RwSignal<String>, quiet: Duration) -> ReadSignal<String> {
    let (settled, set_settled) = signal(input.get_untracked());
    let changes = RwSignal::new(0u64);
    Effect::new(move |prev: Option<()>| {
        let value = input.get();
        if prev.is_none() {
            return;
        }
        let n = changes.get_untracked() + 1;
        changes.set(n);
        spawn_local(async move {
            gloo_timers::future::sleep(quiet).await;
            if changes.try_get_untracked() == Some(n) {
                set_settled.try_set(value);
            }
        });
    });
    settled
}

/// The inbox's live stream as views see it: a count that goes up with every event (mail arrived,
/// a conversation changed), so a view that reads it in its fetch refreshes on each.
#[derive(Clone, Copy)]
pub struct InboxPulse(RwSignal<u64>);

impl InboxPulse {
    /// Tracks the pulse (call inside a fetch to refresh on every inbox event).
    pub fn track(&self) {
        self.0.track();
    }
}

/// The pulse the shell provides.
pub fn use_inbox_pulse() -> InboxPulse {
    expect_context::<InboxPulse>()
}

/// Opens the inbox's event stream (server-sent events) for as long as the calling view lives,
/// and provides its [`InboxPulse`]. The stream is opened with a short-lived token (an
/// EventSource cannot send an Authorization header); when it closes (the server ends streams
/// after ten minutes, or the connection broke) a new token reopens it from the last event seen.
/// The stream follows the organization the person works in (`org`: none when signed out).
pub fn provide_inbox_stream(api: crate::api::Api, org: Signal<Option<aura_types::OrgId>>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let pulse = InboxPulse(RwSignal::new(0));
    provide_context(pulse);
    let stopped = RwSignal::new(false);
    on_cleanup(move || {
        stopped.try_set(true);
    });
    let alive = move || stopped.try_get_untracked().is_some_and(|s| !s);
    spawn_local(async move {
        let last_id = Rc::new(std::cell::RefCell::new(None::<String>));
        // A burst of events (a mailbox's first sync) is one refresh: the pulse goes up once, a
        // moment after the first of them.
        let pending = Rc::new(std::cell::Cell::new(false));
        let mut streamed_org = None;
        while alive() {
            let Some(current) = org.try_get_untracked().flatten() else {
                gloo_timers::future::sleep(Duration::from_secs(2)).await;
                continue;
            };
            // Another organization's stream starts from its own present.
            if streamed_org != Some(current) {
                streamed_org = Some(current);
                *last_id.borrow_mut() = None;
            }
            let Ok(token) = crate::api::inbox::stream_token(api).await else {
                gloo_timers::future::sleep(Duration::from_secs(10)).await;
                continue;
            };
            let mut url = format!("/api/v1/inbox/stream?token={}", token.token);
            if let Some(id) = last_id.borrow().as_ref() {
                url.push_str(&format!("&last_event_id={id}"));
            }
            let Ok(source) = web_sys::EventSource::new(&url) else {
                gloo_timers::future::sleep(Duration::from_secs(10)).await;
                continue;
            };
            let seen = last_id.clone();
            let pending = pending.clone();
            let on_event = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |e: web_sys::MessageEvent| {
                    *seen.borrow_mut() = Some(e.last_event_id());
                    if !pending.replace(true) {
                        let pending = pending.clone();
                        spawn_local(async move {
                            gloo_timers::future::sleep(Duration::from_millis(300)).await;
                            pending.set(false);
                            pulse.0.try_update(|n| *n += 1);
                        });
                    }
                },
            );
            for kind in ["message", "conversation"] {
                source
                    .add_event_listener_with_callback(kind, on_event.as_ref().unchecked_ref())
                    .ok();
            }
            while alive()
                && source.ready_state() != web_sys::EventSource::CLOSED
                && org.try_get_untracked().flatten() == Some(current)
            {
                gloo_timers::future::sleep(Duration::from_secs(2)).await;
            }
            source.close();
            drop(on_event);
        }
    });
}

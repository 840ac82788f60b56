//! App-wide state handed down through context: the session and the toasts.

use aura_types::{Me, Session};
use leptos::prelude::*;
use std::time::Duration;

/// The signed-in session, if any, held in two parts that change at different times: the access
/// token (replaced on every refresh, read only when a request goes out, so nothing re-renders for
/// it) and `Me` (who is signed in and for which organization, which views show; it changes on an
/// organization switch or a profile change, not on a refresh). `ready` turns true once the app
/// knows (after trying the refresh cookie at start-up).
#[derive(Clone, Copy)]
pub struct Auth {
    token: RwSignal<Option<String>>,
    me: RwSignal<Option<Me>>,
    pub ready: RwSignal<bool>,
}

impl Auth {
    pub fn new() -> Self {
        Self {
            token: RwSignal::new(None),
            me: RwSignal::new(None),
            ready: RwSignal::new(false),
        }
    }

    /// Adopts a session: its token always, its `Me` only when it differs from the one shown.
    pub fn set(&self, session: Session) {
        self.token.set(Some(session.access_token));
        if self.me.with_untracked(|m| m.as_ref() != Some(&session.me)) {
            self.me.set(Some(session.me));
        }
    }

    pub fn clear(&self) {
        self.token.set(None);
        self.me.set(None);
    }

    /// The access token for a request (untracked: nothing re-renders when it is replaced).
    pub fn token(&self) -> Option<String> {
        self.token.get_untracked()
    }

    pub fn me(&self) -> Option<Me> {
        self.me.get()
    }

    pub fn signed_in(&self) -> bool {
        self.me.with(Option::is_some)
    }

    /// Replaces who the session is for (after profile or organization changes).
    pub fn update_me(&self, f: impl FnOnce(&mut Me)) {
        self.me.update(|m| {
            if let Some(m) = m {
                f(m);
            }
        });
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
}

#[derive(Clone)]
pub struct Toast {
    pub id: u64,
    pub kind: ToastKind,
    pub message: String,
}

#[derive(Clone, Copy)]
pub struct Toasts {
    pub list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    pub fn new() -> Self {
        Self {
            list: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        }
    }

    pub fn success(&self, message: impl Into<String>) {
        self.push(ToastKind::Success, message.into());
    }

    pub fn error(&self, message: impl Into<String>) {
        self.push(ToastKind::Error, message.into());
    }

    fn push(&self, kind: ToastKind, message: String) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.list.update(|l| l.push(Toast { id, kind, message }));
        let list = self.list;
        set_timeout(
            move || list.update(|l| l.retain(|t| t.id != id)),
            Duration::from_secs(5),
        );
    }

    pub fn dismiss(&self, id: u64) {
        self.list.update(|l| l.retain(|t| t.id != id));
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

pub fn use_api() -> crate::api::Api {
    expect_context::<crate::api::Api>()
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

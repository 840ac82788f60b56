//! App-wide state handed down through context: the session and the toasts.

use aura_types::{Me, Session};
use leptos::prelude::*;
use std::time::Duration;

/// The signed-in session, if any. `ready` turns true once the app knows (after trying the
/// refresh cookie at start-up).
#[derive(Clone, Copy)]
pub struct Auth {
    session: RwSignal<Option<Session>>,
    pub ready: RwSignal<bool>,
}

impl Auth {
    pub fn new() -> Self {
        Self {
            session: RwSignal::new(None),
            ready: RwSignal::new(false),
        }
    }

    pub fn set(&self, session: Session) {
        self.session.set(Some(session));
    }

    pub fn clear(&self) {
        self.session.set(None);
    }

    pub fn token(&self) -> Option<String> {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.access_token.clone()))
    }

    pub fn me(&self) -> Option<Me> {
        self.session.with(|s| s.as_ref().map(|s| s.me.clone()))
    }

    pub fn signed_in(&self) -> bool {
        self.session.with(Option::is_some)
    }

    /// Replaces who the session is for (after profile or organization changes).
    pub fn update_me(&self, f: impl FnOnce(&mut Me)) {
        self.session.update(|s| {
            if let Some(s) = s {
                f(&mut s.me);
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

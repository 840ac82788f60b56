//! HTTP only: each module parses input, calls `domain`/`db`, and maps the result to a response.

pub mod ai;
pub mod api_keys;
pub mod auth;
pub mod caller;
pub mod campaigns;
pub mod contacts;
pub mod delivery;
pub mod dkim;
pub mod health;
pub mod imports;
pub mod inbox;
pub mod invitations;
pub mod mailboxes;
pub mod me;
pub mod members;
pub mod messages;
pub mod openapi;
pub mod organization;
pub mod phone;
pub mod public;
pub mod segments;
pub mod suppressions;
pub mod templates;
pub mod twilio;
pub mod web;

use crate::delivery::links::{CLICK_PREFIX, OPEN_PREFIX};
use actix_web::{http::Method, web as aw, FromRequest, Handler, Responder};
pub use caller::{Caller, Principal};

/// A resource's routes under one prefix. It builds the actix scope (or registers at the root)
/// and keeps the list of what it serves — method and path — so that the list of operations the
/// router answers is read from the router itself ([`operations`]), and the contract test can
/// compare it with `openapi.yaml` in both directions.
pub struct Routes {
    prefix: &'static str,
    entries: Vec<Entry>,
}

enum Entry {
    Route(Method, String, actix_web::Route),
    /// Every path under a fixed prefix, taken by one handler (shown as `pattern`).
    Tail(&'static str, String, actix_web::Route),
    Nested(Routes),
}

impl Routes {
    pub fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            entries: Vec::new(),
        }
    }

    fn add<F, Args>(mut self, method: Method, path: &str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route = aw::method(method.clone()).to(handler);
        self.entries
            .push(Entry::Route(method, path.to_owned(), route));
        self
    }

    pub fn get<F, Args>(self, path: &str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::GET, path, handler)
    }

    pub fn post<F, Args>(self, path: &str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::POST, path, handler)
    }

    pub fn put<F, Args>(self, path: &str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::PUT, path, handler)
    }

    pub fn patch<F, Args>(self, path: &str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::PATCH, path, handler)
    }

    pub fn delete<F, Args>(self, path: &str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::DELETE, path, handler)
    }

    /// Every path under `prefix` goes to `handler`, which reads the rest itself (no pattern
    /// matching per request: see `public::tracking`). Listed as a GET of `pattern`.
    pub fn tail<F, Args>(mut self, prefix: &'static str, pattern: &str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.entries
            .push(Entry::Tail(prefix, pattern.to_owned(), aw::to(handler)));
        self
    }

    /// The routes of `inner`, under this prefix.
    pub fn nest(mut self, inner: Routes) -> Self {
        self.entries.push(Entry::Nested(inner));
        self
    }

    /// What it serves: method and full path (under `base`), in registration order.
    pub fn served(&self, base: &str) -> Vec<(Method, String)> {
        let base = format!("{base}{}", self.prefix);
        self.entries
            .iter()
            .flat_map(|e| match e {
                Entry::Route(m, path, _) => vec![(m.clone(), format!("{base}{path}"))],
                Entry::Tail(_, pattern, _) => vec![(Method::GET, format!("{base}{pattern}"))],
                Entry::Nested(inner) => inner.served(&base),
            })
            .collect()
    }

    /// The actix scope of these routes.
    pub fn into_scope(self) -> actix_web::Scope {
        self.entries
            .into_iter()
            .fold(aw::scope(self.prefix), |scope, e| match e {
                Entry::Route(_, path, route) => scope.route(&path, route),
                Entry::Tail(prefix, _, route) => {
                    scope.service(aw::scope(prefix).default_service(route))
                }
                Entry::Nested(inner) => scope.service(inner.into_scope()),
            })
    }

    /// Registers the routes at the root of `cfg` (for the prefix-less routes outside `/api/v1`).
    pub fn configure(self, cfg: &mut aw::ServiceConfig) {
        for e in self.entries {
            match e {
                Entry::Route(_, path, route) => {
                    cfg.route(&format!("{}{path}", self.prefix), route);
                }
                Entry::Tail(prefix, _, route) => {
                    cfg.service(aw::scope(prefix).default_service(route));
                }
                Entry::Nested(inner) => {
                    cfg.service(inner.into_scope());
                }
            }
        }
    }
}

/// The API's resources, each under its own prefix of `/api/v1`.
fn resources() -> Vec<Routes> {
    vec![
        auth::scope(),
        me::scope(),
        organization::scope(),
        members::scope(),
        invitations::scope(),
        api_keys::scope(),
        contacts::scope(),
        segments::scope(),
        suppressions::scope(),
        ai::scope(),
        campaigns::scope(),
        templates::scope(),
        mailboxes::scope(),
        phone::scope(),
        phone::numbers_scope(),
        phone::outbox_scope(),
        phone::quiet_scope(),
        phone::templates_scope(),
        twilio::scope(),
        dkim::scope(),
        delivery::outbox_scope(),
        inbox::scope(),
        inbox::stream_scope(),
        Routes::new("").get("/openapi.json", openapi::openapi_json),
    ]
}

/// Mounts every API resource under `/api/v1`.
pub fn api_v1(cfg: &mut aw::ServiceConfig) {
    for r in resources() {
        cfg.service(r.into_scope());
    }
}

/// The routes outside `/api/v1`: health, the links inside sent email, the API's documentation.
/// The two tracking addresses come first after `/healthz`: they are the busiest of the server.
pub fn root() -> Routes {
    Routes::new("")
        .get("/healthz", health::healthz)
        .tail(OPEN_PREFIX, "/t/o/{token}", public::open)
        .tail(CLICK_PREFIX, "/t/c/{token}", public::click)
        .get("/readyz", health::readyz)
        .get("/api/docs", web::docs)
        .get("/u/{token}", public::unsubscribe_page)
        .post("/u/{token}", public::unsubscribe)
}

/// Every operation the router answers (method and path), read from the routes themselves.
pub fn operations() -> Vec<(Method, String)> {
    let mut all = root().served("");
    for r in resources() {
        all.extend(r.served("/api/v1"));
    }
    all
}

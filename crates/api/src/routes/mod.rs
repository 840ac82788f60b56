//! HTTP only: each module parses input, calls `domain`/`db`, and maps the result to a response.

pub mod ai;
pub mod api_keys;
pub mod auth;
pub mod campaigns;
pub mod contacts;
pub mod delivery;
pub mod dkim;
pub mod health;
pub mod imports;
pub mod invitations;
pub mod mailboxes;
pub mod me;
pub mod members;
pub mod messages;
pub mod organization;
pub mod public;
pub mod segments;
pub mod suppressions;
pub mod templates;
pub mod web;

use actix_web::web as aw;

/// Mounts every API resource under `/api/v1`.
pub fn api_v1(cfg: &mut aw::ServiceConfig) {
    cfg.service(auth::scope())
        .service(me::scope())
        .service(organization::scope())
        .service(members::scope())
        .service(invitations::scope())
        .service(api_keys::scope())
        .service(contacts::scope())
        .service(segments::scope())
        .service(suppressions::scope())
        .service(ai::scope())
        .service(campaigns::scope())
        .service(templates::scope())
        .service(mailboxes::scope())
        .service(dkim::scope())
        .service(delivery::outbox_scope())
        .route("/openapi.json", aw::get().to(web::openapi_json));
}

/// Items a list answers when the caller names no `limit`, and the most it answers.
pub const PAGE_DEFAULT: i64 = 50;
pub const PAGE_MAX: i64 = 200;

/// A list's `limit`, kept within 1 and [`PAGE_MAX`] ([`PAGE_DEFAULT`] when not given).
pub fn page_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX)
}

/// A list's `offset`: the start when not given or negative.
pub fn page_offset(offset: Option<i64>) -> i64 {
    offset.unwrap_or(0).max(0)
}

/// Keyset paging: `items` was fetched with `limit + 1` rows; keeps `limit` of them and returns
/// the cursor of the next page (the last kept item's), or `None` on the last page.
pub fn next_cursor<T, C>(items: &mut Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> C) -> Option<C> {
    let limit = usize::try_from(limit).unwrap_or(0);
    if items.len() <= limit {
        return None;
    }
    items.truncate(limit);
    items.last().map(cursor_of)
}

//! HTTP only: each module parses input, calls `domain`/`db`, and maps the result to a response.

pub mod api_keys;
pub mod auth;
pub mod contacts;
pub mod health;
pub mod imports;
pub mod invitations;
pub mod me;
pub mod members;
pub mod organization;
pub mod segments;
pub mod suppressions;
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
        .route("/openapi.json", aw::get().to(web::openapi_json));
}

//! The refresh-token cookie: httpOnly, SameSite=Strict, Secure over https, scoped to the auth
//! endpoints.

use crate::config::Settings;
use actix_web::cookie::{time::Duration, Cookie, SameSite};

pub const REFRESH_COOKIE: &str = "aura_refresh";
pub const REFRESH_COOKIE_PATH: &str = "/api/v1/auth";

pub fn refresh_cookie(settings: &Settings, token: String) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, token)
        .path(REFRESH_COOKIE_PATH)
        .http_only(true)
        .secure(settings.is_https())
        .same_site(SameSite::Strict)
        .max_age(Duration::days(i64::from(settings.refresh_token_ttl_days)))
        .finish()
}

pub fn cleared_refresh_cookie(settings: &Settings) -> Cookie<'static> {
    let mut c = refresh_cookie(settings, String::new());
    c.make_removal();
    c
}

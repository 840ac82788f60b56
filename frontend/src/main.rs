//! Aura's web app: a Leptos single-page app that talks only to `/api/v1` through one typed client.

mod api;
mod app;
mod components;
mod icons;
mod live;
mod pages;
mod state;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

//! Leptos's counter, the reference the web app's size is measured against.

use leptos::prelude::*;

#[component]
fn Counter(initial: i32) -> impl IntoView {
    let (value, set_value) = signal(initial);
    view! {
        <div>
            <button on:click=move |_| set_value.set(0)>"Clear"</button>
            <button on:click=move |_| set_value.update(|v| *v -= 1)>"-1"</button>
            <span>"Value: " {value} "!"</span>
            <button on:click=move |_| set_value.update(|v| *v += 1)>"+1"</button>
        </div>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(|| view! { <Counter initial=0 /> });
}

//! The page for any address Switchyard does not know.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Answers unknown pages with a 404 status and a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }

    view! {
        <Title text="Page not found" />
        <section class="error-page" aria-labelledby="error-title">
            <p class="error-code">"404"</p>
            <h1 id="error-title">"Page not found"</h1>
            <p>
                "There is no page at this address. It may have moved, or the link may be mistyped."
            </p>
            <p>
                <A href="/">"Go to the Overview"</A>
            </p>
        </section>
    }
}

//! The page for a role that may not see what it asked for.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::domain::{Action, Role};

/// Answers 403 and says which role is needed.
#[component]
pub fn Forbidden(role: Role, action: Action) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    let needed = action.minimum_role();
    view! {
        <Title text="Not allowed" />
        <section class="error-page" aria-labelledby="error-title">
            <p class="error-code">"403"</p>
            <h1 id="error-title">"Not allowed"</h1>
            <p>
                {format!(
                    "Your role, {role}, may not {}. That needs the {needed} role; ask an administrator if you should have it.",
                    action.describe(),
                )}
            </p>
            <p>
                <A href="/">"Go to the Overview"</A>
            </p>
        </section>
    }
}

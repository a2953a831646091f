//! What a page shows when its record could not be loaded: the server's message, a way back,
//! and (server-rendered) the HTTP status that goes with it, so a missing service answers 404
//! like any unknown address.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::AppError;

/// "Deployment" / "There is no deployment 99." / "← All deployments".
#[component]
pub fn LoadFailed(
    /// The page's heading when the record is missing: "Deployment".
    title: &'static str,
    error: AppError,
    /// Where to go instead, and its link text.
    back: (&'static str, &'static str),
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(
            axum::http::StatusCode::from_u16(error.status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    let (href, label) = back;
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <p class="form-error" role="alert">{error.to_string()}</p>
        <p><a href=href>{label}</a></p>
    }
}

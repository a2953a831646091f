//! Light and dark themes. Without JavaScript the page follows the system preference; the toggle
//! appears once the page has hydrated and remembers the choice in `localStorage`.

use leptos::prelude::*;

/// The `localStorage` key holding the chosen theme (`light` or `dark`); a macro so that the
/// inline script below can spell the same key.
macro_rules! storage_key {
    () => {
        "switchyard-theme"
    };
}

/// Runs in `<head>` before first paint; kept tiny and dependency-free on purpose.
pub const APPLY_STORED_THEME: &str = concat!(
    "try{var t=localStorage.getItem('",
    storage_key!(),
    "');if(t==='light'||t==='dark'){document.documentElement.dataset.theme=t}}catch(e){}"
);

/// The favicon as an inline SVG, so the shell needs no static file beside the bundle.
pub const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' \
viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%232563eb'/%3E%3Cpath \
d='M3 6h8l-2-2M13 10H5l2 2' stroke='white' stroke-width='1.6' fill='none'/%3E%3C/svg%3E";

/// A button that switches between light and dark. Hidden until hydration, because without
/// JavaScript it could not do anything.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    let dark = RwSignal::new(false);

    // Effects run only in the browser, so this is also the proof that the page hydrated.
    Effect::new(move |_| {
        dark.set(current_theme_is_dark());
        hydrated.set(true);
    });

    let toggle = move |_| {
        let now_dark = !dark.get_untracked();
        dark.set(now_dark);
        apply_theme(if now_dark { "dark" } else { "light" });
    };

    view! {
        <button
            type="button"
            class="theme-toggle"
            hidden=move || !hydrated.get()
            aria-pressed=move || dark.get().to_string()
            on:click=toggle
        >
            {move || if dark.get() { "Light theme" } else { "Dark theme" }}
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn current_theme_is_dark() -> bool {
    let stored = document()
        .document_element()
        .and_then(|root| root.get_attribute("data-theme"));
    match stored.as_deref() {
        Some(theme) => theme == "dark",
        None => window()
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten()
            .is_some_and(|query| query.matches()),
    }
}

#[cfg(feature = "hydrate")]
fn apply_theme(theme: &str) {
    if let Some(root) = document().document_element() {
        // Setting an attribute on <html> cannot fail for a valid name.
        let _ = root.set_attribute("data-theme", theme);
    }
    if let Ok(Some(storage)) = window().local_storage() {
        // Private browsing may refuse storage; the theme still applies for this page.
        let _ = storage.set_item(storage_key!(), theme);
    }
}

// The server never runs effects or click handlers; these keep both builds compiling.
#[cfg(not(feature = "hydrate"))]
fn current_theme_is_dark() -> bool {
    false
}

#[cfg(not(feature = "hydrate"))]
fn apply_theme(_theme: &str) {}

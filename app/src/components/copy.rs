//! A button that copies a text (a new token, a command line) to the clipboard and says so.

use leptos::prelude::*;

/// Copies `text`; its label turns to "Copied" for a moment so the press is seen.
#[component]
pub fn CopyButton(#[prop(into)] text: String, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            // The promise settles on its own; a refused clipboard leaves the text selectable.
            let _ = window().navigator().clipboard().write_text(&text);
            copied.set(true);
            set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" class="copy" on:click=copy aria-live="polite">
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

//! A destructive button that asks first. Built on `<details>`, so it opens with a click, a tap
//! or the keyboard and works before (or without) the WASM: the first press shows the question
//! and the real submit button of the surrounding form; pressing elsewhere leaves it unasked.

use leptos::prelude::*;

/// "Deactivate" → "Deactivate ada? They are logged out everywhere." [Yes, deactivate].
/// Place it inside the form it submits.
#[component]
pub fn ConfirmSubmit(
    /// The button's text: "Deactivate".
    #[prop(into)]
    label: String,
    /// The button's name for screen readers when the row gives its context: "Deactivate ada".
    #[prop(into)]
    accessible_label: String,
    /// What happens, as a question: "Deactivate ada? They are logged out everywhere."
    #[prop(into)]
    question: String,
    /// The submit button's text: "Yes, deactivate".
    #[prop(into)]
    confirm: String,
    #[prop(into, optional)] pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary class="button danger" aria-label=accessible_label>{label}</summary>
            <div class="confirm-body">
                <p>{question}</p>
                <button type="submit" class="danger" aria-busy=move || pending.get().then_some("true") disabled=move || pending.get()>
                    {confirm}
                </button>
            </div>
        </details>
    }
}

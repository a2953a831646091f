//! Following a live page: the browser listens to a server-sent event stream and bumps a
//! counter on each `changed`, which the page's resources depend on, so they re-read.

use leptos::prelude::*;

/// Listens to `url`'s server-sent events, bumping `changed` on each; closes when the page goes.
#[cfg(feature = "hydrate")]
pub fn follow(url: String, changed: RwSignal<u64>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Ok(source) = web_sys::EventSource::new(&url) else {
        return;
    };
    // `try_update`: an event already queued when the page went away finds the counter
    // disposed; it has nothing left to refresh, and `update` would panic.
    let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
        changed.try_update(|n| *n += 1);
    });
    let _ = source.add_event_listener_with_callback("changed", on_change.as_ref().unchecked_ref());
    let kept = StoredValue::new_local(Some((source, on_change)));
    on_cleanup(move || {
        if let Some((source, _)) = kept.try_update_value(Option::take).flatten() {
            source.close();
        }
    });
}

/// The server renders the state as it is; following starts in the browser.
#[cfg(not(feature = "hydrate"))]
pub fn follow(_url: String, _changed: RwSignal<u64>) {}

//! The browser entry point: hydrates the server-rendered page into the live app.

/// Called by the generated JavaScript once the WASM module has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes: a page's chunk is fetched before that page hydrates.
    leptos::mount::hydrate_lazy(app::App);
}

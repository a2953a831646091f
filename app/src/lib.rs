//! Switchyard's user interface: the document shell, the layout every page lives in, and the
//! pages themselves. With the `ssr` feature it also holds the backend that server functions and
//! REST handlers share (`backend`); the `hydrate` build leaves that out of the browser bundle.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod build_info;
mod layout;
mod pages;
mod theme;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use crate::{
    layout::Layout,
    pages::{NotFound, Overview, Planned, PlannedPage},
};

/// The HTML document around every page. Rendered only on the server; the browser hydrates
/// `<body>` from the same `App`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href=theme::FAVICON />
                // Applies a stored theme before first paint, so a dark page never flashes white.
                <script inner_html=theme::APPLY_STORED_THEME></script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="switchyard" href="/pkg/switchyard.css" />
        <Title formatter=|page: String| format!("{page} · Switchyard") />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Overview />
                    <Route path=path!("/deployments") view=|| view! { <Planned page=PlannedPage::Deployments /> } />
                    <Route path=path!("/releases") view=|| view! { <Planned page=PlannedPage::Releases /> } />
                    <Route path=path!("/incidents") view=|| view! { <Planned page=PlannedPage::Incidents /> } />
                    <Route path=path!("/metrics") view=|| view! { <Planned page=PlannedPage::Metrics /> } />
                    <Route path=path!("/admin") view=|| view! { <Planned page=PlannedPage::Admin /> } />
                </Routes>
            </Layout>
        </Router>
    }
}

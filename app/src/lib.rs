//! Switchyard's user interface: the document shell, the layout every page lives in, and the
//! pages themselves. With the `ssr` feature it also holds the backend that server functions and
//! REST handlers share (`backend`); the `hydrate` build leaves that out of the browser bundle.

#[cfg(feature = "ssr")]
pub mod backend;
pub mod build_info;
mod components;
pub mod domain;
pub mod error;
mod layout;
pub mod model;
mod pages;
pub mod session;
mod theme;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use crate::{
    domain::Action,
    layout::Layout,
    pages::{
        AccountPage, AuditPage, LoginPage, NotFound, Overview, Planned, PlannedPage, SetupPage,
        TokensPage, UsersPage,
    },
    session::{provide_current_user, Protected},
};

/// A section every logged-in role may read, behind the login.
fn planned(page: PlannedPage) -> impl IntoView {
    view! {
        <Protected action=Action::Read>
            <Planned page />
        </Protected>
    }
}

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
    provide_current_user();

    view! {
        <Stylesheet id="switchyard" href="/pkg/switchyard.css" />
        <Title formatter=|page: String| format!("{page} · Switchyard") />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Protected action=Action::Read><Overview /></Protected> } />
                    <Route path=path!("/deployments") view=|| planned(PlannedPage::Deployments) />
                    <Route path=path!("/releases") view=|| planned(PlannedPage::Releases) />
                    <Route path=path!("/incidents") view=|| planned(PlannedPage::Incidents) />
                    <Route path=path!("/metrics") view=|| planned(PlannedPage::Metrics) />
                    <Route path=path!("/admin") view=UsersPage />
                    <Route path=path!("/admin/tokens") view=TokensPage />
                    <Route path=path!("/admin/audit") view=AuditPage />
                    <Route path=path!("/account") view=AccountPage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/setup") view=SetupPage />
                </Routes>
            </Layout>
        </Router>
    }
}

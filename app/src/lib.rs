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
    path, SsrMode,
};

use crate::{
    domain::Action,
    layout::Layout,
    pages::{
        AccountPage, AuditPage, DeploymentPage, DeploymentsPage, EnvironmentPage, LoginPage,
        NotFound, Overview, Planned, PlannedPage, RecordDeploymentPage, ServicesPage, SetupPage,
        TokensPage, UsersPage,
    },
    session::{Protected, WithCurrentUser},
};

/// A section every logged-in role may read, behind the login.
fn planned(page: PlannedPage) -> impl IntoView {
    view! {
        <Page>
            <Protected action=Action::Read>
                <Planned page />
            </Protected>
        </Page>
    }
}

/// Every page: the current user loaded once (one Suspense boundary), then the layout around
/// the content. Each route renders its own, so the route list stays visible to leptos_axum
/// without loading anything.
#[component]
fn Page(children: ChildrenFn) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <WithCurrentUser>
            <Layout>{children.read_value()()}</Layout>
        </WithCurrentUser>
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

    view! {
        <Stylesheet id="switchyard" href="/pkg/switchyard.css" />
        <Title formatter=|page: String| format!("{page} · Switchyard") />
        // Async rendering: the server answers once the user is known and the page's data is
        // loaded, so a guard can still redirect or answer 403, and pages are complete without
        // JavaScript.
        <Router>
                <Routes fallback=|| view! { <Page><NotFound /></Page> }>
                    <Route path=path!("/") view=|| view! { <Page><Protected action=Action::Read><Overview /></Protected></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/deployments") view=|| view! { <Page><DeploymentsPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/deployments/new") view=|| view! { <Page><RecordDeploymentPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/deployments/:id") view=|| view! { <Page><DeploymentPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/services/:service/environments/:environment") view=|| view! { <Page><EnvironmentPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/releases") view=|| planned(PlannedPage::Releases) ssr=SsrMode::Async />
                    <Route path=path!("/incidents") view=|| planned(PlannedPage::Incidents) ssr=SsrMode::Async />
                    <Route path=path!("/metrics") view=|| planned(PlannedPage::Metrics) ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=|| view! { <Page><UsersPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/admin/tokens") view=|| view! { <Page><TokensPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/admin/services") view=|| view! { <Page><ServicesPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=|| view! { <Page><AuditPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/account") view=|| view! { <Page><AccountPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/login") view=|| view! { <Page><LoginPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/setup") view=|| view! { <Page><SetupPage /></Page> } ssr=SsrMode::Async />
                </Routes>
        </Router>
    }
}

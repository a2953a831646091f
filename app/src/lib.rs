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
pub mod pages;
mod theme;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

use crate::{
    domain::Action,
    layout::Layout,
    pages::{
        accounts::{
            session::{provide_current_user, Protected},
            AccountPage, LoginPage, SetupPage, TokensPage, UsersPage,
        },
        audit::AuditPage,
        catalog::{CatalogAdminPage, ServicePage, ServicesPage},
        deployments::{DeploymentPage, DeploymentsPage, RecordDeploymentPage},
        incidents::{ActionItemsPage, DeclarePage, IncidentPage, IncidentsPage, PostmortemPage},
        metrics::MetricsPage,
        operations::EnvironmentPage,
        releases::{ChecklistPage, ReleasePage, ReleasesPage},
        NotFound, Overview,
    },
};

/// A route whose page the browser loads on first use, as a WASM chunk of its own
/// (`cargo leptos build --split`), so the first page a phone opens downloads only what it
/// shows. Only the Overview and the login page are in the main bundle; every new page is lazy
/// (README: Architecture, page weight).
macro_rules! lazy_page {
    ($route:ident => $page:expr) => {
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <Page>{$page}</Page> }.into_any()
            }
        }
    };
}

lazy_page!(DeploymentsRoute => view! { <DeploymentsPage /> });
lazy_page!(RecordDeploymentRoute => view! { <RecordDeploymentPage /> });
lazy_page!(DeploymentRoute => view! { <DeploymentPage /> });
lazy_page!(EnvironmentRoute => view! { <EnvironmentPage /> });
lazy_page!(ReleasesRoute => view! { <ReleasesPage /> });
lazy_page!(ReleaseRoute => view! { <ReleasePage /> });
lazy_page!(ChecklistRoute => view! { <ChecklistPage /> });
lazy_page!(IncidentsRoute => view! { <IncidentsPage /> });
lazy_page!(DeclareRoute => view! { <DeclarePage /> });
lazy_page!(IncidentRoute => view! { <IncidentPage /> });
lazy_page!(PostmortemRoute => view! { <PostmortemPage /> });
lazy_page!(ActionItemsRoute => view! { <ActionItemsPage /> });
lazy_page!(MetricsRoute => view! { <MetricsPage /> });
lazy_page!(UsersRoute => view! { <UsersPage /> });
lazy_page!(TokensRoute => view! { <TokensPage /> });
lazy_page!(CatalogAdminRoute => view! { <CatalogAdminPage /> });
lazy_page!(ServicesRoute => view! { <ServicesPage /> });
lazy_page!(ServiceRoute => view! { <ServicePage /> });
lazy_page!(AuditRoute => view! { <AuditPage /> });
lazy_page!(AccountRoute => view! { <AccountPage /> });
lazy_page!(SetupRoute => view! { <SetupPage /> });

/// Every page: the layout around the content.
#[component]
fn Page(children: Children) -> impl IntoView {
    view! { <Layout>{children()}</Layout> }
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
                <script nonce=leptos::nonce::use_nonce() inner_html=theme::APPLY_STORED_THEME></script>
                <HashedStylesheet id="switchyard" options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A page's Content-Security-Policy: everything it loads comes from Switchyard itself, and an
/// inline script runs only with this response's `nonce`. So markup injected through a data
/// field can neither run script nor send data elsewhere, and no other site can frame a page.
/// The server's request middleware draws the nonce for each request ([`PageNonce`]), sends
/// this policy with every page, and Leptos puts the same nonce on its hydration and resource
/// scripts ([`provide_page_nonce`]); other responses get a stricter default.
#[cfg(feature = "ssr")]
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The nonce the server drew for a request, in its extensions.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct PageNonce(pub String);

/// Makes the request's [`PageNonce`] the one Leptos writes on the page's scripts. Called in
/// the rendering context of every page. The policy header is set by the middleware that drew
/// the nonce, not from inside the render: a header set from the render was sometimes lost
/// under load, and a page without its policy got the strict default, which blocks every
/// script, so the page never came alive.
#[cfg(feature = "ssr")]
pub fn provide_page_nonce() {
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageNonce>().cloned());
    if let Some(PageNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

/// The application: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_current_user();

    view! {
        <Title formatter=|page: String| format!("{page} · Switchyard") />
        // Async rendering: the server answers once the page's data is loaded, so pages are
        // complete without JavaScript (and a guard's status or redirect reaches the head).
        <Router>
                <Routes fallback=|| view! { <Page><NotFound /></Page> }>
                    <Route path=path!("/") view=|| view! { <Page><Protected action=Action::Read><Overview /></Protected></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/deployments") view={Lazy::<DeploymentsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/deployments/new") view={Lazy::<RecordDeploymentRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/deployments/:id") view={Lazy::<DeploymentRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/services") view={Lazy::<ServicesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/services/:service") view={Lazy::<ServiceRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/services/:service/environments/:environment") view={Lazy::<EnvironmentRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/releases") view={Lazy::<ReleasesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/releases/:id") view={Lazy::<ReleaseRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/incidents") view={Lazy::<IncidentsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/incidents/new") view={Lazy::<DeclareRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/incidents/:id") view={Lazy::<IncidentRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/incidents/:id/postmortem") view={Lazy::<PostmortemRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/action-items") view={Lazy::<ActionItemsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/metrics") view={Lazy::<MetricsRoute>::new()} ssr=SsrMode::Async />
                    // The printable report is the same chunk: it shares the page's cards and charts.
                    <Route path=path!("/metrics/report") view={Lazy::<MetricsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/tokens") view={Lazy::<TokensRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/services") view={Lazy::<CatalogAdminRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/services/:service/checklist") view={Lazy::<ChecklistRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/login") view=|| view! { <Page><LoginPage /></Page> } ssr=SsrMode::Async />
                    <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()} ssr=SsrMode::Async />
                </Routes>
        </Router>
    }
}

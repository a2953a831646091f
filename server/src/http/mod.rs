//! HTTP: the REST API under `/api/v1`, the server-rendered pages and their server functions
//! (`/rpc/…`), and the static site.

mod accounts;
mod audit;
mod caching;
mod catalog;
mod deployments;
pub mod error;
pub mod extract;
mod health;
pub mod identity;
mod incidents;
mod live;
mod metrics;
mod openapi;
mod operations;
pub mod prometheus;
mod releases;
pub mod request_context;

use app::{
    backend::{accounts::store::sessions::DbSessionStore, AppState},
    shell, App,
};
use axum::{extract::OriginalUri, middleware, Extension, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower_http::{
    compression::CompressionLayer, limit::RequestBodyLimitLayer, timeout::RequestBodyTimeoutLayer,
};
use tower_sessions::{
    cookie::{time, SameSite},
    Expiry, SessionManagerLayer,
};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use self::{
    error::{ApiError, API_ROUTES_HINT},
    request_context::{InFlight, RequestContext},
};
use crate::{config::Config, site::Site};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "switchyard_session";
/// Its name when it is `Secure`: browsers then refuse it unless it was set over https, for the
/// whole host (no `Domain`, `Path=/`), so neither a sibling subdomain nor a plain-http page
/// can plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-switchyard_session";

/// The session cookie's name under this configuration.
pub fn session_cookie(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The REST API, mounted at `/api`, and its OpenAPI document: each feature brings its routes
/// with their descriptions, so no route is registered without one. The fallback answers unknown
/// API paths with JSON, never with the HTML 404 page.
fn api_router() -> Router<AppState> {
    let (router, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::routes())
        .routes(routes!(openapi::get_openapi))
        .merge(accounts::routes())
        .merge(audit::routes())
        .merge(catalog::routes())
        .merge(deployments::routes())
        .merge(operations::routes())
        .merge(releases::routes())
        .merge(incidents::routes())
        .merge(metrics::routes())
        .merge(prometheus::routes())
        .split_for_parts();
    router
        .layer(Extension(openapi::Document::new(document)))
        .fallback(api_not_found)
}

// `OriginalUri`: inside `nest` the plain URI has lost its `/api` prefix.
async fn api_not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NotFound(format!(
        "There is no API endpoint at {}. {API_ROUTES_HINT}",
        uri.path()
    ))
}

/// The app's page routes, found by rendering it once with resource loading suppressed. That
/// suppression is process-wide in leptos, so a page rendering meanwhile (another test's
/// application, in the test binary) could wait forever (leptos issue #4773); the list is a
/// fixed fact of the code, so it is computed once per process, before anything renders.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The paths of the app's pages (`/deployments/{id}`…), for checks that every page is guarded.
pub fn page_paths() -> Vec<String> {
    page_routes()
        .iter()
        .map(|route| route.path().to_owned())
        .collect()
}

/// The whole application: API, pages, server functions, static files, and the middleware
/// around them.
pub fn router(state: AppState, config: &Config, in_flight: &InFlight, site: &Site) -> Router {
    let leptos_options = state.leptos_options.clone();
    let routes = page_routes();
    let context_state = state.clone();
    let sessions = session_layer(&state, config);
    let routes = Router::new()
        .nest("/api", api_router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(context_state.clone());
                app::provide_page_nonce();
            },
            move || shell(leptos_options.clone()),
        )
        // Files under the site root (/pkg/…); anything else renders the app's 404 page.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(app::provide_page_nonce, shell))
        // Inside `identify`, so a refused cross-site request is audited with whose cookie it
        // carried.
        .layer(middleware::from_fn(identity::same_origin))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            identity::identify,
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            identity::HttpsProxies {
                trusted: config.trusted_proxies.clone().into(),
                plain_cookies: !config.secure_cookies,
            },
            identity::secure_over_https,
        ))
        .layer(Extension(prometheus::ScrapeToken(
            config.prometheus_token.clone(),
        )))
        .layer(Extension(live::LiveStreams::default()))
        .with_state(state);
    let context = RequestContext {
        in_flight: in_flight.clone(),
        stats: prometheus::HttpStats::default(),
        stylesheet: site.stylesheet.as_str().into(),
        https_only: config.secure_cookies,
    };
    with_middleware(routes, config.request_body_limit, context)
        // A body that stops arriving ends the request rather than holding it open.
        .layer(RequestBodyTimeoutLayer::new(config.client_timeout))
}

/// Sessions in the database, in a cookie scripts cannot read and other sites do not send
/// along with their requests (`SameSite=Lax` still lets a link from chat open a logged-in
/// page).
fn session_layer(state: &AppState, config: &Config) -> SessionManagerLayer<DbSessionStore> {
    let idle =
        time::Duration::try_from(state.auth.session_idle_timeout).unwrap_or(time::Duration::HOUR);
    SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(session_cookie(config.secure_cookies))
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Wraps routes in the middleware every request passes: the request context (id, logging,
/// errors, panics, the list of requests in flight) outermost, then caching headers and
/// compression, then the body size limit.
pub fn with_middleware(
    routes: Router,
    request_body_limit: usize,
    context: RequestContext,
) -> Router {
    routes
        .layer(RequestBodyLimitLayer::new(request_body_limit))
        .layer(middleware::from_fn(extract::refuse_nul_in_address))
        // Pages and JSON, when the browser accepts it; the precompressed static files and
        // the event streams pass as they are.
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(caching::cache_control))
        .layer(middleware::from_fn_with_state(
            context,
            request_context::request_context,
        ))
}

//! HTTP: the REST API under `/api/v1`, the server-rendered pages and their server functions
//! (`/rpc/…`), and the static site.

mod admin;
pub mod auth;
mod deployments;
pub mod error;
mod health;
pub mod json;
pub mod request_context;
mod session;
mod webhooks;

use app::{
    backend::{sessions::DbSessionStore, AppState},
    shell, App,
};
use axum::{
    extract::OriginalUri,
    middleware,
    routing::{get, patch, post, put},
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower_http::limit::RequestBodyLimitLayer;
use tower_sessions::{
    cookie::{time, SameSite},
    Expiry, SessionManagerLayer,
};

use self::error::{ApiError, API_ROUTES_HINT};
use crate::config::Config;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "switchyard_session";

/// The REST API, mounted at `/api`. Its fallback answers unknown API paths with JSON, never
/// with the HTML 404 page.
fn api_router() -> Router<AppState> {
    Router::new()
        .route("/v1/health", get(health::get_health))
        .route("/v1/health/detailed", get(health::get_health_detailed))
        .route(
            "/v1/session",
            post(session::create_session).delete(session::delete_session),
        )
        .route("/v1/me", get(session::get_me))
        .route("/v1/users", get(admin::list_users).post(admin::create_user))
        .route("/v1/users/{id}", patch(admin::update_user))
        .route("/v1/users/{id}/password", put(admin::reset_password))
        .route(
            "/v1/tokens",
            get(admin::list_tokens).post(admin::create_token),
        )
        .route(
            "/v1/tokens/{id}",
            axum::routing::delete(admin::revoke_token),
        )
        .route("/v1/audit", get(admin::list_audit))
        .route(
            "/v1/services",
            get(deployments::list_services).post(deployments::create_service),
        )
        .route(
            "/v1/services/{service}/environments",
            post(deployments::create_environment),
        )
        .route(
            "/v1/services/{service}/environments/{environment}",
            get(deployments::get_environment),
        )
        .route("/v1/environments", get(deployments::list_environments))
        .route(
            "/v1/deployments",
            get(deployments::list_deployments).post(deployments::create_deployment),
        )
        .route("/v1/deployments/{id}", get(deployments::get_deployment))
        .route(
            "/v1/deployments/{id}/finish",
            post(deployments::finish_deployment),
        )
        .route("/v1/deployments/{id}/notes", post(deployments::add_note))
        .route("/v1/overview", get(deployments::get_overview))
        .route("/v1/webhooks/github", post(webhooks::github))
        .route("/v1/webhooks/generic", post(webhooks::generic))
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

/// The whole application: API, pages, server functions, static files, and the middleware
/// around them.
pub fn router(state: AppState, config: &Config) -> Router {
    let leptos_options = state.leptos_options.clone();
    let routes = page_routes();
    let context_state = state.clone();
    let sessions = session_layer(&state, config);
    let routes = Router::new()
        .nest("/api", api_router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(leptos_options.clone()),
        )
        // Files under the site root (/pkg/…); anything else renders the app's 404 page.
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ))
        .layer(sessions)
        .with_state(state);
    with_middleware(routes, config.request_body_limit)
}

/// Sessions in the database, in a cookie scripts cannot read and other sites do not send
/// along with their requests (`SameSite=Lax` still lets a link from chat open a logged-in
/// page).
fn session_layer(state: &AppState, config: &Config) -> SessionManagerLayer<DbSessionStore> {
    let idle =
        time::Duration::try_from(state.auth.session_idle_timeout).unwrap_or(time::Duration::HOUR);
    SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Wraps routes in the middleware every request passes: the request context (id, logging,
/// errors, panics) outermost, then the cross-origin check, then the body size limit.
pub fn with_middleware(routes: Router, request_body_limit: usize) -> Router {
    routes
        .layer(RequestBodyLimitLayer::new(request_body_limit))
        .layer(middleware::from_fn(auth::same_origin))
        .layer(middleware::from_fn(request_context::request_context))
}

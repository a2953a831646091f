//! HTTP: the REST API under `/api/v1`, the server-rendered pages, and the static site.

pub mod error;
mod health;
pub mod json;
pub mod request_context;

use app::{backend::AppState, shell, App};
use axum::{extract::OriginalUri, middleware, routing::get, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::limit::RequestBodyLimitLayer;

use self::error::{ApiError, API_ROUTES_HINT};

/// The REST API, mounted at `/api`. Its fallback answers unknown API paths with JSON, never
/// with the HTML 404 page.
fn api_router() -> Router<AppState> {
    Router::new()
        .route("/v1/health", get(health::get_health))
        .route("/v1/health/detailed", get(health::get_health_detailed))
        .fallback(api_not_found)
}

// `OriginalUri`: inside `nest` the plain URI has lost its `/api` prefix.
async fn api_not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NotFound(format!(
        "There is no API endpoint at {}. {API_ROUTES_HINT}",
        uri.path()
    ))
}

/// The whole application: API, pages, static files, and the middleware around them.
pub fn router(state: AppState, request_body_limit: usize) -> Router {
    let leptos_options = state.leptos_options.clone();
    let routes = generate_route_list(App);
    let context_state = state.clone();
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
        .with_state(state);
    with_middleware(routes, request_body_limit)
}

/// Wraps routes in the middleware every request passes: the request context (id, logging,
/// errors, panics) outermost, then the body size limit.
pub fn with_middleware(routes: Router, request_body_limit: usize) -> Router {
    routes
        .layer(RequestBodyLimitLayer::new(request_body_limit))
        .layer(middleware::from_fn(request_context::request_context))
}

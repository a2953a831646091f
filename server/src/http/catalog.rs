//! The catalog's REST API: services and their environments; admins set them up, everyone
//! reads them. Thin shells over `app::backend::catalog`, which checks the caller's role.

use app::{
    backend::{catalog, AppState, Caller},
    domain::catalog::{EnvironmentInput, EnvironmentPatch, ServiceInput, ServicePatch},
    model::{Environment, Service},
};
use axum::{
    extract::{Path, State},
    response::Response,
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::ApiError,
    extract::{created, ApiJson, IdempotencyKey},
    openapi::Refusals,
};

/// The catalog routes, each with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_services, create_service))
        .routes(routes!(create_environment))
        .routes(routes!(update_service))
        .routes(routes!(get_environment, update_environment))
        .routes(routes!(list_environments))
}

/// `GET /api/v1/services`
#[utoipa::path(get, path = "/v1/services", tag = "catalog", responses((status = 200, body = [Service]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_services(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Service>>, ApiError> {
    Ok(Json(catalog::services(&state.db, &caller).await?))
}

/// `POST /api/v1/services` (admin)
#[utoipa::path(post, path = "/v1/services", tag = "catalog", request_body = ServiceInput, params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body return the first answer without a second row; the same key with another body is 409")), responses((status = 201, body = Service), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn create_service(
    State(state): State<AppState>,
    caller: Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Result<Response, ApiError> {
    let made = catalog::create_service(&state.db, &caller, &input, key.as_deref()).await?;
    Ok(created(made))
}

/// `PATCH /api/v1/services/{service}` (admin)
#[utoipa::path(patch, path = "/v1/services/{service}", tag = "catalog", request_body = ServicePatch, params(("service" = String, Path)), responses((status = 200, body = Service), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn update_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(service): Path<String>,
    ApiJson(patch): ApiJson<ServicePatch>,
) -> Result<Json<Service>, ApiError> {
    Ok(Json(
        catalog::update_service(&state.db, &caller, &service, &patch).await?,
    ))
}

/// `PATCH /api/v1/services/{service}/environments/{environment}` (admin): tier and slot
/// addresses.
#[utoipa::path(patch, path = "/v1/services/{service}/environments/{environment}", tag = "catalog", request_body = EnvironmentPatch, params(("service" = String, Path), ("environment" = String, Path)), responses((status = 200, body = Environment), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn update_environment(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
    ApiJson(patch): ApiJson<EnvironmentPatch>,
) -> Result<Json<Environment>, ApiError> {
    Ok(Json(
        catalog::update_environment(&state, &caller, &service, &environment, &patch).await?,
    ))
}

/// `GET /api/v1/environments`: every environment of every service.
#[utoipa::path(get, path = "/v1/environments", tag = "catalog", responses((status = 200, body = [Environment]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_environments(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Environment>>, ApiError> {
    Ok(Json(catalog::environments(&state.db, &caller).await?))
}

/// `POST /api/v1/services/{service}/environments` (admin)
#[utoipa::path(post, path = "/v1/services/{service}/environments", tag = "catalog", request_body = EnvironmentInput, params(("service" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "The same key and body return the first answer without a second row; the same key with another body is 409")), responses((status = 201, body = Environment), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn create_environment(
    State(state): State<AppState>,
    caller: Caller,
    Path(service): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<EnvironmentInput>,
) -> Result<Response, ApiError> {
    let made =
        catalog::create_environment(&state, &caller, &service, &input, key.as_deref()).await?;
    Ok(created(made))
}

/// `GET /api/v1/services/{service}/environments/{environment}`: state, slots, live slot.
#[utoipa::path(get, path = "/v1/services/{service}/environments/{environment}", tag = "catalog", params(("service" = String, Path), ("environment" = String, Path)), responses((status = 200, description = "State, slots, live slot and revision", body = Environment), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_environment(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
) -> Result<Json<Environment>, ApiError> {
    Ok(Json(
        catalog::environment(&state, &caller, &service, &environment).await?,
    ))
}

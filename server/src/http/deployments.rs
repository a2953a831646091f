//! The deployments REST API: services and environments (admins set them up), deployments
//! (engineers and CI record and finish them), and the Overview. Each handler is a thin shell
//! over `app::backend::{catalog, deployments}`, which check the caller's role.

use app::{
    backend::{catalog, catalog::Made, deployments, AppState, Caller},
    domain::{
        catalog::{EnvironmentInput, EnvironmentPatch, ServiceInput, ServicePatch},
        deployment::{DeploymentInput, FinishInput, Source},
    },
    model::{Deployment, DeploymentFilter, DeploymentPage, Environment, OverviewRow, Service},
};
use axum::{
    extract::{FromRequestParts, Path, State},
    http::{request::Parts, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};

use super::{
    error::{ApiError, ErrorBody},
    json::{ApiJson, ApiQuery},
};

/// The `Idempotency-Key` header of a create, if sent.
#[derive(Debug)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.headers.get("idempotency-key") {
            None => Ok(Self(None)),
            Some(value) => value
                .to_str()
                .map(|key| Self(Some(key.to_owned())))
                .map_err(|_| ApiError::BadRequest {
                    message: "Send the Idempotency-Key as plain ASCII text.".into(),
                    field: Some("Idempotency-Key".into()),
                }),
        }
    }
}

/// A created resource: 201, with `Idempotency-Replayed: true` when an earlier request with
/// the same key made it.
fn created<T: Serialize>(made: Made<T>) -> Response {
    let mut response = (StatusCode::CREATED, Json(made.value)).into_response();
    if made.replayed {
        response.headers_mut().insert(
            HeaderName::from_static("idempotency-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    response
}

/// `GET /api/v1/services`
#[utoipa::path(get, path = "/v1/services", tag = "catalog", responses((status = 200, body = [Service]), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn list_services(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Service>>, ApiError> {
    Ok(Json(catalog::services(&state.db, &caller).await?))
}

/// `POST /api/v1/services` (admin)
#[utoipa::path(post, path = "/v1/services", tag = "catalog", request_body = ServiceInput, params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body return the first answer without a second row; the same key with another body is 409")), responses((status = 201, body = Service), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
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
#[utoipa::path(patch, path = "/v1/services/{service}", tag = "catalog", request_body = ServicePatch, params(("service" = String, Path)), responses((status = 200, body = Service), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
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
#[utoipa::path(patch, path = "/v1/services/{service}/environments/{environment}", tag = "catalog", request_body = EnvironmentPatch, params(("service" = String, Path), ("environment" = String, Path)), responses((status = 200, body = Environment), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn update_environment(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
    ApiJson(patch): ApiJson<EnvironmentPatch>,
) -> Result<Json<Environment>, ApiError> {
    Ok(Json(
        catalog::update_environment(&state.db, &caller, &service, &environment, &patch).await?,
    ))
}

/// `GET /api/v1/environments`: every environment of every service.
#[utoipa::path(get, path = "/v1/environments", tag = "catalog", responses((status = 200, body = [Environment]), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn list_environments(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Environment>>, ApiError> {
    Ok(Json(catalog::environments(&state.db, &caller).await?))
}

/// `POST /api/v1/services/{service}/environments` (admin)
#[utoipa::path(post, path = "/v1/services/{service}/environments", tag = "catalog", request_body = EnvironmentInput, params(("service" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "The same key and body return the first answer without a second row; the same key with another body is 409")), responses((status = 201, body = Environment), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn create_environment(
    State(state): State<AppState>,
    caller: Caller,
    Path(service): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<EnvironmentInput>,
) -> Result<Response, ApiError> {
    let made =
        catalog::create_environment(&state.db, &caller, &service, &input, key.as_deref()).await?;
    Ok(created(made))
}

/// `GET /api/v1/services/{service}/environments/{environment}`: state, slots, live slot.
#[utoipa::path(get, path = "/v1/services/{service}/environments/{environment}", tag = "catalog", params(("service" = String, Path), ("environment" = String, Path)), responses((status = 200, description = "State, slots, live slot and revision", body = Environment), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn get_environment(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
) -> Result<Json<Environment>, ApiError> {
    Ok(Json(
        catalog::environment(&state.db, &caller, &service, &environment).await?,
    ))
}

/// `POST /api/v1/deployments` (engineer and above)
#[utoipa::path(post, path = "/v1/deployments", tag = "deployments", request_body = DeploymentInput, params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body return the first answer without a second row; the same key with another body is 409")), responses((status = 201, body = Deployment), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn create_deployment(
    State(state): State<AppState>,
    caller: Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<DeploymentInput>,
) -> Result<Response, ApiError> {
    let made = deployments::record(&state, &caller, &input, Source::Api, key.as_deref()).await?;
    Ok(created(made))
}

/// `GET /api/v1/deployments?service=&environment=&status=&from=&to=&q=&limit=&cursor=`
#[utoipa::path(get, path = "/v1/deployments", tag = "deployments", params(DeploymentFilter), responses((status = 200, description = "Newest first; pass next_cursor as cursor for the next page", body = DeploymentPage), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn list_deployments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<DeploymentFilter>,
) -> Result<Json<DeploymentPage>, ApiError> {
    Ok(Json(deployments::list(&state.db, &caller, &filter).await?))
}

/// A deployment id from the path; anything else names no deployment.
/// A record id from the path: "There is no deployment x; ids are numbers." otherwise.
pub(super) fn numeric_id(what: &str, text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("There is no {what} {text}; ids are numbers.")))
}

/// `GET /api/v1/deployments/{id}`
#[utoipa::path(get, path = "/v1/deployments/{id}", tag = "deployments", params(("id" = i64, Path)), responses((status = 200, body = Deployment), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn get_deployment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, ApiError> {
    let id = numeric_id("deployment", &id)?;
    Ok(Json(deployments::get(&state.db, &caller, id).await?))
}

/// `POST /api/v1/deployments/{id}/finish` `{"status", "finished_at"?}`
#[utoipa::path(post, path = "/v1/deployments/{id}/finish", tag = "deployments", request_body = FinishInput, params(("id" = i64, Path)), responses((status = 200, body = Deployment), (status = 409, description = "It already ended", body = ErrorBody), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn finish_deployment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FinishInput>,
) -> Result<Json<Deployment>, ApiError> {
    let id = numeric_id("deployment", &id)?;
    Ok(Json(
        deployments::finish(&state.db, &caller, id, &input).await?,
    ))
}

/// The body of `POST /api/v1/deployments/{id}/notes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    note: String,
}

/// `POST /api/v1/deployments/{id}/notes` `{"note"}`: appends a signed, dated paragraph.
#[utoipa::path(post, path = "/v1/deployments/{id}/notes", tag = "deployments", request_body = Note, params(("id" = i64, Path)), responses((status = 200, body = Deployment), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn add_note(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(note): ApiJson<Note>,
) -> Result<Json<Deployment>, ApiError> {
    let id = numeric_id("deployment", &id)?;
    Ok(Json(
        deployments::add_note(&state.db, &caller, id, &note.note).await?,
    ))
}

/// `GET /api/v1/overview`: every environment with its newest deployment.
#[utoipa::path(get, path = "/v1/overview", tag = "deployments", responses((status = 200, body = [OverviewRow]), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn get_overview(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<OverviewRow>>, ApiError> {
    Ok(Json(deployments::overview(&state.db, &caller).await?))
}

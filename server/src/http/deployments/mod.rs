//! The deployments REST API: engineers and CI record and finish deployments, everyone lists
//! them and reads the Overview; CI webhooks (`webhooks`) record them from signed events. Thin
//! shells over `app::backend::deployments`, which checks the caller's role.

mod webhooks;

use app::{
    backend::{deployments, AppState, Caller},
    domain::deployments::{DeploymentInput, FinishInput, Source},
    model::{Deployment, DeploymentFilter, DeploymentPage, OverviewRow},
};
use axum::{
    extract::{Path, State},
    response::Response,
    Json,
};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiError, ErrorBody},
    extract::{created, csv_download, numeric_id, ApiJson, ApiQuery, IdempotencyKey},
    openapi::Refusals,
};

/// The deployments routes and the CI webhooks, each with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deployments, create_deployment))
        .routes(routes!(export_deployments))
        .routes(routes!(get_deployment))
        .routes(routes!(finish_deployment))
        .routes(routes!(add_note))
        .routes(routes!(get_overview))
        .routes(routes!(webhooks::github))
        .routes(routes!(webhooks::generic))
        .routes(routes!(webhooks::list_github_environments))
        .routes(routes!(webhooks::decide_github_environment))
}

/// `POST /api/v1/deployments` (engineer and above)
#[utoipa::path(post, path = "/v1/deployments", tag = "deployments", request_body = DeploymentInput, params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body return the first answer without a second row; the same key with another body is 409")), responses((status = 201, body = Deployment), Refusals), security(("bearer" = []), ("session" = [])))]
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
#[utoipa::path(get, path = "/v1/deployments", tag = "deployments", params(DeploymentFilter), responses((status = 200, description = "Newest first; pass next_cursor as cursor for the next page", body = DeploymentPage), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_deployments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<DeploymentFilter>,
) -> Result<Json<DeploymentPage>, ApiError> {
    Ok(Json(deployments::list(&state.db, &caller, &filter).await?))
}

/// `GET /api/v1/deployments.csv?…`: every deployment the same filter selects, as CSV.
#[utoipa::path(get, path = "/v1/deployments.csv", tag = "deployments", params(DeploymentFilter), responses((status = 200, description = "Every deployment matching the filter (limit and cursor ignored), newest first, streamed page by page: id, service, environment, version, status, rollback, started_at, finished_at, duration_seconds, commit_sha, commit_at, lead_time_seconds, rolled_back_at, strategy, slot, source, recorded_by, url", content_type = "text/csv"), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn export_deployments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<DeploymentFilter>,
) -> Result<Response, ApiError> {
    let rows = deployments::export(&state.db, &caller, &filter).await?;
    Ok(csv_download("deployments", rows))
}

/// `GET /api/v1/deployments/{id}`
#[utoipa::path(get, path = "/v1/deployments/{id}", tag = "deployments", params(("id" = i64, Path)), responses((status = 200, body = Deployment), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_deployment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, ApiError> {
    let id = numeric_id("deployment", &id)?;
    Ok(Json(deployments::get(&state.db, &caller, id).await?))
}

/// `POST /api/v1/deployments/{id}/finish` `{"status", "finished_at"?}`
#[utoipa::path(post, path = "/v1/deployments/{id}/finish", tag = "deployments", request_body = FinishInput, params(("id" = i64, Path)), responses((status = 200, body = Deployment), (status = 409, description = "It already ended", body = ErrorBody), Refusals), security(("bearer" = []), ("session" = [])))]
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
    #[schema(schema_with = app::domain::schema::required_text::<{ app::domain::deployments::MAX_NOTES }>)]
    note: String,
}

/// `POST /api/v1/deployments/{id}/notes` `{"note"}`: appends a signed, dated paragraph.
#[utoipa::path(post, path = "/v1/deployments/{id}/notes", tag = "deployments", request_body = Note, params(("id" = i64, Path)), responses((status = 200, body = Deployment), Refusals), security(("bearer" = []), ("session" = [])))]
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
#[utoipa::path(get, path = "/v1/overview", tag = "deployments", responses((status = 200, body = [OverviewRow]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_overview(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<OverviewRow>>, ApiError> {
    Ok(Json(deployments::overview(&state, &caller).await?))
}

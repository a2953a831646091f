//! The operations REST API: start an operation (releasers), read one, and follow an
//! environment live as server-sent events. Thin shells over `app::backend::operations`, which
//! checks the caller's role.

use std::convert::Infallible;

use app::{
    backend::{catalog, operations, AppState, Caller},
    domain::operations::OperationInput,
    model::Operation,
};
use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{
        sse::{Event as SseEvent, Sse},
        IntoResponse, Response,
    },
    Extension, Json,
};
use futures_util::Stream;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiError, ErrorBody},
    extract::{numeric_id, ApiJson},
    live,
    openapi::Refusals,
};

/// The operations routes, each with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_operation))
        .routes(routes!(get_operation))
        .routes(routes!(environment_events))
}

/// `POST /api/v1/services/{service}/environments/{environment}/operations` (releaser and
/// above): starts an operation; 202 with it as it starts, `Location` pointing at it.
#[utoipa::path(post, path = "/v1/services/{service}/environments/{environment}/operations", tag = "operations", request_body = OperationInput, params(("service" = String, Path), ("environment" = String, Path)), responses((status = 202, description = "Started; follow it at Location", body = Operation), (status = 409, description = "Another operation runs, or expected_revision is stale, or the state does not allow the action", body = ErrorBody), (status = 422, description = "Bad input, an action the strategy lacks, or a missing or misconfigured driver", body = ErrorBody), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn start_operation(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
    ApiJson(input): ApiJson<OperationInput>,
) -> Result<Response, ApiError> {
    let operation = operations::start(&state, &caller, &service, &environment, &input).await?;
    let location = format!("/api/v1/operations/{}", operation.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(operation),
    )
        .into_response())
}

/// `GET /api/v1/operations/{id}`: status, steps and log lines.
#[utoipa::path(get, path = "/v1/operations/{id}", tag = "operations", params(("id" = i64, Path)), responses((status = 200, body = Operation), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_operation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Operation>, ApiError> {
    let id = numeric_id("operation", &id)?;
    Ok(Json(operations::get(&state.db, &caller, id).await?))
}

/// `GET /api/v1/services/{service}/environments/{environment}/events`: a `changed` event
/// whenever the environment's revision, its newest operation, or that operation's log moves.
#[utoipa::path(get, path = "/v1/services/{service}/environments/{environment}/events", tag = "operations", params(("service" = String, Path), ("environment" = String, Path)), responses((status = 200, description = "Server-sent events: `changed` with {revision, operation, status, log_lines}", content_type = "text/event-stream"), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn environment_events(
    State(state): State<AppState>,
    caller: Caller,
    Extension(streams): Extension<live::LiveStreams>,
    Path((service, environment)): Path<(String, String)>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let environment = catalog::environment(&state, &caller, &service, &environment).await?;
    let id = environment.id;
    live::follow(
        state,
        &caller,
        &streams,
        move |event| event.environment_id() == id,
        move |state| async move {
            let (revision, operation, status, log_lines) =
                operations::store::fingerprint(state.db.reader(), id).await?;
            Ok(serde_json::json!({
                "revision": revision,
                "operation": operation,
                "status": status,
                "log_lines": log_lines,
            }))
        },
    )
}

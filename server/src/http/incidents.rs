//! The incidents REST API: incidents and their timelines, links to deployments, post-mortems
//! and action items, and a live stream per incident. Thin shells over
//! `app::backend::incidents`, which checks the caller's role.

use std::convert::Infallible;

use app::{
    backend::{
        events::Event,
        incidents::{self, postmortems},
        AppState, Caller,
    },
    domain::incidents::{
        action_items::{ActionItemInput, ActionItemPatch},
        postmortem::PostmortemInput,
        IncidentInput, IncidentPatch, LinkInput, TimelineInput,
    },
    model::{
        ActionItem, ActionItemFilter, Incident, IncidentFilter, IncidentSummary, Operation,
        Postmortem, SuggestedDeployment,
    },
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{
        sse::{Event as SseEvent, Sse},
        IntoResponse, Response,
    },
    Extension, Json,
};
use futures_util::Stream;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::ApiError,
    extract::{csv_download, numeric_id, ApiJson, ApiQuery},
    live,
    openapi::Refusals,
};

/// The incidents routes, each with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_incidents, declare_incident))
        .routes(routes!(export_incidents))
        .routes(routes!(get_incident, change_incident))
        .routes(routes!(add_timeline_entry))
        .routes(routes!(edit_timeline_entry))
        .routes(routes!(add_link, remove_link))
        .routes(routes!(suggested_causes))
        .routes(routes!(check_step))
        .routes(routes!(roll_back))
        .routes(routes!(incident_events))
        .routes(routes!(get_postmortem, save_postmortem))
        .routes(routes!(set_postmortem_status))
        .routes(routes!(list_action_items, add_action_item))
        .routes(routes!(change_action_item))
}

/// `GET /api/v1/incidents`: open incidents first, worst severity first, then the newest.
#[utoipa::path(get, path = "/v1/incidents", tag = "incidents", params(IncidentFilter), responses((status = 200, body = [IncidentSummary]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_incidents(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<IncidentFilter>,
) -> Result<Json<Vec<IncidentSummary>>, ApiError> {
    Ok(Json(incidents::list(&state.db, &caller, &filter).await?))
}

/// `GET /api/v1/incidents.csv?…`: every incident the same filter selects, as CSV.
#[utoipa::path(get, path = "/v1/incidents.csv", tag = "incidents", params(IncidentFilter), responses((status = 200, description = "Every incident matching the filter, newest first, streamed page by page: id, service, environment, title, severity, status, commander, started_at, resolved_at, duration_seconds, postmortem_status, postmortem_due", content_type = "text/csv"), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn export_incidents(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<IncidentFilter>,
) -> Result<Response, ApiError> {
    let rows = incidents::export(&state.db, &caller, &filter).await?;
    Ok(csv_download("incidents", rows))
}

/// `POST /api/v1/incidents` (engineer and above): declares an incident, or imports a past
/// one whole (`status: "resolved"` with `started_at`, `detected_at`, `resolved_at`).
#[utoipa::path(post, path = "/v1/incidents", tag = "incidents", request_body = IncidentInput, responses((status = 201, body = Incident), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn declare_incident(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<IncidentInput>,
) -> Result<Response, ApiError> {
    let incident = incidents::declare(&state, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(incident)).into_response())
}

/// `GET /api/v1/incidents/{id}`: the incident with its timeline, links, suggested causes and
/// checklists.
#[utoipa::path(get, path = "/v1/incidents/{id}", tag = "incidents", params(("id" = i64, Path)), responses((status = 200, body = Incident), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Incident>, ApiError> {
    let id = numeric_id("incident", &id)?;
    Ok(Json(incidents::get(&state.db, &caller, id).await?))
}

/// `PATCH /api/v1/incidents/{id}` (engineer and above): title, severity, status (along the
/// lifecycle), commander, description, detection time; each change lands in the timeline.
#[utoipa::path(patch, path = "/v1/incidents/{id}", tag = "incidents", request_body = IncidentPatch, params(("id" = i64, Path)), responses((status = 200, body = Incident), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn change_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<IncidentPatch>,
) -> Result<Json<Incident>, ApiError> {
    let id = numeric_id("incident", &id)?;
    Ok(Json(incidents::change(&state, &caller, id, &patch).await?))
}

/// `POST /api/v1/incidents/{id}/timeline` (engineer and above): `{"text", "at"?}`.
#[utoipa::path(post, path = "/v1/incidents/{id}/timeline", tag = "incidents", request_body = TimelineInput, params(("id" = i64, Path)), responses((status = 201, body = Incident), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn add_timeline_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TimelineInput>,
) -> Result<Response, ApiError> {
    let id = numeric_id("incident", &id)?;
    let incident = incidents::add_note(&state, &caller, id, &input).await?;
    Ok((StatusCode::CREATED, Json(incident)).into_response())
}

/// A note's new text.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryText {
    #[schema(schema_with = app::domain::schema::required_text::<10000>)]
    pub text: String,
}

/// `PATCH /api/v1/incidents/{id}/timeline/{entry}` (the note's author): `{"text"}`; the
/// earlier text is kept.
#[utoipa::path(patch, path = "/v1/incidents/{id}/timeline/{entry}", tag = "incidents", request_body = EntryText, params(("id" = i64, Path), ("entry" = i64, Path)), responses((status = 200, body = Incident), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn edit_timeline_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, entry)): Path<(String, String)>,
    ApiJson(input): ApiJson<EntryText>,
) -> Result<Json<Incident>, ApiError> {
    let id = numeric_id("incident", &id)?;
    let entry = numeric_id("timeline entry", &entry)?;
    Ok(Json(
        incidents::edit_note(&state, &caller, id, entry, &input.text).await?,
    ))
}

/// `POST /api/v1/incidents/{id}/links` (engineer and above): `{"deployment_id", "kind":
/// "cause" | "fix"}`, a deployment of the incident's service and environment.
#[utoipa::path(post, path = "/v1/incidents/{id}/links", tag = "incidents", request_body = LinkInput, params(("id" = i64, Path)), responses((status = 201, body = Incident), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn add_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LinkInput>,
) -> Result<Response, ApiError> {
    let id = numeric_id("incident", &id)?;
    let incident = incidents::link(&state, &caller, id, &input).await?;
    Ok((StatusCode::CREATED, Json(incident)).into_response())
}

/// `DELETE /api/v1/incidents/{id}/links` (engineer and above): `{"deployment_id", "kind"}`.
#[utoipa::path(delete, path = "/v1/incidents/{id}/links", tag = "incidents", request_body = LinkInput, params(("id" = i64, Path)), responses((status = 200, body = Incident), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn remove_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LinkInput>,
) -> Result<Json<Incident>, ApiError> {
    let id = numeric_id("incident", &id)?;
    Ok(Json(incidents::unlink(&state, &caller, id, &input).await?))
}

/// `GET /api/v1/incidents/{id}/suggested-causes`: deployments that finished in the
/// incident's environment in the 24 hours before it started, newest first.
#[utoipa::path(get, path = "/v1/incidents/{id}/suggested-causes", tag = "incidents", params(("id" = i64, Path)), responses((status = 200, body = [SuggestedDeployment]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn suggested_causes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<SuggestedDeployment>>, ApiError> {
    let id = numeric_id("incident", &id)?;
    Ok(Json(
        incidents::suggested_causes(&state.db, &caller, id).await?,
    ))
}

/// Whether a checklist step is done.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDone {
    pub done: bool,
}

/// `PUT /api/v1/incidents/{id}/checklist/{kind}/{step}` (engineer and above): `{"done"}`
/// ticks or unticks a step of the `incident` or `rollback` checklist.
#[utoipa::path(put, path = "/v1/incidents/{id}/checklist/{kind}/{step}", tag = "incidents", request_body = StepDone, params(("id" = i64, Path), ("kind" = String, Path), ("step" = String, Path)), responses((status = 200, body = Incident), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn check_step(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, kind, step)): Path<(String, String, String)>,
    ApiJson(input): ApiJson<StepDone>,
) -> Result<Json<Incident>, ApiError> {
    let id = numeric_id("incident", &id)?;
    Ok(Json(
        incidents::check_step(&state, &caller, id, &kind, &step, input.done).await?,
    ))
}

/// The environment revision a rollback was pressed on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackInput {
    pub expected_revision: i64,
}

/// `POST /api/v1/incidents/{id}/rollback` (releaser and above): rolls the incident's
/// environment back and links the rollback's deployment as the incident's fix.
#[utoipa::path(post, path = "/v1/incidents/{id}/rollback", tag = "incidents", request_body = RollbackInput, params(("id" = i64, Path)), responses((status = 202, body = Operation), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn roll_back(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RollbackInput>,
) -> Result<Response, ApiError> {
    let id = numeric_id("incident", &id)?;
    let operation = incidents::rollback(&state, &caller, id, input.expected_revision).await?;
    Ok((StatusCode::ACCEPTED, Json(operation)).into_response())
}

/// `GET /api/v1/incidents/{id}/events`: `changed` whenever the incident, its timeline, links,
/// checklists or post-mortem change, from any replica, within about a second.
#[utoipa::path(get, path = "/v1/incidents/{id}/events", tag = "incidents", params(("id" = i64, Path)), responses((status = 200, description = "Server-sent events: `changed`", content_type = "text/event-stream"), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn incident_events(
    State(state): State<AppState>,
    caller: Caller,
    Extension(streams): Extension<live::LiveStreams>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let id = numeric_id("incident", &id)?;
    incidents::get(&state.db, &caller, id).await?;
    live::follow(
        state,
        &caller,
        &streams,
        move |event| matches!(event, Event::IncidentChanged { incident_id, .. } if *incident_id == id),
        move |state| async move { incidents::store::fingerprint(state.db.reader(), id).await },
    )
}

/// `GET /api/v1/incidents/{id}/postmortem`: the saved post-mortem, or the template pre-filled
/// from the incident (version 0).
#[utoipa::path(get, path = "/v1/incidents/{id}/postmortem", tag = "incidents", params(("id" = i64, Path)), responses((status = 200, body = Postmortem), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_postmortem(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Postmortem>, ApiError> {
    let id = numeric_id("incident", &id)?;
    Ok(Json(postmortems::get(&state.db, &caller, id).await?))
}

/// `PUT /api/v1/incidents/{id}/postmortem` (engineer and above): `{"markdown",
/// "base_version", "title"?}`; the first save sends `base_version: 0`. A stale base is
/// answered 409 `edit_conflict` with the text saved meanwhile under `error.current`.
#[utoipa::path(put, path = "/v1/incidents/{id}/postmortem", tag = "incidents", request_body = PostmortemInput, params(("id" = i64, Path)), responses((status = 200, body = Postmortem), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn save_postmortem(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PostmortemInput>,
) -> Result<Json<Postmortem>, ApiError> {
    let id = numeric_id("incident", &id)?;
    Ok(Json(postmortems::save(&state, &caller, id, &input).await?))
}

/// A post-mortem's next status.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// `draft`, `in_review` or `published`.
    #[schema(value_type = app::domain::incidents::postmortem::PostmortemStatus)]
    pub status: String,
}

/// `POST /api/v1/incidents/{id}/postmortem/status` (engineer and above): `{"status"}`,
/// `draft` → `in_review` → `published` (or back to `draft` from review).
#[utoipa::path(post, path = "/v1/incidents/{id}/postmortem/status", tag = "incidents", request_body = StatusInput, params(("id" = i64, Path)), responses((status = 200, body = Postmortem), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn set_postmortem_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StatusInput>,
) -> Result<Json<Postmortem>, ApiError> {
    let id = numeric_id("incident", &id)?;
    Ok(Json(
        postmortems::set_status(&state, &caller, id, &input.status).await?,
    ))
}

/// `GET /api/v1/action-items`: overdue first, then by due date; filters `status`, `owner`
/// (a username or `me`), `overdue`, `incident_id`.
#[utoipa::path(get, path = "/v1/action-items", tag = "incidents", params(ActionItemFilter), responses((status = 200, body = [ActionItem]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_action_items(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<ActionItemFilter>,
) -> Result<Json<Vec<ActionItem>>, ApiError> {
    Ok(Json(
        postmortems::action_items(&state.db, &caller, &filter).await?,
    ))
}

/// `POST /api/v1/action-items` (engineer and above): `{"incident_id", "title", "owner":
/// username, "due": "YYYY-MM-DD"}`; the owner must be an active user.
#[utoipa::path(post, path = "/v1/action-items", tag = "incidents", request_body = ActionItemInput, responses((status = 201, body = ActionItem), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn add_action_item(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ActionItemInput>,
) -> Result<Response, ApiError> {
    let item = postmortems::add_action_item(&state, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(item)).into_response())
}

/// `PATCH /api/v1/action-items/{id}` (engineer and above): title, owner, due, status; once
/// the post-mortem is published, the status only.
#[utoipa::path(patch, path = "/v1/action-items/{id}", tag = "incidents", request_body = ActionItemPatch, params(("id" = i64, Path)), responses((status = 200, body = ActionItem), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn change_action_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ActionItemPatch>,
) -> Result<Json<ActionItem>, ApiError> {
    let id = numeric_id("action item", &id)?;
    Ok(Json(
        postmortems::update_action_item(&state, &caller, id, &patch).await?,
    ))
}

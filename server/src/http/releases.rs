//! The releases REST API: checklist templates, releases and their sign-offs, freeze windows,
//! and a live stream per release. Thin shells over `app::backend::releases`, which checks the
//! caller's role.

use std::convert::Infallible;

use app::{
    backend::{events::Event, releases, AppState, Caller},
    domain::releases::{
        checklist::{TemplateInput, TemplateKind},
        freeze::FreezeInput,
        AbandonInput, ReleaseInput, SignInput,
    },
    model::{ChecklistTemplate, FreezeWindow, Release, ReleaseFilter, ReleaseSummary},
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
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::ApiError,
    extract::{numeric_id, ApiJson, ApiQuery},
    live,
    openapi::Refusals,
};

/// The releases routes, each with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_releases, open_release))
        .routes(routes!(get_release))
        .routes(routes!(sign_item, withdraw_item))
        .routes(routes!(abandon_release))
        .routes(routes!(release_events))
        .routes(routes!(get_template, save_template))
        .routes(routes!(list_freezes, add_freeze))
        .routes(routes!(remove_freeze))
}

/// `GET /api/v1/releases`: open releases first, then the newest.
#[utoipa::path(get, path = "/v1/releases", tag = "releases", params(ReleaseFilter), responses((status = 200, body = [ReleaseSummary]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_releases(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<ReleaseFilter>,
) -> Result<Json<Vec<ReleaseSummary>>, ApiError> {
    Ok(Json(releases::list(&state.db, &caller, &filter).await?))
}

/// `POST /api/v1/releases` (engineer and above): opens a release with a copy of the
/// service's checklist; 409 when that version already has an open release there.
#[utoipa::path(post, path = "/v1/releases", tag = "releases", request_body = ReleaseInput, responses((status = 201, body = Release), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn open_release(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ReleaseInput>,
) -> Result<Response, ApiError> {
    let release = releases::open(&state, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(release)).into_response())
}

/// `GET /api/v1/releases/{id}`: the release with every item's sign-off and history.
#[utoipa::path(get, path = "/v1/releases/{id}", tag = "releases", params(("id" = i64, Path)), responses((status = 200, body = Release), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Release>, ApiError> {
    let id = numeric_id("release", &id)?;
    Ok(Json(releases::get(&state.db, &caller, id).await?))
}

/// `POST /api/v1/releases/{id}/items/{item}/sign` (the item's role and above): 409 naming the
/// first signer when someone signed it already.
#[utoipa::path(post, path = "/v1/releases/{id}/items/{item}/sign", tag = "releases", request_body = SignInput, params(("id" = i64, Path), ("item" = String, Path)), responses((status = 200, body = Release), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn sign_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(String, String)>,
    ApiJson(input): ApiJson<SignInput>,
) -> Result<Json<Release>, ApiError> {
    let id = numeric_id("release", &id)?;
    Ok(Json(
        releases::sign(&state, &caller, id, &item, &input).await?,
    ))
}

/// `DELETE /api/v1/releases/{id}/items/{item}/sign` (its signer or an admin): withdraws the
/// sign-off, which stays in the item's history.
#[utoipa::path(delete, path = "/v1/releases/{id}/items/{item}/sign", tag = "releases", params(("id" = i64, Path), ("item" = String, Path)), responses((status = 200, body = Release), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn withdraw_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(String, String)>,
) -> Result<Json<Release>, ApiError> {
    let id = numeric_id("release", &id)?;
    Ok(Json(releases::withdraw(&state, &caller, id, &item).await?))
}

/// `POST /api/v1/releases/{id}/abandon` (engineer and above): `{"reason"}`.
#[utoipa::path(post, path = "/v1/releases/{id}/abandon", tag = "releases", request_body = AbandonInput, params(("id" = i64, Path)), responses((status = 200, body = Release), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn abandon_release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AbandonInput>,
) -> Result<Json<Release>, ApiError> {
    let id = numeric_id("release", &id)?;
    Ok(Json(releases::abandon(&state, &caller, id, &input).await?))
}

/// `GET /api/v1/releases/{id}/events`: `changed` whenever anyone signs, withdraws, or the
/// release ends, from any replica, within about a second.
#[utoipa::path(get, path = "/v1/releases/{id}/events", tag = "releases", params(("id" = i64, Path)), responses((status = 200, description = "Server-sent events: `changed` with [status, sign-offs, withdrawn]", content_type = "text/event-stream"), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn release_events(
    State(state): State<AppState>,
    caller: Caller,
    Extension(streams): Extension<live::LiveStreams>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let id = numeric_id("release", &id)?;
    releases::get(&state.db, &caller, id).await?;
    live::follow(
        state,
        &caller,
        &streams,
        move |event| matches!(event, Event::ReleaseChanged { release_id, .. } if *release_id == id),
        move |state| async move { releases::store::fingerprint(state.db.reader(), id).await },
    )
}

/// `GET /api/v1/services/{service}/checklist-template?kind=release`: the saved checklist, or
/// the guide's (revision 0).
#[utoipa::path(get, path = "/v1/services/{service}/checklist-template", tag = "releases", params(("service" = String, Path), KindQuery), responses((status = 200, body = ChecklistTemplate), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(service): Path<String>,
    ApiQuery(query): ApiQuery<KindQuery>,
) -> Result<Json<ChecklistTemplate>, ApiError> {
    let kind = query.kind()?;
    Ok(Json(
        releases::template(&state.db, &caller, &service, kind).await?,
    ))
}

/// `PUT /api/v1/services/{service}/checklist-template?kind=release` (admin): `{"items":
/// [...]}` replaces the checklist; releases already open keep their copy.
#[utoipa::path(put, path = "/v1/services/{service}/checklist-template", tag = "releases", request_body = TemplateInput, params(("service" = String, Path), KindQuery), responses((status = 200, body = ChecklistTemplate), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn save_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(service): Path<String>,
    ApiQuery(query): ApiQuery<KindQuery>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Json<ChecklistTemplate>, ApiError> {
    let kind = query.kind()?;
    Ok(Json(
        releases::save_template(&state.db, &caller, &service, kind, &input).await?,
    ))
}

/// Which checklist: `release` (the default), `rollback` or `incident`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KindQuery {
    kind: Option<String>,
}

impl KindQuery {
    fn kind(&self) -> Result<TemplateKind, ApiError> {
        match self.kind.as_deref() {
            None | Some("") => Ok(TemplateKind::Release),
            Some(text) => {
                Ok(TemplateKind::parse("kind", text).map_err(app::error::AppError::from)?)
            }
        }
    }
}

/// `GET /api/v1/services/{service}/environments/{environment}/freezes`
#[utoipa::path(get, path = "/v1/services/{service}/environments/{environment}/freezes", tag = "releases", params(("service" = String, Path), ("environment" = String, Path)), responses((status = 200, body = [FreezeWindow]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_freezes(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
) -> Result<Json<Vec<FreezeWindow>>, ApiError> {
    Ok(Json(
        releases::freezes(&state.db, &caller, &service, &environment).await?,
    ))
}

/// `POST /api/v1/services/{service}/environments/{environment}/freezes` (admin)
#[utoipa::path(post, path = "/v1/services/{service}/environments/{environment}/freezes", tag = "releases", request_body = FreezeInput, params(("service" = String, Path), ("environment" = String, Path)), responses((status = 201, body = FreezeWindow), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn add_freeze(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, environment)): Path<(String, String)>,
    ApiJson(input): ApiJson<FreezeInput>,
) -> Result<Response, ApiError> {
    let freeze = releases::add_freeze(&state, &caller, &service, &environment, &input).await?;
    Ok((StatusCode::CREATED, Json(freeze)).into_response())
}

/// `DELETE /api/v1/services/{service}/environments/{environment}/freezes/{id}` (admin)
#[utoipa::path(delete, path = "/v1/services/{service}/environments/{environment}/freezes/{id}", tag = "releases", params(("service" = String, Path), ("environment" = String, Path), ("id" = i64, Path)), responses((status = 204, description = "Removed"), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn remove_freeze(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, environment, id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = numeric_id("freeze window", &id)?;
    releases::remove_freeze(&state, &caller, &service, &environment, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! CI webhooks: `POST /api/v1/webhooks/github` (GitHub `deployment_status` and `push` events) and
//! `POST /api/v1/webhooks/generic` (Switchyard's own shape). The body's HMAC signature is
//! checked before it is parsed; a wrong or missing one gets 401 and stores nothing.

use app::{
    backend::{
        deployments::webhooks::{self, Outcome},
        AppState, Caller, Principal,
    },
    domain::deployments::webhook::{Disposition, GenericEvent, GithubDeploymentStatus, GithubPush},
    model::{Deployment, GithubEnvironment, GithubEnvironmentDecision},
};
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use secrecy::SecretString;
use serde_json::json;

use crate::http::{
    error::{ApiError, ErrorBody},
    extract::{parse_body, ApiJson},
    openapi::Refusals,
};

/// Checks the signature in `header` of `headers` against `secret`, refusing with 401.
fn verify(
    secret: Option<&SecretString>,
    setting: &str,
    headers: &HeaderMap,
    header: &str,
    body: &[u8],
) -> Result<(), ApiError> {
    let Some(secret) = secret else {
        return Err(ApiError::NotFound(format!(
            "This webhook is off: set {setting} in Switchyard's configuration to turn it on."
        )));
    };
    let signature = headers.get(header).and_then(|v| v.to_str().ok());
    if webhooks::signature_matches(secret, body, signature) {
        Ok(())
    } else {
        Err(ApiError::BadSignature(format!(
            "The {header} signature does not match this body and the configured secret; check the secret on both sides."
        )))
    }
}

/// The identity a webhook records as; its signature was its authentication.
fn webhook_caller(caller: Caller, name: &str) -> Caller {
    Caller {
        principal: Some(Principal::System {
            name: format!("webhook:{name}"),
        }),
        origin: caller.origin,
    }
}

/// 201 with a new deployment, 200 with one that ended or did not change, 202 with why an
/// event was set aside.
fn answer(outcome: Outcome) -> Response {
    match outcome {
        Outcome::Recorded(d) => (StatusCode::CREATED, Json(d)).into_response(),
        Outcome::Finished(d) | Outcome::Unchanged(d) => (StatusCode::OK, Json(d)).into_response(),
        Outcome::SetAside(note) => ignored(note),
    }
}

fn ignored(note: String) -> Response {
    (StatusCode::ACCEPTED, Json(json!({ "ignored": note }))).into_response()
}

/// `POST /api/v1/webhooks/github`
#[utoipa::path(post, path = "/v1/webhooks/github", tag = "webhooks", request_body(content = Object, description = "A GitHub deployment_status event (recorded as a deployment) or push event (its commits' times fill in lead time)", content_type = "application/json"), params(("X-Hub-Signature-256" = String, Header, description = "sha256=<hex HMAC of the body under github_webhook_secret>"), ("X-GitHub-Event" = String, Header)), responses((status = 201, description = "A new deployment", body = Deployment), (status = 200, description = "The deployment this GitHub deployment reported before, now ended or unchanged; or, for a push, `{\"learnt\": {\"commits\", \"deployments\"}}`: how many commit times were learnt and how many deployments gained theirs", body = Deployment), (status = 202, description = "Acknowledged, not recorded: an event or state that says nothing about an outcome, or an environment Switchyard does not know (listed under GET /api/v1/webhooks/github/environments for an admin to map or ignore) or one an admin ignores; `{\"ignored\": why}`"), (status = 401, description = "X-Hub-Signature-256 does not match; nothing stored", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)))]
pub async fn github(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let settings = &state.webhooks;
    verify(
        settings.github_secret.as_ref(),
        "github_webhook_secret",
        &headers,
        "x-hub-signature-256",
        &body,
    )?;
    let event = headers
        .get("x-github-event")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match event {
        "ping" => return Ok(Json(json!({ "ok": true })).into_response()),
        "deployment_status" => {}
        "push" => {
            let push: GithubPush = parse_body(&body)?;
            let commits = push.commit_times().map_err(app::error::AppError::from)?;
            let learnt = webhooks::learn_commits(&state.db, &commits).await?;
            return Ok(Json(json!({ "learnt": learnt })).into_response());
        }
        other => {
            return Ok(ignored(format!(
                "Event {other:?} ignored: only deployment_status and push events are read."
            )))
        }
    }
    let event: GithubDeploymentStatus = parse_body(&body)?;
    let Some(reported) = event
        .report(&settings.github_mapping)
        .map_err(app::error::AppError::from)?
    else {
        return Ok(ignored(format!(
            "State {:?} says nothing about an outcome; ignored.",
            event.deployment_status.state
        )));
    };
    let caller = webhook_caller(caller, "github");
    let repository = &event.repository.full_name;
    Ok(answer(
        webhooks::report_github(&state.db, &caller, reported, repository).await?,
    ))
}

/// `POST /api/v1/webhooks/generic`
#[utoipa::path(post, path = "/v1/webhooks/generic", tag = "webhooks", request_body = GenericEvent, params(("X-Switchyard-Signature-256" = String, Header, description = "sha256=<hex HMAC of the body under generic_webhook_secret>")), responses((status = 201, description = "A new deployment", body = Deployment), (status = 200, description = "The deployment with this id, now ended or unchanged", body = Deployment), (status = 401, description = "X-Switchyard-Signature-256 does not match; nothing stored", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)))]
pub async fn generic(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    verify(
        state.webhooks.generic_secret.as_ref(),
        "generic_webhook_secret",
        &headers,
        "x-switchyard-signature-256",
        &body,
    )?;
    let event: GenericEvent = parse_body(&body)?;
    let reported = event.report().map_err(app::error::AppError::from)?;
    let caller = webhook_caller(caller, "generic");
    Ok(answer(
        webhooks::report(&state.db, &caller, &reported).await?,
    ))
}

/// `GET /api/v1/webhooks/github/environments` (admin)
#[utoipa::path(get, path = "/v1/webhooks/github/environments", tag = "webhooks", responses((status = 200, description = "GitHub environments that matched no environment: those waiting for a decision first", body = [GithubEnvironment]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_github_environments(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<GithubEnvironment>>, ApiError> {
    Ok(Json(
        webhooks::github_environments(&state.db, &caller).await?,
    ))
}

/// `PUT /api/v1/webhooks/github/environments/{service}/{name}` (admin) `{"maps_to"?, "ignored"?}`
#[utoipa::path(put, path = "/v1/webhooks/github/environments/{service}/{name}", tag = "webhooks", request_body = GithubEnvironmentDecision, params(("service" = String, Path), ("name" = String, Path, description = "GitHub's environment name, as listed")), responses((status = 200, description = "Its events are now recorded in `maps_to` (an environment of the same service), ignored, or (neither) listed again", body = GithubEnvironment), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn decide_github_environment(
    State(state): State<AppState>,
    caller: Caller,
    Path((service, name)): Path<(String, String)>,
    ApiJson(decision): ApiJson<GithubEnvironmentDecision>,
) -> Result<Json<GithubEnvironment>, ApiError> {
    let disposition = Disposition::parse(decision.maps_to.as_deref(), decision.ignored)
        .map_err(app::error::AppError::from)?;
    Ok(Json(
        webhooks::decide(&state.db, &caller, &service, &name, &disposition).await?,
    ))
}

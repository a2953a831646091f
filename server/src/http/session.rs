//! The JSON login for scripts and tests: `POST /api/v1/session`, `DELETE /api/v1/session`,
//! and `GET /api/v1/me`.

use app::{
    backend::{accounts, AppState, Caller},
    domain::Role,
    error::AppError,
};
use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    Json,
};
use serde::Serialize;
use tower_sessions::Session;

use super::{
    error::{ApiError, ErrorBody},
    json::ApiJson,
};

/// Who the caller is, as `GET /api/v1/me` and a login answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// `user` or `token`.
    kind: &'static str,
    name: String,
    display_name: String,
    role: Role,
}

/// `POST /api/v1/session`: logs in; the answer sets the session cookie.
#[utoipa::path(post, path = "/v1/session", tag = "session", request_body = app::backend::accounts::Credentials, responses((status = 200, description = "Logged in; the answer sets the session cookie", body = Me), (status = 429, description = "Too many failed logins; see Retry-After", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    headers: HeaderMap,
    ApiJson(credentials): ApiJson<accounts::Credentials>,
) -> Result<Json<Me>, ApiError> {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let user = accounts::log_in(&state, &caller, &session, &credentials, user_agent).await?;
    Ok(Json(Me {
        kind: "user",
        name: user.username,
        display_name: user.display_name,
        role: user.role,
    }))
}

/// `DELETE /api/v1/session`: logs out, ending the session on the server.
#[utoipa::path(delete, path = "/v1/session", tag = "session", responses((status = 204, description = "Logged out"), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)))]
pub async fn delete_session(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<StatusCode, ApiError> {
    accounts::log_out(&state, &caller, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me`: the caller (user or token) and its role, or 401.
#[utoipa::path(get, path = "/v1/me", tag = "session", responses((status = 200, description = "Who the caller is", body = Me), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn get_me(caller: Caller) -> Result<Json<Me>, ApiError> {
    let user = caller.current_user().ok_or(AppError::Unauthenticated)?;
    Ok(Json(Me {
        kind: if user.is_token { "token" } else { "user" },
        name: user.name,
        display_name: user.display_name,
        role: user.role,
    }))
}

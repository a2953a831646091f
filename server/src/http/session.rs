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

use super::{error::ApiError, json::ApiJson};

/// Who the caller is, as `GET /api/v1/me` and a login answer.
#[derive(Debug, Serialize)]
pub struct Me {
    /// `user` or `token`.
    kind: &'static str,
    name: String,
    display_name: String,
    role: Role,
}

/// `POST /api/v1/session`: logs in; the answer sets the session cookie.
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
pub async fn delete_session(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<StatusCode, ApiError> {
    accounts::log_out(&state, &caller, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me`: the caller (user or token) and its role, or 401.
pub async fn get_me(caller: Caller) -> Result<Json<Me>, ApiError> {
    let user = caller.current_user().ok_or(AppError::Unauthenticated)?;
    Ok(Json(Me {
        kind: if user.is_token { "token" } else { "user" },
        name: user.name,
        display_name: user.display_name,
        role: user.role,
    }))
}

//! The admin REST API: users, API tokens and the audit log, for automation. Each handler is a
//! thin shell over `app::backend::admin` and `accounts`, which check the caller's role.

use app::{
    backend::{
        accounts::{self, NewUserInput},
        admin::{self, NewTokenInput, PasswordReset, UserUpdate},
        api_tokens::TokenRef,
        AppState, Caller,
    },
    domain::Timestamp,
    model::{ApiToken, AuditEntry, AuditFilter, CreatedToken, User},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::Deserialize;

use super::{
    error::ApiError,
    json::{ApiJson, ApiQuery},
};

/// `GET /api/v1/users`
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(admin::list_users(&state.db, &caller).await?))
}

/// `POST /api/v1/users`
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewUserInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = accounts::create_user(&state.db, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The body of `PATCH /api/v1/users/{id}`.
#[derive(Debug, Deserialize)]
pub struct UserPatch {
    role: String,
    active: bool,
}

/// `PATCH /api/v1/users/{id}`: role and active flag.
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<User>, ApiError> {
    let update = UserUpdate {
        id,
        role: patch.role,
        active: patch.active,
    };
    Ok(Json(admin::update_user(&state.db, &caller, &update).await?))
}

/// The body of `PUT /api/v1/users/{id}/password`.
#[derive(Deserialize)]
pub struct NewPassword {
    password: String,
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword { .. }")
    }
}

/// `PUT /api/v1/users/{id}/password`: an admin sets a user's password.
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let reset = PasswordReset {
        id,
        password: body.password,
    };
    admin::reset_password(&state.db, &caller, &reset).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/tokens`
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(admin::list_tokens(&state.db, &caller).await?))
}

/// `POST /api/v1/tokens`: the answer holds the secret, once.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewTokenInput>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = admin::create_token(&state.db, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /api/v1/tokens/{id}`: revokes.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ApiToken>, ApiError> {
    Ok(Json(
        admin::revoke_token(&state.db, &caller, TokenRef::Id(id)).await?,
    ))
}

/// The query of `GET /api/v1/audit`; times in RFC 3339.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    object: Option<String>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    before_id: Option<i64>,
}

/// `GET /api/v1/audit`: the newest entries matching the query, 50 at a time; page with
/// `before_id` set to the last id received.
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        object: query.object,
        from: query.from,
        to: query.to,
        before_id: query.before_id,
    };
    Ok(Json(admin::audit_log(&state.db, &caller, &filter).await?))
}

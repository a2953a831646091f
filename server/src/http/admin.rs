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
    error::{ApiError, ErrorBody},
    json::{ApiJson, ApiQuery},
};

/// `GET /api/v1/users`
#[utoipa::path(get, path = "/v1/users", tag = "admin", responses((status = 200, body = [User]), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(admin::list_users(&state.db, &caller).await?))
}

/// `POST /api/v1/users`
#[utoipa::path(post, path = "/v1/users", tag = "admin", request_body = app::backend::accounts::NewUserInput, responses((status = 201, body = User), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewUserInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = accounts::create_user(&state.db, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The body of `PATCH /api/v1/users/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    role: String,
    active: bool,
}

/// `PATCH /api/v1/users/{id}`: role and active flag.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "admin", request_body = UserPatch, params(("id" = i64, Path, description = "User id")), responses((status = 200, body = User), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
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
    Ok(Json(
        admin::update_user(&state.db, &state.callers, &caller, &update).await?,
    ))
}

/// The body of `PUT /api/v1/users/{id}/password`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewPassword {
    password: String,
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword { .. }")
    }
}

/// `PUT /api/v1/users/{id}/password`: an admin sets a user's password.
#[utoipa::path(put, path = "/v1/users/{id}/password", tag = "admin", request_body = NewPassword, params(("id" = i64, Path, description = "User id")), responses((status = 204, description = "Password set; the user's sessions end"), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
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
    admin::reset_password(&state.db, &state.callers, &caller, &reset).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/tokens`
#[utoipa::path(get, path = "/v1/tokens", tag = "admin", responses((status = 200, body = [ApiToken]), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(admin::list_tokens(&state.db, &caller).await?))
}

/// `POST /api/v1/tokens`: the answer holds the secret, once.
#[utoipa::path(post, path = "/v1/tokens", tag = "admin", request_body = NewTokenInput, responses((status = 201, description = "The secret is in this answer, once", body = CreatedToken), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewTokenInput>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = admin::create_token(&state.db, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /api/v1/tokens/{id}`: revokes.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "admin", params(("id" = i64, Path, description = "Token id")), responses((status = 200, body = ApiToken), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
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
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
#[utoipa::path(get, path = "/v1/audit", tag = "admin", params(AuditQuery), responses((status = 200, body = [AuditEntry]), (status = 401, description = "Not logged in, or the token is unknown, revoked or expired", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
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

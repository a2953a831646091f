//! The accounts REST API: the JSON login for scripts and tests (`POST`/`DELETE
//! /api/v1/session`, `GET /api/v1/me`), and users and API tokens for admins. Thin shells over
//! `app::backend::accounts`, which checks the caller's role.

use app::{
    backend::{
        accounts::{
            self,
            manage::{self, NewTokenInput, PasswordReset, UserUpdate},
            store::tokens::TokenRef,
            NewUserInput,
        },
        AppState, Caller,
    },
    domain::Role,
    error::AppError,
    model::{ApiToken, CreatedToken, User},
};
use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    Json,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiError, ErrorBody},
    extract::ApiJson,
    openapi::Refusals,
};

/// The accounts routes, each with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, delete_session))
        .routes(routes!(get_me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(reset_password))
        .routes(routes!(clear_login_failures))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

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
#[utoipa::path(post, path = "/v1/session", tag = "accounts", request_body = app::backend::accounts::Credentials, responses((status = 200, description = "Logged in; the answer sets the session cookie", body = Me), (status = 429, description = "Too many failed logins; see Retry-After", body = ErrorBody), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)))]
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
#[utoipa::path(delete, path = "/v1/session", tag = "accounts", responses((status = 204, description = "Logged out"), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)))]
pub async fn delete_session(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<StatusCode, ApiError> {
    accounts::log_out(&state, &caller, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me`: the caller (user or token) and its role, or 401.
#[utoipa::path(get, path = "/v1/me", tag = "accounts", responses((status = 200, description = "Who the caller is", body = Me), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_me(caller: Caller) -> Result<Json<Me>, ApiError> {
    let user = caller.current_user().ok_or(AppError::Unauthenticated)?;
    Ok(Json(Me {
        kind: if user.is_token { "token" } else { "user" },
        name: user.name,
        display_name: user.display_name,
        role: user.role,
    }))
}

/// `GET /api/v1/users`
#[utoipa::path(get, path = "/v1/users", tag = "accounts", responses((status = 200, body = [User]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(manage::list_users(&state.db, &caller).await?))
}

/// `POST /api/v1/users`
#[utoipa::path(post, path = "/v1/users", tag = "accounts", request_body = app::backend::accounts::NewUserInput, responses((status = 201, body = User), Refusals), security(("bearer" = []), ("session" = [])))]
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
    #[schema(value_type = app::domain::Role)]
    role: String,
    active: bool,
}

/// `PATCH /api/v1/users/{id}`: role and active flag.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "accounts", request_body = UserPatch, params(("id" = i64, Path, description = "User id")), responses((status = 200, body = User), Refusals), security(("bearer" = []), ("session" = [])))]
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
        manage::update_user(&state.db, &state.callers, &caller, &update).await?,
    ))
}

/// The body of `PUT /api/v1/users/{id}/password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPassword {
    #[schema(value_type = String)]
    password: SecretString,
}

/// `PUT /api/v1/users/{id}/password`: an admin sets a user's password.
#[utoipa::path(put, path = "/v1/users/{id}/password", tag = "accounts", request_body = NewPassword, params(("id" = i64, Path, description = "User id")), responses((status = 204, description = "Password set; the user's sessions end"), Refusals), security(("bearer" = []), ("session" = [])))]
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
    manage::reset_password(&state.db, &state.callers, &caller, &reset).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What clearing a user's failed logins did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Cleared {
    /// How many failed logins no longer count.
    cleared: u64,
}

/// `DELETE /api/v1/users/{id}/login-failures`: an admin clears a user's failed logins from
/// every address, ending any wait the throttle imposed on them.
#[utoipa::path(delete, path = "/v1/users/{id}/login-failures", tag = "accounts", params(("id" = i64, Path, description = "User id")), responses((status = 200, body = Cleared), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn clear_login_failures(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Cleared>, ApiError> {
    let cleared = manage::clear_login_failures(&state.db, &caller, id).await?;
    Ok(Json(Cleared { cleared }))
}

/// `GET /api/v1/tokens`
#[utoipa::path(get, path = "/v1/tokens", tag = "accounts", responses((status = 200, body = [ApiToken]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(manage::list_tokens(&state.db, &caller).await?))
}

/// `POST /api/v1/tokens`: the answer holds the secret, once.
#[utoipa::path(post, path = "/v1/tokens", tag = "accounts", request_body = NewTokenInput, responses((status = 201, description = "The secret is in this answer, once", body = CreatedToken), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewTokenInput>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = manage::create_token(&state.db, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /api/v1/tokens/{id}`: revokes.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "accounts", params(("id" = i64, Path, description = "Token id")), responses((status = 200, body = ApiToken), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ApiToken>, ApiError> {
    Ok(Json(
        manage::revoke_token(&state.db, &caller, TokenRef::Id(id)).await?,
    ))
}

//! What every server function needs from the request it serves: the state, the caller, the
//! session, and a way to answer errors with their HTTP status. Server functions are public
//! endpoints, so each one runs its body through [`serve`] and lets the operation it calls
//! check the caller's rights.

use std::future::Future;

use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use super::{AppState, Caller};
use crate::error::AppError;

fn missing(what: &str) -> AppError {
    AppError::Internal {
        request_id: String::new(),
        detail: format!("server function called without {what} in its context"),
    }
}

/// The caller of the current server function, as the request middleware resolved it.
pub fn caller() -> Result<Caller, AppError> {
    let parts = use_context::<Parts>().ok_or_else(|| missing("the request"))?;
    Ok(parts
        .extensions
        .get::<Caller>()
        .cloned()
        .unwrap_or_default())
}

/// Runs a server function's body with the application state and the caller, and answers its
/// error with the matching status.
pub async fn serve<T, Fut>(body: impl FnOnce(AppState, Caller) -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let (result, request_id) = match use_context::<AppState>() {
        Some(state) => match caller() {
            Ok(caller) => {
                let request_id = caller.origin.request_id.clone().unwrap_or_default();
                (body(state, caller).await, request_id)
            }
            Err(error) => (Err(error), String::new()),
        },
        None => (Err(missing("the application state")), String::new()),
    };
    respond(result.map_err(|error| logged(error, request_id)))
}

/// Logs an internal error once, with the request's id (a server function may run outside the
/// request's span: Leptos spawns the loads of a page it renders), and gives the caller the id
/// to quote instead of the details.
fn logged(error: AppError, request_id: String) -> AppError {
    match error {
        AppError::Internal { detail, .. } => {
            tracing::error!(error = %detail, request_id = %request_id, "request failed inside Switchyard");
            AppError::Internal {
                request_id,
                detail: String::new(),
            }
        }
        AppError::Unavailable { outage, detail } => {
            tracing::warn!(error = %detail, request_id = %request_id, "the database is unavailable");
            AppError::Unavailable {
                outage,
                detail: String::new(),
            }
        }
        other => other,
    }
}

/// The session of the current request.
pub fn session() -> Result<Session, AppError> {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<Session>().cloned())
        .ok_or_else(|| missing("a session"))
}

/// The browser's User-Agent, to tell sessions apart on the account page.
pub fn user_agent() -> Option<String> {
    use_context::<Parts>().and_then(|parts| {
        parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// Whether the request is a plain HTML form post (no JavaScript yet, or none at all). A page
/// a browser loads (a GET, which accepts HTML too) is not one: its status says how it went.
fn from_plain_form() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts.method == axum::http::Method::POST
            && parts
                .headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Sets the response's status (and `Retry-After`) from an error; passes the result on. A
/// plain form post keeps the redirect server_fn answers it with (back to the form, the error
/// in the URL, where the page shows it), and a page that redirects (to the login page, say)
/// keeps its redirect, since a browser would not follow an error status.
fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if from_plain_form() {
        return result;
    }
    if let (Err(error), Some(response)) = (&result, use_context::<ResponseOptions>()) {
        let redirecting = response
            .0
            .read()
            .is_ok_and(|parts| parts.headers.contains_key(header::LOCATION));
        if redirecting {
            return result;
        }
        response.set_status(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        let retry_after = match error {
            AppError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            AppError::Unavailable { outage, .. } => outage.retry_after_secs(),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    result
}

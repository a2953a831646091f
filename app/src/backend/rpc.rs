//! What every server function needs from the request it serves: the state, the caller, the
//! session, and a way to answer errors with their HTTP status. Server functions are public
//! endpoints, so each one passes its result through [`respond`] and lets the operation it
//! calls check the caller's rights.

use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use super::{AppState, Caller};
use crate::error::AppError;

fn missing(what: &str) -> AppError {
    tracing::error!("server function called without {what} in its context");
    AppError::Internal {
        request_id: "none".to_owned(),
    }
}

/// The application state and the caller of the current server function.
pub fn context() -> Result<(AppState, Caller), AppError> {
    let state = use_context::<AppState>().ok_or_else(|| missing("the application state"))?;
    Ok((state, super::identity::caller()?))
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

/// Whether the request is a plain HTML form post (no JavaScript yet, or none at all).
fn from_plain_form() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Sets the response's status (and `Retry-After`) from an error; passes the result on. A
/// plain form post keeps the redirect server_fn answers it with (back to the form, the error
/// in the URL, where the page shows it), since a browser would not follow an error status.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if from_plain_form() {
        return result;
    }
    if let (Err(error), Some(response)) = (&result, use_context::<ResponseOptions>()) {
        response.set_status(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        if let AppError::TooManyAttempts { retry_after_secs } = error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
    }
    result
}

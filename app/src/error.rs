//! The one error type server functions return, shared with the browser so a page can put each
//! message where it belongs: beside a field, above a form, or as a "log in" prompt. REST
//! handlers convert it to their JSON shape; both map it to the same HTTP status.

use std::time::Duration;

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::domain::{time::describe_wait, FieldError, FieldErrors, Role};

/// Why a request did not do what it asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid session or token.
    #[error("Log in to continue.")]
    Unauthenticated,
    /// A bearer token that matches no live token: revoked, expired, mistyped or of a
    /// deactivated user. Said apart from "log in", which a script cannot do.
    #[error("Invalid or expired API token. Create a new one under Admin → API tokens and send it as Authorization: Bearer <token>.")]
    InvalidToken,
    /// Logged in, but the role does not allow it.
    #[error("Your role ({role}) may not {action}. Ask an administrator if you need to.")]
    Forbidden { role: Role, action: String },
    /// Input that cannot be accepted; `field` says which.
    #[error("{0}")]
    Invalid(FieldError),
    /// Several fields that cannot be accepted, each with its message, in form order.
    #[error("{}", FieldErrors(.0.clone()))]
    InvalidFields(Vec<FieldError>),
    /// Input that clashes with a record that exists (a duplicate name, say).
    #[error("{0}")]
    Conflict(FieldError),
    /// A save made from a version someone else has saved over: their text comes back, to
    /// merge by hand.
    #[error("{} saved version {} at {} while you were editing. Their text is shown beside yours: merge the two by hand, then save again.", .0.updated_by, .0.version, .0.updated_at)]
    EditConflict(Box<crate::model::PostmortemConflict>),
    /// A gate holds the operation: an unsigned production checklist, a freeze window.
    #[error("{0}")]
    GateClosed(String),
    /// The username and password do not match an active account.
    #[error("The username or password is wrong.")]
    WrongCredentials,
    /// Too many failed logins recently.
    #[error("Too many failed logins. Try again in {}.", describe_wait(Duration::from_secs(*retry_after_secs)))]
    TooManyAttempts { retry_after_secs: u64 },
    /// The record asked for does not exist (any more).
    #[error("{0}")]
    NotFound(String),
    /// Something failed inside Switchyard; details are in the server log under this id.
    /// `detail` is what the log gets, once, where the request's answer is made (the REST
    /// middleware, or the server-function wrapper, which also fills in the id); it never
    /// travels to a browser.
    #[error("Something went wrong on the server. Try again; if it keeps failing, give your administrator this request id: {request_id}.")]
    Internal {
        request_id: String,
        #[serde(skip)]
        detail: String,
    },
    /// The database cannot serve the request just now; nothing was changed. `detail` is for
    /// the log only, like [`AppError::Internal`]'s.
    #[error("{}", .outage.message())]
    Unavailable {
        outage: Outage,
        #[serde(skip)]
        detail: String,
    },
    /// The request did not reach the server function, or its answer did not come back.
    #[error("The server could not be reached ({0}). Check your connection and try again.")]
    Transport(String),
}

/// Why the database cannot serve a request just now: a condition outside Switchyard that
/// passes (a restart, a network cut, space freed), unlike an internal error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outage {
    /// It does not answer: stopped, restarting, unreachable, or out of connections.
    Unreachable,
    /// Its disk is full: reads work, writes do not.
    DiskFull,
}

impl Outage {
    /// What the user is told, with what to do next.
    pub fn message(self) -> &'static str {
        match self {
            Outage::Unreachable => "The database is not answering, so this request could not be completed. Switchyard reconnects by itself when it is back: try again in a few seconds, and if it lasts, tell your administrator.",
            Outage::DiskFull => "The database's disk is full, so nothing was saved. Reading still works. Ask your administrator to free disk space, then try again.",
        }
    }

    /// Seconds a client should wait before retrying, where waiting alone can help.
    pub fn retry_after_secs(self) -> Option<u64> {
        match self {
            Outage::Unreachable => Some(5),
            Outage::DiskFull => None,
        }
    }
}

impl AppError {
    /// The field this error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid(error) | AppError::Conflict(error) => Some(&error.field),
            AppError::InvalidFields(errors) => errors.first().map(|e| e.field.as_str()),
            _ => None,
        }
    }

    /// The message for `field`, if this error is about it.
    pub fn message_for(&self, field: &str) -> Option<String> {
        match self {
            AppError::InvalidFields(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => (self.field() == Some(field)).then(|| self.to_string()),
        }
    }

    /// Every field this error is about, with its message.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            AppError::Invalid(error) | AppError::Conflict(error) => vec![error.clone()],
            AppError::InvalidFields(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }

    /// The HTTP status the error is answered with, on every route.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated | AppError::InvalidToken | AppError::WrongCredentials => 401,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) | AppError::GateClosed(_) | AppError::EditConflict(_) => 409,
            AppError::Invalid(_) | AppError::InvalidFields(_) => 422,
            AppError::TooManyAttempts { .. } => 429,
            AppError::Internal { .. } => 500,
            AppError::Unavailable { .. } => 503,
            AppError::Transport(_) => 400,
        }
    }
}

/// A storage failure: an outage when the database is gone or full, else internal. Use cases
/// let it travel with `?`.
#[cfg(feature = "ssr")]
impl From<crate::backend::StorageError> for AppError {
    fn from(error: crate::backend::StorageError) -> Self {
        match error.outage() {
            Some(outage) => AppError::Unavailable {
                outage,
                detail: error.to_string(),
            },
            None => AppError::Internal {
                request_id: String::new(),
                detail: error.to_string(),
            },
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        match <[FieldError; 1]>::try_from(errors.0) {
            Ok([error]) => AppError::Invalid(error),
            Err(errors) => AppError::InvalidFields(errors),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Invalid(error)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do_next() {
        let throttled = AppError::TooManyAttempts {
            retry_after_secs: 300,
        };
        assert_eq!(
            throttled.to_string(),
            "Too many failed logins. Try again in 5 minutes."
        );
        assert_eq!(throttled.status(), 429);
        let invalid = AppError::from(FieldError::new("username", "Enter a username."));
        assert_eq!(
            invalid.message_for("username").as_deref(),
            Some("Enter a username.")
        );
        assert_eq!(invalid.message_for("password"), None);
    }
}

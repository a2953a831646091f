//! The REST API's one error type and its one JSON shape:
//! `{"error": {"code", "message", "field"?, "request_id"}}`.
//!
//! Handlers return [`ApiError`]; its response carries the error as an extension, and the
//! request middleware (which knows the request id) writes the body and logs internal errors
//! once. Internal details never reach the client.

use app::{domain::FieldError, error::AppError};
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

/// Where to look when an API address is wrong; ends every API 404 message.
pub const API_ROUTES_HINT: &str = "The API lives under /api/v1/; see the README for its routes.";

/// An error a REST handler answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    #[error("{message}")]
    Unprocessable {
        message: String,
        field: Option<String>,
    },
    #[error("the body is not JSON")]
    UnsupportedMediaType,
    /// A webhook whose signature does not match.
    #[error("{0}")]
    BadSignature(String),
    /// A caller holds as many live streams as one may.
    #[error("{0}")]
    TooManyStreams(String),
    /// An error from the shared operations (identity, accounts, admin); its status is the one
    /// server functions answer with too.
    #[error(transparent)]
    App(#[from] AppError),
}

/// An outage (503) or an internal error, as [`AppError`] tells them apart.
impl From<app::backend::StorageError> for ApiError {
    fn from(error: app::backend::StorageError) -> Self {
        Self::App(error.into())
    }
}

/// Every API error's body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail<'a> {
    /// A stable word for programs: `invalid`, `conflict`, `forbidden`, `not_found`…
    code: &'a str,
    /// What was wrong and what to do, for people.
    message: &'a str,
    /// The JSON member or parameter at fault, for bad input (the first, when several are).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Every member at fault with its message, when bad input has several problems.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    fields: &'a [FieldError],
    /// The id under which the server logged the request.
    request_id: &'a str,
    /// `edit_conflict` only: the version saved meanwhile (`version`, `markdown`,
    /// `updated_by`, `updated_at`), to merge by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<&'a serde_json::Value>,
}

/// The error as the middleware finds it on a response.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    pub status: StatusCode,
    pub code: &'static str,
    /// What the client is told.
    pub message: String,
    pub field: Option<String>,
    /// Every field at fault, when there are several.
    pub fields: Vec<FieldError>,
    /// What only the log is told (internal errors).
    pub detail: Option<String>,
    /// Seconds to wait before retrying (429), sent as `Retry-After`.
    pub retry_after: Option<u64>,
    /// What a conflicting edit found saved meanwhile.
    pub current: Option<serde_json::Value>,
}

impl ErrorReport {
    /// A report for a status that arrived without one (from axum or a tower layer).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "There is no API endpoint at this address."),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "This endpoint does not accept that HTTP method."),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request body is larger than this server accepts (request_body_limit)."),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "Send the body as JSON with Content-Type: application/json."),
            s if s.is_server_error() => ("internal", "Something went wrong inside Switchyard. Try again; if it persists, give the request id to your administrator."),
            StatusCode::BAD_REQUEST => ("bad_request", "The request could not be understood."),
            _ => ("request_failed", status.canonical_reason().unwrap_or("The request failed.")),
        };
        let message = if status == StatusCode::NOT_FOUND {
            format!("{message} {API_ROUTES_HINT}")
        } else {
            message.to_owned()
        };
        Self {
            status,
            code,
            message,
            field: None,
            fields: Vec::new(),
            detail: None,
            retry_after: None,
            current: None,
        }
    }

    /// A bodiless response carrying this report, for the request middleware to finish with
    /// the request id.
    pub fn pending(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }

    /// The JSON body sent to the client.
    pub fn into_response(self, request_id: &str) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
                fields: &self.fields,
                request_id,
                current: self.current.as_ref(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let report = match self {
            Self::NotFound(message) => ErrorReport {
                code: "not_found",
                message,
                ..ErrorReport::for_status(StatusCode::NOT_FOUND)
            },
            Self::BadRequest { message, field } => ErrorReport {
                code: "bad_request",
                message,
                field,
                ..ErrorReport::for_status(StatusCode::BAD_REQUEST)
            },
            Self::Unprocessable { message, field } => ErrorReport {
                code: "invalid",
                message,
                field,
                ..ErrorReport::for_status(StatusCode::UNPROCESSABLE_ENTITY)
            },
            Self::BadSignature(message) => ErrorReport {
                code: "bad_signature",
                message,
                ..ErrorReport::for_status(StatusCode::UNAUTHORIZED)
            },
            Self::UnsupportedMediaType => {
                ErrorReport::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            Self::TooManyStreams(message) => ErrorReport {
                code: "too_many_streams",
                message,
                ..ErrorReport::for_status(StatusCode::TOO_MANY_REQUESTS)
            },
            Self::App(error) => app_error_report(error),
        };
        report.pending()
    }
}

/// The report for a shared-operation error. Internal ones carry their detail to the request
/// middleware, which logs it once with the request id; the client gets the generic message.
fn app_error_report(error: AppError) -> ErrorReport {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = match &error {
        AppError::Unauthenticated => "unauthenticated",
        AppError::InvalidToken => "invalid_token",
        AppError::WrongCredentials => "wrong_credentials",
        AppError::Forbidden { .. } => "forbidden",
        AppError::Invalid(_) | AppError::InvalidFields(_) => "invalid",
        AppError::Conflict(_) => "conflict",
        AppError::GateClosed(_) => "gate_closed",
        AppError::EditConflict(_) => "edit_conflict",
        AppError::TooManyAttempts { .. } => "too_many_attempts",
        AppError::NotFound(_) => "not_found",
        AppError::Internal { detail, .. } => {
            return ErrorReport {
                detail: Some(detail.clone()),
                ..ErrorReport::for_status(status)
            }
        }
        AppError::Unavailable { outage, detail } => {
            // Logged inside the request's span, so with its id; a warning, since the cause
            // is outside Switchyard and passes.
            tracing::warn!(error = %detail, "the database is unavailable");
            return ErrorReport {
                code: "unavailable",
                message: outage.message().to_owned(),
                retry_after: outage.retry_after_secs(),
                ..ErrorReport::for_status(status)
            };
        }
        AppError::Transport(_) => "bad_request",
    };
    ErrorReport {
        code,
        message: error.to_string(),
        field: error.field().map(str::to_owned),
        fields: match &error {
            AppError::InvalidFields(errors) => errors.clone(),
            _ => Vec::new(),
        },
        current: match &error {
            AppError::EditConflict(current) => serde_json::to_value(current).ok(),
            _ => None,
        },
        retry_after: match error {
            AppError::TooManyAttempts { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        },
        ..ErrorReport::for_status(status)
    }
}

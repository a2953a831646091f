//! What every feature's handlers read from a request and answer a create with: JSON bodies and
//! queries whose rejections say what was wrong and where ([`ApiJson`], [`ApiQuery`]), numeric
//! ids from the path, the `Idempotency-Key` header, the 201 of a create, and a streamed CSV
//! download.

use app::{backend::idempotency::Made, domain::Timestamp, error::AppError};
use axum::{
    body::Body,
    extract::{
        rejection::{JsonRejection, QueryRejection},
        FromRequest, FromRequestParts, Query, Request,
    },
    http::{header, request::Parts, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use futures_util::{Stream, TryStreamExt};
use serde::{de::DeserializeOwned, Serialize};

use super::error::ApiError;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| rejection_to_error(rejection.into()))?;
        // serde reads a struct from an array too (`[null, null]` as its fields in order);
        // every body the API takes is an object, and the document says so.
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::Unprocessable {
                message: "Send the body as a JSON object ({\"field\": value, …}), not an array."
                    .to_owned(),
                field: None,
            });
        }
        parse_body(&body).map(Self)
    }
}

/// Whether the request says its body is JSON (`application/json`, or `+json` like
/// `application/merge-patch+json`), as axum's `Json` requires.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(mime) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
    else {
        return false;
    };
    let mime = mime.trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// A body already read (a webhook's, whose signature was checked first) as JSON of type `T`,
/// with the same errors as [`ApiJson`].
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if holds_nul(body) {
        return Err(nul_refused());
    }
    Json::<T>::from_bytes(body)
        .map(|Json(value)| value)
        .map_err(rejection_to_error)
}

/// The refusal of a request carrying the NUL character.
fn nul_refused() -> ApiError {
    ApiError::BadRequest {
        message: "The request holds a NUL character (\\u0000 or %00), which no field accepts; \
            remove it."
            .to_owned(),
        field: None,
    }
}

/// Refuses a request whose address (path or query) holds `%00`, before any handler looks a
/// name up with it.
pub async fn refuse_nul_in_address(
    request: Request,
    next: axum::middleware::Next,
) -> Result<Response, ApiError> {
    let address = request.uri().path_and_query().map_or("", |p| p.as_str());
    if address
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"%00"))
    {
        return Err(nul_refused());
    }
    Ok(next.run(request).await)
}

/// Whether JSON text escapes a NUL character (`\u0000`): PostgreSQL cannot store one and no
/// field has a use for it, so it is refused before any query, alike on both engines. An
/// escape is a backslash preceded by an even number of backslashes (`\\u0000` is the text
/// `\u0000`, which is fine).
fn holds_nul(json: &[u8]) -> bool {
    let mut backslashes = 0;
    for (at, byte) in json.iter().enumerate() {
        if *byte == b'\\' {
            backslashes += 1;
            continue;
        }
        if backslashes % 2 == 1
            && json
                .get(at..at + 5)
                .is_some_and(|escape| escape.eq_ignore_ascii_case(b"u0000"))
        {
            return true;
        }
        backslashes = 0;
    }
    false
}

/// A query string of type `T`, with rejections that name the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(wrong_shape(
                "The query string has a wrong parameter",
                &e.body_text(),
            )),
            Err(other) => Err(ApiError::BadRequest {
                message: other.body_text(),
                field: None,
            }),
        }
    }
}

fn rejection_to_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            wrong_shape("The JSON body has the wrong shape", &e.body_text())
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest {
            message: format!("The body is not valid JSON: {}", e.body_text()),
            field: None,
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        other if stopped_arriving(&other) => ApiError::BadRequest {
            message: "The request body stopped arriving (nothing came for client_timeout); \
                send the request again."
                .to_owned(),
            field: None,
        },
        other => ApiError::BadRequest {
            message: other.body_text(),
            field: None,
        },
    }
}

/// Whether reading the body ended because the client stopped sending it (the body timeout
/// in `http::router`).
fn stopped_arriving(rejection: &JsonRejection) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = cause {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// A 422 for input that parsed but does not fit: axum's text starts with its own summary,
/// then (after the first ": ") serde's words, which name the field.
fn wrong_shape(summary: &str, text: &str) -> ApiError {
    let detail = text.split_once(": ").map_or(text, |(_, rest)| rest);
    ApiError::Unprocessable {
        message: format!("{summary}: {detail}"),
        field: field_of(detail),
    }
}

/// The field a serde error is about: the path serde_path_to_error puts first
/// (`replicas: invalid type…`), or the name in ``missing field `version` …``.
fn field_of(detail: &str) -> Option<String> {
    if let Some((path, _)) = detail.split_once(": ") {
        // A path that starts with an index is about a top-level array: no field to name.
        if path != "." && !path.contains(' ') && !path.starts_with('[') {
            return Some(path.to_owned());
        }
    }
    let (_, rest) = detail.split_once("field `")?;
    rest.split_once('`').map(|(name, _)| name.to_owned())
}

/// The `Idempotency-Key` header of a create, if sent.
#[derive(Debug)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.headers.get("idempotency-key") {
            None => Ok(Self(None)),
            Some(value) => value
                .to_str()
                .map(|key| Self(Some(key.to_owned())))
                .map_err(|_| ApiError::BadRequest {
                    message: "Send the Idempotency-Key as plain ASCII text.".into(),
                    field: Some("Idempotency-Key".into()),
                }),
        }
    }
}

/// A created resource: 201, with `Idempotency-Replayed: true` when an earlier request with
/// the same key made it.
pub fn created<T: Serialize>(made: Made<T>) -> Response {
    let mut response = (StatusCode::CREATED, Json(made.value)).into_response();
    if made.replayed {
        response.headers_mut().insert(
            HeaderName::from_static("idempotency-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    response
}

/// A CSV download of `rows` (header first), sent as it is read; `name` and today's date
/// make the file name. An error after the first byte can only cut the download short, so it
/// is logged, and the client sees a truncated file rather than a wrong one.
pub fn csv_download<S>(name: &str, rows: S) -> Response
where
    S: Stream<Item = Result<String, AppError>> + Send + 'static,
{
    let rows = rows.inspect_err(|error| tracing::error!(%error, "CSV export cut short"));
    let now = Timestamp::now().to_rfc3339().unwrap_or_default();
    let day = now.get(..10).unwrap_or("export");
    let disposition = format!("attachment; filename=\"switchyard-{name}-{day}.csv\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(rows),
    )
        .into_response()
}

/// A record id from the path: "There is no deployment x; ids are numbers." otherwise.
pub fn numeric_id(what: &str, text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("There is no {what} {text}; ids are numbers.")))
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn field_comes_from_the_path_or_the_backticks() {
        assert_eq!(
            field_of("replicas: invalid type: string \"three\", expected u32").as_deref(),
            Some("replicas")
        );
        assert_eq!(
            field_of("slots.blue.upstream: invalid type").as_deref(),
            Some("slots.blue.upstream")
        );
        assert_eq!(
            field_of("missing field `version` at line 1 column 15").as_deref(),
            Some("version")
        );
        assert_eq!(
            field_of("unknown field `verison`, expected one of `version`").as_deref(),
            Some("verison")
        );
        assert_eq!(
            field_of("invalid type: integer `1`, expected a map").as_deref(),
            None
        );
    }
}

//! `ApiJson`: axum's JSON extractor with rejections turned into [`ApiError`]s that say what
//! was wrong and where.

use axum::{
    extract::{rejection::JsonRejection, FromRequest, Request},
    Json,
};
use serde::de::DeserializeOwned;

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
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_to_error(rejection)),
        }
    }
}

fn rejection_to_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // serde_path_to_error, inside axum, puts the field path before the first ": ".
            let message = e.body_text();
            let detail = message
                .split_once(": ")
                .map_or(message.as_str(), |(_, rest)| rest);
            let field = field_of(detail);
            ApiError::Unprocessable {
                message: format!("The JSON body has the wrong shape: {detail}"),
                field,
            }
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest {
            message: format!("The body is not valid JSON: {}", e.body_text()),
            field: None,
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        other => ApiError::BadRequest {
            message: other.body_text(),
            field: None,
        },
    }
}

/// The field a serde error is about: the path serde_path_to_error puts first
/// (`replicas: invalid type…`), or the name in ``missing field `version` …``.
fn field_of(detail: &str) -> Option<String> {
    if let Some((path, _)) = detail.split_once(": ") {
        if path != "." && !path.contains(' ') {
            return Some(path.to_owned());
        }
    }
    let (_, rest) = detail.split_once("field `")?;
    rest.split_once('`').map(|(name, _)| name.to_owned())
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

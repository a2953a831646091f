//! `Cache-Control` on every response. Files under `/pkg/` whose names carry a content hash
//! never change: browsers keep them for a year without asking again, so a phone downloads the
//! app once per release. Pages and everything else are asked for again each time (pages hold
//! the caller's data, so only the browser may keep them); API and server-function answers are not stored at all.

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

use crate::site;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// See the module documentation. A handler that set its own `Cache-Control` keeps it.
pub async fn cache_control(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if response.headers().contains_key(header::CACHE_CONTROL) {
        return response;
    }
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let value = match path.strip_prefix("/pkg/") {
        Some(file) if response.status().is_success() && site::is_hashed(file) => IMMUTABLE,
        _ if path.starts_with("/api/") || path.starts_with("/rpc/") => "no-store",
        _ if html => "private, no-cache",
        _ => "no-cache",
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

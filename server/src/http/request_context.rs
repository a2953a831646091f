//! The middleware every request passes through, outermost: it gives the request an id, runs
//! it inside a tracing span carrying that id (so every log line names it), turns a panic into
//! a generic 500, writes API errors as JSON, logs each error once, returns the id in
//! `x-request-id`, and adds the security headers every response carries. It also keeps the
//! list of requests in flight, so a shutdown that runs out of time can say what was still
//! running, and counts each request with its latency for Prometheus.

use std::{
    collections::BTreeMap,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use futures_util::FutureExt;
use tracing::Instrument;

use super::{error::ErrorReport, prometheus::HttpStats};

/// The header that carries the request id in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being handled, available to handlers as an extension.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// What the outermost middleware keeps: the requests in flight, the counts Prometheus scrapes,
/// and the stylesheet the 500 page links to.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    pub in_flight: InFlight,
    pub stats: HttpStats,
    /// `/pkg/switchyard.<hash>.css`.
    pub stylesheet: Arc<str>,
    /// Whether browsers are told to use https only (`Strict-Transport-Security`): with
    /// `secure_cookies`, which says Switchyard is reached over https.
    pub https_only: bool,
}

/// The requests being handled right now, by arrival.
#[derive(Clone, Debug, Default)]
pub struct InFlight {
    inner: Arc<Mutex<InFlightInner>>,
}

#[derive(Debug, Default)]
struct InFlightInner {
    next: u64,
    requests: BTreeMap<u64, InFlightRequest>,
}

/// One request in flight, as a shutdown report names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlightRequest {
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub started: Instant,
}

impl InFlight {
    /// Registers a request until the returned guard drops: when the response is sent, or
    /// when the request is abandoned (its client went away).
    fn enter(&self, request: InFlightRequest) -> InFlightGuard {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = inner.next;
        inner.next += 1;
        inner.requests.insert(key, request);
        InFlightGuard {
            registry: self.clone(),
            key,
        }
    }

    /// The requests still being handled, oldest first.
    pub fn snapshot(&self) -> Vec<InFlightRequest> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.requests.values().cloned().collect()
    }

    /// Logs each request still being handled, with how long it has run.
    pub fn log_remaining(&self) {
        for request in self.snapshot() {
            tracing::warn!(
                request_id = %request.request_id,
                method = %request.method,
                path = %request.path,
                running_secs = request.started.elapsed().as_secs_f64(),
                "request still running at the shutdown deadline"
            );
        }
    }
}

struct InFlightGuard {
    registry: InFlight,
    key: u64,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut inner = self
            .registry
            .inner
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        inner.requests.remove(&self.key);
    }
}

/// See the module documentation.
pub async fn request_context(
    State(context): State<RequestContext>,
    mut request: Request,
    next: Next,
) -> Response {
    let id =
        incoming_request_id(&request).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    // Drawn for every request: cheap, and a page rendered anywhere (a route, the 404
    // fallback) finds it.
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    request
        .extensions_mut()
        .insert(app::PageNonce(nonce.clone()));
    request.extensions_mut().insert(context.stats.clone());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let _in_flight = context.in_flight.enter(InFlightRequest {
        request_id: id.clone(),
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        started: Instant::now(),
    });
    let is_api = request.uri().path().starts_with("/api/");
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );

    async move {
        let started = Instant::now();
        let response = match AssertUnwindSafe(next.run(request)).catch_unwind().await {
            Ok(response) => response,
            Err(panic) => {
                tracing::error!(panic = panic_message(&*panic), "handler panicked");
                ErrorReport::for_status(StatusCode::INTERNAL_SERVER_ERROR).pending()
            }
        };
        let mut response = finish_error(response, is_api, &id, &context.stylesheet);
        let status = response.status();
        let took = started.elapsed();
        context
            .stats
            .record(&method, route.as_deref(), status.as_u16(), took);
        let elapsed_ms = took.as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), elapsed_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request handled");
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        add_security_headers(response.headers_mut(), &nonce, context.https_only);
        response
    }
    .instrument(span)
    .await
}

/// `Strict-Transport-Security`: https only, for a year.
pub const HSTS: &str = "max-age=31536000";

/// Headers that cost nothing and close whole classes of attack: no MIME sniffing, no framing
/// by other sites (clickjacking a Switch button), no URLs leaking to other origins, no
/// script at all but a page's (`app::page_policy`, with the nonce drawn for this request),
/// and over https, never plain http again for a year.
fn add_security_headers(headers: &mut header::HeaderMap, nonce: &str, https_only: bool) {
    let html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(policy) = HeaderValue::from_str(&app::page_policy(nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            // The server's own error page links the stylesheet and shows the favicon.
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                 form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            ),
        );
    }
    if https_only {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// Accepts a caller's id only if it is short and plain, so it cannot flood or forge log lines.
fn incoming_request_id(request: &Request) -> Option<String> {
    let value = request.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    (!value.is_empty() && value.len() <= 64 && value.chars().all(plain)).then(|| value.to_owned())
}

/// Writes the body for an error report (JSON; a page for a page request that failed on the
/// server), or the JSON for an API error status that came without one (404 from the router,
/// 405, 413 from the body limit), and logs internal details.
fn finish_error(response: Response, is_api: bool, id: &str, stylesheet: &str) -> Response {
    if let Some(report) = response.extensions().get::<ErrorReport>().cloned() {
        if let Some(detail) = &report.detail {
            tracing::error!(error = %detail, "internal error");
        }
        if !is_api && report.status.is_server_error() {
            return error_page(&report, id, stylesheet);
        }
        return report.into_response(id);
    }
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_api && (status.is_client_error() || status.is_server_error()) && !is_json {
        return ErrorReport::for_status(status).into_response(id);
    }
    response
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// The page shown when a page request fails on the server: what happened and what to do, with
/// the request id to quote, never the internal error. Plain HTML, so it renders even if the
/// app cannot.
fn error_page(report: &ErrorReport, request_id: &str, stylesheet: &str) -> Response {
    let (status, message) = (report.status, html_escape(&report.message));
    let heading = match status {
        StatusCode::SERVICE_UNAVAILABLE => "Not available just now",
        _ => "Something went wrong",
    };
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading} · Switchyard</title><link rel="stylesheet" href="{stylesheet}"></head>
<body><main id="content" class="content"><section class="error-page">
<p class="error-code">{code}</p><h1>{heading}</h1>
<p>{message}</p>
<p>Request id: <code class="request-id">{request_id}</code></p>
<p><a href="/">Go to the Overview</a></p>
</section></main></body></html>"#,
        code = status.as_u16(),
    );
    let mut response = (status, Html(page)).into_response();
    if let Some(seconds) = report.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    response
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

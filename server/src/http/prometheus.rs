//! `GET /api/v1/prometheus`: the delivery metrics and Switchyard's own HTTP traffic in
//! Prometheus' text format, for a scraper holding `prometheus_token` (off without one). The
//! path stays clear of the Metrics page at `/metrics`; a scrape config names it in
//! `metrics_path`.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    backend::{metrics, secrets, AppState},
    domain::{
        metrics::exposition::{Exposition, Kind, CONTENT_TYPE},
        Timestamp,
    },
};
use axum::{
    extract::State,
    http::{header, HeaderMap, Method},
    response::{IntoResponse, Response},
    Extension,
};
use secrecy::{ExposeSecret, SecretString};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};

/// Where the scrape is served.
pub const PATH: &str = "/api/v1/prometheus";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(scrape))
}

/// The token a scraper sends as `Authorization: Bearer <token>`; none turns the endpoint off.
/// Monitoring also reads the detailed health report with it.
#[derive(Clone, Debug, Default)]
pub struct ScrapeToken(pub Option<SecretString>);

impl ScrapeToken {
    /// Whether the request carries this token (never, when none is set).
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match (&self.0, given) {
            (Some(expected), Some(given)) => secrets::same(expected.expose_secret(), given),
            _ => false,
        }
    }
}

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Requests served since this process started, per method and route (the route's pattern, so
/// `/incidents/{id}` is one series however many incidents there are).
#[derive(Clone, Debug, Default)]
pub struct HttpStats(Arc<Mutex<BTreeMap<(&'static str, String), RouteStats>>>);

#[derive(Clone, Debug, Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Requests at or under each of [`BUCKETS`] (not cumulative; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    seconds: f64,
}

impl HttpStats {
    /// Counts one request. `route` is `None` for paths no route matched (static files, 404s),
    /// which share one series so a scanner cannot grow the map.
    pub fn record(&self, method: &Method, route: Option<&str>, status: u16, took: Duration) {
        let method = match *method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::HEAD => "HEAD",
            Method::OPTIONS => "OPTIONS",
            _ => "other",
        };
        let route = route.unwrap_or("unmatched").to_owned();
        let seconds = took.as_secs_f64();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let stats = map.entry((method, route)).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            stats.buckets[i] += 1;
        }
        stats.count += 1;
        stats.seconds += seconds;
    }

    /// The request counter and the latency histogram.
    fn write(&self, out: &mut Exposition) {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        out.family(
            "switchyard_http_requests_total",
            Kind::Counter,
            "HTTP requests served since this process started, by method, route and status.",
        );
        for ((method, route), stats) in &map {
            for (status, count) in &stats.by_status {
                let status = status.to_string();
                let labels = [("method", *method), ("route", route), ("status", &status)];
                out.sample("switchyard_http_requests_total", &labels, *count as f64);
            }
        }
        const HISTOGRAM: &str = "switchyard_http_request_duration_seconds";
        out.family(
            HISTOGRAM,
            Kind::Histogram,
            "How long HTTP requests took to answer, by method and route.",
        );
        for ((method, route), stats) in &map {
            let mut below = 0;
            for (bound, count) in BUCKETS.iter().zip(stats.buckets) {
                below += count;
                let le = bound.to_string();
                let labels = [("method", *method), ("route", route), ("le", &le)];
                out.sample(&format!("{HISTOGRAM}_bucket"), &labels, below as f64);
            }
            let labels = [("method", *method), ("route", route), ("le", "+Inf")];
            out.sample(&format!("{HISTOGRAM}_bucket"), &labels, stats.count as f64);
            let labels = [("method", *method), ("route", route.as_str())];
            out.sample(&format!("{HISTOGRAM}_sum"), &labels, stats.seconds);
            out.sample(&format!("{HISTOGRAM}_count"), &labels, stats.count as f64);
        }
    }
}

/// `GET /api/v1/prometheus`
#[utoipa::path(get, path = "/v1/prometheus", tag = "metrics", params(("Authorization" = String, Header, description = "Bearer <prometheus_token>")), responses((status = 200, description = "Prometheus text format 0.0.4: each environment's delivery figures over the last 30 days as gauges (switchyard_deployment_frequency_per_day, switchyard_lead_time_median_seconds, switchyard_change_failure_rate, switchyard_recovery_time_median_seconds, switchyard_mttr_mean_seconds, … labelled service, environment, tier, window), switchyard_deployments_total and switchyard_operations_total by outcome, and switchyard_http_requests_total with the switchyard_http_request_duration_seconds histogram, and switchyard_backup_age_seconds when backups are scheduled", content_type = "text/plain"), (status = 401, description = "No token, or not prometheus_token", body = ErrorBody), (status = 404, description = "The endpoint is off: prometheus_token is not set", body = ErrorBody)))]
pub async fn scrape(
    State(state): State<AppState>,
    Extension(token): Extension<ScrapeToken>,
    Extension(stats): Extension<HttpStats>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if token.0.is_none() {
        return Err(ApiError::NotFound(
            "The Prometheus endpoint is off: set prometheus_token in Switchyard's configuration, and send it as Authorization: Bearer <token>.".into(),
        ));
    }
    if !token.admits(&headers) {
        return Err(ApiError::BadSignature(
            "Send prometheus_token as Authorization: Bearer <token> (in Prometheus: authorization: credentials:).".into(),
        ));
    }
    let mut out = Exposition::default();
    metrics::prometheus::write(&state.db, Timestamp::now(), &mut out).await?;
    stats.write(&mut out);
    if let Some(backup) = super::health::check_backups(&state).await {
        out.family(
            "switchyard_backup_age_seconds",
            Kind::Gauge,
            "How old the newest backup in backup_dir is; absent while there is none (alert on absent() too).",
        );
        if let Some(age) = backup.age_seconds() {
            out.sample("switchyard_backup_age_seconds", &[], age as f64);
        }
    }
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], out.finish()).into_response())
}

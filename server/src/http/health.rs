//! Health checks, as the deployment guide asks: a cheap liveness probe for load balancers,
//! open to anyone, and a detailed one for signed-in people and for monitoring holding the
//! Prometheus token (version, commit and database details help an attacker too).

use std::time::{Duration, Instant};

use app::{
    backend::{backups, AppState, Caller, Engine},
    build_info,
    domain::{accounts::role::Action, backups::Freshness},
};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    Extension, Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiError, ErrorBody},
    prometheus::ScrapeToken,
};

/// Where the detailed report is served.
pub const DETAILED_PATH: &str = "/api/v1/health/detailed";

/// The health routes, with their descriptions.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_health))
        .routes(routes!(get_health_detailed))
}

/// How long the detailed check waits for the database before calling it unreachable.
const DATABASE_CHECK_LIMIT: Duration = Duration::from_secs(2);

/// Liveness: the process answers. Touches nothing else, so it stays cheap under load.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    status: &'static str,
}

/// `GET /api/v1/health`
#[utoipa::path(get, path = "/v1/health", tag = "health", responses((status = 200, description = "The process answers", body = Liveness), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)))]
pub async fn get_health() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// The detailed report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Detailed {
    /// `ok`, or `degraded` when the database does not answer.
    status: &'static str,
    version: &'static str,
    commit: &'static str,
    uptime_seconds: u64,
    database: DatabaseHealth,
    /// Scheduled backups; `null` when `backup_dir` is not set.
    backup: Option<BackupHealth>,
}

/// The newest backup in `backup_dir`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupHealth {
    /// `ok`; `stale` when older than 26 hours (the scheduled backups fail or stopped);
    /// `missing` when there is none yet.
    status: Freshness,
    /// When it was taken, RFC 3339 UTC.
    newest_at: Option<String>,
    age_seconds: Option<i64>,
    /// The next scheduled run, RFC 3339 UTC.
    next_at: String,
}

impl BackupHealth {
    pub fn age_seconds(&self) -> Option<i64> {
        self.age_seconds
    }
}

/// The newest backup's age, if backups are scheduled.
pub async fn check_backups(state: &AppState) -> Option<BackupHealth> {
    let now = chrono::Utc::now();
    let report = backups::report(state.backups.as_ref()?, now).await;
    let stamp =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Some(BackupHealth {
        status: report.freshness,
        newest_at: report.newest_at.map(stamp),
        age_seconds: report.newest_at.map(|at| (now - at).num_seconds()),
        next_at: stamp(report.next_at),
    })
}

/// What the detailed check found of the database.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatabaseHealth {
    engine: Engine,
    reachable: bool,
    latency_ms: Option<f64>,
    /// The newest migration applied (its timestamp-like version number).
    migration_version: Option<i64>,
    /// Why it is unreachable, in words safe to show anyone.
    error: Option<&'static str>,
}

/// `GET /api/v1/health/detailed`: 200 when everything answers, 503 when the database does not.
/// For a signed-in caller, an API token, or monitoring with the Prometheus token (which is
/// checked without the database, so an outage is still reported).
#[utoipa::path(get, path = "/v1/health/detailed", tag = "health", responses((status = 200, description = "Everything answers", body = Detailed), (status = 503, description = "The database does not answer", body = Detailed), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn get_health_detailed(
    State(state): State<AppState>,
    Extension(monitoring): Extension<ScrapeToken>,
    headers: HeaderMap,
    caller: Caller,
) -> Result<(StatusCode, Json<Detailed>), ApiError> {
    if !monitoring.admits(&headers) {
        caller.authorize(Action::Read)?;
    }
    let database = check_database(&state).await;
    let status = if database.reachable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let report = Detailed {
        status: if database.reachable { "ok" } else { "degraded" },
        version: build_info::VERSION,
        commit: build_info::COMMIT,
        uptime_seconds: state.started_at.elapsed().as_secs(),
        database,
        backup: check_backups(&state).await,
    };
    Ok((status, Json(report)))
}

async fn check_database(state: &AppState) -> DatabaseHealth {
    let engine = state.db.engine();
    let started = Instant::now();
    let unreachable = |error: &'static str| DatabaseHealth {
        engine,
        reachable: false,
        latency_ms: None,
        migration_version: None,
        error: Some(error),
    };
    if let Err(error) = state.db.ping(DATABASE_CHECK_LIMIT).await {
        tracing::warn!(%error, "database health check failed");
        return unreachable("the database does not answer; see the server log for this request id");
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match state.db.schema_version().await {
        Ok(migration_version) => DatabaseHealth {
            engine,
            reachable: true,
            latency_ms: Some((latency_ms * 1000.0).round() / 1000.0),
            migration_version,
            error: None,
        },
        Err(error) => {
            tracing::warn!(%error, "reading the schema version failed");
            unreachable("the database answers but its schema cannot be read; see the server log")
        }
    }
}

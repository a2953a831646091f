//! Health checks, as the deployment guide asks: a cheap liveness probe for load balancers and
//! a detailed one for people and monitoring.

use std::time::{Duration, Instant};

use app::{
    backend::{AppState, Engine},
    build_info,
};
use axum::{extract::State, http::StatusCode, Json};
use serde::Serialize;
use utoipa::ToSchema;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ErrorBody;

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
#[utoipa::path(get, path = "/v1/health/detailed", tag = "health", responses((status = 200, description = "Everything answers", body = Detailed), (status = 503, description = "The database does not answer", body = Detailed), (status = "4XX", description = "Refused: the JSON error shape names the reason and, for bad input, the field", body = ErrorBody)))]
pub async fn get_health_detailed(State(state): State<AppState>) -> (StatusCode, Json<Detailed>) {
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
    };
    (status, Json(report))
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

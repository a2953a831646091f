//! `/api/v1/health` and `/api/v1/health/detailed`, and the request id they answer with.

use app::domain::accounts::role::Role;
use axum::{body::Body, http::Request};

use crate::{
    helpers::{admin_execute, Credential, Engine, TestApp},
    on_both_engines,
};

on_both_engines!(
    liveness_answers_without_the_database,
    detailed_reports_engine_migrations_and_build,
    detailed_is_only_for_signed_in_callers_and_monitoring,
    request_id_is_generated_echoed_or_replaced,
);

/// The Prometheus token the detailed check also admits.
const MONITORING: &str = "monitor-me-0123456789";

fn detailed() -> Request<Body> {
    Request::get("/api/v1/health/detailed")
        .body(Body::empty())
        .expect("request")
}

async fn liveness_answers_without_the_database(engine: Engine) {
    let app = TestApp::new(engine).await;
    app.app.state().db.close().await;

    let response = app.get("/api/v1/health").await;

    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "ok");
}

async fn detailed_reports_engine_migrations_and_build(engine: Engine) {
    let app = TestApp::new(engine).await;
    let viewer = app.logged_in(Role::Viewer).await;

    let response = app.send_as(&viewer, detailed()).await;

    assert_eq!(response.status, 200, "{}", response.body);
    let body = response.json();
    assert_eq!(body["status"], "ok");
    let expected_engine = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    assert_eq!(body["database"]["engine"], expected_engine);
    assert_eq!(body["database"]["reachable"], true);
    // A real round trip to the database: some time, and less than the check's 2 s limit.
    let latency = body["database"]["latency_ms"].as_f64().expect("latency");
    assert!(latency > 0.0 && latency < 2000.0, "{latency}");
    assert_eq!(
        body["database"]["migration_version"],
        crate::helpers::latest_migration()
    );
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(!body["commit"].as_str().expect("commit").is_empty());
    assert!(body["uptime_seconds"].is_u64());
}

/// Finding 11 of the security review: version, commit and database details helped anyone
/// fingerprint the server.
async fn detailed_is_only_for_signed_in_callers_and_monitoring(engine: Engine) {
    let app = TestApp::with_config(engine, |config| {
        config.prometheus_token = Some(MONITORING.into());
    })
    .await;

    let anonymous = app.get("/api/v1/health/detailed").await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert!(
        !anonymous.body.contains("migration_version"),
        "{}",
        anonymous.body
    );
    let wrong = Credential::Bearer("monitor-me-not".into());
    let refused = app.send_as(&wrong, detailed()).await;
    assert_eq!(refused.status, 401, "{}", refused.body);

    let token = app.token("ci", Role::Viewer, "30d").await;
    for who in [
        Credential::Bearer(token),
        Credential::Bearer(MONITORING.into()),
    ] {
        let answer = app.send_as(&who, detailed()).await;
        assert_eq!(answer.status, 200, "{who:?}: {}", answer.body);
        assert_eq!(answer.json()["database"]["reachable"], true);
    }
    // Liveness stays open to load balancers.
    assert_eq!(app.get("/api/v1/health").await.status, 200);
}

async fn request_id_is_generated_echoed_or_replaced(engine: Engine) {
    let app = TestApp::new(engine).await;
    let with_id = |id: &str| {
        Request::get("/api/v1/health")
            .header("x-request-id", id)
            .body(Body::empty())
            .expect("request")
    };

    let generated = app.get("/api/v1/health").await;
    let id = generated.header("x-request-id");
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));

    let echoed = app.send(with_id("deploy-42.abc")).await;
    assert_eq!(echoed.header("x-request-id"), "deploy-42.abc");

    let forged = app.send(with_id("x\" ,\"level\":\"ERROR")).await;
    assert_ne!(forged.header("x-request-id"), "x\" ,\"level\":\"ERROR");
    assert_eq!(forged.header("x-request-id").len(), 32);
}

#[tokio::test]
async fn detailed_says_503_when_postgres_goes_away() {
    let app = TestApp::with_config(Engine::Postgres, |config| {
        config.prometheus_token = Some(MONITORING.into());
    })
    .await;
    let name = app.db.postgres_name().expect("postgres").to_owned();
    admin_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).await;

    // Monitoring's token is checked without the database, so the outage is reported.
    let monitoring = Credential::Bearer(MONITORING.into());
    let response = app.send_as(&monitoring, detailed()).await;

    assert_eq!(response.status, 503, "{}", response.body);
    let body = response.json();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"]["reachable"], false);
    let error = body["database"]["error"].as_str().expect("error text");
    assert!(!error.contains(&name), "internal details leaked: {error}");
    assert!(
        !error.to_lowercase().contains("sqlx"),
        "internal details leaked: {error}"
    );
}

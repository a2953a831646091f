//! `/api/v1/health` and `/api/v1/health/detailed`, and the request id they answer with.

use axum::{body::Body, http::Request};

use crate::{
    helpers::{admin_execute, Engine, TestApp},
    on_both_engines,
};

on_both_engines!(
    liveness_answers_without_the_database,
    detailed_reports_engine_migrations_and_build,
    request_id_is_generated_echoed_or_replaced,
);

async fn liveness_answers_without_the_database(engine: Engine) {
    let app = TestApp::new(engine).await;
    app.app.state().db.close().await;

    let response = app.get("/api/v1/health").await;

    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "ok");
}

async fn detailed_reports_engine_migrations_and_build(engine: Engine) {
    let app = TestApp::new(engine).await;

    let response = app.get("/api/v1/health/detailed").await;

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
    let app = TestApp::new(Engine::Postgres).await;
    let name = app.db.postgres_name().expect("postgres").to_owned();
    admin_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).await;

    let response = app.get("/api/v1/health/detailed").await;

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

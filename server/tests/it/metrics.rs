//! The delivery metrics over HTTP on both engines: one hand-built history whose every figure
//! was worked out by hand (PRODUCT.md's formulas), the same JSON from SQLite and PostgreSQL
//! field by field, the series, the lists the figures link to and their CSV exports, the
//! Prometheus scrape, and bad queries refused.

use app::{
    backend::demo,
    domain::{Role, Timestamp},
    error::AppError,
};
use serde_json::{json, Value};

use crate::{
    helpers::{json_request, Credential, Engine, TestApp},
    on_both_engines,
};

on_both_engines!(
    prometheus_scrapes_the_figures_and_the_http_traffic_with_its_token,
    bad_queries_name_the_field_and_compute_nothing,
    demo_data_fills_an_empty_database_once_and_the_page_draws_it,
);

/// The window every figure below is about: 7 days.
const WINDOW: &str = "from=2026-11-01T00:00:00Z&to=2026-11-08T00:00:00Z";

async fn post(app: &TestApp, who: &Credential, path: &str, body: Value) -> Value {
    let response = app.send_as(who, json_request("POST", path, &body)).await;
    assert!(response.status.is_success(), "{path}: {}", response.body);
    response.json()
}

async fn get(app: &TestApp, who: &Credential, path: &str) -> Value {
    let response = app
        .send_as(who, json_request("GET", path, &Value::Null))
        .await;
    assert_eq!(response.status, 200, "{path}: {}", response.body);
    response.json()
}

/// `((service, environment), version, status, started, finished, commit time, is a
/// rollback)`, times on 2026-11-DD as `DD HH:MM`.
type Deployment = (
    (&'static str, &'static str),
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    bool,
);

const PROD: (&str, &str) = ("parts", "production");
const STAGING: (&str, &str) = ("parts", "staging");
const WEB: (&str, &str) = ("web", "production");

/// Records a deployment.
async fn deploy(app: &TestApp, who: &Credential, deployment: Deployment) -> i64 {
    let ((service, environment), version, status, started, finished, commit, rollback) = deployment;
    let time = |t: &str| format!("2026-11-{}:00Z", t.replace(' ', "T"));
    let body = json!({
        "service": service, "environment": environment, "version": version, "status": status,
        "started_at": time(started), "finished_at": time(finished),
        "commit_at": commit.map(time), "is_rollback": rollback,
    });
    post(app, who, "/api/v1/deployments", body).await["id"]
        .as_i64()
        .expect("id")
}

/// Imports a resolved incident and links `causes` and `fixes` to it.
async fn incident(
    app: &TestApp,
    who: &Credential,
    (service, environment): (&str, &str),
    (started, resolved): (&str, &str),
    causes: &[i64],
    fixes: &[i64],
) {
    let body = json!({
        "title": "Checkout errors", "service": service, "environment": environment,
        "severity": "SEV2", "status": "resolved", "started_at": started,
        "detected_at": started, "resolved_at": resolved,
    });
    let id = post(app, who, "/api/v1/incidents", body).await["id"]
        .as_i64()
        .expect("id");
    let links = causes
        .iter()
        .map(|d| (d, "cause"))
        .chain(fixes.iter().map(|d| (d, "fix")));
    for (deployment, kind) in links {
        let body = json!({"deployment_id": deployment, "kind": kind});
        post(app, who, &format!("/api/v1/incidents/{id}/links"), body).await;
    }
}

/// The history: `parts` and `web` in production, `parts` in staging too (not counted).
async fn history(engine: Engine) -> (TestApp, Credential) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    for (path, body) in [
        ("/api/v1/services", json!({"name": "parts"})),
        ("/api/v1/services", json!({"name": "web"})),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "production", "tier": "production", "strategy": "rolling"}),
        ),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "staging", "tier": "staging", "strategy": "rolling"}),
        ),
        (
            "/api/v1/services/web/environments",
            json!({"name": "production", "tier": "production", "strategy": "rolling"}),
        ),
    ] {
        post(&app, &admin, path, body).await;
    }
    // (environment, version, status, started, finished, commit time, is a rollback)
    let deployments = [
        // d1: succeeded, lead 2 h, took 5 min.
        (
            PROD,
            "1.0.0",
            "succeeded",
            "01 09:55",
            "01 10:00",
            Some("01 08:00"),
            false,
        ),
        // d2: failed (took 10 min); restored by d3 two hours later.
        (
            PROD,
            "1.1.0",
            "failed",
            "02 09:50",
            "02 10:00",
            Some("02 06:00"),
            false,
        ),
        // d3: succeeded, lead 4 h.
        (
            PROD,
            "1.1.1",
            "succeeded",
            "02 11:50",
            "02 12:00",
            Some("02 08:00"),
            false,
        ),
        // d4: succeeded without a commit time, rolled back by d5 30 minutes later.
        (
            PROD,
            "1.2.0",
            "succeeded",
            "03 09:55",
            "03 10:00",
            None,
            false,
        ),
        // d5: the rollback, 3 minutes.
        (
            PROD,
            "1.1.1",
            "succeeded",
            "03 10:27",
            "03 10:30",
            None,
            true,
        ),
        // d6: cancelled: not attempted.
        (
            PROD,
            "1.3.0",
            "cancelled",
            "04 09:00",
            "04 09:10",
            None,
            false,
        ),
        // d7: succeeded (lead 1 h) but caused I1, which started 20 minutes after it and was
        // resolved before the next deployment: 40 minutes to restore.
        (
            PROD,
            "1.3.0",
            "succeeded",
            "05 09:50",
            "05 10:00",
            Some("05 09:00"),
            false,
        ),
        // d8: the fix of I1, lead 1 h.
        (
            PROD,
            "1.3.1",
            "succeeded",
            "06 09:55",
            "06 10:00",
            Some("06 09:00"),
            false,
        ),
        // d9: failed, and nothing succeeded after it: not yet restored.
        (PROD, "1.4.0", "failed", "07 09:50", "07 10:00", None, false),
        // On the window's end exactly: the next window's.
        (PROD, "1.4.1", "failed", "07 23:50", "08 00:00", None, false),
        // Staging is not production: counted nowhere, and restores nothing in production.
        (
            STAGING,
            "1.4.0",
            "succeeded",
            "07 11:00",
            "07 11:05",
            Some("07 10:00"),
            false,
        ),
        // web: one succeeded deployment, lead 1 h, 2 minutes.
        (
            WEB,
            "7.0.0",
            "succeeded",
            "04 11:58",
            "04 12:00",
            Some("04 11:00"),
            false,
        ),
    ];
    let mut ids = Vec::new();
    for deployment in deployments {
        ids.push(deploy(&app, &admin, deployment).await);
    }
    let (d7, d8) = (ids[6], ids[7]);
    let prod = PROD;
    // I1: 40 minutes.
    incident(
        &app,
        &admin,
        prod,
        ("2026-11-05T10:20:00Z", "2026-11-05T11:00:00Z"),
        &[d7],
        &[d8],
    )
    .await;
    // I2: spans the window's start, resolved inside it: 5 hours, counted.
    incident(
        &app,
        &admin,
        prod,
        ("2026-10-31T20:00:00Z", "2026-11-01T01:00:00Z"),
        &[],
        &[],
    )
    .await;
    // I3: resolved after the window: not counted.
    incident(
        &app,
        &admin,
        prod,
        ("2026-11-07T20:00:00Z", "2026-11-08T02:00:00Z"),
        &[],
        &[],
    )
    .await;
    // I4: staging: not counted.
    incident(
        &app,
        &admin,
        ("parts", "staging"),
        ("2026-11-03T20:00:00Z", "2026-11-03T21:00:00Z"),
        &[],
        &[],
    )
    .await;
    (app, admin)
}

/// Every figure of the history's window, worked out by hand.
fn expected() -> Value {
    json!({
        "from": "2026-11-01T00:00:00.000Z",
        "to": "2026-11-08T00:00:00.000Z",
        // d1 d2 d3 d4 d5 d7 d8 d9 and web's.
        "attempted": 9,
        "succeeded": 7,
        "failed": 2,
        "cancelled": 1,
        // d2 (failed), d4 (rolled back), d7 (caused I1), d9 (failed).
        "failed_changes": 4,
        "not_yet_restored": 1,
        "rolled_back": 1,
        // d5 (a rollback) and d8 (I1's fix).
        "reworked": 2,
        // d1 d3 d7 d8 and web's.
        "with_commit_time": 5,
        "rollbacks": 1,
        // I1 and I2.
        "incidents_resolved": 2,
        "deployment_frequency_per_day": 1.0,
        "deployment_frequency_per_week": 7.0,
        // 1 h, 1 h, 1 h, 2 h, 4 h.
        "lead_time_median_seconds": 3600.0,
        "lead_time_p90_seconds": 14400.0,
        "change_failure_rate": 4.0 / 9.0,
        // 30 min, 40 min, 2 h.
        "recovery_time_median_seconds": 2400.0,
        // 40 min and 5 h.
        "mttr_mean_seconds": 10200.0,
        "mttr_median_seconds": 10200.0,
        "rework_rate": 2.0 / 9.0,
        "success_rate": 7.0 / 9.0,
        "rollback_rate": 1.0 / 7.0,
        // 2 3 5 5 [5] 10 10 10 10 minutes.
        "deployment_time_median_seconds": 300.0,
        "rollback_recovery_median_seconds": 180.0,
        "levels": {
            "deployment_frequency": "elite",
            "lead_time": "elite",
            "change_failure_rate": "low",
            "recovery_time": "elite"
        },
        "targets": {
            "success_rate": false,
            "rollback_rate": false,
            "deployment_time": true,
            "rollback_recovery": true
        }
    })
}

#[tokio::test]
async fn the_same_history_gives_the_same_figures_on_both_engines() {
    let (sqlite, sqlite_admin) = history(Engine::Sqlite).await;
    let (postgres, postgres_admin) = history(Engine::Postgres).await;
    let viewer = sqlite.logged_in(Role::Viewer).await;
    let path = format!("/api/v1/metrics?{WINDOW}");
    let from_sqlite = get(&sqlite, &viewer, &path).await;
    let from_postgres = get(&postgres, &postgres_admin, &path).await;
    let expected = expected();
    for (field, value) in expected.as_object().expect("object") {
        assert_eq!(&from_sqlite[field], value, "{field} on SQLite");
        assert_eq!(&from_postgres[field], value, "{field} on PostgreSQL");
    }
    assert_eq!(from_sqlite, from_postgres);

    // Eleven days are read as two slices, a week and then four days, with deployments in
    // both: the same facts come out, each exactly once.
    let longer = "/api/v1/metrics?from=2026-10-28T00:00:00Z&to=2026-11-08T00:00:00Z";
    for (app, who) in [(&sqlite, &viewer), (&postgres, &postgres_admin)] {
        let figures = get(app, who, longer).await;
        for (field, value) in expected.as_object().expect("object") {
            // The window's start and length, and so its frequency, differ by design.
            if !(field == "from" || field.starts_with("deployment_frequency") || field == "levels")
            {
                assert_eq!(&figures[field], value, "{field} over eleven days");
            }
        }
    }

    // One service, one environment: web alone.
    let web = get(&sqlite, &sqlite_admin, &format!("{path}&service=web")).await;
    assert_eq!(
        (
            web["attempted"].as_i64(),
            web["incidents_resolved"].as_i64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(web["mttr_mean_seconds"], Value::Null);
    let staging = get(
        &postgres,
        &postgres_admin,
        &format!("{path}&service=parts&environment=staging"),
    )
    .await;
    assert_eq!(staging["attempted"], 1);
    assert_eq!(staging["incidents_resolved"], 1);

    // The series: two weeks, the second of which is the window above.
    let series = get(
        &sqlite,
        &viewer,
        "/api/v1/metrics/series?from=2026-10-25T00:00:00Z&to=2026-11-08T00:00:00Z&bucket=week",
    )
    .await;
    assert_eq!(series["bucket"], "week");
    let points = series["points"].as_array().expect("points");
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["attempted"], 0);
    assert_eq!(points[0]["change_failure_rate"], Value::Null);
    for (field, value) in expected.as_object().expect("object") {
        assert_eq!(&points[1][field], value, "{field} in the second week");
    }
    // The same on PostgreSQL.
    let pg_series = get(
        &postgres,
        &postgres_admin,
        "/api/v1/metrics/series?from=2026-10-25T00:00:00Z&to=2026-11-08T00:00:00Z&bucket=week",
    )
    .await;
    assert_eq!(series, pg_series);

    // The lists a figure links to hold what it counted.
    for (app, who) in [(&sqlite, &viewer), (&postgres, &postgres_admin)] {
        let window =
            "finished_from=2026-11-01T00:00:00Z&finished_to=2026-11-08T00:00:00Z&tier=production";
        let succeeded = get(
            app,
            who,
            &format!("/api/v1/deployments?{window}&status=succeeded"),
        )
        .await;
        assert_eq!(succeeded["deployments"].as_array().map(Vec::len), Some(7));
        let all = get(app, who, &format!("/api/v1/deployments?{window}")).await;
        // The 9 attempted and the cancelled one.
        assert_eq!(all["deployments"].as_array().map(Vec::len), Some(10));
        let resolved = get(
            app,
            who,
            "/api/v1/incidents?status=resolved&resolved_from=2026-11-01T00:00:00Z&resolved_to=2026-11-08T00:00:00Z&tier=production",
        )
        .await;
        assert_eq!(resolved.as_array().map(Vec::len), Some(2));
        // The same rows as CSV, for a spreadsheet.
        let exported = csv(app, who, &format!("/api/v1/deployments.csv?{window}")).await;
        let mut lines = exported.lines();
        assert!(lines
            .next()
            .is_some_and(|h| h.starts_with("id,service,environment,version,status")));
        assert_eq!(lines.clone().count(), 10, "{exported}");
        assert!(lines.all(|l| l.contains(",parts,production,") || l.contains(",web,production,")));
        let incidents = csv(
            app,
            who,
            "/api/v1/incidents.csv?status=resolved&resolved_from=2026-11-01&resolved_to=2026-11-07&tier=production",
        )
        .await;
        assert_eq!(incidents.lines().count(), 3, "{incidents}");
    }
}

/// A CSV export's text, checked to be a CSV download.
async fn csv(app: &TestApp, who: &Credential, path: &str) -> String {
    let response = app
        .send_as(who, json_request("GET", path, &Value::Null))
        .await;
    assert_eq!(response.status, 200, "{path}: {}", response.body);
    assert_eq!(response.header("content-type"), "text/csv; charset=utf-8");
    assert!(response
        .header("content-disposition")
        .starts_with("attachment; filename=\"switchyard-"));
    assert!(response.body.lines().all(|line| !line.is_empty()));
    response.body
}

async fn bad_queries_name_the_field_and_compute_nothing(engine: Engine) {
    let app = TestApp::new(engine).await;
    let viewer = app.logged_in(Role::Viewer).await;
    let admin = app.logged_in(Role::Admin).await;
    post(&app, &admin, "/api/v1/services", json!({"name": "parts"})).await;
    let empty = get(&app, &viewer, "/api/v1/metrics").await;
    // An empty window: counts are 0, everything else "no data".
    assert_eq!(empty["attempted"], 0);
    assert_eq!(empty["deployment_frequency_per_day"], Value::Null);
    assert_eq!(empty["change_failure_rate"], Value::Null);
    assert_eq!(empty["levels"]["deployment_frequency"], Value::Null);
    for (query, field) in [
        ("from=2026-11-08&to=2026-11-01", "to"),
        ("from=2020-01-01&to=2026-01-01", "to"),
        ("from=yesterday", "from"),
        ("to=2026-13-45", "to"),
        ("service=nope", "service"),
        ("environment=moon", "environment"),
        ("bucket=day", "bucket"),
        ("range=fortnight", "range"),
    ] {
        for endpoint in ["/api/v1/metrics", "/api/v1/metrics/series"] {
            let response = app
                .send_as(
                    &viewer,
                    json_request("GET", &format!("{endpoint}?{query}"), &Value::Null),
                )
                .await;
            assert_eq!(response.status, 422, "{query}: {}", response.body);
            assert_eq!(response.json()["error"]["field"], field, "{query}");
        }
    }
    // The lists a figure links to refuse bad windows and tiers the same way.
    for (path, field) in [
        ("/api/v1/deployments?finished_from=soon", "finished_from"),
        ("/api/v1/deployments?finished_from=2026-11-08T00:00:00Z&finished_to=2026-11-01T00:00:00Z", "finished_to"),
        ("/api/v1/deployments?tier=moon", "tier"),
        ("/api/v1/incidents?resolved_from=soon", "resolved_from"),
        ("/api/v1/incidents?resolved_to=2026-13-45", "resolved_to"),
        ("/api/v1/incidents?tier=moon", "tier"),
        ("/api/v1/deployments.csv?finished_from=soon", "finished_from"),
        ("/api/v1/deployments.csv?service=nope", "service"),
        ("/api/v1/deployments.csv?status=done", "status"),
        ("/api/v1/incidents.csv?resolved_to=2026-13-45", "resolved_to"),
        ("/api/v1/incidents.csv?severity=SEV9", "severity"),
    ] {
        let response = app
            .send_as(&viewer, json_request("GET", path, &Value::Null))
            .await;
        assert_eq!(response.status, 422, "{path}: {}", response.body);
        assert_eq!(response.json()["error"]["field"], field, "{path}");
    }
    // A service without that environment.
    let response = app
        .send_as(
            &viewer,
            json_request(
                "GET",
                "/api/v1/metrics?service=parts&environment=production",
                &Value::Null,
            ),
        )
        .await;
    assert_eq!(response.status, 422);
    // Nobody logged in: refused.
    assert_eq!(app.get("/api/v1/metrics").await.status, 401);
}

async fn demo_data_fills_an_empty_database_once_and_the_page_draws_it(engine: Engine) {
    let app = TestApp::new(engine).await;
    let db = &app.app.state().db;
    let summary = demo::fill(db, 3, Timestamp::now())
        .await
        .expect("demo data");
    assert!(summary.deployments > 1_000, "{summary:?}");
    assert!(
        summary.incidents > 10 && summary.postmortems > 2 && summary.releases > 20,
        "{summary:?}"
    );
    let deployments = app.count("SELECT COUNT(*) FROM deployments").await;
    assert_eq!(deployments, summary.deployments as i64);
    // A second run finds data and writes nothing.
    let again = demo::fill(db, 4, Timestamp::now())
        .await
        .expect_err("a database with data is refused");
    assert!(matches!(again, AppError::Conflict(_)), "{again:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM deployments").await,
        deployments
    );

    // The exports hold every row, across many pages of 200 (deployments) and 200
    // (incidents), each id once, newest first.
    let viewer = app.logged_in(Role::Viewer).await;
    for (path, table, total) in [
        (
            "/api/v1/deployments.csv",
            "deployments",
            summary.deployments,
        ),
        ("/api/v1/incidents.csv", "incidents", summary.incidents),
    ] {
        let csv = csv(&app, &viewer, path).await;
        let ids: Vec<i64> = csv
            .lines()
            .skip(1)
            .map(|line| line.split(',').next().unwrap_or("").parse().expect(line))
            .collect();
        assert_eq!(ids.len(), total, "{table}");
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), total, "{table}: an id twice");
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM {table}")).await,
            total as i64
        );
    }

    // Every key has data over the year, and the page draws all four charts.
    let year = get(&app, &viewer, "/api/v1/metrics?range=365d").await;
    for field in [
        "deployment_frequency_per_day",
        "lead_time_median_seconds",
        "change_failure_rate",
        "recovery_time_median_seconds",
        "mttr_mean_seconds",
        "rollback_recovery_median_seconds",
    ] {
        assert!(year[field].is_number(), "{field}: {year}");
    }
    let page = app
        .send_as(
            &viewer,
            json_request("GET", "/metrics?range=90d", &Value::Null),
        )
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body.matches("class=\"chart-svg\"").count(),
        4,
        "{}",
        page.body
    );
    assert!(page.body.contains("<svg"));
    assert!(page.body.contains("china-car-parts-api"));
    // The report adds the window's incidents with their post-mortems and the open action items.
    let report = app
        .send_as(
            &viewer,
            json_request("GET", "/metrics/report?range=90d", &Value::Null),
        )
        .await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains("Delivery report"));
    assert_eq!(report.body.matches("class=\"chart-svg\"").count(), 4);
    assert!(
        report.body.contains("Incidents resolved in the window")
            || report
                .body
                .contains("No incident was resolved in this window.")
    );
    assert!(
        report.body.contains("Open action items")
            || report.body.contains("No action item is open.")
    );
}

async fn prometheus_scrapes_the_figures_and_the_http_traffic_with_its_token(engine: Engine) {
    // Off unless configured.
    let off = TestApp::new(engine).await;
    let answer = off.get("/api/v1/prometheus").await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert!(answer.body.contains("prometheus_token"), "{}", answer.body);

    let app = TestApp::with_config(engine, |config| {
        config.prometheus_token = Some("scrape-me-0123456789".into());
    })
    .await;
    let admin = app.logged_in(Role::Admin).await;
    let scrape = |authorization: Option<&'static str>| {
        let mut request = axum::http::Request::get("/api/v1/prometheus");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        app.send(request.body(axum::body::Body::empty()).expect("request"))
    };
    // A session is not the token; neither is a wrong one.
    for wrong in [None, Some("Bearer scrape-me"), Some("scrape-me-0123456789")] {
        let answer = scrape(wrong).await;
        assert_eq!(answer.status, 401, "{wrong:?}: {}", answer.body);
    }
    let as_admin = app
        .send_as(
            &admin,
            json_request("GET", "/api/v1/prometheus", &Value::Null),
        )
        .await;
    assert_eq!(as_admin.status, 401);

    // parts/production: a success and a failure an hour ago; a cancelled one; an older one
    // outside the 30 days (counted in the totals only).
    for path_body in [
        ("/api/v1/services", json!({"name": "parts"})),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "production", "tier": "production", "strategy": "rolling"}),
        ),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "staging", "tier": "staging", "strategy": "rolling"}),
        ),
    ] {
        post(&app, &admin, path_body.0, path_body.1).await;
    }
    let now = Timestamp::now();
    let ago = |minutes: u64| {
        now.minus(std::time::Duration::from_secs(minutes * 60))
            .to_rfc3339()
            .expect("time")
    };
    for (version, status, started, finished) in [
        ("1", "succeeded", 100, 90),
        ("2", "failed", 80, 60),
        ("3", "cancelled", 50, 45),
        ("0", "succeeded", 60 * 24 * 40, 60 * 24 * 40 - 5),
    ] {
        let body = json!({
            "service": "parts", "environment": "production", "version": version,
            "status": status, "started_at": ago(started), "finished_at": ago(finished),
        });
        post(&app, &admin, "/api/v1/deployments", body).await;
    }

    let answer = scrape(Some("Bearer scrape-me-0123456789")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = answer.body;
    // The format: each family announced once, then only well-formed samples of it.
    let mut families = std::collections::BTreeSet::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().expect("name").to_owned();
            assert!(families.insert(name.clone()), "{name} announced twice");
            current = name;
        } else if !line.starts_with("# HELP ") {
            let (series, value) = line.rsplit_once(' ').expect(line);
            assert!(value.parse::<f64>().is_ok() || value == "+Inf", "{line}");
            let name = series.split('{').next().expect("name");
            assert!(
                name.starts_with(&current),
                "{line} outside its family {current}"
            );
            if let Some(labels) = series.split_once('{').map(|(_, l)| l) {
                assert!(labels.ends_with('}'), "{line}");
            }
        }
    }
    let production = "service=\"parts\",environment=\"production\",tier=\"production\"";
    let gauge = |name: &str| format!("{name}{{{production},window=\"30d\"}} ");
    for (name, value) in [
        ("switchyard_deployments_attempted", "2"),
        ("switchyard_failed_changes", "1"),
        ("switchyard_change_failure_rate", "0.5"),
        ("switchyard_success_rate", "0.5"),
        ("switchyard_deployment_time_median_seconds", "900"),
    ] {
        let sample = format!("{}{value}\n", gauge(name));
        assert!(text.contains(&sample), "{sample} in\n{text}");
    }
    // No data is no sample, never a 0: no commit times, so no lead time; staging's
    // deployment count is there, at 0.
    assert!(!text.contains(&gauge("switchyard_lead_time_median_seconds")));
    assert!(text.contains(
        "switchyard_deployments_attempted{service=\"parts\",environment=\"staging\",tier=\"staging\",window=\"30d\"} 0\n"
    ));
    // Counters count everything so far.
    for (status, count) in [("succeeded", 2), ("failed", 1), ("cancelled", 1)] {
        let sample =
            format!("switchyard_deployments_total{{{production},status=\"{status}\"}} {count}\n");
        assert!(text.contains(&sample), "{sample}");
    }
    // The HTTP series: the four recordings, under their route's pattern, and a histogram
    // whose buckets only grow and end at the count.
    assert!(text.contains(
        "switchyard_http_requests_total{method=\"POST\",route=\"/api/v1/deployments\",status=\"201\"} 4\n"
    ), "{text}");
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with("switchyard_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/deployments\",")
        })
        .map(|l| l.rsplit_once(' ').expect(l).1.parse().expect(l))
        .collect();
    assert_eq!(buckets.len(), 12, "{text}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&4.0));
    assert!(text.contains(
        "switchyard_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/deployments\"} 4\n"
    ));
    // The example Grafana dashboard asks only for series this endpoint writes.
    let dashboard = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/grafana-dashboard.json"
    ))
    .expect("examples/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let mut asked = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("switchyard_") {
                    let family = ["_bucket", "_sum", "_count"]
                        .iter()
                        .find_map(|suffix| word.strip_suffix(suffix))
                        .unwrap_or(word);
                    assert!(families.contains(family), "{expr} asks for {word}");
                    asked += 1;
                }
            }
        }
    }
    assert!(asked >= 14, "{asked}");

    // A path no route matches joins one series, whatever the path.
    app.get("/no/such/page/1").await;
    app.get("/no/such/page/2").await;
    let again = scrape(Some("Bearer scrape-me-0123456789")).await.body;
    assert!(again.contains("route=\"unmatched\""), "{again}");
    assert!(!again.contains("/no/such/page"));
}

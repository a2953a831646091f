//! Services, environments and deployments through the REST API: setup, recording, finishing,
//! idempotency, filters and paging, rollbacks, the Overview, and bad input that changes
//! nothing.

use app::domain::Role;
use axum::{body::Body, http::Request};
use serde_json::{json, Value};

use crate::{
    helpers::{json_request, Credential, Engine, TestApp, TestResponse},
    on_both_engines,
};

on_both_engines!(
    admins_set_up_services_and_environments,
    bad_catalog_input_is_named_and_changes_nothing,
    engineers_record_and_finish_deployments,
    bad_deployment_input_is_named_and_changes_nothing,
    an_idempotency_key_makes_one_deployment,
    concurrent_repeats_of_one_key_make_one_row,
    filters_and_cursor_paging_walk_the_history,
    a_succeeded_rollback_marks_the_deployment_it_replaced,
    the_overview_shows_each_environment_with_its_last_deployment,
    list_server_functions_take_an_empty_filter,
    admins_change_tiers_slot_addresses_and_descriptions,
    recorded_deployments_put_their_version_live_and_say_who_shipped_it,
    a_running_deployment_overtaken_by_a_newer_one_is_superseded,
    every_wrong_field_is_named_at_once,
);

/// An app with an admin and an engineer, service `parts` with a blue-green `production` and
/// a rolling `staging`.
async fn catalog(engine: Engine) -> (TestApp, Credential, Credential) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let engineer = app.logged_in(Role::Engineer).await;
    let service = post(
        &app,
        &admin,
        "/api/v1/services",
        json!({"name": "parts", "description": "The parts API", "owner_team": "Platform"}),
    )
    .await;
    assert_eq!(service.status, 201, "{}", service.body);
    let production = post(
        &app,
        &admin,
        "/api/v1/services/parts/environments",
        json!({
            "name": "production", "tier": "production", "strategy": "blue_green",
            "slots": {
                "blue": {"upstream": "http://10.0.0.1:8080", "health_url": "http://10.0.0.1:8080/health"},
                "green": {"upstream": "http://10.0.0.2:8080", "health_url": "http://10.0.0.2:8080/health"}
            }
        }),
    )
    .await;
    assert_eq!(production.status, 201, "{}", production.body);
    let staging = post(
        &app,
        &admin,
        "/api/v1/services/parts/environments",
        json!({"name": "staging", "tier": "staging", "strategy": "rolling"}),
    )
    .await;
    assert_eq!(staging.status, 201, "{}", staging.body);
    (app, admin, engineer)
}

async fn post(app: &TestApp, who: &Credential, path: &str, body: Value) -> TestResponse {
    app.send_as(who, json_request("POST", path, &body)).await
}

async fn get(app: &TestApp, who: &Credential, path: &str) -> TestResponse {
    app.send_as(
        who,
        Request::get(path).body(Body::empty()).expect("request"),
    )
    .await
}

/// Records a deployment and returns its id.
async fn record(app: &TestApp, who: &Credential, body: Value) -> i64 {
    let response = post(app, who, "/api/v1/deployments", body).await;
    assert_eq!(response.status, 201, "{}", response.body);
    response.json()["id"].as_i64().expect("id")
}

fn assert_refused(response: &TestResponse, status: u16, field: Option<&str>, label: &str) {
    assert_eq!(response.status, status, "{label}: {}", response.body);
    let error = &response.json()["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{label}: {}",
        response.body
    );
    assert_eq!(error["field"].as_str(), field, "{label}: {}", response.body);
}

async fn admins_set_up_services_and_environments(engine: Engine) {
    let (app, admin, engineer) = catalog(engine).await;
    let environment = get(
        &app,
        &engineer,
        "/api/v1/services/parts/environments/production",
    )
    .await;
    assert_eq!(environment.status, 200, "{}", environment.body);
    let state = environment.json();
    assert_eq!(state["tier"], "production");
    assert_eq!(state["strategy"], "blue_green");
    assert_eq!(state["live_slot"], "blue");
    assert_eq!(state["revision"], 0);
    assert_eq!(state["slots"][1]["color"], "green");
    assert_eq!(state["slots"][1]["upstream"], "http://10.0.0.2:8080");
    assert!(state["slots"][0]["version"].is_null());
    let staging = get(
        &app,
        &engineer,
        "/api/v1/services/parts/environments/staging",
    )
    .await
    .json();
    assert!(staging["live_slot"].is_null());
    assert_eq!(staging["slots"], json!([]));
    let services = get(&app, &engineer, "/api/v1/services").await.json();
    assert_eq!(services[0]["owner_team"], "Platform");
    assert_eq!(
        get(&app, &engineer, "/api/v1/environments")
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // Unknown names say which part is unknown.
    let missing = get(&app, &engineer, "/api/v1/services/parts/environments/qa").await;
    assert_refused(&missing, 404, None, "unknown environment");
    assert!(missing.body.contains("no environment named qa"));
    let missing = get(&app, &engineer, "/api/v1/services/nope/environments/qa").await;
    assert!(
        missing.body.contains("no service named nope"),
        "{}",
        missing.body
    );
    // Every creation is audited.
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('service.created', 'environment.created')").await, 3);
    // Engineers may read but not set up.
    let refused = post(
        &app,
        &engineer,
        "/api/v1/services",
        json!({"name": "other"}),
    )
    .await;
    assert_eq!(refused.status, 403);
    let _ = admin;
}

async fn bad_catalog_input_is_named_and_changes_nothing(engine: Engine) {
    let (app, admin, _) = catalog(engine).await;
    let services = "SELECT COUNT(*) FROM services";
    let environments = "SELECT COUNT(*) FROM environments";
    let audit = "SELECT COUNT(*) FROM audit_log";
    let before = (
        app.count(services).await,
        app.count(environments).await,
        app.count(audit).await,
    );
    let slot =
        |upstream: &str| json!({"upstream": upstream, "health_url": "http://10.0.0.9/health"});
    let cases: Vec<(&str, Value, u16, Option<&str>)> = vec![
        ("/api/v1/services", json!({"name": ""}), 422, Some("name")),
        (
            "/api/v1/services",
            json!({"name": "Parts API"}),
            422,
            Some("name"),
        ),
        (
            "/api/v1/services",
            json!({"name": "x".repeat(65)}),
            422,
            Some("name"),
        ),
        (
            "/api/v1/services",
            json!({"name": "ok", "description": "d".repeat(501)}),
            422,
            Some("description"),
        ),
        (
            "/api/v1/services",
            json!({"name": "parts"}),
            409,
            Some("name"),
        ),
        ("/api/v1/services", json!({"name": 42}), 422, Some("name")),
        (
            "/api/v1/services",
            json!({"description": "no name"}),
            422,
            Some("name"),
        ),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "qa", "tier": "prod", "strategy": "rolling"}),
            422,
            Some("tier"),
        ),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "qa", "tier": "staging", "strategy": "big_bang"}),
            422,
            Some("strategy"),
        ),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "qa", "tier": "staging", "strategy": "blue_green"}),
            422,
            Some("slots"),
        ),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "qa", "tier": "staging", "strategy": "rolling", "slots": {"blue": slot("http://a"), "green": slot("http://b")}}),
            422,
            Some("slots"),
        ),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "qa", "tier": "staging", "strategy": "blue_green", "slots": {"blue": slot("http://a"), "green": slot("10.0.0.2")}}),
            422,
            Some("slots.green.upstream"),
        ),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "staging", "tier": "staging", "strategy": "rolling"}),
            409,
            Some("name"),
        ),
        (
            "/api/v1/services/nope/environments",
            json!({"name": "qa", "tier": "staging", "strategy": "rolling"}),
            404,
            None,
        ),
    ];
    for (path, body, status, field) in cases {
        let label = format!("POST {path} {body}");
        assert_refused(&post(&app, &admin, path, body).await, status, field, &label);
    }
    let after = (
        app.count(services).await,
        app.count(environments).await,
        app.count(audit).await,
    );
    assert_eq!(before, after, "nothing written");
    assert_eq!(app.count("SELECT COUNT(*) FROM slots").await, 2);
}

async fn engineers_record_and_finish_deployments(engine: Engine) {
    let (app, _, engineer) = catalog(engine).await;
    let id = record(&app, &engineer, json!({
        "service": "parts", "environment": "production", "version": "2.4.1",
        "commit_sha": "ABCDEF1234567", "slot": "green", "url": "https://ci.example/runs/7", "notes": "First try"
    })).await;
    let running = get(&app, &engineer, &format!("/api/v1/deployments/{id}"))
        .await
        .json();
    assert_eq!(running["status"], "running");
    assert_eq!(running["strategy"], "blue_green");
    assert_eq!(running["slot"], "green");
    assert_eq!(running["commit_sha"], "abcdef1234567");
    assert_eq!(running["source"], "api");
    assert_eq!(
        running["recorded_by"],
        json!({"kind": "user", "name": "engineer"})
    );
    assert!(running["finished_at"].is_null());
    assert!(running["started_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    let path = format!("/api/v1/deployments/{id}/finish");
    let finish = |body: Value| post(&app, &engineer, &path, body);
    assert_refused(
        &finish(json!({"status": "running"})).await,
        422,
        Some("status"),
        "finish as running",
    );
    assert_refused(
        &finish(json!({"status": "done"})).await,
        422,
        Some("status"),
        "unknown status",
    );
    assert_refused(
        &finish(json!({"status": "failed", "finished_at": "2001-01-01T00:00:00Z"})).await,
        422,
        Some("finished_at"),
        "finish before start",
    );
    let finished = finish(json!({"status": "failed"})).await;
    assert_eq!(finished.status, 200, "{}", finished.body);
    assert_eq!(finished.json()["status"], "failed");
    assert!(finished.json()["finished_at"].is_string());
    // Final means final: another finish is a conflict and changes nothing.
    let again = finish(json!({"status": "succeeded"})).await;
    assert_refused(&again, 409, Some("status"), "finish twice");
    assert!(
        again.body.contains("already ended as failed"),
        "{}",
        again.body
    );
    assert_eq!(
        get(&app, &engineer, &format!("/api/v1/deployments/{id}"))
            .await
            .json()["status"],
        "failed"
    );
    // Notes may still be added, signed and dated.
    let noted = post(
        &app,
        &engineer,
        &format!("/api/v1/deployments/{id}/notes"),
        json!({"note": "Rolled forward in 2.4.2"}),
    )
    .await;
    assert_eq!(noted.status, 200, "{}", noted.body);
    let notes = noted.json()["notes"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(notes.starts_with("First try\n\nengineer ("), "{notes}");
    assert!(notes.ends_with("): Rolled forward in 2.4.2"), "{notes}");
    assert_refused(
        &post(
            &app,
            &engineer,
            &format!("/api/v1/deployments/{id}/notes"),
            json!({"note": " "}),
        )
        .await,
        422,
        Some("note"),
        "empty note",
    );

    // A finished deployment with both times; and the strategy the environment has.
    let done = record(
        &app,
        &engineer,
        json!({
            "service": "parts", "environment": "staging", "version": "2.4.1",
            "started_at": "2026-11-20T10:00:00Z", "finished_at": "2026-11-20T10:07:30+00:00",
            "commit_at": "2026-11-20T09:00:00Z"
        }),
    )
    .await;
    let done = get(&app, &engineer, &format!("/api/v1/deployments/{done}"))
        .await
        .json();
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["strategy"], "rolling");
    assert_eq!(done["finished_at"], "2026-11-20T10:07:30.000Z");
    assert_eq!(done["commit_at"], "2026-11-20T09:00:00.000Z");
    // Unknown ids.
    assert_refused(
        &get(&app, &engineer, "/api/v1/deployments/424242").await,
        404,
        None,
        "unknown id",
    );
    assert_refused(
        &get(&app, &engineer, "/api/v1/deployments/abc").await,
        404,
        None,
        "not an id",
    );
    assert_refused(
        &finish_of(&app, &engineer, 424242).await,
        404,
        None,
        "finish unknown",
    );
    // Tokens record as themselves, with the API as source.
    let token = Credential::Bearer(app.token("ci", Role::Engineer, "90d").await);
    let by_token = record(
        &app,
        &token,
        json!({"service": "parts", "environment": "staging", "version": "2.4.2"}),
    )
    .await;
    assert_eq!(
        get(&app, &token, &format!("/api/v1/deployments/{by_token}"))
            .await
            .json()["recorded_by"],
        json!({"kind": "token", "name": "ci"})
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'deployment.recorded'")
            .await,
        3
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'deployment.finished'")
            .await,
        1
    );
}

async fn finish_of(app: &TestApp, who: &Credential, id: i64) -> TestResponse {
    post(
        app,
        who,
        &format!("/api/v1/deployments/{id}/finish"),
        json!({"status": "succeeded"}),
    )
    .await
}

async fn bad_deployment_input_is_named_and_changes_nothing(engine: Engine) {
    let (app, _, engineer) = catalog(engine).await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;
    let base = json!({"service": "parts", "environment": "production", "version": "2.4.1"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases: Vec<(Value, u16, Option<&str>)> = vec![
        (with("service", json!("nope")), 422, Some("service")),
        (with("environment", json!("qa")), 422, Some("environment")),
        (with("version", json!("")), 422, Some("version")),
        (with("version", json!("2.4 .1")), 422, Some("version")),
        (
            with("version", json!("v".repeat(101))),
            422,
            Some("version"),
        ),
        (with("commit_sha", json!("abc12")), 422, Some("commit_sha")),
        (
            with("commit_sha", json!("g".repeat(40))),
            422,
            Some("commit_sha"),
        ),
        (
            with("commit_sha", json!("a".repeat(41))),
            422,
            Some("commit_sha"),
        ),
        (
            json!({"service": "parts", "environment": "production", "version": "1", "started_at": "2026-11-20T10:05:00Z", "finished_at": "2026-11-20T10:00:00Z"}),
            422,
            Some("finished_at"),
        ),
        (
            with("started_at", json!("2999-01-01T00:00:00Z")),
            422,
            Some("started_at"),
        ),
        (
            with("commit_at", json!("2999-01-01T00:00:00Z")),
            422,
            Some("commit_at"),
        ),
        (
            with("started_at", json!("next tuesday")),
            422,
            Some("started_at"),
        ),
        (with("notes", json!("n".repeat(10_001))), 422, Some("notes")),
        (with("url", json!("ci.example/run/1")), 422, Some("url")),
        (
            with(
                "url",
                json!(format!("https://ci.example/{}", "x".repeat(2000))),
            ),
            422,
            Some("url"),
        ),
        (with("status", json!("done")), 422, Some("status")),
        (
            with("status", json!("running"))
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("finished_at".into(), json!("2026-11-20T10:00:00Z"));
                    Value::Object(o)
                })
                .unwrap_or_default(),
            422,
            Some("finished_at"),
        ),
        (with("strategy", json!("big_bang")), 422, Some("strategy")),
        (with("slot", json!("red")), 422, Some("slot")),
        (
            json!({"service": "parts", "environment": "staging", "version": "1", "slot": "blue"}),
            422,
            Some("slot"),
        ),
        (with("version", json!(241)), 422, Some("version")),
        (with("is_rollback", json!("yes")), 422, Some("is_rollback")),
        (with("verison", json!("typo")), 422, Some("verison")),
        (
            json!({"service": "parts", "environment": "production"}),
            422,
            Some("version"),
        ),
        (json!([1, 2]), 422, None),
    ];
    for (body, status, field) in cases {
        let label = body.to_string().chars().take(120).collect::<String>();
        assert_refused(
            &post(&app, &engineer, "/api/v1/deployments", body).await,
            status,
            field,
            &label,
        );
    }
    // Not JSON at all.
    let garbage = app
        .send_as(
            &engineer,
            Request::post("/api/v1/deployments")
                .header("content-type", "application/json")
                .body(Body::from("{not json"))
                .expect("request"),
        )
        .await;
    assert_refused(&garbage, 400, None, "syntax");
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log").await,
        audit_before
    );
    // Bad filters are named too.
    for (query, field) in [
        ("status=done", "status"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("from=soon", "from"),
        ("cursor=xyz", "cursor"),
        ("service=nope", "service"),
    ] {
        let response = get(&app, &engineer, &format!("/api/v1/deployments?{query}")).await;
        assert_refused(&response, 422, Some(field), query);
    }
}

async fn an_idempotency_key_makes_one_deployment(engine: Engine) {
    let (app, _, engineer) = catalog(engine).await;
    let body = json!({"service": "parts", "environment": "staging", "version": "3.0.0"});
    let send = |key: &str, body: &Value| {
        let mut request = json_request("POST", "/api/v1/deployments", body);
        request
            .headers_mut()
            .insert("idempotency-key", key.parse().expect("header"));
        app.send_as(&engineer, request)
    };
    let first = send("ci-run-41", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(first.headers.get("idempotency-replayed").is_none());
    let repeat = send("ci-run-41", &body).await;
    assert_eq!(repeat.status, 201, "{}", repeat.body);
    assert_eq!(repeat.header("idempotency-replayed"), "true");
    assert_eq!(repeat.json()["id"], first.json()["id"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 1);
    // The same key with another body is a conflict, and writes nothing.
    let other = send(
        "ci-run-41",
        &json!({"service": "parts", "environment": "staging", "version": "3.0.1"}),
    )
    .await;
    assert_refused(&other, 409, Some("Idempotency-Key"), "reused key");
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 1);
    // Member order does not matter; another key makes another deployment.
    let reordered = send(
        "ci-run-41",
        &json!({"version": "3.0.0", "environment": "staging", "service": "parts"}),
    )
    .await;
    assert_eq!(reordered.json()["id"], first.json()["id"]);
    assert_eq!(send("ci-run-42", &body).await.status, 201);
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 2);
    // Keys belong to their caller: another caller's same key is theirs alone.
    let token = Credential::Bearer(app.token("ci", Role::Engineer, "90d").await);
    let mut request = json_request("POST", "/api/v1/deployments", &body);
    request
        .headers_mut()
        .insert("idempotency-key", "ci-run-41".parse().expect("header"));
    let theirs = app.send_as(&token, request).await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.json()["id"], first.json()["id"]);
    // Services and environments take keys too.
    let admin = app.log_in("admin", crate::helpers::TEST_PASSWORD).await;
    for _ in 0..2 {
        let mut request = json_request("POST", "/api/v1/services", &json!({"name": "billing"}));
        request
            .headers_mut()
            .insert("idempotency-key", "setup-1".parse().expect("header"));
        assert_eq!(app.send_as(&admin, request).await.status, 201);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM services WHERE name = 'billing'")
            .await,
        1
    );
    // Keys are swept a day after use; then the same key makes a new deployment.
    let db = &app.app.state().db;
    let now = app::domain::Timestamp::now();
    let kept = app::backend::idempotency::delete_older_than(
        db,
        now.minus(app::backend::idempotency::KEY_LIFETIME),
    )
    .await
    .expect("sweep");
    assert_eq!(kept, 0, "fresh keys stay");
    let swept = app::backend::idempotency::delete_older_than(
        db,
        now.plus(std::time::Duration::from_secs(1)),
    )
    .await
    .expect("sweep");
    assert_eq!(swept, 4);
    assert_eq!(
        send("ci-run-41", &body)
            .await
            .headers
            .get("idempotency-replayed"),
        None
    );
    let mut request = json_request("POST", "/api/v1/services", &json!({"name": "x"}));
    request
        .headers_mut()
        .insert("idempotency-key", "k".repeat(201).parse().expect("header"));
    assert_refused(
        &app.send_as(&admin, request).await,
        422,
        Some("Idempotency-Key"),
        "long key",
    );
}

async fn concurrent_repeats_of_one_key_make_one_row(engine: Engine) {
    let (app, _, engineer) = catalog(engine).await;
    let body = json!({"service": "parts", "environment": "staging", "version": "4.0.0"});
    let sends = (0..20).map(|_| {
        let mut request = json_request("POST", "/api/v1/deployments", &body);
        request
            .headers_mut()
            .insert("idempotency-key", "burst".parse().expect("header"));
        app.send_as(&engineer, request)
    });
    let responses = futures_util::future::join_all(sends).await;
    let ids: Vec<Value> = responses
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()["id"].clone()
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'deployment.recorded'")
            .await,
        1
    );

    // Deployments written together: refused ones in the same burst undo only themselves.
    let reused = |i: usize| {
        let body =
            json!({"service": "parts", "environment": "staging", "version": format!("9.{i}")});
        let mut request = json_request("POST", "/api/v1/deployments", &body);
        request
            .headers_mut()
            .insert("idempotency-key", "burst".parse().expect("header"));
        app.send_as(&engineer, request)
    };
    let fresh = |i: usize| {
        let body =
            json!({"service": "parts", "environment": "staging", "version": format!("5.{i}")});
        app.send_as(
            &engineer,
            json_request("POST", "/api/v1/deployments", &body),
        )
    };
    let (refused, created) = futures_util::future::join(
        futures_util::future::join_all((0..5).map(reused)),
        futures_util::future::join_all((0..15).map(fresh)),
    )
    .await;
    assert!(
        refused.iter().all(|r| r.status == 409),
        "{:?}",
        refused.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(created.iter().all(|r| r.status == 201));
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 16);
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'deployment.recorded'")
            .await,
        16
    );
}

async fn filters_and_cursor_paging_walk_the_history(engine: Engine) {
    let (app, _, engineer) = catalog(engine).await;
    // 30 deployments a minute apart: every third to production, every fifth failed.
    for i in 0..30 {
        let environment = if i % 3 == 0 { "production" } else { "staging" };
        let status = if i % 5 == 0 { "failed" } else { "succeeded" };
        record(
            &app,
            &engineer,
            json!({
                "service": "parts", "environment": environment, "version": format!("1.{i}.0"),
                "commit_sha": format!("{:07x}", 0xabc0000 + i),
                "started_at": format!("2026-11-20T10:{i:02}:00Z"), "status": status,
                "finished_at": format!("2026-11-20T10:{i:02}:30Z"),
            }),
        )
        .await;
    }
    let versions = |page: &Value| -> Vec<String> {
        page["deployments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| d["version"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    // Newest first, 7 at a time, to the end: every row once, in order.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let current = list(&app, &engineer, &format!("limit=7&cursor={cursor}")).await;
        seen.extend(versions(&current));
        match current["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    let expected: Vec<String> = (0..30).rev().map(|i| format!("1.{i}.0")).collect();
    assert_eq!(seen, expected);
    // Each filter narrows.
    assert_eq!(
        versions(&list(&app, &engineer, "environment=production&limit=200").await).len(),
        10
    );
    assert_eq!(
        versions(
            &list(
                &app,
                &engineer,
                "service=parts&environment=production&status=failed"
            )
            .await
        ),
        ["1.15.0", "1.0.0"]
    );
    assert_eq!(
        versions(&list(&app, &engineer, "service=parts&status=failed").await).len(),
        6
    );
    assert_eq!(
        versions(
            &list(
                &app,
                &engineer,
                "from=2026-11-20T10:10:00Z&to=2026-11-20T10:13:00Z"
            )
            .await
        ),
        ["1.12.0", "1.11.0", "1.10.0"]
    );
    assert_eq!(
        versions(&list(&app, &engineer, "q=1.2").await),
        [
            "1.29.0", "1.28.0", "1.27.0", "1.26.0", "1.25.0", "1.24.0", "1.23.0", "1.22.0",
            "1.21.0", "1.20.0", "1.2.0"
        ]
    );
    assert_eq!(
        versions(&list(&app, &engineer, "q=ABC000F").await),
        ["1.15.0"]
    );
    assert_eq!(
        versions(&list(&app, &engineer, "q=1_").await),
        Vec::<String>::new(),
        "LIKE wildcards match literally"
    );
    assert_eq!(
        versions(&list(&app, &engineer, "status=running").await),
        Vec::<String>::new()
    );
    // A deep, filtered page continues exactly where the previous one ended.
    let first = list(&app, &engineer, "environment=production&limit=4").await;
    let second = list(
        &app,
        &engineer,
        &format!(
            "environment=production&limit=4&cursor={}",
            first["next_cursor"].as_str().unwrap_or_default()
        ),
    )
    .await;
    assert_eq!(versions(&second), ["1.15.0", "1.12.0", "1.9.0", "1.6.0"]);
}

async fn a_succeeded_rollback_marks_the_deployment_it_replaced(engine: Engine) {
    let (app, _, engineer) = catalog(engine).await;
    let deploy = |version: &str, minute: u32, extra: Value| {
        let mut body = json!({
            "service": "parts", "environment": "staging", "version": version,
            "started_at": format!("2026-11-20T10:{minute:02}:00Z"), "finished_at": format!("2026-11-20T10:{minute:02}:30Z"),
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    let v1 = record(&app, &engineer, deploy("1.0.0", 0, json!({}))).await;
    let v2 = record(&app, &engineer, deploy("2.0.0", 10, json!({}))).await;
    let rollback = record(
        &app,
        &engineer,
        deploy("1.0.0", 20, json!({"is_rollback": true})),
    )
    .await;
    let (app_ref, engineer_ref) = (&app, &engineer);
    let read = |id: i64| async move {
        get(app_ref, engineer_ref, &format!("/api/v1/deployments/{id}"))
            .await
            .json()
    };
    assert_eq!(read(v2).await["rolled_back_at"], "2026-11-20T10:20:30.000Z");
    assert!(read(v1).await["rolled_back_at"].is_null());
    assert_eq!(read(rollback).await["is_rollback"], true);
    // A running rollback marks the replaced deployment only when it succeeds.
    let v3 = record(&app, &engineer, deploy("3.0.0", 30, json!({}))).await;
    let running = record(&app, &engineer, json!({"service": "parts", "environment": "staging", "version": "1.0.0", "is_rollback": true})).await;
    assert!(read(v3).await["rolled_back_at"].is_null());
    assert_eq!(finish_of(&app, &engineer, running).await.status, 200);
    assert!(read(v3).await["rolled_back_at"].is_string());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'deployment.rolled_back'")
            .await,
        2
    );
}

async fn list_server_functions_take_an_empty_filter(engine: Engine) {
    let (app, admin, engineer) = catalog(engine).await;
    // A browser sends no filter fields at all when every one is empty.
    let list = app
        .send_as(
            &engineer,
            crate::helpers::rpc_request("list_deployments", ""),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let audit = app
        .send_as(&admin, crate::helpers::rpc_request("audit_entries", ""))
        .await;
    assert_eq!(audit.status, 200, "{}", audit.body);
}

async fn the_overview_shows_each_environment_with_its_last_deployment(engine: Engine) {
    let (app, _, engineer) = catalog(engine).await;
    record(&app, &engineer, json!({"service": "parts", "environment": "staging", "version": "1.0.0", "started_at": "2026-11-20T10:00:00Z", "finished_at": "2026-11-20T10:05:00Z"})).await;
    record(
        &app,
        &engineer,
        json!({"service": "parts", "environment": "staging", "version": "1.1.0"}),
    )
    .await;
    let overview = get(&app, &engineer, "/api/v1/overview").await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    let rows = overview.json();
    assert_eq!(rows[0]["environment"]["name"], "production");
    assert!(rows[0]["last"].is_null());
    assert_eq!(rows[0]["running"], 0);
    assert_eq!(rows[1]["environment"]["name"], "staging");
    assert_eq!(rows[1]["last"]["version"], "1.1.0");
    assert_eq!(rows[1]["last"]["status"], "running");
    assert_eq!(rows[1]["running"], 1);
}

/// A page of `GET /api/v1/deployments?{query}`.
async fn list(app: &TestApp, who: &Credential, query: &str) -> Value {
    let path = format!("/api/v1/deployments?{query}");
    let response = get(app, who, &path).await;
    assert_eq!(response.status, 200, "{path}: {}", response.body);
    response.json()
}

async fn admins_change_tiers_slot_addresses_and_descriptions(engine: Engine) {
    let (app, admin, engineer) = catalog(engine).await;
    let patch = |path: &str, body: Value| {
        let request = json_request("PATCH", path, &body);
        let admin = admin.clone();
        let app = &app;
        async move { app.send_as(&admin, request).await }
    };
    let production = "/api/v1/services/parts/environments/production";
    let slots = |blue: &str| json!({"blue": {"upstream": blue, "health_url": format!("{blue}/health")}, "green": {"upstream": "http://10.0.0.2:8080", "health_url": "http://10.0.0.2:8080/health"}});
    let changed = patch(production, json!({"slots": slots("http://10.0.1.1:9090")})).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let state = changed.json();
    assert_eq!(state["slots"][0]["upstream"], "http://10.0.1.1:9090");
    assert_eq!(state["tier"], "production");
    assert_eq!(state["live_slot"], "blue");
    assert_eq!(
        state["revision"], 1,
        "a moved slot makes confirmations stale"
    );
    let audit = "SELECT COUNT(*) FROM audit_log WHERE action = 'environment.updated'";
    assert_eq!(app.count(audit).await, 1);
    // Bad changes are named and change nothing.
    let cases = [
        (production, json!({"tier": "prod"}), 422, Some("tier")),
        (
            production,
            json!({"slots": slots("10.0.1.1")}),
            422,
            Some("slots.blue.upstream"),
        ),
        (
            production,
            json!({"strategy": "rolling"}),
            422,
            Some("strategy"),
        ),
        (
            "/api/v1/services/parts/environments/staging",
            json!({"slots": slots("http://10.0.1.1")}),
            422,
            Some("slots"),
        ),
        (
            "/api/v1/services/parts/environments/qa",
            json!({"tier": "staging"}),
            404,
            None,
        ),
        (
            "/api/v1/services/parts",
            json!({"description": "d".repeat(501)}),
            422,
            Some("description"),
        ),
        (
            "/api/v1/services/nope",
            json!({"description": "x"}),
            404,
            None,
        ),
    ];
    for (path, body, status, field) in cases {
        let label = format!("PATCH {path} {body}");
        assert_refused(&patch(path, body).await, status, field, &label);
    }
    assert_eq!(app.count(audit).await, 1);
    let unchanged = get(&app, &engineer, production).await.json();
    assert_eq!(unchanged["slots"][0]["upstream"], "http://10.0.1.1:9090");
    assert_eq!(unchanged["tier"], "production");
    let staging = patch(
        "/api/v1/services/parts/environments/staging",
        json!({"tier": "development"}),
    )
    .await;
    assert_eq!(staging.json()["tier"], "development");
    let described = patch("/api/v1/services/parts", json!({"owner_team": "Payments"})).await;
    assert_eq!(described.status, 200, "{}", described.body);
    assert_eq!(described.json()["owner_team"], "Payments");
    assert_eq!(described.json()["description"], "The parts API");
    let refused = app
        .send_as(
            &engineer,
            json_request("PATCH", production, &json!({"tier": "staging"})),
        )
        .await;
    assert_eq!(refused.status, 403);
}

async fn recorded_deployments_put_their_version_live_and_say_who_shipped_it(engine: Engine) {
    let (app, _admin, engineer) = catalog(engine).await;
    let production = "/api/v1/services/parts/environments/production";
    let before = get(&app, &engineer, production).await.json();
    assert_eq!(before["live_slot"], "blue");
    assert_eq!(before["live_version"], Value::Null, "nothing recorded yet");
    let revision = before["revision"].as_i64().expect("revision");

    // CI reports what it put on each colour; blue takes the traffic.
    let at = |minute: u32| format!("2026-11-27T10:{minute:02}:00Z");
    let shipped = |version: &str, slot: &str, minute: u32| {
        json!({
            "service": "parts", "environment": "production", "version": version,
            "slot": slot, "status": "succeeded",
            "started_at": at(minute), "finished_at": at(minute + 1),
        })
    };
    let blue = record(&app, &engineer, shipped("2.4.0", "blue", 0)).await;
    record(&app, &engineer, shipped("2.4.2", "green", 10)).await;
    // An older report arriving late changes nothing: green holds the newer 2.4.2.
    record(&app, &engineer, shipped("2.3.9", "green", 5)).await;

    let state = get(&app, &engineer, production).await.json();
    assert_eq!(state["live_version"]["version"], "2.4.0", "{state}");
    assert_eq!(state["live_version"]["slot"], "blue");
    assert_eq!(state["live_version"]["shipped"]["by"], "engineer");
    assert_eq!(state["live_version"]["shipped"]["deployment_id"], blue);
    assert_eq!(
        state["live_version"]["shipped"]["at"],
        "2026-11-27T10:01:00.000Z"
    );
    assert_eq!(state["idle_version"], "2.4.2");
    assert!(
        state["revision"].as_i64().expect("revision") > revision,
        "a changed slot counts in the revision, so a switch confirmed before it is refused"
    );
    // The Overview and the environment page read the same.
    let overview = get(&app, &engineer, "/api/v1/overview").await.json();
    let row = overview
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["environment"]["name"] == "production")
        .expect("production")
        .clone();
    assert_eq!(row["environment"]["live_version"], state["live_version"]);
    assert_eq!(row["environment"]["idle_version"], "2.4.2");

    // A rolling environment: its current version.
    record(
        &app,
        &engineer,
        json!({"service": "parts", "environment": "staging", "version": "2.5.0-rc.1", "status": "succeeded"}),
    )
    .await;
    let staging = get(
        &app,
        &engineer,
        "/api/v1/services/parts/environments/staging",
    )
    .await
    .json();
    assert_eq!(
        staging["live_version"]["version"], "2.5.0-rc.1",
        "{staging}"
    );
    assert_eq!(staging["live_version"]["slot"], Value::Null);

    // A blue-green deployment that names no slot says so on the Overview.
    let unplaced = record(
        &app,
        &engineer,
        json!({"service": "parts", "environment": "production", "version": "2.4.3", "status": "succeeded"}),
    )
    .await;
    let overview = get(&app, &engineer, "/api/v1/overview").await.json();
    let row = overview
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["environment"]["name"] == "production")
        .expect("production")
        .clone();
    assert_eq!(row["unplaced"]["id"], unplaced, "{row}");
    assert_eq!(
        row["environment"]["live_version"]["version"], "2.4.0",
        "an unplaced version is not guessed onto a slot"
    );

    // A deployment that finishes later puts its version in place then.
    let running = record(
        &app,
        &engineer,
        json!({"service": "parts", "environment": "production", "version": "2.5.0", "slot": "green", "status": "running"}),
    )
    .await;
    let finished = post(
        &app,
        &engineer,
        &format!("/api/v1/deployments/{running}/finish"),
        json!({"status": "succeeded"}),
    )
    .await;
    assert_eq!(finished.status, 200, "{}", finished.body);
    let state = get(&app, &engineer, production).await.json();
    assert_eq!(state["idle_version"], "2.5.0", "{state}");
}

async fn a_running_deployment_overtaken_by_a_newer_one_is_superseded(engine: Engine) {
    let (app, _admin, engineer) = catalog(engine).await;
    let deployment = |version: &str, status: &str, minute: u32| {
        let mut body = json!({
            "service": "parts", "environment": "production", "version": version,
            "slot": "green", "status": status,
            "started_at": format!("2026-11-27T11:{minute:02}:00Z"),
        });
        if status != "running" {
            body["finished_at"] = json!(format!("2026-11-27T11:{:02}:00Z", minute + 1));
        }
        body
    };
    let stuck = record(&app, &engineer, deployment("2.4.1", "running", 0)).await;
    async fn overview_running(app: &TestApp, who: &Credential) -> i64 {
        let overview = get(app, who, "/api/v1/overview").await.json();
        overview
            .as_array()
            .expect("rows")
            .iter()
            .find(|row| row["environment"]["name"] == "production")
            .expect("production")["running"]
            .as_i64()
            .expect("running")
    }
    assert_eq!(overview_running(&app, &engineer).await, 1);
    // Another slot's deployment overtakes nothing.
    let mut blue = deployment("2.4.2", "succeeded", 5);
    blue["slot"] = json!("blue");
    record(&app, &engineer, blue).await;
    assert_eq!(overview_running(&app, &engineer).await, 1);
    let newer = record(&app, &engineer, deployment("2.4.2", "succeeded", 10)).await;
    assert_eq!(
        overview_running(&app, &engineer).await,
        0,
        "the stuck one no longer counts as running"
    );
    let stuck_now = get(&app, &engineer, &format!("/api/v1/deployments/{stuck}"))
        .await
        .json();
    assert_eq!(
        stuck_now["status"], "running",
        "the record is kept as it is"
    );
    assert_eq!(stuck_now["superseded_by"], newer);
}

/// Several mistakes in one request are all named, each at its field, in form order.
async fn every_wrong_field_is_named_at_once(engine: Engine) {
    let (app, admin, engineer) = catalog(engine).await;
    let listed = |response: &TestResponse| -> Vec<String> {
        response.json()["error"]["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("fields: {}", response.body))
            .iter()
            .map(|f| f["field"].as_str().expect("field").to_owned())
            .collect()
    };
    let before = app.count("SELECT COUNT(*) FROM deployments").await;
    let deployment = post(
        &app,
        &engineer,
        "/api/v1/deployments",
        json!({"service": "parts", "environment": "", "version": "", "commit_sha": "zzz"}),
    )
    .await;
    assert_refused(&deployment, 422, Some("environment"), "deployment");
    assert_eq!(
        listed(&deployment),
        ["environment", "version", "commit_sha"]
    );
    assert_eq!(
        deployment.json()["error"]["fields"][0]["message"],
        "Choose the environment it reached."
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, before);

    let environments = app.count("SELECT COUNT(*) FROM environments").await;
    let environment = post(
        &app,
        &admin,
        "/api/v1/services/parts/environments",
        json!({
            "name": "Bad Name", "tier": "production", "strategy": "blue_green",
            "slots": {
                "blue": {"upstream": "ftp://x", "health_url": "http://10.0.0.1/health"},
                "green": {"upstream": "http://10.0.0.2", "health_url": "nope"},
            }
        }),
    )
    .await;
    assert_refused(&environment, 422, Some("name"), "environment");
    assert_eq!(
        listed(&environment),
        ["name", "slots.blue.upstream", "slots.green.health_url"]
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM environments").await,
        environments
    );
}

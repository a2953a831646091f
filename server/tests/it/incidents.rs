//! Incidents on both engines: operations reaching the timelines of open incidents in their
//! environment only, the rollback pressed from an incident linked as its fix, cause and fix
//! links, the lifecycle, importing past incidents, the stale post-mortem save, action items
//! overdue first; and bad input that writes nothing.

use std::time::Duration;

use app::{
    backend::operations::settings::{
        CommandDriver, Driver, EnvironmentSettings, HealthSettings, OperationSettings,
    },
    domain::Role,
};
use axum::{routing::get, Router};
use serde_json::{json, Value};

use crate::{
    helpers::{json_request, Credential, Engine, TestApp},
    on_both_engines,
};

on_both_engines!(
    operations_reach_the_timelines_of_open_incidents_of_their_environment_only,
    cause_and_fix_links_are_checked_and_suggestions_are_the_day_before,
    the_lifecycle_refuses_illegal_moves_and_stamps_each_change,
    a_past_incident_imports_whole_and_bad_times_write_nothing,
    a_stale_postmortem_save_gets_the_other_text_and_published_is_read_only,
    action_items_list_overdue_first_and_refuse_unknown_owners,
    notes_are_edited_by_their_author_only_and_keep_their_history,
);

/// Health endpoints for both slots, answering 200.
async fn upstreams() -> String {
    let router = Router::new()
        .route("/blue/health", get(|| async { "ok" }))
        .route("/green/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// Service `shop` with a blue-green `staging` run by a driver that succeeds (1.0.0 live on
/// blue) and a `production` without a driver.
async fn app(engine: Engine) -> (TestApp, Credential) {
    let url = upstreams().await;
    let settings = EnvironmentSettings {
        service: "shop".into(),
        environment: "staging".into(),
        driver: Driver::Command(CommandDriver {
            program: "true".into(),
            args: vec![],
            env: vec![],
            timeout: Duration::from_secs(10),
        }),
        health: HealthSettings {
            interval: Duration::from_millis(20),
            verify_for: Duration::from_millis(100),
            healthy_within: Duration::from_secs(2),
            timeout: Duration::from_secs(2),
            ..HealthSettings::default()
        },
        canary: Default::default(),
    };
    let app = TestApp::with_config(engine, |config| {
        config.operations = OperationSettings {
            environments: vec![settings],
        };
    })
    .await;
    let admin = app.logged_in(Role::Admin).await;
    let slot = |color: &str| json!({"upstream": format!("{url}/{color}"), "health_url": format!("{url}/{color}/health")});
    for (path, body) in [
        ("/api/v1/services", json!({"name": "shop"})),
        ("/api/v1/services", json!({"name": "other"})),
        (
            "/api/v1/services/shop/environments",
            json!({"name": "staging", "tier": "staging", "strategy": "blue_green", "slots": {"blue": slot("blue"), "green": slot("green")}}),
        ),
        (
            "/api/v1/services/shop/environments",
            json!({"name": "production", "tier": "production", "strategy": "rolling"}),
        ),
        (
            "/api/v1/services/other/environments",
            json!({"name": "staging", "tier": "staging", "strategy": "rolling"}),
        ),
        (
            "/api/v1/deployments",
            json!({"service": "shop", "environment": "staging", "version": "1.0.0", "slot": "blue", "status": "succeeded"}),
        ),
    ] {
        let response = app.send_as(&admin, json_request("POST", path, &body)).await;
        assert_eq!(response.status, 201, "{path}: {}", response.body);
    }
    (app, admin)
}

async fn call(
    app: &TestApp,
    who: &Credential,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let response = app.send_as(who, json_request(method, path, &body)).await;
    let json = if response.body.is_empty() {
        Value::Null
    } else {
        response.json()
    };
    (response.status.as_u16(), json)
}

/// Declares a SEV2 in `environment` of shop; returns its id.
async fn declare(app: &TestApp, who: &Credential, environment: &str, extra: Value) -> i64 {
    let mut body = json!({"title": "Checkout returns 502", "service": "shop", "environment": environment, "severity": "SEV2"});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, incident) = call(app, who, "POST", "/api/v1/incidents", body).await;
    assert_eq!(status, 201, "{incident}");
    incident["id"].as_i64().expect("id")
}

async fn incident(app: &TestApp, who: &Credential, id: i64) -> Value {
    let (status, incident) = call(
        app,
        who,
        "GET",
        &format!("/api/v1/incidents/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{incident}");
    incident
}

/// The texts of incident `id`'s timeline entries of `kind`.
async fn entries(app: &TestApp, who: &Credential, id: i64, kind: &str) -> Vec<String> {
    incident(app, who, id).await["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| e["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn revision(app: &TestApp, who: &Credential) -> i64 {
    call(
        app,
        who,
        "GET",
        "/api/v1/services/shop/environments/staging",
        Value::Null,
    )
    .await
    .1["revision"]
        .as_i64()
        .expect("revision")
}

async fn finished(app: &TestApp, who: &Credential, id: i64) -> Value {
    for _ in 0..1000 {
        let (_, operation) = call(
            app,
            who,
            "GET",
            &format!("/api/v1/operations/{id}"),
            Value::Null,
        )
        .await;
        if operation["status"] != "running" {
            return operation;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("operation {id} did not end");
}

/// Waits until incident `id` has `n` operation entries (they are written as events arrive).
async fn operation_entries(app: &TestApp, who: &Credential, id: i64, n: usize) -> Vec<String> {
    for _ in 0..500 {
        let found = entries(app, who, id, "operation").await;
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    entries(app, who, id, "operation").await
}

async fn operations_reach_the_timelines_of_open_incidents_of_their_environment_only(
    engine: Engine,
) {
    let (app, admin) = app(engine).await;
    let open = declare(&app, &admin, "staging", json!({})).await;
    let resolved = declare(
        &app,
        &admin,
        "staging",
        json!({"status": "resolved", "started_at": "2026-01-01T10:00:00Z", "resolved_at": "2026-01-01T11:00:00Z"}),
    )
    .await;
    let elsewhere = declare(&app, &admin, "production", json!({})).await;

    // A deploy to idle, then a switch: each starts and ends in the open incident's timeline.
    let (status, deploy) = call(
        &app,
        &admin,
        "POST",
        "/api/v1/services/shop/environments/staging/operations",
        json!({"action": "deploy", "version": "1.1.0", "expected_revision": revision(&app, &admin).await}),
    )
    .await;
    assert_eq!(status, 202, "{deploy}");
    finished(&app, &admin, deploy["id"].as_i64().expect("id")).await;
    let (status, switch) = call(
        &app,
        &admin,
        "POST",
        "/api/v1/services/shop/environments/staging/operations",
        json!({"action": "switch", "expected_revision": revision(&app, &admin).await}),
    )
    .await;
    assert_eq!(status, 202, "{switch}");
    finished(&app, &admin, switch["id"].as_i64().expect("id")).await;
    let lines = operation_entries(&app, &admin, open, 4).await;
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].contains("started a deploy of 1.1.0"), "{lines:?}");
    assert!(
        lines[1].contains("deploy of 1.1.0") && lines[1].contains("succeeded"),
        "{lines:?}"
    );
    assert!(lines[2].contains("started a switch"), "{lines:?}");

    // The rollback pressed from the incident is linked as its fix and lands in the timeline.
    let (status, rollback) = call(
        &app,
        &admin,
        "POST",
        &format!("/api/v1/incidents/{open}/rollback"),
        json!({"expected_revision": revision(&app, &admin).await}),
    )
    .await;
    assert_eq!(status, 202, "{rollback}");
    let operation = finished(&app, &admin, rollback["id"].as_i64().expect("id")).await;
    assert_eq!(operation["status"], "succeeded", "{operation}");
    let lines = operation_entries(&app, &admin, open, 6).await;
    assert!(
        lines[4].contains("started a rollback to 1.0.0"),
        "{lines:?}"
    );
    assert!(lines[5].contains("succeeded"), "{lines:?}");
    let seen = incident(&app, &admin, open).await;
    let fix = &seen["links"][0];
    assert_eq!(fix["kind"], "fix", "{seen}");
    assert_eq!(fix["deployment_id"], operation["deployment_id"]);
    assert_eq!(fix["is_rollback"], true);
    // The rollback's steps are shown once a rollback ran.
    assert_eq!(seen["checklists"][1]["kind"], "rollback", "{seen}");

    // Neither the resolved incident nor the other environment's heard of any of it.
    assert!(entries(&app, &admin, resolved, "operation")
        .await
        .is_empty());
    assert!(entries(&app, &admin, elsewhere, "operation")
        .await
        .is_empty());
    // Each line is written once, however many events its operation sent.
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM incident_timeline WHERE incident_id = {open} AND kind = 'operation'"))
            .await,
        6
    );
}

async fn cause_and_fix_links_are_checked_and_suggestions_are_the_day_before(engine: Engine) {
    let (app, admin) = app(engine).await;
    let engineer = app.logged_in(Role::Engineer).await;
    let record = |environment: &'static str,
                  service: &'static str,
                  version: &'static str,
                  finished: &'static str| {
        json!({"service": service, "environment": environment, "version": version, "status": "succeeded",
               "started_at": finished, "finished_at": finished})
    };
    let mut ids = Vec::new();
    for body in [
        record("production", "shop", "2.0.0", "2026-03-01T09:00:00Z"),
        record("production", "shop", "2.0.1", "2026-03-02T08:00:00Z"),
        record("production", "shop", "2.0.2", "2026-03-02T11:30:00Z"),
        record("production", "shop", "2.0.3", "2026-03-02T12:30:00Z"),
        record("staging", "other", "9.0.0", "2026-03-02T11:00:00Z"),
    ] {
        let (status, d) = call(&app, &admin, "POST", "/api/v1/deployments", body).await;
        assert_eq!(status, 201, "{d}");
        ids.push(d["id"].as_i64().expect("id"));
    }
    let id = declare(
        &app,
        &engineer,
        "production",
        json!({"started_at": "2026-03-02T12:00:00Z"}),
    )
    .await;
    let (status, suggested) = call(
        &app,
        &engineer,
        "GET",
        &format!("/api/v1/incidents/{id}/suggested-causes"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let versions: Vec<&str> = suggested
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["version"].as_str().unwrap_or_default())
        .collect();
    // The 24 hours before the start, newest first: not 2.0.0 (27 h before), not 2.0.3 (after).
    assert_eq!(versions, ["2.0.2", "2.0.1"]);

    let link = |deployment: i64, kind: &str| json!({"deployment_id": deployment, "kind": kind});
    let path = format!("/api/v1/incidents/{id}/links");
    let (status, linked) = call(&app, &engineer, "POST", &path, link(ids[2], "cause")).await;
    assert_eq!(status, 201, "{linked}");
    let (status, _) = call(&app, &engineer, "POST", &path, link(ids[1], "cause")).await;
    assert_eq!(status, 201, "several causes are allowed");
    let (status, _) = call(&app, &engineer, "POST", &path, link(ids[3], "fix")).await;
    assert_eq!(status, 201);
    let links_before = app.count("SELECT COUNT(*) FROM incident_links").await;
    for (body, expected, field) in [
        (link(ids[2], "cause"), 409, "deployment_id"),
        (link(ids[4], "cause"), 422, "deployment_id"),
        (link(999_999, "fix"), 422, "deployment_id"),
        (link(ids[0], "blame"), 422, "kind"),
    ] {
        let (status, refusal) = call(&app, &engineer, "POST", &path, body.clone()).await;
        assert_eq!(status, expected, "{body}: {refusal}");
        assert_eq!(refusal["error"]["field"], field, "{refusal}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM incident_links").await,
        links_before
    );
    let viewer = app.logged_in(Role::Viewer).await;
    let (status, _) = call(&app, &viewer, "POST", &path, link(ids[0], "cause")).await;
    assert_eq!(status, 403);

    let (status, after) = call(&app, &engineer, "DELETE", &path, link(ids[1], "cause")).await;
    assert_eq!(status, 200, "{after}");
    let kinds: Vec<(i64, &str)> = after["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| {
            (
                l["deployment_id"].as_i64().unwrap_or_default(),
                l["kind"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(kinds, [(ids[2], "cause"), (ids[3], "fix")]);
    let (status, _) = call(&app, &engineer, "DELETE", &path, link(ids[1], "cause")).await;
    assert_eq!(status, 404);
    assert_eq!(entries(&app, &engineer, id, "link").await.len(), 4);

    // Causes ticked while declaring are linked at once; one from elsewhere refuses it all.
    let incidents = app.count("SELECT COUNT(*) FROM incidents").await;
    let (status, refusal) = call(
        &app,
        &engineer,
        "POST",
        "/api/v1/incidents",
        json!({"title": "x", "service": "shop", "environment": "production", "severity": "SEV3", "causes": [ids[2], ids[4]]}),
    )
    .await;
    assert_eq!(status, 422, "{refusal}");
    assert_eq!(refusal["error"]["field"], "deployment_id");
    assert_eq!(app.count("SELECT COUNT(*) FROM incidents").await, incidents);
    // The declare form sends its ticked boxes as causes[i], browsers percent-encoding the
    // brackets; the boxes left unticked leave gaps.
    let form = format!(
        "title=Slow+search&service=shop&environment=production&severity=SEV3&causes%5B1%5D={}&causes%5B3%5D={}",
        ids[1], ids[2]
    );
    let response = app
        .send_as(
            &engineer,
            crate::helpers::rpc_request("declare_incident", &form),
        )
        .await;
    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{}",
        response.body
    );
    let (_, list) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/incidents?severity=SEV3",
        Value::Null,
    )
    .await;
    let declared = list[0]["id"].as_i64().expect("declared");
    let causes: Vec<i64> = incident(&app, &engineer, declared).await["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| l["deployment_id"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(causes, [ids[1], ids[2]]);
}

async fn the_lifecycle_refuses_illegal_moves_and_stamps_each_change(engine: Engine) {
    let (app, _) = app(engine).await;
    let engineer = app.logged_in(Role::Engineer).await;
    let id = declare(&app, &engineer, "production", json!({})).await;
    let path = format!("/api/v1/incidents/{id}");
    let patch = |body: Value| {
        let (app, engineer, path) = (&app, &engineer, path.clone());
        async move { call(app, engineer, "PATCH", &path, body).await }
    };
    let (status, refusal) = patch(json!({"status": "resolved"})).await;
    assert_eq!(status, 422, "{refusal}");
    assert_eq!(refusal["error"]["field"], "status");
    assert!(refusal["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("may go to identified"));
    for (body, field) in [
        (json!({"status": "closed"}), "status"),
        (json!({"severity": "SEV9"}), "severity"),
        (json!({"commander": "nobody"}), "commander"),
        (
            json!({"detected_at": "2020-01-01T00:00:00Z"}),
            "detected_at",
        ),
        (json!({}), "incident"),
    ] {
        let (status, refusal) = patch(body.clone()).await;
        assert_eq!(status, 422, "{body}: {refusal}");
        assert_eq!(refusal["error"]["field"], field, "{body}: {refusal}");
    }
    for status in [
        "identified",
        "monitoring",
        "investigating",
        "identified",
        "monitoring",
    ] {
        let (code, answer) = patch(json!({"status": status})).await;
        assert_eq!(code, 200, "{status}: {answer}");
    }
    let (status, refusal) =
        patch(json!({"status": "resolved", "resolved_at": "2999-01-01T00:00:00Z"})).await;
    assert_eq!(status, 422, "{refusal}");
    assert_eq!(refusal["error"]["field"], "resolved_at");
    let (status, resolved) = patch(json!({"status": "resolved", "severity": "SEV1"})).await;
    assert_eq!(status, 200, "{resolved}");
    assert!(resolved["resolved_at"].is_string());
    assert_eq!(
        resolved["postmortem_due"], true,
        "a resolved SEV1 needs a post-mortem"
    );
    let (_, due) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/incidents?postmortem_due=true",
        Value::Null,
    )
    .await;
    assert_eq!(due.as_array().map(Vec::len), Some(1), "{due}");
    let (status, reopened) = patch(json!({"status": "investigating"})).await;
    assert_eq!(status, 200);
    assert!(reopened["resolved_at"].is_null());
    let lines = entries(&app, &engineer, id, "status").await;
    assert_eq!(lines.len(), 7, "{lines:?}");
    assert!(lines[5].starts_with("Resolved at"), "{lines:?}");
    assert_eq!(lines[6], "Reopened: investigating again.");
    assert_eq!(
        entries(&app, &engineer, id, "severity").await,
        ["Severity SEV2 → SEV1."]
    );
    let (_, open) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/incidents?status=open&severity=SEV1",
        Value::Null,
    )
    .await;
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    let (status, _) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/incidents?severity=SEV7",
        Value::Null,
    )
    .await;
    assert_eq!(status, 422);
}

async fn a_past_incident_imports_whole_and_bad_times_write_nothing(engine: Engine) {
    let (app, _) = app(engine).await;
    let token = Credential::Bearer(app.token("importer", Role::Engineer, "").await);
    let id = declare(
        &app,
        &token,
        "production",
        json!({"status": "resolved", "started_at": "2026-02-01T10:00:00Z", "detected_at": "2026-02-01T10:10:00Z", "resolved_at": "2026-02-01T12:00:00Z", "severity": "SEV3"}),
    )
    .await;
    let imported = incident(&app, &token, id).await;
    assert_eq!(imported["status"], "resolved");
    assert_eq!(imported["started_at"], "2026-02-01T10:00:00.000Z");
    assert_eq!(imported["detected_at"], "2026-02-01T10:10:00.000Z");
    assert_eq!(imported["resolved_at"], "2026-02-01T12:00:00.000Z");
    assert_eq!(imported["postmortem_due"], false, "SEV3 needs none");
    let before = app.count("SELECT COUNT(*) FROM incidents").await;
    let entries_before = app.count("SELECT COUNT(*) FROM incident_timeline").await;
    let base =
        json!({"title": "x", "service": "shop", "environment": "production", "severity": "SEV2"});
    for (extra, fields) in [
        (
            json!({"status": "resolved", "started_at": "2026-02-01T10:00:00Z", "resolved_at": "2026-01-01T10:00:00Z"}),
            vec!["resolved_at"],
        ),
        (
            json!({"started_at": "2026-02-01T10:00:00Z", "detected_at": "2026-02-01T09:00:00Z"}),
            vec!["detected_at"],
        ),
        (
            json!({"started_at": "2999-01-01T00:00:00Z"}),
            vec!["started_at", "detected_at"],
        ),
        (
            json!({"severity": "SEV0", "status": "open"}),
            vec!["severity", "status"],
        ),
        (json!({"title": " ", "commander": "ghost"}), vec!["title"]),
        (json!({"environment": "nowhere"}), vec![]),
    ] {
        let mut body = base.clone();
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let (status, refusal) = call(&app, &token, "POST", "/api/v1/incidents", body.clone()).await;
        assert!(matches!(status, 404 | 422), "{body}: {status} {refusal}");
        let named: Vec<&str> = match refusal["error"]["fields"].as_array() {
            Some(fields) => fields.iter().filter_map(|f| f["field"].as_str()).collect(),
            None => refusal["error"]["field"].as_str().into_iter().collect(),
        };
        assert_eq!(named, fields, "{body}: {refusal}");
    }
    // A commander who does not exist, or is deactivated, is refused by name.
    app.create_user("gone", Role::Engineer).await;
    app.execute("UPDATE users SET active = FALSE WHERE username = 'gone'")
        .await
        .expect("deactivate");
    for commander in ["ghost", "gone"] {
        let mut body = base.clone();
        body["commander"] = json!(commander);
        let (status, refusal) = call(&app, &token, "POST", "/api/v1/incidents", body).await;
        assert_eq!(status, 422, "{refusal}");
        assert_eq!(refusal["error"]["field"], "commander");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM incidents").await, before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM incident_timeline").await,
        entries_before
    );
}

async fn a_stale_postmortem_save_gets_the_other_text_and_published_is_read_only(engine: Engine) {
    let (app, _) = app(engine).await;
    let ada = app.logged_in(Role::Engineer).await;
    app.create_user("bob", Role::Engineer).await;
    let bob = app.log_in("bob", crate::helpers::TEST_PASSWORD).await;
    let id = declare(&app, &ada, "production", json!({})).await;
    let path = format!("/api/v1/incidents/{id}/postmortem");
    let (status, template) = call(&app, &ada, "GET", &path, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(template["version"], 0);
    assert!(
        template["markdown"]
            .as_str()
            .unwrap_or_default()
            .contains("Declared by"),
        "{template}"
    );

    let (status, first) = call(
        &app,
        &ada,
        "PUT",
        &path,
        json!({"markdown": "## Summary\n\nAda's text", "base_version": 0}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["version"], 1);
    assert!(
        first["html"]
            .as_str()
            .unwrap_or_default()
            .starts_with("<h2>Summary</h2>"),
        "{first}"
    );
    // Bob edited the template too and saves from version 0: refused, with Ada's text.
    let (status, conflict) = call(
        &app,
        &bob,
        "PUT",
        &path,
        json!({"markdown": "Bob's text", "base_version": 0}),
    )
    .await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["error"]["code"], "edit_conflict");
    assert_eq!(conflict["error"]["current"]["version"], 1);
    assert_eq!(
        conflict["error"]["current"]["markdown"],
        "## Summary\n\nAda's text"
    );
    let (status, _) = call(
        &app,
        &bob,
        "PUT",
        &path,
        json!({"markdown": "Bob's", "base_version": 7}),
    )
    .await;
    assert_eq!(status, 409);
    // Merged by hand, saved over version 1.
    let (status, merged) = call(&app, &bob, "PUT", &path, json!({"markdown": "Ada's text\n\nBob's text <script>alert(1)</script>", "base_version": 1})).await;
    assert_eq!(status, 200, "{merged}");
    assert_eq!(merged["version"], 2);
    assert!(
        !merged["html"]
            .as_str()
            .unwrap_or_default()
            .contains("<script"),
        "{merged}"
    );

    for (body, field) in [
        (
            json!({"markdown": "x".repeat(256 * 1024 + 1), "base_version": 2}),
            "markdown",
        ),
        (
            json!({"markdown": "x", "base_version": 2, "title": " "}),
            "title",
        ),
        (json!({"markdown": "  ", "base_version": 2}), "markdown"),
    ] {
        let (status, refusal) = call(&app, &ada, "PUT", &path, body).await;
        assert_eq!(status, 422, "{refusal}");
        assert_eq!(refusal["error"]["field"], field);
    }
    let status_path = format!("{path}/status");
    let (status, refusal) = call(
        &app,
        &ada,
        "POST",
        &status_path,
        json!({"status": "published"}),
    )
    .await;
    assert_eq!(status, 422, "draft cannot skip review: {refusal}");
    for step in ["in_review", "published"] {
        let (status, answer) =
            call(&app, &ada, "POST", &status_path, json!({"status": step})).await;
        assert_eq!(status, 200, "{step}: {answer}");
    }
    let (status, refusal) = call(
        &app,
        &ada,
        "PUT",
        &path,
        json!({"markdown": "late edit", "base_version": 2}),
    )
    .await;
    assert_eq!(status, 409, "{refusal}");
    assert_eq!(refusal["error"]["field"], "status");
    let (_, published) = call(&app, &ada, "GET", &path, Value::Null).await;
    assert_eq!(published["version"], 2);
    assert_eq!(published["status"], "published");
    assert!(published["published_at"].is_string());
}

async fn action_items_list_overdue_first_and_refuse_unknown_owners(engine: Engine) {
    let (app, _) = app(engine).await;
    let engineer = app.logged_in(Role::Engineer).await;
    let owner = app.create_user("owner", Role::Engineer).await;
    let id = declare(&app, &engineer, "production", json!({})).await;
    let add = |title: &str, owner: &str, due: &str| json!({"incident_id": id, "title": title, "owner": owner, "due": due});
    let mut ids = Vec::new();
    for body in [
        add("later", "owner", "2999-01-01"),
        add("long overdue", "owner", "2020-01-01"),
        add("overdue", &owner.username, "2024-06-01"),
        add("soon", "owner", "2998-01-01"),
    ] {
        let (status, item) = call(&app, &engineer, "POST", "/api/v1/action-items", body).await;
        assert_eq!(status, 201, "{item}");
        ids.push(item["id"].as_i64().expect("id"));
    }
    let before = app.count("SELECT COUNT(*) FROM action_items").await;
    app.create_user("left", Role::Engineer).await;
    app.execute("UPDATE users SET active = FALSE WHERE username = 'left'")
        .await
        .expect("deactivate");
    for (body, field) in [
        (add("x", "ghost", "2030-01-01"), "owner"),
        (add("x", "left", "2030-01-01"), "owner"),
        (add("x", "owner", "tomorrow"), "due"),
        (add(" ", "owner", "2030-01-01"), "title"),
        (
            json!({"incident_id": 999_999, "title": "x", "owner": "owner", "due": "2030-01-01"}),
            "incident_id",
        ),
    ] {
        let (status, refusal) = call(
            &app,
            &engineer,
            "POST",
            "/api/v1/action-items",
            body.clone(),
        )
        .await;
        assert_eq!(status, 422, "{body}: {refusal}");
        assert_eq!(refusal["error"]["field"], field, "{refusal}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM action_items").await, before);

    let titles = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("list")
            .iter()
            .map(|i| i["title"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let (_, all) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/action-items?status=open",
        Value::Null,
    )
    .await;
    assert_eq!(titles(&all), ["long overdue", "overdue", "soon", "later"]);
    assert_eq!(all[0]["overdue"], true);
    assert_eq!(all[2]["overdue"], false);
    let (_, overdue) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/action-items?overdue=true",
        Value::Null,
    )
    .await;
    assert_eq!(titles(&overdue), ["long overdue", "overdue"]);
    let (status, done) = call(
        &app,
        &engineer,
        "PATCH",
        &format!("/api/v1/action-items/{}", ids[1]),
        json!({"status": "done"}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["overdue"], false);
    let (_, overdue) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/action-items?overdue=true",
        Value::Null,
    )
    .await;
    assert_eq!(titles(&overdue), ["overdue"]);
    let owner_session = app.log_in("owner", crate::helpers::TEST_PASSWORD).await;
    let (_, mine) = call(
        &app,
        &owner_session,
        "GET",
        "/api/v1/action-items?owner=me&status=open",
        Value::Null,
    )
    .await;
    assert_eq!(titles(&mine), ["overdue", "soon", "later"]);

    // Published: only the status of an action item may change.
    let path = format!("/api/v1/incidents/{id}/postmortem");
    call(
        &app,
        &engineer,
        "PUT",
        &path,
        json!({"markdown": "x", "base_version": 0}),
    )
    .await;
    for step in ["in_review", "published"] {
        call(
            &app,
            &engineer,
            "POST",
            &format!("{path}/status"),
            json!({"status": step}),
        )
        .await;
    }
    let item = format!("/api/v1/action-items/{}", ids[0]);
    let (status, _) = call(&app, &engineer, "PATCH", &item, json!({"title": "renamed"})).await;
    assert_eq!(status, 409);
    let (status, _) = call(
        &app,
        &engineer,
        "PATCH",
        &item,
        json!({"status": "wont_do"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        &engineer,
        "PATCH",
        &item,
        json!({"status": "finished"}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, refusal) = call(
        &app,
        &engineer,
        "POST",
        "/api/v1/action-items",
        add("late", "owner", "2030-01-01"),
    )
    .await;
    assert_eq!(status, 409, "{refusal}");
    assert_eq!(refusal["error"]["field"], "incident_id");
}

async fn notes_are_edited_by_their_author_only_and_keep_their_history(engine: Engine) {
    let (app, _) = app(engine).await;
    let ada = app.logged_in(Role::Engineer).await;
    app.create_user("bob", Role::Engineer).await;
    let bob = app.log_in("bob", crate::helpers::TEST_PASSWORD).await;
    let id = declare(&app, &ada, "production", json!({})).await;
    let path = format!("/api/v1/incidents/{id}/timeline");
    let (status, answer) = call(
        &app,
        &ada,
        "POST",
        &path,
        json!({"text": "Error rate at 40%"}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let note = answer["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|e| e["kind"] == "note")
        .cloned()
        .expect("a note");
    assert_eq!(note["may_edit"], true);
    let entry = format!("{path}/{}", note["id"]);
    let (status, _) = call(&app, &bob, "PATCH", &entry, json!({"text": "Bob's words"})).await;
    assert_eq!(status, 403);
    let (status, edited) = call(
        &app,
        &ada,
        "PATCH",
        &entry,
        json!({"text": "Error rate at 45%"}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    let note = edited["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|e| e["kind"] == "note")
        .cloned()
        .expect("a note");
    assert_eq!(note["text"], "Error rate at 45%");
    assert_eq!(note["edits"][0][0], "Error rate at 40%");
    for body in [
        json!({"text": " "}),
        json!({"text": "x", "at": "2999-01-01T00:00:00Z"}),
    ] {
        let (status, _) = call(&app, &ada, "POST", &path, body).await;
        assert_eq!(status, 422);
    }
    // A declaration is Switchyard's line, not a note: nobody edits it.
    let declared = edited["timeline"][0]["id"].as_i64().expect("id");
    let (status, _) = call(
        &app,
        &ada,
        "PATCH",
        &format!("{path}/{declared}"),
        json!({"text": "x"}),
    )
    .await;
    assert_eq!(status, 403);
}

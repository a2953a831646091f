//! CI webhooks with real HMAC signatures: GitHub `deployment_status` events and the generic
//! shape; wrong signatures store nothing.

use app::{
    backend::deployments::webhooks::{secret_setting, sign},
    domain::Role,
};
use axum::{body::Body, http::Request};
use serde_json::{json, Value};

use crate::{
    helpers::{json_request, rpc_request, Engine, TestApp, TestResponse},
    on_both_engines,
};

on_both_engines!(
    github_events_record_and_finish_one_deployment,
    a_wrong_signature_is_refused_and_stores_nothing,
    generic_events_record_and_finish_by_their_id,
    push_events_give_deployments_their_commit_time_early_or_late,
    unknown_github_environments_are_listed_then_mapped_or_ignored,
    a_version_with_shell_metacharacters_is_refused_at_every_entry,
);

const GITHUB_SECRET: &str = "gh-secret-for-tests";
const GENERIC_SECRET: &str = "generic-secret-for-tests";

/// An app with both webhooks on, GitHub's `acme/parts-api` mapped to `parts` and `prod` to
/// `production`, and that service and environment set up.
async fn app(engine: Engine) -> TestApp {
    let app = TestApp::with_config(engine, |config| {
        config.webhooks.github_secret = secret_setting(GITHUB_SECRET);
        config.webhooks.generic_secret = secret_setting(GENERIC_SECRET);
        config.webhooks.github_mapping.services = vec![("acme/parts-api".into(), "parts".into())];
        config.webhooks.github_mapping.environments = vec![("prod".into(), "production".into())];
    })
    .await;
    let admin = app.logged_in(Role::Admin).await;
    for (path, body) in [
        ("/api/v1/services", json!({"name": "parts"})),
        (
            "/api/v1/services/parts/environments",
            json!({"name": "production", "tier": "production", "strategy": "rolling"}),
        ),
    ] {
        assert_eq!(
            app.send_as(&admin, json_request("POST", path, &body))
                .await
                .status,
            201
        );
    }
    app
}

fn github_event(state: &str, repository: &str) -> Value {
    json!({
        "action": "created",
        "deployment_status": {"state": state, "environment": "prod", "target_url": "https://github.com/acme/parts-api/actions/runs/9", "created_at": "2026-11-20T10:06:00Z"},
        "deployment": {"id": 4242, "sha": "0123456789abcdef0123456789abcdef01234567", "ref": "v2.4.1", "environment": "prod", "created_at": "2026-11-20T10:00:00Z", "payload": {}},
        "repository": {"full_name": repository}
    })
}

/// A webhook delivery signed with `secret` (or unsigned).
async fn deliver(
    app: &TestApp,
    path: &str,
    event: &str,
    body: &Value,
    secret: Option<&str>,
    header: &str,
) -> TestResponse {
    let bytes = body.to_string();
    let mut request = Request::post(path)
        .header("content-type", "application/json")
        .header("x-github-event", event);
    if let Some(secret) = secret.and_then(secret_setting) {
        request = request.header(header, sign(&secret, bytes.as_bytes()));
    }
    app.send(request.body(Body::from(bytes)).expect("request"))
        .await
}

async fn github(app: &TestApp, event: &str, body: &Value, secret: Option<&str>) -> TestResponse {
    deliver(
        app,
        "/api/v1/webhooks/github",
        event,
        body,
        secret,
        "x-hub-signature-256",
    )
    .await
}

async fn github_events_record_and_finish_one_deployment(engine: Engine) {
    let app = app(engine).await;
    assert_eq!(
        github(&app, "ping", &json!({"zen": "hi"}), Some(GITHUB_SECRET))
            .await
            .status,
        200
    );
    let issue = github(&app, "issues", &json!({}), Some(GITHUB_SECRET)).await;
    assert_eq!(issue.status, 202, "{}", issue.body);
    let queued = github(
        &app,
        "deployment_status",
        &github_event("queued", "acme/parts-api"),
        Some(GITHUB_SECRET),
    )
    .await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 0);

    let started = github(
        &app,
        "deployment_status",
        &github_event("in_progress", "acme/parts-api"),
        Some(GITHUB_SECRET),
    )
    .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let running = started.json();
    assert_eq!(running["service"], "parts");
    assert_eq!(running["environment"], "production");
    assert_eq!(running["version"], "v2.4.1");
    assert_eq!(running["status"], "running");
    assert_eq!(running["source"], "webhook");
    assert_eq!(
        running["recorded_by"],
        json!({"kind": "system", "name": "webhook:github"})
    );

    let done = github(
        &app,
        "deployment_status",
        &github_event("success", "acme/parts-api"),
        Some(GITHUB_SECRET),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["id"], running["id"]);
    assert_eq!(done.json()["status"], "succeeded");
    assert_eq!(done.json()["finished_at"], "2026-11-20T10:06:00.000Z");
    // A redelivery, and a late in_progress, change nothing.
    for state in ["success", "in_progress"] {
        let again = github(
            &app,
            "deployment_status",
            &github_event(state, "acme/parts-api"),
            Some(GITHUB_SECRET),
        )
        .await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(again.json()["status"], "succeeded");
    }
    let flipped = github(
        &app,
        "deployment_status",
        &github_event("failure", "acme/parts-api"),
        Some(GITHUB_SECRET),
    )
    .await;
    assert_eq!(flipped.status, 409, "{}", flipped.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE actor = 'webhook:github'")
            .await,
        2
    );
}

async fn a_wrong_signature_is_refused_and_stores_nothing(engine: Engine) {
    let app = app(engine).await;
    let body = github_event("success", "acme/parts-api");
    for secret in [None, Some("not-the-secret")] {
        let refused = github(&app, "deployment_status", &body, secret).await;
        assert_eq!(refused.status, 401, "{}", refused.body);
        assert_eq!(refused.json()["error"]["code"], "bad_signature");
    }
    // A body changed after signing.
    let signed_for = github_event("in_progress", "acme/parts-api").to_string();
    let secret = secret_setting(GITHUB_SECRET).expect("secret");
    let request = Request::post("/api/v1/webhooks/github")
        .header("x-github-event", "deployment_status")
        .header("x-hub-signature-256", sign(&secret, signed_for.as_bytes()))
        .body(Body::from(body.to_string()))
        .expect("request");
    assert_eq!(app.send(request).await.status, 401);
    // The generic webhook's secret does not open the GitHub one, nor the reverse.
    assert_eq!(
        github(&app, "deployment_status", &body, Some(GENERIC_SECRET))
            .await
            .status,
        401
    );
    // Signed, but wrong inside: named, and still nothing stored, even for a repository
    // Switchyard does not know (which is otherwise listed, not refused).
    let mut unknown = github_event("success", "acme/unknown");
    unknown["deployment"]["sha"] = json!("not-a-sha");
    let unknown = github(&app, "deployment_status", &unknown, Some(GITHUB_SECRET)).await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert_eq!(unknown.json()["error"]["field"], "commit_sha");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM github_environments").await,
        0
    );
    let mut bad_sha = github_event("success", "acme/parts-api");
    bad_sha["deployment"]["sha"] = json!("not-a-sha");
    let bad_sha = github(&app, "deployment_status", &bad_sha, Some(GITHUB_SECRET)).await;
    assert_eq!(
        bad_sha.json()["error"]["field"],
        "commit_sha",
        "{}",
        bad_sha.body
    );
    let mut wrong_type = github_event("success", "acme/parts-api");
    wrong_type["deployment"]["id"] = json!("forty-two");
    let wrong_type = github(&app, "deployment_status", &wrong_type, Some(GITHUB_SECRET)).await;
    assert_eq!(wrong_type.status, 422, "{}", wrong_type.body);
    assert_eq!(wrong_type.json()["error"]["field"], "deployment.id");
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE actor LIKE 'webhook:%'")
            .await,
        0
    );
    // A webhook without a configured secret is off.
    let off = TestApp::new(engine).await;
    let response = github(&off, "deployment_status", &body, Some(GITHUB_SECRET)).await;
    assert_eq!(response.status, 404, "{}", response.body);
    assert!(response.body.contains("github_webhook_secret"));
}

async fn generic_events_record_and_finish_by_their_id(engine: Engine) {
    let app = app(engine).await;
    let send = |body: Value| {
        let app = &app;
        async move {
            deliver(
                app,
                "/api/v1/webhooks/generic",
                "",
                &body,
                Some(GENERIC_SECRET),
                "x-switchyard-signature-256",
            )
            .await
        }
    };
    let event = |status: &str| json!({"id": "pipeline-77", "service": "parts", "environment": "production", "version": "3.1.0", "status": status, "commit_sha": "abcdef1"});
    let started = send(event("running")).await;
    assert_eq!(started.status, 201, "{}", started.body);
    let failed = send(event("failed")).await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    assert_eq!(failed.json()["status"], "failed");
    assert_eq!(failed.json()["id"], started.json()["id"]);
    assert_eq!(send(event("succeeded")).await.status, 409);
    let missing_id = send(json!({"id": " ", "service": "parts", "environment": "production", "version": "1", "status": "running"})).await;
    assert_eq!(
        missing_id.json()["error"]["field"],
        "id",
        "{}",
        missing_id.body
    );
    let typo = send(json!({"id": "x", "service": "parts", "environment": "production", "version": "1", "status": "running", "sha": "abc"})).await;
    assert_eq!(typo.status, 422, "{}", typo.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 1);
    let unsigned = deliver(
        &app,
        "/api/v1/webhooks/generic",
        "",
        &event("running"),
        None,
        "x-switchyard-signature-256",
    )
    .await;
    assert_eq!(unsigned.status, 401);
}

/// A push of `commits` (`(sha, timestamp)`) to main.
fn push_event(commits: &[(&str, &str)]) -> Value {
    let commits: Vec<Value> = commits
        .iter()
        .map(|(id, timestamp)| json!({"id": id, "timestamp": timestamp, "message": "change", "distinct": true}))
        .collect();
    json!({
        "ref": "refs/heads/main",
        "head_commit": commits.last().cloned(),
        "commits": commits,
        "repository": {"full_name": "acme/parts-api"}
    })
}

async fn push_events_give_deployments_their_commit_time_early_or_late(engine: Engine) {
    let app = app(engine).await;
    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
    // The deployment arrives first, without a commit time (GitHub's events carry none).
    let recorded = github(
        &app,
        "deployment_status",
        &github_event("success", "acme/parts-api"),
        Some(GITHUB_SECRET),
    )
    .await;
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    assert_eq!(recorded.json()["commit_at"], Value::Null);
    // Then the push: its commit time fills the deployment in. GitHub writes the time with
    // the committer's offset; it is stored as the instant.
    let push = push_event(&[
        (
            "aaaaaaa0000000000000000000000000000000aa",
            "2026-11-20T08:00:00+01:00",
        ),
        (SHA, "2026-11-20T09:30:00+01:00"),
    ]);
    let learnt = github(&app, "push", &push, Some(GITHUB_SECRET)).await;
    assert_eq!(learnt.status, 200, "{}", learnt.body);
    assert_eq!(
        learnt.json()["learnt"],
        json!({"commits": 2, "deployments": 1})
    );
    let id = recorded.json()["id"].as_i64().expect("id");
    let admin = app.logged_in(Role::Engineer).await;
    let read = app
        .send_as(
            &admin,
            json_request("GET", &format!("/api/v1/deployments/{id}"), &Value::Null),
        )
        .await;
    assert_eq!(read.json()["commit_at"], "2026-11-20T08:30:00.000Z");
    // The same push again changes nothing; an earlier report of the same commit wins.
    let again = github(&app, "push", &push, Some(GITHUB_SECRET)).await;
    assert_eq!(again.json()["learnt"]["deployments"], 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM commits").await, 2);

    // A push that arrives first: the deployment of that commit (by a short SHA too) is
    // recorded with the time at once.
    let early = push_event(&[(
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "2026-11-21T07:00:00Z",
    )]);
    assert_eq!(
        github(&app, "push", &early, Some(GITHUB_SECRET))
            .await
            .status,
        200
    );
    let body = json!({"service": "parts", "environment": "production", "version": "2.5.0", "commit_sha": "bbbbbbbb", "status": "succeeded", "started_at": "2026-11-21T10:00:00Z", "finished_at": "2026-11-21T10:05:00Z"});
    let created = app
        .send_as(&admin, json_request("POST", "/api/v1/deployments", &body))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["commit_at"], "2026-11-21T07:00:00.000Z");
    // A commit time given by the sender wins over the learnt one.
    let body = json!({"service": "parts", "environment": "production", "version": "2.5.1", "commit_sha": "bbbbbbbb", "commit_at": "2026-11-21T06:00:00Z", "status": "succeeded", "started_at": "2026-11-21T11:00:00Z", "finished_at": "2026-11-21T11:05:00Z"});
    let given = app
        .send_as(&admin, json_request("POST", "/api/v1/deployments", &body))
        .await;
    assert_eq!(given.json()["commit_at"], "2026-11-21T06:00:00.000Z");

    // A malformed push is refused whole, naming the commit, and teaches nothing.
    let bad = push_event(&[
        (
            "cccccccccccccccccccccccccccccccccccccccc",
            "2026-11-22T07:00:00Z",
        ),
        ("not-a-sha", "2026-11-22T07:00:00Z"),
    ]);
    let refused = github(&app, "push", &bad, Some(GITHUB_SECRET)).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.json()["error"]["field"], "commits[1].id");
    assert_eq!(app.count("SELECT COUNT(*) FROM commits").await, 3);
    // Unsigned pushes are refused like any other event.
    assert_eq!(github(&app, "push", &early, None).await.status, 401);
}

/// A `deployment_status` event of `repository` for GitHub environment `environment`.
fn github_event_in(state: &str, repository: &str, environment: &str, id: i64) -> Value {
    let mut event = github_event(state, repository);
    event["deployment_status"]["environment"] = json!(environment);
    event["deployment"]["environment"] = json!(environment);
    event["deployment"]["id"] = json!(id);
    event
}

async fn unknown_github_environments_are_listed_then_mapped_or_ignored(engine: Engine) {
    let app = app(engine).await;
    // app() logged the admin in once already.
    let admin = app.log_in("admin", crate::helpers::TEST_PASSWORD).await;
    let engineer = app.logged_in(Role::Engineer).await;
    let app = &app;
    let deliver = |environment: &'static str, id: i64| {
        let body = github_event_in("success", "acme/parts-api", environment, id);
        async move { github(app, "deployment_status", &body, Some(GITHUB_SECRET)).await }
    };
    // GitHub Pages and a staging Switchyard does not have yet: acknowledged, not refused.
    for (environment, id) in [
        ("github-pages", 1),
        ("Staging", 2),
        ("Staging", 3),
        ("GitHub Pages", 4),
    ] {
        let answer = deliver(environment, id).await;
        assert_eq!(answer.status, 202, "{environment}: {}", answer.body);
        assert!(answer.json()["ignored"]
            .as_str()
            .expect("why")
            .contains("Admin → Services"));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 0);
    // Listed for admins only, waiting ones first, each with its count.
    let list = |who| {
        let request = json_request("GET", "/api/v1/webhooks/github/environments", &Value::Null);
        app.send_as(who, request)
    };
    assert_eq!(list(&engineer).await.status, 403);
    let listed = list(&admin).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed = listed.json();
    let rows = listed.as_array().expect("list");
    assert_eq!(rows.len(), 3, "{listed}");
    let staging = rows
        .iter()
        .find(|r| r["name"] == "staging")
        .expect("staging");
    assert_eq!(staging["service"], "parts");
    assert_eq!(staging["repository"], "acme/parts-api");
    assert_eq!(staging["events"], 2);
    assert_eq!(staging["state"], "Waiting for a decision");
    assert_eq!(staging["choices"], json!(["production"]));
    assert!(rows.iter().any(|r| r["name"] == "github pages"));

    let decide = |who, path: &str, body: Value| {
        let request = json_request(
            "PUT",
            &format!("/api/v1/webhooks/github/environments/{path}"),
            &body,
        );
        app.send_as(who, request)
    };
    // Wrong choices are refused, naming the field, and change nothing.
    for (path, body, status, field) in [
        (
            "parts/staging",
            json!({"maps_to": "staging"}),
            422,
            Some("maps_to"),
        ),
        (
            "parts/staging",
            json!({"maps_to": "production", "ignored": true}),
            422,
            Some("maps_to"),
        ),
        (
            "parts/staging",
            json!({"maps_to": "Not A Name"}),
            422,
            Some("maps_to"),
        ),
        (
            "parts/staging",
            json!({"maps_to": "production", "colour": "red"}),
            422,
            None,
        ),
        ("parts/nowhere", json!({"ignored": true}), 404, None),
    ] {
        let answer = decide(&admin, path, body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        if let Some(field) = field {
            assert_eq!(answer.json()["error"]["field"], field, "{body}");
        }
    }
    assert_eq!(
        decide(&engineer, "parts/staging", json!({"ignored": true}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM github_environments WHERE maps_to IS NOT NULL OR ignored")
            .await,
        0
    );
    // Mapped: the next event is recorded in production; ignored: the next is dropped.
    let mapped = decide(&admin, "parts/staging", json!({"maps_to": "production"})).await;
    assert_eq!(mapped.status, 200, "{}", mapped.body);
    assert_eq!(mapped.json()["state"], "Recorded in production");
    let ignored = decide(&admin, "parts/github-pages", json!({"ignored": true})).await;
    assert_eq!(ignored.json()["state"], "Ignored");
    let recorded = deliver("Staging", 5).await;
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    assert_eq!(recorded.json()["environment"], "production");
    let dropped = deliver("github-pages", 6).await;
    assert_eq!(dropped.status, 202, "{}", dropped.body);
    assert!(dropped.json()["ignored"]
        .as_str()
        .expect("why")
        .contains("ignored"));
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 1);
    assert_eq!(
        app.count("SELECT events FROM github_environments WHERE name = 'github-pages'")
            .await,
        2
    );
    // Back to waiting; each decision is in the audit log.
    let again = decide(&admin, "parts/staging", json!({})).await;
    assert_eq!(again.json()["state"], "Waiting for a decision");
    assert_eq!(deliver("Staging", 7).await.status, 202);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'github_environment.decided'")
            .await,
        3
    );
}

/// Finding 2 of the security review: a version reaches the operator's driver scripts, so one
/// that a shell would read as more than a word is refused wherever a version comes in (REST,
/// server functions, both webhooks, operations, releases), and nothing is written.
async fn a_version_with_shell_metacharacters_is_refused_at_every_entry(engine: Engine) {
    let app = app(engine).await;
    let admin = app.log_in("admin", crate::helpers::TEST_PASSWORD).await;
    let production = "/api/v1/services/parts/environments/production";
    for version in ["1.0;id", "$(id)", "`id`", "1|sh", "-rf", "a'b"] {
        let encoded: String = version.bytes().map(|b| format!("%{b:02X}")).collect();
        let answers = [
            (
                "REST deployment",
                app.send_as(&admin, json_request("POST", "/api/v1/deployments", &json!({"service": "parts", "environment": "production", "version": version}))).await,
            ),
            (
                "record_deployment",
                app.send_as(&admin, rpc_request("record_deployment", &format!("input[service]=parts&input[environment]=production&input[version]={encoded}"))).await,
            ),
            (
                "GitHub webhook",
                github(&app, "deployment_status", &{
                    let mut event = github_event("success", "acme/parts-api");
                    event["deployment"]["payload"] = json!({"version": version});
                    event
                }, Some(GITHUB_SECRET)).await,
            ),
            (
                "generic webhook",
                deliver(&app, "/api/v1/webhooks/generic", "", &json!({"id": "p-1", "service": "parts", "environment": "production", "version": version, "status": "running"}), Some(GENERIC_SECRET), "x-switchyard-signature-256").await,
            ),
            (
                "REST operation",
                app.send_as(&admin, json_request("POST", &format!("{production}/operations"), &json!({"action": "deploy", "version": version, "expected_revision": 0}))).await,
            ),
            (
                "start_operation",
                app.send_as(&admin, rpc_request("start_operation", &format!("service=parts&environment=production&operation[action]=deploy&operation[version]={encoded}&operation[expected_revision]=0"))).await,
            ),
            (
                "REST release",
                app.send_as(&admin, json_request("POST", "/api/v1/releases", &json!({"service": "parts", "environment": "production", "version": version}))).await,
            ),
        ];
        for (entry, answer) in answers {
            assert_eq!(
                answer.status, 422,
                "{entry} took {version:?}: {}",
                answer.body
            );
            assert!(
                answer.body.contains("letter or digit"),
                "{entry}: {version:?}: {}",
                answer.body
            );
        }
    }
    for table in ["deployments", "operations", "releases"] {
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
}

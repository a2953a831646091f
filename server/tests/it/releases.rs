//! Releases on both engines: the checklist copied from the service's template, signed item by
//! item with each item's role, withdrawn into history, signed once under contention; the gate
//! that holds production switches, rolling deploys and canary steps to 100% (REST and server
//! function alike), admins' audited
//! overrides, freeze windows that never hold a rollback; and bad input that writes nothing.

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
    helpers::{json_request, rpc_request, Credential, Engine, TestApp},
    on_both_engines,
};

on_both_engines!(
    a_release_copies_the_template_and_keeps_its_copy,
    each_item_is_signed_by_its_role_and_withdrawals_stay_in_history,
    ten_simultaneous_signers_of_one_item_leave_one_sign_off,
    production_switches_wait_for_the_signed_release,
    rolling_deploys_and_full_canaries_wait_for_the_signed_release_too,
    admins_override_a_gate_with_a_reason_and_releasers_cannot,
    a_freeze_holds_deploys_and_switches_but_never_a_rollback,
    bad_release_input_writes_nothing,
);

const PRODUCTION: &str = "/api/v1/services/shop/environments/production";

/// Two replicas on one PostgreSQL database: a page following a release through one sees a
/// sign-off made through the other, though they share no event bus.
#[tokio::test]
async fn a_sign_off_through_one_replica_reaches_a_page_following_another() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let (first, _) = app(Engine::Postgres).await;
    let second = first.replica().await;
    let engineer = first.logged_in(Role::Engineer).await;
    let id = open(&first, &engineer, "2.0.0").await["id"]
        .as_i64()
        .expect("id");
    let request = engineer.apply(json_request(
        "GET",
        &format!("/api/v1/releases/{id}/events"),
        &Value::Null,
    ));
    let response = second.router().oneshot(request).await.expect("response");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut next_event = async || {
        let mut text = String::new();
        while !text.contains("\n\n") {
            let frame = tokio::time::timeout(Duration::from_secs(2), body.frame())
                .await
                .expect("an event within 2 s")
                .expect("the stream goes on")
                .expect("a frame");
            if let Some(data) = frame.data_ref() {
                text.push_str(&String::from_utf8_lossy(data));
            }
        }
        text
    };
    let before = next_event().await;
    assert!(before.contains("[\"open\",0,0]"), "{before}");
    let (status, _) = call(
        &first,
        &engineer,
        "POST",
        &format!("/api/v1/releases/{id}/items/dependencies/sign"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let after = next_event().await;
    assert!(after.contains("[\"open\",1,0]"), "{after}");
}

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

/// Service `shop` with a blue-green production-tier `production` run by a driver that
/// succeeds, and 1.0.0 recorded live on blue.
async fn app(engine: Engine) -> (TestApp, Credential) {
    let url = upstreams().await;
    let settings = EnvironmentSettings {
        service: "shop".into(),
        environment: "production".into(),
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
        (
            "/api/v1/services/shop/environments",
            json!({"name": "production", "tier": "production", "strategy": "blue_green", "slots": {"blue": slot("blue"), "green": slot("green")}}),
        ),
        (
            "/api/v1/services/shop/environments",
            json!({"name": "staging", "tier": "staging", "strategy": "rolling"}),
        ),
        (
            "/api/v1/deployments",
            json!({"service": "shop", "environment": "production", "version": "1.0.0", "slot": "blue", "status": "succeeded"}),
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

async fn open(app: &TestApp, who: &Credential, version: &str) -> Value {
    let (status, release) = call(
        app,
        who,
        "POST",
        "/api/v1/releases",
        json!({"service": "shop", "environment": "production", "version": version}),
    )
    .await;
    assert_eq!(status, 201, "{release}");
    release
}

/// Signs every unsigned item of release `id` as `who`, with evidence where asked.
async fn sign_all(app: &TestApp, who: &Credential, id: i64) -> Value {
    let (_, release) = call(
        app,
        who,
        "GET",
        &format!("/api/v1/releases/{id}"),
        Value::Null,
    )
    .await;
    for item in release["items"].as_array().expect("items") {
        if !item["signed_by"].is_null() {
            continue;
        }
        let key = item["key"].as_str().expect("key");
        let (status, body) = call(
            app,
            who,
            "POST",
            &format!("/api/v1/releases/{id}/items/{key}/sign"),
            json!({"note": "checked", "evidence_url": "https://ci.example/runs/7"}),
        )
        .await;
        assert_eq!(status, 200, "{key}: {body}");
    }
    call(
        app,
        who,
        "GET",
        &format!("/api/v1/releases/{id}"),
        Value::Null,
    )
    .await
    .1
}

async fn revision(app: &TestApp, who: &Credential) -> i64 {
    call(app, who, "GET", PRODUCTION, Value::Null).await.1["revision"]
        .as_i64()
        .expect("revision")
}

/// Starts an operation on production; returns the status and answer.
async fn operate(app: &TestApp, who: &Credential, body: Value) -> (u16, Value) {
    call(app, who, "POST", &format!("{PRODUCTION}/operations"), body).await
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

/// Records `version` on the idle green slot, as CI would: its release opens by itself.
async fn ship_to_green(app: &TestApp, who: &Credential, version: &str) -> i64 {
    let (status, body) = call(
        app,
        who,
        "POST",
        "/api/v1/deployments",
        json!({"service": "shop", "environment": "production", "version": version, "slot": "green", "status": "succeeded"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, list) = call(app, who, "GET", "/api/v1/releases?status=open", Value::Null).await;
    list.as_array()
        .expect("list")
        .iter()
        .find(|r| r["version"] == version)
        .unwrap_or_else(|| panic!("no open release of {version}: {list}"))["id"]
        .as_i64()
        .expect("id")
}

async fn a_release_copies_the_template_and_keeps_its_copy(engine: Engine) {
    let (app, admin) = app(engine).await;
    let engineer = app.logged_in(Role::Engineer).await;
    let (_, guide) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/services/shop/checklist-template",
        Value::Null,
    )
    .await;
    assert_eq!(guide["revision"], 0, "{guide}");
    assert_eq!(guide["items"].as_array().expect("items").len(), 15);
    let (_, rollback) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/services/shop/checklist-template?kind=rollback",
        Value::Null,
    )
    .await;
    assert_eq!(rollback["items"].as_array().expect("items").len(), 5);
    let (_, incident) = call(
        &app,
        &engineer,
        "GET",
        "/api/v1/services/shop/checklist-template?kind=incident",
        Value::Null,
    )
    .await;
    assert_eq!(incident["items"].as_array().expect("items").len(), 6);

    let first = open(&app, &engineer, "2.0.0").await;
    assert_eq!(first["template_revision"], 0);
    assert_eq!(first["progress"], "0 / 15 signed, 15 required left");

    let two_items = json!({"items": [
        {"group": "Checks", "title": "Smoke test", "role": "releaser"},
        {"group": "Checks", "title": "Changelog", "required": false},
    ]});
    let (status, saved) = call(
        &app,
        &admin,
        "PUT",
        "/api/v1/services/shop/checklist-template",
        two_items,
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["revision"], 1);
    let (status, _) = call(
        &app,
        &engineer,
        "PUT",
        "/api/v1/services/shop/checklist-template",
        json!({"items": [{"group": "g", "title": "t"}]}),
    )
    .await;
    assert_eq!(status, 403, "only admins edit templates");

    let second = open(&app, &engineer, "2.0.1").await;
    assert_eq!(second["template_revision"], 1);
    assert_eq!(second["progress"], "0 / 2 signed, 1 required left");
    assert_eq!(second["items"][0]["key"], "smoke-test");
    // The first release keeps the guide's 15 items.
    let (_, first_again) = call(
        &app,
        &engineer,
        "GET",
        &format!("/api/v1/releases/{}", first["id"]),
        Value::Null,
    )
    .await;
    assert_eq!(first_again["items"].as_array().expect("items").len(), 15);

    let (status, again) = call(
        &app,
        &engineer,
        "POST",
        "/api/v1/releases",
        json!({"service": "shop", "environment": "production", "version": "2.0.1"}),
    )
    .await;
    assert_eq!(status, 409, "{again}");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("already has an open release of 2.0.1"),
        "{again}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM releases").await, 2);
}

async fn each_item_is_signed_by_its_role_and_withdrawals_stay_in_history(engine: Engine) {
    let (app, admin) = app(engine).await;
    let items = json!({"items": [
        {"group": "Checks", "title": "Smoke test", "role": "releaser"},
        {"group": "Checks", "title": "Tests pass", "evidence": true},
    ]});
    let (status, _) = call(
        &app,
        &admin,
        "PUT",
        "/api/v1/services/shop/checklist-template",
        items,
    )
    .await;
    assert_eq!(status, 200);
    let engineer = app.logged_in(Role::Engineer).await;
    let other = {
        app.create_user("bob", Role::Engineer).await;
        app.log_in("bob", crate::helpers::TEST_PASSWORD).await
    };
    let viewer = app.logged_in(Role::Viewer).await;
    let id = open(&app, &engineer, "2.0.0").await["id"]
        .as_i64()
        .expect("id");
    let sign = |key: &str| format!("/api/v1/releases/{id}/items/{key}/sign");

    let (status, refused) = call(&app, &engineer, "POST", &sign("smoke-test"), json!({})).await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("needs releaser or above"),
        "{refused}"
    );
    let (status, _) = call(&app, &viewer, "POST", &sign("tests-pass"), json!({})).await;
    assert_eq!(status, 403);
    let (status, missing) = call(
        &app,
        &engineer,
        "POST",
        &sign("tests-pass"),
        json!({"note": "green"}),
    )
    .await;
    assert_eq!(status, 422, "evidence is required: {missing}");
    assert_eq!(missing["error"]["field"], "evidence_url");
    let (status, bad) = call(
        &app,
        &engineer,
        "POST",
        &sign("tests-pass"),
        json!({"evidence_url": "javascript:alert(1)"}),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(app.count("SELECT COUNT(*) FROM release_signoffs").await, 0);

    let (status, signed) = call(
        &app,
        &engineer,
        "POST",
        &sign("tests-pass"),
        json!({"note": "all green", "evidence_url": "https://ci.example/runs/7"}),
    )
    .await;
    assert_eq!(status, 200, "{signed}");
    let item = &signed["items"][1];
    assert_eq!(item["signed_by"], "engineer");
    assert_eq!(item["note"], "all green");
    assert_eq!(item["evidence_url"], "https://ci.example/runs/7");
    assert!(item["signed_at"].is_string());
    assert_eq!(signed["progress"], "1 / 2 signed, 1 required left");

    // Only the signer or an admin withdraws; the withdrawn sign-off stays as history.
    let (status, _) = call(&app, &other, "DELETE", &sign("tests-pass"), Value::Null).await;
    assert_eq!(status, 403);
    let (status, withdrawn) =
        call(&app, &engineer, "DELETE", &sign("tests-pass"), Value::Null).await;
    assert_eq!(status, 200, "{withdrawn}");
    assert!(withdrawn["items"][1]["signed_by"].is_null());
    let (status, _) = call(
        &app,
        &other,
        "POST",
        &sign("tests-pass"),
        json!({"evidence_url": "https://ci.example/runs/8"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, by_admin) = call(&app, &admin, "DELETE", &sign("tests-pass"), Value::Null).await;
    assert_eq!(status, 200, "an admin withdraws anyone's: {by_admin}");
    let history = by_admin["items"][1]["history"]
        .as_array()
        .expect("history")
        .clone();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["signed_by"]["name"], "engineer");
    assert_eq!(history[0]["withdrawn_by"], "engineer");
    assert_eq!(history[1]["signed_by"]["name"], "bob");
    assert_eq!(history[1]["withdrawn_by"], "admin");
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action IN ('release.item_signed', 'release.item_withdrawn')")
        .await;
    assert_eq!(audited, 4);

    // An abandoned release is read-only.
    let (status, _) = call(
        &app,
        &engineer,
        "POST",
        &format!("/api/v1/releases/{id}/abandon"),
        json!({"reason": ""}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, abandoned) = call(
        &app,
        &engineer,
        "POST",
        &format!("/api/v1/releases/{id}/abandon"),
        json!({"reason": "superseded by 2.0.1"}),
    )
    .await;
    assert_eq!(status, 200, "{abandoned}");
    assert_eq!(abandoned["status"], "abandoned");
    let before = app.count("SELECT COUNT(*) FROM release_signoffs").await;
    let (status, closed) = call(
        &app,
        &engineer,
        "POST",
        &sign("tests-pass"),
        json!({"evidence_url": "https://ci.example/runs/9"}),
    )
    .await;
    assert_eq!(status, 409, "{closed}");
    assert!(
        closed["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("read-only"),
        "{closed}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM release_signoffs").await,
        before
    );
}

async fn ten_simultaneous_signers_of_one_item_leave_one_sign_off(engine: Engine) {
    let (app, _) = app(engine).await;
    let mut signers = Vec::new();
    for n in 0..10 {
        let name = format!("signer{n}");
        app.create_user(&name, Role::Engineer).await;
        signers.push(app.log_in(&name, crate::helpers::TEST_PASSWORD).await);
    }
    let id = open(&app, &signers[0], "2.0.0").await["id"]
        .as_i64()
        .expect("id");
    let path = format!("/api/v1/releases/{id}/items/dependencies/sign");
    let answers = futures_util::future::join_all(
        signers
            .iter()
            .map(|who| call(&app, who, "POST", &path, json!({"note": "done"}))),
    )
    .await;
    let kept: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 409)
        .map(|(_, b)| b)
        .collect();
    assert_eq!((kept.len(), refused.len()), (1, 9), "{answers:?}");
    let winner = kept[0]["items"][2]["signed_by"]
        .as_str()
        .expect("signer")
        .to_owned();
    for body in refused {
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("{winner} signed \"Dependencies\" already, at ")),
            "{message}"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM release_signoffs WHERE item_key = 'dependencies'")
            .await,
        1
    );
}

async fn production_switches_wait_for_the_signed_release(engine: Engine) {
    let (app, _) = app(engine).await;
    let releaser = app.logged_in(Role::Releaser).await;
    let id = ship_to_green(&app, &releaser, "2.0.0").await;
    let switch = |revision: i64| json!({"action": "switch", "expected_revision": revision});

    let rev = revision(&app, &releaser).await;
    let (status, refused) = operate(&app, &releaser, switch(rev)).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "gate_closed");
    assert_eq!(
        refused["error"]["message"],
        "15 required items unsigned on release 2.0.0: sign them on the release page first."
    );
    // The server function refuses the same way: the page is not the only guard.
    let form = format!("service=shop&environment=production&operation[action]=switch&operation[expected_revision]={rev}");
    let through_page = app
        .send_as(&releaser, rpc_request("start_operation", &form))
        .await;
    assert_eq!(through_page.status, 409, "{}", through_page.body);
    assert!(
        through_page.body.contains("15 required items unsigned"),
        "{}",
        through_page.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM operations").await, 0);
    // The environment page shows the gate beside the button, worded by the server.
    let page = app
        .send_as(
            &releaser,
            rpc_request("environment_page", "service=shop&environment=production"),
        )
        .await;
    assert!(
        page.body
            .contains("15 required items unsigned on release 2.0.0"),
        "{}",
        page.body
    );

    let signed = sign_all(&app, &releaser, id).await;
    assert_eq!(
        signed["progress"],
        "15 / 15 signed, every required item signed"
    );
    let (status, started) = operate(&app, &releaser, switch(rev)).await;
    assert_eq!(status, 202, "{started}");
    let done = finished(&app, &releaser, started["id"].as_i64().expect("id")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let (_, release) = call(
        &app,
        &releaser,
        "GET",
        &format!("/api/v1/releases/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(release["status"], "released", "{release}");
    assert_eq!(release["end_reason"], "2.0.0 took traffic.");

    // A deploy to idle opens the next release by itself, in the releaser's name.
    let rev = revision(&app, &releaser).await;
    let (status, deploy) = operate(
        &app,
        &releaser,
        json!({"action": "deploy", "version": "2.1.0", "expected_revision": rev}),
    )
    .await;
    assert_eq!(status, 202, "{deploy}");
    finished(&app, &releaser, deploy["id"].as_i64().expect("id")).await;
    let (_, open) = call(
        &app,
        &releaser,
        "GET",
        "/api/v1/releases?status=open",
        Value::Null,
    )
    .await;
    assert_eq!(open[0]["version"], "2.1.0", "{open}");
    assert_eq!(open[0]["opened_by"], "releaser");
}

/// Service `shop` with production-tier `api` (rolling) and `edge` (canary), each run by a
/// driver that succeeds and checked by no health URL.
async fn in_place_app(engine: Engine) -> (TestApp, Credential) {
    let settings = |environment: &str| EnvironmentSettings {
        service: "shop".into(),
        environment: environment.into(),
        driver: Driver::Command(CommandDriver {
            program: "true".into(),
            args: vec![],
            env: vec![],
            timeout: Duration::from_secs(10),
        }),
        health: HealthSettings::default(),
        canary: Default::default(),
    };
    let app = TestApp::with_config(engine, |config| {
        config.operations = OperationSettings {
            environments: vec![settings("api"), settings("edge")],
        };
    })
    .await;
    let admin = app.logged_in(Role::Admin).await;
    for (path, body) in [
        ("/api/v1/services", json!({"name": "shop"})),
        (
            "/api/v1/services/shop/environments",
            json!({"name": "api", "tier": "production", "strategy": "rolling"}),
        ),
        (
            "/api/v1/services/shop/environments",
            json!({"name": "edge", "tier": "production", "strategy": "canary"}),
        ),
    ] {
        let response = app.send_as(&admin, json_request("POST", path, &body)).await;
        assert_eq!(response.status, 201, "{path}: {}", response.body);
    }
    (app, admin)
}

async fn rolling_deploys_and_full_canaries_wait_for_the_signed_release_too(engine: Engine) {
    let (app, _) = in_place_app(engine).await;
    let releaser = app.logged_in(Role::Releaser).await;
    let app = &app;
    let releaser = &releaser;
    let environment = |name: &'static str| async move {
        let path = format!("/api/v1/services/shop/environments/{name}");
        call(app, releaser, "GET", &path, Value::Null).await.1
    };
    let operate = |name: &'static str, body: Value| async move {
        let path = format!("/api/v1/services/shop/environments/{name}/operations");
        call(app, releaser, "POST", &path, body).await
    };
    let open = |name: &str, version: &str| {
        let body = json!({"service": "shop", "environment": name, "version": version});
        async move {
            let (status, release) = call(app, releaser, "POST", "/api/v1/releases", body).await;
            assert_eq!(status, 201, "{release}");
            release["id"].as_i64().expect("id")
        }
    };
    let written = || async {
        (
            app.count("SELECT COUNT(*) FROM operations").await,
            app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'operation.%'")
                .await,
        )
    };

    // Rolling: a deploy puts the version in front of everyone, so it waits for a release
    // of that version, then for its required items.
    let deploy = json!({"action": "deploy", "version": "2.0.0", "expected_revision": 0});
    let (status, refused) = operate("api", deploy.clone()).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "gate_closed");
    assert_eq!(
        refused["error"]["message"],
        "No open release of 2.0.0 in api: open one on the Releases page and sign its checklist first."
    );
    let release = open("api", "2.0.0").await;
    let (status, refused) = operate("api", deploy.clone()).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("15 required items unsigned on release 2.0.0")));
    // The server function refuses the same way.
    let form = "service=shop&environment=api&operation[action]=deploy&operation[version]=2.0.0&operation[expected_revision]=0";
    let through_page = app
        .send_as(releaser, rpc_request("start_operation", form))
        .await;
    assert_eq!(through_page.status, 409, "{}", through_page.body);
    assert_eq!(written().await, (0, 0));
    sign_all(app, releaser, release).await;
    let (status, started) = operate("api", deploy).await;
    assert_eq!(status, 202, "{started}");
    let done = finished(app, releaser, started["id"].as_i64().expect("id")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(environment("api").await["current_version"], "2.0.0");
    let (_, release) = call(
        app,
        releaser,
        "GET",
        &format!("/api/v1/releases/{release}"),
        Value::Null,
    )
    .await;
    assert_eq!(release["status"], "released", "{release}");

    // Canary: the first steps reach only part of the traffic and run ungated; the step to
    // 100% waits for the release. A promote naming a version that is not the canary's is
    // refused, naming the field, and writes nothing.
    let step = |action: &str, version: Option<&str>, revision: i64| json!({"action": action, "version": version, "expected_revision": revision});
    let run = |body: Value| async move {
        let (status, started) = operate("edge", body).await;
        assert_eq!(status, 202, "{started}");
        finished(app, releaser, started["id"].as_i64().expect("id")).await
    };
    let first = run(step("deploy", Some("3.0.0"), 0)).await;
    assert_eq!(first["canary_weight"], 10, "{first}");
    let before = written().await;
    let (status, refused) = operate("edge", step("canary_promote", Some("9.9.9"), 1)).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["field"], "version");
    assert_eq!(
        refused["error"]["message"],
        "The canary running in edge is 3.0.0, not 9.9.9: promote it, or deploy 9.9.9 first."
    );
    assert_eq!(written().await, before);
    let mut revision = 1;
    loop {
        let edge = environment("edge").await;
        let weight = edge["canary"]["weight"].as_i64().expect("a canary runs");
        revision = edge["revision"].as_i64().unwrap_or(revision);
        let (status, answer) = operate("edge", step("canary_promote", None, revision)).await;
        if status == 409 {
            assert_eq!(weight, 50, "only the step to 100% waits: {answer}");
            assert_eq!(
                answer["error"]["message"],
                "No open release of 3.0.0 in edge: open one on the Releases page and sign its checklist first."
            );
            break;
        }
        assert_eq!(status, 202, "{answer}");
        finished(app, releaser, answer["id"].as_i64().expect("id")).await;
    }
    let release = open("edge", "3.0.0").await;
    sign_all(app, releaser, release).await;
    let full = run(step("canary_promote", None, revision)).await;
    assert_eq!(
        (full["status"].as_str(), full["canary_weight"].as_i64()),
        (Some("succeeded"), Some(100)),
        "{full}"
    );
    let edge = environment("edge").await;
    assert_eq!(
        (edge["canary"].clone(), edge["current_version"].as_str()),
        (Value::Null, Some("3.0.0"))
    );
}

async fn admins_override_a_gate_with_a_reason_and_releasers_cannot(engine: Engine) {
    let (app, admin) = app(engine).await;
    let releaser = app.logged_in(Role::Releaser).await;
    let id = ship_to_green(&app, &releaser, "2.0.0").await;
    let rev = revision(&app, &releaser).await;
    let switch = |reason: &str| json!({"action": "switch", "expected_revision": rev, "override_reason": reason});

    let (status, _) = operate(&app, &releaser, switch("customers are down, hotfix")).await;
    assert_eq!(status, 403, "releasers may not override");
    let (status, short) = operate(&app, &admin, switch("hotfix")).await;
    assert_eq!(status, 422, "{short}");
    assert_eq!(short["error"]["field"], "override_reason");
    assert_eq!(app.count("SELECT COUNT(*) FROM operations").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'gate.overridden'")
            .await,
        0
    );

    let (status, started) = operate(&app, &admin, switch("customers are down, hotfix")).await;
    assert_eq!(status, 202, "{started}");
    let done = finished(&app, &admin, started["id"].as_i64().expect("id")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let log: Vec<&str> = done["log"]
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|l| l["line"].as_str())
        .collect();
    assert!(
        log.iter().any(
            |l| l.starts_with("Gate overridden: 15 required items unsigned")
                && l.ends_with("Reason given: customers are down, hotfix")
        ),
        "{log:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'gate.overridden'")
            .await,
        1
    );
    let (_, release) = call(
        &app,
        &admin,
        "GET",
        &format!("/api/v1/releases/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(
        release["overrides"][0]["reason"], "customers are down, hotfix",
        "{release}"
    );
    assert_eq!(release["overrides"][0]["by"], "admin");
    assert_eq!(release["status"], "released");
}

async fn a_freeze_holds_deploys_and_switches_but_never_a_rollback(engine: Engine) {
    let (app, admin) = app(engine).await;
    let releaser = app.logged_in(Role::Releaser).await;
    let id = ship_to_green(&app, &releaser, "2.0.0").await;
    sign_all(&app, &releaser, id).await;
    let rev = revision(&app, &releaser).await;
    let (status, started) = operate(
        &app,
        &releaser,
        json!({"action": "switch", "expected_revision": rev}),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    finished(&app, &releaser, started["id"].as_i64().expect("id")).await;

    let freezes = format!("{PRODUCTION}/freezes");
    let (status, _) = call(&app, &releaser, "POST", &freezes, json!({"kind": "once", "from": "2026-01-01 00:00", "to": "2099-01-01 00:00", "reason": "year-end"})).await;
    assert_eq!(status, 403, "only admins add freeze windows");
    // A daily window leaves at least a minute open, so its gap is put half a day away from now
    // (Shanghai keeps no daylight saving time: its hour is UTC's plus eight).
    let hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 3600
        + 8)
        % 24;
    let (start, end) = ((hour + 13) % 24, (hour + 12) % 24);
    let (status, freeze) = call(&app, &admin, "POST", &freezes, json!({"kind": "weekly", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": format!("{start:02}:00"), "end": format!("{end:02}:00"), "time_zone": "Asia/Shanghai", "reason": "peak business hours"})).await;
    assert_eq!(status, 201, "{freeze}");
    assert_eq!(
        freeze["window"],
        format!(
            "weekly, Mon–Sun {start:02}:00–{end:02}:00{} (Asia/Shanghai)",
            if end < start { " the next day" } else { "" }
        )
    );

    let rev = revision(&app, &releaser).await;
    let (status, refused) = operate(
        &app,
        &releaser,
        json!({"action": "deploy", "version": "2.1.0", "expected_revision": rev}),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "gate_closed");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("production is frozen until "),
        "{message}"
    );
    assert!(message.contains("peak business hours"), "{message}");

    // A one-off window as well, so the rollback below surely runs inside a freeze.
    let (status, _) = call(&app, &admin, "POST", &freezes, json!({"kind": "once", "from": "2026-01-01 00:00", "to": "2099-01-01 00:00", "reason": "year-end"})).await;
    assert_eq!(status, 201);
    let (status, rolled) = operate(
        &app,
        &releaser,
        json!({"action": "rollback", "expected_revision": rev}),
    )
    .await;
    assert_eq!(status, 202, "a rollback is never gated: {rolled}");
    let done = finished(&app, &releaser, rolled["id"].as_i64().expect("id")).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    let (_, list) = call(&app, &releaser, "GET", &freezes, Value::Null).await;
    assert_eq!(list.as_array().expect("list").len(), 2);
    let first = list[0]["id"].as_i64().expect("id");
    let (status, _) = call(
        &app,
        &admin,
        "DELETE",
        &format!("{freezes}/{first}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &app,
        &admin,
        "DELETE",
        &format!("{freezes}/{first}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('freeze.added', 'freeze.removed')"
        )
        .await,
        3
    );
}

async fn bad_release_input_writes_nothing(engine: Engine) {
    let (app, admin) = app(engine).await;
    let engineer = app.logged_in(Role::Engineer).await;
    let audit = "SELECT COUNT(*) FROM audit_log";
    let before = app.count(audit).await;

    let (status, bad) = call(
        &app,
        &engineer,
        "POST",
        "/api/v1/releases",
        json!({"service": "", "environment": "", "version": "", "url": "ftp://x"}),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    let fields: Vec<&str> = bad["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["service", "environment", "version", "url"]);
    let (status, _) = call(
        &app,
        &engineer,
        "POST",
        "/api/v1/releases",
        json!({"service": "shop", "environment": "nowhere", "version": "1.0"}),
    )
    .await;
    assert_eq!(status, 404);

    let template = "/api/v1/services/shop/checklist-template";
    let (status, empty) = call(&app, &admin, "PUT", template, json!({"items": []})).await;
    assert_eq!(status, 422, "{empty}");
    assert_eq!(empty["error"]["field"], "items");
    let (status, duplicate) = call(&app, &admin, "PUT", template, json!({"items": [{"group": "g", "title": "Smoke test"}, {"group": "g", "title": "Smoke  Test"}]})).await;
    assert_eq!(status, 422, "{duplicate}");
    assert_eq!(duplicate["error"]["field"], "items[2].key");
    let (status, _) = call(
        &app,
        &admin,
        "PUT",
        &format!("{template}?kind=launch"),
        json!({"items": [{"group": "g", "title": "t"}]}),
    )
    .await;
    assert_eq!(status, 422);

    let freezes = format!("{PRODUCTION}/freezes");
    let (status, backwards) = call(&app, &admin, "POST", &freezes, json!({"kind": "once", "from": "2026-12-27 00:00", "to": "2026-12-24 00:00", "reason": "holidays"})).await;
    assert_eq!(status, 422, "{backwards}");
    assert_eq!(backwards["error"]["field"], "to");
    let (status, zone) = call(&app, &admin, "POST", &freezes, json!({"kind": "weekly", "weekdays": ["mon"], "start": "09:00", "end": "18:00", "time_zone": "Mars/Olympus", "reason": "x"})).await;
    assert_eq!(status, 422, "{zone}");
    assert_eq!(zone["error"]["field"], "time_zone");

    for table in [
        "releases",
        "release_items",
        "release_signoffs",
        "checklist_templates",
        "freeze_windows",
    ] {
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    assert_eq!(app.count(audit).await, before);
}

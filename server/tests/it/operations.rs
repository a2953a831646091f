//! Operations with real drivers: a shell script as the `command` driver, an HTTP server as the
//! `http` driver and as the slots' health checks; the lock under 50 concurrent requests; a
//! restart in the middle of an operation; and bad input that must change nothing.

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use app::backend::operations::settings::{
    CommandDriver, Driver, EnvironmentSettings, HealthSettings, HttpDriver, OperationSettings,
};
use app::domain::Role;
use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use crate::{
    helpers::{json_request, Credential, Engine, TestApp},
    on_both_engines,
};

on_both_engines!(
    blue_green_deploy_switch_and_rollback_run_the_command_driver,
    a_failing_health_check_after_the_switch_switches_back,
    the_http_driver_gets_each_step_as_json_and_a_failure_rolls_back,
    a_driver_that_overruns_its_timeout_is_killed_with_its_process_group,
    fifty_concurrent_switches_take_the_lock_once_per_round,
    bad_input_is_refused_before_anything_runs,
    a_restart_interrupts_the_running_operation_and_releases_the_lock,
    a_canary_climbs_its_steps_and_an_abort_sends_all_traffic_back,
    the_environment_streams_its_changes_as_server_sent_events,
    a_rollback_goes_only_to_a_version_an_operation_put_live,
    live_streams_end_with_their_caller_and_are_capped,
);

/// The world the operations act on: blue and green health endpoints and an HTTP driver, on a
/// real socket.
struct World {
    url: String,
    dir: tempfile::TempDir,
    driver_calls: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

#[derive(Clone)]
struct WorldState {
    marker: PathBuf,
    blue_broken: Arc<AtomicBool>,
    driver_calls: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

impl World {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let state = WorldState {
            marker: dir.path().join("green-broken"),
            blue_broken: Arc::default(),
            driver_calls: Arc::default(),
        };
        let health = |broken: bool| {
            if broken {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            }
        };
        let router =
            Router::new()
                .route(
                    "/blue/health",
                    get(move |State(s): State<WorldState>| async move {
                        health(s.blue_broken.load(Ordering::SeqCst))
                    }),
                )
                .route(
                    "/green/health",
                    get(
                        move |State(s): State<WorldState>| async move { health(s.marker.exists()) },
                    ),
                )
                .route(
                    "/driver",
                    post(
                        |State(s): State<WorldState>,
                         headers: HeaderMap,
                         Json(body): Json<Value>| async move {
                            let bad = body["version"] == "bad";
                            s.driver_calls.lock().expect("lock").push((headers, body));
                            if bad {
                                (
                                    StatusCode::INTERNAL_SERVER_ERROR,
                                    "rollout failed: pods crash-looping; see https://ops:hunter2@dash.internal/r/7?sig=abc\n",
                                )
                            } else {
                                (StatusCode::OK, "rolled out\n")
                            }
                        },
                    ),
                )
                .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        let script = dir.path().join("driver.sh");
        std::fs::write(&script, DRIVER_SCRIPT).expect("script");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Self {
            url,
            driver_calls: state.driver_calls,
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The command driver: the test script, its calls logged to `calls`.
    fn command(&self, break_green: bool, timeout: Duration) -> Driver {
        let mut env = vec![
            ("CALLS".to_owned(), self.path("calls").display().to_string()),
            (
                "MARKER".to_owned(),
                self.path("green-broken").display().to_string(),
            ),
            ("PIDS".to_owned(), self.path("pids").display().to_string()),
        ];
        if break_green {
            env.push(("BREAK_GREEN_ON_SWITCH".to_owned(), "1".to_owned()));
        }
        Driver::Command(CommandDriver {
            program: self.path("driver.sh"),
            args: vec![],
            env,
            timeout,
        })
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Logs each call, says so on stdout and stderr, breaks green when asked, hangs on `hang`.
const DRIVER_SCRIPT: &str = r#"#!/bin/sh
echo "$SWITCHYARD_ACTION ${SWITCHYARD_TARGET_SLOT:-all} $SWITCHYARD_VERSION" >> "$CALLS"
echo "driver: $SWITCHYARD_OPERATION/$SWITCHYARD_ACTION ${SWITCHYARD_TARGET_SLOT:-all} $SWITCHYARD_VERSION ${SWITCHYARD_TARGET_UPSTREAM}"
echo "secret: ${SWITCHYARD_DATABASE_URL:-none}" >&2
if [ "$SWITCHYARD_ACTION" = switch ] && [ "$SWITCHYARD_TARGET_SLOT" = green ] && [ -n "$BREAK_GREEN_ON_SWITCH" ]; then touch "$MARKER"; fi
if [ "$SWITCHYARD_ACTION" = switch ] && [ "$SWITCHYARD_TARGET_SLOT" = blue ]; then rm -f "$MARKER"; fi
if [ "$SWITCHYARD_VERSION" = leave ]; then
  sleep 30 > /dev/null 2>&1 &
  echo $! > "$PIDS"
fi
if [ "$SWITCHYARD_VERSION" = hang ]; then
  sleep 30 &
  echo $! > "$PIDS"
  echo $$ >> "$PIDS"
  sleep 30
fi
exit 0
"#;

fn fast_health() -> HealthSettings {
    HealthSettings {
        interval: Duration::from_millis(20),
        verify_for: Duration::from_millis(200),
        healthy_within: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        ..HealthSettings::default()
    }
}

fn settings(environment: &str, driver: Driver, health: HealthSettings) -> EnvironmentSettings {
    EnvironmentSettings {
        service: "shop".into(),
        environment: environment.into(),
        driver,
        health,
        canary: Default::default(),
    }
}

/// An app with service `shop`, blue-green `production` (slots on `world`) and rolling
/// `staging`, operated with `environments`; and a releaser.
async fn app(
    engine: Engine,
    world: &World,
    environments: Vec<EnvironmentSettings>,
) -> (TestApp, Credential) {
    let app = TestApp::with_config(engine, |config| {
        config.operations = OperationSettings { environments };
    })
    .await;
    set_up(&app, world).await;
    let releaser = app.logged_in(Role::Releaser).await;
    (app, releaser)
}

/// The environments are staging tier: these tests are about drivers, health and the lock; the
/// gate that holds production-tier switches has its own tests (`releases.rs`).
async fn set_up(app: &TestApp, world: &World) {
    let admin = app.logged_in(Role::Admin).await;
    let slot = |color: &str| json!({"upstream": format!("{}/{color}", world.url), "health_url": format!("{}/{color}/health", world.url)});
    for (path, body) in [
        ("/api/v1/services", json!({"name": "shop"})),
        (
            "/api/v1/services/shop/environments",
            json!({"name": "production", "tier": "staging", "strategy": "blue_green", "slots": {"blue": slot("blue"), "green": slot("green")}}),
        ),
        (
            "/api/v1/services/shop/environments",
            json!({"name": "staging", "tier": "staging", "strategy": "rolling"}),
        ),
        (
            "/api/v1/services/shop/environments",
            json!({"name": "canary", "tier": "staging", "strategy": "canary"}),
        ),
    ] {
        let response = app.send_as(&admin, json_request("POST", path, &body)).await;
        assert_eq!(response.status, 201, "{}", response.body);
    }
}

const PRODUCTION: &str = "/api/v1/services/shop/environments/production";

/// An app whose `production` alone is operated, with `driver` and `health`.
async fn production_app(
    engine: Engine,
    world: &World,
    driver: Driver,
    health: HealthSettings,
) -> (TestApp, Credential) {
    app(engine, world, vec![settings("production", driver, health)]).await
}

/// An operation on `production`, waited for.
async fn on_production(app: &TestApp, who: &Credential, body: Value) -> Value {
    operate(app, who, "production", body).await
}

/// Starts an operation and waits for it to end; returns it.
async fn operate(app: &TestApp, who: &Credential, environment: &str, body: Value) -> Value {
    let path = format!("/api/v1/services/shop/environments/{environment}/operations");
    let response = app.send_as(who, json_request("POST", &path, &body)).await;
    assert_eq!(response.status, 202, "{}", response.body);
    let id = response.json()["id"].as_i64().expect("id");
    assert_eq!(
        response.header("location"),
        format!("/api/v1/operations/{id}")
    );
    finished(app, who, id).await
}

async fn finished(app: &TestApp, who: &Credential, id: i64) -> Value {
    for _ in 0..1000 {
        let operation = read(app, who, format!("/api/v1/operations/{id}")).await;
        if operation["status"] != "running" {
            return operation;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("operation {id} did not end");
}

/// A GET as `who`, answered with JSON.
async fn read(app: &TestApp, who: &Credential, path: impl AsRef<str>) -> Value {
    app.send_as(who, json_request("GET", path.as_ref(), &Value::Null))
        .await
        .json()
}

async fn revision(app: &TestApp, who: &Credential, path: &str) -> i64 {
    read(app, who, path).await["revision"]
        .as_i64()
        .expect("revision")
}

fn log_text(operation: &Value) -> String {
    operation["log"]
        .as_array()
        .expect("log")
        .iter()
        .map(|l| {
            format!(
                "{} {}\n",
                l["stream"].as_str().unwrap_or(""),
                l["line"].as_str().unwrap_or("")
            )
        })
        .collect()
}

async fn blue_green_deploy_switch_and_rollback_run_the_command_driver(engine: Engine) {
    let world = World::start().await;
    let driver = world.command(false, Duration::from_secs(10));
    let (app, rel) = production_app(engine, &world, driver, fast_health()).await;

    let deploy = on_production(
        &app,
        &rel,
        json!({"action": "deploy", "version": "2.0.0", "expected_revision": 0}),
    )
    .await;
    assert_eq!(deploy["status"], "succeeded", "{deploy}");
    assert_eq!(deploy["target_slot"], "green");
    let log = log_text(&deploy);
    assert!(
        log.contains(&format!(
            "stdout driver: deploy/deploy green 2.0.0 {}/green",
            world.url
        )),
        "{log}"
    );
    // The driver's environment holds only what it needs: no database URL.
    assert!(log.contains("stderr secret: none"), "{log}");
    let steps: Vec<&str> = deploy["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(steps, ["succeeded", "succeeded"]);
    let environment = read(&app, &rel, PRODUCTION).await;
    assert_eq!(
        (
            environment["revision"].as_i64(),
            environment["live_slot"].as_str()
        ),
        (Some(1), Some("blue"))
    );
    assert_eq!(environment["slots"][1]["version"], "2.0.0");
    let deployment = deploy["deployment_id"].as_i64().expect("a deployment");
    let recorded = read(&app, &rel, &format!("/api/v1/deployments/{deployment}")).await;
    assert_eq!(
        (recorded["status"].as_str(), recorded["source"].as_str()),
        (Some("running"), Some("operation"))
    );

    let switch = on_production(
        &app,
        &rel,
        json!({"action": "switch", "expected_revision": 1}),
    )
    .await;
    assert_eq!(switch["status"], "succeeded", "{switch}");
    assert_eq!(
        switch["deployment_id"].as_i64(),
        Some(deployment),
        "the switch finishes the deploy's deployment"
    );
    let recorded = read(&app, &rel, &format!("/api/v1/deployments/{deployment}")).await;
    assert_eq!(recorded["status"], "succeeded");

    // 2.1.0 onto blue, live; then roll back: green still holds 2.0.0, so it only switches.
    on_production(
        &app,
        &rel,
        json!({"action": "deploy", "version": "2.1.0", "expected_revision": 2}),
    )
    .await;
    let switched = on_production(
        &app,
        &rel,
        json!({"action": "switch", "version": "2.1.0", "expected_revision": 3}),
    )
    .await;
    assert_eq!(switched["status"], "succeeded");
    let rollback = on_production(
        &app,
        &rel,
        json!({"action": "rollback", "expected_revision": 4}),
    )
    .await;
    assert_eq!(
        (rollback["status"].as_str(), rollback["version"].as_str()),
        (Some("succeeded"), Some("2.0.0")),
        "{rollback}"
    );
    let environment = read(&app, &rel, PRODUCTION).await;
    assert_eq!(
        (
            environment["revision"].as_i64(),
            environment["live_slot"].as_str()
        ),
        (Some(5), Some("green"))
    );
    let rolled = read(
        &app,
        &rel,
        &format!("/api/v1/deployments/{}", rollback["deployment_id"]),
    )
    .await;
    assert_eq!(
        (rolled["is_rollback"].as_bool(), rolled["status"].as_str()),
        (Some(true), Some("succeeded"))
    );
    let replaced = read(
        &app,
        &rel,
        &format!("/api/v1/deployments/{}", switched["deployment_id"]),
    )
    .await;
    assert!(replaced["rolled_back_at"].is_string(), "{replaced}");

    assert_eq!(
        world.calls(),
        [
            "deploy green 2.0.0",
            "switch green 2.0.0",
            "deploy blue 2.1.0",
            "switch blue 2.1.0",
            "switch green 2.0.0"
        ]
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'operation.started'")
            .await,
        5
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'operation.succeeded'")
            .await,
        5
    );
}

async fn a_failing_health_check_after_the_switch_switches_back(engine: Engine) {
    let world = World::start().await;
    let driver = world.command(true, Duration::from_secs(10));
    let (app, rel) = production_app(engine, &world, driver, fast_health()).await;
    on_production(
        &app,
        &rel,
        json!({"action": "deploy", "version": "2.0.0", "expected_revision": 0}),
    )
    .await;
    let switch = on_production(
        &app,
        &rel,
        json!({"action": "switch", "expected_revision": 1}),
    )
    .await;
    assert_eq!(switch["status"], "failed", "{switch}");
    let error = switch["error"].as_str().expect("error");
    assert!(
        error.starts_with("Watch the health of green failed: a health check failed"),
        "{error}"
    );
    assert!(error.ends_with("Switched traffic back to blue."), "{error}");
    let steps: Vec<(&str, &str)> = switch["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or(""),
                s["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("Wait until green is healthy", "succeeded"),
            ("Switch traffic to green", "succeeded"),
            ("Watch the health of green", "failed"),
            ("Undo: Switch traffic to blue", "succeeded"),
        ]
    );
    assert_eq!(
        world.calls(),
        [
            "deploy green 2.0.0",
            "switch green 2.0.0",
            "switch blue 2.0.0"
        ]
    );
    let environment = read(&app, &rel, PRODUCTION).await;
    assert_eq!(
        (
            environment["live_slot"].as_str(),
            environment["revision"].as_i64()
        ),
        (Some("blue"), Some(2))
    );
    let deployment = read(
        &app,
        &rel,
        &format!("/api/v1/deployments/{}", switch["deployment_id"]),
    )
    .await;
    assert_eq!(deployment["status"], "failed");
    assert!(
        deployment["notes"]
            .as_str()
            .unwrap_or("")
            .contains("Switched traffic back to blue."),
        "{deployment}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'operation.failed'")
            .await,
        1
    );
}

async fn the_http_driver_gets_each_step_as_json_and_a_failure_rolls_back(engine: Engine) {
    let world = World::start().await;
    let home = std::env::var("HOME").unwrap_or_default();
    // Credentials in the driver's URL (finding 7 of the security review): every viewer reads
    // the log and the error, so they must not show them.
    let driver = Driver::Http(HttpDriver {
        method: "POST".into(),
        url: format!(
            "{}/driver?token=q-secret",
            world.url.replace("http://", "http://deploy:pw-secret@")
        ),
        headers: vec![("x-deploy-token".into(), "token ${HOME}".into())],
        timeout: Duration::from_secs(5),
    });
    let health = HealthSettings {
        url: Some(format!("{}/blue/health", world.url)),
        ..fast_health()
    };
    let (app, rel) = app(engine, &world, vec![settings("staging", driver, health)]).await;
    let first = operate(
        &app,
        &rel,
        "staging",
        json!({"action": "deploy", "version": "1.0.0", "expected_revision": 0}),
    )
    .await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert!(log_text(&first).contains("stdout rolled out"));
    let failed = operate(
        &app,
        &rel,
        "staging",
        json!({"action": "deploy", "version": "bad", "expected_revision": 1}),
    )
    .await;
    assert_eq!(failed["status"], "failed");
    let error = failed["error"].as_str().unwrap_or("");
    assert!(
        error.contains("answered 500 Internal Server Error")
            && error.ends_with("Rolled back to 1.0.0 automatically."),
        "{error}"
    );
    let log = log_text(&failed);
    assert!(log.contains("rollout failed: pods crash-looping"), "{log}");
    assert!(
        log.contains("see https://***@dash.internal/r/7?***"),
        "{log}"
    );
    for secret in ["hunter2", "sig=abc", "pw-secret", "q-secret"] {
        assert!(
            !log.contains(secret) && !error.contains(secret),
            "{secret}: {log}\n{error}"
        );
    }
    assert!(error.contains("http://***@127.0.0.1:"), "{error}");
    let calls = world.driver_calls.lock().expect("lock").clone();
    let versions: Vec<&str> = calls
        .iter()
        .map(|(_, body)| body["version"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(versions, ["1.0.0", "bad", "1.0.0"]);
    let (headers, body) = &calls[0];
    assert_eq!(
        headers["x-deploy-token"],
        format!("token {home}").as_str(),
        "the header takes the server's variable"
    );
    assert_eq!(body["action"], "deploy");
    assert_eq!(body["operation"], "deploy");
    assert_eq!(body["service"], "shop");
    assert_eq!(body["environment"], "staging");
    assert_eq!(body["operation_id"], first["id"]);
    let staging = read(&app, &rel, "/api/v1/services/shop/environments/staging").await;
    assert_eq!(staging["current_version"], "1.0.0");
}

async fn a_driver_that_overruns_its_timeout_is_killed_with_its_process_group(engine: Engine) {
    let world = World::start().await;
    let driver = world.command(false, Duration::from_millis(500));
    let (app, rel) = production_app(engine, &world, driver, fast_health()).await;
    let hung = on_production(
        &app,
        &rel,
        json!({"action": "deploy", "version": "hang", "expected_revision": 0}),
    )
    .await;
    assert_eq!(hung["status"], "failed");
    let error = hung["error"].as_str().unwrap_or("");
    assert!(
        error.contains("did not finish within 500ms; its process group was killed"),
        "{error}"
    );
    let pids = std::fs::read_to_string(world.path("pids")).expect("the script wrote its pids");
    for pid in pids.split_whitespace() {
        assert!(
            gone(pid).await,
            "process {pid} of the driver's group still runs"
        );
    }
    // Nothing is left holding the lock.
    let again = on_production(
        &app,
        &rel,
        json!({"action": "deploy", "version": "2.0.0", "expected_revision": 1}),
    )
    .await;
    assert_eq!(again["status"], "succeeded");

    // Finding 10 of the security review: a program that exits in time but leaves a process
    // running in the background does not leave it behind.
    let left = on_production(
        &app,
        &rel,
        json!({"action": "deploy", "version": "leave", "expected_revision": 2}),
    )
    .await;
    assert_eq!(left["status"], "succeeded", "{left}");
    let pid = std::fs::read_to_string(world.path("pids")).expect("the script wrote its pid");
    assert!(
        gone(pid.trim()).await,
        "the background process {pid} outlived its driver"
    );
}

/// Whether a process has ended (gone, or a zombie waiting to be reaped).
async fn gone(pid: &str) -> bool {
    for _ in 0..100 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .is_some_and(|rest| rest.trim_start().starts_with('Z')) =>
            {
                return true
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    false
}

async fn fifty_concurrent_switches_take_the_lock_once_per_round(engine: Engine) {
    let world = World::start().await;
    let driver = Driver::Command(CommandDriver {
        program: "true".into(),
        args: vec![],
        env: vec![],
        timeout: Duration::from_secs(5),
    });
    let health = HealthSettings {
        verify_for: Duration::ZERO,
        ..fast_health()
    };
    let (app, rel) = production_app(engine, &world, driver, health).await;
    // Both slots hold a version, so a switch is always possible.
    for (action, revision) in [("deploy", 0), ("switch", 1), ("deploy", 2)] {
        let body = json!({"action": action, "version": "2.0.0", "expected_revision": revision});
        assert_eq!(on_production(&app, &rel, body).await["status"], "succeeded");
    }
    let app = Arc::new(app);
    for round in 0..100 {
        let revision = revision(&app, &rel, PRODUCTION).await;
        let requests = (0..50).map(|_| {
            let (app, rel) = (app.clone(), rel.clone());
            tokio::spawn(async move {
                let body = json!({"action": "switch", "expected_revision": revision});
                app.send_as(
                    &rel,
                    json_request("POST", &format!("{PRODUCTION}/operations"), &body),
                )
                .await
            })
        });
        let mut started = Vec::new();
        for response in futures_util::future::join_all(requests).await {
            let response = response.expect("request task");
            match response.status.as_u16() {
                202 => started.push(response.json()["id"].as_i64().expect("id")),
                409 => {}
                other => panic!("round {round}: {other} {}", response.body),
            }
        }
        assert_eq!(started.len(), 1, "round {round}: exactly one switch starts");
        let operation = finished(&app, &rel, started[0]).await;
        assert_eq!(
            operation["status"], "succeeded",
            "round {round}: {operation}"
        );
    }
    // The 100 rounds' switches and the one before them.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM operations WHERE action = 'switch'")
            .await,
        101
    );
    let environment = read(&app, &rel, PRODUCTION).await;
    // 100 switches from green end on green.
    assert_eq!(
        (
            environment["live_slot"].as_str(),
            environment["revision"].as_i64()
        ),
        (Some("green"), Some(103))
    );
}

async fn bad_input_is_refused_before_anything_runs(engine: Engine) {
    let world = World::start().await;
    let environments = vec![
        settings(
            "production",
            world.command(false, Duration::from_secs(5)),
            fast_health(),
        ),
        settings(
            "staging",
            Driver::Command(CommandDriver {
                program: world.path("missing.sh"),
                args: vec![],
                env: vec![],
                timeout: Duration::from_secs(5),
            }),
            fast_health(),
        ),
    ];
    let (app, rel) = app(engine, &world, environments).await;
    let admin = app.log_in("admin", crate::helpers::TEST_PASSWORD).await;
    let response = app
        .send_as(
            &admin,
            json_request(
                "POST",
                "/api/v1/services/shop/environments",
                &json!({"name": "qa", "tier": "staging", "strategy": "rolling"}),
            ),
        )
        .await;
    assert_eq!(response.status, 201);
    let path =
        |environment: &str| format!("/api/v1/services/shop/environments/{environment}/operations");
    let cases: Vec<(String, Value, u16, Option<&str>, &str)> = vec![
        (
            path("nowhere"),
            json!({"action": "switch", "expected_revision": 0}),
            404,
            None,
            "no environment named nowhere",
        ),
        (
            "/api/v1/services/none/environments/production/operations".into(),
            json!({"action": "switch", "expected_revision": 0}),
            404,
            None,
            "no service named none",
        ),
        (
            path("production"),
            json!({"action": "canary_promote", "expected_revision": 0}),
            422,
            Some("action"),
            "which has no canary_promote",
        ),
        (
            path("production"),
            json!({"action": "restart", "expected_revision": 0}),
            422,
            Some("action"),
            "is not a known action",
        ),
        (
            path("production"),
            json!({"action": "deploy", "expected_revision": 0}),
            422,
            Some("version"),
            "Enter the version",
        ),
        (
            path("production"),
            json!({"action": "deploy", "version": "two words", "expected_revision": 0}),
            422,
            Some("version"),
            "spaces",
        ),
        (
            path("production"),
            json!({"action": "deploy", "version": "1", "weight": 101, "expected_revision": 0}),
            422,
            Some("weight"),
            "0 to 100",
        ),
        (
            path("production"),
            json!({"action": "switch", "expected_revision": 0}),
            409,
            Some("action"),
            "holds no version yet",
        ),
        (
            path("production"),
            json!({"action": "rollback", "expected_revision": 0}),
            409,
            Some("action"),
            "Nothing to roll back to",
        ),
        (
            path("production"),
            json!({"action": "deploy", "version": "1", "expected_revision": 3}),
            409,
            Some("expected_revision"),
            "changed since you looked",
        ),
        (
            path("production"),
            json!({"action": "deploy", "version": "1", "expected_revision": "zero"}),
            422,
            Some("expected_revision"),
            "",
        ),
        (
            path("production"),
            json!({"action": "deploy", "version": "1", "expected_revision": 0, "driver": "rm -rf /"}),
            422,
            Some("driver"),
            "unknown field",
        ),
        (
            path("staging"),
            json!({"action": "deploy", "version": "1", "expected_revision": 0}),
            422,
            Some("driver"),
            "does not exist on the server",
        ),
        (
            path("qa"),
            json!({"action": "deploy", "version": "1", "expected_revision": 0}),
            422,
            Some("driver"),
            "has no driver",
        ),
    ];
    for (path, body, status, field, message) in cases {
        let response = app.send_as(&rel, json_request("POST", &path, &body)).await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{body}: {}",
            response.body
        );
        let error = &response.json()["error"];
        assert_eq!(error["field"].as_str(), field, "{body}: {}", response.body);
        assert!(
            error["message"].as_str().unwrap_or("").contains(message),
            "{body}: {}",
            response.body
        );
    }
    for role in [Role::Viewer, Role::Engineer] {
        let who = app.logged_in(role).await;
        let body = json!({"action": "deploy", "version": "1", "expected_revision": 0});
        assert_eq!(
            app.send_as(&who, json_request("POST", &path("production"), &body))
                .await
                .status,
            403
        );
    }
    let anonymous = app
        .send(json_request(
            "POST",
            &path("production"),
            &json!({"action": "deploy", "version": "1", "expected_revision": 0}),
        ))
        .await;
    assert_eq!(anonymous.status, 401);
    // The page's form (a server function) refuses the same way.
    let form = |rest: &str| {
        crate::helpers::rpc_request(
            "start_operation",
            &format!("service=shop&environment=production&{rest}"),
        )
    };
    for (rest, status, text) in [
        ("operation[action]=deploy&operation[version]=two%20words&operation[expected_revision]=0", 422, "Remove the spaces from the version."),
        ("operation[action]=deploy&operation[expected_revision]=0", 422, "Enter the version to deploy"),
        ("operation[action]=deploy&operation[version]=1&operation[expected_revision]=5", 409, "changed since you looked"),
        ("operation[action]=explode&operation[expected_revision]=0", 422, "is not a known action"),
    ] {
        let response = app.send_as(&rel, form(rest)).await;
        assert_eq!(response.status.as_u16(), status, "{rest}: {}", response.body);
        assert!(response.body.contains(text), "{rest}: {}", response.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM operations").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM deployments").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'operation.%'")
            .await,
        0
    );
    assert!(world.calls().is_empty());
    assert_eq!(revision(&app, &rel, PRODUCTION).await, 0);
}

async fn a_restart_interrupts_the_running_operation_and_releases_the_lock(engine: Engine) {
    let world = World::start().await;
    let environments = vec![settings(
        "production",
        world.command(false, Duration::from_secs(60)),
        fast_health(),
    )];
    let config_environments = environments.clone();
    let (app, rel) = app(engine, &world, environments).await;
    let path = format!("{PRODUCTION}/operations");
    let body = json!({"action": "deploy", "version": "hang", "expected_revision": 0});
    let response = app.send_as(&rel, json_request("POST", &path, &body)).await;
    assert_eq!(response.status, 202);
    let id = response.json()["id"].as_i64().expect("id");
    while !world.path("pids").exists() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A second request meanwhile is refused, naming who runs what.
    let busy = app
        .send_as(
            &rel,
            json_request(
                "POST",
                &path,
                &json!({"action": "deploy", "version": "3", "expected_revision": 0}),
            ),
        )
        .await;
    assert_eq!(busy.status, 409);
    assert!(
        busy.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("started a deploy (operation {id})")),
        "{}",
        busy.body
    );
    // The process dies without a word: its heartbeat stops. A new one starts on the database.
    app.execute("UPDATE operations SET heartbeat_at = 0")
        .await
        .expect("stale heartbeat");
    let mut config = crate::helpers::test_config(&app.db);
    config.operations = OperationSettings {
        environments: config_environments,
    };
    let restarted = server::Application::build(&config).await.expect("restarts");
    let router = restarted.router();
    let get = |path: String| {
        crate::helpers::send(&router, rel.apply(json_request("GET", &path, &Value::Null)))
    };
    let operation = get(format!("/api/v1/operations/{id}")).await.json();
    assert_eq!(operation["status"], "interrupted", "{operation}");
    // The slots' health is re-read in the background, so startup does not wait for it.
    let mut log = String::new();
    for _ in 0..200 {
        log = log_text(&get(format!("/api/v1/operations/{id}")).await.json());
        if log.contains("After the restart, green") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        log.contains("After the restart, blue is healthy")
            && log.contains("After the restart, green is healthy"),
        "{log}"
    );
    let deployment = get(format!(
        "/api/v1/deployments/{}",
        operation["deployment_id"]
    ))
    .await
    .json();
    assert_eq!(deployment["status"], "failed");
    let environment = get(PRODUCTION.to_owned()).await.json();
    assert_eq!(
        environment["revision"], 1,
        "an interrupted operation counts"
    );
    // The lock is free.
    let again = crate::helpers::send(
        &router,
        rel.apply(json_request(
            "POST",
            &path,
            &json!({"action": "deploy", "version": "2.0.0", "expected_revision": 1}),
        )),
    )
    .await;
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'operation.interrupted'")
            .await,
        1
    );
}

async fn a_canary_climbs_its_steps_and_an_abort_sends_all_traffic_back(engine: Engine) {
    let world = World::start().await;
    let driver = Driver::Http(HttpDriver {
        method: "POST".into(),
        url: format!("{}/driver", world.url),
        headers: vec![],
        timeout: Duration::from_secs(5),
    });
    let health = HealthSettings {
        url: Some(format!("{}/blue/health", world.url)),
        ..fast_health()
    };
    let (app, rel) = app(engine, &world, vec![settings("canary", driver, health)]).await;
    let step = |action: &str, version: Option<&str>, weight: Option<i64>, revision: i64| json!({"action": action, "version": version, "weight": weight, "expected_revision": revision});
    let run = |body: Value| operate(&app, &rel, "canary", body);
    let started = run(step("deploy", Some("2.0.0"), None, 0)).await;
    assert_eq!(
        (
            started["status"].as_str(),
            started["canary_weight"].as_i64()
        ),
        (Some("succeeded"), Some(10))
    );
    run(step("canary_promote", None, None, 1)).await;
    let explicit = run(step("canary_promote", None, Some(40), 2)).await;
    assert_eq!(explicit["canary_weight"], 40);
    let environment = read(&app, &rel, "/api/v1/services/shop/environments/canary").await;
    assert_eq!(
        environment["canary"],
        json!({"version": "2.0.0", "weight": 40})
    );
    let aborted = run(step("canary_abort", None, None, 3)).await;
    assert_eq!(aborted["status"], "succeeded");
    let deployment = read(
        &app,
        &rel,
        &format!("/api/v1/deployments/{}", aborted["deployment_id"]),
    )
    .await;
    assert_eq!(
        deployment["status"], "failed",
        "an aborted canary is a failed change"
    );
    assert!(deployment["notes"]
        .as_str()
        .unwrap_or("")
        .contains("Canary aborted at 40% of traffic."));
    assert_eq!(
        deployment["id"], started["deployment_id"],
        "one deployment from start to abort"
    );

    run(step("deploy", Some("2.1.0"), None, 4)).await;
    for (expected, revision) in [(25, 5), (50, 6), (100, 7)] {
        let promoted = run(step("canary_promote", None, None, revision)).await;
        assert_eq!(
            (
                promoted["status"].as_str(),
                promoted["canary_weight"].as_i64()
            ),
            (Some("succeeded"), Some(expected))
        );
    }
    let environment = read(&app, &rel, "/api/v1/services/shop/environments/canary").await;
    assert_eq!(
        (
            environment["canary"].clone(),
            environment["current_version"].as_str()
        ),
        (Value::Null, Some("2.1.0"))
    );
    let weights: Vec<i64> = world
        .driver_calls
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, body)| body["canary_weight"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(weights, [10, 25, 40, 0, 10, 25, 50, 100]);
}

async fn the_environment_streams_its_changes_as_server_sent_events(engine: Engine) {
    use tower::ServiceExt;
    let world = World::start().await;
    let driver = world.command(false, Duration::from_secs(10));
    let (app, rel) = production_app(engine, &world, driver, fast_health()).await;
    let request = rel.apply(json_request(
        "GET",
        &format!("{PRODUCTION}/events"),
        &Value::Null,
    ));
    let response = app.router.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let first = next_event(&mut body).await.expect("the state as it is");
    assert!(first.starts_with("event: changed\ndata: {"), "{first}");
    assert!(first.contains("\"revision\":0"), "{first}");
    let done = on_production(
        &app,
        &rel,
        json!({"action": "deploy", "version": "2.0.0", "expected_revision": 0}),
    )
    .await;
    // Events follow the operation until it ends, revision 1.
    let mut last = String::new();
    while !last.contains("\"revision\":1") {
        last = next_event(&mut body).await.expect("more events");
    }
    assert!(
        last.contains(&format!("\"operation\":{}", done["id"])),
        "{last}"
    );
    // A stopping server ends the stream, so it can stop.
    app.app.state().events.close();
    assert_eq!(next_event(&mut body).await, None);
}

/// The next server-sent event's text, or `None` when the stream ended.
async fn next_event(body: &mut axum::body::Body) -> Option<String> {
    use http_body_util::BodyExt;
    let mut text = String::new();
    while !text.contains("\n\n") {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("an event within 5 s");
        match frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    text.push_str(&String::from_utf8_lossy(data));
                }
            }
            _ => return None,
        }
    }
    Some(text)
}

/// Finding 2 of the security review: an engineer (or a token, or a webhook) who records a
/// succeeded deployment of some version cannot make the next rollback deploy it.
async fn a_rollback_goes_only_to_a_version_an_operation_put_live(engine: Engine) {
    let world = World::start().await;
    let health = HealthSettings {
        url: Some(format!("{}/blue/health", world.url)),
        ..fast_health()
    };
    let driver = world.command(false, Duration::from_secs(5));
    let (app, rel) = app(engine, &world, vec![settings("staging", driver, health)]).await;
    for (revision, version) in [(0, "1.0.0"), (1, "2.0.0")] {
        let done = operate(
            &app,
            &rel,
            "staging",
            json!({"action": "deploy", "version": version, "expected_revision": revision}),
        )
        .await;
        assert_eq!(done["status"], "succeeded", "{done}");
    }
    // Planted between the two, so it is newer than 1.0.0 and 2.0.0 stays current.
    let deployments = read(&app, &rel, "/api/v1/deployments?environment=staging").await;
    let newest = deployments["deployments"]
        .as_array()
        .and_then(|items| items.iter().find(|d| d["version"] == "2.0.0"))
        .cloned()
        .expect("the 2.0.0 deployment");
    let finished =
        app::domain::Timestamp::parse("t", newest["finished_at"].as_str().expect("time"))
            .expect("an RFC 3339 time");
    let planted_at = finished
        .minus(Duration::from_millis(1))
        .to_rfc3339()
        .expect("time");
    let engineer = app.logged_in(Role::Engineer).await;
    let planted = app
        .send_as(
            &engineer,
            json_request(
                "POST",
                "/api/v1/deployments",
                &json!({"service": "shop", "environment": "staging", "version": "6.6.6", "status": "succeeded", "started_at": planted_at, "finished_at": planted_at}),
            ),
        )
        .await;
    assert_eq!(planted.status, 201, "{}", planted.body);
    let staging = read(&app, &rel, "/api/v1/services/shop/environments/staging").await;
    assert_eq!(staging["current_version"], "2.0.0", "{staging}");

    let rolled = operate(
        &app,
        &rel,
        "staging",
        json!({"action": "rollback", "expected_revision": 2}),
    )
    .await;
    assert_eq!(rolled["status"], "succeeded", "{rolled}");
    let calls = world.calls();
    assert!(
        calls.last().is_some_and(|call| call.ends_with(" 1.0.0")),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|call| call.contains("6.6.6")),
        "{calls:?}"
    );
    let staging = read(&app, &rel, "/api/v1/services/shop/environments/staging").await;
    assert_eq!(staging["current_version"], "1.0.0", "{staging}");
}

/// Whether the stream ends (not merely pauses) within `limit`.
async fn ends_within(body: &mut axum::body::Body, limit: Duration) -> bool {
    use http_body_util::BodyExt;
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Finding 9 of the security review: a live page kept streaming after its user logged out or
/// its token was revoked, and one caller could open streams without end.
async fn live_streams_end_with_their_caller_and_are_capped(engine: Engine) {
    use tower::ServiceExt;
    let world = World::start().await;
    let driver = world.command(false, Duration::from_secs(10));
    let (app, rel) = production_app(engine, &world, driver, fast_health()).await;
    let open = |who: &Credential| {
        let request = who.apply(json_request(
            "GET",
            &format!("{PRODUCTION}/events"),
            &Value::Null,
        ));
        let router = app.router.clone();
        async move { router.oneshot(request).await.expect("response") }
    };

    app.create_user("vera", Role::Viewer).await;
    let vera = app.log_in("vera", crate::helpers::TEST_PASSWORD).await;
    let token = Credential::Bearer(app.token("watcher", Role::Viewer, "30d").await);
    let mut streams = Vec::new();
    for who in [&vera, &token] {
        let response = open(who).await;
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        next_event(&mut body).await.expect("the state as it is");
        streams.push(body);
    }
    let logout = axum::http::Request::delete("/api/v1/session")
        .body(Body::empty())
        .expect("request");
    assert_eq!(app.send_as(&vera, logout).await.status, 204);
    let admin = app.log_in("admin", crate::helpers::TEST_PASSWORD).await;
    let tokens = app
        .send_as(&admin, json_request("GET", "/api/v1/tokens", &Value::Null))
        .await;
    let id = tokens.json()[0]["id"].as_i64().expect("token id");
    let revoke = axum::http::Request::delete(format!("/api/v1/tokens/{id}"))
        .body(Body::empty())
        .expect("request");
    assert_eq!(app.send_as(&admin, revoke).await.status, 200);
    for (who, mut body) in ["the logged-out session", "the revoked token"]
        .into_iter()
        .zip(streams)
    {
        assert!(
            ends_within(&mut body, Duration::from_secs(15)).await,
            "the stream of {who} goes on"
        );
    }

    // One releaser, many tabs: the cap holds, and a closed tab frees its place.
    let mut held = Vec::new();
    for _ in 0..8 {
        let response = open(&rel).await;
        assert_eq!(response.status(), 200);
        held.push(response.into_body());
    }
    let refused = open(&rel).await;
    assert_eq!(refused.status(), 429);
    let text = crate::helpers::send(
        &app.router,
        rel.apply(json_request(
            "GET",
            &format!("{PRODUCTION}/events"),
            &Value::Null,
        )),
    )
    .await;
    assert_eq!(
        text.json()["error"]["code"],
        "too_many_streams",
        "{}",
        text.body
    );
    assert!(text.body.contains("close some tabs"), "{}", text.body);
    held.pop();
    assert_eq!(open(&rel).await.status(), 200);
}

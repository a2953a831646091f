//! Crashes lose nothing (issue 17): the real server is killed with SIGKILL at random moments
//! while 8 clients record deployments through the REST API, each with an `Idempotency-Key`,
//! retrying until they get an answer. Afterwards every acknowledged deployment exists exactly
//! once with exactly one audit entry, nothing else was recorded, and the database is sound.
//!
//! `SWITCHYARD_CRASH_KILLS` sets the number of kills per engine (default 5);
//! `scripts/crash-loop.sh` runs 100 on SQLite and 30 on PostgreSQL.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use crate::{
    helpers::{Engine, TestDb},
    on_both_engines,
    process::{
        admin_bearer, assert_each_stored_once, create_parts_environment, free_port, http, json_of,
        record_until_acknowledged, status, write_script, Server, HANGING_DRIVER,
    },
};

on_both_engines!(
    a_server_killed_at_random_moments_loses_no_acknowledged_deployment,
    an_operation_killed_mid_way_is_interrupted_and_its_lock_freed,
);

const CLIENTS: usize = 8;

fn kills() -> usize {
    std::env::var("SWITCHYARD_CRASH_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5)
}

/// A pseudo-random number generator (xorshift), seeded from the clock and printed, so a run
/// that finds something can be repeated with `SWITCHYARD_CRASH_SEED`.
struct Dice(u64);

impl Dice {
    fn new() -> Self {
        let seed = std::env::var("SWITCHYARD_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            })
            | 1;
        println!("SWITCHYARD_CRASH_SEED={seed}");
        Self(seed)
    }

    /// A number in `range`.
    fn roll(&mut self, range: std::ops::Range<u64>) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        range.start + self.0 % (range.end - range.start)
    }
}

async fn a_server_killed_at_random_moments_loses_no_acknowledged_deployment(engine: Engine) {
    let db = TestDb::new(engine).await;
    let addr = format!("127.0.0.1:{}", free_port());
    let env = [("SWITCHYARD_ADDR", addr.as_str())];
    let mut server = Server::start_with(&db, &db.url, &env).await;
    let bearer = admin_bearer(&db, "crash").await;
    create_parts_environment(&addr, &bearer, "production").await;

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let retries = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (stop, acknowledged, retries) =
                (stop.clone(), acknowledged.clone(), retries.clone());
            let (addr, bearer) = (addr.clone(), bearer.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let version = format!("{client}.{n}.0");
                    let key = format!("crash-{client}-{n}");
                    let tried =
                        record_until_acknowledged(&addr, &bearer, "production", &version, &key)
                            .await;
                    retries.fetch_add(tried, Ordering::Relaxed);
                    acknowledged.lock().expect("lock").push(version);
                    n += 1;
                }
            })
        })
        .collect();

    let mut dice = Dice::new();
    let count = || acknowledged.lock().expect("lock").len();
    for _ in 0..kills() {
        tokio::time::sleep(Duration::from_millis(dice.roll(50..500))).await;
        server.kill().await;
        server = Server::start_with(&db, &db.url, &env).await;
    }
    // The last server takes writes again before the clients stop.
    let after_last = count();
    while count() < after_last + 40 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client");
    }
    server.stop().await;

    let acknowledged = acknowledged.lock().expect("lock").clone();
    println!(
        "{} kills, {} deployments acknowledged, {} retries",
        kills(),
        acknowledged.len(),
        retries.load(Ordering::Relaxed)
    );
    assert_each_stored_once(&db, &acknowledged).await;
    if engine == Engine::Sqlite {
        let damaged = "SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'";
        assert_eq!(
            db.count(damaged).await,
            0,
            "the file passes its integrity check"
        );
        let dangling = "SELECT COUNT(*) FROM pragma_foreign_key_check";
        assert_eq!(db.count(dangling).await, 0, "no row points at nothing");
    }
}

async fn an_operation_killed_mid_way_is_interrupted_and_its_lock_freed(engine: Engine) {
    let db = TestDb::new(engine).await;
    let (driver, calls, config) = (
        db.dir.path().join("driver.sh"),
        db.dir.path().join("calls"),
        db.dir.path().join("switchyard.toml"),
    );
    write_script(&driver, HANGING_DRIVER);
    std::fs::write(
        &config,
        format!(
            "[[environment]]\nservice = \"parts\"\nname = \"staging\"\n\
             driver = {{ kind = \"command\", program = \"{}\", timeout = \"10m\", env = {{ CALLS = \"{}\" }} }}\n",
            driver.display(),
            calls.display()
        ),
    )
    .expect("config");
    let addr = format!("127.0.0.1:{}", free_port());
    let config = config.display().to_string();
    let env = [
        ("SWITCHYARD_ADDR", addr.as_str()),
        ("SWITCHYARD_CONFIG", config.as_str()),
    ];
    let server = Server::start_with(&db, &db.url, &env).await;
    let bearer = admin_bearer(&db, "operator").await;
    // Staging: production would ask for a signed release first.
    create_parts_environment(&addr, &bearer, "staging").await;
    let operate = |version: &str, revision: i64| {
        let body = format!(
            r#"{{"action": "deploy", "version": "{version}", "expected_revision": {revision}}}"#
        );
        let (addr, bearer) = (addr.clone(), bearer.clone());
        async move {
            let headers = [
                ("authorization", bearer.as_str()),
                ("content-type", "application/json"),
            ];
            let path = "/api/v1/services/parts/environments/staging/operations";
            let answer = http(&addr, "POST", path, &headers, &body).await;
            assert_eq!(status(&answer), Some(202), "{answer}");
            json_of(&answer)["id"].as_i64().expect("operation id")
        }
    };
    let read = |path: String| {
        let (addr, bearer) = (addr.clone(), bearer.clone());
        async move { json_of(&http(&addr, "GET", &path, &[("authorization", &bearer)], "").await) }
    };
    let settled = |id: i64, wanted: &'static str| {
        let read = &read;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            loop {
                let operation = read(format!("/api/v1/operations/{id}")).await;
                if operation["status"] == wanted {
                    return operation;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "not {wanted}: {operation}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let first = operate("1.0.0", 0).await;
    settled(first, "succeeded").await;
    let hanging = operate("hang", 1).await;
    let noted = |call: &str| {
        std::fs::read_to_string(&calls)
            .unwrap_or_default()
            .lines()
            .any(|line| line.starts_with(call))
    };
    while !noted("deploy hang ") {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    server.kill().await;
    let killed = std::time::Instant::now();
    let server = Server::start_with(&db, &db.url, &env).await;
    let operation = settled(hanging, "interrupted").await;
    // SQLite has one process, which interrupts at startup; a PostgreSQL replica waits for
    // the dead one's heartbeat to go stale (HEARTBEAT_TIMEOUT).
    println!("interrupted {:?} after the kill", killed.elapsed());
    let deployment = read(format!(
        "/api/v1/deployments/{}",
        operation["deployment_id"]
    ))
    .await;
    assert_eq!(deployment["status"], "failed", "{deployment}");
    // The driver never finished the deploy: what is live is what it last finished.
    let environment = read("/api/v1/services/parts/environments/staging".into()).await;
    assert_eq!(environment["current_version"], "1.0.0", "{environment}");
    assert_eq!(environment["revision"], 2, "{environment}");
    // The lock is free, and the next operation runs to its end.
    let next = operate("1.1.0", 2).await;
    settled(next, "succeeded").await;
    let environment = read("/api/v1/services/parts/environments/staging".into()).await;
    assert_eq!(environment["current_version"], "1.1.0", "{environment}");
    server.stop().await;

    let lines = std::fs::read_to_string(&calls).expect("calls");
    let called: Vec<_> = lines
        .lines()
        .map(|line| line.rsplit_once(' ').expect("pid").0)
        .collect();
    assert_eq!(
        called,
        ["deploy 1.0.0", "deploy hang", "deploy 1.1.0"],
        "nothing was driven twice"
    );
    // The orphaned driver outlived the killed server; end it.
    if let Some((_, pid)) = lines.lines().nth(1).and_then(|l| l.rsplit_once(' ')) {
        let _ = std::process::Command::new("kill").arg(pid).status();
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_log WHERE action = 'operation.interrupted'")
            .await,
        1
    );
}

//! Crashes lose nothing (issue 17): the real server is killed with SIGKILL at random moments
//! while 8 clients record deployments through the REST API, each with an `Idempotency-Key`,
//! retrying until they get an answer. Afterwards every acknowledged deployment exists exactly
//! once with exactly one audit entry, nothing else was recorded, and the database is sound.
//!
//! `SWITCHYARD_CRASH_KILLS` sets the number of kills per engine (default 5);
//! `scripts/crash-loop.sh` runs 100 on SQLite and 30 on PostgreSQL.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use crate::{
    helpers::{Engine, TestDb},
    on_both_engines,
    process::{admin_bearer, create_parts_environment, status, try_http, Server},
};

on_both_engines!(a_server_killed_at_random_moments_loses_no_acknowledged_deployment);

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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
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
                    let body = format!(
                        r#"{{"service": "parts", "environment": "production", "version": "{version}", "status": "succeeded"}}"#
                    );
                    let headers = [
                        ("authorization", bearer.as_str()),
                        ("content-type", "application/json"),
                        ("idempotency-key", key.as_str()),
                    ];
                    // Until answered: a refused connection, a response cut off by the kill,
                    // or a 503 while the database recovers are all retried with the same key.
                    loop {
                        let answer = try_http(&addr, "POST", "/api/v1/deployments", &headers, &body)
                            .await
                            .unwrap_or_default();
                        match status(&answer) {
                            Some(200 | 201) => break,
                            None | Some(500..) => {
                                retries.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            Some(_) => panic!("{version} refused: {answer}"),
                        }
                    }
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
    let db_handle = app::backend::Database::connect(&db.url)
        .await
        .expect("opens");
    let rows: Vec<(String, i64)> = app::on_pool!(db_handle.reader(), |pool| sqlx::query_as(
        "SELECT version, COUNT(*) FROM deployments GROUP BY version"
    )
    .fetch_all(pool)
    .await
    .expect("versions"));
    let stored: BTreeMap<String, i64> = rows.into_iter().collect();
    let expected: BTreeMap<String, i64> = acknowledged.iter().map(|v| (v.clone(), 1)).collect();
    assert_eq!(
        stored, expected,
        "every acknowledged deployment exactly once, and nothing else"
    );
    let audited: Vec<(String, i64)> = app::on_pool!(db_handle.reader(), |pool| {
        sqlx::query_as(
        "SELECT object, COUNT(*) FROM audit_log WHERE action = 'deployment.recorded' GROUP BY object"
    )
    .fetch_all(pool)
    .await
    .expect("audit")
    });
    assert_eq!(
        audited.len(),
        acknowledged.len(),
        "one audit entry per deployment"
    );
    assert!(audited.iter().all(|(_, n)| *n == 1), "{audited:?}");
    if engine == Engine::Sqlite {
        let checked: Vec<String> = app::on_pool!(db_handle.reader(), |pool| sqlx::query_scalar(
            "PRAGMA integrity_check"
        )
        .fetch_all(pool)
        .await
        .expect("integrity check"));
        assert_eq!(checked, ["ok"]);
        let dangling: Vec<(String, i64)> = app::on_pool!(db_handle.reader(), |pool| {
            sqlx::query_as("SELECT \"table\", rowid FROM pragma_foreign_key_check")
                .fetch_all(pool)
                .await
                .expect("foreign key check")
        });
        assert!(dangling.is_empty(), "{dangling:?}");
    }
    db_handle.close().await;
}

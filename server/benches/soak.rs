//! The soak benchmark (issue 17): the release server as a process of its own, on a history of
//! 1,000,000 deployments and 100,000 incidents, under mixed traffic for 10 minutes: 50 signed-in
//! people reading every section (a page, then a pause of 0.5–1.5 s), API readers, a deployment
//! recorded every 200 ms and a blue-green switch every 30 s. It prints p50/p95/p99 per route,
//! every answer that was not the expected status, and the server's RSS sampled each second
//! (from `/proc`, so it is the server's own memory, not this process's).
//!
//! `scripts/bench.sh soak [--rows N] [--seconds S] [--users U] [--postgres ADMIN_URL]`.
//! Timings are printed, never asserted.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::{
    backend::{
        accounts::{self, manage, manage::NewTokenInput, NewUserInput},
        Caller, Database,
    },
    domain::Timestamp,
};

mod common;
use common::{history::fill, ms, percentile, server::Server, Connection, Rng};

const PASSWORD: &str = "soak-bench-passphrase";

struct Options {
    rows: usize,
    seconds: u64,
    users: usize,
    postgres: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        rows: 1_000_000,
        seconds: 600,
        users: 50,
        postgres: None,
    };
    common::each_option(|name, value| {
        match name {
            "--rows" => options.rows = common::count(name, value),
            "--seconds" => options.seconds = common::count(name, value) as u64,
            "--users" => options.users = common::count(name, value),
            "--postgres" => options.postgres = Some(value.to_owned()),
            _ => return false,
        }
        true
    });
    options
}

/// Every answer, by route: how long it took, and those that were not what was expected.
#[derive(Default)]
struct Record {
    times: BTreeMap<&'static str, Vec<Duration>>,
    errors: Vec<String>,
}

type Shared = Arc<Mutex<Record>>;

/// Sends one request, records its time under `route`, and notes it when the status is not
/// `expected`. Returns the body.
async fn timed(
    record: &Shared,
    connection: &mut Connection,
    route: &'static str,
    (method, path, body): (&str, &str, &str),
    expected: u16,
) -> String {
    let started = Instant::now();
    let (status, answer) = connection.send(method, path, body).await;
    let took = started.elapsed();
    let mut record = record.lock().expect("lock");
    record.times.entry(route).or_default().push(took);
    if status != expected {
        let excerpt: String = answer.chars().take(200).collect();
        record
            .errors
            .push(format!("{method} {path}: {status} {excerpt}"));
    }
    answer
}

/// The database: a fresh SQLite file in `folder`, or a fresh PostgreSQL database.
async fn database_url(options: &Options, folder: &std::path::Path) -> String {
    let Some(admin) = &options.postgres else {
        return format!("sqlite://{}", folder.join("soak.db").display());
    };
    let pool = sqlx::PgPool::connect(admin)
        .await
        .expect("PostgreSQL admin connection");
    for statement in [
        "DROP DATABASE IF EXISTS switchyard_soak_bench WITH (FORCE)",
        "CREATE DATABASE switchyard_soak_bench",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect("database");
    }
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/switchyard_soak_bench")
}

/// Fills the history, then adds the people and the admin token; returns the token.
async fn prepare(url: &str, options: &Options) -> String {
    let db = Database::connect(url).await.expect("database");
    db.migrate().await.expect("migrate");
    let started = Instant::now();
    fill(&db, options.rows, Timestamp::now().0).await;
    println!(
        "{} deployments and {} incidents filled in {:.1} s",
        options.rows,
        options.rows / 10,
        started.elapsed().as_secs_f64()
    );
    let caller = Caller::command_line();
    for user in 0..options.users {
        let input = NewUserInput {
            username: format!("reader-{user}"),
            display_name: String::new(),
            role: "viewer".into(),
            password: PASSWORD.into(),
        };
        accounts::create_user(&db, &caller, &input)
            .await
            .expect("user");
    }
    let input = NewTokenInput {
        name: "soak".into(),
        role: "admin".into(),
        expires: "1d".into(),
    };
    let token = manage::create_token(&db, &caller, &input)
        .await
        .expect("token")
        .secret;
    db.close().await;
    token
}

/// The release binary on `url`, with a blue-green `soak/web` switched by `true` whose
/// slots are the server itself (on its health route).
async fn start_server(url: &str, folder: &std::path::Path) -> Server {
    let config = folder.join("soak.toml");
    std::fs::write(
        &config,
        "[[environment]]\nservice = \"soak\"\nname = \"web\"\n\
         driver = { kind = \"command\", program = \"true\", timeout = \"10s\" }\n\
         health = { interval = \"100ms\", verify_for = \"1s\", healthy_within = \"10s\" }\n",
    )
    .expect("config");
    let config = config.display().to_string();
    Server::start(url, folder, &[("SWITCHYARD_CONFIG", config.as_str())]).await
}

/// What the load needs besides the history: the switched environment with both slots
/// holding a version, and an open release.
async fn set_up(addr: SocketAddr, bearer: &str) -> i64 {
    let mut admin = Connection::open(addr, bearer).await;
    let slot =
        format!(r#"{{"upstream": "http://{addr}", "health_url": "http://{addr}/api/v1/health"}}"#);
    for (path, body) in [
        ("/api/v1/services", r#"{"name": "soak"}"#.to_owned()),
        (
            "/api/v1/services/soak/environments",
            format!(
                r#"{{"name": "web", "tier": "staging", "strategy": "blue_green", "slots": {{"blue": {slot}, "green": {slot}}}}}"#
            ),
        ),
    ] {
        let (status, answer) = admin.send("POST", path, &body).await;
        assert_eq!(status, 201, "{path}: {answer}");
    }
    for (action, revision) in [("deploy", 0), ("switch", 1), ("deploy", 2)] {
        switch(&mut admin, action, revision).await;
    }
    let (status, answer) = admin
        .send(
            "POST",
            "/api/v1/releases",
            r#"{"service": "service-1", "environment": "production", "version": "9.9.9"}"#,
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    json(&answer)["id"].as_i64().expect("release id")
}

/// Runs `action` on `soak/web` at `revision` and waits for it to succeed.
async fn switch(admin: &mut Connection, action: &str, revision: i64) {
    let body =
        format!(r#"{{"action": "{action}", "version": "1.0.0", "expected_revision": {revision}}}"#);
    let path = "/api/v1/services/soak/environments/web/operations";
    let (status, answer) = admin.send("POST", path, &body).await;
    assert_eq!(status, 202, "{action}: {answer}");
    let id = json(&answer)["id"].as_i64().expect("operation id");
    loop {
        let (_, answer) = admin
            .send("GET", &format!("/api/v1/operations/{id}"), "")
            .await;
        match json(&answer)["status"].as_str() {
            Some("running") => tokio::time::sleep(Duration::from_millis(100)).await,
            Some("succeeded") => return,
            _ => panic!("{action} did not succeed: {answer}"),
        }
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Signs `user` in; the session cookie header line.
async fn log_in(addr: SocketAddr, user: usize) -> String {
    let mut login = Connection::open(addr, "X-Soak: login").await;
    let body = serde_json::json!({"username": format!("reader-{user}"), "password": PASSWORD});
    let (status, cookies, text) = login
        .exchange("POST", "/api/v1/session", &body.to_string())
        .await;
    assert_eq!(status, 200, "{text}");
    format!("Cookie: {}", cookies.join("; "))
}

/// One signed-in person: every section in turn, starting at their own place in the tour.
async fn reader(
    addr: SocketAddr,
    (user, cookie): (usize, String),
    release: i64,
    rows: usize,
    record: Shared,
    until: Instant,
) {
    let mut connection = Connection::open(addr, &cookie).await;
    let deployment = format!("/deployments/{rows}");
    let release = format!("/releases/{release}");
    let tour: [(&'static str, &str); 13] = [
        ("Overview", "/"),
        ("Deployments", "/deployments"),
        ("a deployment", &deployment),
        ("Services", "/services"),
        ("a service", "/services/service-1"),
        (
            "an environment",
            "/services/service-1/environments/production",
        ),
        ("Releases", "/releases"),
        ("a release", &release),
        ("Incidents", "/incidents"),
        ("an incident", "/incidents/1"),
        ("Action items", "/action-items"),
        ("Metrics, 30 days", "/metrics?range=30d"),
        ("Account", "/account"),
    ];
    let mut rng = Rng(user as u64 + 1);
    let mut step = user;
    while Instant::now() < until {
        let (route, path) = tour[step % tour.len()];
        timed(&record, &mut connection, route, ("GET", path, ""), 200).await;
        step += 1;
        tokio::time::sleep(Duration::from_millis(500 + rng.below(1000))).await;
    }
}

#[tokio::main]
async fn main() {
    let options = options();
    let folder = tempfile::tempdir().expect("temporary folder");
    let url = database_url(&options, folder.path()).await;
    let token = prepare(&url, &options).await;
    let bearer = format!("Authorization: Bearer {token}");
    let server = start_server(&url, folder.path()).await;
    let addr = server.addr;
    let release = set_up(addr, &bearer).await;
    println!(
        "soak: {} people, API readers, ingest and a switch every 30 s for {} s against {addr}",
        options.users, options.seconds
    );

    // One after another: logins in flight count against their address until their password
    // is checked (the throttle's guard against parallel guessing), so 50 at once from one
    // address would be refused.
    let mut cookies = Vec::new();
    for user in 0..options.users {
        cookies.push(log_in(addr, user).await);
    }
    let record = Shared::default();
    let started = Instant::now();
    let until = started + Duration::from_secs(options.seconds);
    let mut tasks = Vec::new();
    for (user, cookie) in cookies.into_iter().enumerate() {
        tasks.push(tokio::spawn(reader(
            addr,
            (user, cookie),
            release,
            options.rows,
            record.clone(),
            until,
        )));
    }
    // Two API readers, a pause of 100 ms between requests.
    for client in 0..2 {
        let (record, bearer) = (record.clone(), bearer.clone());
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(addr, &bearer).await;
            let reads: [(&'static str, &str); 3] = [
                ("GET /api/v1/deployments", "/api/v1/deployments?limit=50"),
                ("GET /api/v1/incidents", "/api/v1/incidents?limit=50"),
                ("GET /api/v1/metrics", "/api/v1/metrics?range=90d"),
            ];
            let mut step = client;
            while Instant::now() < until {
                let (route, path) = reads[step % reads.len()];
                timed(&record, &mut connection, route, ("GET", path, ""), 200).await;
                step += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    // Ingest: a deployment recorded every 200 ms.
    {
        let (record, bearer) = (record.clone(), bearer.clone());
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(addr, &bearer).await;
            let mut n = 0;
            while Instant::now() < until {
                let body = format!(
                    r#"{{"service": "service-1", "environment": "production", "version": "soak.{n}", "status": "succeeded"}}"#
                );
                let request = ("POST", "/api/v1/deployments", body.as_str());
                timed(&record, &mut connection, "POST /api/v1/deployments", request, 201).await;
                n += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
    }
    // A switch every 30 s, each on a connection of its own (a kept-alive one would idle out).
    {
        let (record, bearer) = (record.clone(), bearer.clone());
        tasks.push(tokio::spawn(async move {
            let mut revision = 3;
            while Instant::now() + Duration::from_secs(30) < until {
                tokio::time::sleep(Duration::from_secs(30)).await;
                let mut admin = Connection::open(addr, &bearer).await;
                let switched = Instant::now();
                switch(&mut admin, "switch", revision).await;
                revision += 1;
                record
                    .lock()
                    .expect("lock")
                    .times
                    .entry("switch, press to done")
                    .or_default()
                    .push(switched.elapsed());
            }
        }));
    }
    let mut rss = Vec::new();
    while Instant::now() < until {
        if let Some(mb) = server.rss_mb() {
            rss.push(mb);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for task in tasks {
        task.await.expect("load task");
    }
    let peak = server.peak_rss_mb().unwrap_or(0.0);
    let exit = server.stop();

    let record = record.lock().expect("lock");
    println!("| route | answers | p50 | p95 | p99 |\n| --- | --- | --- | --- | --- |");
    let mut total = 0;
    for (route, times) in &record.times {
        let mut times = times.clone();
        times.sort();
        total += times.len();
        println!(
            "| {route} | {} | {} | {} | {} |",
            times.len(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(percentile(&times, 0.99))
        );
    }
    println!(
        "{total} answers in {:.0} s, {} not as expected{}",
        started.elapsed().as_secs_f64(),
        record.errors.len(),
        record
            .errors
            .iter()
            .take(10)
            .map(|e| format!("\n  {e}"))
            .collect::<String>()
    );
    let minute = rss.len().min(60);
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    println!(
        "server RSS over {} samples: min {:.1} MB, max {:.1} MB (peak {peak:.1} MB); mean of the first minute {:.1} MB, of the last minute {:.1} MB",
        rss.len(),
        rss.iter().copied().fold(f64::INFINITY, f64::min),
        rss.iter().copied().fold(0.0, f64::max),
        mean(&rss[..minute]),
        mean(&rss[rss.len() - minute..])
    );
    println!("server stopped: {exit}");
}

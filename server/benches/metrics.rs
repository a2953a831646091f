//! The metrics benchmark: the JSON for a 90-day window over a history of 1,000,000 deployments
//! and 100,000 incidents, next to the same aggregate as raw SQL (in `sqlite3` on the same
//! file, or through sqlx on PostgreSQL) and next to the same window over a 10,000-deployment
//! history; then the Metrics page under 16 concurrent clients, with the server's peak RSS
//! (the release binary runs as a process of its own, so the figure is its memory alone).
//! Both histories hold exactly the same 10,000 deployments and 1,000 incidents in the window,
//! so the difference is what the rest of the history costs.
//!
//! `scripts/bench.sh metrics [--rows N] [--clients C] [--samples S] [--postgres ADMIN_URL]`.
//! Timings are printed, never asserted.

use std::time::{Duration, Instant};

use app::{
    backend::{
        accounts::{self, manage, manage::NewTokenInput, NewUserInput},
        metrics::store::DEPLOYMENTS,
        Caller, Database,
    },
    domain::Timestamp,
};

mod common;
use common::{
    history::{fill, window, WINDOW_ROWS},
    ms, percentile,
    server::Server,
    Connection,
};

const PASSWORD: &str = "metrics-bench-passphrase";

struct Options {
    rows: usize,
    clients: usize,
    samples: usize,
    postgres: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        rows: 1_000_000,
        clients: 16,
        samples: 20,
        postgres: None,
    };
    common::each_option(|name, value| {
        match name {
            "--rows" => options.rows = common::count(name, value),
            "--clients" => options.clients = common::count(name, value),
            "--samples" => options.samples = common::count(name, value),
            "--postgres" => options.postgres = Some(value.to_owned()),
            _ => return false,
        }
        true
    });
    options
}

/// The same aggregate the metrics need, as one SQL statement over the same rows (`CASE`
/// rather than summing truth values, which PostgreSQL does not do).
fn raw_aggregate(now: i64) -> String {
    let (from, to) = window(now);
    let count = |condition: &str| format!("SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)");
    format!(
        "SELECT COUNT(*), {}, {}, MIN(cause_started), MIN(cause_resolved), {}, {}, \
         SUM(finished_at - started_at) \
         FROM ({DEPLOYMENTS}{from} AND d.finished_at < {to} AND d.environment_id IN (1, 2, 3, 4)) AS facts",
        count("status = 'succeeded'"),
        count("fixes_incident"),
        count("next_success IS NOT NULL"),
        count("commit_at IS NOT NULL"),
    )
}

/// Median wall time of `sqlite3` running `sql` on `file`, as its `.timer` reports it.
fn sqlite3_median(file: &std::path::Path, sql: &str, runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            // `.timer` reports only for statements read from standard input.
            let mut child = std::process::Command::new("sqlite3")
                .arg(file)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("sqlite3 (apt install sqlite3)");
            let script = format!(".timer on\n{sql};\n");
            std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), script.as_bytes())
                .expect("write to sqlite3");
            let output = child.wait_with_output().expect("sqlite3 ran");
            let text = String::from_utf8_lossy(&output.stdout);
            let real = text
                .split("real ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or_else(|| {
                    panic!(
                        "no timing from sqlite3: {text} {}",
                        String::from_utf8_lossy(&output.stderr)
                    )
                });
            Duration::from_secs_f64(real)
        })
        .collect();
    times.sort();
    percentile(&times, 0.5)
}

struct Run {
    json_p50: Duration,
    raw: Duration,
}

async fn run(
    options: &Options,
    url: &str,
    file: Option<&std::path::Path>,
    total: usize,
    load: bool,
) -> Run {
    let now = Timestamp::now().0;
    let db = Database::connect(url).await.expect("database");
    db.migrate().await.expect("migrate");
    let started = Instant::now();
    fill(&db, total, now).await;
    println!(
        "{total} deployments and {} incidents filled in {:.1} s",
        total / 10,
        started.elapsed().as_secs_f64()
    );
    let raw = match file {
        Some(file) => sqlite3_median(file, &raw_aggregate(now), 5),
        None => {
            let mut times = Vec::new();
            for _ in 0..5 {
                let started = Instant::now();
                app::on_pool!(db.reader(), |pool| sqlx::query(&raw_aggregate(now))
                    .fetch_one(pool)
                    .await
                    .map(drop))
                .expect("raw");
                times.push(started.elapsed());
            }
            times.sort();
            percentile(&times, 0.5)
        }
    };
    let caller = Caller::command_line();
    let token = manage::create_token(
        &db,
        &caller,
        &NewTokenInput {
            name: "bench".into(),
            role: "viewer".into(),
            expires: "1d".into(),
        },
    )
    .await
    .expect("token")
    .secret;
    accounts::create_user(
        &db,
        &caller,
        &NewUserInput {
            username: "manager".into(),
            display_name: String::new(),
            role: "viewer".into(),
            password: PASSWORD.into(),
        },
    )
    .await
    .expect("user");
    db.close().await;

    let folder = tempfile::tempdir().expect("temporary folder");
    let server = Server::start(url, folder.path(), &[]).await;
    let addr = server.addr;
    let (from, to) = window(now);
    let path = format!(
        "/api/v1/metrics?from={}&to={}",
        Timestamp(from).to_rfc3339().expect("from"),
        Timestamp(to).to_rfc3339().expect("to")
    );
    let mut connection = Connection::open(addr, &format!("Authorization: Bearer {token}")).await;
    let (status, body) = connection.send("GET", &path, "").await;
    assert_eq!(status, 200, "{body}");
    let figures: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(figures["attempted"].as_u64().unwrap_or(0) > 0, "{figures}");
    let mut times = Vec::new();
    for _ in 0..options.samples {
        let started = Instant::now();
        let (status, _) = connection.send("GET", &path, "").await;
        times.push(started.elapsed());
        assert_eq!(status, 200);
    }
    times.sort();
    let json_p50 = percentile(&times, 0.5);
    println!(
        "  JSON, 90-day window:  p50 {} p95 {} ({} attempted, {} incidents resolved in it)",
        ms(json_p50),
        ms(percentile(&times, 0.95)),
        figures["attempted"],
        figures["incidents_resolved"]
    );
    println!(
        "  raw SQL aggregate:    {} ({})",
        ms(raw),
        if file.is_some() {
            "sqlite3 on the same file, median of 5"
        } else {
            "sqlx, median of 5"
        }
    );

    if load {
        let mut login = Connection::open(addr, "X-Bench: login").await;
        let body = serde_json::json!({"username": "manager", "password": PASSWORD}).to_string();
        let (status, cookies, text) = login.exchange("POST", "/api/v1/session", &body).await;
        assert_eq!(status, 200, "{text}");
        let cookie = format!("Cookie: {}", cookies.join("; "));
        // The server's peak RSS from here on.
        server.reset_peak();
        let baseline = server.rss_mb().unwrap_or(0.0);
        let per_client = options.samples.max(10);
        let started = Instant::now();
        let clients: Vec<_> = (0..options.clients)
            .map(|_| {
                let cookie = cookie.clone();
                tokio::spawn(async move {
                    let mut connection = Connection::open(addr, &cookie).await;
                    let mut times = Vec::new();
                    for _ in 0..per_client {
                        let started = Instant::now();
                        let (status, body) = connection.send("GET", "/metrics?range=90d", "").await;
                        times.push(started.elapsed());
                        assert_eq!(status, 200);
                        assert!(body.contains("<svg"), "the page has its charts");
                    }
                    times
                })
            })
            .collect();
        let mut times = Vec::new();
        for client in clients {
            times.extend(client.await.expect("client"));
        }
        let elapsed = started.elapsed();
        times.sort();
        println!(
            "  Metrics page, {} clients × {per_client}: p50 {} p95 {} ({:.1} pages/s); server peak RSS {:.0} MB (at the start of the load: {:.0} MB)",
            options.clients,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            times.len() as f64 / elapsed.as_secs_f64(),
            server.peak_rss_mb().unwrap_or(0.0),
            baseline
        );
    }
    server.stop();
    Run { json_p50, raw }
}

#[tokio::main]
async fn main() {
    let options = options();
    let folder = tempfile::tempdir().expect("temporary folder");
    let engine = if options.postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("Switchyard metrics benchmark: {engine}; the same {WINDOW_ROWS} deployments in a 90-day window of each history");
    let mut runs = Vec::new();
    for (n, total) in [options.rows, WINDOW_ROWS].into_iter().enumerate() {
        let (url, file) = match &options.postgres {
            None => {
                let file = folder.path().join(format!("metrics-{n}.db"));
                (format!("sqlite://{}", file.display()), Some(file))
            }
            Some(admin) => {
                let pool = sqlx::PgPool::connect(admin)
                    .await
                    .expect("PostgreSQL admin connection");
                let name = format!("switchyard_metrics_bench_{n}");
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(&pool)
                    .await
                    .expect("drop");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .expect("create");
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(base, _)| base);
                (format!("{base}/{name}"), None)
            }
        };
        println!("history of {total} deployments:");
        runs.push(run(&options, &url, file.as_deref(), total, n == 0).await);
    }
    let (large, small) = (&runs[0], &runs[1]);
    println!(
        "ratios: JSON / raw SQL at {} rows = {:.2}; JSON at {} rows / JSON at {WINDOW_ROWS} rows = {:.2}",
        options.rows,
        large.json_p50.as_secs_f64() / large.raw.as_secs_f64(),
        options.rows,
        large.json_p50.as_secs_f64() / small.json_p50.as_secs_f64()
    );
}

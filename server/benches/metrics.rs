//! The metrics benchmark: the JSON for a 90-day window over a history of 1,000,000 deployments
//! and 100,000 incidents, next to the same aggregate as raw SQL (in `sqlite3` on the same
//! file, or through sqlx on PostgreSQL) and next to the same window over a 10,000-deployment
//! history; then the Metrics page under 16 concurrent clients, with the process's peak RSS.
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
use server::{Application, Config};

mod common;
use common::{ms, percentile, Connection, Rng};

const DAY: i64 = 86_400_000;
/// Deployments (and a tenth as many incidents) that finish inside the 90-day window.
const WINDOW_ROWS: usize = 10_000;
const SERVICES: usize = 4;
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let number = || value.replace('_', "").parse::<usize>().expect("a number");
        match args[i].as_str() {
            "--rows" => options.rows = number(),
            "--clients" => options.clients = number(),
            "--samples" => options.samples = number(),
            "--postgres" => options.postgres = Some(value),
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    options
}

/// The window: the 90 days up to `now`.
fn window(now: i64) -> (i64, i64) {
    (now - 90 * DAY, now)
}

/// Fills `total` deployments and a tenth as many incidents into `SERVICES` production
/// environments: the last `WINDOW_ROWS` (and incidents) in the window, generated from the
/// same seed whatever `total` is, the rest spread over the ten years before it.
async fn fill(db: &Database, total: usize, now: i64) {
    let (from, to) = window(now);
    let mut sql = String::new();
    let mut tx = db.begin().await.expect("begin");
    for s in 1..=SERVICES {
        for statement in [
            format!("INSERT INTO services (id, name, created_at) VALUES ({s}, 'service-{s}', 0)"),
            format!("INSERT INTO environments (id, service_id, name, tier, strategy, created_at) VALUES ({s}, {s}, 'production', 'production', 'rolling', 0)"),
        ] {
            app::on_tx!(&mut tx, |conn| sqlx::query(&statement).execute(conn).await.map(drop)).expect("catalog");
        }
    }
    let old = total - WINDOW_ROWS;
    // Old rows from an ever-changing seed, window rows from a fixed one.
    let (mut old_rng, mut window_rng) = (Rng(17), Rng(29));
    for i in 0..total {
        let (rng, start) = if i < old {
            let step = (10 * 365 * DAY) / old.max(1) as i64;
            (&mut old_rng, from - 10 * 365 * DAY + i as i64 * step)
        } else {
            let step = (to - from) / WINDOW_ROWS as i64;
            (&mut window_rng, from + (i - old) as i64 * step)
        };
        let service = 1 + rng.below(SERVICES as u64);
        let status = match rng.below(100) {
            0..=89 => "succeeded",
            90..=96 => "failed",
            _ => "cancelled",
        };
        let finished = start + 120_000 + rng.below(900_000) as i64;
        let commit = if rng.below(100) < 85 {
            (start - 3_600_000 - rng.below(40 * 3_600_000) as i64).to_string()
        } else {
            "NULL".into()
        };
        let rolled_back = if status == "succeeded" && rng.below(100) < 3 {
            (finished + 1_200_000).to_string()
        } else {
            "NULL".into()
        };
        let is_rollback = if rng.below(100) < 5 { "TRUE" } else { "FALSE" };
        if sql.is_empty() {
            sql.push_str("INSERT INTO deployments (service_id, environment_id, version, commit_sha, commit_at, strategy, started_at, finished_at, status, is_rollback, rolled_back_at, recorded_by_kind, recorded_by, source, created_at) VALUES ");
        } else {
            sql.push(',');
        }
        sql.push_str(&format!("({service}, {service}, '1.{i}', '{:016x}', {commit}, 'rolling', {start}, {finished}, '{status}', {is_rollback}, {rolled_back}, 'token', 'bench', 'api', {finished})", rng.next()));
        if i % 500 == 499 || i + 1 == total {
            app::on_tx!(&mut tx, |conn| sqlx::query(&sql)
                .execute(conn)
                .await
                .map(drop))
            .expect("deployments");
            sql.clear();
        }
        if i % 50_000 == 49_999 {
            eprint!("\r  {} of {total} deployments", i + 1);
        }
    }
    eprintln!();
    // Incidents: each caused by the deployment it follows (deployment ids are 1..=total, in
    // insertion order), fixed by the next one, resolved within two hours.
    let incidents = total / 10;
    for k in 0..incidents {
        let deployment = k * 10 + 1;
        let in_window = deployment > old;
        let rng = if in_window {
            &mut window_rng
        } else {
            &mut old_rng
        };
        let started = if in_window {
            from + ((deployment - old) as i64) * ((to - from) / WINDOW_ROWS as i64) + 900_000
        } else {
            from - 10 * 365 * DAY
                + (deployment as i64) * ((10 * 365 * DAY) / old.max(1) as i64)
                + 900_000
        };
        let resolved = started + 600_000 + rng.below(7_200_000) as i64;
        let service = 1 + rng.below(SERVICES as u64);
        let statement = format!(
            "INSERT INTO incidents (id, service_id, environment_id, title, severity, status, commander, declared_by_kind, declared_by, started_at, detected_at, resolved_at, created_at) \
             VALUES ({id}, {service}, {service}, 'bench', 'SEV3', 'resolved', 'bench', 'user', 'bench', {started}, {started}, {resolved}, {started})",
            id = k + 1
        );
        let links = format!(
            "INSERT INTO incident_links (incident_id, deployment_id, kind, linked_by, linked_at) VALUES ({id}, {deployment}, 'cause', 'bench', {started}), ({id}, {fix}, 'fix', 'bench', {started})",
            id = k + 1,
            fix = (deployment + 1).min(total)
        );
        for statement in [statement, links] {
            app::on_tx!(&mut tx, |conn| sqlx::query(&statement)
                .execute(conn)
                .await
                .map(drop))
            .expect("incident");
        }
    }
    tx.commit().await.expect("commit");
    app::on_pool!(db.writer(), |pool| sqlx::query("ANALYZE")
        .execute(pool)
        .await
        .map(drop))
    .expect("analyze");
}

/// The same aggregate the metrics need, as one SQL statement over the same rows.
fn raw_aggregate(now: i64) -> String {
    let (from, to) = window(now);
    format!(
        "SELECT COUNT(*), SUM(status = 'succeeded'), SUM(fixes_incident), MIN(cause_started), MIN(cause_resolved), \
         SUM(next_success IS NOT NULL), SUM(commit_at IS NOT NULL), SUM(finished_at - started_at) \
         FROM ({DEPLOYMENTS}{from} AND d.finished_at < {to} AND d.environment_id IN (1, 2, 3, 4)) AS facts"
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

/// The server's peak resident memory since the last reset, in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
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

    let config = Config {
        addr: "127.0.0.1:0".parse().expect("address"),
        database_url: url.to_owned(),
        site_root: std::env::var("SWITCHYARD_SITE_ROOT").map_or_else(
            |_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site"),
            Into::into,
        ),
        log_level: "warn".into(),
        ..Config::default()
    };
    let application = Application::build(&config).await.expect("application");
    let addr = application.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
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
        // Peak RSS from here on: reset the high-water mark (Linux: write 5 to clear_refs).
        let baseline = {
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            peak_rss_mb()
        };
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
            "  Metrics page, {} clients × {per_client}: p50 {} p95 {} ({:.1} pages/s); peak RSS {:.0} MB (at the start of the load: {:.0} MB)",
            options.clients,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            times.len() as f64 / elapsed.as_secs_f64(),
            peak_rss_mb(),
            baseline
        );
    }
    let _ = stop.send(());
    server.await.expect("server").expect("serve");
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

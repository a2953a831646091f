//! The deployments benchmark: ingest through the HTTP API (concurrent clients) next to a bare
//! sqlx insert loop with the same durability settings, then the Deployments list's first page
//! and a filtered page deep in the history, at a million rows.
//!
//! `scripts/bench.sh [--rows N] [--http-rows M] [--clients C] [--postgres ADMIN_URL]`; see the
//! README for results. Timings are printed, never asserted.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use app::{
    backend::{
        accounts::manage::{self, NewTokenInput},
        catalog, AppState, Caller, Database,
    },
    domain::{
        catalog::{EnvironmentInput, ServiceInput, SlotInput, SlotsInput},
        Timestamp,
    },
};
use server::{Application, Config};

mod common;
use common::{ms, percentile, Connection, Rng};

const SERVICES: [&str; 3] = ["parts-api", "billing", "search"];
const ENVIRONMENTS: [(&str, &str, &str); 3] = [
    ("production", "production", "blue_green"),
    ("staging", "staging", "rolling"),
    ("development", "development", "canary"),
];
/// The oldest deployment is this long before now.
const HISTORY: Duration = Duration::from_secs(2 * 365 * 86_400);

#[derive(Debug)]
struct Options {
    rows: usize,
    http_rows: usize,
    bare_rows: usize,
    clients: usize,
    samples: usize,
    postgres: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        rows: 1_000_000,
        http_rows: 50_000,
        bare_rows: 20_000,
        clients: 16,
        samples: 200,
        postgres: None,
    };
    common::each_option(|name, value| {
        match name {
            "--rows" => options.rows = common::count(name, value),
            "--http-rows" => options.http_rows = common::count(name, value),
            "--bare-rows" => options.bare_rows = common::count(name, value),
            "--clients" => options.clients = common::count(name, value),
            "--samples" => options.samples = common::count(name, value),
            "--postgres" => options.postgres = Some(value.to_owned()),
            _ => return false,
        }
        true
    });
    options.http_rows = options.http_rows.min(options.rows);
    options
}

/// A small deterministic generator: the same data every run.
/// Row `i` of `total` of the generated history, oldest first.
struct Generated {
    service: &'static str,
    environment: &'static str,
    version: String,
    sha: String,
    started_at: Timestamp,
    finished_at: Timestamp,
    status: &'static str,
}

fn generate(rng: &mut Rng, i: usize, total: usize, oldest: Timestamp) -> Generated {
    let step = HISTORY.as_millis() as u64 / total.max(1) as u64;
    let started_at = Timestamp(oldest.0 + (i as u64 * step) as i64);
    let status = match rng.below(100) {
        0..=89 => "succeeded",
        90..=96 => "failed",
        _ => "cancelled",
    };
    Generated {
        service: SERVICES[rng.below(3) as usize],
        environment: ENVIRONMENTS[rng.below(3) as usize].0,
        version: format!("{}.{}.{}", i / 100_000, (i / 1000) % 100, i % 1000),
        sha: format!(
            "{:016x}{:016x}{:08x}",
            rng.next(),
            rng.next(),
            rng.next() as u32
        ),
        started_at,
        finished_at: Timestamp(started_at.0 + 60_000 + rng.below(600_000) as i64),
        status,
    }
}

/// The services and their environments every measured history is recorded against.
fn catalog_inputs() -> Vec<(ServiceInput, Vec<EnvironmentInput>)> {
    let slot = |n: u8| SlotInput {
        upstream: format!("http://10.0.0.{n}:8080"),
        health_url: format!("http://10.0.0.{n}:8080/health"),
    };
    SERVICES
        .iter()
        .map(|service| {
            let environments = ENVIRONMENTS
                .iter()
                .map(|&(name, tier, strategy)| EnvironmentInput {
                    name: name.into(),
                    tier: tier.into(),
                    strategy: strategy.into(),
                    slots: (strategy == "blue_green").then(|| SlotsInput {
                        blue: slot(1),
                        green: slot(2),
                    }),
                })
                .collect();
            let service = ServiceInput {
                name: (*service).into(),
                ..ServiceInput::default()
            };
            (service, environments)
        })
        .collect()
}

/// The catalog through the application's own functions, as an admin would set it up.
async fn set_up_catalog(state: &AppState) {
    let caller = Caller::command_line();
    for (service, environments) in catalog_inputs() {
        catalog::create_service(&state.db, &caller, &service, None)
            .await
            .expect("service");
        for input in environments {
            catalog::create_environment(state, &caller, &service.name, &input, None)
                .await
                .expect("environment");
        }
    }
}

/// The same catalog straight into the bare baseline's database (it has no application).
async fn bare_catalog(db: &Database) {
    let now = Timestamp::now();
    let mut tx = db.begin().await.expect("transaction");
    for (service, environments) in catalog_inputs() {
        let service = service.parse().expect("service input");
        let id = catalog::store::insert_service(&mut tx, &service, now)
            .await
            .expect("service")
            .id;
        for input in environments {
            let environment = input.parse().expect("environment input");
            catalog::store::insert_environment(&mut tx, id, &environment, now)
                .await
                .expect("environment");
        }
    }
    tx.commit().await.expect("commit");
}

/// Fresh database URLs for the measured application and the bare baseline.
async fn databases(options: &Options, folder: &std::path::Path) -> (String, String) {
    let Some(admin) = &options.postgres else {
        let url = |name: &str| format!("sqlite://{}", folder.join(name).display());
        return (url("bench.db"), url("bare.db"));
    };
    let pool = sqlx::PgPool::connect(admin)
        .await
        .expect("PostgreSQL admin connection");
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base)
        .to_owned();
    let mut urls = Vec::new();
    for name in ["switchyard_bench", "switchyard_bench_bare"] {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&pool)
            .await
            .expect("drop");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .expect("create");
        urls.push(format!("{base}/{name}"));
    }
    (urls[0].clone(), urls[1].clone())
}

const INSERT: &str = "INSERT INTO deployments (service_id, environment_id, version, commit_sha, \
    commit_at, strategy, slot, started_at, finished_at, status, is_rollback, recorded_by_kind, \
    recorded_by, source, notes, url, external_id, created_at) VALUES ";

/// The bare baseline: one INSERT per transaction, in a loop, on the same engine settings.
async fn bare_inserts(url: &str, rows: usize, oldest: Timestamp) -> f64 {
    let db = Database::connect(url).await.expect("bare database");
    db.migrate().await.expect("migrations");
    bare_catalog(&db).await;
    let mut rng = Rng(7);
    let started = Instant::now();
    for i in 0..rows {
        let row = generate(&mut rng, i, rows, oldest);
        let mut tx = db.begin().await.expect("begin");
        app::on_tx!(&mut tx, |conn| {
            sqlx::query(&format!(
                "{INSERT}($1, $2, $3, $4, NULL, 'rolling', NULL, $5, $6, $7, FALSE, 'token', 'bench', 'api', '', NULL, NULL, $8)"
            ))
            .bind(1_i64)
            .bind(2_i64)
            .bind(&row.version)
            .bind(&row.sha)
            .bind(row.started_at)
            .bind(row.finished_at)
            .bind(row.status)
            .bind(Timestamp::now())
            .execute(conn)
            .await
            .map(drop)
        })
        .expect("insert");
        tx.commit().await.expect("commit");
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    db.close().await;
    rate
}

/// Fills the history fast (many rows per statement and transaction): not measured as ingest.
async fn bulk_fill(db: &Database, from: usize, total: usize, oldest: Timestamp) {
    const PER_STATEMENT: usize = 500;
    const PER_TRANSACTION: usize = 50_000;
    let mut rng = Rng(11);
    let mut i = from;
    while i < total {
        let mut tx = db.begin().await.expect("begin");
        let end = (i + PER_TRANSACTION).min(total);
        while i < end {
            let chunk = (end - i).min(PER_STATEMENT);
            let mut sql = String::from(INSERT);
            for k in 0..chunk {
                let row = generate(&mut rng, i + k, total, oldest);
                let service = SERVICES.iter().position(|s| *s == row.service).unwrap_or(0);
                let environment = ENVIRONMENTS
                    .iter()
                    .position(|e| e.0 == row.environment)
                    .unwrap_or(0);
                let environment_id = service * 3 + environment + 1;
                let strategy = ENVIRONMENTS[environment].2;
                if k > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "({}, {environment_id}, '{}', '{}', {}, '{strategy}', NULL, {}, {}, '{}', FALSE, 'token', 'bench', 'api', '', NULL, NULL, {})",
                    service + 1,
                    row.version,
                    row.sha,
                    row.started_at.0 - 3_600_000,
                    row.started_at.0,
                    row.finished_at.0,
                    row.status,
                    row.finished_at.0,
                ));
            }
            app::on_tx!(&mut tx, |conn| sqlx::query(&sql)
                .execute(conn)
                .await
                .map(drop))
            .expect("bulk insert");
            i += chunk;
        }
        tx.commit().await.expect("commit");
        eprint!("\r  filled {i} of {total} rows");
    }
    eprintln!();
}

async fn latencies(
    addr: std::net::SocketAddr,
    token: &str,
    path: &str,
    samples: usize,
) -> (Duration, Duration, usize) {
    let mut connection = Connection::open(addr, &format!("Authorization: Bearer {token}")).await;
    let (status, body) = connection.send("GET", path, "").await;
    assert_eq!(status, 200, "{path}: {body}");
    let rows = body.matches("\"version\"").count();
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let (status, _) = connection.send("GET", path, "").await;
        times.push(started.elapsed());
        assert_eq!(status, 200);
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95), rows)
}

#[tokio::main]
async fn main() {
    let options = options();
    let folder = tempfile::tempdir().expect("temporary folder");
    let (url, bare_url) = databases(&options, folder.path()).await;
    let engine = if options.postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "Switchyard deployments benchmark: {engine}, {} rows, {} through HTTP by {} clients",
        options.rows, options.http_rows, options.clients
    );
    let oldest = Timestamp::now().minus(HISTORY);

    let bare_rate = bare_inserts(&bare_url, options.bare_rows, oldest).await;
    println!(
        "bare sqlx insert loop:   {bare_rate:>8.0} rows/s ({} rows, one transaction each)",
        options.bare_rows
    );

    let config = Config {
        addr: "127.0.0.1:0".parse().expect("address"),
        database_url: url,
        // The compiled site (scripts/bench.sh builds it): the server checks it at startup.
        site_root: std::env::var("SWITCHYARD_SITE_ROOT").map_or_else(
            |_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site"),
            Into::into,
        ),
        log_level: "warn".into(),
        ..Config::default()
    };
    let application = Application::build(&config).await.expect("application");
    let addr = application.local_addr();
    let db = application.state().db.clone();
    set_up_catalog(application.state()).await;
    let token = manage::create_token(
        &db,
        &Caller::command_line(),
        &NewTokenInput {
            name: "bench".into(),
            role: "engineer".into(),
            expires: "30d".into(),
        },
    )
    .await
    .expect("token")
    .secret;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));

    // Ingest: each client takes the next row number until all are sent.
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..options.clients)
        .map(|client| {
            let (next, errors, token) = (next.clone(), errors.clone(), token.clone());
            let (total, rows) = (options.http_rows, options.rows);
            tokio::spawn(async move {
                let mut connection = Connection::open(addr, &format!("Authorization: Bearer {token}")).await;
                let mut rng = Rng(1_000 + client as u64);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let row = generate(&mut rng, i, rows, oldest);
                    let body = serde_json::json!({
                        "service": row.service, "environment": row.environment, "version": row.version,
                        "commit_sha": row.sha, "status": row.status,
                        "started_at": row.started_at.to_rfc3339(), "finished_at": row.finished_at.to_rfc3339(),
                    })
                    .to_string();
                    let (status, _) = connection.send("POST", "/api/v1/deployments", &body).await;
                    if status != 201 {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("client");
    }
    let http_rate = options.http_rows as f64 / started.elapsed().as_secs_f64();
    let errors = errors.load(Ordering::Relaxed);
    println!(
        "HTTP API ingest:         {http_rate:>8.0} rows/s ({} rows, {errors} errors) = {:.0}% of the bare loop",
        options.http_rows,
        100.0 * http_rate / bare_rate
    );

    let fill_started = Instant::now();
    bulk_fill(&db, options.http_rows, options.rows, oldest).await;
    let analyze = app::on_pool!(db.writer(), |pool| sqlx::query("ANALYZE")
        .execute(pool)
        .await
        .map(drop));
    analyze.expect("analyze");
    println!(
        "bulk fill to {} rows:  {:.1} s (not part of the ingest figure)",
        options.rows,
        fill_started.elapsed().as_secs_f64()
    );

    // A cursor 90% of the way back in the history.
    let deep: (i64, i64) = app::on_pool!(db.reader(), |pool| {
        sqlx::query_as("SELECT started_at, id FROM deployments ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET $1")
            .bind((options.rows as f64 * 0.9) as i64)
            .fetch_one(pool)
            .await
    })
    .expect("deep row");
    let first = latencies(
        addr,
        &token,
        "/api/v1/deployments?limit=50",
        options.samples,
    )
    .await;
    let deep_path = format!(
        "/api/v1/deployments?service=parts-api&environment=production&status=failed&limit=50&cursor={}.{}",
        deep.0, deep.1
    );
    let filtered = latencies(addr, &token, &deep_path, options.samples).await;
    println!(
        "first page (50 rows):    p50 {} p95 {} ({} samples)",
        ms(first.0),
        ms(first.1),
        options.samples
    );
    println!("filtered page 90% deep:  p50 {} p95 {} ({} rows; service, environment, status=failed, cursor)", ms(filtered.0), ms(filtered.1), filtered.2);
    // Text search: a prefix of versions recorded early in the history, and a commit SHA.
    let sha: String = app::on_pool!(db.reader(), |pool| {
        sqlx::query_scalar("SELECT commit_sha FROM deployments WHERE id = $1")
            .bind(deep.1)
            .fetch_one(pool)
            .await
    })
    .expect("a commit SHA");
    let searches = options.samples.min(20);
    let by_version = latencies(
        addr,
        &token,
        "/api/v1/deployments?q=1.23.&limit=50",
        searches,
    )
    .await;
    let by_sha = latencies(
        addr,
        &token,
        &format!("/api/v1/deployments?q={}", &sha[..10]),
        searches,
    )
    .await;
    println!(
        "search q=1.23. (old):    p50 {} p95 {} ({} rows, {searches} samples)",
        ms(by_version.0),
        ms(by_version.1),
        by_version.2
    );
    println!(
        "search q=<SHA prefix>:   p50 {} p95 {} ({} row, {searches} samples)",
        ms(by_sha.0),
        ms(by_sha.1),
        by_sha.2
    );
    let _ = stop.send(());
    server.await.expect("server").expect("serve");
    if let Some(admin) = &options.postgres {
        let pool = sqlx::PgPool::connect(admin)
            .await
            .expect("PostgreSQL admin connection");
        for name in ["switchyard_bench", "switchyard_bench_bare"] {
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&pool)
                .await
                .expect("drop");
        }
    }
}

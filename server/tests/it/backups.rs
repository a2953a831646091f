//! Backups (issue 18): `switchyard backup` while 8 clients write through the real server, then
//! `switchyard restore` into a fresh database; and every way a restore must refuse. Exports:
//! a year of demo history moved to the other engine and back, and every way an import must
//! refuse.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use app::domain::Role;
use serde_json::Value;

use crate::{
    helpers::{json_request, Credential, Engine, TestApp, TestDb},
    on_both_engines,
    process::{admin_bearer, create_parts_environment, http, run_cli, Server},
};

on_both_engines!(
    a_backup_taken_while_clients_write_restores_exactly,
    an_export_moves_a_years_history_to_the_other_engine_and_back,
    an_import_refuses_what_it_cannot_load_whole_and_writes_nothing,
    the_server_backs_up_on_schedule_and_prunes_by_the_guides_retention,
    health_and_prometheus_report_the_newest_backups_age,
);

const WRITERS: usize = 8;

/// Rows per table of a database, as the backup's manifest counts them.
async fn rows_per_table(url: &str) -> BTreeMap<String, i64> {
    let db = app::backend::Database::connect(url).await.expect("opens");
    let sql = match db.engine() {
        app::backend::Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
        app::backend::Engine::Postgres => "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'",
    };
    let mut tables = BTreeMap::new();
    let names: Vec<String> = app::on_pool!(db.reader(), |pool| sqlx::query_scalar(sql)
        .fetch_all(pool)
        .await
        .expect("tables"));
    for name in names {
        let count = format!("SELECT COUNT(*) FROM {name}");
        let rows: i64 = app::on_pool!(db.reader(), |pool| sqlx::query_scalar(&count)
            .fetch_one(pool)
            .await
            .expect("count"));
        tables.insert(name, rows);
    }
    db.close().await;
    tables
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn a_backup_taken_while_clients_write_restores_exactly(engine: Engine) {
    let db = TestDb::new(engine).await;
    let server = Server::start(&db, &db.url).await;
    let bearer = admin_bearer(&db, "writer").await;
    create_parts_environment(&server.addr, &bearer, "staging").await;
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (addr, bearer) = (server.addr.clone(), bearer.clone());
            let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
            tokio::spawn(async move {
                let headers = [
                    ("authorization", bearer.as_str()),
                    ("content-type", "application/json"),
                ];
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let body = format!(
                        r#"{{"service": "parts", "environment": "staging", "version": "{writer}.0.{n}", "status": "succeeded"}}"#
                    );
                    let response = http(&addr, "POST", "/api/v1/deployments", &headers, &body).await;
                    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
                    acknowledged.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
            })
        })
        .collect();
    while acknowledged.load(Ordering::Relaxed) < 40 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = acknowledged.load(Ordering::Relaxed);
    let folder = db.dir.path().join("backups");
    let folder_arg = folder.display().to_string();
    let backup = run_cli(&db, &["backup", "--to", &folder_arg], "").await;
    let after = acknowledged.load(Ordering::Relaxed);
    assert!(backup.status.success(), "{}", stderr(&backup));
    assert!(
        stdout(&backup).starts_with("backed up "),
        "{}",
        stdout(&backup)
    );
    // The writers went on meanwhile and were never refused (they assert 201 themselves).
    while acknowledged.load(Ordering::Relaxed) < after + 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    server.stop().await;

    // One data file and its manifest, nothing half-written beside them.
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .expect("backup folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    let manifest_name = names
        .iter()
        .find(|n| n.ends_with(".json"))
        .expect("manifest");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join(manifest_name)).expect("reads"))
            .expect("JSON");
    let data = folder.join(manifest["file"].as_str().expect("file"));
    let expected_suffix = match engine {
        Engine::Sqlite => ".sqlite.gz",
        Engine::Postgres => ".pgdump",
    };
    assert!(
        data.to_string_lossy().ends_with(expected_suffix),
        "{data:?}"
    );
    let deployments = manifest["tables"]["deployments"].as_i64().expect("count");
    assert!(
        (before as i64..=after as i64).contains(&deployments),
        "the snapshot holds {deployments} deployments, acknowledged {before} before and {after} after"
    );
    assert_eq!(manifest["tables"]["services"], 1);
    assert!(manifest["migration"].as_i64().expect("migration") > 0);
    assert_eq!(manifest["sha256"].as_str().expect("sha").len(), 64);
    let data_arg = data.display().to_string();

    let sound = run_cli(&db, &["restore", &data_arg, "--verify-only"], "").await;
    assert!(sound.status.success(), "{}", stderr(&sound));
    assert!(stdout(&sound).contains(" is sound: "), "{}", stdout(&sound));

    // Into a fresh database of the same engine: exactly the snapshot's rows.
    let fresh = TestDb::new(engine).await;
    let restored = run_cli(&fresh, &["restore", &data_arg], "").await;
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert!(
        stdout(&restored).contains("restored "),
        "{}",
        stdout(&restored)
    );
    let tables = rows_per_table(&fresh.url).await;
    let expected: BTreeMap<String, i64> =
        serde_json::from_value(manifest["tables"].clone()).expect("tables");
    assert_eq!(tables, expected);
    // It serves: the restored database starts and answers.
    let again = Server::start(&fresh, &fresh.url).await;
    let health = http(&again.addr, "GET", "/api/v1/health", &[], "").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    again.stop().await;
    // (Starting without users, it issued a new first-run link.)
    let served = rows_per_table(&fresh.url).await;

    // Never over data without --force, and then nothing changes.
    let refused = run_cli(&fresh, &["restore", &data_arg], "").await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("holds data already"),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(rows_per_table(&fresh.url).await, served);
    let forced = run_cli(&fresh, &["restore", &data_arg, "--force"], "").await;
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(rows_per_table(&fresh.url).await, expected);

    // A damaged file, a newer Switchyard's backup, the other engine: each refused, saying why.
    let damaged_folder = db.dir.path().join("damaged");
    std::fs::create_dir_all(&damaged_folder).expect("folder");
    for name in &names {
        std::fs::copy(folder.join(name), damaged_folder.join(name)).expect("copies");
    }
    let damaged = damaged_folder.join(data.file_name().expect("name"));
    let mut bytes = std::fs::read(&damaged).expect("reads");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&damaged, bytes).expect("writes");
    let empty = TestDb::new(engine).await;
    let answer = run_cli(&empty, &["restore", &damaged.display().to_string()], "").await;
    assert_eq!(answer.status.code(), Some(1));
    assert!(
        stderr(&answer).contains("is damaged"),
        "{}",
        stderr(&answer)
    );

    let newer_manifest = damaged_folder.join(manifest_name);
    let mut newer = manifest.clone();
    newer["migration"] = Value::from(99_991_231_000_000_i64);
    std::fs::write(&newer_manifest, newer.to_string()).expect("writes");
    std::fs::copy(&data, &damaged).expect("undamaged again");
    let answer = run_cli(
        &empty,
        &["restore", &newer_manifest.display().to_string()],
        "",
    )
    .await;
    assert_eq!(answer.status.code(), Some(1));
    assert!(
        stderr(&answer).contains("from a newer Switchyard"),
        "{}",
        stderr(&answer)
    );

    let other = TestDb::new(match engine {
        Engine::Sqlite => Engine::Postgres,
        Engine::Postgres => Engine::Sqlite,
    })
    .await;
    let answer = run_cli(&other, &["restore", &data_arg], "").await;
    assert_eq!(answer.status.code(), Some(1));
    assert!(
        stderr(&answer).contains("restores only into the engine it came from"),
        "{}",
        stderr(&answer)
    );
    // None of the refused restores wrote anything.
    for target in [&empty, &other] {
        let rows = rows_per_table(&target.url).await;
        assert!(rows.values().all(|&n| n == 0), "{rows:?}");
    }
}

/// Writes an empty backup and manifest named as taken at `at` (retention reads names only).
fn plant(folder: &std::path::Path, at: chrono::DateTime<chrono::Utc>) -> [String; 2] {
    let stem = format!("switchyard-{}", at.format("%Y%m%dT%H%M%SZ"));
    let names = [format!("{stem}.sqlite.gz"), format!("{stem}.json")];
    for name in &names {
        std::fs::write(folder.join(name), b"").expect("writes");
    }
    names
}

async fn the_server_backs_up_on_schedule_and_prunes_by_the_guides_retention(engine: Engine) {
    let db = TestDb::new(engine).await;
    let folder = db.dir.path().join("scheduled");
    std::fs::create_dir_all(&folder).expect("folder");
    let now = chrono::Utc::now();
    let ancient = plant(&folder, now - chrono::Duration::days(800));
    let yesterday = plant(&folder, now - chrono::Duration::days(1));
    let others = ["notes.txt", ".switchyard-20200101T000000Z.json.part"];
    for name in others {
        std::fs::write(folder.join(name), b"not a backup").expect("writes");
    }
    // A few seconds from now, in a zone other than UTC.
    let zone = "Asia/Kolkata";
    let at = (now + chrono::Duration::seconds(3))
        .with_timezone(&app::domain::backups::Schedule::parse_zone(zone).expect("zone"))
        .format("%H:%M:%S")
        .to_string();
    let folder_text = folder.display().to_string();
    let server = Server::start_with(
        &db,
        &db.url,
        &[
            ("SWITCHYARD_BACKUP_DIR", folder_text.as_str()),
            ("SWITCHYARD_BACKUP_AT", at.as_str()),
            ("SWITCHYARD_BACKUP_TIME_ZONE", zone),
        ],
    )
    .await;
    let names = || {
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .expect("folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let started = std::time::Instant::now();
    while names().len() != 2 + 2 + others.len() || folder.join(&ancient[0]).exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no scheduled backup, or nothing pruned: {:?}",
            names()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = server.stop().await;
    let names = names();
    for kept in yesterday.iter().map(String::as_str).chain(others) {
        assert!(names.iter().any(|n| n == kept), "{kept} kept: {names:?}");
    }
    let suffix = match engine {
        Engine::Sqlite => ".sqlite.gz",
        Engine::Postgres => ".pgdump",
    };
    let taken: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("switchyard-") && !yesterday.contains(n))
        .collect();
    assert_eq!(taken.len(), 2, "{names:?}");
    assert!(taken.iter().any(|n| n.ends_with(suffix)), "{names:?}");
    for line in [
        "scheduled backups on",
        "backed up",
        "removed backups the retention policy no longer keeps",
    ] {
        assert!(log.iter().any(|l| l.contains(line)), "{line}: {log:#?}");
    }
}

async fn health_and_prometheus_report_the_newest_backups_age(engine: Engine) {
    let dir = tempfile::tempdir().expect("folder");
    let folder = dir.path().join("backups");
    let app = TestApp::with_config(engine, |config| {
        config.backup_dir = Some(folder.clone());
        config.prometheus_token = Some("scrape-me-0123456789".into());
    })
    .await;
    let detailed = || async {
        let answer = app
            .send(
                axum::http::Request::get("/api/v1/health/detailed")
                    .header("authorization", "Bearer scrape-me-0123456789")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()["backup"].clone()
    };
    let scrape = || async {
        app.send(
            axum::http::Request::get("/api/v1/prometheus")
                .header("authorization", "Bearer scrape-me-0123456789")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .body
    };
    // No folder yet: missing, and the gauge is absent.
    let backup = detailed().await;
    assert_eq!(backup["status"], "missing", "{backup}");
    assert_eq!(backup["newest_at"], Value::Null);
    assert!(
        backup["next_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("02:30:00Z")),
        "{backup}"
    );
    assert!(!scrape().await.contains("\nswitchyard_backup_age_seconds "));
    // Three days old: stale.
    std::fs::create_dir_all(&folder).expect("folder");
    let old = chrono::Utc::now() - chrono::Duration::days(3);
    plant(&folder, old);
    let backup = detailed().await;
    assert_eq!(backup["status"], "stale", "{backup}");
    let age = backup["age_seconds"].as_i64().expect("age");
    assert!((3 * 86_400..3 * 86_400 + 60).contains(&age), "{backup}");
    let body = scrape().await;
    let gauge = body
        .lines()
        .find_map(|line| line.strip_prefix("switchyard_backup_age_seconds "))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        gauge.parse::<f64>().expect("number") >= 3.0 * 86_400.0,
        "{gauge}"
    );
    // A data file without its manifest is not a backup (it may be half-copied).
    let fresh = format!(
        "switchyard-{}.sqlite.gz",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    std::fs::write(folder.join(fresh), b"").expect("writes");
    assert_eq!(detailed().await["status"], "stale");
    let admin = app.logged_in(Role::Admin).await;
    let admin_page = || async {
        app.send_as(
            &admin,
            axum::http::Request::get("/admin")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .body
    };
    let page = admin_page().await;
    assert!(page.contains("notice warning"), "{page}");
    assert!(page.contains("is stale: taken 3 days ago"), "{page}");
    // A new one: ok.
    plant(&folder, chrono::Utc::now());
    assert_eq!(detailed().await["status"], "ok");
    let page = admin_page().await;
    assert!(!page.contains("notice warning"), "{page}");
    assert!(page.contains("was taken just now"), "{page}");
    // Without backup_dir, the admin is told they are off and how to turn them on.
    let off = TestApp::new(engine).await;
    let admin = off.logged_in(Role::Admin).await;
    let page = off
        .send_as(
            &admin,
            axum::http::Request::get("/admin")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .body;
    assert!(
        page.contains("Scheduled backups are off: set backup_dir"),
        "{page}"
    );
    // Viewers see it too; strangers do not.
    let anonymous = app
        .send(
            axum::http::Request::get("/api/v1/health/detailed")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

fn other_engine(engine: Engine) -> Engine {
    match engine {
        Engine::Sqlite => Engine::Postgres,
        Engine::Postgres => Engine::Sqlite,
    }
}

/// The lines of an export file.
fn export_lines(file: &std::path::Path) -> Vec<String> {
    use std::io::BufRead;
    let reader = flate2::read::GzDecoder::new(std::fs::File::open(file).expect("opens"));
    std::io::BufReader::new(reader)
        .lines()
        .collect::<Result<_, _>>()
        .expect("gzipped lines")
}

/// Writes `lines` as an export file would be written.
fn write_export(file: &std::path::Path, lines: &[String]) {
    use std::io::Write;
    let mut out = flate2::write::GzEncoder::new(
        std::fs::File::create(file).expect("creates"),
        flate2::Compression::fast(),
    );
    for line in lines {
        writeln!(out, "{line}").expect("writes");
    }
    out.finish().expect("finishes");
}

/// Where two JSON values first differ, as a path and both sides; `None` when equal.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).find_map(|k| {
            first_difference(
                &x.get(k).cloned().unwrap_or(Value::Null),
                &y.get(k).cloned().unwrap_or(Value::Null),
                &format!("{path}.{k}"),
            )
        }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} then {b}")),
    }
}

/// What the API answers about the whole history: the figures and the lists people read.
async fn answers(app: &TestApp, who: &Credential, window: &str) -> Vec<(String, Value)> {
    let mut answers = Vec::new();
    for path in [
        format!("/api/v1/metrics?{window}"),
        format!("/api/v1/metrics/series?{window}&bucket=month"),
        "/api/v1/deployments?limit=200".to_owned(),
        "/api/v1/incidents".to_owned(),
        "/api/v1/releases".to_owned(),
        "/api/v1/audit".to_owned(),
        "/api/v1/services".to_owned(),
    ] {
        let request = axum::http::Request::get(&path)
            .body(axum::body::Body::empty())
            .expect("request");
        let answer = app.send_as(who, request).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        let mut json = answer.json();
        forget_the_clock(&mut json);
        answers.push((path, json));
    }
    answers
}

/// Drops the sentences that count from now ("open for 40 min 2 s"): they change between
/// two reads of the same data.
fn forget_the_clock(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|_, v| !v.as_str().is_some_and(|s| s.starts_with("open for ")));
            fields.values_mut().for_each(forget_the_clock);
        }
        Value::Array(items) => items.iter_mut().for_each(forget_the_clock),
        _ => {}
    }
}

async fn an_export_moves_a_years_history_to_the_other_engine_and_back(engine: Engine) {
    let source = TestApp::new(engine).await;
    let demo = run_cli(&source.db, &["demo", "--seed", "7"], "").await;
    assert!(demo.status.success(), "{}", stderr(&demo));
    let token = source.token("reader", Role::Admin, "never").await;
    let who = Credential::Bearer(token);
    let now = chrono::Utc::now();
    let window = format!(
        "from={}&to={}",
        (now - chrono::Duration::days(400)).format("%Y-%m-%dT00:00:00Z"),
        (now + chrono::Duration::days(1)).format("%Y-%m-%dT00:00:00Z")
    );
    let before = answers(&source, &who, &window).await;
    assert!(
        before[0].1["attempted"].as_i64().expect("attempted") > 100,
        "the demo year has deployments: {}",
        before[0].1
    );

    // Exported while the server runs, into the other engine.
    let file = source.db.dir.path().join("history.jsonl.gz");
    let file_arg = file.display().to_string();
    let exported = run_cli(&source.db, &["export", &file_arg], "").await;
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert!(
        stdout(&exported).starts_with("exported "),
        "{}",
        stdout(&exported)
    );
    let lines = export_lines(&file);
    let header: Value = serde_json::from_str(&lines[0]).expect("header");
    assert_eq!(header["format"], "switchyard-export/1");
    let counted: BTreeMap<String, i64> =
        serde_json::from_value(header["tables"].clone()).expect("tables");
    assert_eq!(counted, rows_per_table(&source.db.url).await);
    assert_eq!(lines.len() as i64 - 1, counted.values().sum::<i64>());

    let other = TestDb::new(other_engine(engine)).await;
    let imported = run_cli(&other, &["import", &file_arg], "").await;
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        stdout(&imported).contains("imported "),
        "{}",
        stdout(&imported)
    );
    assert_eq!(rows_per_table(&other.url).await, counted);
    // Exports read the same whichever engine wrote them: the other engine's export of what
    // it took is the first export, row for row, and so is the first engine's after the
    // way back.
    let rows = |lines: &[String]| {
        let mut rows = lines[1..].to_vec();
        rows.sort();
        rows
    };
    let moved_file = other.dir.path().join("moved.jsonl.gz");
    let moved_arg = moved_file.display().to_string();
    let exported = run_cli(&other, &["export", &moved_arg], "").await;
    assert!(exported.status.success(), "{}", stderr(&exported));
    let moved_lines = export_lines(&moved_file);
    assert_eq!(
        rows(&moved_lines),
        rows(&lines),
        "rows changed moving to the other engine"
    );
    let back = TestDb::new(engine).await;
    let imported = run_cli(&back, &["import", &moved_arg], "").await;
    assert!(imported.status.success(), "{}", stderr(&imported));
    let back_file = back.dir.path().join("back.jsonl.gz");
    let exported = run_cli(&back, &["export", &back_file.display().to_string()], "").await;
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert_eq!(
        rows(&export_lines(&back_file)),
        rows(&lines),
        "rows changed on the way back"
    );

    // The other engine tells the same story: every figure and list, field by field.
    let moved = TestApp::on(other).await;
    for ((path, was), (_, is)) in before.iter().zip(answers(&moved, &who, &window).await) {
        assert_eq!(first_difference(was, &is, ""), None, "{path}");
    }
    // And takes new records after the imported ones (PostgreSQL's sequences moved on).
    let newest = &before[2].1["deployments"][0];
    let recorded = moved
        .send_as(
            &who,
            json_request(
                "POST",
                "/api/v1/deployments",
                &serde_json::json!({"service": newest["service"], "environment": newest["environment"], "version": "9.9.9", "status": "succeeded"}),
            ),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    let max_id = lines
        .iter()
        .filter(|l| l.starts_with("{\"table\":\"deployments\""))
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("row")["row"]["id"]
                .as_i64()
                .expect("id")
        })
        .max()
        .expect("deployments");
    assert!(recorded.json()["id"].as_i64().expect("id") > max_id);
}

async fn an_import_refuses_what_it_cannot_load_whole_and_writes_nothing(engine: Engine) {
    let source = TestApp::new(other_engine(engine)).await;
    let demo = run_cli(&source.db, &["demo", "--seed", "3"], "").await;
    assert!(demo.status.success(), "{}", stderr(&demo));
    let folder = source.db.dir.path();
    let file = folder.join("history.jsonl.gz");
    let exported = run_cli(&source.db, &["export", &file.display().to_string()], "").await;
    assert!(exported.status.success(), "{}", stderr(&exported));
    let lines = export_lines(&file);
    let header = lines[0].clone();
    let rows = &lines[1..];
    let deployment = rows
        .iter()
        .position(|l| l.starts_with("{\"table\":\"deployments\""))
        .expect("a deployment row");

    let mut newer: Value = serde_json::from_str(&header).expect("header");
    newer["migration"] = Value::from(99_991_231_000_000_i64);
    let mut broken_row: Value = serde_json::from_str(&rows[deployment]).expect("row");
    broken_row["row"]["status"] = Value::from("exploded");
    // The last row (of a table loaded last) first: the tables it needs come after it.
    let mut out_of_order = rows.to_vec();
    out_of_order.rotate_right(1);
    let with = |changed: Vec<String>| [vec![header.clone()], changed].concat();
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "truncated",
            with(rows[..rows.len() - 1].to_vec()),
            "the export is incomplete",
        ),
        (
            "not an export",
            vec!["{\"hello\": 1}".to_owned()],
            "is not a Switchyard export",
        ),
        (
            "newer",
            [vec![newer.to_string()], rows.to_vec()].concat(),
            "this Switchyard knows schema",
        ),
        (
            "unknown table",
            with(
                [
                    vec!["{\"table\":\"nope\",\"row\":{}}".to_owned()],
                    rows.to_vec(),
                ]
                .concat(),
            ),
            "the database has no table \"nope\"",
        ),
        (
            "garbled",
            with([rows[..3].to_vec(), vec!["{\"table\": ".to_owned()]].concat()),
            "line 5 is not a row of an export",
        ),
        (
            "out of order",
            with(out_of_order),
            "after the rows of tables that refer to it",
        ),
        (
            "a row the schema refuses",
            with(
                rows.iter()
                    .enumerate()
                    .map(|(i, l)| {
                        if i == deployment {
                            broken_row.to_string()
                        } else {
                            l.clone()
                        }
                    })
                    .collect(),
            ),
            "the rows of deployments up to line",
        ),
    ];
    let target = TestDb::new(engine).await;
    for (case, lines, why) in cases {
        let damaged = folder.join(format!("{}.jsonl.gz", case.replace(' ', "-")));
        write_export(&damaged, &lines);
        let answer = run_cli(&target, &["import", &damaged.display().to_string()], "").await;
        assert_eq!(answer.status.code(), Some(1), "{case}: {}", stdout(&answer));
        assert!(stderr(&answer).contains(why), "{case}: {}", stderr(&answer));
        let rows = rows_per_table(&target.url).await;
        assert!(rows.values().all(|&n| n == 0), "{case} wrote {rows:?}");
    }
    // Not gzipped at all.
    let plain = folder.join("plain.jsonl");
    std::fs::write(&plain, format!("{header}\n")).expect("writes");
    let answer = run_cli(&target, &["import", &plain.display().to_string()], "").await;
    assert!(
        stderr(&answer).contains("not a gzipped export"),
        "{}",
        stderr(&answer)
    );

    // The whole file loads; a second import into the database now holding it is refused.
    let loaded = run_cli(&target, &["import", &file.display().to_string()], "").await;
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    let held = rows_per_table(&target.url).await;
    let again = run_cli(&target, &["import", &file.display().to_string()], "").await;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("holds data already"),
        "{}",
        stderr(&again)
    );
    assert_eq!(rows_per_table(&target.url).await, held);
}

//! Backups (issue 18): `switchyard backup` while 8 clients write through the real server, then
//! `switchyard restore` into a fresh database; and every way a restore must refuse.

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
    helpers::{Engine, TestApp, TestDb},
    on_both_engines,
    process::{http, run_cli, Server},
};

on_both_engines!(
    a_backup_taken_while_clients_write_restores_exactly,
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
    let token = run_cli(
        &db,
        &["token", "create", "--name", "writer", "--role", "admin"],
        "",
    )
    .await;
    assert!(token.status.success(), "{token:?}");
    let bearer = format!("Bearer {}", stdout(&token).trim());
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    for (path, body) in [
        ("/api/v1/services", r#"{"name": "parts"}"#),
        (
            "/api/v1/services/parts/environments",
            r#"{"name": "staging", "tier": "staging", "strategy": "rolling"}"#,
        ),
    ] {
        let response = http(&server.addr, "POST", path, &headers, body).await;
        assert!(response.starts_with("HTTP/1.1 201"), "{path}: {response}");
    }
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

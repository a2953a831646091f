//! The real `switchyard` binary as a process: configuration errors, `migrate`, and `serve`
//! over real TCP with JSON logs and a graceful SIGTERM shutdown.

use std::{process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    process::Command,
    sync::mpsc,
};

use crate::{
    helpers::{Engine, TestDb},
    on_both_engines,
};

fn switchyard() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command.kill_on_drop(true);
    command
}

#[tokio::test]
async fn invalid_configuration_stops_startup_naming_the_key() {
    let output = switchyard()
        .env("SWITCHYARD_ADDR", "localhost:port")
        .output()
        .await
        .expect("runs");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SWITCHYARD_ADDR"), "{stderr}");
}

#[tokio::test]
async fn unreadable_configuration_file_stops_startup() {
    let output = switchyard()
        .args(["--config", "/nonexistent/switchyard.toml", "migrate"])
        .output()
        .await
        .expect("runs");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/switchyard.toml"), "{stderr}");
}

on_both_engines!(
    migrate_command_brings_the_schema_up_to_date,
    serve_logs_json_with_request_ids_and_stops_on_sigterm
);

async fn migrate_command_brings_the_schema_up_to_date(engine: Engine) {
    let db = TestDb::new(engine).await;

    let output = switchyard()
        .arg("migrate")
        .env("SWITCHYARD_DATABASE_URL", &db.url)
        .output()
        .await
        .expect("runs");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("database is at migration 20261127000001"),
        "{stdout}"
    );
}

async fn serve_logs_json_with_request_ids_and_stops_on_sigterm(engine: Engine) {
    let db = TestDb::new(engine).await;
    // Trust authentication ignores the password, so it can stand in for a real secret here.
    let url = db.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:topsecretpw@",
        1,
    );
    let mut child = switchyard()
        .env("SWITCHYARD_ADDR", "127.0.0.1:0")
        .env("SWITCHYARD_DATABASE_URL", &url)
        .env("SWITCHYARD_SITE_ROOT", db.dir.path().join("site"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let (lines_tx, mut lines) = mpsc::unbounded_channel();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let mut log = Vec::new();
    let addr = loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.recv())
            .await
            .expect("the server starts within a minute")
            .unwrap_or_else(|| panic!("server exited early: {log:#?}"));
        let entry: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
        log.push(line);
        if let Some(addr) = entry["fields"]["addr"].as_str() {
            break addr.to_owned();
        }
    };

    let response = http_get(&addr, "/api/v1/health", "it-probe-1").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.to_lowercase().contains("x-request-id: it-probe-1"),
        "{response}"
    );

    let pid = child.id().expect("running").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops within 30 s of SIGTERM")
        .expect("exit status");
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    while let Some(line) = lines.recv().await {
        log.push(line);
    }

    let handled = log
        .iter()
        .find(|line| line.contains("request handled"))
        .unwrap_or_else(|| panic!("no access log line: {log:#?}"));
    let entry: serde_json::Value = serde_json::from_str(handled).expect("JSON");
    assert_eq!(entry["span"]["request_id"], "it-probe-1", "{handled}");
    assert_eq!(entry["fields"]["status"], 200, "{handled}");
    assert!(
        log.iter().all(|line| !line.contains("topsecretpw")),
        "a secret reached the log: {log:#?}"
    );
    assert!(log.iter().any(|line| line.contains("stopped")), "{log:#?}");
}

/// One HTTP/1.1 GET over a fresh TCP connection; returns the raw response.
async fn http_get(addr: &str, path: &str, request_id: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nx-request-id: {request_id}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("reads");
    response
}

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

/// The binary under test: this build's, or `SWITCHYARD_BIN` (a release build, say).
pub(crate) fn switchyard() -> Command {
    let binary =
        std::env::var("SWITCHYARD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_switchyard").into());
    let mut command = Command::new(binary);
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
    serve_logs_json_with_request_ids_and_stops_on_sigterm,
    command_line_provisions_users_and_tokens_and_passwords_stay_out_of_logs,
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
        stdout.contains(&format!(
            "database is at migration {}",
            crate::helpers::latest_migration()
        )),
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
    let server = Server::start(&db, &url).await;
    let setup = server
        .log
        .iter()
        .find(|line| line.contains("setup_url"))
        .unwrap_or_else(|| panic!("a fresh database prints a setup link: {:#?}", server.log));
    assert!(setup.contains("/setup?token=setup_"), "{setup}");
    let addr = server.addr.clone();

    let response = http_get(&addr, "/api/v1/health", "it-probe-1").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.to_lowercase().contains("x-request-id: it-probe-1"),
        "{response}"
    );

    // Security finding 1: a proxy Switchyard does not trust makes all its users one address;
    // the operator is told, once.
    let untrusted = |_| {
        http(
            &addr,
            "GET",
            "/api/v1/health",
            &[("x-forwarded-for", "198.51.100.7")],
            "",
        )
    };
    for attempt in 0..2 {
        assert!(untrusted(attempt).await.starts_with("HTTP/1.1 200"));
    }

    let log = server.stop().await;
    let warned = log
        .iter()
        .filter(|line| line.contains("not in trusted_proxies"))
        .count();
    assert_eq!(warned, 1, "{log:#?}");
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

/// A running `switchyard serve` with its log captured.
pub(crate) struct Server {
    child: tokio::process::Child,
    pub addr: String,
    pub log: Vec<String>,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Server {
    pub async fn start(db: &TestDb, url: &str) -> Self {
        Self::start_with(db, url, &[]).await
    }

    /// Starts the server with extra environment variables (`SWITCHYARD_ADDR` among them,
    /// to choose the port).
    pub async fn start_with(db: &TestDb, url: &str, env: &[(&str, &str)]) -> Self {
        crate::helpers::write_site(&db.dir.path().join("site"));
        let mut child = switchyard()
            .env("SWITCHYARD_ADDR", "127.0.0.1:0")
            .envs(env.iter().copied())
            .env("SWITCHYARD_DATABASE_URL", url)
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
        Self {
            child,
            addr,
            log,
            lines,
        }
    }

    /// The log lines written since the last look (a server keeps logging after it started).
    pub fn new_log(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line.clone());
            lines.push(line);
        }
        lines
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// Kills the server with SIGKILL, as a power cut or the OOM killer would, and waits
    /// until it is gone.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    /// Sends SIGTERM, checks the exit is graceful, and returns the whole log.
    pub async fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().expect("running").to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("stops within 30 s of SIGTERM")
            .expect("exit status");
        while let Some(line) = self.lines.recv().await {
            self.log.push(line);
        }
        // The log says why when the status is not 0.
        assert!(
            status.success(),
            "graceful shutdown exits 0, got {status}: {:#?}",
            self.log
        );
        self.log
    }
}

/// Runs `switchyard ARGS` on a database with `stdin` as input.
pub(crate) async fn run_cli(db: &TestDb, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = switchyard()
        .args(args)
        .env("SWITCHYARD_DATABASE_URL", &db.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("writes");
    drop(input);
    child.wait_with_output().await.expect("finishes")
}

/// The `Authorization` header value of a new admin API token named `name`, created through
/// `switchyard token create` as an operator would.
pub(crate) async fn admin_bearer(db: &TestDb, name: &str) -> String {
    let token = run_cli(
        db,
        &["token", "create", "--name", name, "--role", "admin"],
        "",
    )
    .await;
    assert!(token.status.success(), "{token:?}");
    format!("Bearer {}", String::from_utf8_lossy(&token.stdout).trim())
}

async fn command_line_provisions_users_and_tokens_and_passwords_stay_out_of_logs(engine: Engine) {
    const PASSWORD: &str = "Sup3r-Secret-Passphrase";
    const WRONG: &str = "Wr0ng-Secret-Passphrase";
    let db = TestDb::new(engine).await;

    let bad = run_cli(
        &db,
        &["user", "create", "--username", "root", "--role", "root"],
        "x\n",
    )
    .await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a role"));
    let created = run_cli(
        &db,
        &["user", "create", "--username", "Root", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&created.stdout),
        "created root (admin)\n"
    );
    let token = run_cli(
        &db,
        &[
            "token",
            "create",
            "--name",
            "ci",
            "--role",
            "engineer",
            "--expires",
            "90d",
        ],
        "",
    )
    .await;
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let secret = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    assert!(secret.starts_with("sy_") && secret.len() == 67, "{secret}");

    let server = Server::start(&db, &db.url).await;
    assert!(
        server.log.iter().all(|l| !l.contains("setup_url")),
        "users exist: no setup link"
    );
    let addr = server.addr.clone();
    let login = |password: &str| format!("{{\"username\":\"root\",\"password\":\"{password}\"}}");
    let wrong = http(
        &addr,
        "POST",
        "/api/v1/session",
        &[("content-type", "application/json")],
        &login(WRONG),
    )
    .await;
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let right = http(
        &addr,
        "POST",
        "/api/v1/session",
        &[("content-type", "application/json")],
        &login(PASSWORD),
    )
    .await;
    assert!(right.starts_with("HTTP/1.1 200"), "{right}");
    let bearer = format!("Bearer {secret}");
    let me = http(
        &addr,
        "GET",
        "/api/v1/me",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert!(me.contains("\"role\":\"engineer\""), "{me}");

    let revoked = run_cli(&db, &["token", "revoke", "--name", "ci"], "").await;
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let me = http(
        &addr,
        "GET",
        "/api/v1/me",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert!(me.starts_with("HTTP/1.1 401"), "{me}");
    let again = run_cli(&db, &["token", "revoke", "--name", "ci"], "").await;
    assert_eq!(again.status.code(), Some(1), "nothing left to revoke");

    let log = server.stop().await;
    for secret in [PASSWORD, WRONG, &secret] {
        assert!(
            log.iter().all(|line| !line.contains(secret)),
            "{secret} reached the log: {log:#?}"
        );
    }
    assert!(
        log.iter().any(|l| l.contains("/api/v1/session")),
        "the requests were logged"
    );
}

/// The status code of a raw response; `None` when it was cut short.
pub(crate) fn status(response: &str) -> Option<u16> {
    response.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Creates the service `parts` with one rolling environment of `tier` (named after it)
/// through the REST API of a running server, as `bearer`.
pub(crate) async fn create_parts_environment(addr: &str, bearer: &str, tier: &str) {
    let headers = [
        ("authorization", bearer),
        ("content-type", "application/json"),
    ];
    let environment = format!(r#"{{"name": "{tier}", "tier": "{tier}", "strategy": "rolling"}}"#);
    for (path, body) in [
        ("/api/v1/services", r#"{"name": "parts"}"#),
        ("/api/v1/services/parts/environments", environment.as_str()),
    ] {
        let answer = http(addr, "POST", path, &headers, body).await;
        assert_eq!(status(&answer), Some(201), "{path}: {answer}");
    }
}

/// A port nobody listens on right now (the OS picks it; a server binds it a moment later).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Records the succeeded deployment `version` of `parts` in `environment` through the REST
/// API at `addr`, with `key` as its `Idempotency-Key`, until the server acknowledges it: a
/// refused connection, a response cut short, or a 5xx (a proxy's 502 while a replica stops, a
/// 503 while the database recovers) is retried with the same key, which makes retrying safe.
/// Returns how many retries it took; any other answer fails the test.
pub(crate) async fn record_until_acknowledged(
    addr: &str,
    bearer: &str,
    environment: &str,
    version: &str,
    key: &str,
) -> usize {
    let body = format!(
        r#"{{"service": "parts", "environment": "{environment}", "version": "{version}", "status": "succeeded"}}"#
    );
    let headers = [
        ("authorization", bearer),
        ("content-type", "application/json"),
        ("idempotency-key", key),
    ];
    let mut retries = 0;
    loop {
        let answer = try_http(addr, "POST", "/api/v1/deployments", &headers, &body)
            .await
            .unwrap_or_default();
        match status(&answer) {
            Some(200 | 201) => return retries,
            None | Some(500..) => {
                retries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Some(_) => panic!("{version} refused: {answer}"),
        }
    }
}

/// Every acknowledged deployment is stored exactly once with exactly one audit entry, and
/// nothing else was recorded: what a client that retried with its `Idempotency-Key` relies on.
pub(crate) async fn assert_each_stored_once(db: &TestDb, acknowledged: &[String]) {
    let expected: std::collections::BTreeMap<String, i64> =
        acknowledged.iter().map(|v| (v.clone(), 1)).collect();
    assert_eq!(
        db.versions().await,
        expected,
        "every acknowledged deployment exactly once, and nothing else"
    );
    let recorded = "FROM audit_log WHERE action = 'deployment.recorded'";
    let audited = (
        db.count(&format!("SELECT COUNT(*) {recorded}")).await,
        db.count(&format!("SELECT COUNT(DISTINCT object) {recorded}"))
            .await,
    );
    let n = i64::try_from(acknowledged.len()).expect("a count");
    assert_eq!(audited, (n, n), "one audit entry per deployment");
}

/// The JSON body of a raw response.
pub(crate) fn json_of(response: &str) -> serde_json::Value {
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {response}"))
}

/// A command driver that notes each call with its process id and, for the version `hang`,
/// never finishes: a deploy its server is killed in the middle of.
pub(crate) const HANGING_DRIVER: &str = r#"#!/bin/sh
echo "$SWITCHYARD_ACTION $SWITCHYARD_VERSION $$" >> "$CALLS"
if [ "$SWITCHYARD_VERSION" = hang ]; then exec sleep 300; fi
exit 0
"#;

/// Writes an executable script.
pub(crate) fn write_script(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// One HTTP/1.1 GET over a fresh TCP connection; returns the raw response.
async fn http_get(addr: &str, path: &str, request_id: &str) -> String {
    http(addr, "GET", path, &[("x-request-id", request_id)], "").await
}

/// One HTTP/1.1 request over a fresh TCP connection; returns the raw response.
pub(crate) async fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    try_http(addr, method, path, headers, body)
        .await
        .expect("the server answers")
}

/// [`http`], or the I/O error of a server that is down or died while answering (then the
/// response may also be cut short).
pub(crate) async fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

//! Stopping under load (issue 19): SIGTERM while signed-in pages are being rendered, some of
//! them abandoned by their clients mid-response, must end the process promptly and in order.
//! Before the fix, tearing down in-flight renders deadlocked a runtime thread inside Leptos'
//! owner tree (see patches/README.md) and the process never exited.
//!
//! `SWITCHYARD_SHUTDOWN_ROUNDS` sets how many start–load–stop rounds each engine runs (2 by
//! default) and `SWITCHYARD_SOAK_SECS` how long the soak lasts (5 by default);
//! `scripts/shutdown-loop.sh` runs many rounds and a long soak against the release build.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    helpers::{Engine, TestDb},
    on_both_engines,
    process::{admin_bearer, http, run_cli, Server},
};

on_both_engines!(
    sigterm_under_page_load_exits_promptly_and_in_order,
    a_request_that_never_finishes_does_not_hold_up_the_stop,
    abandoned_requests_leave_threads_flat_and_every_other_request_answered,
    an_operation_cut_off_by_the_stop_leaves_no_process_behind,
);

const CLIENTS: usize = 16;
const PASSWORD: &str = "Shutdown-Test-Passphrase";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A signed-in admin `ada`, as every test here needs.
async fn with_admin(engine: Engine) -> TestDb {
    let db = TestDb::new(engine).await;
    let created = run_cli(
        &db,
        &["user", "create", "--username", "ada", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(created.status.success(), "{created:?}");
    db
}

/// An admin, a service with two environments and a few deployments, so the Overview and the
/// Deployments page have rows to render; returns the session cookie.
async fn seed(db: &TestDb, addr: &str) -> String {
    let bearer = admin_bearer(db, "seed").await;
    let post = |path: &'static str, body: String| {
        let bearer = bearer.clone();
        async move {
            let headers = [
                ("authorization", bearer.as_str()),
                ("content-type", "application/json"),
            ];
            let response = http(addr, "POST", path, &headers, &body).await;
            assert!(response.starts_with("HTTP/1.1 201"), "{path}: {response}");
        }
    };
    post("/api/v1/services", r#"{"name": "parts"}"#.to_owned()).await;
    let slot = |port: u16| {
        format!(
            r#"{{"upstream": "http://127.0.0.1:{port}", "health_url": "http://127.0.0.1:{port}/health"}}"#
        )
    };
    let production = format!(
        r#"{{"name": "production", "tier": "production", "strategy": "blue_green", "slots": {{"blue": {}, "green": {}}}}}"#,
        slot(9001),
        slot(9002)
    );
    post("/api/v1/services/parts/environments", production).await;
    let staging = r#"{"name": "staging", "tier": "staging", "strategy": "rolling"}"#;
    post("/api/v1/services/parts/environments", staging.to_owned()).await;
    for n in 0..20 {
        let body = format!(
            r#"{{"service": "parts", "environment": "staging", "version": "1.0.{n}", "status": "succeeded"}}"#
        );
        post("/api/v1/deployments", body).await;
    }
    let login = http(
        addr,
        "POST",
        "/api/v1/session",
        &[("content-type", "application/json")],
        &format!(r#"{{"username": "ada", "password": "{PASSWORD}"}}"#),
    )
    .await;
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    login
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie").then(|| {
                value
                    .trim()
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
        })
        .expect("the login sets a session cookie")
}

/// What the load clients saw.
#[derive(Debug, Default)]
struct Tally {
    /// Complete 200 answers.
    answered: AtomicUsize,
    /// Requests whose answer was dropped on purpose after its first bytes.
    abandoned: AtomicUsize,
    /// Requests that got another status, or whose connection broke before the answer ended.
    failed: AtomicUsize,
}

/// Requests signed-in pages on keep-alive connections until told to stop; every fourth
/// request is abandoned after the first bytes of its answer (the connection is dropped), as
/// a phone losing its signal would.
async fn load(addr: String, cookie: String, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect(&addr).await else {
            return; // the listener has closed: the server is stopping
        };
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let path = if n.is_multiple_of(2) {
                "/"
            } else {
                "/deployments"
            };
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n");
            if stream.write_all(request.as_bytes()).await.is_err() {
                break;
            }
            if n.is_multiple_of(4) {
                let mut first = [0u8; 64];
                let _ = stream.read(&mut first).await;
                tally.abandoned.fetch_add(1, Ordering::Relaxed);
                break; // abandon the rest of the answer
            }
            match read_response(&mut stream).await {
                Some(true) => {
                    tally.answered.fetch_add(1, Ordering::Relaxed);
                }
                Some(false) => {
                    tally.failed.fetch_add(1, Ordering::Relaxed);
                }
                None => {
                    // A stop closes keep-alive connections between answers; anything else
                    // is a request left without its answer.
                    if !stop.load(Ordering::Relaxed) {
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                    }
                    break;
                }
            }
        }
    }
}

/// Starts the load clients.
fn start_load(
    addr: &str,
    cookie: &str,
    stop: &Arc<AtomicBool>,
    tally: &Arc<Tally>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..CLIENTS)
        .map(|_| {
            tokio::spawn(load(
                addr.to_owned(),
                cookie.to_owned(),
                stop.clone(),
                tally.clone(),
            ))
        })
        .collect()
}

/// Reads one HTTP/1.1 response; `Some(true)` for a complete 200, `None` when the connection
/// ended or cannot be reused.
async fn read_response(stream: &mut TcpStream) -> Option<bool> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let ok = head.starts_with("http/1.1 200");
    if let Some(length) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        while buffer.len() < head_end + length {
            let read = stream.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
            buffer.extend_from_slice(&chunk[..read]);
        }
        return Some(ok);
    }
    // Chunked: read until the terminating zero-length chunk.
    while !buffer.ends_with(b"0\r\n\r\n") {
        let read = stream.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        buffer.extend_from_slice(&chunk[..read]);
    }
    Some(ok)
}

async fn sigterm_under_page_load_exits_promptly_and_in_order(engine: Engine) {
    let db = with_admin(engine).await;
    let env = [("SWITCHYARD_SHUTDOWN_TIMEOUT", "15s")];
    let mut cookie = None;
    for round in 0..setting("SWITCHYARD_SHUTDOWN_ROUNDS", 2) {
        let server = Server::start_with(&db, &db.url, &env).await;
        let cookie = match &cookie {
            Some(cookie) => cookie,
            None => cookie.insert(seed(&db, &server.addr).await),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Tally::default());
        let clients = start_load(&server.addr, cookie, &stop, &tally);
        // Under load until pages have been served, then a little longer.
        while tally.answered.load(Ordering::Relaxed) < 2 * CLIENTS {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;

        // `stop` requires exit status 0 within 30 s of SIGTERM.
        let log = server.stop().await;
        stop.store(true, Ordering::Relaxed);
        for client in clients {
            client.await.expect("client task");
        }
        for stuck in [
            "did not finish in time",
            "did not stop after the server stopped",
            "did not close in time",
        ] {
            assert!(
                log.iter().all(|line| !line.contains(stuck)),
                "round {round}: {stuck}: {log:#?}"
            );
        }
        assert!(
            log.iter().any(|line| line.contains("\"stopped\"")),
            "round {round}: {log:#?}"
        );
    }
}

async fn a_request_that_never_finishes_does_not_hold_up_the_stop(engine: Engine) {
    let db = TestDb::new(engine).await;
    let server = Server::start_with(&db, &db.url, &[("SWITCHYARD_SHUTDOWN_TIMEOUT", "1s")]).await;
    // A login whose body never arrives: the handler waits for it, and so would the stop.
    let mut stream = TcpStream::connect(&server.addr).await.expect("connects");
    let head = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    // The server asks for the body only once the handler reads it: the request is in flight.
    let mut answer = [0u8; 25];
    stream.read_exact(&mut answer).await.expect("reads");
    assert!(answer.starts_with(b"HTTP/1.1 100 Continue"), "{answer:?}");
    stream.write_all(b"{\"user").await.expect("writes");

    let log = server.stop().await;
    assert!(
        log.iter()
            .any(|line| line.contains("did not finish in time")),
        "{log:#?}"
    );
    let stuck = log
        .iter()
        .find(|line| line.contains("request still running at the shutdown deadline"))
        .unwrap_or_else(|| panic!("the stuck request is named: {log:#?}"));
    assert!(stuck.contains("/api/v1/session"), "{stuck}");
    assert!(stuck.contains("POST"), "{stuck}");
    assert!(
        log.iter().any(|line| line.contains("\"stopped\"")),
        "{log:#?}"
    );
    drop(stream);
}

/// The threads of a process, from `/proc`.
fn threads_of(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads line")
}

async fn abandoned_requests_leave_threads_flat_and_every_other_request_answered(engine: Engine) {
    let db = with_admin(engine).await;
    let server = Server::start(&db, &db.url).await;
    let cookie = seed(&db, &server.addr).await;
    let pid = server.pid();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let clients = start_load(&server.addr, &cookie, &stop, &tally);
    let soak = Duration::from_secs(setting("SWITCHYARD_SOAK_SECS", 5));
    let started = Instant::now();
    // The first second fills the pools; the count after it is the baseline.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = threads_of(pid);
    let mut samples = vec![baseline];
    while started.elapsed() < soak {
        tokio::time::sleep(Duration::from_secs(1)).await;
        samples.push(threads_of(pid));
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client task");
    }
    let answered = tally.answered.load(Ordering::Relaxed);
    let abandoned = tally.abandoned.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    let (fewest, most) = (
        samples.iter().min().copied().unwrap_or(0),
        samples.iter().max().copied().unwrap_or(0),
    );
    println!(
        "soak {soak:?} on {engine:?}: {answered} answered, {abandoned} abandoned, {failed} failed; \
         threads {baseline} after 1 s, {fewest}–{most} over {} samples",
        samples.len()
    );
    assert!(answered > 0 && abandoned > 0, "{answered} / {abandoned}");
    assert_eq!(failed, 0, "every request not abandoned is answered");
    // Tokio's blocking pool lends threads for a while and takes them back; what must not
    // happen is a climb (threads stuck on a lock, never returned).
    let last = *samples.last().expect("samples");
    assert!(
        last <= baseline + 4,
        "threads grew from {baseline} to {last}: {samples:?}"
    );
    let log = server.stop().await;
    assert!(
        log.iter()
            .all(|line| !line.contains("did not stop after the server stopped")),
        "{log:#?}"
    );
}

/// A driver that starts a helper in the background, writes both process ids, then waits.
const HANGING_DRIVER: &str = r#"#!/bin/sh
sleep 300 &
echo $! > "$PIDS.part"
echo $$ >> "$PIDS.part"
mv "$PIDS.part" "$PIDS"
sleep 300
"#;

/// Whether `pid` still runs; a zombie (killed, not yet reaped by an init that never reaps)
/// does not.
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the parenthesised command name.
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

/// Security review: a command driver's process group is killed when the server stops in the
/// middle of an operation, so a stop or a deploy of Switchyard itself never leaves a driver
/// (or what it started in the background) running unsupervised.
async fn an_operation_cut_off_by_the_stop_leaves_no_process_behind(engine: Engine) {
    let db = TestDb::new(engine).await;
    let dir = db.dir.path();
    let script = dir.join("hang.sh");
    std::fs::write(&script, HANGING_DRIVER).expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let pids = dir.join("pids");
    let config = dir.join("switchyard.toml");
    std::fs::write(
        &config,
        format!(
            "[[environment]]\nservice = \"parts\"\nname = \"staging\"\ndriver = {{ kind = \"command\", program = \"{}\", timeout = \"300s\", env = {{ PIDS = \"{}\" }} }}\n",
            script.display(),
            pids.display()
        ),
    )
    .expect("config");
    let config = config.display().to_string();
    let server = Server::start_with(&db, &db.url, &[("SWITCHYARD_CONFIG", config.as_str())]).await;
    let bearer = admin_bearer(&db, "ops").await;
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    for (path, body, status) in [
        ("/api/v1/services", r#"{"name": "parts"}"#, "201"),
        (
            "/api/v1/services/parts/environments",
            r#"{"name": "staging", "tier": "staging", "strategy": "rolling"}"#,
            "201",
        ),
        (
            "/api/v1/services/parts/environments/staging/operations",
            r#"{"action": "deploy", "version": "7", "expected_revision": 0}"#,
            "202",
        ),
    ] {
        let response = http(&server.addr, "POST", path, &headers, body).await;
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status}")),
            "{path}: {response}"
        );
    }
    let started = Instant::now();
    while !pids.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the driver never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pids = std::fs::read_to_string(&pids).expect("pids");
    let pids: Vec<&str> = pids.lines().collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert!(pids.iter().all(|pid| running(pid)), "both run: {pids:?}");

    server.stop().await;
    let stopped = Instant::now();
    while pids.iter().any(|pid| running(pid)) {
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "still running after the stop: {pids:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

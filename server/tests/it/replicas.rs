//! Several replicas (issue 17): two `switchyard serve` processes on one PostgreSQL database
//! behind nginx, as a team running Switchyard for real would deploy it. The lock holds across
//! them, live pages follow what is done through the other, a rolling restart loses nothing,
//! and the survivor interrupts what a killed replica was running. Every request is real HTTP
//! through a real nginx (Debian's, as `scripts/test.sh` installs it) to the real binary.

use std::{
    collections::BTreeMap,
    process::Stdio,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    helpers::{Engine, TestDb},
    process::{
        admin_bearer, assert_each_stored_once, free_port, http, json_of, record_until_acknowledged,
        status, try_http, write_script, Server, HANGING_DRIVER,
    },
};

/// Debian's nginx; `NGINX_BIN` names another.
fn nginx_bin() -> String {
    std::env::var("NGINX_BIN").unwrap_or_else(|_| "/usr/sbin/nginx".into())
}

/// nginx in front of both replicas, round robin, in a prefix of its own. Its access log names
/// the replica that answered each request.
struct Nginx {
    child: std::process::Child,
    addr: String,
    access_log: std::path::PathBuf,
}

impl Nginx {
    fn start(dir: &std::path::Path, upstreams: &[u16]) -> Self {
        for sub in ["logs", "temp"] {
            std::fs::create_dir_all(dir.join(sub)).expect("nginx folders");
        }
        let port = free_port();
        let servers: String = upstreams
            .iter()
            .map(|port| format!("    server 127.0.0.1:{port};\n"))
            .collect();
        // As root, workers would drop to `nobody`, which cannot enter the 0700 temp folder.
        let user = if is_root() { "user root;\n" } else { "" };
        let conf = format!(
            "{user}worker_processes 1;\npid nginx.pid;\nerror_log logs/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
               log_format upstreams '$status $upstream_addr';\n\
               access_log logs/access.log upstreams;\n\
               client_body_temp_path temp/client_body;\n  proxy_temp_path temp/proxy;\n\
               fastcgi_temp_path temp/fastcgi;\n  uwsgi_temp_path temp/uwsgi;\n  scgi_temp_path temp/scgi;\n\
               upstream switchyard {{\n{servers}  }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
                   proxy_pass http://switchyard;\n\
                   proxy_set_header Host $host;\n\
                   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                   # Live pages stream: pass each event on as it comes.\n\
                   proxy_buffering off;\n\
                 }}\n  }}\n}}\n"
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("nginx.conf");
        let child = std::process::Command::new(nginx_bin())
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("logs/error.log"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} (Debian: apt-get install nginx): {e}",
                    nginx_bin()
                )
            });
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            addr,
            access_log: dir.join("logs/access.log"),
        }
    }

    /// How many requests each upstream answered, by its address.
    fn answered_by(&self) -> BTreeMap<String, usize> {
        let log = std::fs::read_to_string(&self.access_log).unwrap_or_default();
        let mut counts = BTreeMap::new();
        for line in log.lines() {
            if let Some((_, upstream)) = line.split_once(' ') {
                *counts.entry(upstream.to_owned()).or_default() += 1;
            }
        }
        counts
    }
}

impl Drop for Nginx {
    /// SIGTERM, so the master stops its workers too (a SIGKILLed master leaves them serving).
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

/// The config both replicas share: `web` is blue-green and switched by `true` (its slots are
/// the replicas themselves behind nginx, checked at their health route); `staging` runs
/// [`HANGING_DRIVER`].
fn write_config(db: &TestDb) -> String {
    let dir = db.dir.path();
    let (driver, calls, config) = (
        dir.join("driver.sh"),
        dir.join("calls"),
        dir.join("switchyard.toml"),
    );
    write_script(&driver, HANGING_DRIVER);
    std::fs::write(
        &config,
        format!(
            "[[environment]]\nservice = \"parts\"\nname = \"web\"\n\
             driver = {{ kind = \"command\", program = \"true\", timeout = \"10s\" }}\n\
             health = {{ interval = \"20ms\", verify_for = \"0s\", healthy_within = \"10s\", timeout = \"5s\" }}\n\n\
             [[environment]]\nservice = \"parts\"\nname = \"staging\"\n\
             driver = {{ kind = \"command\", program = \"{}\", timeout = \"10m\", env = {{ CALLS = \"{}\" }} }}\n",
            driver.display(),
            calls.display()
        ),
    )
    .expect("config");
    config.display().to_string()
}

/// Two replicas and nginx, with service `parts`: `web` (blue-green), `staging` (rolling,
/// staging tier) and `production` (rolling, production tier, no driver).
struct Replicas {
    db: TestDb,
    config: String,
    ports: [u16; 2],
    servers: [Option<Server>; 2],
    nginx: Nginx,
    bearer: String,
}

impl Replicas {
    async fn start() -> Self {
        let db = TestDb::new(Engine::Postgres).await;
        let config = write_config(&db);
        let ports = [free_port(), free_port()];
        let mut replicas = Self {
            nginx: Nginx::start(&db.dir.path().join("nginx"), &ports),
            servers: [None, None],
            bearer: String::new(),
            ports,
            config,
            db,
        };
        // One at a time: the first migrates, the second finds the schema up to date.
        for replica in 0..2 {
            replicas.start_replica(replica).await;
        }
        replicas.bearer = admin_bearer(&replicas.db, "replicas").await;
        let slot = format!(
            r#"{{"upstream": "http://{0}", "health_url": "http://{0}/api/v1/health"}}"#,
            replicas.nginx.addr
        );
        for (path, body) in [
            ("/api/v1/services", r#"{"name": "parts"}"#.to_owned()),
            (
                "/api/v1/services/parts/environments",
                format!(
                    r#"{{"name": "web", "tier": "staging", "strategy": "blue_green", "slots": {{"blue": {slot}, "green": {slot}}}}}"#
                ),
            ),
            (
                "/api/v1/services/parts/environments",
                r#"{"name": "staging", "tier": "staging", "strategy": "rolling"}"#.to_owned(),
            ),
            (
                "/api/v1/services/parts/environments",
                r#"{"name": "production", "tier": "production", "strategy": "rolling"}"#.to_owned(),
            ),
        ] {
            let answer = replicas.post(&replicas.nginx.addr, path, &body, None).await;
            assert_eq!(status(&answer), Some(201), "{path}: {answer}");
        }
        replicas
    }

    fn addr(&self, replica: usize) -> String {
        format!("127.0.0.1:{}", self.ports[replica])
    }

    async fn start_replica(&mut self, replica: usize) {
        let addr = self.addr(replica);
        let env = [
            ("SWITCHYARD_ADDR", addr.as_str()),
            ("SWITCHYARD_CONFIG", self.config.as_str()),
            ("SWITCHYARD_TRUSTED_PROXIES", "127.0.0.1"),
        ];
        self.servers[replica] = Some(Server::start_with(&self.db, &self.db.url, &env).await);
    }

    /// SIGTERM, a graceful exit (checked), and the replica started again on its port.
    async fn restart(&mut self, replica: usize) {
        self.servers[replica].take().expect("running").stop().await;
        self.start_replica(replica).await;
    }

    async fn post(&self, addr: &str, path: &str, body: &str, key: Option<&str>) -> String {
        let mut headers = vec![
            ("authorization", self.bearer.as_str()),
            ("content-type", "application/json"),
        ];
        headers.extend(key.map(|key| ("idempotency-key", key)));
        http(addr, "POST", path, &headers, body).await
    }

    async fn get(&self, addr: &str, path: &str) -> Value {
        json_of(&http(addr, "GET", path, &[("authorization", &self.bearer)], "").await)
    }

    /// Asks `addr` to run `body` on `environment`; the raw answer.
    async fn operate(&self, addr: &str, environment: &str, body: &str) -> String {
        let path = format!("/api/v1/services/parts/environments/{environment}/operations");
        self.post(addr, &path, body, None).await
    }

    /// Operation `id` once its status is `wanted` (read through nginx), within `limit`.
    async fn settled(&self, id: i64, wanted: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let operation = self
                .get(&self.nginx.addr, &format!("/api/v1/operations/{id}"))
                .await;
            if operation["status"] == wanted {
                return operation;
            }
            assert!(Instant::now() < deadline, "not {wanted}: {operation}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn revision(&self, environment: &str) -> i64 {
        let path = format!("/api/v1/services/parts/environments/{environment}");
        let environment = self.get(&self.nginx.addr, &path).await;
        environment["revision"].as_i64().expect("revision")
    }

    /// What the replicas logged at warning level or above since the last look: for the
    /// message of a failing assertion.
    fn complaints(&mut self) -> String {
        self.servers
            .iter_mut()
            .flatten()
            .flat_map(Server::new_log)
            .filter(|line| {
                line.contains(r#""level":"WARN""#) || line.contains(r#""level":"ERROR""#)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn stop(mut self) {
        for server in self.servers.iter_mut().filter_map(Option::take) {
            server.stop().await;
        }
    }
}

#[tokio::test]
async fn fifty_concurrent_switches_over_two_replicas_start_one_operation_per_round() {
    let replicas = Replicas::start().await;
    let proxy = replicas.nginx.addr.clone();
    // Both slots hold a version, so a switch is always possible.
    for (action, revision) in [("deploy", 0), ("switch", 1), ("deploy", 2)] {
        let body = format!(
            r#"{{"action": "{action}", "version": "2.0.0", "expected_revision": {revision}}}"#
        );
        let answer = replicas.operate(&proxy, "web", &body).await;
        assert_eq!(status(&answer), Some(202), "{answer}");
        let id = json_of(&answer)["id"].as_i64().expect("id");
        replicas
            .settled(id, "succeeded", Duration::from_secs(60))
            .await;
    }
    let mut replicas = replicas;
    let path = "/api/v1/services/parts/environments/web/operations";
    for round in 0..100 {
        let revision = replicas.revision("web").await;
        let body = format!(r#"{{"action": "switch", "expected_revision": {revision}}}"#);
        let requests = (0..50).map(|_| {
            let (proxy, bearer, body) = (proxy.clone(), replicas.bearer.clone(), body.clone());
            tokio::spawn(async move {
                let headers = [
                    ("authorization", bearer.as_str()),
                    ("content-type", "application/json"),
                ];
                http(&proxy, "POST", path, &headers, &body).await
            })
        });
        let mut started = Vec::new();
        for answer in futures_util::future::join_all(requests).await {
            let answer = answer.expect("request task");
            match status(&answer) {
                Some(202) => started.push(json_of(&answer)["id"].as_i64().expect("id")),
                Some(409) => {}
                _ => panic!("round {round}: {answer}\n{}", replicas.complaints()),
            }
        }
        assert_eq!(started.len(), 1, "round {round}: exactly one switch starts");
        let operation = replicas
            .settled(started[0], "succeeded", Duration::from_secs(60))
            .await;
        assert_eq!(operation["action"], "switch", "{operation}");
    }
    let switches = replicas
        .db
        .count("SELECT COUNT(*) FROM operations WHERE action = 'switch'")
        .await;
    assert_eq!(switches, 101, "the 100 rounds' switches and the one before");
    let runners = replicas
        .db
        .count("SELECT COUNT(DISTINCT runner) FROM operations")
        .await;
    // Each replica took its share of the 5,000 requests.
    let answered = replicas.nginx.answered_by();
    println!("answered by: {answered:?}; operations run by {runners} replicas");
    for replica in 0..2 {
        let share = answered.get(&replicas.addr(replica)).copied().unwrap_or(0);
        assert!(share >= 2_000, "{answered:?}");
    }
    let environment = replicas
        .get(&proxy, "/api/v1/services/parts/environments/web")
        .await;
    // 100 switches from green end on green.
    assert_eq!(environment["live_slot"], "green", "{environment}");
    assert_eq!(environment["revision"], 103, "{environment}");
    replicas.stop().await;
}

/// A live page's event stream, read as it arrives over a raw connection.
struct EventStream {
    socket: TcpStream,
    text: String,
    seen: usize,
}

impl EventStream {
    async fn open(addr: &str, path: &str, bearer: &str) -> Self {
        let mut socket = TcpStream::connect(addr).await.expect("connects");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {bearer}\r\nAccept: text/event-stream\r\n\r\n"
        );
        socket.write_all(request.as_bytes()).await.expect("sends");
        let mut stream = Self {
            socket,
            text: String::new(),
            seen: 0,
        };
        // The first event is the page as it is.
        let first = stream.next_change(Duration::from_secs(10)).await;
        assert!(
            first.is_some() && stream.text.starts_with("HTTP/1.1 200"),
            "{path} on {addr}: {}",
            stream.text
        );
        stream
    }

    /// Waits at most `limit` for the next `changed` event; how long it took.
    async fn next_change(&mut self, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        loop {
            if let Some(at) = self.text[self.seen..].find("event: changed") {
                self.seen += at + "event: changed".len();
                return Some(started.elapsed());
            }
            let mut buffer = [0; 8192];
            let read = tokio::time::timeout(
                limit.saturating_sub(started.elapsed()),
                self.socket.read(&mut buffer),
            )
            .await
            .ok()?
            .ok()?;
            if read == 0 {
                return None;
            }
            self.text
                .push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
    }
}

#[tokio::test]
async fn sign_offs_and_timeline_notes_through_one_replica_reach_a_live_page_on_the_other() {
    let replicas = Replicas::start().await;
    let (one, other) = (replicas.addr(0), replicas.addr(1));
    // A release of production, opened through nginx.
    let answer = replicas
        .post(
            &replicas.nginx.addr,
            "/api/v1/releases",
            r#"{"service": "parts", "environment": "production", "version": "3.0.0"}"#,
            None,
        )
        .await;
    assert_eq!(status(&answer), Some(201), "{answer}");
    let release = json_of(&answer)["id"].as_i64().expect("release id");
    let items = replicas
        .get(&one, &format!("/api/v1/releases/{release}"))
        .await["items"]
        .as_array()
        .expect("items")
        .clone();
    let answer = replicas
        .post(
            &one,
            "/api/v1/incidents",
            r#"{"title": "Checkout errors", "service": "parts", "environment": "production", "severity": "SEV2"}"#,
            None,
        )
        .await;
    assert_eq!(status(&answer), Some(201), "{answer}");
    let incident = json_of(&answer)["id"].as_i64().expect("incident id");

    // Each change is made through one replica while a page follows on the other, both ways.
    let mut waits = Vec::new();
    for (n, item) in items.iter().take(4).enumerate() {
        let (made, watched) = if n % 2 == 0 {
            (&one, &other)
        } else {
            (&other, &one)
        };
        let mut page = EventStream::open(
            watched,
            &format!("/api/v1/releases/{release}/events"),
            &replicas.bearer,
        )
        .await;
        let key = item["key"].as_str().expect("item key");
        let answer = replicas
            .post(
                made,
                &format!("/api/v1/releases/{release}/items/{key}/sign"),
                r#"{"note": "checked", "evidence_url": "https://ci.example.com/runs/7"}"#,
                None,
            )
            .await;
        assert_eq!(status(&answer), Some(200), "{key}: {answer}");
        let wait = page.next_change(Duration::from_secs(10)).await;
        waits.push(wait.unwrap_or_else(|| panic!("{key}'s sign-off never reached {watched}")));

        let mut page = EventStream::open(
            watched,
            &format!("/api/v1/incidents/{incident}/events"),
            &replicas.bearer,
        )
        .await;
        let answer = replicas
            .post(
                made,
                &format!("/api/v1/incidents/{incident}/timeline"),
                &format!(r#"{{"text": "note {n} through {made}"}}"#),
                None,
            )
            .await;
        assert_eq!(status(&answer), Some(201), "{answer}");
        let wait = page.next_change(Duration::from_secs(10)).await;
        waits.push(wait.unwrap_or_else(|| panic!("note {n} never reached {watched}")));
    }
    waits.sort();
    println!(
        "a change made through one replica reached a live page on the other in {:?} (median) to {:?} (slowest) over {} changes",
        waits[waits.len() / 2],
        waits[waits.len() - 1],
        waits.len()
    );
    // The timeline holds each note once, whichever replica took it.
    let timeline = replicas
        .get(&other, &format!("/api/v1/incidents/{incident}"))
        .await["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|entry| {
            entry["text"]
                .as_str()
                .is_some_and(|text| text.starts_with("note "))
        })
        .count();
    assert_eq!(timeline, 4);
    replicas.stop().await;
}

#[tokio::test]
async fn a_rolling_restart_under_load_fails_no_request_and_loses_no_write() {
    let mut replicas = Replicas::start().await;
    let proxy = replicas.nginx.addr.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let (reads, retries) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut clients = Vec::new();
    for client in 0..4 {
        let (stop, acknowledged, retries) = (stop.clone(), acknowledged.clone(), retries.clone());
        let (proxy, bearer) = (proxy.clone(), replicas.bearer.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let version = format!("{client}.{n}.0");
                let key = format!("rolling-{client}-{n}");
                let tried =
                    record_until_acknowledged(&proxy, &bearer, "staging", &version, &key).await;
                retries.fetch_add(tried, Ordering::Relaxed);
                acknowledged.lock().expect("lock").push(version);
                n += 1;
            }
        }));
    }
    for _ in 0..4 {
        let (stop, reads, retries) = (stop.clone(), reads.clone(), retries.clone());
        let (proxy, bearer) = (proxy.clone(), replicas.bearer.clone());
        clients.push(tokio::spawn(async move {
            let headers = [("authorization", bearer.as_str())];
            while !stop.load(Ordering::Relaxed) {
                // A read is safe to repeat; anything but a proxy's or a stopping server's
                // 5xx, or a cut connection, fails the test.
                let answer = try_http(&proxy, "GET", "/api/v1/deployments?limit=20", &headers, "")
                    .await
                    .unwrap_or_default();
                match status(&answer) {
                    Some(200) => {
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                    None | Some(502..=504) => {
                        retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    _ => panic!("a read failed: {answer}"),
                }
            }
        }));
    }
    let count = || acknowledged.lock().expect("lock").len();
    let mut before = count();
    for replica in 0..2 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        replicas.restart(replica).await;
        // As an operator would: the next replica stops only once the proxy sends requests to
        // this one again (nginx waits `fail_timeout`, 10 s, before it retries a server that
        // refused a connection; stopping the other one sooner leaves it none to send to).
        let addr = replicas.addr(replica);
        let served = replicas
            .nginx
            .answered_by()
            .get(&addr)
            .copied()
            .unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(30);
        while replicas
            .nginx
            .answered_by()
            .get(&addr)
            .copied()
            .unwrap_or(0)
            <= served
        {
            assert!(
                Instant::now() < deadline,
                "nginx never took replica {replica} back"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Writes went on while it restarted.
        assert!(
            count() > before,
            "writes went on while replica {replica} restarted"
        );
        before = count();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    println!(
        "rolling restart: {} writes and {} reads answered, {} retries; answered by {:?}",
        acknowledged.len(),
        reads.load(Ordering::Relaxed),
        retries.load(Ordering::Relaxed),
        replicas.nginx.answered_by()
    );
    assert_each_stored_once(&replicas.db, &acknowledged).await;
    replicas.stop().await;
}

#[tokio::test]
async fn a_replica_killed_mid_operation_is_interrupted_by_the_other() {
    let mut replicas = Replicas::start().await;
    let (doomed, survivor) = (replicas.addr(0), replicas.addr(1));
    let deploy = |version: &str, revision: i64| {
        format!(
            r#"{{"action": "deploy", "version": "{version}", "expected_revision": {revision}}}"#
        )
    };
    let answer = replicas
        .operate(&doomed, "staging", &deploy("1.0.0", 0))
        .await;
    let first = json_of(&answer)["id"].as_i64().expect("operation id");
    replicas
        .settled(first, "succeeded", Duration::from_secs(60))
        .await;
    let answer = replicas
        .operate(&doomed, "staging", &deploy("hang", 1))
        .await;
    assert_eq!(status(&answer), Some(202), "{answer}");
    let hanging = json_of(&answer)["id"].as_i64().expect("operation id");
    let calls = replicas.db.dir.path().join("calls");
    let driving = || {
        std::fs::read_to_string(&calls)
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("deploy hang ").map(str::to_owned))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let driver_pid = loop {
        if let Some(pid) = driving() {
            break pid;
        }
        assert!(Instant::now() < deadline, "the driver never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // While it runs, the other replica refuses a second operation: the lock is shared.
    let answer = replicas
        .operate(&survivor, "staging", &deploy("1.1.0", 2))
        .await;
    assert_eq!(status(&answer), Some(409), "{answer}");

    replicas.servers[0].take().expect("running").kill().await;
    let killed = Instant::now();
    // The survivor notices the stale heartbeat: 30 s (HEARTBEAT_TIMEOUT) plus at most one
    // 5 s maintenance round.
    let operation = replicas
        .settled(hanging, "interrupted", Duration::from_secs(60))
        .await;
    println!(
        "interrupted by the other replica {:?} after the kill",
        killed.elapsed()
    );
    let deployment = replicas
        .get(
            &survivor,
            &format!("/api/v1/deployments/{}", operation["deployment_id"]),
        )
        .await;
    assert_eq!(deployment["status"], "failed", "{deployment}");
    let environment = replicas
        .get(&survivor, "/api/v1/services/parts/environments/staging")
        .await;
    assert_eq!(environment["current_version"], "1.0.0", "{environment}");
    // The lock is free: the next deploy, through nginx, runs to its end.
    let answer = replicas
        .operate(&replicas.nginx.addr, "staging", &deploy("1.1.0", 2))
        .await;
    assert_eq!(status(&answer), Some(202), "{answer}");
    let next = json_of(&answer)["id"].as_i64().expect("operation id");
    replicas
        .settled(next, "succeeded", Duration::from_secs(60))
        .await;
    // The killed replica's driver outlived it; end it.
    let _ = std::process::Command::new("kill").arg(&driver_pid).status();
    let interrupted = replicas
        .db
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'operation.interrupted'")
        .await;
    assert_eq!(interrupted, 1);
    replicas.stop().await;
}

//! The database going away and filling up (issue 17), with the real binary: while PostgreSQL
//! is stopped every request fails with a clear 503 and the detailed health check says
//! `degraded`; when it is back the same process serves again without a restart, and no
//! acknowledged write is lost. On a full disk, SQLite writes fail with a 503 that says so,
//! reads keep working, nothing is half-written, and writes resume once space returns.
//!
//! Both need what a test database cannot give: a PostgreSQL server of the test's own to stop
//! and start (made with `initdb`, run as the `postgres` user when the tests run as root), and
//! a small tmpfs to fill (mounting needs root). `SWITCHYARD_TEST_UNPRIVILEGED=1` skips the
//! tmpfs test on a machine where the tests cannot run as root.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use tempfile::TempDir;

use crate::{
    helpers::TestDb,
    process::{admin_bearer, create_parts_environment, http, run_cli, status, try_http, Server},
};

#[tokio::test]
async fn postgresql_restarted_under_load_answers_503_and_the_server_recovers_by_itself() {
    let cluster = Cluster::create();
    let db = TestDb::at(cluster.url("switchyard"));
    // Monitoring reads the detailed health with the Prometheus token, which is checked
    // without the database; an API token has to be looked up in it.
    let monitoring = [("authorization", "Bearer outage-monitoring-token")];
    let env = [("SWITCHYARD_PROMETHEUS_TOKEN", "outage-monitoring-token")];
    let server = Server::start_with(&db, &db.url, &env).await;
    let addr = server.addr.clone();
    let bearer = admin_bearer(&db, "outage").await;
    create_parts_environment(&addr, &bearer, "production").await;
    let cookie = browser_session(&db, &addr).await;
    let load = Load::start(&addr, &bearer);
    load.wait_for_writes(50).await;

    cluster.stop();
    let stopped = Instant::now();
    let health = http(&addr, "GET", "/api/v1/health/detailed", &monitoring, "").await;
    assert_eq!(status(&health), Some(503), "{health}");
    assert!(health.contains(r#""status":"degraded""#), "{health}");
    assert!(health.contains(r#""reachable":false"#), "{health}");
    let write = deploy(&addr, &bearer, "9.9.9", "outage-probe").await;
    assert_eq!(status(&write), Some(503), "{write}");
    assert!(write.contains(r#""code":"unavailable""#), "{write}");
    assert!(write.contains("The database is not answering"), "{write}");
    assert!(write.to_lowercase().contains("retry-after: 5"), "{write}");
    // A signed-in page view says so too, in the page (who is signed in is known without the
    // database).
    let browser = [
        ("cookie", cookie.as_str()),
        ("accept", "text/html,*/*;q=0.8"),
    ];
    let page = http(&addr, "GET", "/deployments", &browser, "").await;
    assert_eq!(status(&page), Some(503), "{page}");
    assert!(page.contains("The database is not answering"), "{page}");
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(stopped.elapsed())).await;
    let during = load.statuses();

    cluster.start();
    let restarted = Instant::now();
    load.wait_for_writes(load.writes() + 50).await;
    let recovered = restarted.elapsed();
    let load = load.stop().await;
    let health = http(&addr, "GET", "/api/v1/health/detailed", &monitoring, "").await;
    assert_eq!(status(&health), Some(200), "{health}");
    assert!(health.contains(r#""status":"ok""#), "{health}");
    println!(
        "down {:?}; answers meanwhile {during:?}; 50 writes {recovered:?} after the restart; in all {:?}",
        restarted - stopped,
        load.statuses,
    );

    assert!(during.get(&503).is_some_and(|n| *n > 0), "{during:?}");
    let unexpected: Vec<_> = load
        .statuses
        .keys()
        .filter(|code| !matches!(code, 200 | 201 | 503))
        .collect();
    assert!(
        unexpected.is_empty(),
        "only 2xx and 503: {:?}",
        load.statuses
    );
    // Every acknowledged write is there once; the probe refused during the outage is not.
    let listed = http(
        &addr,
        "GET",
        "/api/v1/deployments?service=parts&limit=200",
        &auth(&bearer),
        "",
    )
    .await;
    let total = count_deployments(&cluster.url("switchyard")).await;
    assert_eq!(total, load.acknowledged.len() as i64, "{listed}");
    assert!(!listed.contains("9.9.9"), "{listed}");
    server.stop().await;
}

/// Eight clients, four recording deployments (each with an `Idempotency-Key`, retried with
/// it until acknowledged) and four reading the list; every answer's status is counted.
struct Load {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<String>>>,
    statuses: Arc<Mutex<BTreeMap<u16, usize>>>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

/// What a load saw, once stopped.
struct Seen {
    acknowledged: Vec<String>,
    statuses: BTreeMap<u16, usize>,
}

impl Load {
    fn start(addr: &str, bearer: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(BTreeMap::new()));
        let clients = (0..8)
            .map(|client| {
                let (stop, acknowledged, statuses) =
                    (stop.clone(), acknowledged.clone(), statuses.clone());
                let (addr, bearer) = (addr.to_owned(), bearer.to_owned());
                tokio::spawn(async move {
                    let note = |answer: &str| {
                        // A connection refused or cut short counts as 0.
                        let code = status(answer).unwrap_or(0);
                        *statuses.lock().expect("lock").entry(code).or_default() += 1;
                        code
                    };
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        if client % 2 == 1 {
                            let answer = try_http(
                                &addr,
                                "GET",
                                "/api/v1/deployments?limit=5",
                                &auth(&bearer),
                                "",
                            )
                            .await
                            .unwrap_or_default();
                            note(&answer);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                        let version = format!("{client}.{n}.0");
                        let key = format!("outage-{client}-{n}");
                        loop {
                            match note(&deploy(&addr, &bearer, &version, &key).await) {
                                200 | 201 => break,
                                0 | 503 => tokio::time::sleep(Duration::from_millis(100)).await,
                                other => panic!("{version} refused with {other}"),
                            }
                        }
                        acknowledged.lock().expect("lock").push(version);
                        n += 1;
                    }
                })
            })
            .collect();
        Self {
            stop,
            acknowledged,
            statuses,
            clients,
        }
    }

    fn writes(&self) -> usize {
        self.acknowledged.lock().expect("lock").len()
    }

    fn statuses(&self) -> BTreeMap<u16, usize> {
        self.statuses.lock().expect("lock").clone()
    }

    /// Waits until `count` writes were acknowledged; a minute at most.
    async fn wait_for_writes(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.writes() < count {
            assert!(
                Instant::now() < deadline,
                "{} of {count} writes within a minute; answers: {:?}",
                self.writes(),
                self.statuses()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(mut self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        for client in std::mem::take(&mut self.clients) {
            client.await.expect("client");
        }
        Seen {
            acknowledged: std::mem::take(&mut *self.acknowledged.lock().expect("lock")),
            statuses: self.statuses(),
        }
    }
}

/// The session cookie of a new admin who logged in through the API, as a browser would.
async fn browser_session(db: &TestDb, addr: &str) -> String {
    const PASSWORD: &str = "outage-passphrase-1";
    let created = run_cli(
        db,
        &["user", "create", "--username", "watcher", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(created.status.success(), "{created:?}");
    let body = format!(r#"{{"username": "watcher", "password": "{PASSWORD}"}}"#);
    let headers = [("content-type", "application/json")];
    let answer = http(addr, "POST", "/api/v1/session", &headers, &body).await;
    answer
        .lines()
        .find_map(|line| {
            line.to_lowercase()
                .starts_with("set-cookie:")
                .then(|| line[11..].trim())
        })
        .and_then(|cookie| cookie.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie: {answer}"))
        .to_owned()
}

fn auth(bearer: &str) -> [(&str, &str); 1] {
    [("authorization", bearer)]
}

/// Records a succeeded deployment of `parts` to production; the raw answer.
async fn deploy(addr: &str, bearer: &str, version: &str, key: &str) -> String {
    deploy_with_notes(addr, bearer, version, key, "").await
}

async fn deploy_with_notes(
    addr: &str,
    bearer: &str,
    version: &str,
    key: &str,
    notes: &str,
) -> String {
    let body = format!(
        r#"{{"service": "parts", "environment": "production", "version": "{version}", "status": "succeeded", "notes": "{notes}"}}"#
    );
    let headers = [
        ("authorization", bearer),
        ("content-type", "application/json"),
        ("idempotency-key", key),
    ];
    try_http(addr, "POST", "/api/v1/deployments", &headers, &body)
        .await
        .unwrap_or_default()
}

async fn count_deployments(url: &str) -> i64 {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(url).await.expect("connects");
    sqlx::query_scalar("SELECT COUNT(*) FROM deployments")
        .fetch_one(&mut connection)
        .await
        .expect("counts")
}

/// A PostgreSQL server of the test's own, made with `initdb` in a temporary folder, so that
/// stopping it troubles no other test. Stopped for good when dropped.
struct Cluster {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
}

impl Cluster {
    fn create() -> Self {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().expect("temporary folder");
        if running_as_root() {
            // PostgreSQL refuses to run as root; its own user owns the cluster.
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()));
        }
        let data = dir.path().join("data");
        run(as_postgres(&bin.join("initdb"))
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data));
        let port = crate::process::free_port();
        let cluster = Self { bin, dir, port };
        cluster.start();
        cluster
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut command = as_postgres(&self.bin.join("pg_ctl"));
        command
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(args);
        command
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgresql.log");
        run(self
            .pg_ctl(&["-w", "-t", "60", "-o", &options, "-l"])
            .arg(log)
            .arg("start"));
    }

    /// Stops the server as an administrator's restart does: open connections are ended.
    fn stop(&self) {
        run(&mut self.pg_ctl(&["-w", "-m", "fast", "stop"]));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-w", "-m", "immediate", "stop"]).output();
    }
}

/// The folder of PostgreSQL's server programs: `SWITCHYARD_TEST_POSTGRES_BIN`, or Debian's
/// newest `/usr/lib/postgresql/N/bin`.
fn postgres_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("SWITCHYARD_TEST_POSTGRES_BIN") {
        return bin.into();
    }
    let root = Path::new("/usr/lib/postgresql");
    std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .map(|version| root.join(version.to_string()).join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .expect("PostgreSQL's server programs (initdb, pg_ctl): install postgresql or set SWITCHYARD_TEST_POSTGRES_BIN")
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn as_postgres(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_keeps_reads_and_resumes_when_space_returns() {
    if std::env::var_os("SWITCHYARD_TEST_UNPRIVILEGED").is_some() {
        println!("skipped: SWITCHYARD_TEST_UNPRIVILEGED is set (mounting a tmpfs needs root)");
        return;
    }
    let disk = SmallDisk::mount("8m");
    let db = TestDb::at(format!(
        "sqlite://{}",
        disk.path().join("switchyard.db").display()
    ));
    let server = Server::start(&db, &db.url).await;
    let addr = server.addr.clone();
    let bearer = admin_bearer(&db, "disk").await;
    create_parts_environment(&addr, &bearer, "production").await;
    let cookie = browser_session(&db, &addr).await;
    let notes = "n".repeat(4000);
    let (mut acknowledged, mut newest) = (0, String::new());
    for n in 0..5 {
        let answer = deploy_with_notes(
            &addr,
            &bearer,
            &format!("1.{n}.0"),
            &format!("before-{n}"),
            &notes,
        )
        .await;
        assert_eq!(status(&answer), Some(201), "{answer}");
        (acknowledged, newest) = (acknowledged + 1, format!("1.{n}.0"));
    }

    let filler = disk.fill();
    // SQLite may still find room in pages it holds; the disk is full once a write says so.
    let refused = loop {
        let (n, version) = (acknowledged, format!("2.{acknowledged}.0"));
        let answer =
            deploy_with_notes(&addr, &bearer, &version, &format!("full-{n}"), &notes).await;
        match status(&answer) {
            Some(201) if acknowledged < 500 => (acknowledged, newest) = (n + 1, version),
            _ => break answer,
        }
    };
    assert_eq!(status(&refused), Some(503), "{refused}");
    assert!(refused.contains(r#""code":"unavailable""#), "{refused}");
    assert!(refused.contains("disk is full"), "{refused}");
    assert!(
        !refused.to_lowercase().contains("retry-after"),
        "waiting alone does not free a disk: {refused}"
    );
    // Reads keep working: the API, a page, the health check.
    let listed = http(
        &addr,
        "GET",
        "/api/v1/deployments?limit=1",
        &auth(&bearer),
        "",
    )
    .await;
    assert_eq!(status(&listed), Some(200), "{listed}");
    let page = http(&addr, "GET", "/deployments", &[("cookie", &cookie)], "").await;
    assert_eq!(status(&page), Some(200), "{page}");
    assert!(page.contains(&newest), "{newest} is listed: {page}");
    let again = deploy_with_notes(&addr, &bearer, "3.0.0", "full-again", &notes).await;
    assert_eq!(status(&again), Some(503), "{again}");

    std::fs::remove_file(filler).expect("frees the space");
    let resumed = deploy_with_notes(&addr, &bearer, "3.0.0", "full-again", &notes).await;
    assert_eq!(status(&resumed), Some(201), "{resumed}");
    acknowledged += 1;
    server.stop().await;

    // Exactly the acknowledged deployments, each with its audit entry, in a sound file.
    use sqlx::Connection;
    let mut connection = sqlx::SqliteConnection::connect(&db.url)
        .await
        .expect("opens");
    let count = |sql| sqlx::query_scalar::<_, i64>(sql);
    let deployments = count("SELECT COUNT(*) FROM deployments")
        .fetch_one(&mut connection)
        .await
        .expect("counts");
    let audited = count("SELECT COUNT(*) FROM audit_log WHERE action = 'deployment.recorded'")
        .fetch_one(&mut connection)
        .await
        .expect("counts");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await
        .expect("checks");
    println!("{acknowledged} deployments acknowledged before and after the disk filled");
    assert_eq!((deployments, audited), (acknowledged, acknowledged));
    assert_eq!(integrity, "ok");
}

/// A tmpfs of a few megabytes, unmounted when dropped.
struct SmallDisk {
    dir: TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        assert!(
            mounted.status.success(),
            "mounting a tmpfs needs root (set SWITCHYARD_TEST_UNPRIVILEGED=1 to skip): {}",
            String::from_utf8_lossy(&mounted.stderr)
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the disk has no room left; returns its path, to free the room.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("creates the filler");
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        // The last block may have been written in part; fill what is left byte by byte.
        while file.write_all(&[0]).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .output();
    }
}

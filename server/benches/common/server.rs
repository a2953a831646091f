//! The release `switchyard` binary as a process of its own, so that the memory a benchmark
//! reads is the server's alone, not the generator's that filled its database.

use std::{
    net::SocketAddr,
    path::Path,
    process::{Child, Command, ExitStatus},
    time::{Duration, Instant},
};

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Serves `url` on a free port with the compiled site (`SWITCHYARD_SITE_ROOT`, or the
    /// workspace's `target/site`) and `env` added; logs warnings to `folder/server.log`.
    /// Returns once it accepts connections.
    pub async fn start(url: &str, folder: &Path, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let site = std::env::var("SWITCHYARD_SITE_ROOT")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site").to_owned());
        let log = std::fs::File::create(folder.join("server.log")).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .env("SWITCHYARD_ADDR", format!("127.0.0.1:{port}"))
            .env("SWITCHYARD_DATABASE_URL", url)
            .env("SWITCHYARD_SITE_ROOT", site)
            .env("SWITCHYARD_LOG_LEVEL", "warn")
            .envs(env.iter().copied())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, addr }
    }

    /// Resident memory now, in MB.
    pub fn rss_mb(&self) -> Option<f64> {
        self.status_mb("VmRSS:")
    }

    /// The most resident memory since the start or the last [`Self::reset_peak`], in MB.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        self.status_mb("VmHWM:")
    }

    /// Starts the peak over from now (Linux: 5 written to `clear_refs`).
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    fn status_mb(&self, field: &str) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }

    /// SIGTERM, then its exit.
    pub fn stop(mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("the server stops")
    }
}

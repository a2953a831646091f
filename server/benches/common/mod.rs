//! What the benchmarks share: a seedable generator, a minimal keep-alive HTTP/1.1 client, and
//! percentiles. Each benchmark uses what it needs.
#![allow(dead_code)]

use std::time::Duration;

pub mod history;
pub mod server;

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

/// xorshift64: fast, seedable noise for generated histories.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One keep-alive HTTP/1.1 connection: enough client for a benchmark, nothing more. Every
/// request carries `credential`, a whole header line (`Authorization: Bearer …` or
/// `Cookie: …`).
pub struct Connection {
    reader: BufReader<TcpStream>,
    host: String,
    credential: String,
}

impl Connection {
    pub async fn open(addr: std::net::SocketAddr, credential: &str) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            reader: BufReader::new(stream),
            host: addr.to_string(),
            credential: credential.to_owned(),
        }
    }

    /// Sends a request and returns the status, the `Set-Cookie` values and the body (read by
    /// length or in chunks, as the server sent it).
    pub async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, Vec<String>, String) {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.credential,
            body.len(),
            host = self.host,
        );
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("write");
        let mut line = String::new();
        self.reader.read_line(&mut line).await.expect("status line");
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let (mut length, mut chunked, mut cookies) = (0, false, Vec::new());
        loop {
            line.clear();
            self.reader.read_line(&mut line).await.expect("header");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().expect("length");
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.eq_ignore_ascii_case("chunked");
                } else if name.eq_ignore_ascii_case("set-cookie") {
                    cookies.push(value.split(';').next().unwrap_or_default().to_owned());
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line).await.expect("chunk size");
                let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).await.expect("chunk");
                body.extend_from_slice(&chunk[..size]);
                if size == 0 {
                    break;
                }
            }
        } else {
            body.resize(length, 0);
            self.reader.read_exact(&mut body).await.expect("body");
        }
        (status, cookies, String::from_utf8_lossy(&body).into_owned())
    }

    /// Sends a request and returns the status and body.
    pub async fn send(&mut self, method: &str, path: &str, body: &str) -> (u16, String) {
        let (status, _, body) = self.exchange(method, path, body).await;
        (status, body)
    }
}

/// Hands each of the benchmark's `--name value` options to `set` (`cargo bench` adds a
/// `--bench` of its own, skipped); an option `set` does not take stops the run, naming it.
pub fn each_option(mut set: impl FnMut(&str, &str) -> bool) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.iter();
    while let Some(name) = args.next() {
        if name == "--bench" {
            continue;
        }
        let value = args.next().map_or("", String::as_str);
        assert!(
            set(name, value),
            "unknown option {name}; see the README's Benchmarks section"
        );
    }
}

/// An option's value as a count (`1_000_000` reads as a million).
pub fn count(name: &str, value: &str) -> usize {
    value
        .replace('_', "")
        .parse()
        .unwrap_or_else(|_| panic!("{name} needs a number"))
}

/// The nearest-rank percentile `p` (0–1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

//! Slow clients do not stall other users (issue 17): connections that never finish their
//! headers (slowloris), a body that stops arriving, and a live stream nobody reads. The real
//! binary over real TCP, with `client_timeout` at 2 s so the test does not wait long.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    helpers::{Engine, TestDb},
    process::{admin_bearer, create_parts_environment, http, status, Server},
};

const CLIENT_TIMEOUT: &str = "2s";
/// Long enough for any timer at 2 s to have fired on a loaded machine; a connection still open
/// after it was not closed by the timeout.
const GRACE: Duration = Duration::from_secs(15);

async fn start(db: &TestDb) -> Server {
    Server::start_with(
        db,
        &db.url,
        &[("SWITCHYARD_CLIENT_TIMEOUT", CLIENT_TIMEOUT)],
    )
    .await
}

/// Reads until the server closes the connection (or `GRACE` passes); what it sent.
async fn until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(GRACE, stream.read_to_end(&mut answer)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn connections_that_never_finish_their_headers_are_closed_and_others_are_served() {
    const SLOW: usize = 300;
    let db = TestDb::new(Engine::Sqlite).await;
    let server = start(&db).await;
    let bearer = admin_bearer(&db, "slow").await;
    let addr = server.addr.clone();

    // Each sends a header line every half second, for ever: no read timer is ever idle long,
    // only the deadline for the whole head can end it.
    let slow: Vec<_> = (0..SLOW)
        .map(|n| {
            let addr = addr.clone();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(&addr).await.expect("connects");
                let start = format!("GET /api/v1/health HTTP/1.1\r\nHost: {addr}\r\n");
                stream.write_all(start.as_bytes()).await.expect("writes");
                let (mut reader, mut writer) = stream.into_split();
                let trickle = tokio::spawn(async move {
                    for line in 0.. {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        let header = format!("X-Slow-{n}-{line}: still typing\r\n");
                        if writer.write_all(header.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
                let mut answer = Vec::new();
                let closed = tokio::time::timeout(GRACE, reader.read_to_end(&mut answer)).await;
                trickle.abort();
                (
                    closed.is_ok(),
                    String::from_utf8_lossy(&answer).into_owned(),
                )
            })
        })
        .collect();

    // Meanwhile everyone else is served.
    let authorization = [("authorization", bearer.as_str())];
    for _ in 0..20 {
        let health = http(&addr, "GET", "/api/v1/health", &[], "").await;
        assert_eq!(status(&health), Some(200), "{health}");
        let list = http(&addr, "GET", "/api/v1/deployments", &authorization, "").await;
        assert_eq!(status(&list), Some(200), "{list}");
    }

    for connection in slow {
        let (closed, answer) = connection.await.expect("joins");
        assert!(
            closed,
            "a connection still sending headers after {GRACE:?} was not closed"
        );
        assert!(
            !answer.contains("200 OK"),
            "an unfinished request was answered: {answer}"
        );
    }
    assert_eq!(
        status(&http(&addr, "GET", "/api/v1/health", &[], "").await),
        Some(200)
    );
    server.stop().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_timeout() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = start(&db).await;
    let mut stream = TcpStream::connect(&server.addr).await.expect("connects");
    let request = format!(
        "GET /api/v1/health HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.expect("writes");
    // The answer comes, and then nothing more until the server gives up on the connection.
    let answer = until_closed(&mut stream)
        .await
        .expect("an idle connection is closed after client_timeout");
    assert_eq!(status(&answer), Some(200), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_refused_and_writes_nothing() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = start(&db).await;
    let bearer = admin_bearer(&db, "slow").await;
    create_parts_environment(&server.addr, &bearer, "production").await;

    let body = r#"{"service": "parts", "environment": "production", "version": "1.0.0"}"#;
    let mut stream = TcpStream::connect(&server.addr).await.expect("connects");
    let head = format!(
        "POST /api/v1/deployments HTTP/1.1\r\nHost: {}\r\nAuthorization: {bearer}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    // Half the body, then silence.
    stream
        .write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .expect("writes");
    let answer = until_closed(&mut stream)
        .await
        .expect("a stalled body is answered and the connection closed");
    assert_eq!(status(&answer), Some(400), "{answer}");
    assert!(
        answer.contains("The request body stopped arriving"),
        "{answer}"
    );

    let list = http(
        &server.addr,
        "GET",
        "/api/v1/deployments",
        &[("authorization", bearer.as_str())],
        "",
    )
    .await;
    assert!(
        list.contains(r#""deployments":[]"#),
        "nothing recorded: {list}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_live_stream_nobody_reads_does_not_hold_up_writers_or_other_readers() {
    const ENTRIES: usize = 300;
    let db = TestDb::new(Engine::Sqlite).await;
    let server = start(&db).await;
    let bearer = admin_bearer(&db, "slow").await;
    let addr = server.addr.clone();
    create_parts_environment(&addr, &bearer, "production").await;
    let json = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let incident = http(
        &addr,
        "POST",
        "/api/v1/incidents",
        &json,
        r#"{"title": "Slow readers", "service": "parts", "environment": "production", "severity": "SEV2"}"#,
    )
    .await;
    assert_eq!(status(&incident), Some(201), "{incident}");
    let id = incident
        .split("\"id\":")
        .nth(1)
        .and_then(|rest| rest.split([',', '}']).next())
        .expect("the incident's id")
        .trim()
        .to_owned();
    let events = format!(
        "GET /api/v1/incidents/{id}/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {bearer}\r\n\r\n"
    );

    // A reader that never reads: its stream makes the next event only when the last one has
    // been taken, so it holds one event and the socket's buffers, and nobody waits on it.
    let mut stalled = TcpStream::connect(&addr).await.expect("connects");
    stalled.write_all(events.as_bytes()).await.expect("writes");
    // And one that reads everything, remembering the newest timeline count it was sent.
    let mut reader = TcpStream::connect(&addr).await.expect("connects");
    reader.write_all(events.as_bytes()).await.expect("writes");
    let (count_tx, mut count) = tokio::sync::watch::channel(None::<u64>);
    let reading = tokio::spawn(async move {
        let mut seen = String::new();
        let mut buffer = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
            // `data: [timeline entries, links and checks, post-mortem version]`
            let newest = seen
                .rsplit("data: [")
                .next()
                .and_then(|data| data.split(',').next())
                .and_then(|n| n.trim().parse().ok());
            if newest.is_some() {
                let _ = count_tx.send(newest);
            }
        }
    });
    let before = *tokio::time::timeout(GRACE, count.wait_for(Option::is_some))
        .await
        .expect("the first event comes at once")
        .expect("the reader is running")
        .as_ref()
        .expect("a count");

    // Every write is acknowledged, one after the other.
    for n in 0..ENTRIES {
        let body = format!(r#"{{"text": "entry {n}"}}"#);
        let path = format!("/api/v1/incidents/{id}/timeline");
        let answer = http(&addr, "POST", &path, &json, &body).await;
        assert_eq!(status(&answer), Some(201), "{answer}");
    }
    // The reading stream follows them to the last.
    let expected = before + ENTRIES as u64;
    let caught_up = tokio::time::timeout(GRACE, count.wait_for(|newest| *newest == Some(expected)))
        .await
        .is_ok();
    assert!(
        caught_up,
        "the reading stream stopped at {:?} of {expected} entries",
        *count.borrow()
    );
    let health = http(&addr, "GET", "/api/v1/health", &[], "").await;
    assert_eq!(status(&health), Some(200), "{health}");

    drop(stalled);
    reading.abort();
    server.stop().await;
}

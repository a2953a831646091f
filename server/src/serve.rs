//! Accepting connections and serving HTTP/1.1 on them, with the timeouts a server facing the
//! open network needs: `axum::serve` sets none, so a client that sends its headers a byte at a
//! time (slowloris) would hold its connection, and its file descriptor, for ever.

use std::{convert::Infallible, future::Future, io, net::SocketAddr, time::Duration};

use axum::{body::Body, extract::Request, Router};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};

/// Serves `router` on `listener` until `shutdown` completes, then waits for the open
/// connections to finish their requests (the caller bounds that wait). A client gets
/// `client_timeout` to send its request headers; a connection idle between requests past it
/// is closed too.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    client_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(client_timeout);
    let mut connections = router.into_make_service_with_connect_info::<SocketAddr>();
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    wait_after_accept_error(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small answers (health checks, JSON) should not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let router = connections
            .call(peer)
            .await
            .unwrap_or_else(|e: Infallible| match e {});
        let service = TowerToHyperService::new(
            router.map_request(|request: Request<Incoming>| request.map(Body::new)),
        );
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    // No new connections from here; the open ones finish the request they are on.
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A connection reset before it was accepted is the client's business; anything else (out of
/// file descriptors, say) would repeat at once, so wait a moment before accepting again.
async fn wait_after_accept_error(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; trying again in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

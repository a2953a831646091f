//! Server-sent events for live pages: a `changed` event whenever what a page shows moves. Each
//! stream wakes on this process's events and otherwise re-reads the database every second, so
//! a change made through another replica on the same PostgreSQL shows within that second: the
//! database is the one truth every replica shares, and no broker is needed beside it.

use std::{convert::Infallible, future::Future, time::Duration};

use app::backend::{events::Event, AppState, StorageError};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

/// How often a stream re-reads when nothing happened in this process.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Streams `changed` with `read`'s answer (as JSON) whenever it differs from the last one sent:
/// at once, after each event `concerns` picks, and at least every [`POLL_EVERY`]. The stream
/// ends when the server stops or the database stops answering (browsers reconnect).
pub fn follow<T, F, Fut>(
    state: AppState,
    concerns: impl Fn(&Event) -> bool + Send + Sync + 'static,
    read: F,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>>
where
    T: serde::Serialize + PartialEq + Send + 'static,
    F: Fn(AppState) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, StorageError>> + Send,
{
    let listener = state.events.subscribe();
    let watch = std::sync::Arc::new((concerns, read));
    let stream = futures_util::stream::unfold(
        (state, listener, None::<T>, true),
        move |(state, mut listener, last, mut first)| {
            let watch = watch.clone();
            async move {
                let (concerns, read) = &*watch;
                loop {
                    if !first {
                        let wait = async {
                            loop {
                                match listener.recv().await {
                                    Ok(event) if concerns(&event) => break,
                                    Ok(_) => continue,
                                    // Missed some: re-reading catches up.
                                    Err(RecvError::Lagged(_)) => break,
                                    Err(RecvError::Closed) => std::future::pending::<()>().await,
                                }
                            }
                        };
                        tokio::select! {
                            _ = tokio::time::timeout(POLL_EVERY, wait) => {}
                            () = state.events.closed() => return None,
                        }
                    }
                    first = false;
                    let now = read(state.clone()).await.ok()?;
                    if last.as_ref() != Some(&now) {
                        let data = serde_json::to_string(&now).unwrap_or_default();
                        let event = SseEvent::default().event("changed").data(data);
                        return Some((Ok(event), (state, listener, Some(now), false)));
                    }
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

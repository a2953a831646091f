//! Server-sent events for live pages: a `changed` event whenever what a page shows moves. Each
//! stream wakes on this process's events and otherwise re-reads the database every second, so
//! a change made through another replica on the same PostgreSQL shows within that second: the
//! database is the one truth every replica shares, and no broker is needed beside it.

use std::{
    collections::HashMap,
    convert::Infallible,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::{
    backend::{
        accounts::identity::{self, Principal},
        events::Event,
        AppState, Caller, StorageError,
    },
    domain::Timestamp,
};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::error::ApiError;

/// How often a stream re-reads when nothing happened in this process.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How often a stream asks whether its caller may still see it: a logout, a deactivation, a
/// role change or a revoked token ends the stream within this (plus one poll).
const RECHECK_EVERY: Duration = Duration::from_secs(3);
/// How many streams one user or token may hold open in this process: a live page each, with
/// room for several tabs, but not for a script opening thousands.
pub const MAX_STREAMS_PER_CALLER: usize = 8;

/// The live streams open in this process, per caller.
#[derive(Clone, Debug, Default)]
pub struct LiveStreams(Arc<Mutex<HashMap<String, usize>>>);

impl LiveStreams {
    /// A place for one more stream of `principal`, or `None` when it holds the most it may.
    fn open(&self, principal: &Principal) -> Option<Ticket> {
        let key = match principal {
            Principal::User { id, .. } => format!("user:{id}"),
            Principal::Token { id, .. } => format!("token:{id}"),
            Principal::System { name } => format!("system:{name}"),
        };
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key.clone()).or_default();
        if *count >= MAX_STREAMS_PER_CALLER {
            return None;
        }
        *count += 1;
        Some(Ticket {
            streams: self.clone(),
            key,
        })
    }
}

/// One open stream, counted until it is dropped (the browser went away or the stream ended).
#[derive(Debug)]
struct Ticket {
    streams: LiveStreams,
    key: String,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.streams.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Streams `changed` with `read`'s answer (as JSON) whenever it differs from the last one sent:
/// at once, after each event `concerns` picks, and at least every [`POLL_EVERY`]. The stream
/// ends when the server stops, the database stops answering (browsers reconnect), or the
/// caller may no longer see it (checked every [`RECHECK_EVERY`]); the handler has checked the
/// caller's role already. A caller holding [`MAX_STREAMS_PER_CALLER`] streams gets 429.
pub fn follow<T, F, Fut>(
    state: AppState,
    caller: &Caller,
    streams: &LiveStreams,
    concerns: impl Fn(&Event) -> bool + Send + Sync + 'static,
    read: F,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError>
where
    T: serde::Serialize + PartialEq + Send + 'static,
    F: Fn(AppState) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, StorageError>> + Send,
{
    let principal = caller
        .principal
        .clone()
        .ok_or(ApiError::App(app::error::AppError::Unauthenticated))?;
    let ticket = streams.open(&principal).ok_or_else(|| {
        ApiError::TooManyStreams(format!(
            "You have {MAX_STREAMS_PER_CALLER} live pages open already; close some tabs, then reload this one."
        ))
    })?;
    let listener = state.events.subscribe();
    let watch = Arc::new((concerns, read, principal, ticket));
    let stream = futures_util::stream::unfold(
        (state, listener, None::<T>, true, Instant::now()),
        move |(state, mut listener, last, mut first, mut checked)| {
            let watch = watch.clone();
            async move {
                let (concerns, read, principal, _ticket) = &*watch;
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
                    if checked.elapsed() >= RECHECK_EVERY {
                        let current =
                            identity::still_current(&state, principal, Timestamp::now()).await;
                        if !current.unwrap_or(false) {
                            return None;
                        }
                        checked = Instant::now();
                    }
                    let now = read(state.clone()).await.ok()?;
                    if last.as_ref() != Some(&now) {
                        let data = serde_json::to_string(&now).unwrap_or_default();
                        let event = SseEvent::default().event("changed").data(data);
                        return Some((Ok(event), (state, listener, Some(now), false, checked)));
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

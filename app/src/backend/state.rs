//! The one piece of state every handler and server function reaches.

use std::{
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use super::Database;

/// Everything a request may need. Handlers, server functions and Leptos' context clone it
/// many times per request, so a clone is one reference count: the fields live behind an
/// `Arc` and are read through `Deref`.
#[derive(Clone, Debug)]
pub struct AppState(Arc<State>);

impl AppState {
    pub fn new(state: State) -> Self {
        Self(Arc::new(state))
    }
}

impl std::ops::Deref for AppState {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct State {
    /// Where the compiled site lives and how it is named; leptos_axum reads it.
    pub leptos_options: LeptosOptions,
    /// The database, SQLite or PostgreSQL.
    pub db: Database,
    /// When this process started serving, for uptime.
    pub started_at: Instant,
    /// How long sessions last.
    pub auth: AuthSettings,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Arc<[IpAddr]>,
    /// Writes recorded deployments with group commit.
    pub ingest: super::deployments::ingest::Ingest,
    /// Secrets and name mapping of the CI webhooks.
    pub webhooks: Arc<super::deployments::webhooks::WebhookSettings>,
    /// Drivers, health checks and the HTTP client operations run with.
    pub operations: Arc<super::operations::Operations>,
    /// What just happened, for live pages and other listeners.
    pub events: super::events::Events,
    /// The newest background health check of each slot.
    pub health: super::catalog::health::HealthWatch,
    /// Who recent sessions and tokens belong to, for a few seconds.
    pub callers: super::accounts::callers::Callers,
    /// Scheduled backups, if configured: health and Prometheus report the newest one's age.
    pub backups: Option<super::backups::BackupSettings>,
}

/// Session lifetimes, from the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthSettings {
    /// A session unused this long ends.
    pub session_idle_timeout: Duration,
    /// A session ends this long after its login, however busy.
    pub session_lifetime: Duration,
}

/// OWASP ASVS 4.0.3 level 2 (3.3.2, 3.3.3): a session left alone ends within half an hour, and
/// any session within a working day.
impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_idle_timeout: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 60 * 60),
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

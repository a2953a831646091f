//! Building and running the application: what `main` calls and what tests call.

use std::{
    future::Future,
    net::SocketAddr,
    time::{Duration, Instant},
};

use app::{
    backend::{
        accounts,
        accounts::callers::Callers,
        accounts::store::login_attempts,
        accounts::store::sessions,
        backups,
        catalog::health::{self, HealthWatch},
        deployments::ingest::Ingest,
        events::Events,
        idempotency, incidents,
        operations::{self, http::HttpClient, Operations},
        state::State,
        storage::redact_url,
        AppState, Database, Engine, StorageError,
    },
    domain::Timestamp,
};
use axum::Router;
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use crate::{
    config::Config,
    http::{self, request_context::InFlight},
    site::{self, Site, SiteError},
};

/// Why Switchyard could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Site(#[from] SiteError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A built application: database open and migrated, socket bound, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    in_flight: InFlight,
    shutdown_timeout: Duration,
    client_timeout: Duration,
    /// For `pg_dump`, which connects by itself.
    database_url: String,
    /// Writes operations into open incidents' timelines; it listens from the start, so even
    /// requests driven in-process (tests) reach the timelines.
    timelines: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Opens and migrates the database, then binds the address (port 0 picks a free one).
    /// A failing migration stops here, before anything is served.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let site = Site::load(&config.site_root)?;
        let outbound = config.outbound_policy()?;
        let db = Database::connect(&config.database_url).await?;
        if let Err(error) = db.migrate().await {
            db.close().await;
            return Err(error.into());
        }
        tracing::info!(
            database = %redact_url(&config.database_url),
            schema_version = ?db.schema_version().await?,
            "database ready"
        );
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.addr,
                    source,
                })?;
        let state = AppState::new(State {
            leptos_options: leptos_options(config, &site),
            ingest: Ingest::start(db.clone()),
            db,
            started_at: Instant::now(),
            auth: config.auth,
            trusted_proxies: config.trusted_proxies.clone().into(),
            webhooks: config.webhooks.clone().into(),
            operations: Operations::new(
                config.operations.clone(),
                HttpClient::new(outbound),
                uuid::Uuid::new_v4().simple().to_string(),
            ),
            events: Events::default(),
            callers: Callers::default(),
            health: HealthWatch::new(config.health_check_interval),
            backups: config.backups(),
        });
        // A SQLite database has one Switchyard process: whatever still runs was left by its
        // previous life. PostgreSQL replicas interrupt only operations whose runner stopped
        // beating.
        let every = state.db.engine() == Engine::Sqlite;
        let interrupted = operations::interrupt_orphans(&state, every, None).await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "operations left running by a stopped server are marked interrupted"
            );
        }
        let in_flight = InFlight::default();
        let router = http::router(state.clone(), config, &in_flight, &site);
        let timelines = tokio::spawn(incidents::timeline::follow_operations(state.clone()));
        Ok(Self {
            listener,
            router,
            state,
            in_flight,
            shutdown_timeout: config.shutdown_timeout,
            client_timeout: config.client_timeout,
            database_url: config.database_url.clone(),
            timelines,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    /// Runs scheduled backups in the background, if configured (tests drive the router
    /// without serving, so this is apart from [`Self::run_until`]).
    fn start_backups(&self) -> Option<tokio::task::JoinHandle<()>> {
        let settings = self.state.backups.clone()?;
        let next = settings.schedule.next_after(chrono::Utc::now());
        tracing::info!(
            dir = %settings.dir.display(),
            at = %settings.schedule.at,
            time_zone = %settings.schedule.zone.name(),
            %next,
            "scheduled backups on"
        );
        Some(tokio::spawn(backups::run_schedule(
            self.state.db.clone(),
            self.database_url.clone(),
            settings,
        )))
    }

    /// The router, for driving requests in-process.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The shared state (database and all).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// On a database without users, prints a one-time link to create the first admin (a new
    /// one at each start until someone has used one).
    pub async fn announce_setup_link(&self) -> Result<(), StorageError> {
        if let Some(secret) = accounts::open_setup(&self.state.db).await? {
            let setup_url = format!("http://{}/setup?token={secret}", self.local_addr());
            tracing::warn!(
                %setup_url,
                valid_minutes = accounts::SETUP_LINK_LIFETIME.as_secs() / 60,
                "no users yet: open the setup link to create the first admin"
            );
        }
        Ok(())
    }

    /// Serves until `shutdown` completes, lets requests in flight finish (for at most the
    /// configured `shutdown_timeout`: then it logs what was still running and stops anyway, so
    /// no stuck request can hang a restart), then closes the database. Expired sessions are
    /// deleted every few minutes meanwhile.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.local_addr();
        tracing::info!(%addr, "listening on http://{addr}");
        let cleanup = tokio::spawn(delete_expired_sessions(self.state.db.clone()));
        let maintenance = tokio::spawn(operations::maintain(self.state.clone()));
        let health_watch = tokio::spawn(health::watch(self.state.clone()));
        let scheduled_backups = self.start_backups();
        let events = self.state.events.clone();
        let (requested, deadline) = tokio::sync::oneshot::channel();
        let shutdown = async move {
            shutdown.await;
            let _ = requested.send(Instant::now());
            // Live pages hold their connection open; they must end for the server to stop.
            events.close();
        };
        let serve = crate::serve::serve(self.listener, self.router, self.client_timeout, shutdown);
        let limit = self.shutdown_timeout;
        let out_of_time = async move {
            match deadline.await {
                Ok(requested_at) => tokio::time::sleep_until((requested_at + limit).into()).await,
                // The server stopped without being asked (its listener failed).
                Err(_) => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            result = serve => result,
            () = out_of_time => {
                tracing::error!(
                    shutdown_timeout_secs = limit.as_secs_f64(),
                    "requests in flight did not finish in time; stopping anyway"
                );
                self.in_flight.log_remaining();
                Ok(())
            }
        };
        cleanup.abort();
        maintenance.abort();
        health_watch.abort();
        if let Some(backups) = scheduled_backups {
            backups.abort();
        }
        self.timelines.abort();
        // Operations still running here will not finish: say so now rather than leave the
        // lock to the heartbeat timeout. A database that does not answer must not hold up
        // the stop either.
        let own = Some(self.state.operations.runner_id.as_str());
        let closing = async {
            if let Err(error) = operations::interrupt_orphans(&self.state, false, own).await {
                tracing::warn!(%error, "cannot mark this server's running operations interrupted");
            }
            self.state.db.close().await;
        };
        if tokio::time::timeout(CLOSE_TIMEOUT, closing).await.is_err() {
            tracing::error!("the database did not close in time; stopping anyway");
        }
        tracing::info!("stopped");
        result
    }
}

/// How long the database gets to close after the server has stopped serving.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often expired sessions, old login attempts and idempotency keys are swept.
const SESSION_SWEEP_INTERVAL: Duration = Duration::from_secs(5 * 60);

async fn delete_expired_sessions(db: Database) {
    let mut interval = tokio::time::interval(SESSION_SWEEP_INTERVAL);
    loop {
        interval.tick().await;
        let now = Timestamp::now();
        match sessions::delete_expired(&db, now).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted expired sessions"),
            Err(error) => tracing::warn!(%error, "cannot delete expired sessions"),
        }
        // Attempts older than the throttle's window no longer count.
        let before = now.minus(app::domain::accounts::throttle::WINDOW);
        if let Err(error) = login_attempts::delete_older_than(&db, before).await {
            tracing::warn!(%error, "cannot delete old login attempts");
        }
        // Retries come within minutes; a day-old key only takes space.
        let before = now.minus(idempotency::KEY_LIFETIME);
        if let Err(error) = idempotency::delete_older_than(&db, before).await {
            tracing::warn!(%error, "cannot delete old idempotency keys");
        }
    }
}

/// Leptos' settings, from ours: the names must match `[[workspace.metadata.leptos]]`.
fn leptos_options(config: &Config, site: &Site) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(site::OUTPUT_NAME)
        .site_root(site.root.to_string_lossy().into_owned())
        .site_pkg_dir(site::PKG_DIR)
        .site_addr(config.addr)
        // Leptos looks for the hash file beside the executable unless its path is absolute.
        .hash_files(true)
        .hash_file(site.hash_file().to_string_lossy().as_ref().into())
        .build()
}

/// Completes on Ctrl-C or SIGTERM. It listens from the moment it is called, not from when it
/// is first awaited: a signal sent right after the server says it is listening must stop it
/// in order, where the default action would kill it (seen in tests that stop a server at
/// once, about 1 run in 10 with the machine busy).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    let signalled = signals();
    async move {
        signalled.await;
        tracing::info!("shutdown requested; finishing requests in flight");
    }
}

#[cfg(unix)]
fn signals() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, Signal, SignalKind};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind)
            .inspect_err(|error| tracing::error!(%error, "cannot listen for {name}"))
            .ok()
    };
    async fn received(signal: Option<Signal>) {
        match signal {
            Some(mut signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    let interrupt = received(listen(SignalKind::interrupt(), "Ctrl-C"));
    let terminate = received(listen(SignalKind::terminate(), "SIGTERM"));
    async move {
        tokio::select! {
            () = interrupt => {},
            () = terminate => {},
        }
    }
}

#[cfg(not(unix))]
fn signals() -> impl Future<Output = ()> + Send + 'static {
    async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}

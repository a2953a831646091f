//! The one piece of state every handler and server function reaches.

use std::time::Instant;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use super::Database;

/// Everything a request may need, cloned cheaply into each handler.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Where the compiled site lives and how it is named; leptos_axum reads it.
    pub leptos_options: LeptosOptions,
    /// The database, SQLite or PostgreSQL.
    pub db: Database,
    /// When this process started serving, for uptime.
    pub started_at: Instant,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

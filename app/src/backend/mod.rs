//! The server side that pages (through server functions), the REST API and the command line
//! share: state, storage, identity and the operations on accounts. Compiled only with the
//! `ssr` feature.

pub mod accounts;
pub mod admin;
pub mod api_tokens;
pub mod audit;
pub mod callers;
pub mod catalog;
pub mod deployments;
pub mod events;
pub mod idempotency;
pub mod identity;
pub mod login_attempts;
pub mod operations;
pub mod passwords;
pub mod rpc;
pub mod secrets;
pub mod sessions;
pub mod state;
pub mod storage;
pub mod users;
pub mod webhooks;

pub use identity::{Caller, Principal};
pub use state::{AppState, AuthSettings};
pub use storage::{Database, Engine, StorageError};

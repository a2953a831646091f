//! The server side that pages (through server functions), the REST API and the command line
//! share. Compiled only with the `ssr` feature. One folder per feature, holding its use cases
//! (`mod.rs`: each checks the caller's rights, then makes its change and the audit entry in
//! one transaction) and its SQL (`store.rs`, or `store/` with a file per table); beside them,
//! what every feature uses: state, storage, the audit log, idempotent creation, the event bus
//! and the server-function plumbing.

pub mod accounts;
pub mod audit;
pub mod backups;
pub mod catalog;
pub mod demo;
pub mod deployments;
pub mod events;
pub mod idempotency;
pub mod incidents;
pub mod metrics;
pub mod operations;
pub mod releases;
pub mod rpc;
pub mod secrets;
pub mod state;
pub mod storage;

pub use accounts::identity::{Caller, Principal};
pub use state::{AppState, AuthSettings};
pub use storage::{Database, Engine, StorageError};

//! The server side that pages (through server functions) and the REST API share: state and
//! storage. Compiled only with the `ssr` feature.

pub mod state;
pub mod storage;

pub use state::AppState;
pub use storage::{Database, Engine, StorageError};

//! Switchyard's vocabulary as plain Rust: no I/O, compiled for the server and the browser alike,
//! so a form can say what is wrong before it is sent and the server says the same thing after.
//! One module per feature (accounts, catalog, deployments, incidents, metrics, operations, releases); csv, paging, time, words and
//! the field error are shared by all of them.

pub mod accounts;
pub mod audit;
#[cfg(feature = "ssr")]
pub mod backups;
pub mod catalog;
pub mod csv;
pub mod deployments;
mod field;
pub mod incidents;
pub mod metrics;
pub mod operations;
pub mod outbound;
pub mod paging;
pub mod releases;
#[cfg(feature = "ssr")]
pub mod schema;
pub mod time;
pub mod words;

pub use accounts::{
    role::{Action, Role},
    DisplayName, Password, Username,
};
pub use field::{FieldError, FieldErrors};
pub use time::Timestamp;

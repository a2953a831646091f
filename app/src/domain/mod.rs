//! Switchyard's vocabulary as plain Rust: no I/O, compiled for the server and the browser alike,
//! so a form can say what is wrong before it is sent and the server says the same thing after.

pub mod account;
pub mod catalog;
pub mod deployment;
pub mod operation;
pub mod paging;
pub mod role;
pub mod throttle;
pub mod time;
pub mod token;
pub mod webhook;
pub mod words;

pub use account::{DisplayName, FieldError, Password, Username};
pub use role::{Action, Role};
pub use time::Timestamp;

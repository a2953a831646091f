//! The `switchyard` server: configuration, startup, HTTP (REST API and pages) and logging.
//! `main.rs` only parses the command line and calls into here, so tests can build the same
//! application in-process.

mod admin_cli;
mod backup_cli;
pub mod cli;
pub mod config;
pub mod http;
mod serve;
pub mod site;
pub mod startup;
pub mod telemetry;

pub use config::Config;
pub use startup::Application;

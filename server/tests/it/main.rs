//! Integration tests: the real router, in-process, on a fresh SQLite file and a fresh
//! PostgreSQL database per test; and the real binary as a process. One test binary keeps link
//! times down.

mod helpers;

mod access;
mod backups;
mod catalog;
mod crash;
mod deployments;
mod errors;
mod health;
mod identity;
mod incidents;
mod metrics;
mod openapi;
mod operations;
mod outages;
mod pages;
mod process;
mod releases;
mod replicas;
mod shutdown;
mod slow_clients;
mod storage;
mod webhooks;

//! The `tessera` binary's library half: command line, layered configuration, telemetry, and
//! the wiring of store, services and HTTP server with graceful shutdown. `main.rs` only calls
//! [`cli::run`]. This is the one crate where `anyhow` is used: start-up errors become one
//! clear line for the operator.

pub mod app;
pub mod automation;
pub mod cli;
pub mod config;
pub mod progress;
pub mod telemetry;

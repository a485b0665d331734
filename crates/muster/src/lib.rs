//! The muster server: CLI, HTTP (SCIM), storage selection and telemetry.

pub mod admin_cli;
pub mod audit;
pub mod cli;
pub mod config;
pub mod http;
pub mod server;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod token_cache;
pub mod transfer;

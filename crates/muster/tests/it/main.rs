//! The one integration-test binary: every test drives a real muster server over HTTP on a port
//! the OS picks. One binary (not one per file) keeps link time down on small machines.
//! With MUSTER_TEST_POSTGRES_URL set, every test runs on PostgreSQL instead of SQLite.

// Tests are allowed to panic: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod admin_access;
mod admin_api;
mod admin_cli;
mod admin_people;
mod audit;
mod auth;
mod backend;
mod bulk;
mod cli;
mod cluster;
mod discovery;
mod errors;
mod filters;
mod groups;
mod listing;
mod openapi;
mod ops;
mod patch;
mod planner_statistics;
mod projection;
mod replay;
mod rules;
mod smoke;
mod transfer;
mod users;
mod versioning;

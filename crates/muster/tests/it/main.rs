//! The one integration-test binary: every test drives a real muster server over HTTP on a port
//! the OS picks. One binary (not one per file) keeps link time down on small machines.

// Tests are allowed to panic: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod bulk;
mod cli;
mod discovery;
mod smoke;

//! The one integration-test binary: every test drives a real muster server over HTTP on a port
//! the OS picks. One binary (not one per file) keeps link time down on small machines.

mod support;

mod bulk;
mod cli;
mod discovery;
mod smoke;

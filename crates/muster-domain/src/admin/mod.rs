//! The administrator's side: tenants' settings, SSO connections, keys, admin sign-in, people and
//! groups, product access and the audit log, over [`store::AdminStore`].

pub mod access;
pub mod auth;
pub mod error;
pub mod model;
pub mod people;
pub mod service;
pub mod store;
pub mod views;

//! muster's use cases and invariants, over the [`store::Store`] trait: no HTTP, no SQL.

pub mod admin;
pub mod bulk;
pub mod model;
pub mod query;
pub mod rules;
pub mod service;
pub mod store;
pub mod tokens;

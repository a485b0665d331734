//! SCIM 2.0 (RFC 7643/7644) as pure data and functions: schemas, the filter language, PATCH,
//! resource normalisation and projection. No I/O, so every rule here is unit-testable.

pub mod error;
pub mod filter;
pub mod schema;

pub use error::{ScimError, ScimResult, ScimType};
pub mod eval;
pub mod list;
pub mod patch;
pub mod projection;
#[cfg(test)]
mod proptests;
pub mod resolve;
pub mod resource;

//! SQL stores behind `muster_domain::store::Store`. Dynamic SQL lives only in [`sql`].

pub mod migrate;
mod row;
pub mod sql;
pub mod sqlite;

pub use sqlite::SqliteStore;

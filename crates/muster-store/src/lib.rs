//! SQL stores behind `muster_domain::store::Store`: the logic once ([`store`]), over each engine's
//! [`exec::Backend`]. Dynamic SQL is generated only in [`sql`].

mod admin;
mod batch;
pub mod exec;
mod members_alone;
pub mod migrate;
pub mod postgres;
mod row;
pub mod sql;
pub mod sqlite;
pub mod store;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use store::SqlStore;

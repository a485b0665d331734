//! Embedded, ordered SQL migrations, applied once each and recorded in `schema_migrations`.
//! Each engine lists its own in its [`crate::sql::Dialect`].

/// One migration: its version and SQL.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

//! Embedded, ordered SQL migrations, applied once each and recorded in `schema_migrations`.

/// One migration: its version and SQL.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const SQLITE: &[Migration] = &[Migration {
    version: 1,
    name: "init",
    sql: include_str!("../migrations/sqlite/0001_init.sql"),
}];

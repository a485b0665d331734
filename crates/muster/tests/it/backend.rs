//! Which store the behaviour suite runs on: SQLite in a temp dir by default; PostgreSQL when
//! `MUSTER_TEST_POSTGRES_URL` is set, each test in its own schema, dropped afterwards.

use muster::storage::Location;
use muster_domain::store::Store;
use std::path::Path;
use std::sync::Arc;

pub const PG_ENV: &str = "MUSTER_TEST_POSTGRES_URL";

/// A PostgreSQL schema that is dropped when the test ends.
pub struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    pub fn new(url: String, name: String) -> Self {
        PgSchema { url, name }
    }

    /// Ends this installation's database sessions (what a restart of PostgreSQL does to them).
    pub async fn end_sessions(&self) -> u64 {
        muster_store::postgres::end_sessions(&self.url, &self.name)
            .await
            .unwrap_or_else(|e| panic!("end sessions: {e}"))
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        muster_store::postgres::drop_schema_blocking(&self.url, &self.name);
    }
}

pub fn postgres_url() -> Option<String> {
    std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())
}

pub async fn open_store(dir: &Path) -> (Arc<dyn Store>, Option<PgSchema>) {
    if let Some(url) = postgres_url() {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let store = muster_store::PgStore::connect_schema(&url, &name, 8)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {PG_ENV}: {e}"));
        return (Arc::new(store), Some(PgSchema { url, name }));
    }
    let store = Location::resolve(Some(dir), None)
        .unwrap_or_else(|e| panic!("{e}"))
        .open(2)
        .await
        .unwrap_or_else(|e| panic!("open store: {e}"));
    (store, None)
}

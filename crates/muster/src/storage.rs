//! Where the directory lives: `--data DIR` (SQLite file `DIR/muster.db`, the default
//! `./muster-data`) or `--database-url`.

use anyhow::{Context, bail};
use muster_domain::store::Store;
use muster_store::{PgStore, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const DEFAULT_DATA_DIR: &str = "muster-data";
pub const DB_FILE: &str = "muster.db";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn resolve(data: Option<&Path>, database_url: Option<&str>) -> anyhow::Result<Location> {
        if let Some(url) = database_url.filter(|u| !u.is_empty()) {
            if let Some(rest) = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                let path = rest.split('?').next().unwrap_or(rest);
                return Ok(Location::Sqlite(PathBuf::from(path)));
            }
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                return Ok(Location::Postgres(url.to_string()));
            }
            bail!("unsupported --database-url: expected postgres://… or sqlite://PATH");
        }
        let dir = data
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        Ok(Location::Sqlite(dir.join(DB_FILE)))
    }

    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(p) => format!("SQLite {}", p.display()),
            Location::Postgres(url) => format!("PostgreSQL {}", redact(url)),
        }
    }

    pub async fn open(&self, postgres_pool_size: u32) -> anyhow::Result<Arc<dyn Store>> {
        match self {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                let store = SqliteStore::open(path)
                    .await
                    .with_context(|| format!("opening {}", path.display()))?;
                Ok(Arc::new(store))
            }
            Location::Postgres(url) => {
                let store = PgStore::connect(url, postgres_pool_size)
                    .await
                    .with_context(|| format!("connecting to {}", redact(url)))?;
                Ok(Arc::new(store))
            }
        }
    }
}

/// Connections per node to PostgreSQL.
pub const PG_POOL_SIZE: u32 = 16;

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!(
                "{}{user}{}{}",
                &url[..s + 3],
                if creds.contains(':') { ":***" } else { "" },
                &url[at..]
            )
        }
        _ => url.to_string(),
    }
}

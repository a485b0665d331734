//! Configuration: defaults < `muster.toml` (or `--config FILE`) < `MUSTER_*` environment < flags.
//! Unknown keys are errors, so a typo never silently falls back to a default.

use crate::storage::{Location, redact};
use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use muster_domain::service::Limits;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const DEFAULT_FILE: &str = "muster.toml";

/// Environment variables read as configuration (`MUSTER_` + upper-case key; nested keys with
/// `__`, e.g. `MUSTER_LIMITS__MAX_PAGE_SIZE`).
const ENV_KEYS: [&str; 8] = [
    "listen",
    "data",
    "database_url",
    "public_url",
    "postgres_pool_size",
    "audit_retention_days",
    "audit_reads",
    "token_cache_seconds",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address `serve` listens on.
    pub listen: String,
    /// Directory of the embedded SQLite store.
    pub data: Option<PathBuf>,
    /// `postgres://…` or `sqlite://PATH`, instead of `data`.
    pub database_url: Option<String>,
    /// Public base URL (`https://id.example.com`) when a proxy rewrites `Host`.
    pub public_url: Option<String>,
    /// Connections per node to PostgreSQL.
    pub postgres_pool_size: u32,
    pub limits: Limits,
    /// Audit events older than this many days are deleted (0: kept forever).
    pub audit_retention_days: u32,
    /// Whether successful SCIM reads are in the audit log too (every SCIM request is, by
    /// default; changes and refused requests always are).
    pub audit_reads: bool,
    /// How long a node remembers an authenticated SCIM token: the longest a token revoked on
    /// another node or by the CLI keeps working here (0: every request asks the database).
    /// Changes through this node's admin API apply at once.
    pub token_cache_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data: None,
            database_url: None,
            public_url: None,
            postgres_pool_size: crate::storage::PG_POOL_SIZE,
            limits: Limits::default(),
            audit_retention_days: 365,
            audit_reads: true,
            token_cache_seconds: crate::state::TOKEN_CACHE_TTL.as_secs(),
        }
    }
}

/// Values given as command-line flags (the highest precedence).
#[derive(Debug, Default, Serialize)]
pub struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

impl Config {
    /// Loads the configuration. `file` must exist when given; otherwise `./muster.toml` is read
    /// if present.
    pub fn load(file: Option<&Path>, flags: &Flags) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                if !f.exists() {
                    bail!("config file {} does not exist", f.display());
                }
                fig = fig.merge(Toml::file_exact(f));
            }
            None if Path::new(DEFAULT_FILE).exists() => {
                fig = fig.merge(Toml::file_exact(DEFAULT_FILE))
            }
            None => {}
        }
        fig = fig
            .merge(Env::prefixed("MUSTER_").split("__").filter(|k| {
                let k = k.as_str().to_ascii_lowercase();
                ENV_KEYS.contains(&k.as_str()) || k.starts_with("limits")
            }))
            .merge(Serialized::defaults(flags));
        let config: Config = fig.extract().context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen
            .parse::<std::net::SocketAddr>()
            .with_context(|| {
                format!(
                    "listen: '{}' is not an address such as 127.0.0.1:8080",
                    self.listen
                )
            })?;
        self.location()?;
        let l = &self.limits;
        if l.max_page_size == 0 || l.default_page_size == 0 {
            bail!("limits: page sizes must be at least 1");
        }
        if l.bulk_max_operations == 0 || l.bulk_max_payload < 1024 || l.max_body < 1024 {
            bail!(
                "limits: bulk_max_operations must be at least 1, bulk_max_payload and max_body at least 1024 bytes"
            );
        }
        if let Some(u) = &self.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            bail!("public_url: '{u}' must start with http:// or https://");
        }
        Ok(())
    }

    pub fn location(&self) -> anyhow::Result<Location> {
        Location::resolve(self.data.as_deref(), self.database_url.as_deref())
    }

    /// The effective configuration as TOML, with any database password hidden.
    pub fn to_toml_redacted(&self) -> String {
        let mut c = self.clone();
        c.database_url = c.database_url.as_deref().map(redact);
        toml_string(&c)
    }
}

fn toml_string(c: &Config) -> String {
    // figment re-serialises through its own value type; render the few keys by hand instead of
    // pulling in a TOML writer.
    let mut out = String::new();
    out.push_str(&format!("listen = {:?}\n", c.listen));
    if let Some(d) = &c.data {
        out.push_str(&format!("data = {:?}\n", d.display().to_string()));
    }
    if let Some(u) = &c.database_url {
        out.push_str(&format!("database_url = {u:?}\n"));
    }
    if let Some(u) = &c.public_url {
        out.push_str(&format!("public_url = {u:?}\n"));
    }
    out.push_str(&format!(
        "postgres_pool_size = {}\naudit_retention_days = {}\naudit_reads = {}\ntoken_cache_seconds = {}\n\n[limits]\n",
        c.postgres_pool_size, c.audit_retention_days, c.audit_reads, c.token_cache_seconds
    ));
    let l = &c.limits;
    out.push_str(&format!(
        "default_page_size = {}\nmax_page_size = {}\nbulk_max_operations = {}\nbulk_max_payload = {}\nmax_body = {}\n",
        l.default_page_size, l.max_page_size, l.bulk_max_operations, l.bulk_max_payload, l.max_body
    ));
    out
}

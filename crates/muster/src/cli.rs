//! The command line. Names and flags here are a contract other tools rely on.

use crate::config::{Config, Flags};
use crate::state::AppState;
use crate::storage::Location;
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "muster",
    version,
    about = "Self-hosted identity directory provisioned over SCIM 2.0"
)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// Where the directory lives and where settings come from. Environment variables
/// (`MUSTER_DATA`, `MUSTER_DATABASE_URL`, …) are read by [`crate::config`], below flags.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Configuration file [default: ./muster.toml when present]
    #[arg(long, env = "MUSTER_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Directory of the embedded SQLite store [default: ./muster-data] (env MUSTER_DATA)
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
    /// Database URL instead of --data: postgres://… or sqlite://PATH (env MUSTER_DATABASE_URL)
    #[arg(long, global = true)]
    pub database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run the server
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080] (env MUSTER_LISTEN)
        #[arg(long)]
        listen: Option<String>,
        /// Public base URL (scheme://host[:port]) when behind a proxy that rewrites Host (env MUSTER_PUBLIC_URL)
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Check the configuration and print the effective settings
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Apply database migrations and exit
    Migrate,
    /// Manage tenants (organisations)
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Manage SCIM tokens
    #[command(subcommand)]
    Token(TokenCmd),
    /// Tenant administrators and admin API keys
    #[command(subcommand)]
    Admin(crate::admin_cli::AdminCmd),
    /// Operator keys (manage every tenant over the admin API)
    #[command(subcommand)]
    Operator(crate::admin_cli::OperatorCmd),
    /// Print a tenant's audit log (newest first)
    Audit(crate::admin_cli::AuditArgs),
    /// Print the admin API's OpenAPI document (also served at /api/admin/v1/openapi.json)
    Openapi,
    /// Write one tenant (settings, token hashes, users, groups, memberships) as JSON lines to stdout
    Export {
        #[arg(long)]
        tenant: String,
    },
    /// Read a tenant written by `muster export` (from FILE or stdin) into this store
    Import {
        /// The export file [default: stdin]
        file: Option<PathBuf>,
        /// Import under another tenant name
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Copy the SQLite database to FILE, consistently, while the server runs
    Backup { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// Validate file, environment and flags together; print the result (secrets hidden)
    Check,
}

#[derive(Subcommand, Debug)]
pub enum TenantCmd {
    /// Create a tenant; prints its id
    Create {
        name: String,
        /// Provisioning mode
        #[arg(long, default_value = "scim", value_parser = ["scim", "jit", "scim-groups"])]
        mode: String,
    },
    /// List tenants
    List,
    /// Show a tenant's mode and settings
    Show { name: String },
    /// Change a tenant's provisioning mode or settings; prints what the change means
    Set {
        name: String,
        #[arg(long, value_parser = ["scim", "jit", "scim-groups"])]
        mode: Option<String>,
        /// What deactivating a user over SCIM does
        #[arg(long, value_parser = ["delete", "suspend"])]
        deactivate: Option<String>,
        /// Whether userName must be an email address
        #[arg(long)]
        require_email_username: Option<bool>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Create a SCIM token; the secret is printed once, alone on the last line of stdout
    Create {
        #[arg(long)]
        tenant: String,
    },
    /// List a tenant's tokens (never their secrets)
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a token by id or prefix, at once
    Revoke { id: String },
    /// Replace a token: prints the new secret (last line); the old one works for --overlap seconds
    Rotate {
        #[arg(long)]
        tenant: String,
        /// The token's id or prefix
        id: String,
        /// Seconds the old token keeps working [default: 86400]
        #[arg(long)]
        overlap: Option<i64>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut flags = Flags {
        data: cli.store.data.clone(),
        database_url: cli.store.database_url.clone(),
        ..Flags::default()
    };
    if let Cmd::Serve { listen, public_url } = &cli.cmd {
        flags.listen = listen.clone();
        flags.public_url = public_url.clone();
    }
    let config = Config::load(cli.store.config.as_deref(), &flags)?;
    if let Cmd::Openapi = cli.cmd {
        println!(
            "{}",
            serde_json::to_string_pretty(&crate::http::admin::openapi())?
        );
        return Ok(());
    }
    if let Cmd::Config(ConfigCmd::Check) = cli.cmd {
        print!("{}", config.to_toml_redacted());
        eprintln!("configuration ok");
        return Ok(());
    }
    let location = config.location()?;
    let store = location.open(config.postgres_pool_size).await?;
    let mut out = std::io::stdout().lock();
    match cli.cmd {
        Cmd::Config(_) | Cmd::Openapi => {}
        Cmd::Serve { .. } => {
            let (listen, public_url) = (config.listen.clone(), config.public_url.clone());
            drop(out);
            let mut state = AppState::new(store, config.limits.clone(), public_url.clone());
            let settings = state.configure();
            settings.audit_reads = config.audit_reads;
            settings.tokens = std::sync::Arc::new(crate::token_cache::TokenCache::new(
                std::time::Duration::from_secs(config.token_cache_seconds),
            ));
            let audit = state.audit.clone();
            crate::audit::start_retention(state.store.clone(), config.audit_retention_days);
            let (addr, serve) =
                crate::server::bind(state, &listen, crate::server::shutdown_signal())
                    .await
                    .with_context(|| format!("listening on {listen}"))?;
            let origin = public_url.unwrap_or_else(|| format!("http://{addr}"));
            let data_flag = match &location {
                Location::Sqlite(p) => p
                    .parent()
                    .map(|d| format!(" --data {}", d.display()))
                    .unwrap_or_default(),
                Location::Postgres(_) => " --database-url …".to_string(),
            };
            println!(
                "muster {} listening on http://{addr} ({})",
                env!("CARGO_PKG_VERSION"),
                location.describe()
            );
            println!(
                "SCIM base URL: {}/api/scim/v2",
                origin.trim_end_matches('/')
            );
            println!(
                "Admin API: {}/api/admin/v1 (OpenAPI: /api/admin/v1/openapi.json)",
                origin.trim_end_matches('/')
            );
            println!("Create a tenant and a token for your identity provider:");
            println!("  muster tenant create acme{data_flag}");
            println!("  muster token create --tenant acme{data_flag}");
            println!("Administer it (prints a key for the admin API):");
            println!("  muster admin key create --tenant acme{data_flag}");
            tracing::info!(%addr, "serving");
            serve.await?;
            // Audit events of the last requests are written before the process ends.
            audit.flush().await;
            tracing::info!("stopped");
        }
        Cmd::Migrate => {
            writeln!(out, "migrations applied ({})", location.describe())?;
        }
        Cmd::Tenant(TenantCmd::Create { name, mode }) => {
            let admin = crate::admin_cli::Cli::new(store.clone(), &config);
            admin.create_tenant(&name, &mode, &mut out).await?;
        }
        Cmd::Tenant(TenantCmd::List) => {
            for t in store.list_tenants().await? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.mode.as_str(),
                    t.created
                )?;
            }
        }
        Cmd::Token(TokenCmd::Create { tenant }) => {
            let admin = crate::admin_cli::Cli::new(store.clone(), &config);
            admin.create_token(&tenant, &mut out).await?;
        }
        Cmd::Token(TokenCmd::Rotate {
            tenant,
            id,
            overlap,
        }) => {
            let admin = crate::admin_cli::Cli::new(store.clone(), &config);
            admin.rotate_token(&tenant, &id, overlap, &mut out).await?;
        }
        Cmd::Tenant(TenantCmd::Show { name }) => {
            let admin = crate::admin_cli::Cli::new(store.clone(), &config);
            admin.show_tenant(&name, &mut out).await?;
        }
        Cmd::Tenant(TenantCmd::Set {
            name,
            mode,
            deactivate,
            require_email_username,
        }) => {
            let admin = crate::admin_cli::Cli::new(store.clone(), &config);
            admin
                .set_tenant(&name, mode, deactivate, require_email_username, &mut out)
                .await?;
        }
        Cmd::Admin(cmd) => {
            let admin = crate::admin_cli::Cli::new(store.clone(), &config);
            admin.admin(cmd, &mut out).await?;
        }
        Cmd::Operator(cmd) => {
            let admin = crate::admin_cli::Cli::new(store.clone(), &config);
            admin.operator(cmd, &mut out).await?;
        }
        Cmd::Audit(args) => {
            let admin = crate::admin_cli::Cli::new(store.clone(), &config);
            admin.audit(args, &mut out).await?;
        }
        Cmd::Token(TokenCmd::List { tenant }) => {
            let t = store
                .tenant_by_name(&tenant)
                .await?
                .with_context(|| format!("no tenant named '{tenant}'"))?;
            writeln!(out, "ID\tPREFIX\tCREATED\tLAST USED\tSTATUS")?;
            let now = muster_domain::admin::service::now();
            for k in store.list_tokens(&t.id).await? {
                // `expiring` while a rotated token's overlap lasts, then `expired`.
                let view = muster_domain::admin::views::TokenView::of(&k, &now);
                let status = match &k.expires_at {
                    Some(at) if view.status == "expiring" => format!("expiring {at}"),
                    _ => view.status,
                };
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{status}",
                    k.id,
                    k.prefix,
                    k.created,
                    k.last_used.as_deref().unwrap_or("never")
                )?;
            }
        }
        Cmd::Export { tenant } => {
            let (u, g, m) = crate::transfer::export(store.as_ref(), &tenant, &mut out).await?;
            eprintln!("exported tenant '{tenant}': {u} users, {g} groups, {m} memberships");
        }
        Cmd::Import { file, tenant } => {
            let mut input: Box<dyn std::io::BufRead> = match &file {
                Some(f) => Box::new(std::io::BufReader::new(
                    std::fs::File::open(f).with_context(|| format!("opening {}", f.display()))?,
                )),
                None => Box::new(std::io::stdin().lock()),
            };
            let (name, u, g, m) =
                crate::transfer::import(store.as_ref(), &mut input, tenant.as_deref()).await?;
            writeln!(
                out,
                "imported tenant '{name}': {u} users, {g} groups, {m} memberships"
            )?;
        }
        Cmd::Backup { file } => {
            let Location::Sqlite(_) = location else {
                bail!("backup copies the SQLite store; back up PostgreSQL with pg_dump");
            };
            store.backup(&file.to_string_lossy()).await?;
            writeln!(
                out,
                "backed up to {} (audit log: {})",
                file.display(),
                muster_store::sqlite::audit_path(&file).display()
            )?;
        }
        Cmd::Token(TokenCmd::Revoke { id }) => {
            if !store.revoke_token(&id).await? {
                bail!("no active token with id or prefix '{id}'");
            }
            writeln!(out, "revoked {id}")?;
        }
    }
    Ok(())
}

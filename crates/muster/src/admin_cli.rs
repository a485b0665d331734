//! The operator's command line for the admin side: the same use cases as the admin API, run
//! as the `cli` actor (recorded in the audit log). A secret a command makes is printed alone
//! on the last line of stdout, so scripts can take it with `tail -1`.

use crate::audit::AuditWriter;
use crate::config::Config;
use anyhow::Context;
use clap::{Args, Subcommand};
use muster_domain::admin::error::AdminError;
use muster_domain::admin::model::{AuditQuery, Deactivate, FAILURE};
use muster_domain::admin::service::{Admin, Who};
use muster_domain::admin::views::{TenantPatch, TenantView};
use muster_domain::store::Store;
use std::io::Write;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum AdminCmd {
    /// Make a user (a new `manual` one, or the existing one) an administrator of the tenant and
    /// print a one-time link to set its password
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
    },
    /// Admin API keys of a tenant
    #[command(subcommand)]
    Key(AdminKeyCmd),
}

#[derive(Subcommand, Debug)]
pub enum AdminKeyCmd {
    /// Create a tenant admin key; the secret is printed once, alone on the last line
    Create {
        #[arg(long)]
        tenant: String,
        /// A label for the key
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List a tenant's admin and access keys
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a key by id or prefix
    Revoke {
        #[arg(long)]
        tenant: String,
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum OperatorCmd {
    /// Operator keys: they manage every tenant over the admin API
    #[command(subcommand)]
    Key(OperatorKeyCmd),
}

#[derive(Subcommand, Debug)]
pub enum OperatorKeyCmd {
    /// Create an operator key; the secret is printed once, alone on the last line
    Create {
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List operator keys
    List,
    /// Revoke an operator key by id or prefix
    Revoke { id: String },
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[arg(long)]
    pub tenant: String,
    /// Only events at or after this RFC 3339 time, or this long ago (30m, 2h, 7d)
    #[arg(long)]
    pub since: Option<String>,
    /// Only refused requests and failed changes
    #[arg(long)]
    pub failed: bool,
    /// Only this actor (token:<id>, key:<id>, admin:<user id>, cli)
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this target id
    #[arg(long)]
    pub target: Option<String>,
    /// At most this many events
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// One JSON object per line instead of columns
    #[arg(long)]
    pub json: bool,
}

/// The admin use cases as the command line runs them.
pub struct Cli {
    admin: Admin,
    audit: Arc<AuditWriter>,
    /// Where links and SCIM URLs point: `public_url`, else the listen address.
    origin: String,
}

fn fail(e: AdminError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message)
}

/// Keys as columns (never their secrets).
fn print_keys(
    out: &mut dyn Write,
    keys: &[muster_domain::admin::model::KeyInfo],
) -> anyhow::Result<()> {
    writeln!(out, "ID\tSCOPE\tPREFIX\tNAME\tCREATED\tLAST USED\tSTATUS")?;
    for k in keys {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            k.id,
            k.scope.as_str(),
            k.prefix,
            k.name,
            k.created,
            k.last_used.as_deref().unwrap_or("never"),
            if k.revoked { "revoked" } else { "active" }
        )?;
    }
    Ok(())
}

/// `30m`, `2h`, `7d` ago, or an RFC 3339 time.
fn since(v: &str) -> anyhow::Result<String> {
    let v = v.trim();
    if let Some(t) = muster_scim::resource::parse_datetime(v) {
        return Ok(muster_scim::resource::format_datetime(t));
    }
    let (n, unit) = v.split_at(v.len().saturating_sub(1));
    let n: i64 = n
        .parse()
        .with_context(|| format!("--since takes an RFC 3339 time or 30m, 2h, 7d; not '{v}'"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => anyhow::bail!("--since takes an RFC 3339 time or 30m, 2h, 7d; not '{v}'"),
    };
    Ok(muster_scim::resource::format_datetime(
        time::OffsetDateTime::now_utc() - time::Duration::seconds(secs),
    ))
}

impl Cli {
    pub fn new(store: Arc<dyn Store>, config: &Config) -> Self {
        let audit = AuditWriter::start(store.clone());
        let origin = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.listen));
        Cli {
            admin: Admin::new(store, audit.clone()),
            audit,
            origin: origin.trim_end_matches('/').to_string(),
        }
    }

    /// Runs a use case, then waits for its audit events to be stored.
    async fn done<T>(&self, r: Result<T, AdminError>) -> anyhow::Result<T> {
        self.audit.flush().await;
        r.map_err(fail)
    }

    pub async fn create_tenant(
        &self,
        name: &str,
        mode: &str,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let t = self
            .done(self.admin.create_tenant(&Who::cli(), name, mode).await)
            .await?;
        eprintln!(
            "created tenant '{}' (mode {}) with groups Everyone and Admin Center Administrators",
            t.name,
            t.mode.as_str()
        );
        writeln!(out, "{}", t.id)?;
        Ok(())
    }

    pub async fn show_tenant(&self, name: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        let t = self
            .done(self.admin.tenant(&Who::cli(), name).await)
            .await?;
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&TenantView::from(&t))?
        )?;
        Ok(())
    }

    pub async fn set_tenant(
        &self,
        name: &str,
        mode: Option<String>,
        deactivate: Option<String>,
        require_email_username: Option<bool>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let patch = TenantPatch {
            mode,
            deactivate: deactivate.map(|d| {
                if d == "suspend" {
                    Deactivate::Suspend
                } else {
                    Deactivate::Delete
                }
            }),
            require_email_username,
        };
        let r = self
            .done(self.admin.update_tenant(&Who::cli(), name, &patch).await)
            .await?;
        for c in r.changes {
            writeln!(out, "{c}")?;
        }
        Ok(())
    }

    pub async fn create_token(&self, tenant: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        let t = self
            .done(
                self.admin
                    .create_token(&Who::cli(), tenant, &self.origin)
                    .await,
            )
            .await?;
        eprintln!(
            "created SCIM token {} ({}) for tenant '{tenant}'",
            t.token.id, t.token.prefix
        );
        eprintln!("Tenant URL — Entra ID: {}", t.scim_urls.entra);
        eprintln!(
            "           Okta, PingOne and others: {}",
            t.scim_urls.generic
        );
        eprintln!(
            "The secret below is shown once; muster stores only its hash. Use it as the Bearer token."
        );
        writeln!(out, "{}", t.secret)?;
        Ok(())
    }

    pub async fn rotate_token(
        &self,
        tenant: &str,
        id: &str,
        overlap: Option<i64>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let who = Who::cli();
        let t = self.done(self.admin.tenant(&who, tenant).await).await?;
        let id = self
            .done(self.admin.tokens(&who, tenant).await)
            .await?
            .into_iter()
            .find(|k| k.id == id || k.prefix == id)
            .map(|k| k.id)
            .with_context(|| format!("tenant '{}' has no token '{id}'", t.name))?;
        let r = self
            .done(
                self.admin
                    .rotate_token(&who, tenant, &id, overlap, &self.origin)
                    .await,
            )
            .await?;
        eprintln!(
            "new token {} ({}); the old token {} works until {}",
            r.new.token.id, r.new.token.prefix, r.old_token_id, r.old_token_expires_at
        );
        writeln!(out, "{}", r.new.secret)?;
        Ok(())
    }

    pub async fn admin(&self, cmd: AdminCmd, out: &mut dyn Write) -> anyhow::Result<()> {
        let who = Who::cli();
        match cmd {
            AdminCmd::Add { tenant, email } => {
                let inv = self
                    .done(self.admin.add_administrator(&who, &tenant, &email).await)
                    .await?;
                eprintln!(
                    "{} {} is an administrator of '{tenant}'. Open this link once to set a password (valid for 24 hours):",
                    if inv.created { "new user" } else { "user" },
                    inv.user.user_name
                );
                writeln!(out, "{}{}", self.origin, inv.link_path)?;
            }
            AdminCmd::Key(AdminKeyCmd::Create { tenant, name }) => {
                let k = self
                    .done(self.admin.create_admin_key(&who, &tenant, &name).await)
                    .await?;
                eprintln!(
                    "created admin key {} ({}) for tenant '{tenant}'; use it as 'Authorization: Bearer …' on {}/api/admin/v1",
                    k.key.id, k.key.prefix, self.origin
                );
                eprintln!("The secret below is shown once; muster stores only its hash.");
                writeln!(out, "{}", k.secret)?;
            }
            AdminCmd::Key(AdminKeyCmd::List { tenant }) => {
                let keys = self.done(self.admin.keys(&who, &tenant).await).await?;
                print_keys(out, &keys)?;
            }
            AdminCmd::Key(AdminKeyCmd::Revoke { tenant, id }) => {
                self.done(self.admin.revoke_key(&who, &tenant, &id).await)
                    .await?;
                writeln!(out, "revoked {id}")?;
            }
        }
        Ok(())
    }

    pub async fn operator(&self, cmd: OperatorCmd, out: &mut dyn Write) -> anyhow::Result<()> {
        let who = Who::cli();
        match cmd {
            OperatorCmd::Key(OperatorKeyCmd::Create { name }) => {
                let k = self
                    .done(self.admin.create_operator_key(&who, &name).await)
                    .await?;
                eprintln!(
                    "created operator key {} ({}); it manages every tenant on {}/api/admin/v1",
                    k.key.id, k.key.prefix, self.origin
                );
                eprintln!("The secret below is shown once; muster stores only its hash.");
                writeln!(out, "{}", k.secret)?;
            }
            OperatorCmd::Key(OperatorKeyCmd::List) => {
                print_keys(out, &self.admin.store.list_keys(None).await?)?;
            }
            OperatorCmd::Key(OperatorKeyCmd::Revoke { id }) => {
                if !self.admin.store.revoke_key(None, &id).await? {
                    anyhow::bail!("no live operator key '{id}'");
                }
                writeln!(out, "revoked {id}")?;
            }
        }
        Ok(())
    }

    pub async fn audit(&self, a: AuditArgs, out: &mut dyn Write) -> anyhow::Result<()> {
        let q = AuditQuery {
            since: a.since.as_deref().map(since).transpose()?,
            outcome: a.failed.then(|| FAILURE.to_string()),
            actor: a.actor,
            target: a.target,
            limit: a.limit.max(1),
            ..AuditQuery::default()
        };
        let events = self
            .done(self.admin.audit(&Who::cli(), &a.tenant, q).await)
            .await?;
        if !a.json {
            writeln!(
                out,
                "TIME\tACTOR\tOPERATION\tREQUEST\tTARGET\tOUTCOME\tSTATUS\tMS\tMESSAGE"
            )?;
        }
        for e in events {
            if a.json {
                writeln!(out, "{}", serde_json::to_string(&e)?)?;
                continue;
            }
            let request = match (&e.method, &e.path) {
                (Some(m), Some(p)) => format!("{m} {p}"),
                _ => "-".into(),
            };
            writeln!(
                out,
                "{}\t{}\t{}\t{request}\t{}\t{}\t{}\t{}\t{}",
                e.at,
                e.actor,
                e.operation,
                e.target.as_deref().unwrap_or("-"),
                e.outcome,
                e.status,
                e.duration_us
                    .map(|d| format!("{:.1}", d as f64 / 1000.0))
                    .unwrap_or_else(|| "-".into()),
                e.message.as_deref().unwrap_or("")
            )?;
        }
        Ok(())
    }
}

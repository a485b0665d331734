//! The admin use cases: who may act on which tenant, and tenants, SSO connections, SCIM tokens
//! and keys. People and groups are in [`super::people`], product access in [`super::access`],
//! sign-in in [`super::auth`]. Every change is written to the audit log with before and after.

use super::error::{AdminError, AdminResult};
use super::model::{
    AuditEvent, AuditQuery, FAILURE, KeyInfo, KeyScope, MAX_CONNECTIONS, NewKey, SUCCESS,
    SsoConnection,
};
use super::views::{
    ConnectionsView, LastError, NewKeyView, NewTokenView, RotatedView, ScimUrls, TenantChanged,
    TenantPatch, TenantView, TokenView,
};
use crate::model::{Mode, NewToken, Tenant, TenantId};
use crate::store::Store;
use crate::tokens;
use muster_scim::resource::{fold, format_datetime};
use serde_json::{Value, json};
use std::sync::Arc;

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An operator key: every tenant.
    Operator { key_id: String },
    /// A tenant's admin key.
    TenantKey { tenant: TenantId, key_id: String },
    /// A signed-in administrator.
    Admin { tenant: TenantId, user_id: String },
    /// The command line on the server's machine (as powerful as an operator).
    Cli,
}

impl Actor {
    /// How the audit log names the actor.
    pub fn label(&self) -> String {
        match self {
            Actor::Operator { key_id } => format!("operator:{key_id}"),
            Actor::TenantKey { key_id, .. } => format!("key:{key_id}"),
            Actor::Admin { user_id, .. } => format!("admin:{user_id}"),
            Actor::Cli => "cli".into(),
        }
    }
    /// The one tenant this actor may see, or `None` for all.
    pub fn scope(&self) -> Option<&TenantId> {
        match self {
            Actor::TenantKey { tenant, .. } | Actor::Admin { tenant, .. } => Some(tenant),
            Actor::Operator { .. } | Actor::Cli => None,
        }
    }
}

/// An actor and the request it acts in.
#[derive(Debug, Clone)]
pub struct Who {
    pub actor: Actor,
    pub request_id: Option<String>,
}

impl Who {
    pub fn cli() -> Self {
        Who {
            actor: Actor::Cli,
            request_id: None,
        }
    }
}

/// Where audit events go. Recording never fails a request and never waits for the disk: the
/// server's sink batches events into the store in the background.
pub trait AuditSink: Send + Sync {
    fn record(&self, event: AuditEvent);
}

pub fn now() -> String {
    format_datetime(time::OffsetDateTime::now_utc())
}

pub(crate) fn at_offset(seconds: i64) -> String {
    format_datetime(time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
}

/// The longest a rotated token may keep working.
pub const MAX_OVERLAP_SECONDS: i64 = 30 * 24 * 3600;
pub const DEFAULT_OVERLAP_SECONDS: i64 = 24 * 3600;

#[derive(Clone)]
pub struct Admin {
    pub store: Arc<dyn Store>,
    pub audit: Arc<dyn AuditSink>,
}

pub(crate) fn name_checked(what: &str, name: &str) -> AdminResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AdminError::bad_request(format!(
            "{what} must be 1 to 200 characters, without control characters"
        )));
    }
    Ok(name.to_string())
}

impl Admin {
    pub fn new(store: Arc<dyn Store>, audit: Arc<dyn AuditSink>) -> Self {
        Admin { store, audit }
    }

    /// Records a successful change.
    pub(crate) fn changed(
        &self,
        who: &Who,
        tenant: Option<&TenantId>,
        operation: &str,
        target: &str,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        self.audit.record(AuditEvent {
            tenant_id: tenant.cloned(),
            at: now(),
            actor: who.actor.label(),
            operation: operation.into(),
            target: Some(target.into()),
            outcome: SUCCESS.into(),
            status: 200,
            request_id: who.request_id.clone(),
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
            ..AuditEvent::default()
        });
    }

    /// The tenant `id_or_name` if the actor may see it; another tenant is "not found", so
    /// ids of other tenants cannot even be probed.
    pub async fn tenant(&self, who: &Who, id_or_name: &str) -> AdminResult<Tenant> {
        let missing = || AdminError::not_found(format!("no tenant '{id_or_name}'"));
        let t = self.store.tenant(id_or_name).await?.ok_or_else(missing)?;
        match who.actor.scope() {
            Some(scope) if *scope != t.id => Err(missing()),
            _ => Ok(t),
        }
    }

    fn operator_only(who: &Who, what: &str) -> AdminResult<()> {
        match who.actor {
            Actor::Operator { .. } | Actor::Cli => Ok(()),
            _ => Err(AdminError::forbidden(format!(
                "{what} needs an operator key (muster operator key create)"
            ))),
        }
    }

    pub async fn create_tenant(&self, who: &Who, name: &str, mode: &str) -> AdminResult<Tenant> {
        Self::operator_only(who, "creating a tenant")?;
        let name = name_checked("the tenant name", name)?;
        let mode = parse_mode(mode)?;
        let t = self
            .store
            .create_tenant(&name, mode)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(_) => {
                    AdminError::conflict(format!("a tenant named '{name}' already exists"))
                }
                other => other.into(),
            })?;
        self.changed(
            who,
            Some(&t.id),
            "admin.tenant.create",
            &t.id.0,
            None,
            Some(json!(TenantView::from(&t))),
        );
        Ok(t)
    }

    pub async fn list_tenants(&self, who: &Who) -> AdminResult<Vec<Tenant>> {
        let all = self.store.list_tenants().await?;
        Ok(match who.actor.scope() {
            Some(scope) => all.into_iter().filter(|t| t.id == *scope).collect(),
            None => all,
        })
    }

    /// Changes mode and settings, and says what each change means.
    pub async fn update_tenant(
        &self,
        who: &Who,
        tenant: &str,
        patch: &TenantPatch,
    ) -> AdminResult<TenantChanged> {
        let t = self.tenant(who, tenant).await?;
        let mode = match &patch.mode {
            Some(m) => parse_mode(m)?,
            None => t.mode,
        };
        let mut settings = t.settings.clone();
        if let Some(d) = patch.deactivate {
            settings.deactivate = d;
        }
        if let Some(r) = patch.require_email_username {
            settings.require_email_username = r;
        }
        let mut changes = Vec::new();
        if mode != t.mode {
            changes.push(mode_change(t.mode, mode));
        }
        if settings.deactivate != t.settings.deactivate {
            changes.push(match settings.deactivate {
                super::model::Deactivate::Delete => "A user the identity provider deactivates is now removed from every group and deleted (a later GET of its id is 404).".to_string(),
                super::model::Deactivate::Suspend => "A user the identity provider deactivates is now kept, inactive and without access, with its group memberships, and still returned by GET and filters.".to_string(),
            });
        }
        if settings.require_email_username != t.settings.require_email_username {
            changes.push(if settings.require_email_username {
                "userName must now be an email address; SCIM requests with another userName are refused with 400.".to_string()
            } else {
                "userName may now be any unique string (for generic SCIM clients).".to_string()
            });
        }
        if changes.is_empty() {
            changes.push("Nothing changed.".into());
            return Ok(TenantChanged {
                tenant: TenantView::from(&t),
                changes,
            });
        }
        let updated = self.store.update_tenant(&t.id, mode, &settings).await?;
        self.changed(
            who,
            Some(&t.id),
            "admin.tenant.update",
            &t.id.0,
            Some(json!(TenantView::from(&t))),
            Some(json!({"tenant": TenantView::from(&updated), "changes": changes})),
        );
        Ok(TenantChanged {
            tenant: TenantView::from(&updated),
            changes,
        })
    }

    pub async fn connections(&self, who: &Who, tenant: &str) -> AdminResult<ConnectionsView> {
        let t = self.tenant(who, tenant).await?;
        Ok(ConnectionsView {
            connections: self.store.list_connections(&t.id).await?,
            max: MAX_CONNECTIONS,
        })
    }

    pub async fn create_connection(
        &self,
        who: &Who,
        tenant: &str,
        name: &str,
        protocol: &str,
    ) -> AdminResult<SsoConnection> {
        let t = self.tenant(who, tenant).await?;
        let name = name_checked("the connection name", name)?;
        let protocol = fold(protocol.trim());
        if protocol != "saml" && protocol != "oidc" {
            return Err(AdminError::bad_request(
                "protocol must be \"saml\" or \"oidc\"",
            ));
        }
        let c = self
            .store
            .create_connection(&t.id, &name, &protocol)
            .await?;
        self.changed(
            who,
            Some(&t.id),
            "admin.connection.create",
            &c.id,
            None,
            Some(json!(c)),
        );
        Ok(c)
    }

    pub async fn delete_connection(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<()> {
        let t = self.tenant(who, tenant).await?;
        let before = self
            .store
            .list_connections(&t.id)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| AdminError::not_found(format!("no SSO connection {id}")))?;
        self.store.delete_connection(&t.id, id).await?;
        self.changed(
            who,
            Some(&t.id),
            "admin.connection.delete",
            id,
            Some(json!(before)),
            None,
        );
        Ok(())
    }

    /// Binds SCIM to a connection; tokens of a previous binding stop working.
    pub async fn bind_scim(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<Value> {
        let t = self.tenant(who, tenant).await?;
        let before = self.store.list_connections(&t.id).await?;
        let revoked = self.store.bind_scim(&t.id, id).await.map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                AdminError::not_found(format!("no SSO connection {id}"))
            }
            other => other.into(),
        })?;
        let after = self.store.list_connections(&t.id).await?;
        let out = json!({
            "connections": after,
            "revoked_tokens": revoked,
            "explanation": format!(
                "SCIM is bound to this connection: users provisioned over SCIM belong to it. {revoked} token(s) of another connection were revoked; create a new token for the identity provider if needed."
            ),
        });
        self.changed(
            who,
            Some(&t.id),
            "admin.connection.bind_scim",
            id,
            Some(json!(before)),
            Some(out.clone()),
        );
        Ok(out)
    }

    pub async fn create_token(
        &self,
        who: &Who,
        tenant: &str,
        origin: &str,
    ) -> AdminResult<NewTokenView> {
        let t = self.tenant(who, tenant).await?;
        let bound = self
            .store
            .list_connections(&t.id)
            .await?
            .into_iter()
            .find(|c| c.scim_bound)
            .map(|c| c.id);
        let g = tokens::generate();
        let info = self
            .store
            .create_token(
                &t.id,
                &NewToken {
                    id: uuid::Uuid::new_v4().to_string(),
                    hash: g.hash,
                    prefix: g.prefix,
                    connection_id: bound,
                },
            )
            .await?;
        let view = TokenView::of(&info, &now());
        self.changed(
            who,
            Some(&t.id),
            "admin.token.create",
            &info.id,
            None,
            Some(json!(view)),
        );
        Ok(NewTokenView {
            token: view,
            secret: g.secret,
            scim_urls: ScimUrls::for_origin(origin),
        })
    }

    /// Tokens with their provisioning health, from the audit log.
    pub async fn tokens(&self, who: &Who, tenant: &str) -> AdminResult<Vec<TokenView>> {
        let t = self.tenant(who, tenant).await?;
        let now = now();
        let hour_ago = at_offset(-3600);
        let mut out = Vec::new();
        for info in self.store.list_tokens(&t.id).await? {
            let mut v = TokenView::of(&info, &now);
            let failures = self
                .store
                .query_audit(&AuditQuery {
                    tenant_id: Some(t.id.clone()),
                    actor: Some(format!("token:{}", info.id)),
                    outcome: Some(FAILURE.into()),
                    since: Some(hour_ago.clone()),
                    limit: 10_000,
                    ..AuditQuery::default()
                })
                .await?;
            v.errors_last_hour = failures.len() as u64;
            let last = match failures.into_iter().next() {
                Some(e) => Some(e),
                None => self
                    .store
                    .query_audit(&AuditQuery {
                        tenant_id: Some(t.id.clone()),
                        actor: Some(format!("token:{}", info.id)),
                        outcome: Some(FAILURE.into()),
                        limit: 1,
                        ..AuditQuery::default()
                    })
                    .await?
                    .into_iter()
                    .next(),
            };
            v.last_error = last.map(|e| LastError {
                at: e.at,
                status: e.status,
                operation: e.operation,
                message: e.message,
            });
            out.push(v);
        }
        Ok(out)
    }

    /// A new token; the old one keeps working for `overlap_seconds` (so the identity provider
    /// can be switched without a failed sync), then stops.
    pub async fn rotate_token(
        &self,
        who: &Who,
        tenant: &str,
        id: &str,
        overlap_seconds: Option<i64>,
        origin: &str,
    ) -> AdminResult<RotatedView> {
        let t = self.tenant(who, tenant).await?;
        let overlap = overlap_seconds.unwrap_or(DEFAULT_OVERLAP_SECONDS);
        if !(0..=MAX_OVERLAP_SECONDS).contains(&overlap) {
            return Err(AdminError::bad_request(format!(
                "overlap_seconds must be between 0 and {MAX_OVERLAP_SECONDS} (30 days)"
            )));
        }
        let old = self
            .store
            .list_tokens(&t.id)
            .await?
            .into_iter()
            .find(|k| k.id == id && !k.revoked)
            .ok_or_else(|| AdminError::not_found(format!("no live token {id}")))?;
        if let Some(at) = &old.expires_at {
            return Err(AdminError::conflict(format!(
                "token {id} was already rotated and stops working at {at}; rotate its replacement instead"
            )));
        }
        let new = self.create_token(who, tenant, origin).await?;
        let until = at_offset(overlap);
        self.store.expire_token(&t.id, &old.id, &until).await?;
        self.changed(
            who,
            Some(&t.id),
            "admin.token.rotate",
            &old.id,
            Some(json!(TokenView::of(&old, &now()))),
            Some(json!({"expires_at": until, "replaced_by": new.token.id})),
        );
        Ok(RotatedView {
            new,
            old_token_id: old.id,
            old_token_expires_at: until,
        })
    }

    pub async fn revoke_token(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<()> {
        let t = self.tenant(who, tenant).await?;
        if !self.store.revoke_tenant_token(&t.id, id).await? {
            return Err(AdminError::not_found(format!("no live token {id}")));
        }
        self.changed(who, Some(&t.id), "admin.token.revoke", id, None, None);
        Ok(())
    }

    async fn new_key(
        &self,
        who: &Who,
        scope: KeyScope,
        tenant: Option<&TenantId>,
        instance: Option<&str>,
        name: &str,
    ) -> AdminResult<NewKeyView> {
        let g = tokens::generate_with(scope_prefix(scope));
        let key = self
            .store
            .create_key(&NewKey {
                id: uuid::Uuid::new_v4().to_string(),
                scope,
                tenant_id: tenant.cloned(),
                instance_id: instance.map(str::to_string),
                hash: g.hash,
                prefix: g.prefix,
                name: name.trim().to_string(),
            })
            .await?;
        self.changed(
            who,
            tenant,
            &format!("admin.key.create.{}", scope.as_str()),
            &key.id,
            None,
            Some(json!(key)),
        );
        Ok(NewKeyView {
            key,
            secret: g.secret,
        })
    }

    pub async fn create_operator_key(&self, who: &Who, name: &str) -> AdminResult<NewKeyView> {
        Self::operator_only(who, "creating an operator key")?;
        self.new_key(who, KeyScope::Operator, None, None, name)
            .await
    }

    pub async fn create_admin_key(
        &self,
        who: &Who,
        tenant: &str,
        name: &str,
    ) -> AdminResult<NewKeyView> {
        let t = self.tenant(who, tenant).await?;
        self.new_key(who, KeyScope::Admin, Some(&t.id), None, name)
            .await
    }

    pub async fn create_access_key(
        &self,
        who: &Who,
        tenant: &str,
        instance: &str,
        name: &str,
    ) -> AdminResult<NewKeyView> {
        let t = self.tenant(who, tenant).await?;
        let inst = self
            .store
            .instance(&t.id, instance)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("no product instance {instance}")))?;
        self.new_key(who, KeyScope::Access, Some(&t.id), Some(&inst.id), name)
            .await
    }

    pub async fn keys(&self, who: &Who, tenant: &str) -> AdminResult<Vec<KeyInfo>> {
        let t = self.tenant(who, tenant).await?;
        Ok(self.store.list_keys(Some(&t.id)).await?)
    }

    pub async fn revoke_key(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<()> {
        let t = self.tenant(who, tenant).await?;
        if !self.store.revoke_key(Some(&t.id), id).await? {
            return Err(AdminError::not_found(format!("no live key {id}")));
        }
        self.changed(who, Some(&t.id), "admin.key.revoke", id, None, None);
        Ok(())
    }

    pub async fn audit(
        &self,
        who: &Who,
        tenant: &str,
        mut q: AuditQuery,
    ) -> AdminResult<Vec<AuditEvent>> {
        let t = self.tenant(who, tenant).await?;
        q.tenant_id = Some(t.id);
        Ok(self.store.query_audit(&q).await?)
    }
}

fn scope_prefix(scope: KeyScope) -> &'static str {
    match scope {
        KeyScope::Operator => "mso_",
        KeyScope::Admin => "msa_",
        KeyScope::Access => "msx_",
    }
}

pub(crate) fn parse_mode(s: &str) -> AdminResult<Mode> {
    Mode::parse(s.trim()).ok_or_else(|| {
        AdminError::bad_request(format!(
            "mode must be \"jit\", \"scim\" or \"scim-groups\", not \"{s}\""
        ))
    })
}

/// What switching provisioning mode means, in words for the administrator (and the audit log).
fn mode_change(from: Mode, to: Mode) -> String {
    let what = match to {
        Mode::Jit => {
            "Users are now created when they first sign in through SSO (JIT). Every SCIM request is refused with 403; users and groups the identity provider made stay, but it can no longer change them."
        }
        Mode::Scim => {
            "Users and groups now come from the identity provider over SCIM, and JIT creation at sign-in is off. Existing manual and JIT users are taken over when the identity provider sends the same userName."
        }
        Mode::ScimGroups => {
            "SCIM now manages groups only: creating users over SCIM is refused with 403, and group members must be users that already exist in muster. JIT creation at sign-in is off."
        }
    };
    format!(
        "Mode changed from {} to {}. {what}",
        from.as_str(),
        to.as_str()
    )
}

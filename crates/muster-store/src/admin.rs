//! [`AdminStore`] over the same [`Backend`] as the directory: tenants' settings, SSO
//! connections, keys, admin credentials and sessions, product access and the audit log.

use crate::exec::{Backend, Conn, ExecError, Row, Ty, internal};
use crate::sql::{Bind, Sql};
use crate::store::{
    ResourceRow, SqlStore, TENANT_COLUMNS, TENANT_TYPES, group_document, new_id, now, tenant_row,
};
use async_trait::async_trait;
use muster_domain::admin::model::{
    Access, AuditEvent, AuditQuery, Credential, Grant, Instance, KeyInfo, KeyScope,
    MAX_CONNECTIONS, NewKey, Role, Session, SsoConnection, TenantSettings,
};
use muster_domain::admin::store::AdminStore;
use muster_domain::model::{GroupRef, Mode, Tenant, TenantId, class};
use muster_domain::store::{StoreError, StoreResult};
use muster_scim::ScimError;
use muster_scim::resource::fold;
use muster_scim::schema::ResourceKind;

type S<B> = Sql<<B as Backend>::D>;
type C<B> = Box<dyn Conn<<B as Backend>::D>>;

fn conflict(what: impl Into<String>) -> impl FnOnce(ExecError) -> StoreError {
    let what = what.into();
    move |e| match e {
        ExecError::Unique => StoreError::Conflict(what),
        other => other.into(),
    }
}

fn refused(status: u16, detail: String) -> StoreError {
    StoreError::Scim(ScimError::new(status, None, detail))
}

const CONNECTION_COLUMNS: &str = "id, name, protocol, scim_bound, created";
const CONNECTION_TYPES: [Ty; 5] = [Ty::Text, Ty::Text, Ty::Text, Ty::Int, Ty::Text];

fn connection_row(mut r: Row) -> StoreResult<SsoConnection> {
    Ok(SsoConnection {
        id: r.text(0)?,
        name: r.text(1)?,
        protocol: r.text(2)?,
        scim_bound: r.int(3)? != 0,
        created: r.text(4)?,
    })
}

const KEY_COLUMNS: &str =
    "id, scope, tenant_id, instance_id, prefix, name, created, last_used, revoked_at";
const KEY_TYPES: [Ty; 9] = [
    Ty::Text,
    Ty::Text,
    Ty::OptText,
    Ty::OptText,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::OptText,
    Ty::OptText,
];

fn key_row(r: &mut Row) -> StoreResult<KeyInfo> {
    let scope = r.text(1)?;
    Ok(KeyInfo {
        id: r.text(0)?,
        scope: KeyScope::parse(&scope).ok_or_else(|| internal("unknown key scope"))?,
        tenant_id: r.opt_text(2)?.map(TenantId),
        instance_id: r.opt_text(3)?,
        prefix: r.text(4)?,
        name: r.text(5)?,
        created: r.text(6)?,
        last_used: r.opt_text(7)?,
        revoked: r.opt_text(8)?.is_some(),
    })
}

const AUDIT_COLUMNS: &str = "seq, tenant_id, at, actor, operation, target, outcome, status, request_id, \
     message, before, after, duration_us, method, path";
const AUDIT_TYPES: [Ty; 15] = [
    Ty::Int,
    Ty::OptText,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::OptText,
    Ty::Text,
    Ty::Int,
    Ty::OptText,
    Ty::OptText,
    Ty::OptText,
    Ty::OptText,
    Ty::OptInt,
    Ty::OptText,
    Ty::OptText,
];

fn audit_row(mut r: Row) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        seq: r.int(0)?,
        tenant_id: r.opt_text(1)?.map(TenantId),
        at: r.text(2)?,
        actor: r.text(3)?,
        operation: r.text(4)?,
        target: r.opt_text(5)?,
        outcome: r.text(6)?,
        status: r.int(7)?,
        request_id: r.opt_text(8)?,
        message: r.opt_text(9)?,
        before: r.opt_text(10)?,
        after: r.opt_text(11)?,
        duration_us: r.opt_int(12)?,
        method: r.opt_text(13)?,
        path: r.opt_text(14)?,
    })
}

const GRANT_SELECT: &str = "SELECT x.id, x.group_id, g.display_name, x.instance_id, x.role_id, r.name, x.created \
     FROM grants x JOIN groups g ON g.tenant_id = x.tenant_id AND g.id = x.group_id \
     JOIN product_roles r ON r.tenant_id = x.tenant_id AND r.id = x.role_id WHERE x.tenant_id = ";
const GRANT_TYPES: [Ty; 7] = [Ty::Text; 7];

fn grant_row(mut r: Row) -> StoreResult<Grant> {
    Ok(Grant {
        id: r.text(0)?,
        group_id: r.text(1)?,
        group_name: r.text(2)?,
        instance_id: r.text(3)?,
        role_id: r.text(4)?,
        role_name: r.text(5)?,
        created: r.text(6)?,
    })
}

fn text(s: &str) -> Bind {
    Bind::Text(s.to_string())
}

fn grant_insert<B: Backend>(t: &TenantId, group: &str, instance: &str, role: &str) -> S<B> {
    S::<B>::insert(
        "grants",
        vec![
            ("tenant_id", text(&t.0)),
            ("id", Bind::Text(new_id())),
            ("group_id", text(group)),
            ("instance_id", text(instance)),
            ("role_id", text(role)),
            ("created", Bind::Text(now())),
        ],
    )
}

/// The `product` group that comes with a role: "<instance> <role>".
fn product_group_name(instance: &str, role: &str) -> String {
    format!("{instance} {role}")
}

impl<B: Backend> SqlStore<B> {
    async fn rows(&self, sql: &S<B>, types: &[Ty]) -> StoreResult<Vec<Row>> {
        let mut conn = self.backend.read().await?;
        Ok(conn.rows(sql, types).await?)
    }

    /// Runs one statement in its own write transaction; returns the rows it changed.
    async fn exec_one(&self, sql: &S<B>) -> StoreResult<u64> {
        let mut conn = self.write_conn().await?;
        let n = conn.exec(sql).await?;
        conn.commit().await?;
        Ok(n)
    }

    /// Adds a role and its product group (granted the role) inside a transaction.
    async fn insert_role(
        conn: &mut C<B>,
        t: &TenantId,
        instance_id: &str,
        instance_name: &str,
        name: &str,
    ) -> StoreResult<Role> {
        let created = now();
        let group_name = product_group_name(instance_name, name);
        let group_id = new_id();
        let sql = ResourceRow::new(
            t,
            ResourceKind::Group,
            &group_id,
            &group_document(&group_name),
            class::PRODUCT,
            &created,
            &created,
            1,
        )?
        .insert::<B>();
        conn.exec(&sql)
            .await
            .map_err(conflict(format!("a group named \"{group_name}\"")))?;
        let role = Role {
            id: new_id(),
            name: name.to_string(),
            group_id: Some(group_id.clone()),
        };
        let sql = S::<B>::insert(
            "product_roles",
            vec![
                ("tenant_id", text(&t.0)),
                ("id", text(&role.id)),
                ("instance_id", text(instance_id)),
                ("name", text(name)),
                ("name_norm", Bind::Text(fold(name))),
                ("group_id", text(&group_id)),
                ("created", text(&created)),
            ],
        );
        conn.exec(&sql)
            .await
            .map_err(conflict(format!("a role named \"{name}\"")))?;
        conn.exec(&grant_insert::<B>(t, &group_id, instance_id, &role.id))
            .await?;
        Ok(role)
    }

    /// Deletes groups (product groups of a removed role or instance) with their memberships
    /// and grants.
    async fn delete_groups(conn: &mut C<B>, t: &TenantId, ids: &[String]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        for (table, col) in [
            ("grants", "group_id"),
            ("group_members", "group_id"),
            ("group_members", "member_id"),
            ("groups", "id"),
        ] {
            let mut sql = S::<B>::new(&format!("DELETE FROM {table} WHERE tenant_id = "));
            sql.text(t.0.clone())
                .push(&format!(" AND {col} IN "))
                .text_list(ids);
            conn.exec(&sql).await?;
        }
        Ok(())
    }

    async fn roles_of(
        &self,
        t: &TenantId,
        instance: Option<&str>,
    ) -> StoreResult<Vec<(String, Role)>> {
        let mut sql = S::<B>::new(
            "SELECT instance_id, id, name, group_id FROM product_roles WHERE tenant_id = ",
        );
        sql.text(t.0.clone());
        if let Some(i) = instance {
            sql.push(" AND instance_id = ").text(i);
        }
        sql.push(" ORDER BY name_norm");
        self.rows(&sql, &[Ty::Text, Ty::Text, Ty::Text, Ty::OptText])
            .await?
            .into_iter()
            .map(|mut r| {
                Ok((
                    r.text(0)?,
                    Role {
                        id: r.text(1)?,
                        name: r.text(2)?,
                        group_id: r.opt_text(3)?,
                    },
                ))
            })
            .collect()
    }

    async fn instances(&self, t: &TenantId, id: Option<&str>) -> StoreResult<Vec<Instance>> {
        let mut sql = S::<B>::new(
            "SELECT id, name, product, created FROM product_instances WHERE tenant_id = ",
        );
        sql.text(t.0.clone());
        if let Some(id) = id {
            sql.push(" AND id = ").text(id);
        }
        sql.push(" ORDER BY name_norm");
        let mut out: Vec<Instance> = Vec::new();
        for mut r in self.rows(&sql, &[Ty::Text; 4]).await? {
            out.push(Instance {
                id: r.text(0)?,
                name: r.text(1)?,
                product: r.text(2)?,
                created: r.text(3)?,
                roles: Vec::new(),
            });
        }
        if out.is_empty() {
            return Ok(out);
        }
        for (instance, role) in self.roles_of(t, id).await? {
            if let Some(i) = out.iter_mut().find(|i| i.id == instance) {
                i.roles.push(role);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl<B: Backend> AdminStore for SqlStore<B> {
    async fn tenant(&self, id_or_name: &str) -> StoreResult<Option<Tenant>> {
        let mut sql = S::<B>::new(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants t WHERE t.id = "
        ));
        sql.text(id_or_name)
            .push(" OR t.name_norm = ")
            .text(fold(id_or_name));
        sql.push(" ORDER BY CASE WHEN t.id = ")
            .text(id_or_name)
            .push(" THEN 0 ELSE 1 END");
        let row = self.rows(&sql, &TENANT_TYPES).await?.into_iter().next();
        row.map(|r| tenant_row(r, 0)).transpose()
    }

    async fn update_tenant(
        &self,
        t: &TenantId,
        mode: Mode,
        settings: &TenantSettings,
    ) -> StoreResult<Tenant> {
        let mut sql = S::<B>::new("UPDATE tenants SET mode = ");
        sql.text(mode.as_str())
            .push(", settings = ")
            .text(serde_json::to_string(settings).map_err(internal)?);
        sql.push(" WHERE id = ").text(t.0.clone());
        if self.exec_one(&sql).await? == 0 {
            return Err(StoreError::NotFound);
        }
        self.tenant(&t.0).await?.ok_or(StoreError::NotFound)
    }

    async fn list_connections(&self, t: &TenantId) -> StoreResult<Vec<SsoConnection>> {
        let mut sql = S::<B>::new(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM sso_connections WHERE tenant_id = "
        ));
        sql.text(t.0.clone()).push(" ORDER BY created, name_norm");
        self.rows(&sql, &CONNECTION_TYPES)
            .await?
            .into_iter()
            .map(connection_row)
            .collect()
    }

    async fn create_connection(
        &self,
        t: &TenantId,
        name: &str,
        protocol: &str,
    ) -> StoreResult<SsoConnection> {
        let mut conn = self.write_conn().await?;
        // Counted inside the write transaction after locking the tenant's row (PostgreSQL;
        // SQLite's writer is exclusive anyway), so two creates cannot both pass at four.
        let mut lock = S::<B>::new("SELECT id FROM tenants WHERE id = ");
        lock.text(t.0.clone())
            .push(<B::D as crate::sql::Dialect>::FOR_UPDATE);
        conn.rows(&lock, &[Ty::Text]).await?;
        let mut count = S::<B>::new("SELECT COUNT(*) FROM sso_connections WHERE tenant_id = ");
        count.text(t.0.clone());
        let n = conn
            .rows(&count, &[Ty::Int])
            .await?
            .first()
            .map(|r| r.int(0))
            .transpose()?
            .unwrap_or(0);
        if n as usize >= MAX_CONNECTIONS {
            return Err(refused(
                409,
                format!("a tenant has at most {MAX_CONNECTIONS} SSO connections; delete one first"),
            ));
        }
        let c = SsoConnection {
            id: new_id(),
            name: name.to_string(),
            protocol: protocol.to_string(),
            scim_bound: false,
            created: now(),
        };
        let sql = S::<B>::insert(
            "sso_connections",
            vec![
                ("tenant_id", text(&t.0)),
                ("id", text(&c.id)),
                ("name", text(name)),
                ("name_norm", Bind::Text(fold(name))),
                ("protocol", text(protocol)),
                ("scim_bound", Bind::Int(0)),
                ("created", text(&c.created)),
            ],
        );
        conn.exec(&sql)
            .await
            .map_err(conflict(format!("SSO connection name \"{name}\"")))?;
        conn.commit().await?;
        Ok(c)
    }

    async fn delete_connection(&self, t: &TenantId, id: &str) -> StoreResult<bool> {
        let mut conn = self.write_conn().await?;
        let mut sql = S::<B>::new("DELETE FROM sso_connections WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND id = ").text(id);
        let n = conn.exec(&sql).await?;
        let mut sql = S::<B>::new("UPDATE api_tokens SET revoked_at = ");
        sql.text(now())
            .push(" WHERE revoked_at IS NULL AND tenant_id = ")
            .text(t.0.clone());
        sql.push(" AND connection_id = ").text(id);
        conn.exec(&sql).await?;
        conn.commit().await?;
        Ok(n > 0)
    }

    async fn bind_scim(&self, t: &TenantId, id: &str) -> StoreResult<u64> {
        let mut conn = self.write_conn().await?;
        let mut sql = S::<B>::new("UPDATE sso_connections SET scim_bound = 0 WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND id <> ").text(id);
        conn.exec(&sql).await?;
        let mut sql = S::<B>::new("UPDATE sso_connections SET scim_bound = 1 WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND id = ").text(id);
        if conn.exec(&sql).await? == 0 {
            return Err(StoreError::NotFound);
        }
        // Tokens belong to the binding: those of another connection stop working.
        let mut sql = S::<B>::new("UPDATE api_tokens SET revoked_at = ");
        sql.text(now())
            .push(" WHERE revoked_at IS NULL AND tenant_id = ")
            .text(t.0.clone());
        sql.push(" AND connection_id IS NOT NULL AND connection_id <> ")
            .text(id);
        let revoked = conn.exec(&sql).await?;
        conn.commit().await?;
        Ok(revoked)
    }

    async fn revoke_tenant_token(&self, t: &TenantId, id_or_prefix: &str) -> StoreResult<bool> {
        let mut sql = S::<B>::new("UPDATE api_tokens SET revoked_at = ");
        sql.text(now())
            .push(" WHERE revoked_at IS NULL AND tenant_id = ")
            .text(t.0.clone());
        sql.push(" AND (id = ")
            .text(id_or_prefix)
            .push(" OR prefix = ")
            .text(id_or_prefix)
            .push(")");
        Ok(self.exec_one(&sql).await? > 0)
    }

    async fn expire_token(&self, t: &TenantId, id: &str, at: &str) -> StoreResult<bool> {
        let mut sql = S::<B>::new("UPDATE api_tokens SET expires_at = ");
        sql.text(at)
            .push(" WHERE revoked_at IS NULL AND expires_at IS NULL AND tenant_id = ")
            .text(t.0.clone());
        sql.push(" AND id = ").text(id);
        Ok(self.exec_one(&sql).await? > 0)
    }

    async fn create_key(&self, k: &NewKey) -> StoreResult<KeyInfo> {
        let created = now();
        let sql = S::<B>::insert(
            "api_keys",
            vec![
                ("id", text(&k.id)),
                ("scope", text(k.scope.as_str())),
                (
                    "tenant_id",
                    Bind::OptText(k.tenant_id.as_ref().map(|t| t.0.clone())),
                ),
                ("instance_id", Bind::OptText(k.instance_id.clone())),
                ("key_hash", Bind::Bytes(k.hash.to_vec())),
                ("prefix", text(&k.prefix)),
                ("name", text(&k.name)),
                ("created", text(&created)),
            ],
        );
        self.exec_one(&sql).await?;
        Ok(KeyInfo {
            id: k.id.clone(),
            scope: k.scope,
            tenant_id: k.tenant_id.clone(),
            instance_id: k.instance_id.clone(),
            prefix: k.prefix.clone(),
            name: k.name.clone(),
            created,
            last_used: None,
            revoked: false,
        })
    }

    async fn list_keys(&self, t: Option<&TenantId>) -> StoreResult<Vec<KeyInfo>> {
        let mut sql = S::<B>::new(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE "));
        match t {
            Some(t) => sql.push("tenant_id = ").text(t.0.clone()),
            None => sql.push("tenant_id IS NULL"),
        };
        sql.push(" ORDER BY created");
        self.rows(&sql, &KEY_TYPES)
            .await?
            .iter_mut()
            .map(key_row)
            .collect()
    }

    async fn revoke_key(&self, t: Option<&TenantId>, id_or_prefix: &str) -> StoreResult<bool> {
        let mut sql = S::<B>::new("UPDATE api_keys SET revoked_at = ");
        sql.text(now()).push(" WHERE revoked_at IS NULL AND ");
        match t {
            Some(t) => sql.push("tenant_id = ").text(t.0.clone()),
            None => sql.push("tenant_id IS NULL"),
        };
        sql.push(" AND (id = ")
            .text(id_or_prefix)
            .push(" OR prefix = ")
            .text(id_or_prefix)
            .push(")");
        Ok(self.exec_one(&sql).await? > 0)
    }

    async fn key_by_hash(&self, hash: &[u8; 32]) -> StoreResult<Option<KeyInfo>> {
        let mut sql = S::<B>::new(&format!(
            "SELECT {KEY_COLUMNS}, key_hash FROM api_keys WHERE revoked_at IS NULL AND key_hash = "
        ));
        sql.bind(Bind::Bytes(hash.to_vec()));
        let mut types = KEY_TYPES.to_vec();
        types.push(Ty::Bytes);
        let Some(mut row) = self.rows(&sql, &types).await?.into_iter().next() else {
            return Ok(None);
        };
        let stored: [u8; 32] = row
            .bytes(KEY_TYPES.len())?
            .try_into()
            .map_err(|_| internal("bad key hash"))?;
        if !muster_domain::tokens::same_hash(&stored, hash) {
            return Ok(None);
        }
        key_row(&mut row).map(Some)
    }

    async fn touch_key(&self, id: &str, when: &str) -> StoreResult<()> {
        let mut sql = S::<B>::new("UPDATE api_keys SET last_used = ");
        sql.text(when).push(" WHERE id = ").text(id);
        self.exec_one(&sql).await.map(|_| ())
    }

    async fn credential(&self, t: &TenantId, user: &str) -> StoreResult<Option<Credential>> {
        let mut sql = S::<B>::new(
            "SELECT password_hash, locked_until FROM admin_credentials WHERE tenant_id = ",
        );
        sql.text(t.0.clone()).push(" AND user_id = ").text(user);
        let row = self
            .rows(&sql, &[Ty::OptText, Ty::OptText])
            .await?
            .into_iter()
            .next();
        row.map(|mut r| {
            Ok(Credential {
                password_hash: r.opt_text(0)?,
                locked_until: r.opt_text(1)?,
            })
        })
        .transpose()
    }

    async fn set_setup(
        &self,
        t: &TenantId,
        user: &str,
        hash: &[u8; 32],
        expires: &str,
    ) -> StoreResult<()> {
        let mut sql = S::<B>::insert(
            "admin_credentials",
            vec![
                ("tenant_id", text(&t.0)),
                ("user_id", text(user)),
                ("setup_hash", Bind::Bytes(hash.to_vec())),
                ("setup_expires", text(expires)),
            ],
        );
        sql.push(" ON CONFLICT (tenant_id, user_id) DO UPDATE SET setup_hash = ")
            .bind(Bind::Bytes(hash.to_vec()));
        sql.push(", setup_expires = ").text(expires);
        self.exec_one(&sql).await.map(|_| ())
    }

    async fn setup_by_hash(
        &self,
        hash: &[u8; 32],
    ) -> StoreResult<Option<(TenantId, String, String)>> {
        let mut sql = S::<B>::new(
            "SELECT tenant_id, user_id, setup_expires, setup_hash FROM admin_credentials WHERE setup_hash = ",
        );
        sql.bind(Bind::Bytes(hash.to_vec()));
        let Some(mut r) = self
            .rows(&sql, &[Ty::Text, Ty::Text, Ty::Text, Ty::Bytes])
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let stored: [u8; 32] = r
            .bytes(3)?
            .try_into()
            .map_err(|_| internal("bad setup hash"))?;
        if !muster_domain::tokens::same_hash(&stored, hash) {
            return Ok(None);
        }
        Ok(Some((TenantId(r.text(0)?), r.text(1)?, r.text(2)?)))
    }

    async fn set_password(
        &self,
        t: &TenantId,
        user: &str,
        setup_hash: &[u8; 32],
        phc: &str,
        now: &str,
    ) -> StoreResult<bool> {
        let mut sql = S::<B>::new("UPDATE admin_credentials SET password_hash = ");
        sql.text(phc).push(
            ", setup_hash = NULL, setup_expires = NULL, failures = 0, locked_until = NULL \
             WHERE tenant_id = ",
        );
        sql.text(t.0.clone())
            .push(" AND user_id = ")
            .text(user)
            .push(" AND setup_hash = ")
            .bind(Bind::Bytes(setup_hash.to_vec()));
        sql.push(" AND setup_expires > ").text(now);
        Ok(self.exec_one(&sql).await? == 1)
    }

    async fn count_failure(&self, t: &TenantId, user: &str) -> StoreResult<i64> {
        let mut sql =
            S::<B>::new("UPDATE admin_credentials SET failures = failures + 1 WHERE tenant_id = ");
        sql.text(t.0.clone())
            .push(" AND user_id = ")
            .text(user)
            .push(" RETURNING failures");
        let mut conn = self.write_conn().await?;
        let n = conn
            .rows(&sql, &[Ty::Int])
            .await?
            .first()
            .map(|r| r.int(0))
            .transpose()?
            .unwrap_or(0);
        conn.commit().await?;
        Ok(n)
    }

    async fn lock_login(&self, t: &TenantId, user: &str, until: Option<&str>) -> StoreResult<()> {
        let mut sql = S::<B>::new("UPDATE admin_credentials SET locked_until = ");
        sql.bind(Bind::OptText(until.map(str::to_string)));
        if until.is_none() {
            sql.push(", failures = 0");
        }
        sql.push(" WHERE tenant_id = ")
            .text(t.0.clone())
            .push(" AND user_id = ")
            .text(user);
        self.exec_one(&sql).await.map(|_| ())
    }

    async fn create_session(&self, hash: &[u8; 32], s: &Session) -> StoreResult<()> {
        let sql = S::<B>::insert(
            "admin_sessions",
            vec![
                ("id_hash", Bind::Bytes(hash.to_vec())),
                ("tenant_id", text(&s.tenant_id.0)),
                ("user_id", text(&s.user_id)),
                ("csrf", text(&s.csrf)),
                ("created", text(&s.created)),
                ("last_seen", text(&s.last_seen)),
            ],
        );
        self.exec_one(&sql).await.map(|_| ())
    }

    async fn session(&self, hash: &[u8; 32]) -> StoreResult<Option<Session>> {
        let mut sql = S::<B>::new(
            "SELECT tenant_id, user_id, csrf, created, last_seen FROM admin_sessions WHERE id_hash = ",
        );
        sql.bind(Bind::Bytes(hash.to_vec()));
        let row = self.rows(&sql, &[Ty::Text; 5]).await?.into_iter().next();
        row.map(|mut r| {
            Ok(Session {
                tenant_id: TenantId(r.text(0)?),
                user_id: r.text(1)?,
                csrf: r.text(2)?,
                created: r.text(3)?,
                last_seen: r.text(4)?,
            })
        })
        .transpose()
    }

    async fn touch_session(&self, hash: &[u8; 32], when: &str) -> StoreResult<()> {
        let mut sql = S::<B>::new("UPDATE admin_sessions SET last_seen = ");
        sql.text(when)
            .push(" WHERE id_hash = ")
            .bind(Bind::Bytes(hash.to_vec()));
        self.exec_one(&sql).await.map(|_| ())
    }

    async fn delete_session(&self, hash: &[u8; 32]) -> StoreResult<()> {
        let mut sql = S::<B>::new("DELETE FROM admin_sessions WHERE id_hash = ");
        sql.bind(Bind::Bytes(hash.to_vec()));
        self.exec_one(&sql).await.map(|_| ())
    }

    async fn delete_sessions_of(&self, t: &TenantId, user: &str) -> StoreResult<()> {
        let mut sql = S::<B>::new("DELETE FROM admin_sessions WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND user_id = ").text(user);
        self.exec_one(&sql).await.map(|_| ())
    }

    async fn user_groups(&self, t: &TenantId, user: &str) -> StoreResult<Vec<(GroupRef, String)>> {
        let mut sql = S::<B>::new(
            "SELECT g.id, g.display_name, g.class FROM group_members m \
             JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id WHERE m.tenant_id = ",
        );
        sql.text(t.0.clone())
            .push(" AND m.member_id = ")
            .text(user)
            .push(" ORDER BY g.name_norm");
        self.rows(&sql, &[Ty::Text; 3])
            .await?
            .into_iter()
            .map(|mut r| {
                Ok((
                    GroupRef {
                        id: r.text(0)?,
                        display: r.text(1)?,
                    },
                    r.text(2)?,
                ))
            })
            .collect()
    }

    async fn group_id_by_name(&self, t: &TenantId, name: &str) -> StoreResult<Option<String>> {
        let mut sql = S::<B>::new("SELECT id FROM groups WHERE tenant_id = ");
        sql.text(t.0.clone())
            .push(" AND name_norm = ")
            .text(fold(name));
        let row = self.rows(&sql, &[Ty::Text]).await?.into_iter().next();
        row.map(|mut r| r.text(0)).transpose()
    }

    async fn create_instance(
        &self,
        t: &TenantId,
        name: &str,
        product: &str,
        roles: &[String],
    ) -> StoreResult<Instance> {
        let mut inst = Instance {
            id: new_id(),
            name: name.to_string(),
            product: product.to_string(),
            created: now(),
            roles: Vec::new(),
        };
        let mut conn = self.write_conn().await?;
        let sql = S::<B>::insert(
            "product_instances",
            vec![
                ("tenant_id", text(&t.0)),
                ("id", text(&inst.id)),
                ("name", text(name)),
                ("name_norm", Bind::Text(fold(name))),
                ("product", text(product)),
                ("created", text(&inst.created)),
            ],
        );
        conn.exec(&sql)
            .await
            .map_err(conflict(format!("product instance name \"{name}\"")))?;
        for role in roles {
            inst.roles
                .push(Self::insert_role(&mut conn, t, &inst.id, name, role).await?);
        }
        conn.commit().await?;
        Ok(inst)
    }

    async fn list_instances(&self, t: &TenantId) -> StoreResult<Vec<Instance>> {
        self.instances(t, None).await
    }

    async fn instance(&self, t: &TenantId, id: &str) -> StoreResult<Option<Instance>> {
        Ok(self.instances(t, Some(id)).await?.into_iter().next())
    }

    async fn delete_instance(&self, t: &TenantId, id: &str) -> StoreResult<bool> {
        let groups: Vec<String> = self
            .roles_of(t, Some(id))
            .await?
            .into_iter()
            .filter_map(|(_, r)| r.group_id)
            .collect();
        let mut conn = self.write_conn().await?;
        let mut sql = S::<B>::new("DELETE FROM product_instances WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND id = ").text(id);
        let n = conn.exec(&sql).await?;
        for table in ["product_roles", "grants", "api_keys"] {
            let mut sql = S::<B>::new(&format!("DELETE FROM {table} WHERE tenant_id = "));
            sql.text(t.0.clone()).push(" AND instance_id = ").text(id);
            conn.exec(&sql).await?;
        }
        Self::delete_groups(&mut conn, t, &groups).await?;
        conn.commit().await?;
        Ok(n > 0)
    }

    async fn add_role(&self, t: &TenantId, instance: &str, name: &str) -> StoreResult<Role> {
        let inst = self
            .instance(t, instance)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut conn = self.write_conn().await?;
        let role = Self::insert_role(&mut conn, t, &inst.id, &inst.name, name).await?;
        conn.commit().await?;
        Ok(role)
    }

    async fn delete_role(&self, t: &TenantId, instance: &str, role: &str) -> StoreResult<bool> {
        let Some((_, r)) = self
            .roles_of(t, Some(instance))
            .await?
            .into_iter()
            .find(|(_, r)| r.id == role)
        else {
            return Ok(false);
        };
        let mut conn = self.write_conn().await?;
        for (table, col) in [("grants", "role_id"), ("product_roles", "id")] {
            let mut sql = S::<B>::new(&format!("DELETE FROM {table} WHERE tenant_id = "));
            sql.text(t.0.clone())
                .push(&format!(" AND {col} = "))
                .text(role);
            conn.exec(&sql).await?;
        }
        Self::delete_groups(&mut conn, t, &r.group_id.into_iter().collect::<Vec<_>>()).await?;
        conn.commit().await?;
        Ok(true)
    }

    async fn create_grant(&self, t: &TenantId, group: &str, role: &str) -> StoreResult<Grant> {
        let mut conn = self.write_conn().await?;
        let mut sql = S::<B>::new("SELECT instance_id FROM product_roles WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND id = ").text(role);
        let Some(mut r) = conn.rows(&sql, &[Ty::Text]).await?.into_iter().next() else {
            return Err(refused(404, format!("role {role} not found")));
        };
        let instance = r.text(0)?;
        let mut sql = S::<B>::new("SELECT id FROM groups WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND id = ").text(group);
        if conn.rows(&sql, &[Ty::Text]).await?.is_empty() {
            return Err(refused(404, format!("group {group} not found")));
        }
        let mut sql = grant_insert::<B>(t, group, &instance, role);
        sql.push(" ON CONFLICT DO NOTHING");
        conn.exec(&sql).await?;
        let mut sql = S::<B>::new(GRANT_SELECT);
        sql.text(t.0.clone())
            .push(" AND x.group_id = ")
            .text(group)
            .push(" AND x.role_id = ")
            .text(role);
        let row = conn.rows(&sql, &GRANT_TYPES).await?.into_iter().next();
        conn.commit().await?;
        grant_row(row.ok_or_else(|| internal("grant vanished"))?)
    }

    async fn list_grants(
        &self,
        t: &TenantId,
        group: Option<&str>,
        instance: Option<&str>,
    ) -> StoreResult<Vec<Grant>> {
        let mut sql = S::<B>::new(GRANT_SELECT);
        sql.text(t.0.clone());
        if let Some(g) = group {
            sql.push(" AND x.group_id = ").text(g);
        }
        if let Some(i) = instance {
            sql.push(" AND x.instance_id = ").text(i);
        }
        sql.push(" ORDER BY g.name_norm, r.name_norm");
        self.rows(&sql, &GRANT_TYPES)
            .await?
            .into_iter()
            .map(grant_row)
            .collect()
    }

    async fn delete_grant(&self, t: &TenantId, id: &str) -> StoreResult<bool> {
        let mut sql = S::<B>::new("DELETE FROM grants WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND id = ").text(id);
        Ok(self.exec_one(&sql).await? > 0)
    }

    async fn effective_access(
        &self,
        t: &TenantId,
        user: &str,
        instance: Option<&str>,
    ) -> StoreResult<Vec<Access>> {
        // The user's groups: direct, the groups those are members of (nesting), and Everyone.
        // An inactive user (active = 0) holds nothing.
        let mut sql = S::<B>::new(
            "WITH RECURSIVE mine(group_id) AS ( \
               SELECT m.group_id FROM group_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.member_id \
               WHERE m.tenant_id = ",
        );
        sql.text(t.0.clone())
            .push(" AND m.member_id = ")
            .text(user)
            .push(" AND COALESCE(u.active, 1) <> 0");
        sql.push(" UNION SELECT g.id FROM groups g JOIN users u ON u.tenant_id = g.tenant_id WHERE g.tenant_id = ")
            .text(t.0.clone())
            .push(" AND g.class = ")
            .text(class::SYSTEM)
            .push(" AND g.name_norm = ")
            .text(fold(muster_domain::model::EVERYONE));
        sql.push(" AND u.id = ")
            .text(user)
            .push(" AND COALESCE(u.active, 1) <> 0");
        sql.push(
            " UNION SELECT m.group_id FROM group_members m JOIN mine ON m.member_id = mine.group_id WHERE m.tenant_id = ",
        )
        .text(t.0.clone());
        sql.push(
            ") SELECT i.id, i.name, i.product, r.id, r.name, g.id, g.display_name FROM mine \
             JOIN grants x ON x.group_id = mine.group_id \
             JOIN product_roles r ON r.tenant_id = x.tenant_id AND r.id = x.role_id \
             JOIN product_instances i ON i.tenant_id = x.tenant_id AND i.id = x.instance_id \
             JOIN groups g ON g.tenant_id = x.tenant_id AND g.id = x.group_id WHERE x.tenant_id = ",
        )
        .text(t.0.clone());
        if let Some(i) = instance {
            sql.push(" AND x.instance_id = ").text(i);
        }
        sql.push(" ORDER BY i.name_norm, r.name_norm, g.name_norm");
        self.rows(&sql, &[Ty::Text; 7])
            .await?
            .into_iter()
            .map(|mut r| {
                Ok(Access {
                    instance_id: r.text(0)?,
                    instance_name: r.text(1)?,
                    product: r.text(2)?,
                    role_id: r.text(3)?,
                    role_name: r.text(4)?,
                    via_group_id: r.text(5)?,
                    via_group_name: r.text(6)?,
                })
            })
            .collect()
    }

    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        // Audit rows change no resource: remembered list totals stay valid.
        let mut conn = self.backend.write().await?;
        let lock = <B::D as crate::sql::Dialect>::AUDIT_APPEND_LOCK;
        if !lock.is_empty() {
            conn.exec(&S::<B>::new(lock)).await?;
        }
        // Rows go in chunks of 64, 8 and 1 only: three statement texts, each prepared once and
        // reused from the statement cache (14 binds a row stays far under every engine's limit).
        let mut rest = events;
        while !rest.is_empty() {
            let n = [64, 8, 1]
                .into_iter()
                .find(|n| rest.len() >= *n)
                .unwrap_or(1);
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let mut sql = S::<B>::new(
                "INSERT INTO audit_events (tenant_id, at, actor, operation, target, outcome, status, \
                 request_id, message, before, after, duration_us, method, path) VALUES ",
            );
            for (i, e) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(")
                    .bind(Bind::OptText(e.tenant_id.as_ref().map(|t| t.0.clone())))
                    .push(", ")
                    .text(e.at.clone())
                    .push(", ")
                    .text(e.actor.clone());
                sql.push(", ")
                    .text(e.operation.clone())
                    .push(", ")
                    .bind(Bind::OptText(e.target.clone()))
                    .push(", ")
                    .text(e.outcome.clone());
                sql.push(", ")
                    .int(e.status)
                    .push(", ")
                    .bind(Bind::OptText(e.request_id.clone()))
                    .push(", ")
                    .bind(Bind::OptText(e.message.clone()));
                sql.push(", ")
                    .bind(Bind::OptText(e.before.clone()))
                    .push(", ")
                    .bind(Bind::OptText(e.after.clone()))
                    .push(", ")
                    .bind(Bind::OptInt(e.duration_us))
                    .push(", ")
                    .bind(Bind::OptText(e.method.clone()))
                    .push(", ")
                    .bind(Bind::OptText(e.path.clone()))
                    .push(")");
            }
            conn.exec(&sql).await?;
        }
        index_audit_targets::<B>(&mut conn).await?;
        conn.commit().await?;
        Ok(())
    }

    async fn purge_audit(&self, before: &str) -> StoreResult<u64> {
        // Events are appended in time order, so the oldest are the lowest `seq`s: read them
        // by key (no index on time to maintain on every write) and delete them by range, in
        // small transactions, so the single SQLite writer is never held for long.
        const CHUNK: i64 = 2000;
        let mut total = 0;
        loop {
            let sql = S::<B>::new(&format!(
                "SELECT seq, at FROM audit_events ORDER BY seq LIMIT {CHUNK}"
            ));
            let rows = self.rows(&sql, &[Ty::Int, Ty::Text]).await?;
            let mut last = None;
            for mut r in rows.iter().cloned() {
                if r.text(1)?.as_str() >= before {
                    break;
                }
                last = Some(r.int(0)?);
            }
            let Some(last) = last else {
                return Ok(total);
            };
            // One transaction: the events, their index entries, and the watermark brought down
            // to the newest event left. SQLite numbers the next event after the highest one
            // present, so once a purge empties the log the numbers start again from 1, and a
            // watermark left above them would hide them from queries by target.
            let mut conn = self.write_conn().await?;
            let mut sql = S::<B>::new("DELETE FROM audit_events WHERE seq <= ");
            sql.int(last);
            total += conn.exec(&sql).await?;
            let mut sql = S::<B>::new("DELETE FROM audit_targets WHERE bucket <= ");
            sql.int(last / AUDIT_BUCKET).push(" AND seq <= ").int(last);
            conn.exec(&sql).await?;
            conn.exec(&S::<B>::new(
                "UPDATE audit_index SET upto = COALESCE((SELECT MAX(seq) FROM audit_events), 0) \
                 WHERE upto > COALESCE((SELECT MAX(seq) FROM audit_events), 0)",
            ))
            .await?;
            conn.commit().await?;
            if (rows.len() as i64) < CHUNK {
                return Ok(total);
            }
        }
    }

    async fn query_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        let sql = audit_query_sql::<B::D>(q);
        self.rows(&sql, &AUDIT_TYPES)
            .await?
            .into_iter()
            .map(audit_row)
            .collect()
    }
}

/// Sequence numbers per bucket of `audit_targets`: a batch of new events lands on the pages of
/// the newest bucket only, not on one random page per event.
const AUDIT_BUCKET: i64 = 16_384;
/// Events left unindexed before they are indexed in one sorted batch (the scan that finds them
/// meanwhile stays short). Every event at or below the watermark is indexed: appends are
/// numbered in the order they commit (`Dialect::AUDIT_APPEND_LOCK`), and the watermark moves in
/// the transaction that indexes.
const AUDIT_INDEX_BATCH: i64 = 2048;

/// Indexes the events appended since the watermark by target, once there are
/// [`AUDIT_INDEX_BATCH`] of them, in the caller's transaction.
async fn index_audit_targets<B: Backend>(conn: &mut C<B>) -> StoreResult<()> {
    let sql = S::<B>::new(
        "SELECT COALESCE((SELECT upto FROM audit_index), 0), \
         COALESCE((SELECT MAX(seq) FROM audit_events), 0)",
    );
    let Some(row) = conn
        .rows(&sql, &[Ty::Int, Ty::Int])
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let (upto, last) = (row.int(0)?, row.int(1)?);
    if last - upto < AUDIT_INDEX_BATCH {
        return Ok(());
    }
    let mut sql = S::<B>::new(&format!(
        "INSERT INTO audit_targets (bucket, target, seq) SELECT seq / {AUDIT_BUCKET}, target, seq \
         FROM audit_events WHERE seq > "
    ));
    sql.int(upto)
        .push(" AND seq <= ")
        .int(last)
        .push(" AND target IS NOT NULL ORDER BY 1, 2, 3");
    conn.exec(&sql).await?;
    let mut sql = S::<B>::new("UPDATE audit_index SET upto = ");
    sql.int(last).push(" WHERE id = 1 AND upto < ").int(last);
    conn.exec(&sql).await?;
    Ok(())
}

/// The filters of an audit query, on `audit_events e` (no ORDER BY or LIMIT).
fn audit_conditions<D: crate::sql::Dialect>(sql: &mut crate::sql::Sql<D>, q: &AuditQuery) {
    match &q.tenant_id {
        Some(t) => sql.push("e.tenant_id = ").text(t.0.clone()),
        None => sql.push("1 = 1"),
    };
    if let Some(v) = &q.since {
        sql.push(" AND e.at >= ").text(v.clone());
    }
    if let Some(v) = &q.until {
        sql.push(" AND e.at <= ").text(v.clone());
    }
    if let Some(v) = &q.actor {
        sql.push(" AND e.actor = ").text(v.clone());
    }
    if let Some(v) = &q.target {
        sql.push(" AND e.target = ").text(v.clone());
    }
    if let Some(v) = &q.outcome {
        sql.push(" AND e.outcome = ").text(v.clone());
    }
    if let Some(v) = &q.operation_prefix {
        let escaped = v
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        sql.push(" AND e.operation LIKE ")
            .text(format!("{escaped}%"))
            .push(" ESCAPE '\\'");
    }
    if let Some(v) = q.before_seq {
        sql.push(" AND e.seq < ").int(v);
    }
}

/// An audit query's statement: newest first, at most `q.limit` events.
pub(crate) fn audit_query_sql<D: crate::sql::Dialect>(q: &AuditQuery) -> crate::sql::Sql<D> {
    let mut sql = crate::sql::Sql::<D>::new("");
    let from = format!("SELECT {AUDIT_COLUMNS} FROM audit_events e WHERE ");
    match &q.target {
        None => {
            sql.push(&from);
            audit_conditions(&mut sql, q);
        }
        // Events up to the index's watermark come through audit_targets, probed bucket by
        // bucket; later ones by a range scan of the newest rows.
        Some(target) => {
            sql.push(&format!(
                "WITH RECURSIVE b(n) AS (\
                 SELECT COALESCE((SELECT MIN(seq) FROM audit_events), 0) / {AUDIT_BUCKET} \
                 UNION ALL SELECT n + 1 FROM b WHERE n < (SELECT upto FROM audit_index) / {AUDIT_BUCKET}), \
                 s(hit) AS (SELECT t.seq FROM b JOIN audit_targets t ON t.bucket = b.n AND t.target = "
            ))
            .text(target.clone())
            .push(&format!(
                " WHERE t.seq <= (SELECT upto FROM audit_index)) \
                 SELECT {AUDIT_COLUMNS} FROM s CROSS JOIN audit_events e WHERE e.seq = s.hit AND "
            ));
            audit_conditions(&mut sql, q);
            sql.push(" UNION ALL ").push(&from);
            audit_conditions(&mut sql, q);
            sql.push(" AND e.seq > (SELECT upto FROM audit_index)");
        }
    }
    // Written into the text: a bound LIMIT makes SQLite re-prepare on every run.
    sql.push(&format!(
        " ORDER BY seq DESC LIMIT {}",
        q.limit.clamp(1, 10_000)
    ));
    sql
}

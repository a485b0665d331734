//! The storage the administrator's side needs beyond SCIM resources. Every method that reads
//! or writes a tenant's data takes its [`TenantId`] first, as in [`crate::store::Store`].

use super::model::{
    Access, AuditEvent, AuditQuery, Credential, Grant, Instance, KeyInfo, NewKey, Role, Session,
    SsoConnection, TenantSettings,
};
use crate::model::{GroupRef, Mode, Tenant, TenantId};
use crate::store::StoreResult;
use async_trait::async_trait;

#[async_trait]
pub trait AdminStore: Send + Sync {
    /// A tenant by id or (case-insensitive) name.
    async fn tenant(&self, id_or_name: &str) -> StoreResult<Option<Tenant>>;
    async fn update_tenant(
        &self,
        t: &TenantId,
        mode: Mode,
        settings: &TenantSettings,
    ) -> StoreResult<Tenant>;

    async fn list_connections(&self, t: &TenantId) -> StoreResult<Vec<SsoConnection>>;
    /// Refuses a sixth connection and a name in use.
    async fn create_connection(
        &self,
        t: &TenantId,
        name: &str,
        protocol: &str,
    ) -> StoreResult<SsoConnection>;
    /// Deletes a connection and revokes the SCIM tokens that belong to it.
    async fn delete_connection(&self, t: &TenantId, id: &str) -> StoreResult<bool>;
    /// Binds SCIM to this connection (and no other): tokens of another binding are revoked.
    /// Returns how many were.
    async fn bind_scim(&self, t: &TenantId, id: &str) -> StoreResult<u64>;

    /// Revokes a token of this tenant by id or prefix.
    async fn revoke_tenant_token(&self, t: &TenantId, id_or_prefix: &str) -> StoreResult<bool>;
    /// Lets a live token work until `at` (rotation's overlap window).
    async fn expire_token(&self, t: &TenantId, id: &str, at: &str) -> StoreResult<bool>;

    async fn create_key(&self, k: &NewKey) -> StoreResult<KeyInfo>;
    /// A tenant's keys (admin and access); `None`: operator keys.
    async fn list_keys(&self, t: Option<&TenantId>) -> StoreResult<Vec<KeyInfo>>;
    async fn revoke_key(&self, t: Option<&TenantId>, id_or_prefix: &str) -> StoreResult<bool>;
    /// The live key with this hash.
    async fn key_by_hash(&self, hash: &[u8; 32]) -> StoreResult<Option<KeyInfo>>;
    async fn touch_key(&self, id: &str, when: &str) -> StoreResult<()>;

    async fn credential(&self, t: &TenantId, user: &str) -> StoreResult<Option<Credential>>;
    /// Stores a one-time set-password secret's hash, valid until `expires`.
    async fn set_setup(
        &self,
        t: &TenantId,
        user: &str,
        hash: &[u8; 32],
        expires: &str,
    ) -> StoreResult<()>;
    /// The (tenant, user, expiry) a set-password secret belongs to.
    async fn setup_by_hash(
        &self,
        hash: &[u8; 32],
    ) -> StoreResult<Option<(TenantId, String, String)>>;
    /// Sets the password (a PHC string) and spends the set-password secret.
    /// Sets the password (a PHC string) and spends the set-password secret, in one statement:
    /// only while that secret is still the user's and unexpired at `now` (false otherwise), so
    /// a link works once even when used twice at the same time.
    async fn set_password(
        &self,
        t: &TenantId,
        user: &str,
        setup_hash: &[u8; 32],
        phc: &str,
        now: &str,
    ) -> StoreResult<bool>;
    /// Counts a failed sign-in atomically; returns the failures so far.
    async fn count_failure(&self, t: &TenantId, user: &str) -> StoreResult<i64>;
    /// Sets (or, with `None`, clears with the failure count) the time sign-ins are locked until.
    async fn lock_login(&self, t: &TenantId, user: &str, until: Option<&str>) -> StoreResult<()>;

    async fn create_session(&self, hash: &[u8; 32], s: &Session) -> StoreResult<()>;
    async fn session(&self, hash: &[u8; 32]) -> StoreResult<Option<Session>>;
    async fn touch_session(&self, hash: &[u8; 32], when: &str) -> StoreResult<()>;
    async fn delete_session(&self, hash: &[u8; 32]) -> StoreResult<()>;
    /// Signs a user out everywhere (password set, removed as admin).
    async fn delete_sessions_of(&self, t: &TenantId, user: &str) -> StoreResult<()>;

    /// Every group a user belongs to directly, of every kind, with the kind.
    async fn user_groups(&self, t: &TenantId, user: &str) -> StoreResult<Vec<(GroupRef, String)>>;
    /// A group's id by kind and name (case-insensitive), e.g. the system groups.
    async fn group_id_by_name(&self, t: &TenantId, name: &str) -> StoreResult<Option<String>>;

    /// Creates an instance with its roles; each role gets a `product` group named
    /// "<instance> <role>" that is granted it.
    async fn create_instance(
        &self,
        t: &TenantId,
        name: &str,
        product: &str,
        roles: &[String],
    ) -> StoreResult<Instance>;
    async fn list_instances(&self, t: &TenantId) -> StoreResult<Vec<Instance>>;
    async fn instance(&self, t: &TenantId, id: &str) -> StoreResult<Option<Instance>>;
    /// Deletes an instance, its roles, their grants and product groups.
    async fn delete_instance(&self, t: &TenantId, id: &str) -> StoreResult<bool>;
    async fn add_role(&self, t: &TenantId, instance: &str, name: &str) -> StoreResult<Role>;
    async fn delete_role(&self, t: &TenantId, instance: &str, role: &str) -> StoreResult<bool>;

    /// Grants a role of an instance to a group (idempotent: an existing grant is returned).
    async fn create_grant(&self, t: &TenantId, group: &str, role: &str) -> StoreResult<Grant>;
    async fn list_grants(
        &self,
        t: &TenantId,
        group: Option<&str>,
        instance: Option<&str>,
    ) -> StoreResult<Vec<Grant>>;
    async fn delete_grant(&self, t: &TenantId, id: &str) -> StoreResult<bool>;
    /// The roles a user holds: the union over its groups (nested groups and Everyone
    /// included). An inactive user holds none (product rule 10).
    async fn effective_access(
        &self,
        t: &TenantId,
        user: &str,
        instance: Option<&str>,
    ) -> StoreResult<Vec<Access>>;

    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()>;
    /// Deletes audit events older than `before` (retention); returns how many.
    async fn purge_audit(&self, before: &str) -> StoreResult<u64>;
    async fn query_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>>;
}

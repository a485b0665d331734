//! The storage boundary. Protocol and HTTP code talk to this trait only, so a PostgreSQL store
//! can sit beside SQLite without touching them.

use crate::model::{
    Load, MemberRef, Mode, NewResource, NewToken, Stored, Tenant, TenantId, TokenInfo, Update,
};
use crate::query::{Cond, SortKey};
use async_trait::async_trait;
use muster_scim::ScimError;
use muster_scim::schema::ResourceKind;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// `If-Match` named another version.
    #[error("version mismatch")]
    VersionMismatch,
    /// A unique name (userName, group displayName, tenant name) is taken.
    #[error("{0} is already taken")]
    Conflict(String),
    /// A client error decided inside the transaction (bad member id, PATCH refusal).
    #[error("{0}")]
    Scim(ScimError),
    /// The engine aborted the transaction to keep it serialisable (SQLSTATE 40001, deadlock):
    /// running it again is safe.
    #[error("serialization conflict; retry")]
    Busy,
    /// The database is out of reach or ended the session (restart, network fault).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("store: {0}")]
    Internal(String),
}

impl From<ScimError> for StoreError {
    fn from(e: ScimError) -> Self {
        StoreError::Scim(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageReq {
    /// 1-based `startIndex` and `count` (RFC 7644 §3.4.2.4).
    Index { start: u64, count: u64 },
    /// RFC 9865: resume after an opaque cursor the store issued (`None`: the first page).
    Cursor { cursor: Option<String>, count: u64 },
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Option<Cond>,
    pub sort: Option<SortKey>,
    pub descending: bool,
    pub page: PageReq,
    pub load: Load,
}

#[derive(Debug, Clone)]
pub struct ListPage {
    pub items: Vec<Stored>,
    pub total: u64,
    pub next_cursor: Option<String>,
}

/// The mutation inside an update transaction: sees the current resource, returns the new one.
pub type Mutation<'a> = &'a mut (dyn FnMut(&Stored) -> Result<Update, ScimError> + Send);

#[async_trait]
pub trait Store: crate::admin::store::AdminStore + Send + Sync + 'static {
    /// Whether the store answers and its schema is current (readiness).
    async fn ready(&self) -> bool;

    /// Writes a consistent copy of the whole store to `path`, while it serves (SQLite).
    async fn backup(&self, path: &str) -> StoreResult<()>;

    /// Connection pools: (name, open connections, idle connections), for metrics.
    fn pool_stats(&self) -> Vec<(&'static str, u32, u32)>;

    async fn create_tenant(&self, name: &str, mode: Mode) -> StoreResult<Tenant>;
    async fn tenant_by_name(&self, name: &str) -> StoreResult<Option<Tenant>>;
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;

    async fn create_token(&self, tenant: &TenantId, token: &NewToken) -> StoreResult<TokenInfo>;
    async fn list_tokens(&self, tenant: &TenantId) -> StoreResult<Vec<TokenInfo>>;
    /// Revokes by token id or by its listed prefix, in any tenant (the operator's CLI);
    /// returns whether one was revoked.
    async fn revoke_token(&self, id_or_prefix: &str) -> StoreResult<bool>;
    /// The live token with this hash, with its tenant.
    async fn token_by_hash(&self, hash: &[u8; 32]) -> StoreResult<Option<(TokenInfo, Tenant)>>;
    async fn touch_token(&self, id: &str, when: &str) -> StoreResult<()>;

    async fn create(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        new: NewResource,
    ) -> StoreResult<Stored>;

    /// Tokens with their hashes, for export (never the secrets, which are not stored).
    async fn export_tokens(&self, tenant: &TenantId) -> StoreResult<Vec<(TokenInfo, [u8; 32])>>;
    /// Restores a tenant with its id (export/import between stores).
    async fn import_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    async fn import_token(
        &self,
        token: &TokenInfo,
        hash: &[u8; 32],
        revoked_at: Option<&str>,
    ) -> StoreResult<()>;
    /// Restores a resource with its id, timestamps and version, so IdP links stay valid.
    async fn import_resource(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        s: &Stored,
    ) -> StoreResult<()>;
    /// Restores a group's memberships (after every resource is in).
    async fn import_members(
        &self,
        t: &TenantId,
        group: &str,
        members: &[MemberRef],
    ) -> StoreResult<()>;

    async fn get(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        load: Load,
    ) -> StoreResult<Stored>;
    /// Read-modify-write in one transaction; `if_match` (versions any of which may match) is
    /// checked inside it.
    async fn update(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&[i64]>,
        load: Load,
        mutate: Mutation<'_>,
    ) -> StoreResult<Stored>;
    /// Deletes a resource (and its memberships); returns it as it was.
    async fn delete(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&[i64]>,
    ) -> StoreResult<Stored>;
    async fn list(&self, t: &TenantId, kind: ResourceKind, q: &ListQuery) -> StoreResult<ListPage>;
}

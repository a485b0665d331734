//! What the administrator's side stores: SSO connections, keys, admin credentials and sessions,
//! product instances, roles, grants and audit events.

use crate::model::TenantId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What happens to a user the IdP deactivates (product rule 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Deactivate {
    /// Removed from every group and deleted (the hosted service's behaviour).
    #[default]
    Delete,
    /// Kept, inactive, with its memberships (RFC behaviour).
    Suspend,
}

/// Per-tenant settings, stored as JSON beside the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TenantSettings {
    pub deactivate: Deactivate,
    /// `userName` must be an email address (product rule 11).
    pub require_email_username: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            deactivate: Deactivate::Delete,
            require_email_username: true,
        }
    }
}

/// At most this many SSO connections per tenant.
pub const MAX_CONNECTIONS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SsoConnection {
    pub id: String,
    pub name: String,
    /// `saml` or `oidc`.
    pub protocol: String,
    /// SCIM is bound to this connection: its tokens belong to it.
    pub scim_bound: bool,
    pub created: String,
}

/// What a non-SCIM key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyScope {
    /// Every tenant, and creating tenants.
    Operator,
    /// One tenant's admin API.
    Admin,
    /// One product instance's access API.
    Access,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Operator => "operator",
            KeyScope::Admin => "admin",
            KeyScope::Access => "access",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "operator" => Some(KeyScope::Operator),
            "admin" => Some(KeyScope::Admin),
            "access" => Some(KeyScope::Access),
            _ => None,
        }
    }
}

/// A key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct KeyInfo {
    pub id: String,
    pub scope: KeyScope,
    #[schema(value_type = Option<String>)]
    pub tenant_id: Option<TenantId>,
    pub instance_id: Option<String>,
    pub prefix: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: bool,
}

/// A new key's stored part.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub id: String,
    pub scope: KeyScope,
    pub tenant_id: Option<TenantId>,
    pub instance_id: Option<String>,
    pub hash: [u8; 32],
    pub prefix: String,
    pub name: String,
}

/// An administrator's sign-in state (failures are counted in the store, see
/// [`super::store::AdminStore::count_failure`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credential {
    pub password_hash: Option<String>,
    pub locked_until: Option<String>,
}

/// A signed-in administrator's session (the cookie holds a secret whose hash is the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub tenant_id: TenantId,
    pub user_id: String,
    pub csrf: String,
    pub created: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Role {
    pub id: String,
    pub name: String,
    /// The `product` group created with the role.
    pub group_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub product: String,
    pub created: String,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Grant {
    pub id: String,
    pub group_id: String,
    pub group_name: String,
    pub instance_id: String,
    pub role_id: String,
    pub role_name: String,
    pub created: String,
}

/// One role a user holds in an instance, and a group it comes through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Access {
    pub instance_id: String,
    pub instance_name: String,
    pub product: String,
    pub role_id: String,
    pub role_name: String,
    pub via_group_id: String,
    pub via_group_name: String,
}

/// One audit record: a change or a refused request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    #[schema(value_type = Option<String>)]
    pub tenant_id: Option<TenantId>,
    pub at: String,
    /// `token:<id>`, `key:<id>`, `admin:<user id>`, `operator:<key id>`, `cli`.
    pub actor: String,
    /// E.g. `scim.users.create`, `admin.groups.rename`, `admin.tenant.update`.
    pub operation: String,
    /// The resource's id (or another stable name of what was acted on).
    pub target: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    pub status: i64,
    pub request_id: Option<String>,
    /// The HTTP request, for requests (not for the CLI's changes).
    pub method: Option<String>,
    pub path: Option<String>,
    pub message: Option<String>,
    /// JSON of the state before and after a change.
    pub before: Option<String>,
    pub after: Option<String>,
    pub duration_us: Option<i64>,
}

pub const SUCCESS: &str = "success";
pub const FAILURE: &str = "failure";

/// Which audit events to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub tenant_id: Option<TenantId>,
    /// RFC 3339 bounds, inclusive.
    pub since: Option<String>,
    pub until: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<String>,
    pub operation_prefix: Option<String>,
    /// Only events older than this sequence number (paging backwards).
    pub before_seq: Option<i64>,
    pub limit: u64,
}

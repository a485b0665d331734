//! What muster stores: tenants, tokens and SCIM resources as the store hands them back.

use muster_scim::patch::MemberChange;
use muster_scim::schema::ResourceKind;
use serde_json::{Map, Value};
use std::fmt;

/// A tenant's id. Every store method takes one first: nothing is ever read across tenants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantId(pub String);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a tenant's users and groups arrive (product.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Jit,
    Scim,
    ScimGroups,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Jit => "jit",
            Mode::Scim => "scim",
            Mode::ScimGroups => "scim-groups",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        match s.to_ascii_lowercase().as_str() {
            "jit" => Some(Mode::Jit),
            "scim" => Some(Mode::Scim),
            "scim-groups" | "scim_groups" => Some(Mode::ScimGroups),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub mode: Mode,
    pub created: String,
}

/// A SCIM token as listed: never its secret, which is shown once and stored as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub tenant_id: TenantId,
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: bool,
}

/// A new token's stored part.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub hash: [u8; 32],
    pub prefix: String,
}

/// A member of a group as stored: its id, kind and display name (joined on read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub id: String,
    pub kind: ResourceKind,
    pub display: Option<String>,
}

/// A group a user belongs to directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: String,
    pub display: String,
}

/// A resource as stored: canonical JSON without members, plus server metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub data: Map<String, Value>,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
    /// Groups only, and only when asked for.
    pub members: Option<Vec<MemberRef>>,
    /// Users only, and only when asked for.
    pub groups: Option<Vec<GroupRef>>,
}

/// A resource to create.
#[derive(Debug, Clone)]
pub struct NewResource {
    pub data: Map<String, Value>,
    /// Member ids (groups only).
    pub members: Vec<String>,
}

/// What an update closure decides, given the current resource.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub data: Map<String, Value>,
    pub members: Vec<MemberChange>,
}

/// What a read should load besides the document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    pub members: bool,
    pub groups: bool,
}

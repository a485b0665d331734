//! What muster stores: tenants, tokens and SCIM resources as the store hands them back.

use muster_scim::patch::MemberChange;
use muster_scim::schema::ResourceKind;
use serde_json::{Map, Value};
use std::fmt;

/// A tenant's id. Every store method takes one first: nothing is ever read across tenants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
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
    pub settings: crate::admin::model::TenantSettings,
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
    /// The SSO connection SCIM was bound to when the token was made.
    pub connection_id: Option<String>,
    /// Set by a rotation: the token works until then.
    pub expires_at: Option<String>,
}

/// A new token's stored part.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub hash: [u8; 32],
    pub prefix: String,
    pub connection_id: Option<String>,
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
    /// The document; empty when `raw` holds it instead.
    pub data: Map<String, Value>,
    /// The document as the JSON text it is stored as, in place of `data`, when the read asked
    /// for it ([`Load::raw`]): a resource answered as it is stored is written through as text,
    /// its values never built.
    pub raw: Option<String>,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
    /// Groups only, and only when asked for.
    pub members: Option<Vec<MemberRef>>,
    /// Users only, and only when asked for.
    pub groups: Option<Vec<GroupRef>>,
    /// A user's `source` (`scim`, `manual`, `jit`) or a group's `kind` (`scim`, `custom`,
    /// `system`, `product`).
    pub class: String,
}

impl Stored {
    /// The document, parsed from its stored text when the read left it as text.
    pub fn document(&self) -> std::borrow::Cow<'_, Map<String, Value>> {
        match &self.raw {
            Some(text) => std::borrow::Cow::Owned(serde_json::from_str(text).unwrap_or_default()),
            None => std::borrow::Cow::Borrowed(&self.data),
        }
    }
}

/// A resource to create.
#[derive(Debug, Clone)]
pub struct NewResource {
    pub data: Map<String, Value>,
    /// Member ids (groups only).
    pub members: Vec<String>,
    /// Source or kind; see [`Stored::class`].
    pub class: String,
}

/// What an update closure decides, given the current resource.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub data: Map<String, Value>,
    pub members: Vec<MemberChange>,
    /// A new source or kind (an IdP taking over a user or group).
    pub class: Option<String>,
}

/// What a read should load besides the document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    pub members: bool,
    pub groups: bool,
    /// Users' groups of every kind (the admin view), not only those SCIM manages.
    pub all_kinds: bool,
    /// The document as its stored text ([`Stored::raw`]), for a caller that only writes it out.
    pub raw: bool,
}

/// The classes of users and groups (see [`Stored::class`]).
pub mod class {
    pub const SCIM: &str = "scim";
    pub const MANUAL: &str = "manual";
    pub const JIT: &str = "jit";
    pub const CUSTOM: &str = "custom";
    pub const SYSTEM: &str = "system";
    pub const PRODUCT: &str = "product";
}

/// The groups every tenant has (product.md §1); reserved in any letter case (rule 4).
pub const EVERYONE: &str = "Everyone";
pub const ADMINISTRATORS: &str = "Admin Center Administrators";
pub const SYSTEM_GROUPS: [&str; 2] = [EVERYONE, ADMINISTRATORS];

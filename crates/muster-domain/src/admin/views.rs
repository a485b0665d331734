//! What the admin API answers: the administrator's view of users, groups, tokens and pages.

use super::model::{Access, KeyInfo, SsoConnection, TenantSettings};
use crate::model::{Stored, Tenant, TokenInfo};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    /// `jit`, `scim` or `scim-groups`.
    pub mode: String,
    pub settings: TenantSettings,
    pub created: String,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        TenantView {
            id: t.id.0.clone(),
            name: t.name.clone(),
            mode: t.mode.as_str().into(),
            settings: t.settings.clone(),
            created: t.created.clone(),
        }
    }
}

/// A tenant after a change, with what the change means in words.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantChanged {
    pub tenant: TenantView,
    pub changes: Vec<String>,
}

/// What can change on a tenant; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    pub mode: Option<String>,
    pub deactivate: Option<super::model::Deactivate>,
    pub require_email_username: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionsView {
    pub connections: Vec<SsoConnection>,
    pub max: usize,
}

/// The last refused SCIM request a token made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastError {
    pub at: String,
    pub status: i64,
    pub operation: String,
    pub message: Option<String>,
}

/// A SCIM token as listed, with its provisioning health (product.md §4).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    /// `active`, `expiring` (rotated, still inside its overlap window), `expired` or `revoked`.
    pub status: String,
    pub expires_at: Option<String>,
    pub connection_id: Option<String>,
    pub last_error: Option<LastError>,
    pub errors_last_hour: u64,
}

impl TokenView {
    pub fn of(t: &TokenInfo, now: &str) -> Self {
        let status = match (&t.expires_at, t.revoked) {
            (_, true) => "revoked",
            (Some(at), false) if at.as_str() <= now => "expired",
            (Some(_), false) => "expiring",
            (None, false) => "active",
        };
        TokenView {
            id: t.id.clone(),
            prefix: t.prefix.clone(),
            created: t.created.clone(),
            last_used: t.last_used.clone(),
            status: status.into(),
            expires_at: t.expires_at.clone(),
            connection_id: t.connection_id.clone(),
            last_error: None,
            errors_last_hour: 0,
        }
    }
}

/// Where each identity provider's setup asks for the SCIM endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScimUrls {
    /// Entra ID's *Tenant URL* (with the flag that selects its RFC-compliant behaviour).
    pub entra: String,
    /// Okta's *SCIM connector base URL* (authentication mode: HTTP Header).
    pub okta: String,
    /// PingOne's *SCIM BASE URL* (authentication: OAuth 2 Bearer Token).
    pub pingone: String,
    /// Any other RFC 7644 client.
    pub generic: String,
}

impl ScimUrls {
    pub fn for_origin(origin: &str) -> Self {
        let base = format!("{}/api/scim/v2", origin.trim_end_matches('/'));
        ScimUrls {
            entra: format!("{base}?aadOptscim062020"),
            okta: base.clone(),
            pingone: base.clone(),
            generic: base,
        }
    }
}

/// A new SCIM token: the secret is shown here once and never again.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewTokenView {
    pub token: TokenView,
    pub secret: String,
    pub scim_urls: ScimUrls,
}

/// A rotation: the new token, and until when the old one still works.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotatedView {
    pub new: NewTokenView,
    pub old_token_id: String,
    pub old_token_expires_at: String,
}

/// A new admin, operator or access key: the secret is shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewKeyView {
    pub key: KeyInfo,
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub active: bool,
    /// `scim` (owned by the identity provider), `manual` or `jit`.
    pub source: String,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

impl From<&Stored> for UserView {
    fn from(s: &Stored) -> Self {
        let name = s.data.get("name");
        let user_name = text(s.data.get("userName")).unwrap_or_default();
        let given = text(name.and_then(|n| n.get("givenName")));
        let family = text(name.and_then(|n| n.get("familyName")));
        let display = text(s.data.get("displayName")).unwrap_or_else(|| {
            let joined = [given.as_deref(), family.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if joined.is_empty() {
                user_name.clone()
            } else {
                joined
            }
        });
        UserView {
            id: s.id.clone(),
            display_name: display,
            user_name,
            given_name: given,
            family_name: family,
            active: s
                .data
                .get("active")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            source: s.class.clone(),
            created: s.created.clone(),
            last_modified: s.last_modified.clone(),
            version: s.version,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    pub id: String,
    pub display_name: String,
    /// `system`, `product`, `custom` or `scim` (owned by the identity provider).
    pub kind: String,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
}

impl From<&Stored> for GroupView {
    fn from(s: &Stored) -> Self {
        GroupView {
            id: s.id.clone(),
            display_name: text(s.data.get("displayName")).unwrap_or_default(),
            kind: s.class.clone(),
            created: s.created.clone(),
            last_modified: s.last_modified.clone(),
            version: s.version,
        }
    }
}

/// A group a user belongs to directly.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Membership {
    pub id: String,
    pub display_name: String,
    pub kind: String,
}

/// A user with its groups and effective product access.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserDetail {
    pub user: UserView,
    pub groups: Vec<Membership>,
    pub access: Vec<Access>,
}

/// A page of a list: 1-based `start_index`, `total` matches.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub total: u64,
    pub start_index: u64,
    pub items: Vec<T>,
}

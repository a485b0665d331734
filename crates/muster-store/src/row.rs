//! What every SQL store writes next to a resource's JSON: the promoted, indexed columns.

use muster_domain::store::{StoreError, StoreResult};
use muster_scim::resource::{fold, fold_for_search};
use muster_scim::schema::{ResourceKind, ResourceType};
use serde_json::{Map, Value};

pub(crate) struct Promoted {
    /// userName (users) or displayName (groups), as given.
    pub name: String,
    pub name_norm: String,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    /// What a member list shows for this resource.
    pub display: String,
    pub data: String,
    pub search: String,
}

pub(crate) fn promote(kind: ResourceKind, data: &Map<String, Value>) -> StoreResult<Promoted> {
    let rt = ResourceType::of(kind);
    let text = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
    let name_attr = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    let name =
        text(name_attr).ok_or_else(|| StoreError::Internal(format!("{name_attr} missing")))?;
    let display = match kind {
        ResourceKind::User => text("displayName").unwrap_or_else(|| name.clone()),
        ResourceKind::Group => name.clone(),
    };
    let search = fold_for_search(rt, data);
    Ok(Promoted {
        name_norm: fold(&name),
        name,
        external_id: text("externalId"),
        active: data.get("active").and_then(Value::as_bool),
        display,
        data: serde_json::to_string(data).map_err(|e| StoreError::Internal(e.to_string()))?,
        search: serde_json::to_string(&search).map_err(|e| StoreError::Internal(e.to_string()))?,
    })
}

/// The attribute a unique-name violation is about.
pub(crate) fn name_field(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    }
}

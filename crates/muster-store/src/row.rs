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
        ResourceKind::User => person_display(data).unwrap_or_else(|| name.clone()),
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

/// A user's human name for member lists: `displayName`, else `name.formatted`, else
/// "givenName familyName" (whichever exist).
fn person_display(data: &Map<String, Value>) -> Option<String> {
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
    if let Some(d) = text(data.get("displayName")) {
        return Some(d.to_string());
    }
    let name = data.get("name")?;
    if let Some(f) = text(name.get("formatted")) {
        return Some(f.to_string());
    }
    let parts: Vec<&str> = [name.get("givenName"), name.get("familyName")]
        .into_iter()
        .filter_map(text)
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn member_display_prefers_human_names() {
        let d = |v: Value| {
            promote(ResourceKind::User, v.as_object().unwrap())
                .map(|p| p.display)
                .unwrap()
        };
        assert_eq!(
            d(
                json!({"userName": "u@x", "displayName": "Ann Lee", "name": {"formatted": "Dr Ann"}})
            ),
            "Ann Lee"
        );
        assert_eq!(
            d(json!({"userName": "u@x", "name": {"formatted": "Dr Ann Lee"}})),
            "Dr Ann Lee"
        );
        assert_eq!(
            d(json!({"userName": "u@x", "name": {"givenName": "Ann", "familyName": "Lee"}})),
            "Ann Lee"
        );
        assert_eq!(
            d(json!({"userName": "u@x", "name": {"familyName": "Lee"}})),
            "Lee"
        );
        assert_eq!(d(json!({"userName": "u@x", "displayName": " "})), "u@x");
    }
}

//! Resolving attribute paths (`name.givenName`, `urn:…:User:manager.value`) against a
//! resource type, and finding where a resolved attribute lives in a resource's JSON.

use crate::filter::AttrPath;
use crate::schema::{Attribute, COMMON_ATTRIBUTES, ResourceType, Schema};
use serde_json::{Map, Value};

/// Where an attribute lives: at the top level (core and common attributes) or inside the
/// object keyed by an extension's URN.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    pub extension: Option<&'static Schema>,
    pub attr: &'static Attribute,
    pub sub: Option<&'static Attribute>,
}

impl Resolved {
    /// The attribute the path ends at (the sub-attribute if there is one).
    pub fn leaf(&self) -> &'static Attribute {
        self.sub.unwrap_or(self.attr)
    }

    /// Whether this is a user's `groups` or a group's `members`: memberships, which stores keep in
    /// their own table and filter by `value` (the id on the other side) only.
    pub fn is_membership(&self, rt: &ResourceType) -> bool {
        use crate::schema::ResourceKind;
        self.extension.is_none()
            && matches!(
                (rt.kind, self.attr.name),
                (ResourceKind::User, "groups") | (ResourceKind::Group, "members")
            )
    }

    /// Whether this is one of `id`, `externalId`, `meta`.
    pub fn is_common(&self) -> bool {
        self.extension.is_none() && COMMON_ATTRIBUTES.iter().any(|a| std::ptr::eq(a, self.attr))
    }

    /// Dotted name for messages, with the extension URN where there is one.
    pub fn display_name(&self) -> String {
        let mut s = String::new();
        if let Some(ext) = self.extension {
            s.push_str(ext.id);
            s.push(':');
        }
        s.push_str(self.attr.name);
        if let Some(sub) = self.sub {
            s.push('.');
            s.push_str(sub.name);
        }
        s
    }
}

/// What a path names.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Attr(Resolved),
    /// A whole extension object (`urn:…:enterprise:2.0:User`).
    ExtensionRoot(&'static Schema),
}

/// Resolves `path` against `rt`; `None` when the attribute is not defined by its schemas.
pub fn resolve(rt: &ResourceType, path: &AttrPath) -> Option<Target> {
    let (schema, is_core) = match &path.urn {
        Some(urn) => {
            let whole = format!("{urn}:{}", path.attr);
            if path.sub.is_none()
                && let Some(ext) = rt.extension(&whole)
            {
                return Some(Target::ExtensionRoot(ext));
            }
            let schema = rt.schema(urn)?;
            (Some(schema), std::ptr::eq(schema, rt.core))
        }
        None => (None, true),
    };
    let (extension, attr) = match schema {
        Some(s) if !is_core => (Some(s), s.attr(&path.attr)?),
        _ => match crate::schema::find(&COMMON_ATTRIBUTES, &path.attr)
            .or_else(|| rt.core.attr(&path.attr))
        {
            Some(a) => (None, a),
            // Lenient: an extension attribute named without its URN, when only one extension has it.
            None if schema.is_none() => {
                let mut found = rt
                    .extensions
                    .iter()
                    .filter_map(|s| s.attr(&path.attr).map(|a| (s, a)));
                let (s, a) = found.next()?;
                if found.next().is_some() {
                    return None;
                }
                (Some(*s), a)
            }
            None => return None,
        },
    };
    let sub = match &path.sub {
        Some(name) => Some(attr.sub(name)?),
        None => None,
    };
    Some(Target::Attr(Resolved {
        extension,
        attr,
        sub,
    }))
}

/// Resolves a path that must name an attribute (not an extension root).
pub fn resolve_attr(rt: &ResourceType, path: &AttrPath) -> Option<Resolved> {
    match resolve(rt, path)? {
        Target::Attr(r) => Some(r),
        Target::ExtensionRoot(_) => None,
    }
}

/// Case-insensitive key lookup; stored resources use canonical names, but unknown
/// attributes keep the case the client sent.
pub fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The key under which `key` is stored in `obj`, ignoring case.
pub fn key_ci(obj: &Map<String, Value>, key: &str) -> Option<String> {
    if obj.contains_key(key) {
        return Some(key.to_string());
    }
    obj.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

/// The object that holds `r.attr` in `resource` (the resource itself or an extension object).
pub fn container<'a>(
    resource: &'a Map<String, Value>,
    r: &Resolved,
) -> Option<&'a Map<String, Value>> {
    match r.extension {
        None => Some(resource),
        Some(ext) => resource.get(ext.id)?.as_object(),
    }
}

/// Mutable container; creates the extension object when `create` is set.
pub fn container_mut<'a>(
    resource: &'a mut Map<String, Value>,
    r: &Resolved,
    create: bool,
) -> Option<&'a mut Map<String, Value>> {
    match r.extension {
        None => Some(resource),
        Some(ext) => {
            if create && !resource.contains_key(ext.id) {
                resource.insert(ext.id.to_string(), Value::Object(Map::new()));
            }
            resource.get_mut(ext.id)?.as_object_mut()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ResourceKind, ResourceType};

    fn path(s: &str) -> AttrPath {
        AttrPath::parse(s, 0).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn resolves_core_common_and_extension_paths() {
        let rt = ResourceType::of(ResourceKind::User);
        let r =
            resolve_attr(rt, &path("NAME.givenname")).unwrap_or_else(|| panic!("name.givenName"));
        assert_eq!(
            (r.attr.name, r.sub.map(|s| s.name)),
            ("name", Some("givenName"))
        );
        let r = resolve_attr(
            rt,
            &path("urn:ietf:params:scim:schemas:core:2.0:User:userName"),
        )
        .unwrap_or_else(|| panic!("urn userName"));
        assert!(r.extension.is_none() && r.attr.name == "userName");
        let r = resolve_attr(
            rt,
            &path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
        )
        .unwrap_or_else(|| panic!("manager"));
        assert!(r.extension.is_some() && r.attr.name == "manager");
        let r = resolve_attr(rt, &path("meta.lastModified")).unwrap_or_else(|| panic!("meta"));
        assert!(r.is_common());
        assert!(matches!(
            resolve(
                rt,
                &path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            ),
            Some(Target::ExtensionRoot(_))
        ));
        assert!(resolve(rt, &path("nosuch")).is_none());
        assert!(resolve(rt, &path("name.nosuch")).is_none());
        let r =
            resolve_attr(rt, &path("department")).unwrap_or_else(|| panic!("bare extension attr"));
        assert!(r.extension.is_some());
    }
}

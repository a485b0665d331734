//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9), applied to rendered
//! resources, and asked in advance (`wants`) so stores skip work nobody asked for, such as
//! loading a large group's members.

use crate::filter::AttrPath;
use crate::resolve::{Target, resolve};
use crate::schema::{ResourceType, Returned};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Sel {
    /// Extension URN, when the attribute lives in one.
    ext: Option<String>,
    /// Top-level (or extension) attribute name; `None` selects the whole extension.
    attr: Option<String>,
    sub: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    include: Option<Vec<Sel>>,
    exclude: Vec<Sel>,
}

impl Projection {
    /// Parses the two comma-separated lists. Names are matched case-insensitively; a value
    /// filter in a name (`emails[type eq "work"]`, which Microsoft's tests send) selects the
    /// attribute; names that no schema defines select nothing.
    pub fn parse(
        rt: &ResourceType,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Projection {
        let list = |s: Option<&str>| -> Vec<Sel> {
            s.map(|s| {
                split_list(s)
                    .iter()
                    .filter_map(|item| sel(rt, item))
                    .collect()
            })
            .unwrap_or_default()
        };
        let include = attributes
            .filter(|s| !s.trim().is_empty())
            .map(|s| list(Some(s)));
        Projection {
            include,
            exclude: list(excluded),
        }
    }

    /// Whether the top-level core attribute `name` will be in the output.
    pub fn wants(&self, name: &str) -> bool {
        let is = |s: &Sel| {
            s.ext.is_none()
                && s.attr
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(name))
        };
        match &self.include {
            Some(list) => list.iter().any(is),
            None => !self.exclude.iter().any(|s| is(s) && s.sub.is_none()),
        }
    }

    pub fn is_default(&self) -> bool {
        self.include.is_none() && self.exclude.is_empty()
    }

    /// Whether this projection only excludes whole top-level core attributes among `names`
    /// (none at all is the default projection): a resource whose document holds none of
    /// them, such as a group asked with `excludedAttributes=members`, is then answered as stored.
    pub fn excludes_only(&self, names: &[&str]) -> bool {
        self.include.is_none()
            && self.exclude.iter().all(|s| {
                s.ext.is_none()
                    && s.sub.is_none()
                    && s.attr
                        .as_deref()
                        .is_some_and(|a| names.iter().any(|n| n.eq_ignore_ascii_case(a)))
            })
    }

    /// Which top-level attributes the answer keeps, when this projection keeps or drops each
    /// one whole: `attributes` naming only top-level attributes or whole extensions, or no
    /// `attributes` and `excludedAttributes` naming at most `apart` (what the store keeps out
    /// of the document, and does not load when it is excluded). The answer can then be written
    /// from the stored text attribute by attribute ([`crate::resource::render_text`]); `None`
    /// when some attribute is cut into.
    pub fn whole<'a>(&'a self, rt: &'a ResourceType, apart: &[&str]) -> Option<Whole<'a>> {
        match &self.include {
            None => self
                .excludes_only(apart)
                .then_some(Whole { rt, list: None }),
            Some(list) => list
                .iter()
                .all(|s| s.sub.is_none() && (s.ext.is_none() || s.attr.is_none()))
                .then_some(Whole {
                    rt,
                    list: Some(list),
                }),
        }
    }

    pub fn apply(&self, rt: &ResourceType, resource: &mut Value) {
        let Some(obj) = resource.as_object_mut() else {
            return;
        };
        if let Some(list) = &self.include {
            // Values move into the answer rather than being copied: a group's 100k members
            // asked for by `attributes=members` were held twice.
            let mut out = Map::new();
            for (k, v) in std::mem::take(obj) {
                if k == "schemas" || always(rt, &k) {
                    out.insert(k, v);
                    continue;
                }
                let sels: Vec<&Sel> = list.iter().filter(|s| selects_key(s, &k)).collect();
                if sels.is_empty() {
                    continue;
                }
                if rt.extension(&k).is_some() {
                    if sels.iter().any(|s| s.attr.is_none()) {
                        out.insert(k, v);
                    } else if let Value::Object(ext) = v {
                        let mut keep = Map::new();
                        for (ek, ev) in ext {
                            let inner: Vec<&Sel> = sels
                                .iter()
                                .copied()
                                .filter(|s| {
                                    s.attr
                                        .as_deref()
                                        .is_some_and(|a| a.eq_ignore_ascii_case(&ek))
                                })
                                .collect();
                            if let Some(pv) = pick(ev, &inner) {
                                keep.insert(ek, pv);
                            }
                        }
                        if !keep.is_empty() {
                            out.insert(k, Value::Object(keep));
                        }
                    }
                    continue;
                }
                if let Some(pv) = pick(v, &sels) {
                    out.insert(k, pv);
                }
            }
            *obj = out;
        } else {
            for s in &self.exclude {
                match (&s.ext, &s.attr) {
                    (Some(ext), None) => {
                        obj.remove(ext);
                    }
                    (Some(ext), Some(a)) => {
                        if let Some(e) = obj.get_mut(ext).and_then(Value::as_object_mut) {
                            drop_attr(e, a, s.sub.as_deref());
                            if e.is_empty() {
                                obj.remove(ext);
                            }
                        }
                    }
                    (None, Some(a)) if !always(rt, a) => drop_attr(obj, a, s.sub.as_deref()),
                    _ => {}
                }
            }
        }
        // `schemas` lists only the extensions still present.
        let present: Vec<String> = rt
            .extensions
            .iter()
            .filter(|e| obj.contains_key(e.id))
            .map(|e| e.id.to_string())
            .collect();
        if let Some(Value::Array(schemas)) = obj.get_mut("schemas") {
            schemas.retain(|s| {
                s.as_str()
                    .is_some_and(|s| rt.extension(s).is_none() || present.iter().any(|p| p == s))
            });
        }
    }
}

/// What [`Projection::whole`] keeps.
pub struct Whole<'a> {
    rt: &'a ResourceType,
    /// The `attributes` list; `None` keeps everything.
    list: Option<&'a [Sel]>,
}

impl Whole<'_> {
    /// Whether top-level attribute `key` (`meta` included) is in the answer, as
    /// [`Projection::apply`] decides it. Without an `attributes` list every key is kept: the
    /// attributes `excludedAttributes` may name here are not in stored documents and are not
    /// loaded when excluded, so they never reach the answer.
    pub fn keeps(&self, key: &str) -> bool {
        match self.list {
            None => true,
            Some(list) => {
                key == "schemas" || always(self.rt, key) || list.iter().any(|s| selects_key(s, key))
            }
        }
    }
}

/// `id` is always returned (RFC 7643 §3.1); so is anything else a schema marks `always`.
fn always(rt: &ResourceType, key: &str) -> bool {
    key == "id"
        || rt
            .core
            .attr(key)
            .is_some_and(|a| a.returned == Returned::Always)
}

fn selects_key(s: &Sel, key: &str) -> bool {
    match &s.ext {
        Some(ext) => ext.eq_ignore_ascii_case(key),
        None => s
            .attr
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(key)),
    }
}

/// The part of `v` the selections ask for: all of it, or only some sub-attributes.
fn pick(v: Value, sels: &[&Sel]) -> Option<Value> {
    if sels.is_empty() {
        return None;
    }
    if sels.iter().any(|s| s.sub.is_none()) {
        return Some(v);
    }
    let subs: Vec<&str> = sels.iter().filter_map(|s| s.sub.as_deref()).collect();
    let keep = |o: Map<String, Value>| -> Option<Value> {
        let m: Map<String, Value> = o
            .into_iter()
            .filter(|(k, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(k)))
            .collect();
        (!m.is_empty()).then_some(Value::Object(m))
    };
    match v {
        Value::Object(o) => keep(o),
        Value::Array(items) => {
            let out: Vec<Value> = items
                .into_iter()
                .filter_map(|i| match i {
                    Value::Object(o) => keep(o),
                    _ => None,
                })
                .collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        _ => None,
    }
}

fn drop_attr(obj: &mut Map<String, Value>, attr: &str, sub: Option<&str>) {
    let Some(key) = crate::resolve::key_ci(obj, attr) else {
        return;
    };
    match sub {
        None => {
            obj.remove(&key);
        }
        Some(sub) => {
            let strip = |o: &mut Map<String, Value>| {
                if let Some(k) = crate::resolve::key_ci(o, sub) {
                    o.remove(&k);
                }
            };
            match obj.get_mut(&key) {
                Some(Value::Object(o)) => strip(o),
                Some(Value::Array(items)) => items
                    .iter_mut()
                    .filter_map(Value::as_object_mut)
                    .for_each(strip),
                _ => {}
            }
        }
    }
}

/// Splits on commas that are not inside a value filter's brackets or quotes.
fn split_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut depth, mut quoted) = (0usize, false);
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn sel(rt: &ResourceType, item: &str) -> Option<Sel> {
    // `emails[type eq "work"].value` → `emails.value`.
    let name = match (item.find('['), item.rfind(']')) {
        (Some(a), Some(b)) if b > a => format!("{}{}", &item[..a], &item[b + 1..]),
        _ => item.to_string(),
    };
    let path = AttrPath::parse(&name, 0).ok()?;
    Some(match resolve(rt, &path) {
        Some(Target::ExtensionRoot(ext)) => Sel {
            ext: Some(ext.id.to_string()),
            attr: None,
            sub: None,
        },
        Some(Target::Attr(r)) => Sel {
            ext: r.extension.map(|e| e.id.to_string()),
            attr: Some(r.attr.name.to_string()),
            sub: r.sub.map(|s| s.name.to_string()),
        },
        // Unknown (kept) attributes can be selected by the name they were sent with.
        None if path.urn.is_none() => Sel {
            ext: None,
            attr: Some(path.attr),
            sub: path.sub,
        },
        None => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ResourceKind, ResourceType};
    use serde_json::json;

    fn user_json() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "1", "userName": "a", "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"value": "x", "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "D", "costCenter": "C"},
            "meta": {"resourceType": "User"}
        })
    }

    fn project(a: Option<&str>, e: Option<&str>) -> Value {
        let rt = ResourceType::of(ResourceKind::User);
        let mut v = user_json();
        Projection::parse(rt, a, e).apply(rt, &mut v);
        v
    }

    #[test]
    fn excludes_only_names_whole_top_level_attributes_among_those_given() {
        let g = ResourceType::of(ResourceKind::Group);
        let members = ["members"];
        let parse = |a: Option<&str>, e: Option<&str>| Projection::parse(g, a, e);
        assert!(parse(None, None).excludes_only(&members));
        assert!(parse(None, Some("MEMBERS")).excludes_only(&members));
        // Attributes no schema defines are kept in documents as sent, so they may be stored.
        assert!(!parse(None, Some("members,notAnAttribute")).excludes_only(&members));
        assert!(!parse(None, Some("members.display")).excludes_only(&members));
        assert!(!parse(None, Some("members,displayName")).excludes_only(&members));
        assert!(!parse(Some("displayName"), None).excludes_only(&members));
        assert!(!parse(None, Some("members")).excludes_only(&[]));
    }

    #[test]
    fn include() {
        assert_eq!(
            project(Some("userName,NAME.givenName"), None),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "userName": "a", "name": {"givenName": "A"}})
        );
        let v = project(
            Some(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,emails[type eq \"work\"]",
            ),
            None,
        );
        assert_eq!(
            v["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            json!({"department": "D"})
        );
        assert_eq!(v["emails"], json!([{"value": "x", "type": "work"}]));
        assert!(v.get("userName").is_none());
    }

    #[test]
    fn exclude() {
        let v = project(
            None,
            Some(
                "emails,name.familyName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,id",
            ),
        );
        assert_eq!(v["id"], json!("1"));
        assert!(v.get("emails").is_none());
        assert_eq!(v["name"], json!({"givenName": "A"}));
        assert_eq!(
            v["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
        );
    }

    #[test]
    fn wants_members() {
        let g = ResourceType::of(ResourceKind::Group);
        assert!(Projection::parse(g, None, None).wants("members"));
        assert!(!Projection::parse(g, None, Some("members")).wants("members"));
        assert!(!Projection::parse(g, Some("displayName"), None).wants("members"));
        assert!(Projection::parse(g, Some("members.value"), None).wants("members"));
    }
}

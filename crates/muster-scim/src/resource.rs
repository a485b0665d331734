//! Turning what a client sends into muster's canonical resource JSON, and back.
//!
//! Canonical form: known attributes under their schema names (case-insensitive input), values
//! coerced to their declared types (Entra's `"True"`/`"False"` strings become booleans), read-only
//! and write-only attributes dropped, unassigned values removed, extension attributes under their
//! URN, unknown attributes kept as sent (product rules 7 and 14). `id`, `meta` and `schemas` are
//! not part of it: the server renders them.

use crate::error::{ScimError, ScimResult};
use crate::schema::{AttrType, Attribute, COMMON_ATTRIBUTES, Mutability, ResourceType};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Folds a string for case-insensitive comparison. The one definition used on write (shadow
/// columns, search JSON) and on read (filter values), so both always agree.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Normalises a full resource body (POST/PUT). Checks `schemas` when present and required
/// attributes.
pub fn normalize(rt: &ResourceType, input: &Value) -> ScimResult<Map<String, Value>> {
    let Some(obj) = input.as_object() else {
        return Err(ScimError::invalid_syntax(
            "the request body must be a JSON object",
        ));
    };
    if let Some(schemas) = crate::resolve::get_ci(obj, "schemas") {
        check_schemas(rt, schemas)?;
    }
    let mut out = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = rt.extension(key) {
            let Some(ext_obj) = value.as_object() else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::invalid_value(format!(
                    "'{}' must be a JSON object",
                    ext.id
                )));
            };
            let mut norm = Map::new();
            for (k, v) in ext_obj {
                put_attribute(&ext.attributes, k, v, &mut norm)?;
            }
            merge_extension(&mut out, ext.id, norm);
            continue;
        }
        // A flat extension key such as "urn:…:enterprise:2.0:User:department".
        if let Some((schema, rest)) = rt.split_urn(key)
            && !rest.is_empty()
        {
            if std::ptr::eq(schema, rt.core) {
                put_attribute(&rt.core.attributes, rest, value, &mut out)?;
            } else {
                let mut norm = Map::new();
                put_attribute(&schema.attributes, rest, value, &mut norm)?;
                merge_extension(&mut out, schema.id, norm);
            }
            continue;
        }
        if let Some(common) = crate::schema::find(&COMMON_ATTRIBUTES, key) {
            if common.mutability != Mutability::ReadOnly
                && let Some(v) = normalize_value(common, value)?
            {
                out.insert(common.name.to_string(), v);
            }
            continue;
        }
        put_attribute(&rt.core.attributes, key, value, &mut out)?;
    }
    check_required(rt, &out)?;
    Ok(out)
}

fn merge_extension(out: &mut Map<String, Value>, urn: &str, attrs: Map<String, Value>) {
    if attrs.is_empty() {
        return;
    }
    let entry = out
        .entry(urn.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(existing) = entry.as_object_mut() {
        existing.extend(attrs);
    }
}

/// `schemas` must include the resource type's core schema (product rule 14: extra URNs are fine).
fn check_schemas(rt: &ResourceType, schemas: &Value) -> ScimResult<()> {
    let list: Vec<&str> = match schemas {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => vec![s.as_str()],
        _ => {
            return Err(ScimError::invalid_syntax(
                "'schemas' must be an array of schema URNs",
            ));
        }
    };
    if list.iter().any(|s| s.eq_ignore_ascii_case(rt.core.id)) {
        Ok(())
    } else {
        Err(ScimError::invalid_value(format!(
            "'schemas' must include \"{}\"",
            rt.core.id
        )))
    }
}

/// Normalises `key: value` against `attrs` into `out`; unknown keys are kept as sent.
fn put_attribute(
    attrs: &[Attribute],
    key: &str,
    value: &Value,
    out: &mut Map<String, Value>,
) -> ScimResult<()> {
    // Dotted keys ("name.givenName") are accepted in bodies as in path-less PATCH values.
    if let Some((head, sub)) = key.split_once('.')
        && let Some(attr) = crate::schema::find(attrs, head)
        && attr.is_complex()
        && !attr.multi_valued
    {
        let mut wrapped = Map::new();
        wrapped.insert(sub.to_string(), value.clone());
        let norm = normalize_value(attr, &Value::Object(wrapped))?;
        if let Some(Value::Object(new)) = norm {
            let entry = out
                .entry(attr.name.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(existing) = entry.as_object_mut() {
                existing.extend(new);
            }
        }
        return Ok(());
    }
    match crate::schema::find(attrs, key) {
        Some(attr) => {
            if matches!(
                attr.mutability,
                Mutability::ReadOnly | Mutability::WriteOnly
            ) {
                // RFC 7644 §3.3: read-only values are ignored. Write-only values (password) are
                // accepted and not stored: muster never authenticates with SCIM passwords.
                return Ok(());
            }
            match normalize_value(attr, value)? {
                Some(v) => {
                    out.insert(attr.name.to_string(), v);
                }
                None => {
                    out.remove(attr.name);
                }
            }
        }
        None => {
            if !value.is_null() {
                out.insert(key.to_string(), value.clone());
            }
        }
    }
    Ok(())
}

/// Normalises one attribute's value; `None` means unassigned (null, empty array, empty object).
pub fn normalize_value(attr: &Attribute, value: &Value) -> ScimResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    if attr.multi_valued {
        let items: Vec<&Value> = match value {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let mut all: Vec<Value> = Vec::with_capacity(items.len());
        for item in items {
            if let Some(v) = normalize_single(attr, item)? {
                all.push(v);
            }
        }
        let mut out = distinct(all);
        fix_primary(&mut out);
        return Ok(if out.is_empty() {
            None
        } else {
            Some(Value::Array(out))
        });
    }
    if let Value::Array(a) = value {
        // A one-element array for a single-valued attribute: accept the element.
        return match a.as_slice() {
            [] => Ok(None),
            [one] => normalize_single(attr, one),
            _ => Err(ScimError::invalid_value(format!(
                "'{}' is single-valued but got an array",
                attr.name
            ))),
        };
    }
    normalize_single(attr, value)
}

/// `values` without repeats (JSON equality, objects compared regardless of key order), first
/// occurrences kept in order. Through a hash set, in linear time: a group's PUT or PATCH can
/// carry thousands of members, and comparing each with every one before it was quadratic
/// (a fifth of a 100-member PATCH's CPU).
pub fn distinct(values: Vec<Value>) -> Vec<Value> {
    if values.len() < 2 {
        return values;
    }
    let keep: Vec<bool> = {
        let mut seen = std::collections::HashSet::with_capacity(values.len());
        values.iter().map(|v| seen.insert(v)).collect()
    };
    values
        .into_iter()
        .zip(keep)
        .filter_map(|(v, keep)| keep.then_some(v))
        .collect()
}

/// RFC 7643 §2.4: "primary" is true for at most one value; the first one wins.
pub fn fix_primary(values: &mut [Value]) {
    let mut seen = false;
    for v in values.iter_mut() {
        if let Some(obj) = v.as_object_mut()
            && obj.get("primary").and_then(Value::as_bool) == Some(true)
        {
            if seen {
                obj.insert("primary".into(), Value::Bool(false));
            }
            seen = true;
        }
    }
}

fn normalize_single(attr: &Attribute, value: &Value) -> ScimResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    if attr.is_complex() {
        let obj = match value {
            Value::Object(o) => Cow::Borrowed(o),
            // A bare value for a complex attribute is its `value` sub-attribute (Entra sends the
            // enterprise manager as a string).
            Value::String(_) | Value::Number(_) | Value::Bool(_) if attr.sub("value").is_some() => {
                let mut m = Map::new();
                m.insert("value".into(), value.clone());
                Cow::Owned(m)
            }
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "'{}' must be a JSON object",
                    attr.name
                )));
            }
        };
        let mut out = Map::with_capacity(obj.len());
        for (k, v) in obj.iter() {
            match attr.sub(k) {
                Some(sub) => {
                    if matches!(sub.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
                        continue;
                    }
                    if let Some(v) = normalize_value(sub, v).map_err(|e| in_attr(e, attr))? {
                        out.insert(sub.name.to_string(), v);
                    }
                }
                None => {
                    if !v.is_null() {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        return Ok(if out.is_empty() {
            None
        } else {
            Some(Value::Object(out))
        });
    }
    simple_value(attr, value).map(Some)
}

fn in_attr(mut e: ScimError, parent: &Attribute) -> ScimError {
    e.detail = format!("{} (in '{}')", e.detail, parent.name);
    e
}

/// Coerces a simple value to the attribute's type, accepting what real clients send.
fn simple_value(attr: &Attribute, value: &Value) -> ScimResult<Value> {
    let wrong = |what: &str| ScimError::invalid_value(format!("'{}' must be {what}", attr.name));
    match attr.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(_) => Ok(value.clone()),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(wrong("a string")),
        },
        AttrType::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(wrong("a boolean")),
        },
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| wrong("an integer")),
            _ => Err(wrong("an integer")),
        },
        AttrType::Decimal => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| wrong("a number")),
            _ => Err(wrong("a number")),
        },
        AttrType::DateTime => match value {
            Value::String(s) if parse_datetime(s).is_some() => Ok(value.clone()),
            _ => Err(wrong("an xsd:dateTime such as \"2026-01-31T12:00:00Z\"")),
        },
        AttrType::Complex => Err(wrong("a JSON object")),
    }
}

/// Parses an RFC 3339 / xsd:dateTime value.
pub fn parse_datetime(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// Formats a timestamp the way muster writes `meta` dates (UTC, millisecond precision), so that
/// stored dates also sort as strings.
pub fn format_datetime(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// Required attributes of the core schema must be present (RFC 7643 §2.2).
pub fn check_required(rt: &ResourceType, resource: &Map<String, Value>) -> ScimResult<()> {
    for attr in rt.core.attributes.iter().filter(|a| a.required) {
        match resource.get(attr.name) {
            None => {
                return Err(ScimError::invalid_value(format!(
                    "'{}' is required",
                    attr.name
                )));
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(ScimError::invalid_value(format!(
                    "'{}' must not be empty",
                    attr.name
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A copy of `resource` in which every string of a case-insensitive attribute is folded:
/// what stores filter on, so `co`/`sw` on such attributes need no per-row lower-casing.
pub fn fold_for_search(rt: &ResourceType, resource: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in resource {
        if let Some(ext) = rt.extension(k) {
            if let Some(obj) = v.as_object() {
                let folded = obj
                    .iter()
                    .map(|(ek, ev)| (ek.clone(), fold_attr(ext.attr(ek), ev)))
                    .collect::<Map<_, _>>();
                out.insert(k.clone(), Value::Object(folded));
            }
            continue;
        }
        let attr = crate::schema::find(&COMMON_ATTRIBUTES, k).or_else(|| rt.core.attr(k));
        out.insert(k.clone(), fold_attr(attr, v));
    }
    out
}

fn fold_attr(attr: Option<&Attribute>, v: &Value) -> Value {
    let Some(attr) = attr else { return v.clone() };
    match v {
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| fold_attr(Some(attr), i)).collect())
        }
        Value::Object(obj) if attr.is_complex() => Value::Object(
            obj.iter()
                .map(|(k, sv)| (k.clone(), fold_attr(attr.sub(k), sv)))
                .collect(),
        ),
        Value::String(s) if !attr.case_exact && attr.ty == AttrType::String => {
            Value::String(fold(s))
        }
        other => other.clone(),
    }
}

/// Server-owned metadata of a stored resource.
#[derive(Debug, Clone)]
pub struct Meta {
    pub created: String,
    pub last_modified: String,
    pub version: i64,
    pub location: String,
}

impl Meta {
    /// The weak ETag of `version` (RFC 7644 §3.14).
    pub fn etag(&self) -> String {
        etag(self.version)
    }
}

pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The full SCIM representation: `schemas`, `id`, the attributes, then `meta`.
pub fn render(rt: &ResourceType, id: &str, resource: &Map<String, Value>, meta: &Meta) -> Value {
    render_owned(rt, id, resource.clone(), meta)
}

/// [`render`], consuming the attributes (no copy of the document on the hot path): `schemas`
/// and `id` are shifted in front of the stored attributes in their own map, not the attributes
/// re-inserted into a new one (hashing every key again was a tenth of a list page's CPU).
pub fn render_owned(
    rt: &ResourceType,
    id: &str,
    resource: Map<String, Value>,
    meta: &Meta,
) -> Value {
    let mut schemas = vec![Value::String(rt.core.id.to_string())];
    for ext in &rt.extensions {
        if resource.contains_key(ext.id) {
            schemas.push(Value::String(ext.id.to_string()));
        }
    }
    let mut out = resource;
    out.shift_insert(0, "schemas".into(), Value::Array(schemas));
    out.shift_insert(1, "id".into(), Value::String(id.to_string()));
    let mut m = Map::new();
    m.insert("resourceType".into(), Value::String(rt.name.to_string()));
    m.insert("created".into(), Value::String(meta.created.clone()));
    m.insert(
        "lastModified".into(),
        Value::String(meta.last_modified.clone()),
    );
    m.insert("location".into(), Value::String(meta.location.clone()));
    m.insert("version".into(), Value::String(meta.etag()));
    out.shift_remove("meta");
    out.insert("meta".into(), Value::Object(m));
    Value::Object(out)
}

/// [`render_owned`] of a document given as the JSON text it is stored as, written as text
/// without building its values: the top-level attributes are copied through as they are.
/// `extra` are the attributes a store keeps apart (a group's `members`, a user's `groups`),
/// each as its JSON text, placed as rendering inserts them: in the place of a stored key of the
/// same name, else after the stored attributes, before `meta`. `keeps` says which top-level
/// attributes (`meta` included) the answer has ([`crate::projection::Whole::keeps`]). The same
/// text as serialising [`render_owned`]'s value (projected), for a document serde_json wrote
/// (muster stores only those); a GET's parse, render and serialisation were a fifth of its
/// instructions.
pub fn render_text(
    rt: &ResourceType,
    id: &str,
    stored: &str,
    meta: &Meta,
    extra: &[(&str, String)],
    keeps: &dyn Fn(&str) -> bool,
) -> serde_json::Result<String> {
    let attrs = TopLevel::parse(stored)?;
    let extra_len: usize = extra.iter().map(|(_, v)| v.len()).sum();
    let mut out: Vec<u8> = Vec::with_capacity(stored.len() + 320 + extra_len);
    out.extend_from_slice(b"{\"schemas\":[");
    serde_json::to_writer(&mut out, rt.core.id)?;
    for ext in &rt.extensions {
        if keeps(ext.id) && attrs.0.iter().any(|(k, _)| k.0 == ext.id) {
            out.push(b',');
            serde_json::to_writer(&mut out, ext.id)?;
        }
    }
    out.extend_from_slice(b"],\"id\":");
    serde_json::to_writer(&mut out, id)?;
    let mut placed = vec![false; extra.len()];
    for (key, v) in &attrs.0 {
        let k: &str = &key.0;
        if k == "schemas" || k == "id" || k == "meta" {
            continue;
        }
        let apart = extra.iter().position(|(name, _)| *name == k);
        if let Some(i) = apart {
            placed[i] = true;
        }
        if !keeps(k) {
            continue;
        }
        out.push(b',');
        push_key(&mut out, key)?;
        out.push(b':');
        match apart {
            Some(i) => out.extend_from_slice(extra[i].1.as_bytes()),
            None => out.extend_from_slice(v.get().as_bytes()),
        }
    }
    for ((name, v), placed) in extra.iter().zip(placed) {
        if !placed && keeps(name) {
            out.push(b',');
            serde_json::to_writer(&mut out, name)?;
            out.push(b':');
            out.extend_from_slice(v.as_bytes());
        }
    }
    if !keeps("meta") {
        out.push(b'}');
        // Only serde_json's output and slices of the (UTF-8) stored text went in.
        return String::from_utf8(out).map_err(serde::de::Error::custom);
    }
    out.extend_from_slice(b",\"meta\":{\"resourceType\":");
    serde_json::to_writer(&mut out, rt.name)?;
    out.extend_from_slice(b",\"created\":");
    serde_json::to_writer(&mut out, &meta.created)?;
    out.extend_from_slice(b",\"lastModified\":");
    serde_json::to_writer(&mut out, &meta.last_modified)?;
    out.extend_from_slice(b",\"location\":");
    serde_json::to_writer(&mut out, &meta.location)?;
    // The weak ETag `W/"<version>"` as a JSON string, written without building it.
    out.extend_from_slice(b",\"version\":\"W/\\\"");
    std::io::Write::write_fmt(&mut out, format_args!("{}", meta.version))
        .map_err(serde_json::Error::io)?;
    out.extend_from_slice(b"\\\"\"}}");
    // Only serde_json's output and slices of the (UTF-8) stored text went in.
    String::from_utf8(out).map_err(serde::de::Error::custom)
}

/// The string at top-level `key` of a stored document's text, read without building the rest.
pub fn stored_string(stored: &str, key: &str) -> Option<String> {
    let attrs = TopLevel::parse(stored).ok()?;
    let (_, v) = attrs.0.into_iter().find(|(k, _)| k.0 == key)?;
    serde_json::from_str(v.get()).ok()
}

/// A key of a stored document's text, borrowed from it when written there without escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// `key` as a JSON string. One borrowed from the text had no escapes there, so it holds no
/// quote, backslash or control character (JSON text cannot) and is written as it is; serde_json
/// would escape nothing else.
fn push_key(out: &mut Vec<u8>, key: &Key) -> serde_json::Result<()> {
    match &key.0 {
        Cow::Borrowed(k) => {
            out.push(b'"');
            out.extend_from_slice(k.as_bytes());
            out.push(b'"');
            Ok(())
        }
        Cow::Owned(k) => serde_json::to_writer(out, k),
    }
}

/// A JSON object's top-level members in order, each value left as its text.
struct TopLevel<'a>(Vec<(Key<'a>, &'a serde_json::value::RawValue)>);

impl<'a> TopLevel<'a> {
    fn parse(text: &'a str) -> serde_json::Result<TopLevel<'a>> {
        serde_json::from_str(text)
    }
}

impl<'de> serde::Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = TopLevel<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(Key<'de>, &'de serde_json::value::RawValue)> =
                    Vec::with_capacity(m.size_hint().unwrap_or(8));
                // Stored documents are serialised maps: no key repeats.
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(TopLevel(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ResourceKind;
    use serde_json::json;

    fn user() -> &'static ResourceType {
        ResourceType::of(ResourceKind::User)
    }

    #[test]
    fn renders_schemas_and_id_first_the_attributes_in_order_and_meta_last() {
        let mut stored = Map::new();
        stored.insert("userName".into(), json!("ann"));
        stored.insert(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into(),
            json!({"department": "R&D"}),
        );
        stored.insert("active".into(), json!(true));
        // Server-owned names in a stored document never win over the server's own.
        stored.insert("id".into(), json!("client-chosen"));
        stored.insert("meta".into(), json!({"created": "x"}));
        let meta = Meta {
            created: "2026-01-02T03:04:05.678Z".into(),
            last_modified: "2026-02-03T04:05:06.789Z".into(),
            version: 7,
            location: "https://example.com/scim/v2/Users/u1".into(),
        };
        let out = render(user(), "u1", &stored, &meta);
        let keys: Vec<&str> = out
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "schemas",
                "id",
                "userName",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "active",
                "meta"
            ]
        );
        assert_eq!(out["id"], "u1");
        assert_eq!(
            out["schemas"],
            json!([
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ])
        );
        assert_eq!(
            out["meta"],
            json!({
                "resourceType": "User",
                "created": "2026-01-02T03:04:05.678Z",
                "lastModified": "2026-02-03T04:05:06.789Z",
                "location": "https://example.com/scim/v2/Users/u1",
                "version": "W/\"7\""
            })
        );
    }

    #[test]
    fn canonicalises_names_types_and_extensions() {
        let input = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:x:custom"],
            "USERNAME": "Ann@Example.com",
            "Active": "False",
            "id": "client-chosen", "meta": {"created": "x"}, "password": "secret",
            "name": {"GivenName": "Ann", "familyname": null},
            "emails": {"value": "a@x", "primary": "true"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"Manager": "m-1", "department": "R&D"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": 42,
            "favouriteColour": "green",
            "groups": [{"value": "g"}]
        });
        let out = normalize(user(), &input).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Value::Object(out),
            json!({
                "userName": "Ann@Example.com",
                "active": false,
                "name": {"givenName": "Ann"},
                "emails": [{"value": "a@x", "primary": true}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                    {"manager": {"value": "m-1"}, "department": "R&D", "employeeNumber": "42"},
                "favouriteColour": "green"
            })
        );
    }

    #[test]
    fn refuses_what_cannot_be_meant() {
        let e = |v: Value| {
            normalize(user(), &v)
                .err()
                .map(|e| (e.status, e.detail))
                .unwrap_or_default()
        };
        assert_eq!(e(json!([])).0, 400);
        assert!(
            e(json!({"name": {"givenName": "x"}}))
                .1
                .contains("'userName' is required")
        );
        assert!(e(json!({"userName": ""})).1.contains("must not be empty"));
        assert!(
            e(json!({"userName": "a", "active": "maybe"}))
                .1
                .contains("'active' must be a boolean")
        );
        assert!(
            e(json!({"userName": "a", "name": "Ann"}))
                .1
                .contains("'name' must be a JSON object")
        );
        assert!(
            e(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "a"}))
                .1
                .contains("must include")
        );
    }

    #[test]
    fn only_the_first_primary_stays_primary() {
        let out = normalize(
            user(),
            &json!({"userName": "a", "emails": [{"value": "1", "primary": true}, {"value": "2", "primary": true}]}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["emails"][1]["primary"], json!(false));
    }

    #[test]
    fn folds_only_case_insensitive_strings() {
        let r = normalize(
            user(),
            &json!({"userName": "Ann", "externalId": "AbC", "emails": [{"value": "A@X"}]}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let f = fold_for_search(user(), &r);
        assert_eq!(f["userName"], json!("ann"));
        assert_eq!(f["externalId"], json!("AbC"));
        assert_eq!(f["emails"][0]["value"], json!("a@x"));
    }
}

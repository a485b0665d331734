//! RFC 7644 §3.5.2 PATCH, applied to a canonical resource in memory.
//!
//! Accepts both Entra dialects, Okta's and OneLogin's shapes (see `scim-clients.md`): ops in any
//! case, path-less values with dotted or URN keys, string booleans, `replace` on
//! `emails[type eq "work"].value` that adds the value when nothing matches, and member removal
//! with the ids in `value`. A group's `members` are never materialised here: operations on them
//! become [`MemberChange`]s that the store applies row by row, so a change to a group costs the
//! same whatever its size. All operations apply to a copy; the caller commits only on success.

use crate::error::{ScimError, ScimResult};
use crate::eval::{Scope, check, matches};
use crate::filter::{AttrPath, CompValue, CompareOp, Filter, PatchPath};
use crate::resolve::{Resolved, Target, container_mut, get_ci, key_ci, resolve};
use crate::resource::{check_required, fix_primary, normalize_value};
use crate::schema::{Attribute, Mutability, ResourceKind, ResourceType};
use serde_json::{Map, Value};
use std::borrow::Cow;

pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// A change to a group's member list, in request order.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// Add these members (normalised `{value, type?, $ref?}` objects); existing ones are kept.
    Add(Vec<Value>),
    /// Remove the members with these ids.
    Remove(Vec<String>),
    /// Remove the members matching a filter on `value`, `type`, `display` or `$ref`.
    RemoveMatching(Filter),
    RemoveAll,
    /// Replace the whole member list.
    Replace(Vec<Value>),
}

/// Parses a PatchOp body. An empty `Operations` list is accepted as a no-op: Microsoft's
/// SCIM Validator sends one first.
pub fn parse_request(body: &Value) -> ScimResult<Vec<Operation>> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the PATCH body must be a JSON object"))?;
    if let Some(schemas) = get_ci(obj, "schemas") {
        let ok = schemas.as_array().is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_SCHEMA))
            })
        });
        if !ok {
            return Err(ScimError::invalid_syntax(format!(
                "'schemas' must be [\"{PATCH_SCHEMA}\"]"
            )));
        }
    }
    let ops = match get_ci(obj, "Operations") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ScimError::invalid_syntax("'Operations' must be an array")),
        None => {
            return Err(ScimError::invalid_syntax(
                "the PATCH body has no 'Operations'",
            ));
        }
    };
    ops.iter()
        .enumerate()
        .map(|(i, o)| parse_operation(i, o))
        .collect()
}

fn parse_operation(i: usize, o: &Value) -> ScimResult<Operation> {
    let n = i + 1;
    let o = o
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax(format!("operation {n} must be a JSON object")))?;
    let op = match get_ci(o, "op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("add") => Op::Add,
        Some("remove") => Op::Remove,
        Some("replace") => Op::Replace,
        Some(other) => {
            return Err(ScimError::invalid_syntax(format!(
                "operation {n}: '{other}' is not an op (expected add, remove or replace)"
            )));
        }
        None => {
            return Err(ScimError::invalid_syntax(format!(
                "operation {n} has no 'op'"
            )));
        }
    };
    let path = match get_ci(o, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(PatchPath::parse(s.trim()).map_err(|mut e| {
            e.detail = format!("operation {n}: {}", e.detail);
            e
        })?),
        Some(_) => {
            return Err(ScimError::invalid_path(format!(
                "operation {n}: 'path' must be a string"
            )));
        }
    };
    let value = get_ci(o, "value").cloned();
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::invalid_syntax(
            format!("operation {n} ({op:?}) needs a 'value'").to_lowercase(),
        ));
    }
    Ok(Operation { op, path, value })
}

/// The outcome of applying a PATCH.
#[derive(Debug, Clone, PartialEq)]
pub struct Patched {
    pub resource: Map<String, Value>,
    pub members: Vec<MemberChange>,
}

/// Applies `ops` to a copy of `resource` (canonical form, without members for groups).
pub fn apply(
    rt: &ResourceType,
    resource: &Map<String, Value>,
    ops: &[Operation],
) -> ScimResult<Patched> {
    let mut engine = Engine {
        rt,
        res: resource.clone(),
        members: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        engine.operation(op).map_err(|mut e| {
            if ops.len() > 1 {
                e.detail = format!("operation {}: {}", i + 1, e.detail);
            }
            e
        })?;
    }
    engine.res.retain(|_, v| !is_empty(v));
    check_required(rt, &engine.res)?;
    Ok(Patched {
        resource: engine.res,
        members: engine.members,
    })
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

struct Engine<'a> {
    rt: &'a ResourceType,
    res: Map<String, Value>,
    members: Vec<MemberChange>,
}

impl Engine<'_> {
    fn operation(&mut self, o: &Operation) -> ScimResult<()> {
        let value = o.value.as_ref();
        let Some(path) = &o.path else {
            if o.op == Op::Remove {
                return Err(ScimError::no_target("'remove' needs a 'path'"));
            }
            return self.pathless(o.op, value.unwrap_or(&Value::Null));
        };
        match resolve(self.rt, &path.path) {
            Some(Target::ExtensionRoot(ext)) => {
                if path.filter.is_some() || path.sub_after_filter.is_some() {
                    return Err(ScimError::invalid_path(format!(
                        "'{path}' is not a valid path"
                    )));
                }
                match o.op {
                    Op::Remove => {
                        self.res.remove(ext.id);
                        Ok(())
                    }
                    _ => {
                        let obj = value.and_then(Value::as_object).ok_or_else(|| {
                            ScimError::invalid_value(format!(
                                "the value for '{}' must be a JSON object",
                                ext.id
                            ))
                        })?;
                        for (k, v) in obj {
                            match ext.attr(k) {
                                Some(attr) => {
                                    let r = Resolved {
                                        extension: Some(ext),
                                        attr,
                                        sub: None,
                                    };
                                    self.attribute(o.op, r, None, Some(v), false)?;
                                }
                                None => self.unknown(o.op, k, Some(v), Some(ext.id))?,
                            }
                        }
                        Ok(())
                    }
                }
            }
            Some(Target::Attr(mut r)) => {
                if let Some(sub) = &path.sub_after_filter {
                    r.sub = Some(r.attr.sub(sub).ok_or_else(|| {
                        ScimError::invalid_path(format!(
                            "'{}' has no sub-attribute '{sub}'",
                            r.attr.name
                        ))
                    })?);
                }
                self.attribute(o.op, r, path.filter.as_ref(), value, true)
            }
            None => {
                if path.filter.is_some()
                    || path.sub_after_filter.is_some()
                    || path.path.sub.is_some()
                {
                    return Err(ScimError::no_target(format!(
                        "'{}' is not an attribute of a {}",
                        path.path, self.rt.name
                    )));
                }
                // Unknown attributes are kept (product rule 7); a URN prefix of an unknown schema
                // stays part of the name.
                self.unknown_key(o.op, &path.path.to_string(), value)
            }
        }
    }

    /// `{"op":"replace","value":{"active":false,"name.givenName":"A","urn:…:User:department":"x"}}`.
    fn pathless(&mut self, op: Op, value: &Value) -> ScimResult<()> {
        let obj = value.as_object().ok_or_else(|| {
            ScimError::invalid_value(
                "an operation without 'path' needs a JSON object as its 'value'",
            )
        })?;
        for (k, v) in obj {
            if k.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(ext) = self.rt.extension(k) {
                let path = Operation {
                    op,
                    path: Some(PatchPath {
                        path: AttrPath::parse(ext.id, 0)?,
                        filter: None,
                        sub_after_filter: None,
                    }),
                    value: Some(v.clone()),
                };
                self.operation(&path)?;
                continue;
            }
            let target = AttrPath::parse(k, 0)
                .ok()
                .and_then(|p| resolve(self.rt, &p));
            match target {
                Some(Target::Attr(r)) => {
                    // Clients resend read-only attributes (Okta's rename carries `id`): ignore them.
                    if r.attr.mutability == Mutability::ReadOnly
                        || r.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
                    {
                        continue;
                    }
                    self.attribute(op, r, None, Some(v), false)?;
                }
                Some(Target::ExtensionRoot(_)) => {}
                None => self.unknown_key(op, k, Some(v))?,
            }
        }
        Ok(())
    }

    /// An unknown attribute lands where `resource::normalize` would put it: `urn:…:User:x` in
    /// that schema's container, `name.x` inside `name`, anything else as sent.
    fn unknown_key(&mut self, op: Op, key: &str, v: Option<&Value>) -> ScimResult<()> {
        if let Some((schema, rest)) = self.rt.split_urn(key)
            && !rest.is_empty()
        {
            let ext = (!std::ptr::eq(schema, self.rt.core)).then_some(schema.id);
            return self.unknown(op, rest, v, ext);
        }
        if let Some((head, sub)) = key.split_once('.')
            && let Some(attr) = self.rt.core.attr(head)
            && attr.is_complex()
            && !attr.multi_valued
        {
            let obj = self
                .res
                .entry(attr.name.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(obj) = obj.as_object_mut() {
                let k = key_ci(obj, sub).unwrap_or_else(|| sub.to_string());
                match v {
                    Some(v) if op != Op::Remove && !v.is_null() => {
                        obj.insert(k, v.clone());
                    }
                    _ => {
                        obj.remove(&k);
                    }
                }
            }
            return Ok(());
        }
        self.unknown(op, key, v, None)
    }

    fn unknown(
        &mut self,
        op: Op,
        key: &str,
        value: Option<&Value>,
        ext: Option<&str>,
    ) -> ScimResult<()> {
        let container = match ext {
            Some(urn) => {
                let e = self
                    .res
                    .entry(urn.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                match e.as_object_mut() {
                    Some(m) => m,
                    None => {
                        return Err(ScimError::invalid_value(format!(
                            "'{urn}' is not an object"
                        )));
                    }
                }
            }
            None => &mut self.res,
        };
        let existing = key_ci(container, key);
        match (op, value) {
            (Op::Remove, _) | (_, None | Some(Value::Null)) => {
                if let Some(k) = existing {
                    container.remove(&k);
                }
            }
            (_, Some(v)) => {
                let k = existing.unwrap_or_else(|| key.to_string());
                container.insert(k, v.clone());
            }
        }
        Ok(())
    }

    fn attribute(
        &mut self,
        op: Op,
        r: Resolved,
        filter: Option<&Filter>,
        value: Option<&Value>,
        explicit: bool,
    ) -> ScimResult<()> {
        let name = r.display_name();
        if explicit && r.attr.mutability == Mutability::ReadOnly {
            return Err(ScimError::mutability(format!("'{name}' is read-only")));
        }
        // Write-only values (password) are accepted and never stored: muster does not
        // authenticate with SCIM passwords, so keeping even a hash would only be a liability.
        if r.attr.mutability == Mutability::WriteOnly
            || r.sub.is_some_and(|s| s.mutability == Mutability::WriteOnly)
        {
            return Ok(());
        }
        if self.rt.kind == ResourceKind::Group && r.extension.is_none() && r.attr.name == "members"
        {
            return self.members(op, r, filter, value);
        }
        if let Some(sub) = r.sub
            && explicit
            && sub.mutability == Mutability::ReadOnly
        {
            return Err(ScimError::mutability(format!("'{name}' is read-only")));
        }
        if let Some(f) = filter {
            if !r.attr.multi_valued || !r.attr.is_complex() {
                return Err(ScimError::invalid_path(format!(
                    "'{}' is not a multi-valued complex attribute",
                    r.attr.name
                )));
            }
            check(Scope::Element(r.attr), f)?;
        }
        if op == Op::Remove && r.attr.required && r.sub.is_none() && filter.is_none() {
            return Err(ScimError::mutability(format!(
                "'{name}' is required and cannot be removed"
            )));
        }
        let create = op != Op::Remove;
        let Some(container) = container_mut(&mut self.res, &r, create) else {
            return Ok(());
        };
        let attr = r.attr;
        if !attr.multi_valued {
            if filter.is_some() {
                return Err(ScimError::invalid_path(format!(
                    "'{}' is not multi-valued",
                    attr.name
                )));
            }
            return single(container, op, attr, r.sub, value);
        }
        multi(container, op, attr, filter, r.sub, value)
    }

    fn members(
        &mut self,
        op: Op,
        r: Resolved,
        filter: Option<&Filter>,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        if r.sub.is_some() {
            return Err(ScimError::mutability(
                "a member's sub-attributes cannot be changed; remove the member and add it again",
            ));
        }
        let members_of = |v: Option<&Value>| -> ScimResult<Vec<Value>> {
            let v = match v {
                Some(v) if has_bare_ids(v) => Cow::Owned(normalize_member_values(v)),
                Some(v) => Cow::Borrowed(v),
                None => Cow::Owned(Value::Null),
            };
            Ok(match normalize_value(r.attr, &v)? {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            })
        };
        if let Some(f) = filter {
            check(Scope::Element(r.attr), f)?;
            let removal = match ids_of_value_filter(f) {
                Some(ids) => MemberChange::Remove(ids),
                None => MemberChange::RemoveMatching(f.clone()),
            };
            self.push_members(removal);
            if op != Op::Remove {
                // `replace members[value eq "x"]` with a value: the matching members give way to it.
                let add = members_of(value)?;
                if !add.is_empty() {
                    self.push_members(MemberChange::Add(add));
                }
            }
            return Ok(());
        }
        let change = match op {
            Op::Add => MemberChange::Add(members_of(value)?),
            Op::Replace => MemberChange::Replace(members_of(value)?),
            Op::Remove => {
                // Entra's default dialect names the members to remove in `value`; a remove
                // without a value empties the group (RFC 7644 §3.5.2.2).
                match value {
                    None | Some(Value::Null) => MemberChange::RemoveAll,
                    Some(v) => {
                        let ids: Vec<String> = members_of(Some(v))?
                            .iter()
                            .filter_map(|m| {
                                m.get("value").and_then(Value::as_str).map(str::to_string)
                            })
                            .collect();
                        if ids.is_empty() {
                            return Err(ScimError::invalid_value(
                                "the members to remove have no 'value'",
                            ));
                        }
                        MemberChange::Remove(ids)
                    }
                }
            }
        };
        self.push_members(change);
        Ok(())
    }

    /// Records a member change, folded into the previous one when both add or both remove by
    /// id: the outcome is the same, and a PATCH of 100 `remove members[value eq …]` operations
    /// (Okta's and Entra's shape) becomes one statement instead of 100.
    fn push_members(&mut self, change: MemberChange) {
        match (self.members.last_mut(), change) {
            (Some(MemberChange::Remove(ids)), MemberChange::Remove(more)) => ids.extend(more),
            (Some(MemberChange::Add(members)), MemberChange::Add(more)) => members.extend(more),
            (_, change) => self.members.push(change),
        }
    }
}

/// Whether `v` holds members given by bare id (strings), which [`normalize_member_values`]
/// wraps; lists of member objects, the usual case, are read as they are, not copied first.
fn has_bare_ids(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(has_bare_ids),
        Value::String(_) => true,
        _ => false,
    }
}

/// Microsoft's tests send a member as a bare id string; read it as `{"value": id}`.
fn normalize_member_values(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(normalize_member_values).collect()),
        Value::String(s) => serde_json::json!({ "value": s }),
        other => other.clone(),
    }
}

/// `value eq "a" or value eq "b"` → `["a", "b"]`: the common removal, done by id.
fn ids_of_value_filter(f: &Filter) -> Option<Vec<String>> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(s),
        } if path.urn.is_none()
            && path.sub.is_none()
            && path.attr.eq_ignore_ascii_case("value") =>
        {
            Some(vec![s.clone()])
        }
        Filter::Or(a, b) => {
            let mut ids = ids_of_value_filter(a)?;
            ids.extend(ids_of_value_filter(b)?);
            Some(ids)
        }
        _ => None,
    }
}

fn single(
    container: &mut Map<String, Value>,
    op: Op,
    attr: &Attribute,
    sub: Option<&Attribute>,
    value: Option<&Value>,
) -> ScimResult<()> {
    let key = attr.name;
    match (sub, op) {
        (None, Op::Remove) => {
            container.remove(key);
        }
        (None, _) => {
            let new = normalize_value(attr, value.unwrap_or(&Value::Null))?;
            if attr.mutability == Mutability::Immutable
                && let Some(old) = container.get(key)
                && Some(old) != new.as_ref()
            {
                return Err(ScimError::mutability(format!("'{key}' is immutable")));
            }
            match (new, container.get_mut(key)) {
                (None, _) => {
                    container.remove(key);
                }
                // A complex value merges into the existing one: unnamed sub-attributes stay.
                (Some(Value::Object(new)), Some(Value::Object(old))) => old.extend(new),
                (Some(v), _) => {
                    container.insert(key.to_string(), v);
                }
            }
        }
        (Some(sub), _) => {
            let obj = container
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(obj) = obj.as_object_mut() else {
                return Err(ScimError::invalid_value(format!(
                    "'{key}' is not an object"
                )));
            };
            set_sub(obj, op, sub, value)?;
            if obj.is_empty() {
                container.remove(key);
            }
        }
    }
    Ok(())
}

fn set_sub(
    obj: &mut Map<String, Value>,
    op: Op,
    sub: &Attribute,
    value: Option<&Value>,
) -> ScimResult<()> {
    let new = if op == Op::Remove {
        None
    } else {
        normalize_value(sub, value.unwrap_or(&Value::Null))?
    };
    match new {
        Some(v) => {
            obj.insert(sub.name.to_string(), v);
        }
        None => {
            obj.remove(sub.name);
        }
    }
    Ok(())
}

fn multi(
    container: &mut Map<String, Value>,
    op: Op,
    attr: &'static Attribute,
    filter: Option<&Filter>,
    sub: Option<&Attribute>,
    value: Option<&Value>,
) -> ScimResult<()> {
    let key = attr.name;
    let mut items: Vec<Value> = match container.remove(key) {
        Some(Value::Array(a)) => a,
        Some(other) => vec![other],
        None => Vec::new(),
    };
    let mut touched: Vec<usize> = Vec::new();
    match (filter, sub, op) {
        (None, None, Op::Add) => {
            if let Some(Value::Array(new)) = normalize_value(attr, value.unwrap_or(&Value::Null))? {
                for v in new {
                    match items.iter().position(|i| *i == v) {
                        Some(pos) => touched.push(pos),
                        None => {
                            items.push(v);
                            touched.push(items.len() - 1);
                        }
                    }
                }
            }
        }
        (None, None, Op::Replace) => {
            items = match normalize_value(attr, value.unwrap_or(&Value::Null))? {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
        }
        (None, None, Op::Remove) => match value {
            None | Some(Value::Null) => items.clear(),
            Some(v) => {
                let doomed = match normalize_value(attr, v)? {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                items.retain(|i| !doomed.iter().any(|d| same_value(attr, d, i)));
            }
        },
        (None, Some(sub), _) => {
            // `emails.value` without a filter addresses every value (or creates one to set).
            if items.is_empty() && op != Op::Remove {
                items.push(Value::Object(Map::new()));
            }
            for (i, item) in items.iter_mut().enumerate() {
                if let Some(obj) = item.as_object_mut() {
                    set_sub(obj, op, sub, value)?;
                    touched.push(i);
                }
            }
        }
        (Some(f), _, _) => {
            let mut hits = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if let Some(obj) = item.as_object()
                    && matches(Scope::Element(attr), f, obj)?
                {
                    hits.push(i);
                }
            }
            match (op, sub) {
                (Op::Remove, None) => {
                    let mut i = 0;
                    items.retain(|_| {
                        let keep = !hits.contains(&i);
                        i += 1;
                        keep
                    });
                }
                (Op::Remove, Some(sub)) => {
                    for &i in &hits {
                        if let Some(obj) = items[i].as_object_mut() {
                            obj.remove(sub.name);
                        }
                    }
                }
                (_, _) => {
                    if hits.is_empty() {
                        // Entra expects a replace whose filter matches nothing to add the value;
                        // that needs a filter that says what the new value is (`type eq "work"`).
                        let Some(seed) = seed_from_filter(f) else {
                            return Err(ScimError::no_target(format!(
                                "no value of '{key}' matches the filter"
                            )));
                        };
                        let seed = normalize_single_element(attr, Some(&Value::Object(seed)))?;
                        items.push(seed.unwrap_or_else(|| Value::Object(Map::new())));
                        hits.push(items.len() - 1);
                    }
                    for &i in &hits {
                        let Some(obj) = items[i].as_object_mut() else {
                            continue;
                        };
                        match sub {
                            Some(sub) => set_sub(obj, op, sub, value)?,
                            None => {
                                if let Some(Value::Object(new)) =
                                    normalize_single_element(attr, value)?
                                {
                                    obj.extend(new);
                                }
                            }
                        }
                        touched.push(i);
                    }
                }
            }
        }
    }
    items.retain(|v| !is_empty(v));
    // Values made equal by a change collapse into one, as on create.
    let mut unique: Vec<Value> = Vec::with_capacity(items.len());
    for v in items.drain(..) {
        if !unique.contains(&v) {
            unique.push(v);
        }
    }
    items = unique;
    // RFC 7644 §3.5.2: setting "primary" on one value clears it on the others.
    if let Some(&p) = touched.iter().find(|&&i| {
        items
            .get(i)
            .and_then(|v| v.get("primary"))
            .and_then(Value::as_bool)
            == Some(true)
    }) {
        for (i, v) in items.iter_mut().enumerate() {
            if i != p
                && let Some(obj) = v.as_object_mut()
                && obj.get("primary").and_then(Value::as_bool) == Some(true)
            {
                obj.insert("primary".into(), Value::Bool(false));
            }
        }
    }
    fix_primary(&mut items);
    if !items.is_empty() {
        container.insert(key.to_string(), Value::Array(items));
    }
    Ok(())
}

fn normalize_single_element(attr: &Attribute, value: Option<&Value>) -> ScimResult<Option<Value>> {
    match normalize_value(attr, value.unwrap_or(&Value::Null))? {
        Some(Value::Array(mut a)) if a.len() == 1 => Ok(a.pop()),
        Some(Value::Array(_)) => Err(ScimError::invalid_value(format!(
            "expected one value for '{}'",
            attr.name
        ))),
        other => Ok(other),
    }
}

/// Two values of a multi-valued attribute are the same value when their `value`s are equal
/// (or, without one, when they are equal as a whole).
fn same_value(attr: &Attribute, a: &Value, b: &Value) -> bool {
    if attr.is_complex()
        && let (Some(x), Some(y)) = (a.get("value"), b.get("value"))
    {
        return x == y;
    }
    a == b
}

/// `type eq "work" and primary eq true` → `{"type":"work","primary":true}`.
fn seed_from_filter(f: &Filter) -> Option<Map<String, Value>> {
    let mut m = Map::new();
    fn walk(f: &Filter, m: &mut Map<String, Value>) -> bool {
        match f {
            Filter::And(a, b) => walk(a, m) && walk(b, m),
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if path.sub.is_none() && path.urn.is_none() => {
                let v = match value {
                    CompValue::Str(s) => Value::String(s.clone()),
                    CompValue::Num(n) => Value::Number(n.clone()),
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Null => return false,
                };
                m.insert(path.attr.clone(), v);
                true
            }
            _ => false,
        }
    }
    if walk(f, &mut m) { Some(m) } else { None }
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;

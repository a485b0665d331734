//! The closed query language stores implement: a SCIM filter resolved against a resource
//! type into promoted columns, schema-validated JSON paths, membership tests and element
//! quantifiers. Nothing a client writes reaches SQL except as a bound value; an attribute the
//! schema does not define is a 400 here, before any store sees it.

use muster_scim::eval::{Operand, typed_operand};
use muster_scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use muster_scim::resolve::{Resolved, Target, resolve};
use muster_scim::schema::{AttrType, Attribute, ResourceKind, ResourceType};
use muster_scim::{ScimError, ScimResult};

/// Columns every store keeps next to the JSON document, with indexes where it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Id,
    ExternalId,
    /// `userName` (users) or `displayName` (groups), folded: the unique, indexed name.
    NameNorm,
    Active,
    Created,
    LastModified,
    /// A user's source or a group's kind ([`crate::model::Stored::class`]): never reachable
    /// from a client's filter, only added by muster (SCIM sees only the groups it manages).
    Class,
}

/// A path in the stored JSON document. `folded` selects the search copy in which strings of
/// case-insensitive attributes are folded, so comparisons there need no per-row lower-casing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    pub segments: Vec<String>,
    pub folded: bool,
    pub ty: AttrType,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Column(Column),
    Json(JsonPath),
    /// A sub-attribute of the current element inside [`Cond::Any`].
    Elem(JsonPath),
    /// The id on the other side of a membership, inside [`Cond::Membership`].
    MemberValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Const(bool),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    /// Never `Ne`: that is `Not(Eq)`, so absent values behave the same in SQL and in memory.
    Cmp {
        field: Field,
        op: CompareOp,
        value: Operand,
    },
    Present(Field),
    /// Some element of the JSON array at `array` satisfies `cond` (whose fields are `Elem`).
    Any {
        array: JsonPath,
        cond: Box<Cond>,
    },
    /// The group has this member id (`members.value eq "…"`): an index lookup.
    HasMember(String),
    /// The group has at least one member.
    HasMembers,
    /// The user is a direct member of this group id (`groups.value eq "…"`).
    InGroup(String),
    /// The user belongs to at least one group.
    InAnyGroup,
    /// Some membership row satisfies `cond` (on [`Field::MemberValue`]): a group's members
    /// (`of_group`) or a user's groups.
    Membership {
        of_group: bool,
        cond: Box<Cond>,
    },
}

impl Cond {
    /// `column eq "value"` on a promoted column.
    fn column_is(column: Column, value: String) -> Cond {
        Cond::Cmp {
            field: Field::Column(column),
            op: CompareOp::Eq,
            value: Operand::Str(value),
        }
    }

    /// The user (or group) with this name, compared ignoring case: an index lookup.
    pub fn name_is(name: &str) -> Cond {
        Self::column_is(Column::NameNorm, muster_scim::resource::fold(name))
    }

    /// Users of this source or groups of this kind ([`crate::model::class`]).
    pub fn class_is(class: &str) -> Cond {
        Self::column_is(Column::Class, class.to_string())
    }

    /// The groups SCIM lists: its own and the administrators' custom ones (rule 5: an IdP may
    /// link those); never system or product groups (rule 13).
    pub fn scim_listed_groups() -> Cond {
        Cond::Or(
            Box::new(Cond::class_is(crate::model::class::SCIM)),
            Box::new(Cond::class_is(crate::model::class::CUSTOM)),
        )
    }

    fn not(c: Cond) -> Cond {
        match c {
            Cond::Const(b) => Cond::Const(!b),
            Cond::Not(inner) => *inner,
            other => Cond::Not(Box::new(other)),
        }
    }
}

/// What to sort by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Column(Column),
    Json(JsonPath),
}

fn unsupported(path: &AttrPath, what: &str) -> ScimError {
    ScimError::invalid_filter(format!("invalid filter: {what} ('{path}')"))
}

/// Resolves a parsed filter for `rt`.
pub fn resolve_filter(rt: &ResourceType, f: &Filter) -> ScimResult<Cond> {
    Ok(match f {
        Filter::And(a, b) => Cond::And(
            Box::new(resolve_filter(rt, a)?),
            Box::new(resolve_filter(rt, b)?),
        ),
        Filter::Or(a, b) => Cond::Or(
            Box::new(resolve_filter(rt, a)?),
            Box::new(resolve_filter(rt, b)?),
        ),
        Filter::Not(a) => Cond::not(resolve_filter(rt, a)?),
        Filter::Present(path) => present(rt, path)?,
        Filter::Compare { path, op, value } => compare(rt, path, *op, value)?,
        Filter::ValuePath { path, filter } => {
            let r = attr(rt, path)?;
            if r.sub.is_some() || !r.attr.is_complex() {
                return Err(unsupported(
                    path,
                    "a value filter needs a complex attribute",
                ));
            }
            if r.is_membership(rt) {
                return membership(rt, &r, filter);
            }
            if !r.attr.multi_valued {
                // `name[givenName eq "Ann"]`: the same as the comparisons on `name.givenName`.
                return resolve_inner(r.attr, filter, &|sub: &Attribute, _: &AttrPath| {
                    Ok(Field::Json(json_path(&r, Some(sub))))
                });
            }
            Cond::Any {
                array: json_path(&r, None),
                cond: Box::new(resolve_inner(
                    r.attr,
                    filter,
                    &|sub: &Attribute, _: &AttrPath| Ok(Field::Elem(elem_path(sub))),
                )?),
            }
        }
    })
}

fn attr(rt: &ResourceType, path: &AttrPath) -> ScimResult<Resolved> {
    match resolve(rt, path) {
        Some(Target::Attr(r)) => Ok(r),
        Some(Target::ExtensionRoot(_)) => {
            Err(unsupported(path, "name an attribute of the extension"))
        }
        None => Err(ScimError::invalid_filter(format!(
            "invalid filter: '{path}' is not an attribute of a {}",
            rt.name
        ))),
    }
}

fn json_path(r: &Resolved, sub: Option<&Attribute>) -> JsonPath {
    let mut segments = Vec::new();
    if let Some(ext) = r.extension {
        segments.push(ext.id.to_string());
    }
    segments.push(r.attr.name.to_string());
    let leaf = match sub {
        Some(s) => {
            segments.push(s.name.to_string());
            s
        }
        None => r.attr,
    };
    JsonPath {
        segments,
        folded: folded(leaf),
        ty: leaf.ty,
    }
}

fn elem_path(sub: &Attribute) -> JsonPath {
    JsonPath {
        segments: vec![sub.name.to_string()],
        folded: folded(sub),
        ty: sub.ty,
    }
}

fn folded(a: &Attribute) -> bool {
    a.ty == AttrType::String && !a.case_exact
}

/// A promoted column for a resolved single-valued path, if there is one.
fn column(rt: &ResourceType, r: &Resolved) -> Option<Column> {
    if r.extension.is_some() {
        return None;
    }
    let name = r.attr.name;
    Some(match (name, r.sub.map(|s| s.name)) {
        ("id", None) => Column::Id,
        ("externalId", None) => Column::ExternalId,
        ("meta", Some("created")) => Column::Created,
        ("meta", Some("lastModified")) => Column::LastModified,
        ("userName", None) if rt.kind == ResourceKind::User => Column::NameNorm,
        ("displayName", None) if rt.kind == ResourceKind::Group => Column::NameNorm,
        ("active", None) if rt.kind == ResourceKind::User => Column::Active,
        _ => return None,
    })
}

/// A filter on a group's `members` or a user's `groups`, by `value` (the id on the other side).
/// `value eq "x"` is an index lookup; anything else is an EXISTS over the membership rows.
fn membership(rt: &ResourceType, r: &Resolved, inner: &Filter) -> ScimResult<Cond> {
    let of_group = rt.kind == ResourceKind::Group;
    match inner {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if path.urn.is_none()
            && path.sub.is_none()
            && path.attr.eq_ignore_ascii_case("value") =>
        {
            return Ok(if of_group {
                Cond::HasMember(id.clone())
            } else {
                Cond::InGroup(id.clone())
            });
        }
        Filter::Present(path)
            if path.urn.is_none()
                && path.sub.is_none()
                && path.attr.eq_ignore_ascii_case("value") =>
        {
            return Ok(if of_group {
                Cond::HasMembers
            } else {
                Cond::InAnyGroup
            });
        }
        _ => {}
    }
    let cond = resolve_inner(r.attr, inner, &|sub: &Attribute, path: &AttrPath| {
        if sub.name == "value" {
            Ok(Field::MemberValue)
        } else {
            Err(unsupported(
                path,
                "memberships can be filtered by 'value' only",
            ))
        }
    })?;
    Ok(Cond::Membership {
        of_group,
        cond: Box::new(cond),
    })
}

/// `pr` (RFC 7644: a non-empty value; for a complex attribute, a non-empty sub-attribute).
fn present(rt: &ResourceType, path: &AttrPath) -> ScimResult<Cond> {
    if path.attr.eq_ignore_ascii_case("schemas") && path.urn.is_none() {
        return Ok(Cond::Const(true));
    }
    let r = attr(rt, path)?;
    if r.is_common() && r.attr.name == "meta" {
        return Ok(Cond::Const(true));
    }
    if r.is_membership(rt) {
        let inner = Filter::Present(AttrPath::simple(r.sub.map_or("value", |s| s.name)));
        return membership(rt, &r, &inner);
    }
    if let Some(col) = column(rt, &r) {
        return Ok(Cond::Present(Field::Column(col)));
    }
    let any_sub = |mk: &dyn Fn(&Attribute) -> Field| -> Cond {
        r.attr
            .sub_attributes
            .iter()
            .map(|sub| Cond::Present(mk(sub)))
            .reduce(|a, b| Cond::Or(Box::new(a), Box::new(b)))
            .unwrap_or(Cond::Const(false))
    };
    Ok(match (r.attr.multi_valued, r.sub, r.attr.is_complex()) {
        (true, Some(sub), _) => Cond::Any {
            array: json_path(&r, None),
            cond: Box::new(Cond::Present(Field::Elem(elem_path(sub)))),
        },
        (true, None, true) => Cond::Any {
            array: json_path(&r, None),
            cond: Box::new(any_sub(&|sub| Field::Elem(elem_path(sub)))),
        },
        (false, None, true) => any_sub(&|sub| Field::Json(json_path(&r, Some(sub)))),
        (_, sub, _) => Cond::Present(Field::Json(json_path(&r, sub))),
    })
}

fn compare(
    rt: &ResourceType,
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
) -> ScimResult<Cond> {
    // `schemas eq "urn:…"` (an RFC 7644 example): true for the core schema, presence for an extension.
    if path.attr.eq_ignore_ascii_case("schemas") && path.urn.is_none() && path.sub.is_none() {
        let CompValue::Str(urn) = value else {
            return Err(unsupported(path, "'schemas' is compared with a URN"));
        };
        let c = if rt.core.id.eq_ignore_ascii_case(urn) {
            Cond::Const(true)
        } else if let Some(ext) = rt.extension(urn) {
            Cond::Present(Field::Json(JsonPath {
                segments: vec![ext.id.to_string()],
                folded: false,
                ty: AttrType::Complex,
            }))
        } else {
            Cond::Const(false)
        };
        return match op {
            CompareOp::Eq => Ok(c),
            CompareOp::Ne => Ok(Cond::not(c)),
            _ => Err(unsupported(path, "'schemas' supports eq and ne")),
        };
    }
    let r = attr(rt, path)?;
    if *value == CompValue::Null {
        let p = present(rt, path)?;
        return match op {
            CompareOp::Eq => Ok(Cond::not(p)),
            CompareOp::Ne => Ok(p),
            _ => Err(unsupported(path, "null can only be compared with eq or ne")),
        };
    }
    if op == CompareOp::Ne {
        return Ok(Cond::not(compare(rt, path, CompareOp::Eq, value)?));
    }
    if r.is_common() && r.attr.name == "meta" {
        match r.sub.map(|s| s.name) {
            Some("created" | "lastModified") => {}
            Some("resourceType") => {
                let CompValue::Str(s) = value else {
                    return Err(unsupported(path, "compare with a string"));
                };
                if op != CompareOp::Eq {
                    return Err(unsupported(path, "'meta.resourceType' supports eq and ne"));
                }
                return Ok(Cond::Const(s == rt.name));
            }
            _ => {
                return Err(unsupported(
                    path,
                    "filtering on this meta attribute is not supported",
                ));
            }
        }
    }
    // `members.value eq` / `members eq` on groups, `groups.value eq` on users.
    if r.is_membership(rt) {
        let as_value = Filter::Compare {
            path: AttrPath::simple(r.sub.map_or("value", |s| s.name)),
            op,
            value: value.clone(),
        };
        return membership(rt, &r, &as_value);
    }
    if r.attr.multi_valued {
        let sub = r
            .sub
            .or_else(|| r.attr.sub("value"))
            .ok_or_else(|| unsupported(path, "name a sub-attribute"))?;
        let operand = typed_operand(sub, op, value)?;
        let cond = Cond::Cmp {
            field: Field::Elem(elem_path(sub)),
            op,
            value: operand,
        };
        return Ok(Cond::Any {
            array: json_path(&r, None),
            cond: Box::new(cond),
        });
    }
    // A single-valued complex attribute compares its `value`, as a multi-valued one does
    // (Entra checks a manager with `manager eq "<id>"`).
    let r = match (r.sub, r.attr.is_complex()) {
        (None, true) if r.attr.sub("value").is_some() => muster_scim::resolve::Resolved {
            sub: r.attr.sub("value"),
            ..r
        },
        _ => r,
    };
    let leaf = r.leaf();
    let operand = typed_operand(leaf, op, value)?;
    let field = match column(rt, &r) {
        Some(c) => Field::Column(c),
        None => Field::Json(json_path(&r, r.sub)),
    };
    Ok(Cond::Cmp {
        field,
        op,
        value: operand,
    })
}

/// Resolves the filter inside `attr[…]`; `field` says where each sub-attribute is read.
fn resolve_inner(
    parent: &Attribute,
    f: &Filter,
    field: &dyn Fn(&Attribute, &AttrPath) -> ScimResult<Field>,
) -> ScimResult<Cond> {
    Ok(match f {
        Filter::And(a, b) => Cond::And(
            Box::new(resolve_inner(parent, a, field)?),
            Box::new(resolve_inner(parent, b, field)?),
        ),
        Filter::Or(a, b) => Cond::Or(
            Box::new(resolve_inner(parent, a, field)?),
            Box::new(resolve_inner(parent, b, field)?),
        ),
        Filter::Not(a) => Cond::not(resolve_inner(parent, a, field)?),
        Filter::ValuePath { path, .. } => {
            return Err(unsupported(path, "value filters cannot be nested"));
        }
        Filter::Present(path) => Cond::Present(field(sub_of(parent, path)?, path)?),
        Filter::Compare { path, op, value } => {
            let sub = sub_of(parent, path)?;
            let field = field(sub, path)?;
            match (op, value) {
                (CompareOp::Eq, CompValue::Null) => Cond::not(Cond::Present(field)),
                (CompareOp::Ne, CompValue::Null) => Cond::Present(field),
                (_, CompValue::Null) => {
                    return Err(unsupported(path, "null can only be compared with eq or ne"));
                }
                (CompareOp::Ne, v) => Cond::not(Cond::Cmp {
                    field,
                    op: CompareOp::Eq,
                    value: typed_operand(sub, CompareOp::Eq, v)?,
                }),
                (op, v) => Cond::Cmp {
                    field,
                    op: *op,
                    value: typed_operand(sub, *op, v)?,
                },
            }
        }
    })
}

fn sub_of<'a>(parent: &'a Attribute, path: &AttrPath) -> ScimResult<&'a Attribute> {
    if path.urn.is_some() || path.sub.is_some() {
        return Err(unsupported(
            path,
            "inside a value filter, name a sub-attribute",
        ));
    }
    parent.sub(&path.attr).ok_or_else(|| {
        ScimError::invalid_filter(format!(
            "invalid filter: '{}' has no sub-attribute '{}'",
            parent.name, path.attr
        ))
    })
}

/// Resolves `sortBy` (RFC 7644 §3.4.2.3). A multi-valued attribute sorts by its first value.
pub fn resolve_sort(rt: &ResourceType, sort_by: &str) -> ScimResult<SortKey> {
    let bad = || {
        ScimError::invalid_value(format!(
            "sortBy: '{sort_by}' is not a sortable attribute of a {}",
            rt.name
        ))
    };
    let path = AttrPath::parse(sort_by.trim(), 0).map_err(|_| bad())?;
    let r = match resolve(rt, &path) {
        Some(Target::Attr(r)) => r,
        _ => return Err(bad()),
    };
    if let Some(c) = column(rt, &r) {
        return Ok(SortKey::Column(c));
    }
    if r.attr.multi_valued {
        let sub = r.sub.or_else(|| r.attr.sub("value")).ok_or_else(bad)?;
        let mut p = json_path(&r, None);
        p.segments.push("0".into());
        p.segments.push(sub.name.to_string());
        p.folded = folded(sub);
        p.ty = sub.ty;
        return Ok(SortKey::Json(p));
    }
    if r.leaf().is_complex() {
        return Err(bad());
    }
    Ok(SortKey::Json(json_path(&r, r.sub)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_scim::schema::ResourceKind;

    fn q(kind: ResourceKind, s: &str) -> ScimResult<Cond> {
        resolve_filter(ResourceType::of(kind), &Filter::parse(s)?)
    }

    #[test]
    fn index_lookups_use_columns() {
        let c =
            q(ResourceKind::User, r#"UserName eq "Ann@X.com""#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c,
            Cond::Cmp {
                field: Field::Column(Column::NameNorm),
                op: CompareOp::Eq,
                value: Operand::Str("ann@x.com".into())
            }
        );
        let c = q(ResourceKind::User, r#"externalId eq "AbC""#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c,
            Cond::Cmp {
                field: Field::Column(Column::ExternalId),
                op: CompareOp::Eq,
                value: Operand::Str("AbC".into())
            }
        );
        assert_eq!(
            q(ResourceKind::Group, r#"members.value eq "u1""#).ok(),
            Some(Cond::HasMember("u1".into()))
        );
        assert_eq!(
            q(ResourceKind::Group, r#"members[value eq "u1"]"#).ok(),
            Some(Cond::HasMember("u1".into()))
        );
        assert_eq!(
            q(ResourceKind::User, r#"groups eq "g""#).ok(),
            Some(Cond::InGroup("g".into()))
        );
    }

    #[test]
    fn ne_is_not_eq_and_null_is_presence() {
        let c = q(ResourceKind::User, r#"title ne "x""#).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(c, Cond::Not(_)));
        let c = q(ResourceKind::User, "title eq null").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(c, Cond::Not(ref p) if matches!(**p, Cond::Present(_))));
    }

    #[test]
    fn unknown_and_ill_typed_are_invalid_filter() {
        for f in [
            r#"nosuch eq "x""#,
            "active gt true",
            r#"name eq "x""#,
            r#"meta.version eq "x""#,
            r#"members.display co "x""#,
            r#"emails[nosuch eq "x"]"#,
        ] {
            let e = q(
                if f.starts_with("members") {
                    ResourceKind::Group
                } else {
                    ResourceKind::User
                },
                f,
            );
            assert_eq!(
                e.err().map(|e| e.scim_type),
                Some(Some(muster_scim::ScimType::InvalidFilter)),
                "{f}"
            );
        }
    }

    #[test]
    fn sort_keys() {
        let rt = ResourceType::of(ResourceKind::User);
        assert_eq!(
            resolve_sort(rt, "userName").ok(),
            Some(SortKey::Column(Column::NameNorm))
        );
        assert!(matches!(
            resolve_sort(rt, "name.familyName"),
            Ok(SortKey::Json(_))
        ));
        assert!(
            matches!(resolve_sort(rt, "emails"), Ok(SortKey::Json(ref p)) if p.segments == ["emails", "0", "value"])
        );
        assert!(resolve_sort(rt, "name").is_err());
        assert!(resolve_sort(rt, "bogus").is_err());
    }
}

//! Type-checking filter comparisons against the schema, and evaluating filters in memory
//! (PATCH value filters such as `emails[type eq "work"]`, and as the oracle the SQL emitter
//! is tested against).

use crate::error::{ScimError, ScimResult};
use crate::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::resolve::{get_ci, resolve_attr};
use crate::resource::{fold, parse_datetime};
use crate::schema::{AttrType, Attribute, ResourceType};
use serde_json::{Map, Value};

/// A comparison value converted to the attribute's type; strings of case-insensitive
/// attributes are already folded.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Str(String),
    Num(f64),
    Bool(bool),
    Date(time::OffsetDateTime),
}

/// Checks that `op` applies to `leaf` and converts `value` (not `null`) to its type.
pub fn typed_operand(leaf: &Attribute, op: CompareOp, value: &CompValue) -> ScimResult<Operand> {
    let bad =
        |why: &str| ScimError::invalid_filter(format!("invalid filter: {why} ('{}')", leaf.name));
    let text = match value {
        CompValue::Str(s) => Some(s.clone()),
        CompValue::Num(n) => Some(n.to_string()),
        CompValue::Bool(b) => Some(b.to_string()),
        CompValue::Null => None,
    };
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    match leaf.ty {
        AttrType::Complex => Err(bad(
            "a complex attribute cannot be compared; name a sub-attribute",
        )),
        AttrType::Boolean => {
            if op.is_ordering() || substring {
                return Err(bad(&format!(
                    "'{}' does not apply to a boolean",
                    op.as_str()
                )));
            }
            match value {
                CompValue::Bool(b) => Ok(Operand::Bool(*b)),
                CompValue::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Operand::Bool(true)),
                CompValue::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Operand::Bool(false)),
                _ => Err(bad("a boolean attribute is compared with true or false")),
            }
        }
        AttrType::Integer | AttrType::Decimal => {
            if substring {
                return Err(bad(&format!(
                    "'{}' does not apply to a number",
                    op.as_str()
                )));
            }
            text.and_then(|t| t.parse::<f64>().ok())
                .map(Operand::Num)
                .ok_or_else(|| bad("a numeric attribute is compared with a number"))
        }
        AttrType::DateTime if !substring => text
            .as_deref()
            .and_then(parse_datetime)
            .map(Operand::Date)
            .ok_or_else(|| {
                bad("a dateTime attribute is compared with a date such as \"2026-01-31T00:00:00Z\"")
            }),
        AttrType::Binary if op.is_ordering() => {
            Err(bad(&format!("'{}' does not apply to binary", op.as_str())))
        }
        _ => {
            let t = text.unwrap_or_default();
            Ok(Operand::Str(if leaf.case_exact { t } else { fold(&t) }))
        }
    }
}

fn compare_one(leaf: &Attribute, op: CompareOp, want: &Operand, actual: &Value) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (want, actual) {
        (Operand::Str(w), Value::String(a)) => {
            let a = if leaf.case_exact { a.clone() } else { fold(a) };
            match op {
                CompareOp::Co => return a.contains(w.as_str()),
                CompareOp::Sw => return a.starts_with(w.as_str()),
                CompareOp::Ew => return a.ends_with(w.as_str()),
                _ => Some(a.as_str().cmp(w.as_str())),
            }
        }
        (Operand::Num(w), Value::Number(a)) => a.as_f64().and_then(|a| a.partial_cmp(w)),
        (Operand::Bool(w), Value::Bool(a)) => Some(a.cmp(w)),
        (Operand::Date(w), Value::String(a)) => parse_datetime(a).map(|a| a.cmp(w)),
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Whether a value counts as present for `pr` (RFC 7644: non-empty).
pub fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(o) => o.values().any(is_present),
        _ => true,
    }
}

/// `schemas` as a filterable attribute (RFC 7644 §3.4.2.2 shows `schemas eq "urn:…"`).
static SCHEMAS_ATTR: std::sync::LazyLock<Attribute> = std::sync::LazyLock::new(|| {
    let mut a = crate::schema::COMMON_ATTRIBUTES[0].clone();
    a.name = "schemas";
    a.case_exact = false;
    a.multi_valued = true;
    a
});

/// What the paths of a filter are relative to.
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    /// A whole resource (rendered, with `id` and `meta`).
    Resource(&'a ResourceType),
    /// One value of a multi-valued complex attribute (inside `attr[...]`).
    Element(&'a Attribute),
}

/// Memberships are filtered by `value` only (see `Resolved::is_membership`), here as in stores.
fn only_value(path: &AttrPath, name: &str) -> ScimResult<()> {
    if name.eq_ignore_ascii_case("value") {
        Ok(())
    } else {
        Err(ScimError::invalid_filter(format!(
            "invalid filter: '{path}' can be filtered by 'value' only"
        )))
    }
}

/// The attribute a path ends at, and the values it selects in `obj`. For presence
/// (`for_presence`), a multi-valued complex attribute is itself tested, not its `value`.
fn select<'v>(
    scope: Scope<'_>,
    path: &AttrPath,
    obj: &'v Map<String, Value>,
    for_presence: bool,
) -> ScimResult<(Attribute, Vec<&'v Value>)> {
    let unknown =
        || ScimError::invalid_filter(format!("invalid filter: unknown attribute '{path}'"));
    match scope {
        Scope::Element(parent) => {
            if path.urn.is_some() || path.sub.is_some() {
                return Err(unknown());
            }
            let leaf = parent.sub(&path.attr).ok_or_else(unknown)?;
            Ok((leaf.clone(), get_ci(obj, leaf.name).into_iter().collect()))
        }
        Scope::Resource(rt) => {
            if path.urn.is_none() && path.sub.is_none() && path.attr.eq_ignore_ascii_case("schemas")
            {
                return Ok((
                    SCHEMAS_ATTR.clone(),
                    get_ci(obj, "schemas").into_iter().collect(),
                ));
            }
            let r = resolve_attr(rt, path).ok_or_else(unknown)?;
            if r.is_common()
                && !for_presence
                && r.attr.name == "meta"
                && matches!(r.sub.map(|s| s.name), Some("version" | "location"))
            {
                return Err(ScimError::invalid_filter(format!(
                    "invalid filter: filtering on '{path}' is not supported"
                )));
            }
            if r.is_membership(rt)
                && let Some(sub) = r.sub
            {
                only_value(path, sub.name)?;
            }
            let container = crate::resolve::container(obj, &r);
            let top = container.and_then(|c| get_ci(c, r.attr.name));
            let elements: Vec<&Value> = match top {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(v) => vec![v],
                None => vec![],
            };
            // `emails co "x"`: a complex attribute compares its `value` (also single-valued
            // ones: Entra checks a manager with `manager eq "<id>"`).
            let sub = r.sub.or_else(|| {
                if r.attr.is_complex() && !for_presence {
                    r.attr.sub("value")
                } else {
                    None
                }
            });
            match sub {
                Some(sub) => Ok((
                    sub.clone(),
                    elements
                        .iter()
                        .filter_map(|e| e.as_object().and_then(|o| get_ci(o, sub.name)))
                        .collect(),
                )),
                None => Ok((r.attr.clone(), elements)),
            }
        }
    }
}

/// Evaluates `filter` on `obj`. Comparisons on absent attributes are false, `ne` is `not eq`
/// (so `not` never meets an unknown), and a multi-valued attribute matches when any value does.
pub fn matches(scope: Scope<'_>, filter: &Filter, obj: &Map<String, Value>) -> ScimResult<bool> {
    Ok(match filter {
        Filter::And(a, b) => matches(scope, a, obj)? && matches(scope, b, obj)?,
        Filter::Or(a, b) => matches(scope, a, obj)? || matches(scope, b, obj)?,
        Filter::Not(f) => !matches(scope, f, obj)?,
        Filter::Present(path) => {
            let (_, values) = select(scope, path, obj, true)?;
            values.into_iter().any(is_present)
        }
        Filter::Compare { path, op, value } => {
            if let Scope::Resource(rt) = scope
                && let Some(r) = resolve_attr(rt, path)
                && r.is_common()
                && r.sub.is_some_and(|s| s.name == "resourceType")
                && !matches!(op, CompareOp::Eq | CompareOp::Ne)
            {
                return Err(ScimError::invalid_filter(format!(
                    "invalid filter: '{path}' supports eq and ne"
                )));
            }
            let (leaf, values) = select(scope, path, obj, *value == CompValue::Null)?;
            if *value == CompValue::Null {
                let present = values.into_iter().any(is_present);
                return match op {
                    CompareOp::Eq => Ok(!present),
                    CompareOp::Ne => Ok(present),
                    _ => Err(ScimError::invalid_filter(format!(
                        "invalid filter: null can only be compared with eq or ne ('{path}')"
                    ))),
                };
            }
            let (test_op, negate) = if *op == CompareOp::Ne {
                (CompareOp::Eq, true)
            } else {
                (*op, false)
            };
            let want = typed_operand(&leaf, test_op, value)?;
            let any = values.iter().flat_map(|v| match v {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                other => vec![*other],
            });
            let hit = any
                .into_iter()
                .any(|v| compare_one(&leaf, test_op, &want, v));
            hit != negate
        }
        Filter::ValuePath { path, filter } => {
            let Scope::Resource(rt) = scope else {
                return Err(ScimError::invalid_filter(
                    "invalid filter: value filters cannot be nested",
                ));
            };
            let r = resolve_attr(rt, path)
                .filter(|r| r.sub.is_none() && r.attr.is_complex())
                .ok_or_else(|| {
                    ScimError::invalid_filter(format!(
                        "invalid filter: '{path}' is not a complex attribute"
                    ))
                })?;
            let elements = crate::resolve::container(obj, &r).and_then(|c| get_ci(c, r.attr.name));
            let elements: Vec<&Value> = match elements {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(v) => vec![v],
                None => vec![],
            };
            // Type-check the inner filter even when there is nothing to test it on.
            check(Scope::Element(r.attr), filter)?;
            if r.is_membership(rt) {
                inner_paths(filter, &mut |p| only_value(p, &p.attr))?;
            }
            let mut hit = false;
            for e in elements.iter().filter_map(|e| e.as_object()) {
                if matches(Scope::Element(r.attr), filter, e)? {
                    hit = true;
                    break;
                }
            }
            hit
        }
    })
}

/// Calls `f` on every attribute path of a filter.
fn inner_paths(filter: &Filter, f: &mut dyn FnMut(&AttrPath) -> ScimResult<()>) -> ScimResult<()> {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            inner_paths(a, f)?;
            inner_paths(b, f)
        }
        Filter::Not(x) => inner_paths(x, f),
        Filter::Present(p) | Filter::Compare { path: p, .. } => f(p),
        Filter::ValuePath { path, filter } => {
            f(path)?;
            inner_paths(filter, f)
        }
    }
}

/// Validates every path and operand of `filter` without data, each comparison on its own (so
/// `and`/`or` never skip one, and errors do not depend on the data).
pub fn check(scope: Scope<'_>, filter: &Filter) -> ScimResult<()> {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check(scope, a)?;
            check(scope, b)
        }
        Filter::Not(f) => check(scope, f),
        Filter::Present(_) | Filter::Compare { .. } | Filter::ValuePath { .. } => {
            matches(scope, filter, &Map::new()).map(|_| ())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ResourceKind;
    use serde_json::json;

    fn eval(filter: &str, v: Value) -> ScimResult<bool> {
        let rt = ResourceType::of(ResourceKind::User);
        let f = Filter::parse(filter)?;
        matches(
            Scope::Resource(rt),
            &f,
            v.as_object().unwrap_or(&Map::new()),
        )
    }

    #[test]
    fn semantics() {
        let u = json!({
            "id": "X1", "userName": "Ann@Example.com", "active": true, "title": "",
            "name": {"givenName": "Ann"},
            "emails": [{"value": "ann@work.com", "type": "work"}, {"value": "ann@home.org", "type": "home"}],
            "meta": {"created": "2026-01-02T00:00:00Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
        });
        let t = |f: &str| eval(f, u.clone()).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(t(r#"userName eq "ann@example.com""#));
        assert!(t(r#"USERNAME sw "ANN""#));
        assert!(!t(r#"id eq "x1""#), "id is caseExact");
        assert!(t(r#"emails co "home.org""#));
        assert!(t(r#"emails[type eq "work" and value ew "work.com"]"#));
        assert!(!t(r#"emails[type eq "work" and value ew "home.org"]"#));
        assert!(t(r#"emails[type eq "home"].value eq "ANN@home.org""#));
        assert!(t("active eq true and not (active eq false)"));
        assert!(!t(
            r#"meta.created gt "2026-01-01T23:00:00-02:00" or meta.created lt "2020-01-01T00:00:00Z""#
        ));
        assert!(t(r#"meta.created ge "2026-01-01T00:00:00Z""#));
        assert!(!t("title pr"));
        assert!(t("name.givenName pr"));
        assert!(t(r#"nickName ne "x""#), "ne on an absent attribute is true");
        assert!(t("nickName eq null"));
        assert!(t(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d""#
        ));
        assert!(eval(r#"active gt true"#, u.clone()).is_err());
        assert!(eval(r#"nosuch eq "1""#, u.clone()).is_err());
        assert!(eval(r#"name eq "1""#, u.clone()).is_err());
        assert!(eval(r#"meta.created gt "yesterday""#, u).is_err());
    }
}

//! `/Bulk` (RFC 7644 §3.7): many operations in one request, with `bulkId` references between
//! them (resolved in dependency order, so a reference may point forward), `failOnErrors`, and
//! the limits advertised in `/ServiceProviderConfig`.

use crate::service::{Ctx, Scim};
use muster_scim::projection::Projection;
use muster_scim::resolve::get_ci;
use muster_scim::schema::ResourceKind;
use muster_scim::{ScimError, ScimResult};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

struct BulkOp {
    index: usize,
    method: String,
    bulk_id: Option<String>,
    version: Option<String>,
    path: String,
    data: Option<Value>,
}

/// Every `bulkId:x` reference in a value.
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:") {
                out.push(id.to_string());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        Value::Object(o) => o.values().for_each(|x| references(x, out)),
        _ => {}
    }
}

/// The bulkId a path refers to (`/Users/bulkId:qwerty`).
fn path_reference(path: &str) -> Option<&str> {
    path.rsplit('/')
        .next()
        .and_then(|last| last.strip_prefix("bulkId:"))
}

fn substitute(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, ids)),
        Value::Object(o) => o.values_mut().for_each(|x| substitute(x, ids)),
        _ => {}
    }
}

fn parse_ops(body: &Value) -> ScimResult<(Vec<BulkOp>, Option<u64>)> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the bulk request must be a JSON object"))?;
    let fail_on_errors = match get_ci(obj, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            ScimError::invalid_value("failOnErrors must be a non-negative integer")
        })?),
    };
    let ops = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("the bulk request needs an 'Operations' array"))?;
    let mut out = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let o = op.as_object().ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "bulk operation {} must be a JSON object",
                index + 1
            ))
        })?;
        let text = |k: &str| get_ci(o, k).and_then(Value::as_str).map(str::to_string);
        out.push(BulkOp {
            index,
            method: text("method").unwrap_or_default().to_ascii_uppercase(),
            bulk_id: text("bulkId"),
            version: text("version"),
            path: text("path").unwrap_or_default(),
            data: get_ci(o, "data").cloned(),
        });
    }
    Ok((out, fail_on_errors))
}

/// `/Users`, `/Groups/{id}` → kind and optional id.
fn target(path: &str) -> ScimResult<(ResourceKind, Option<String>)> {
    let p = path.trim().trim_start_matches('/');
    let (head, id) = match p.split_once('/') {
        Some((h, id)) => (
            h,
            Some(id.trim_end_matches('/').to_string()).filter(|s| !s.is_empty()),
        ),
        None => (p, None),
    };
    let kind = if head.eq_ignore_ascii_case("Users") {
        ResourceKind::User
    } else if head.eq_ignore_ascii_case("Groups") {
        ResourceKind::Group
    } else {
        return Err(ScimError::invalid_path(format!(
            "bulk path '{path}' must start with /Users or /Groups"
        )));
    };
    Ok((kind, id))
}

impl Scim {
    /// Runs a bulk request; `size` is the request body's length in bytes.
    pub async fn bulk(&self, ctx: &Ctx, body: &Value, size: usize) -> ScimResult<Value> {
        let l = &self.limits;
        if size > l.bulk_max_payload {
            return Err(ScimError::too_large(format!(
                "the bulk request is {size} bytes; the limit is {} (maxPayloadSize)",
                l.bulk_max_payload
            )));
        }
        let (ops, fail_on_errors) = parse_ops(body)?;
        if ops.len() > l.bulk_max_operations {
            return Err(ScimError::too_large(format!(
                "the bulk request has {} operations; the limit is {} (maxOperations)",
                ops.len(),
                l.bulk_max_operations
            )));
        }
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut results: Vec<Option<Value>> = vec![None; ops.len()];
        let mut errors = 0u64;
        let mut pending: Vec<BulkOp> = ops;
        // Run every operation whose references are known; repeat while that makes progress.
        let mut stopped = false;
        while !stopped {
            let mut progressed = false;
            let mut waiting = Vec::new();
            for op in std::mem::take(&mut pending) {
                if stopped {
                    break;
                }
                let mut refs: Vec<String> = path_reference(&op.path)
                    .map(str::to_string)
                    .into_iter()
                    .collect();
                if let Some(d) = &op.data {
                    references(d, &mut refs);
                }
                if refs.iter().any(|r| !ids.contains_key(r)) {
                    waiting.push(op);
                    continue;
                }
                progressed = true;
                let result = self.bulk_one(ctx, &op, &ids).await;
                let index = op.index;
                let entry = match result {
                    Ok((status, location, etag, id)) => {
                        if let (Some(b), Some(id)) = (&op.bulk_id, id) {
                            ids.insert(b.clone(), id);
                        }
                        let mut m = Map::new();
                        m.insert("method".into(), json!(op.method));
                        if let Some(b) = &op.bulk_id {
                            m.insert("bulkId".into(), json!(b));
                        }
                        if let Some(e) = etag {
                            m.insert("version".into(), json!(e));
                        }
                        if let Some(loc) = location {
                            m.insert("location".into(), json!(loc));
                        }
                        m.insert("status".into(), json!(status.to_string()));
                        Value::Object(m)
                    }
                    Err(e) => {
                        errors += 1;
                        error_entry(&op, &e)
                    }
                };
                results[index] = Some(entry);
                stopped = fail_on_errors.is_some_and(|n| n > 0 && errors >= n);
            }
            pending = waiting;
            if pending.is_empty() || !progressed {
                break;
            }
        }
        // What is left references bulkIds that never resolved (unknown, failed or circular).
        if !stopped {
            for op in &pending {
                let mut refs: Vec<String> = path_reference(&op.path)
                    .map(str::to_string)
                    .into_iter()
                    .collect();
                if let Some(d) = &op.data {
                    references(d, &mut refs);
                }
                let missing: Vec<&String> = refs.iter().filter(|r| !ids.contains_key(*r)).collect();
                let e = ScimError::new(
                    409,
                    Some(muster_scim::ScimType::InvalidValue),
                    format!(
                        "bulkId reference(s) {missing:?} could not be resolved (unknown, failed or circular)"
                    ),
                );
                results[op.index] = Some(error_entry(op, &e));
            }
        }
        Ok(json!({
            "schemas": [BULK_RESPONSE],
            "Operations": results.into_iter().flatten().collect::<Vec<_>>(),
        }))
    }

    /// One operation: (status, location, etag, created id).
    async fn bulk_one(
        &self,
        ctx: &Ctx,
        op: &BulkOp,
        ids: &HashMap<String, String>,
    ) -> ScimResult<(u16, Option<String>, Option<String>, Option<String>)> {
        let path = match op.path.rsplit_once('/') {
            Some((head, last)) => match last.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                Some(id) => format!("{head}/{id}"),
                None => op.path.clone(),
            },
            None => op.path.clone(),
        };
        let (kind, id) = target(&path)?;
        let mut data = op.data.clone();
        if let Some(d) = data.as_mut() {
            substitute(d, ids);
        }
        let proj = Projection::default();
        let need_id = || {
            id.clone().ok_or_else(|| {
                ScimError::invalid_path(format!("{} needs a resource id in 'path'", op.method))
            })
        };
        let need_data = || {
            data.clone()
                .ok_or_else(|| ScimError::invalid_syntax(format!("{} needs 'data'", op.method)))
        };
        match op.method.as_str() {
            "POST" => {
                if id.is_some() {
                    return Err(ScimError::invalid_path(
                        "POST takes a collection path such as /Users",
                    ));
                }
                let r = self.create(ctx, kind, &need_data()?, &proj).await?;
                let new_id = r.body.get("id").and_then(Value::as_str).map(str::to_string);
                Ok((201, Some(r.location), Some(r.etag), new_id))
            }
            "PUT" => {
                let r = self
                    .replace(
                        ctx,
                        kind,
                        &need_id()?,
                        &need_data()?,
                        op.version.as_deref(),
                        &proj,
                    )
                    .await?;
                Ok((200, Some(r.location), Some(r.etag), None))
            }
            "PATCH" => {
                let r = self
                    .patch(
                        ctx,
                        kind,
                        &need_id()?,
                        &need_data()?,
                        op.version.as_deref(),
                        None,
                    )
                    .await?;
                Ok((200, Some(r.location), Some(r.etag), None))
            }
            "DELETE" => {
                let id = need_id()?;
                self.delete(ctx, kind, &id, op.version.as_deref()).await?;
                Ok((204, Some(Self::location(ctx, kind, &id)), None, None))
            }
            other => Err(ScimError::invalid_syntax(format!(
                "bulk method '{other}' is not one of POST, PUT, PATCH, DELETE"
            ))),
        }
    }
}

fn error_entry(op: &BulkOp, e: &ScimError) -> Value {
    let mut m = Map::new();
    m.insert("method".into(), json!(op.method));
    if let Some(b) = &op.bulk_id {
        m.insert("bulkId".into(), json!(b));
    }
    if !op.path.is_empty() && op.method != "POST" {
        m.insert("location".into(), json!(op.path));
    }
    m.insert("status".into(), json!(e.status.to_string()));
    m.insert("response".into(), e.to_json());
    Value::Object(m)
}

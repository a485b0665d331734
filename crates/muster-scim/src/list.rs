//! The ListResponse message (RFC 7644 §3.4.2) with RFC 9865 cursor fields.

use serde_json::{Map, Value, json};

pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A page of results. `Resources` is always present (an empty array when nothing matched),
/// and the paging fields are JSON integers, as Okta requires.
pub fn list_response(
    resources: Vec<Value>,
    total: u64,
    start_index: Option<u64>,
    next_cursor: Option<String>,
) -> Value {
    let mut m = Map::new();
    m.insert("schemas".into(), json!([LIST_RESPONSE_SCHEMA]));
    m.insert("totalResults".into(), json!(total));
    m.insert("itemsPerPage".into(), json!(resources.len()));
    if let Some(s) = start_index {
        m.insert("startIndex".into(), json!(s));
    }
    if let Some(c) = next_cursor {
        m.insert("nextCursor".into(), json!(c));
    }
    m.insert("Resources".into(), Value::Array(resources));
    Value::Object(m)
}

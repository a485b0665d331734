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
    let mut m = envelope(resources.len(), total, start_index, next_cursor);
    m.insert("Resources".into(), Value::Array(resources));
    Value::Object(m)
}

/// [`list_response`] of resources given as JSON text, written around them.
pub fn list_response_text(
    resources: &[String],
    total: u64,
    start_index: Option<u64>,
    next_cursor: Option<String>,
) -> String {
    let m = envelope(resources.len(), total, start_index, next_cursor);
    // Writing a map of strings and numbers cannot fail.
    let head = serde_json::to_string(&Value::Object(m)).unwrap_or_else(|_| "{}".into());
    let items: usize = resources.iter().map(|r| r.len() + 1).sum();
    let mut out = String::with_capacity(head.len() + items + 16);
    // `head` is never empty (`schemas`) and ends with its closing brace; `Resources` comes last.
    out.push_str(&head[..head.len() - 1]);
    out.push_str(",\"Resources\":[");
    for (i, r) in resources.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r);
    }
    out.push_str("]}");
    out
}

/// Everything of a ListResponse but its `Resources`.
fn envelope(
    items: usize,
    total: u64,
    start_index: Option<u64>,
    next_cursor: Option<String>,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("schemas".into(), json!([LIST_RESPONSE_SCHEMA]));
    m.insert("totalResults".into(), json!(total));
    m.insert("itemsPerPage".into(), json!(items));
    if let Some(s) = start_index {
        m.insert("startIndex".into(), json!(s));
    }
    if let Some(c) = next_cursor {
        m.insert("nextCursor".into(), json!(c));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_is_the_serialised_value() {
        let items = [json!({"id": "a", "x": [1, 2]}), json!({"id": "b\"c"})];
        let texts: Vec<String> = items.iter().map(|v| v.to_string()).collect();
        for (start, cursor) in [
            (Some(1), None),
            (None, Some("n\"x".to_string())),
            (None, None),
        ] {
            for n in [0, 1, 2] {
                assert_eq!(
                    list_response_text(&texts[..n], 7, start, cursor.clone()),
                    list_response(items[..n].to_vec(), 7, start, cursor.clone()).to_string(),
                );
            }
        }
    }
}

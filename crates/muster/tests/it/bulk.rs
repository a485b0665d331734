//! `/Bulk` (RFC 7644 §3.7): bulkId references, failOnErrors, limits.

use crate::support::TestServer;
use muster_domain::service::Limits;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn bulk(ops: Value, fail_on_errors: Option<u64>) -> Value {
    let mut b = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
    if let Some(n) = fail_on_errors {
        b["failOnErrors"] = json!(n);
    }
    b
}

#[tokio::test]
async fn bulk_ids_resolve_across_operations_even_forward() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Bulk",
            bulk(
                json!([
                    // References a user created by a later operation.
                    {"method": "POST", "path": "/Groups", "bulkId": "g1",
                     "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Tour Guides",
                              "members": [{"type": "User", "value": "bulkId:u1"}]}},
                    {"method": "POST", "path": "/Users", "bulkId": "u1",
                     "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice@x.com"}},
                    {"method": "PATCH", "path": "/Users/bulkId:u1",
                     "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                              "Operations": [{"op": "replace", "path": "title", "value": "Guide"}]}}
                ]),
                None,
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
    );
    let ops = r.body["Operations"].as_array().cloned().unwrap_or_default();
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[0]["status"], "201");
    assert_eq!(ops[1]["status"], "201");
    assert_eq!(ops[2]["status"], "200");
    let group = ops[0]["location"].as_str().unwrap_or_default().to_string();
    let user_loc = ops[1]["location"].as_str().unwrap_or_default().to_string();
    let g = s.get(&group).await;
    let user_id = user_loc.rsplit('/').next().unwrap_or_default();
    assert_eq!(g.body["members"][0]["value"], user_id);
    assert_eq!(s.get(&user_loc).await.body["title"], "Guide");
}

#[tokio::test]
async fn fail_on_errors_stops_and_errors_are_reported_per_operation() {
    let s = TestServer::start().await;
    s.user("taken@x.com").await;
    let user = |n: &str| json!({"method": "POST", "path": "/Users", "bulkId": n, "data": {"userName": format!("{n}@x.com")}});
    let r = s
        .post(
            "/Bulk",
            bulk(json!([
                {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "TAKEN@x.com"}},
                {"method": "DELETE", "path": "/Users/nope"},
                user("c"),
            ]), Some(2)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ops = r.body["Operations"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        ops.len(),
        2,
        "processing stops after failOnErrors errors: {}",
        r.text
    );
    assert_eq!(ops[0]["status"], "409");
    assert_eq!(ops[0]["response"]["scimType"], "uniqueness");
    assert_eq!(ops[1]["status"], "404");
    let list = s.get("/Users?filter=userName%20eq%20%22c@x.com%22").await;
    assert_eq!(list.body["totalResults"], 0);

    // Without failOnErrors every operation runs.
    let r = s
        .post(
            "/Bulk",
            bulk(
                json!([{"method": "DELETE", "path": "/Users/nope"}, user("d")]),
                None,
            ),
        )
        .await;
    let ops = r.body["Operations"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        (ops[0]["status"].clone(), ops[1]["status"].clone()),
        (json!("404"), json!("201"))
    );
}

#[tokio::test]
async fn unresolvable_references_and_bad_operations() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Bulk",
            bulk(json!([
                {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"displayName": "A", "members": [{"value": "bulkId:b"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {"displayName": "B", "members": [{"value": "bulkId:a"}]}},
                {"method": "GET", "path": "/Users"},
                {"method": "POST", "path": "/Things", "data": {}}
            ]), None),
        )
        .await;
    let ops = r.body["Operations"].as_array().cloned().unwrap_or_default();
    assert_eq!(ops.len(), 4, "{}", r.text);
    assert_eq!(ops[0]["status"], "409", "circular references: {}", r.text);
    assert_eq!(ops[1]["status"], "409");
    assert_eq!(ops[2]["status"], "400");
    assert_eq!(ops[3]["status"], "400");
    assert_eq!(ops[3]["response"]["scimType"], "invalidPath");
}

#[tokio::test]
async fn limits_are_advertised_and_enforced() {
    let s = TestServer::start_with(Limits {
        bulk_max_operations: 2,
        ..Limits::default()
    })
    .await;
    let spc = s.get("/ServiceProviderConfig").await;
    assert_eq!(spc.body["bulk"]["maxOperations"], 2);
    let op = json!({"method": "DELETE", "path": "/Users/x"});
    let r = s
        .post("/Bulk", bulk(json!([op.clone(), op.clone(), op]), None))
        .await;
    r.assert_error(413, None);
    let big = "x".repeat(5 * 1024 * 1024);
    let r = s
        .post(
            "/Bulk",
            bulk(
                json!([{"method": "POST", "path": "/Users", "data": {"userName": big}}]),
                None,
            ),
        )
        .await;
    r.assert_error(413, None);
}

//! The admin API's OpenAPI document matches its routes: every path and method the document
//! names is routed (answers with the admin API's own JSON, never the 404/405 of an unknown
//! endpoint), and what is routed is in the document.

use crate::support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A plausible value for each path parameter: the test tenant, and ids that exist nowhere.
fn fill(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let name = &rest[open + 1..close];
        out.push_str(if name == "tenant" {
            "test"
        } else {
            "00000000-0000-4000-8000-000000000000"
        });
        rest = &rest[(close + 1).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let s = TestServer::start().await;
    let key = s.operator_key().await;
    let doc = s.admin(&key, Method::GET, "/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK, "{}", doc.text);
    assert!(
        doc.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    let paths = doc.body["paths"].as_object().expect("paths");
    assert!(paths.len() >= 25, "{} paths", paths.len());
    let mut calls = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
            assert!(
                op["responses"].is_object(),
                "{method} {path} documents its responses"
            );
            // Writes get an empty object: routed handlers answer 400/404 in their own format.
            let body = (m != Method::GET && m != Method::DELETE).then(|| json!({}));
            let r = s.admin(&key, m.clone(), &fill(path), body).await;
            calls += 1;
            assert_ne!(
                r.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {}",
                r.text
            );
            assert!(
                (r.status.is_success() || r.body["code"].is_string())
                    && !r.text.contains("no admin API endpoint here"),
                "{method} {path} is not routed to the admin API: {} {}",
                r.status,
                r.text
            );
        }
    }
    assert!(calls >= 45, "{calls} operations");
}

#[tokio::test]
async fn every_route_is_documented() {
    // The router is built from the same annotated handlers as the document; a path the router
    // knows but the document does not would answer here while missing from `paths`.
    let doc = muster::http::admin::openapi();
    let documented: Vec<&String> = doc.paths.paths.keys().collect();
    for expected in [
        "/session",
        "/password",
        "/tenants",
        "/tenants/{tenant}",
        "/tenants/{tenant}/tokens/{id}/rotate",
        "/tenants/{tenant}/users/{id}/access",
        "/tenants/{tenant}/groups/{id}/members/{user}",
        "/tenants/{tenant}/instances/{id}/keys",
        "/tenants/{tenant}/jit-signin",
        "/tenants/{tenant}/audit",
    ] {
        assert!(
            documented.iter().any(|p| *p == expected),
            "{expected} missing"
        );
    }
    let v: Value = serde_json::to_value(&doc).expect("serialises");
    assert!(v["components"]["securitySchemes"]["bearer"].is_object());
    assert!(v["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn unknown_admin_paths_and_methods_answer_in_the_admin_format() {
    let s = TestServer::start().await;
    let key = s.operator_key().await;
    let r = s.admin(&key, Method::GET, "/nothing/here", None).await;
    r.assert_admin_error(404, "not_found");
    let r = s
        .admin(&key, Method::PUT, "/tenants", Some(json!({})))
        .await;
    r.assert_admin_error(405, "method_not_allowed");
}

//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` (product rule 16: with or without a token).

use crate::support::TestServer;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn discovery_answers_with_and_without_a_token() {
    let s = TestServer::start().await;
    for path in [
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/Schemas",
        "/ResourceTypes/User",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
        "/serviceproviderconfig",
    ] {
        for token in [s.token.as_str(), ""] {
            let r = s.send_as(token, Method::GET, path, None, &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
            assert!(
                r.header("content-type")
                    .is_some_and(|c| c.starts_with("application/scim+json"))
            );
        }
    }
    let r = s.get("/ServiceProviderConfig").await;
    assert_eq!(r.body["patch"]["supported"], true);
    assert_eq!(r.body["bulk"]["maxOperations"], 1000);
    assert_eq!(r.body["filter"]["maxResults"], 1000);
    let r = s.get("/Schemas").await;
    assert_eq!(r.body["totalResults"], 3);
    let r = s.get("/Schemas/urn:nope").await;
    r.assert_error(404, None);
    let r = s
        .send(Method::POST, "/Schemas", Some(serde_json::json!({})))
        .await;
    r.assert_error(405, None);
}

//! The README's walk-through, end to end.

use crate::support::{TestServer, patch_op};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_filter_patch_and_group_a_user() {
    let s = TestServer::start().await;
    let id = s.user("Ann@Example.com").await;
    let r = s
        .get("/Users?filter=userName%20eq%20%22ann@example.COM%22")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["id"], id.as_str());
    assert_eq!(
        r.body["Resources"][0]["userName"], "Ann@Example.com",
        "original case kept"
    );

    let r = s
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "replace", "path": "name.givenName", "value": "Anne"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));

    let g = s.group("Engineering", &[&id]).await;
    let r = s.get(&format!("/Groups/{g}")).await;
    assert_eq!(r.body["members"][0]["value"], id.as_str());
    assert_eq!(r.body["members"][0]["type"], "User");
    let r = s.get(&format!("/Users/{id}")).await;
    assert_eq!(r.body["name"]["givenName"], "Anne");
    assert_eq!(r.body["groups"][0]["value"], g.as_str());
    assert_eq!(r.body["groups"][0]["display"], "Engineering");
}

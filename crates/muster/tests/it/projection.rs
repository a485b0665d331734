//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) on every read and write.

use crate::support::{ENTERPRISE, TestServer, USER_SCHEMA, enc, patch_op};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn body() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": "proj@x.com",
        "externalId": "p-1",
        "title": "Boss",
        "active": true,
        "name": {"givenName": "Pro", "familyName": "Jection"},
        "emails": [{"value": "proj@x.com", "type": "work", "primary": true},
                   {"value": "p@home.org", "type": "home"}],
        ENTERPRISE: {"department": "Ops", "costCenter": "42"}
    })
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

fn k(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn attributes_on_get_one() {
    let s = TestServer::start().await;
    let id = s.create_user(body()).await.id();
    let get = |q: &str| {
        let s = &s;
        let url = format!("/Users/{id}?{q}");
        async move { s.get_ok(&url).await }
    };
    let b = get("attributes=userName").await;
    assert_eq!(keys(&b), k(&["schemas", "id", "userName"]), "{b}");
    let b = get("attributes=USERNAME,Title").await;
    assert_eq!(keys(&b), k(&["schemas", "id", "userName", "title"]), "{b}");
    let b = get("attributes=name.givenName").await;
    assert_eq!(b["name"], json!({"givenName": "Pro"}));
    let b = get("attributes=emails.value").await;
    assert_eq!(
        b["emails"],
        json!([{"value": "proj@x.com"}, {"value": "p@home.org"}])
    );
    let b = get(&format!(
        "attributes={}",
        enc(&format!("{ENTERPRISE}:department"))
    ))
    .await;
    assert_eq!(b[ENTERPRISE], json!({"department": "Ops"}), "{b}");
    assert!(
        b["schemas"]
            .as_array()
            .is_some_and(|a| a.contains(&json!(ENTERPRISE)))
    );
    assert!(b.get("userName").is_none());
    let b = get(&format!("attributes={}", enc(ENTERPRISE))).await;
    assert_eq!(
        b[ENTERPRISE],
        json!({"department": "Ops", "costCenter": "42"})
    );
    let b = get("attributes=meta.created,id").await;
    assert_eq!(keys(&b), k(&["schemas", "id", "meta"]), "{b}");
    assert_eq!(keys(&b["meta"]), k(&["created"]));
    // An attribute no schema defines selects nothing but is not an error.
    let b = get("attributes=nosuch").await;
    assert_eq!(keys(&b), k(&["schemas", "id"]), "{b}");
}

#[tokio::test]
async fn excluded_attributes_on_get_one() {
    let s = TestServer::start().await;
    let id = s.create_user(body()).await.id();
    let b = s
        .get_ok(&format!("/Users/{id}?excludedAttributes=emails,NAME"))
        .await;
    assert!(b.get("emails").is_none() && b.get("name").is_none(), "{b}");
    for kept in ["userName", "title", "externalId", "meta", ENTERPRISE] {
        assert!(b.get(kept).is_some(), "{kept} missing: {b}");
    }
    let b = s
        .get_ok(&format!("/Users/{id}?excludedAttributes=name.familyName"))
        .await;
    assert_eq!(b["name"], json!({"givenName": "Pro"}));
    let b = s
        .get_ok(&format!(
            "/Users/{id}?excludedAttributes={}",
            enc(ENTERPRISE)
        ))
        .await;
    assert!(b.get(ENTERPRISE).is_none(), "{b}");
    assert_eq!(b["schemas"], json!([USER_SCHEMA]));
    // `id` is returned always.
    let b = s
        .get_ok(&format!("/Users/{id}?excludedAttributes=id,userName"))
        .await;
    assert_eq!(b["id"], id.as_str());
}

#[tokio::test]
async fn projection_applies_to_every_listed_resource() {
    let s = TestServer::start().await;
    s.create_user(body()).await;
    s.user("other@x.com").await;
    let r = s.get("/Users?attributes=userName").await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.body["Resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2);
    for u in &list {
        assert_eq!(keys(u), k(&["schemas", "id", "userName"]), "{u}");
    }
    let r = s.get("/Users?excludedAttributes=emails,meta").await;
    for u in r.body["Resources"].as_array().cloned().unwrap_or_default() {
        assert!(u.get("emails").is_none() && u.get("meta").is_none(), "{u}");
        assert!(u.get("userName").is_some());
    }
    let r = s
        .post(
            "/Users/.search",
            json!({"attributes": ["userName", "name.familyName"], "excludedAttributes": []}),
        )
        .await;
    for u in r.body["Resources"].as_array().cloned().unwrap_or_default() {
        let expect = if u.get("name").is_some() {
            k(&["schemas", "id", "userName", "name"])
        } else {
            k(&["schemas", "id", "userName"])
        };
        assert_eq!(keys(&u), expect, "{u}");
    }
    let r = s
        .post("/Users/.search", json!({"excludedAttributes": "emails"}))
        .await;
    for u in r.body["Resources"].as_array().cloned().unwrap_or_default() {
        assert!(u.get("emails").is_none(), "{u}");
    }
}

#[tokio::test]
async fn projection_on_post_and_put() {
    let s = TestServer::start().await;
    let r = s.post("/Users?attributes=userName", body()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        k(&["schemas", "id", "userName"]),
        "{}",
        r.text
    );
    assert!(r.header("location").is_some() && r.header("etag").is_some());
    let id = r.id();
    // Everything was stored even though little was returned.
    assert_eq!(s.get_ok(&format!("/Users/{id}")).await["title"], "Boss");

    let mut changed = body();
    changed["title"] = json!("Boss 2");
    let r = s
        .put(
            &format!("/Users/{id}?excludedAttributes=name,emails"),
            changed,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body.get("name").is_none() && r.body.get("emails").is_none());
    assert_eq!(r.body["title"], "Boss 2");
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));

    let r = s
        .post(
            "/Groups?excludedAttributes=members",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                   "displayName": "G", "members": [{"value": id}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.body.get("members").is_none(), "{}", r.text);
    let g = s.get_ok(&format!("/Groups/{}", r.id())).await;
    assert_eq!(g["members"][0]["value"], id.as_str());
}

#[tokio::test]
async fn patch_answers_200_with_a_body_only_when_asked() {
    let s = TestServer::start().await;
    let id = s.create_user(body()).await.id();
    let op = || patch_op(json!([{"op": "replace", "path": "title", "value": "Chief"}]));

    let r = s.patch(&format!("/Users/{id}"), op()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(r.text.is_empty());
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));

    let r = s
        .patch(&format!("/Users/{id}?attributes=title,userName"), op())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        k(&["schemas", "id", "title", "userName"]),
        "{}",
        r.text
    );
    assert_eq!(r.body["title"], "Chief");
    assert_eq!(
        r.header("etag").as_deref(),
        Some("W/\"2\""),
        "no-op: same version"
    );

    let r = s
        .patch(
            &format!("/Users/{id}?excludedAttributes=emails"),
            patch_op(json!([{"op": "replace", "path": "title", "value": "CEO"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body.get("emails").is_none());
    assert_eq!(r.body["title"], "CEO");
    assert_eq!(r.body["meta"]["version"], "W/\"3\"");
    assert_eq!(r.header("etag").as_deref(), Some("W/\"3\""));

    // Groups: 204 without, 200 with members when asked.
    let g = s.group("Team", &[]).await;
    let add = patch_op(json!([{"op": "add", "path": "members", "value": [{"value": id}]}]));
    let r = s.patch(&format!("/Groups/{g}"), add).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    let r = s
        .patch(
            &format!("/Groups/{g}?attributes=members,displayName"),
            patch_op(json!([{"op": "replace", "path": "displayName", "value": "Team 2"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["displayName"], "Team 2");
    assert_eq!(r.body["members"][0]["value"], id.as_str(), "{}", r.text);
}

#[tokio::test]
async fn groups_projection() {
    let s = TestServer::start().await;
    let u = s.user("m@x.com").await;
    let g = s.group("Projected", &[&u]).await;
    let b = s
        .get_ok(&format!("/Groups/{g}?attributes=displayName"))
        .await;
    assert_eq!(keys(&b), k(&["schemas", "id", "displayName"]), "{b}");
    let b = s
        .get_ok(&format!("/Groups/{g}?attributes=members.value"))
        .await;
    assert_eq!(b["members"], json!([{"value": u}]), "{b}");
    let b = s
        .get_ok(&format!("/Groups/{g}?excludedAttributes=members.display"))
        .await;
    assert!(b["members"][0].get("display").is_none(), "{b}");
    assert_eq!(b["members"][0]["value"], u.as_str());
}

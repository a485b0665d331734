//! `meta.version`, `ETag`, `If-Match` and `If-None-Match` (RFC 7644 §3.14).

use crate::support::{GROUP_SCHEMA, Resp, TestServer, USER_SCHEMA, patch_op};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn with(
    s: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Resp {
    s.send_as(&s.token, method, path, body, headers).await
}

#[track_caller]
fn assert_etag_is_version(r: &Resp) {
    let etag = r.header("etag");
    assert!(etag.is_some(), "no ETag: {:?}", r.headers);
    assert_eq!(
        etag.as_deref(),
        r.body["meta"]["version"].as_str(),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn every_resource_response_carries_its_etag() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Users",
            json!({"schemas": [USER_SCHEMA], "userName": "v@x.com"}),
        )
        .await;
    assert_etag_is_version(&r);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"1\""));
    let id = r.id();
    let p = format!("/Users/{id}");
    let r = s.get(&p).await;
    assert_etag_is_version(&r);
    let r = s
        .put(
            &p,
            json!({"schemas": [USER_SCHEMA], "userName": "v@x.com", "title": "t"}),
        )
        .await;
    assert_etag_is_version(&r);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    let r = s
        .patch(
            &p,
            patch_op(json!([{"op": "replace", "path": "title", "value": "u"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"3\""));
    let r = s
        .patch(
            &format!("{p}?attributes=title"),
            patch_op(json!([{"op": "replace", "path": "title", "value": "w"}])),
        )
        .await;
    assert_eq!(r.header("etag").as_deref(), Some("W/\"4\""));
    // GET does not change it; list entries carry meta.version too.
    assert_eq!(s.get(&p).await.header("etag").as_deref(), Some("W/\"4\""));
    let list = s.get("/Users").await;
    assert_eq!(list.body["Resources"][0]["meta"]["version"], "W/\"4\"");

    let g = s
        .post(
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "V"}),
        )
        .await;
    assert_etag_is_version(&g);
    let gp = format!("/Groups/{}", g.id());
    assert_etag_is_version(&s.get(&gp).await);
    // A member change bumps the group's version.
    let r = s
        .patch(
            &gp,
            patch_op(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
        )
        .await;
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    assert_eq!(s.get(&gp).await.header("etag").as_deref(), Some("W/\"2\""));
}

#[tokio::test]
async fn if_match_current_succeeds_and_stale_is_412_without_change() {
    let s = TestServer::start().await;
    let id = s.user("im@x.com").await;
    let p = format!("/Users/{id}");
    let title = |t: &str| patch_op(json!([{"op": "replace", "path": "title", "value": t}]));

    // PATCH.
    let r = with(
        &s,
        Method::PATCH,
        &p,
        Some(title("one")),
        &[("If-Match", "W/\"1\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    let r = with(
        &s,
        Method::PATCH,
        &p,
        Some(title("stale")),
        &[("If-Match", "W/\"1\"")],
    )
    .await;
    r.assert_error(412, None);
    let u = s.get_ok(&p).await;
    assert_eq!(u["title"], "one");
    assert_eq!(u["meta"]["version"], "W/\"2\"");

    // PUT.
    let body = |t: &str| json!({"schemas": [USER_SCHEMA], "userName": "im@x.com", "title": t});
    let r = with(
        &s,
        Method::PUT,
        &p,
        Some(body("stale")),
        &[("If-Match", "W/\"1\"")],
    )
    .await;
    r.assert_error(412, None);
    assert_eq!(s.get_ok(&p).await["title"], "one");
    let r = with(
        &s,
        Method::PUT,
        &p,
        Some(body("two")),
        &[("If-Match", "W/\"2\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"3\""));
    // A strong form of the same tag matches too (SCIM compares weakly).
    let r = with(
        &s,
        Method::PUT,
        &p,
        Some(body("three")),
        &[("If-Match", "\"3\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // DELETE.
    let r = with(&s, Method::DELETE, &p, None, &[("If-Match", "W/\"1\"")]).await;
    r.assert_error(412, None);
    assert_eq!(s.get(&p).await.status, StatusCode::OK, "still there");
    let r = with(&s, Method::DELETE, &p, None, &[("If-Match", "W/\"4\"")]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(s.get(&p).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn if_match_star_and_garbage() {
    let s = TestServer::start().await;
    let id = s.user("star@x.com").await;
    let p = format!("/Users/{id}");
    let op = patch_op(json!([{"op": "replace", "path": "title", "value": "x"}]));
    let r = with(
        &s,
        Method::PATCH,
        &p,
        Some(op.clone()),
        &[("If-Match", "*")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = with(
        &s,
        Method::PATCH,
        &p,
        Some(op.clone()),
        &[("If-Match", "not-an-etag")],
    )
    .await;
    r.assert_error(412, None);
    let r = with(&s, Method::DELETE, &p, None, &[("If-Match", "*")]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // `*` on a missing resource: still 404.
    let r = with(&s, Method::PATCH, &p, Some(op), &[("If-Match", "*")]).await;
    r.assert_error(404, None);
}

#[tokio::test]
async fn if_match_accepts_a_list_of_etags() {
    let s = TestServer::start().await;
    let id = s.user("list@x.com").await;
    let r = with(
        &s,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch_op(
            json!([{"op": "replace", "path": "title", "value": "x"}]),
        )),
        &[("If-Match", "W/\"7\", W/\"1\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
}

#[tokio::test]
async fn if_match_on_groups() {
    let s = TestServer::start().await;
    let u = s.user("m@x.com").await;
    let g = s.group("Locked", &[]).await;
    let p = format!("/Groups/{g}");
    let add = patch_op(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]));
    let r = with(
        &s,
        Method::PATCH,
        &p,
        Some(add.clone()),
        &[("If-Match", "W/\"9\"")],
    )
    .await;
    r.assert_error(412, None);
    assert!(s.get_ok(&p).await.get("members").is_none());
    let r = with(&s, Method::PATCH, &p, Some(add), &[("If-Match", "W/\"1\"")]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = with(
        &s,
        Method::PUT,
        &p,
        Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "Locked"})),
        &[("If-Match", "W/\"1\"")],
    )
    .await;
    r.assert_error(412, None);
    assert_eq!(s.get_ok(&p).await["members"][0]["value"], u.as_str());
}

#[tokio::test]
async fn if_none_match_on_get() {
    let s = TestServer::start().await;
    let id = s.user("inm@x.com").await;
    let p = format!("/Users/{id}");
    let r = with(&s, Method::GET, &p, None, &[("If-None-Match", "W/\"1\"")]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{}", r.text);
    assert!(r.text.is_empty());
    assert_eq!(r.header("etag").as_deref(), Some("W/\"1\""));
    let r = with(&s, Method::GET, &p, None, &[("If-None-Match", "*")]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = with(
        &s,
        Method::GET,
        &p,
        None,
        &[("If-None-Match", "W/\"0\", W/\"1\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = with(&s, Method::GET, &p, None, &[("If-None-Match", "W/\"0\"")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["userName"], "inm@x.com");
    // After a change the old tag no longer matches.
    let r = s
        .patch(
            &p,
            patch_op(json!([{"op": "replace", "path": "title", "value": "x"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = with(&s, Method::GET, &p, None, &[("If-None-Match", "W/\"1\"")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["title"], "x");
    // On a group.
    let g = s.group("Cached", &[]).await;
    let r = with(
        &s,
        Method::GET,
        &format!("/Groups/{g}"),
        None,
        &[("If-None-Match", "W/\"1\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn a_group_etag_changes_when_a_member_is_deleted() {
    let s = TestServer::start().await;
    let u = s.user("leaver@x.com").await;
    let g = s.group("Cache", &[&u]).await;
    let p = format!("/Groups/{g}");
    let before = s.get(&p).await.header("etag").unwrap_or_default();
    let r = s.delete(&format!("/Users/{u}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = with(
        &s,
        Method::GET,
        &p,
        None,
        &[("If-None-Match", before.as_str())],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "stale members served as 304");
    assert_ne!(r.header("etag"), Some(before));
}

/// A group's write bumps its version before the change is known (the store locks it so); one
/// that changes nothing, is refused, or fails must leave version and lastModified as they were.
#[tokio::test]
async fn a_group_patch_that_changes_nothing_keeps_version_and_last_modified() {
    let s = TestServer::start().await;
    let u = s.user("still@x.com").await;
    let g = s.group("Still", &[&u]).await;
    let p = format!("/Groups/{g}");
    let before = s.get_ok(&p).await;
    assert_eq!(before["meta"]["version"], "W/\"1\"");
    let unchanged = [
        json!([]),
        json!([{"op": "replace", "path": "displayName", "value": "Still"}]),
        json!([{"op": "remove", "path": "externalId"}]),
    ];
    for ops in unchanged {
        let r = s
            .patch(
                &format!("{p}?attributes=displayName,meta"),
                patch_op(ops.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{ops}: {}", r.text);
        assert_eq!(r.header("etag").as_deref(), Some("W/\"1\""), "{ops}");
        assert_eq!(r.body["meta"]["version"], "W/\"1\"", "{ops}: {}", r.text);
        assert_eq!(
            r.body["meta"]["lastModified"], before["meta"]["lastModified"],
            "{ops}: {}",
            r.text
        );
    }
    let refused = [
        json!([{"op": "replace", "path": "id", "value": "other"}]),
        json!([{"op": "add", "path": "members", "value": [{"value": "no-such-id"}]}]),
    ];
    for ops in refused {
        let r = s.patch(&p, patch_op(ops.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{ops}: {}", r.text);
    }
    let stale = patch_op(json!([{"op": "replace", "path": "displayName", "value": "Moved"}]));
    with(
        &s,
        Method::PATCH,
        &p,
        Some(stale),
        &[("If-Match", "W/\"7\"")],
    )
    .await
    .assert_error(412, None);
    let after = s.get_ok(&p).await;
    assert_eq!(after, before, "the group changed");

    // A change does bump it, once, with the new lastModified in the answer.
    let add = patch_op(json!([{"op": "add", "path": "displayName", "value": "Moved"}]));
    let r = s
        .patch(&format!("{p}?attributes=displayName,meta"), add)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    let now = s.get_ok(&p).await;
    assert_eq!(now["meta"], r.body["meta"]);
    assert_eq!(now["displayName"], "Moved");
}

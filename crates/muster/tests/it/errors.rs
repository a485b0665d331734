//! Error answers: RFC 7644 §3.12 bodies with the right status and scimType, content types,
//! and never a 500 for a client's mistake.

use crate::support::{GROUP_SCHEMA, TestServer, USER_SCHEMA, patch_op};
use muster_domain::service::Limits;
use reqwest::{Method, StatusCode};
use serde_json::json;

const JSON_CT: (&str, &str) = ("Content-Type", "application/scim+json");

#[tokio::test]
async fn malformed_json_is_400_invalid_syntax() {
    let s = TestServer::start().await;
    let id = s.user("a@x.com").await;
    let g = s.group("G", &[]).await;
    let targets = [
        (Method::POST, "/Users".to_string()),
        (Method::PUT, format!("/Users/{id}")),
        (Method::PATCH, format!("/Users/{id}")),
        (Method::POST, "/Groups".to_string()),
        (Method::PUT, format!("/Groups/{g}")),
        (Method::PATCH, format!("/Groups/{g}")),
        (Method::POST, "/Users/.search".to_string()),
        (Method::POST, "/Groups/.search".to_string()),
        (Method::POST, "/.search".to_string()),
    ];
    for (method, path) in &targets {
        for body in [
            &b"{\"userName\": "[..],
            b"{'single': 'quotes'}",
            b"not json at all",
            b"",
            b"   ",
            b"{\"a\": 1,}",
            b"\xff\xfe\x00",
        ] {
            let r = s
                .raw(
                    &s.token,
                    method.clone(),
                    path,
                    &[JSON_CT],
                    Some(body.to_vec()),
                )
                .await;
            r.assert_error(400, Some("invalidSyntax"));
        }
    }
    // Valid JSON that is not an object.
    for body in [json!([]), json!("text"), json!(42), json!(null)] {
        s.post("/Users", body.clone())
            .await
            .assert_error(400, Some("invalidSyntax"));
        s.patch(&format!("/Users/{id}"), body)
            .await
            .assert_error(400, Some("invalidSyntax"));
    }
    assert_eq!(s.get("/Users").await.body["totalResults"], 1);
}

#[tokio::test]
async fn wrong_values_are_400_invalid_value() {
    let s = TestServer::start().await;
    for body in [
        json!({"schemas": [USER_SCHEMA], "userName": "a@x.com", "active": "maybe"}),
        json!({"schemas": [USER_SCHEMA], "userName": "a@x.com", "name": "Ann"}),
        json!({"schemas": [USER_SCHEMA], "userName": {"nested": true}}),
        json!({"schemas": [USER_SCHEMA], "userName": ["a", "b"]}),
        json!({"schemas": [GROUP_SCHEMA], "userName": "a@x.com"}),
        json!({"schemas": [USER_SCHEMA], "userName": "a@x.com", "emails": [{"value": {"x": 1}}]}),
        json!({"schemas": [USER_SCHEMA], "userName": "a@x.com", ENTERPRISE_KEY: "not an object"}),
    ] {
        s.post("/Users", body)
            .await
            .assert_error(400, Some("invalidValue"));
    }
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);
}

const ENTERPRISE_KEY: &str = crate::support::ENTERPRISE;

#[tokio::test]
async fn unknown_ids_are_404() {
    let s = TestServer::start().await;
    let missing = "00000000-0000-4000-8000-000000000000";
    for kind in ["Users", "Groups"] {
        let p = format!("/{kind}/{missing}");
        s.get(&p).await.assert_error(404, None);
        s.delete(&p).await.assert_error(404, None);
        let body = if kind == "Users" {
            json!({"schemas": [USER_SCHEMA], "userName": "x@x.com"})
        } else {
            json!({"schemas": [GROUP_SCHEMA], "displayName": "x"})
        };
        s.put(&p, body).await.assert_error(404, None);
        s.patch(
            &p,
            patch_op(json!([{"op": "add", "path": "externalId", "value": "x"}])),
        )
        .await
        .assert_error(404, None);
        // The detail names what was not found.
        let r = s.get(&p).await;
        assert!(r.text.contains(missing), "{}", r.text);
    }
    // A user id is not a group id and vice versa.
    let u = s.user("u@x.com").await;
    s.get(&format!("/Groups/{u}")).await.assert_error(404, None);
    // Ids are case-sensitive: path normalisation must not touch them.
    s.get(&format!("/Users/{}", u.to_uppercase()))
        .await
        .assert_error(404, None);
}

#[tokio::test]
async fn unknown_routes_are_404_with_a_scim_body() {
    let s = TestServer::start().await;
    for path in [
        "/Nope",
        "/Users/abc/extra",
        "/Userz",
        "/Groups/a/b/c",
        "/ResourceTypes/Nope",
    ] {
        s.get(path).await.assert_error(404, None);
    }
    let r = s.get(&format!("{}/nothing/here", s.origin)).await;
    r.assert_error(404, None);
    let r = s.get(&format!("{}/api/scim/v3/Users", s.origin)).await;
    r.assert_error(404, None);
}

#[tokio::test]
async fn wrong_methods_are_405() {
    let s = TestServer::start().await;
    let id = s.user("m@x.com").await;
    for (method, path) in [
        (Method::DELETE, "/Users".to_string()),
        (Method::PUT, "/Users".to_string()),
        (Method::PATCH, "/Groups".to_string()),
        (Method::GET, "/Users/.search".to_string()),
        (Method::GET, "/.search".to_string()),
        (Method::POST, format!("/Users/{id}")),
        (Method::PUT, "/ServiceProviderConfig".to_string()),
    ] {
        let r = s
            .send(
                method.clone(),
                &path,
                Some(json!({"schemas": [USER_SCHEMA], "userName": "z@x.com"})),
            )
            .await;
        r.assert_error(405, None);
    }
    assert_eq!(s.get("/Users").await.body["totalResults"], 1);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let s = TestServer::start_with(Limits {
        max_body: 2048,
        ..Limits::default()
    })
    .await;
    let big = json!({"schemas": [USER_SCHEMA], "userName": "big@x.com", "title": "x".repeat(4096)});
    let r = s.post("/Users", big).await;
    r.assert_error(413, None);
    assert!(r.text.contains("2048"), "{}", r.text);
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);
    let id = s.user("small@x.com").await;
    let r = s
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "replace", "path": "title", "value": "y".repeat(4096)}])),
        )
        .await;
    r.assert_error(413, None);
    let r = s
        .post(
            "/Users/.search",
            json!({"filter": format!("title eq \"{}\"", "z".repeat(4096))}),
        )
        .await;
    r.assert_error(413, None);
}

#[tokio::test]
async fn a_huge_body_is_413_with_the_default_limit() {
    let s = TestServer::start().await;
    let huge = json!({"schemas": [USER_SCHEMA], "userName": "huge@x.com", "title": "x".repeat(5 * 1024 * 1024)});
    let r = s.post("/Users", huge).await;
    r.assert_error(413, None);
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn other_content_types_are_415() {
    let s = TestServer::start().await;
    let id = s.user("ct@x.com").await;
    let user = json!({"schemas": [USER_SCHEMA], "userName": "ct2@x.com"}).to_string();
    for ct in [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        for (method, path) in [
            (Method::POST, "/Users".to_string()),
            (Method::PUT, format!("/Users/{id}")),
            (Method::PATCH, format!("/Users/{id}")),
            (Method::POST, "/Users/.search".to_string()),
        ] {
            let r = s
                .raw(
                    &s.token,
                    method,
                    &path,
                    &[("Content-Type", ct)],
                    Some(user.clone().into_bytes()),
                )
                .await;
            r.assert_error(415, None);
        }
    }
    assert_eq!(s.get("/Users").await.body["totalResults"], 1);
}

#[tokio::test]
async fn scim_json_and_plain_json_are_accepted_and_answers_are_scim_json() {
    let s = TestServer::start().await;
    for (i, ct) in [
        "application/scim+json",
        "application/json",
        "application/scim+json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"schemas": [USER_SCHEMA], "userName": format!("ct{i}@x.com")});
        let r = s
            .raw(
                &s.token,
                Method::POST,
                "/Users",
                &[("Content-Type", ct), ("Accept", "application/json")],
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{ct}: {}", r.text);
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("application/scim+json")),
            "{ct}: {:?}",
            r.headers
        );
    }
    for path in ["/Users", "/Groups", "/ServiceProviderConfig"] {
        let r = s.get(path).await;
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("application/scim+json")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn me_is_501() {
    let s = TestServer::start().await;
    for method in [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ] {
        let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
        s.send(method, "/Me", body).await.assert_error(501, None);
    }
}

#[tokio::test]
async fn odd_ids_in_paths_are_clean_errors() {
    let s = TestServer::start().await;
    for id in [
        "%00",
        "..",
        "%2e%2e",
        "a%2Fb",
        "%20",
        "'%20OR%201=1",
        &"x".repeat(2000),
    ] {
        let r = s.get(&format!("/Users/{id}")).await;
        assert!(r.status.is_client_error(), "{id}: {} {}", r.status, r.text);
        r.assert_error(r.status.as_u16(), None);
    }
}

#[tokio::test]
async fn a_non_utf8_id_is_a_scim_error() {
    let s = TestServer::start().await;
    for path in ["/Users/%FF", "/Groups/%C3%28"] {
        let r = s.get(path).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
        r.assert_error(r.status.as_u16(), None);
    }
}

/// A battery of hostile or odd requests: never a 5xx, and every refusal an RFC error body.
#[tokio::test]
async fn client_mistakes_never_cause_a_500() {
    let s = TestServer::start().await;
    let id = s.user("fuzz@x.com").await;
    let g = s.group("Fuzz", &[]).await;
    let deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
    let bodies: Vec<(Method, String, Vec<u8>)> = vec![
        (Method::POST, "/Users".into(), deep.clone().into_bytes()),
        (Method::POST, "/Users".into(), br#"{"userName": "a@x.com", "emails": "x", "name": []}"#.to_vec()),
        (Method::POST, "/Users".into(), br#"{"userName": "a2@x.com", "emails": [[1]]}"#.to_vec()),
        (Method::POST, "/Users".into(), br#"{"userName": "a3@x.com", "addresses": {"type": 5}}"#.to_vec()),
        (Method::POST, "/Users".into(), br#"{"userName": "a4@x.com", "schemas": "nope"}"#.to_vec()),
        (Method::POST, "/Users".into(), br#"{"userName": "a5@x.com", "schemas": [1, 2]}"#.to_vec()),
        (Method::POST, "/Users".into(), br#"{"userName": 1e400}"#.to_vec()),
        (Method::POST, "/Groups".into(), br#"{"displayName": "x", "members": "not-an-id"}"#.to_vec()),
        (Method::POST, "/Groups".into(), br#"{"displayName": "y", "members": [{"value": 5}]}"#.to_vec()),
        (Method::POST, "/Groups".into(), br#"{"displayName": "z", "members": [null, 1, "a"]}"#.to_vec()),
        (Method::POST, "/Groups".into(), br#"{"displayName": ["a", "b"]}"#.to_vec()),
        (Method::PATCH, format!("/Users/{id}"), br#"{"Operations": [{"op": "add", "path": "emails[value eq \"x\"", "value": 1}]}"#.to_vec()),
        (Method::PATCH, format!("/Users/{id}"), br#"{"Operations": [{"op": "add", "path": "urn:", "value": 1}]}"#.to_vec()),
        (Method::PATCH, format!("/Users/{id}"), br#"{"Operations": [{"op": "add", "path": "name.givenName.x", "value": 1}]}"#.to_vec()),
        (Method::PATCH, format!("/Users/{id}"), br#"{"Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": {"o": 1}}]}"#.to_vec()),
        (Method::PATCH, format!("/Users/{id}"), br#"{"Operations": [{"op": "add", "path": "emails", "value": [[]]}]}"#.to_vec()),
        (Method::PATCH, format!("/Users/{id}"), br#"{"Operations": [{"op": null}]}"#.to_vec()),
        (Method::PATCH, format!("/Users/{id}"), br#"{"Operations": [{"op": "add", "path": "", "value": 5}]}"#.to_vec()),
        (Method::PATCH, format!("/Groups/{g}"), br#"{"Operations": [{"op": "add", "path": "members", "value": 5}]}"#.to_vec()),
        (Method::PATCH, format!("/Groups/{g}"), br#"{"Operations": [{"op": "remove", "path": "members", "value": [{}]}]}"#.to_vec()),
        (Method::PATCH, format!("/Groups/{g}"), br#"{"Operations": [{"op": "remove", "path": "members[nosuch eq 1]"}]}"#.to_vec()),
        (Method::PATCH, format!("/Groups/{g}"), br#"{"Operations": [{"op": "replace", "path": "displayName", "value": null}]}"#.to_vec()),
        (Method::PUT, format!("/Groups/{g}"), br#"{"displayName": "", "members": []}"#.to_vec()),
        (Method::POST, "/Users/.search".into(), br#"{"filter": 5, "count": "x"}"#.to_vec()),
        (Method::POST, "/Users/.search".into(), br#"{"startIndex": true}"#.to_vec()),
        (Method::POST, "/Users/.search".into(), br#"{"sortBy": "emails[type eq \"work\"]"}"#.to_vec()),
        (Method::POST, "/.search".into(), br#"{"cursor": ""}"#.to_vec()),
    ];
    for (method, path, body) in bodies {
        let r = s
            .raw(
                &s.token,
                method.clone(),
                &path,
                &[JSON_CT],
                Some(body.clone()),
            )
            .await;
        let shown = String::from_utf8_lossy(&body[..body.len().min(120)]).to_string();
        assert!(
            r.status.as_u16() < 500,
            "{method} {path} {shown}: {} {}",
            r.status,
            r.text
        );
        if !r.status.is_success() {
            r.assert_error(r.status.as_u16(), r.body["scimType"].as_str());
        }
    }
    for q in [
        "filter=%22",
        "filter=userName%20eq%20%22%5Cu00%22",
        "filter=userName%20eq%20%22%00%22",
        "count=-1",
        "startIndex=99999999999999999",
        "startIndex=9223372036854775807&count=1",
        "sortBy=%5B",
        "attributes=%5B%5D,,,",
        "excludedAttributes=urn:",
        "cursor=o99999999999999999999",
        "cursor=s-1",
        "filter=meta.created%20gt%205",
        "filter=userName%20eq%205",
        "filter=groups.display%20eq%20%22x%22",
        "filter=emails%5Bvalue%20eq%20%22x%22%5D.type%20eq%20%22y%22",
        "sortBy=emails.value",
        "sortBy=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "sortBy=groups",
    ] {
        let r = s.get(&format!("/Users?{q}")).await;
        assert!(r.status.as_u16() < 500, "{q}: {} {}", r.status, r.text);
        if !r.status.is_success() {
            r.assert_error(r.status.as_u16(), r.body["scimType"].as_str());
        }
    }
    for q in [
        "filter=members.value%20eq%205",
        "filter=displayName%20eq%205",
        "filter=members.display%20co%20%22x%22",
        "filter=members%5Btype%20eq%20%22User%22%5D",
        "sortBy=members",
    ] {
        let r = s.get(&format!("/Groups?{q}")).await;
        assert!(r.status.as_u16() < 500, "{q}: {} {}", r.status, r.text);
        if !r.status.is_success() {
            r.assert_error(r.status.as_u16(), r.body["scimType"].as_str());
        }
    }
    for body in [
        json!({"sortBy": "userName"}),
        json!({"filter": "members pr"}),
        json!({"excludedAttributes": "members", "count": 1000}),
        json!({"startIndex": 1000, "count": 1000}),
    ] {
        let r = s.post("/.search", body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{body}: {}", r.text);
    }
    // The server is still fine.
    assert_eq!(
        s.get_ok(&format!("/Users/{id}")).await["userName"],
        "fuzz@x.com"
    );
}

#[tokio::test]
async fn nul_characters_are_refused_not_stored() {
    // PostgreSQL cannot store U+0000 in text or JSONB: refuse it up front on every store alike.
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Users",
            serde_json::json!({"userName": "nul@x.com", "title": "a\u{0}b"}),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    let r = s
        .post(
            "/Users",
            serde_json::json!({"userName": "nul@x.com", "x\u{0}": 1}),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    let r = s.get("/Users?filter=userName%20eq%20%22a%00%22").await;
    r.assert_error(400, Some("invalidValue"));
    s.get("/Users/a%00b").await.assert_error(404, None);
}

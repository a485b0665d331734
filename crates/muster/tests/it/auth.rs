//! Authentication, tenant isolation, provisioning modes, and resource paths in any case.

use crate::support::{GROUP_SCHEMA, TestServer, USER_SCHEMA, enc, ids, patch_op};
use muster_domain::model::Mode;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn new_user(name: &str) -> serde_json::Value {
    json!({"schemas": [USER_SCHEMA], "userName": name})
}

#[tokio::test]
async fn missing_or_wrong_tokens_are_401() {
    let s = TestServer::start().await;
    let id = s.user("a@x.com").await;
    let wrong = format!("{}x", s.token);
    for token in ["", "nope", wrong.as_str()] {
        for (method, path, body) in [
            (Method::GET, "/Users".to_string(), None),
            (Method::GET, format!("/Users/{id}"), None),
            (
                Method::POST,
                "/Users".to_string(),
                Some(new_user("b@x.com")),
            ),
            (Method::DELETE, format!("/Users/{id}"), None),
            (Method::GET, "/Groups".to_string(), None),
            (Method::POST, "/.search".to_string(), Some(json!({}))),
        ] {
            let r = s.send_as(token, method, &path, body, &[]).await;
            r.assert_error(401, None);
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer")),
                "{path}"
            );
        }
    }
    let headers: [&str; 5] = [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer  ",
        "Token abc",
    ];
    for h in headers {
        let r = s
            .raw("", Method::GET, "/Users", &[("Authorization", h)], None)
            .await;
        r.assert_error(401, None);
    }
    // Nothing was created or deleted.
    assert_eq!(ids(&s.get("/Users").await), vec![id]);
}

#[tokio::test]
async fn bare_and_any_case_bearer_tokens_work() {
    let s = TestServer::start().await;
    let bare = s.token.clone();
    let lower = format!("bearer {}", s.token);
    let upper = format!("BEARER {}", s.token);
    for h in [bare.as_str(), lower.as_str(), upper.as_str()] {
        let r = s
            .raw("", Method::GET, "/Users", &[("Authorization", h)], None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{h}: {}", r.text);
    }
    // Okta's header auth, on a write.
    let r = s
        .raw(
            "",
            Method::POST,
            "/Users",
            &[
                ("Authorization", bare.as_str()),
                ("Content-Type", "application/scim+json"),
            ],
            Some(new_user("okta@x.com").to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[tokio::test]
async fn a_token_revoked_elsewhere_is_401_within_the_cache_time() {
    // Revoked in the store directly, as the CLI or another node does: this node notices when
    // its cached authentication runs out.
    let ttl = std::time::Duration::from_millis(300);
    let s = TestServer::start_configured(Default::default(), |st| {
        st.tokens = std::sync::Arc::new(muster::token_cache::TokenCache::new(ttl));
    })
    .await;
    let tenant = s
        .store
        .tenant_by_name("test")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no tenant"));
    let second = s.tenant_token(&tenant.id).await;
    let r = s.send_as(&second, Method::GET, "/Users", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let tokens = s
        .store
        .list_tokens(&tenant.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let newest = tokens
        .iter()
        .find(|t| second.starts_with(&t.prefix))
        .unwrap_or_else(|| panic!("token not listed: {tokens:?}"));
    assert!(
        s.store
            .revoke_token(&newest.id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );
    tokio::time::sleep(ttl).await;
    s.send_as(&second, Method::GET, "/Users", None, &[])
        .await
        .assert_error(401, None);
    // The other token of the tenant still works.
    assert_eq!(s.get("/Users").await.status, StatusCode::OK);
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let s = TestServer::start().await;
    let other = s.tenant("other", Mode::Scim).await;
    let ann = s.user("ann@x.com").await;
    let g = s.group("Secret Group", &[&ann]).await;
    let as_other = |method: Method, path: String, body: Option<serde_json::Value>| {
        let s = &s;
        let other = other.clone();
        async move { s.send_as(&other, method, &path, body, &[]).await }
    };
    for (kind, id) in [("Users", &ann), ("Groups", &g)] {
        let p = format!("/{kind}/{id}");
        as_other(Method::GET, p.clone(), None)
            .await
            .assert_error(404, None);
        as_other(
            Method::PATCH,
            p.clone(),
            Some(patch_op(
                json!([{"op": "replace", "path": "externalId", "value": "pwned"}]),
            )),
        )
        .await
        .assert_error(404, None);
        let body = if kind == "Users" {
            new_user("ann@x.com")
        } else {
            json!({"schemas": [GROUP_SCHEMA], "displayName": "pwned"})
        };
        as_other(Method::PUT, p.clone(), Some(body))
            .await
            .assert_error(404, None);
        as_other(Method::DELETE, p.clone(), None)
            .await
            .assert_error(404, None);
        let list = as_other(Method::GET, format!("/{kind}"), None).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body["totalResults"], 0, "{}", list.text);
        assert_eq!(list.body["Resources"], json!([]));
    }
    for f in [
        "userName eq \"ann@x.com\"".to_string(),
        format!("id eq \"{ann}\""),
        format!("groups.value eq \"{g}\""),
        "userName pr".to_string(),
    ] {
        let r = as_other(Method::GET, format!("/Users?filter={}", enc(&f)), None).await;
        assert_eq!(r.body["totalResults"], 0, "{f}: {}", r.text);
    }
    for f in [
        format!("members.value eq \"{ann}\""),
        "displayName eq \"secret group\"".to_string(),
    ] {
        let r = as_other(Method::GET, format!("/Groups?filter={}", enc(&f)), None).await;
        assert_eq!(r.body["totalResults"], 0, "{f}: {}", r.text);
    }
    let r = as_other(Method::POST, "/.search".into(), Some(json!({}))).await;
    assert_eq!(r.body["totalResults"], 0, "{}", r.text);
    let r = as_other(Method::GET, "/Users?cursor=".into(), None).await;
    assert_eq!(r.body["totalResults"], 0, "{}", r.text);

    // The same names are free in the other tenant.
    let r = as_other(Method::POST, "/Users".into(), Some(new_user("ANN@x.com"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let theirs = r.id();
    let r = as_other(
        Method::POST,
        "/Groups".into(),
        Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "Secret Group", "members": [{"value": theirs}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // The first tenant's data is untouched and still alone.
    let mine = s.get_ok(&format!("/Users/{ann}")).await;
    assert!(mine.get("externalId").is_none());
    assert_eq!(mine["userName"], "ann@x.com");
    let grp = s.get_ok(&format!("/Groups/{g}")).await;
    assert_eq!(grp["displayName"], "Secret Group");
    assert_eq!(grp["members"][0]["value"], ann.as_str());
    assert_eq!(grp["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(s.get("/Users").await.body["totalResults"], 1);
    s.get(&format!("/Users/{theirs}"))
        .await
        .assert_error(404, None);
}

#[tokio::test]
async fn a_jit_tenant_gets_403_on_every_scim_resource() {
    let s = TestServer::start().await;
    let jit = s.tenant("jitco", Mode::Jit).await;
    for (method, path, body) in [
        (Method::GET, "/Users", None),
        (Method::POST, "/Users", Some(new_user("j@x.com"))),
        (Method::GET, "/Groups", None),
        (
            Method::POST,
            "/Groups",
            Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "J"})),
        ),
        (Method::POST, "/.search", Some(json!({}))),
        (Method::GET, "/Users/some-id", None),
    ] {
        let r = s.send_as(&jit, method, path, body, &[]).await;
        r.assert_error(403, None);
        assert!(
            r.body["detail"].as_str().is_some_and(|d| d.contains("jit")),
            "{}",
            r.text
        );
    }
    // Discovery still answers.
    let r = s
        .send_as(&jit, Method::GET, "/ServiceProviderConfig", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_scim_groups_tenant_cannot_create_users() {
    let s = TestServer::start().await;
    let t = s.tenant("groupsonly", Mode::ScimGroups).await;
    let r = s
        .send_as(&t, Method::POST, "/Users", Some(new_user("u@x.com")), &[])
        .await;
    r.assert_error(403, None);
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("scim-groups")),
        "{}",
        r.text
    );
    let r = s.send_as(&t, Method::GET, "/Users", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["totalResults"], 0);
    let r = s
        .send_as(
            &t,
            Method::POST,
            "/Groups",
            Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "Allowed"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Rule 8: members must exist.
    let r = s
        .send_as(
            &t,
            Method::POST,
            "/Groups",
            Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "Ghosts", "members": [{"value": "ghost-id"}]})),
            &[],
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(r.text.contains("ghost-id"));
}

#[tokio::test]
async fn resource_paths_match_in_any_case_and_under_every_prefix() {
    let s = TestServer::start().await;
    let r = s.post("/users", new_user("lower@x.com")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("{}/Users/{id}", s.base)),
        "Location uses the canonical name"
    );
    for path in [
        format!("/USERS/{id}"),
        format!("/uSeRs/{id}"),
        format!("/Users/{id}/"),
        format!("//Users//{id}"),
    ] {
        let r = s.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.id(), id);
    }
    let g = s
        .post(
            "/GROUPS",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Upper"}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.text);
    let gid = g.id();
    let r = s
        .patch(
            &format!("/groups/{gid}"),
            patch_op(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = s.post("/GROUPS/.Search", json!({})).await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    let r = s
        .get("/users?FILTER=userName%20eq%20%22LOWER@x.com%22")
        .await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);

    for prefix in ["/scim/v2", "/api/auth/scim/v2", "/SCIM/V2", "/Api/Scim/V2"] {
        let url = format!("{}{prefix}/Users/{id}", s.origin);
        let r = s.get(&url).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
        let url = format!("{}{prefix}/groups", s.origin);
        let r = s.get(&url).await;
        assert_eq!(r.body["totalResults"], 1, "{url}: {}", r.text);
    }
    let r = s.delete(&format!("{}/scim/v2/USERS/{id}", s.origin)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
}

#[tokio::test]
async fn locations_point_where_the_client_talks() {
    let s = TestServer::start().await;
    for (i, prefix) in ["/scim/v2", "/api/auth/scim/v2"].iter().enumerate() {
        let url = format!("{}{prefix}/Users", s.origin);
        let r = s.post(&url, new_user(&format!("alias{i}@x.com"))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let want = format!("{}{prefix}/Users/{}", s.origin, r.id());
        assert_eq!(r.header("location"), Some(want.clone()), "{prefix}");
        assert_eq!(r.body["meta"]["location"], want.as_str(), "{prefix}");
    }
}

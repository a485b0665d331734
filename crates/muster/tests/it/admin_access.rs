//! Product access through the admin API: instances, roles and their product groups, grants,
//! effective access, the access API products call, JIT sign-in, and administrators' sign-in
//! with passwords, session cookies and CSRF tokens.

use crate::admin_api::{audit, body, group_id, text};
use crate::support::{Resp, TestServer, USER_SCHEMA, patch_op};
use base64::Engine;
use muster_domain::admin::service::Who;
use muster_domain::model::Mode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;

fn at(rest: &str) -> String {
    format!("/tenants/test{rest}")
}

/// An instance with these roles; answers (instance id, role name → role).
async fn instance(s: &TestServer, key: &str, name: &str, roles: &[&str]) -> (String, Value) {
    let inst = body(
        s.admin(
            key,
            Method::POST,
            &at("/instances"),
            Some(json!({"name": name, "product": "cms", "roles": roles})),
        )
        .await,
        201,
    );
    let mut by_name = serde_json::Map::new();
    for r in inst["roles"].as_array().unwrap() {
        by_name.insert(text(r, "name"), r.clone());
    }
    (text(&inst, "id"), Value::Object(by_name))
}

async fn grant(s: &TestServer, key: &str, group: &str, inst: &str, role: &str) -> String {
    let g = body(
        s.admin(
            key,
            Method::POST,
            &at("/grants"),
            Some(json!({"group_id": group, "instance_id": inst, "role": role})),
        )
        .await,
        201,
    );
    text(&g, "id")
}

/// A user's effective access as sorted (role, via group) pairs.
async fn access(s: &TestServer, key: &str, user: &str) -> Vec<(String, String)> {
    let a = body(
        s.admin(
            key,
            Method::GET,
            &at(&format!("/users/{user}/access")),
            None,
        )
        .await,
        200,
    );
    let mut v: Vec<(String, String)> = a
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (text(x, "role_name"), text(x, "via_group_name")))
        .collect();
    v.sort();
    v
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    out.sort();
    out
}

/// `GET /api/access/v1/users/{user}` with this bearer secret.
async fn ask(s: &TestServer, secret: &str, user: &str) -> Resp {
    s.admin(
        secret,
        Method::GET,
        &format!("{}/api/access/v1/users/{user}", s.origin),
        None,
    )
    .await
}

async fn access_key(s: &TestServer, key: &str, inst: &str) -> String {
    let k = body(
        s.admin(
            key,
            Method::POST,
            &at(&format!("/instances/{inst}/keys")),
            Some(json!({"name": "product"})),
        )
        .await,
        201,
    );
    assert_eq!(k["key"]["scope"], "access");
    assert_eq!(k["key"]["instance_id"], inst);
    text(&k, "secret")
}

#[tokio::test]
async fn an_instances_roles_come_with_product_groups() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let inst = body(
        s.admin(
            &key,
            Method::POST,
            &at("/instances"),
            Some(json!({"name": "CMS – production", "product": "cms", "roles": ["editor", "viewer", "Editor"]})),
        )
        .await,
        201,
    );
    let id = text(&inst, "id");
    assert_eq!(inst["product"], "cms");
    let roles = inst["roles"].as_array().unwrap();
    assert_eq!(
        roles.len(),
        2,
        "role names are unique ignoring case: {inst}"
    );
    for r in roles {
        let g = body(
            s.admin(
                &key,
                Method::GET,
                &at(&format!("/groups/{}", text(r, "group_id"))),
                None,
            )
            .await,
            200,
        );
        assert_eq!(g["kind"], "product");
        assert_eq!(
            g["display_name"],
            format!("CMS – production {}", text(r, "name"))
        );
    }
    // Each product group is granted its role.
    let grants = body(
        s.admin(
            &key,
            Method::GET,
            &at(&format!("/grants?instance_id={id}")),
            None,
        )
        .await,
        200,
    );
    let mut granted: Vec<(String, String)> = grants
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (text(g, "group_name"), text(g, "role_name")))
        .collect();
    granted.sort();
    assert_eq!(
        granted,
        pairs(&[
            ("CMS – production editor", "editor"),
            ("CMS – production viewer", "viewer")
        ])
    );
    let listed = body(
        s.admin(&key, Method::GET, &at("/instances"), None).await,
        200,
    );
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["id"], id.as_str());
    let shown = body(
        s.admin(&key, Method::GET, &at(&format!("/instances/{id}")), None)
            .await,
        200,
    );
    assert_eq!(shown["roles"].as_array().map(Vec::len), Some(2));

    for (b, status, code) in [
        (
            json!({"name": "cms – PRODUCTION", "product": "cms"}),
            409,
            "conflict",
        ),
        (
            json!({"name": "", "product": "cms"}),
            400,
            "invalid_request",
        ),
        (json!({"name": "Other"}), 400, "invalid_request"),
        (
            json!({"name": "Other", "product": "cms", "roles": [" "]}),
            400,
            "invalid_request",
        ),
    ] {
        s.admin(&key, Method::POST, &at("/instances"), Some(b))
            .await
            .assert_admin_error(status, code);
    }
    // A role's group name may not be taken already.
    let r = body(
        s.admin(
            &key,
            Method::POST,
            &at("/groups"),
            Some(json!({"display_name": "Wiki reader"})),
        )
        .await,
        201,
    );
    assert_eq!(r["kind"], "custom");
    let r = s
        .admin(
            &key,
            Method::POST,
            &at("/instances"),
            Some(json!({"name": "Wiki", "product": "wiki", "roles": ["reader"]})),
        )
        .await;
    r.assert_admin_error(409, "conflict");
    assert!(
        text(&r.body, "message").contains("Wiki reader"),
        "{}",
        r.text
    );
    let all = body(
        s.admin(&key, Method::GET, &at("/instances"), None).await,
        200,
    );
    assert_eq!(
        all.as_array().map(Vec::len),
        Some(1),
        "nothing of Wiki was kept"
    );

    // Roles are added and removed with their groups and grants.
    let role = body(
        s.admin(
            &key,
            Method::POST,
            &at(&format!("/instances/{id}/roles")),
            Some(json!({"name": "admin"})),
        )
        .await,
        201,
    );
    let role_id = text(&role, "id");
    let role_group = text(&role, "group_id");
    assert_eq!(
        group_id(&s, &key, "test", "CMS – production admin").await,
        role_group
    );
    s.admin(
        &key,
        Method::POST,
        &at(&format!("/instances/{id}/roles")),
        Some(json!({"name": "ADMIN"})),
    )
    .await
    .assert_admin_error(409, "conflict");
    s.admin(
        &key,
        Method::POST,
        &at("/instances/no-such-instance/roles"),
        Some(json!({"name": "x"})),
    )
    .await
    .assert_admin_error(404, "not_found");
    body(
        s.admin(
            &key,
            Method::DELETE,
            &at(&format!("/instances/{id}/roles/{role_id}")),
            None,
        )
        .await,
        204,
    );
    s.admin(
        &key,
        Method::GET,
        &at(&format!("/groups/{role_group}")),
        None,
    )
    .await
    .assert_admin_error(404, "not_found");
    let grants = body(
        s.admin(
            &key,
            Method::GET,
            &at(&format!("/grants?instance_id={id}")),
            None,
        )
        .await,
        200,
    );
    assert_eq!(grants.as_array().map(Vec::len), Some(2));
    s.admin(
        &key,
        Method::DELETE,
        &at(&format!("/instances/{id}/roles/{role_id}")),
        None,
    )
    .await
    .assert_admin_error(404, "not_found");

    // Deleting the instance takes its product groups, grants and access keys.
    let secret = access_key(&s, &key, &id).await;
    let ann = s.user("ann@x.com").await;
    assert_eq!(ask(&s, &secret, &ann).await.status, StatusCode::OK);
    body(
        s.admin(&key, Method::DELETE, &at(&format!("/instances/{id}")), None)
            .await,
        204,
    );
    s.admin(&key, Method::GET, &at(&format!("/instances/{id}")), None)
        .await
        .assert_admin_error(404, "not_found");
    let product = body(
        s.admin(&key, Method::GET, &at("/groups?kind=product"), None)
            .await,
        200,
    );
    assert_eq!(product["total"], 0, "{product}");
    let grants = body(s.admin(&key, Method::GET, &at("/grants"), None).await, 200);
    assert_eq!(grants, json!([]));
    ask(&s, &secret, &ann)
        .await
        .assert_admin_error(401, "unauthorized");
    s.admin(&key, Method::DELETE, &at(&format!("/instances/{id}")), None)
        .await
        .assert_admin_error(404, "not_found");
}

#[tokio::test]
async fn effective_access_is_the_union_over_groups_everyone_and_nesting() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ann = s.user("ann@x.com").await;
    let bob = s.user("bob@x.com").await;
    let cat = s.user("cat@x.com").await;
    let platform = s.group("Platform", &[&ann]).await;
    let engineering = s.group("Engineering", &[&platform]).await;
    let (cms, roles) = instance(&s, &key, "CMS", &["editor", "viewer", "admin"]).await;
    let everyone = group_id(&s, &key, "test", "Everyone").await;

    // Rule 6 allows grants to groups the identity provider owns.
    let by_id = text(&roles["editor"], "id");
    let eng_grant = grant(&s, &key, &engineering, &cms, &by_id).await;
    grant(&s, &key, &everyone, &cms, "VIEWER").await;
    body(
        s.admin(
            &key,
            Method::POST,
            &at(&format!(
                "/groups/{}/members",
                text(&roles["admin"], "group_id")
            )),
            Some(json!({"add": [bob]})),
        )
        .await,
        200,
    );

    assert_eq!(
        access(&s, &key, &ann).await,
        pairs(&[("editor", "Engineering"), ("viewer", "Everyone")])
    );
    assert_eq!(
        access(&s, &key, &bob).await,
        pairs(&[("admin", "CMS admin"), ("viewer", "Everyone")])
    );
    assert_eq!(
        access(&s, &key, &cat).await,
        pairs(&[("viewer", "Everyone")])
    );
    let detail = body(
        s.admin(&key, Method::GET, &at(&format!("/users/{ann}")), None)
            .await,
        200,
    );
    assert_eq!(
        detail["access"].as_array().map(Vec::len),
        Some(2),
        "{detail}"
    );
    assert_eq!(detail["access"][0]["instance_id"], cms.as_str());

    let listed = body(
        s.admin(
            &key,
            Method::GET,
            &at(&format!("/grants?group_id={engineering}")),
            None,
        )
        .await,
        200,
    );
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["id"], eng_grant.as_str());
    assert_eq!(listed[0]["role_name"], "editor");
    assert_eq!(listed[0]["group_name"], "Engineering");

    for (b, why) in [
        (
            json!({"group_id": engineering, "instance_id": cms, "role": "owner"}),
            "role",
        ),
        (
            json!({"group_id": "no-such-group", "instance_id": cms, "role": "editor"}),
            "group",
        ),
        (
            json!({"group_id": engineering, "instance_id": "no-such-instance", "role": "editor"}),
            "instance",
        ),
    ] {
        let r = s.admin(&key, Method::POST, &at("/grants"), Some(b)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{why}: {}", r.text);
        r.assert_admin_error(404, "not_found");
    }

    // Membership comes from the identity provider: ann leaves Platform and loses editor.
    let r = s
        .patch(
            &format!("/Groups/{platform}"),
            patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{ann}\"]")}])),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(
        access(&s, &key, &ann).await,
        pairs(&[("viewer", "Everyone")])
    );
    s.patch(
        &format!("/Groups/{platform}"),
        patch_op(json!([{"op": "add", "path": "members", "value": [{"value": ann}]}])),
    )
    .await;
    assert_eq!(access(&s, &key, &ann).await.len(), 2);

    // Revoking the grant ends the role.
    body(
        s.admin(
            &key,
            Method::DELETE,
            &at(&format!("/grants/{eng_grant}")),
            None,
        )
        .await,
        204,
    );
    assert_eq!(
        access(&s, &key, &ann).await,
        pairs(&[("viewer", "Everyone")])
    );
    s.admin(
        &key,
        Method::DELETE,
        &at(&format!("/grants/{eng_grant}")),
        None,
    )
    .await
    .assert_admin_error(404, "not_found");
    s.admin(&key, Method::GET, &at("/users/nobody@x.com/access"), None)
        .await
        .assert_admin_error(404, "not_found");
}

#[tokio::test]
async fn an_inactive_user_has_no_access() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    body(
        s.admin(
            &key,
            Method::PATCH,
            "/tenants/test",
            Some(json!({"deactivate": "suspend"})),
        )
        .await,
        200,
    );
    let (cms, _) = instance(&s, &key, "CMS", &["viewer"]).await;
    let everyone = group_id(&s, &key, "test", "Everyone").await;
    grant(&s, &key, &everyone, &cms, "viewer").await;
    let secret = access_key(&s, &key, &cms).await;

    // Rule 10: created inactive, it holds nothing until it is turned on.
    let r = s
        .post(
            "/Users",
            json!({"schemas": [USER_SCHEMA], "userName": "ann@x.com", "active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ann = r.id();
    assert!(access(&s, &key, &ann).await.is_empty());
    let a = body(ask(&s, &secret, &ann).await, 200);
    assert_eq!(a["active"], false);
    assert_eq!(a["roles"], json!([]));

    let active = |v: bool| patch_op(json!([{"op": "replace", "path": "active", "value": v}]));
    s.patch(&format!("/Users/{ann}"), active(true)).await;
    assert_eq!(
        access(&s, &key, &ann).await,
        pairs(&[("viewer", "Everyone")])
    );
    assert_eq!(
        body(ask(&s, &secret, &ann).await, 200)["roles"],
        json!(["viewer"])
    );

    // Suspended by the identity provider: kept, and without access.
    let r = s.patch(&format!("/Users/{ann}"), active(false)).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert!(access(&s, &key, &ann).await.is_empty());
    let a = body(ask(&s, &secret, &ann).await, 200);
    assert_eq!(a["active"], false);
    assert_eq!(a["roles"], json!([]));
    assert_eq!(a["grants"], json!([]));
}

#[tokio::test]
async fn the_access_api_answers_an_instances_roles_by_id_or_user_name() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ann = s.user("ann@x.com").await;
    let eng = s.group("Engineering", &[&ann]).await;
    let (cms, _) = instance(&s, &key, "CMS", &["editor", "viewer"]).await;
    let (wiki, _) = instance(&s, &key, "Wiki", &["reader"]).await;
    grant(&s, &key, &eng, &cms, "viewer").await;
    grant(&s, &key, &eng, &cms, "editor").await;
    let everyone = group_id(&s, &key, "test", "Everyone").await;
    grant(&s, &key, &everyone, &cms, "viewer").await;
    grant(&s, &key, &everyone, &wiki, "reader").await;
    let cms_key = access_key(&s, &key, &cms).await;
    assert!(cms_key.starts_with("msx_"), "{cms_key}");
    let wiki_key = access_key(&s, &key, &wiki).await;

    for user in [ann.as_str(), "ann@x.com", "ANN@x.com"] {
        let a = body(ask(&s, &cms_key, user).await, 200);
        assert_eq!(a["user_id"], ann.as_str(), "{user}");
        assert_eq!(a["user_name"], "ann@x.com");
        assert_eq!(a["active"], true);
        assert_eq!(a["instance_id"], cms.as_str());
        assert_eq!(a["instance_name"], "CMS");
        assert_eq!(a["product"], "cms");
        assert_eq!(
            a["roles"],
            json!(["editor", "viewer"]),
            "each role once, sorted"
        );
        assert_eq!(a["grants"].as_array().map(Vec::len), Some(3), "{a}");
    }
    // A key answers for its own instance only.
    let a = body(ask(&s, &wiki_key, &ann).await, 200);
    assert_eq!(a["roles"], json!(["reader"]));
    assert_eq!(a["instance_id"], wiki.as_str());

    ask(&s, &cms_key, "nobody@x.com")
        .await
        .assert_admin_error(404, "not_found");
    // Another tenant's user is unknown, by id and by userName.
    let other = s.tenant("other", Mode::Scim).await;
    let r = s
        .send_as(
            &other,
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": "bea@x.com"})),
            &[],
        )
        .await;
    let bea = r.id();
    ask(&s, &cms_key, &bea)
        .await
        .assert_admin_error(404, "not_found");
    ask(&s, &cms_key, "bea@x.com")
        .await
        .assert_admin_error(404, "not_found");

    // Only an instance's access key opens it.
    let op = s.operator_key().await;
    let other_admin = s.admin_key("other").await;
    for secret in [
        "",
        "nope",
        key.as_str(),
        op.as_str(),
        other_admin.as_str(),
        s.token.as_str(),
        other.as_str(),
    ] {
        let r = ask(&s, secret, &ann).await;
        r.assert_admin_error(401, "unauthorized");
        assert!(!r.text.contains("editor"), "{}", r.text);
    }
    // A revoked access key stops at once.
    let keys = body(s.admin(&key, Method::GET, &at("/keys"), None).await, 200);
    let wiki_key_id = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["instance_id"] == wiki.as_str())
        .map(|k| text(k, "id"))
        .unwrap();
    body(
        s.admin(
            &key,
            Method::DELETE,
            &at(&format!("/keys/{wiki_key_id}")),
            None,
        )
        .await,
        204,
    );
    ask(&s, &wiki_key, &ann)
        .await
        .assert_admin_error(401, "unauthorized");
    assert_eq!(ask(&s, &cms_key, &ann).await.status, StatusCode::OK);
}

/// A user of the "jit" tenant: its groups' names (sorted) and its detail.
async fn jit_groups(s: &TestServer, key: &str, user: &str) -> (Vec<String>, Value) {
    let d = body(
        s.admin(
            key,
            Method::GET,
            &format!("/tenants/jit/users/{user}"),
            None,
        )
        .await,
        200,
    );
    let mut g: Vec<String> = d["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| text(g, "display_name"))
        .collect();
    g.sort();
    (g, d)
}

#[tokio::test]
async fn jit_sign_in_creates_a_jit_user_that_joins_existing_groups_only() {
    let s = TestServer::start().await;
    s.tenant("jit", Mode::Jit).await;
    let key = s.admin_key("jit").await;
    let path = "/tenants/jit/jit-signin";
    let ops = |name: &str| json!({"display_name": name});
    let eng = text(
        &body(
            s.admin(
                &key,
                Method::POST,
                "/tenants/jit/groups",
                Some(ops("Engineering")),
            )
            .await,
            201,
        ),
        "id",
    );
    body(
        s.admin(
            &key,
            Method::POST,
            "/tenants/jit/instances",
            Some(json!({"name": "App", "product": "app", "roles": ["user"]})),
        )
        .await,
        201,
    );

    let r = body(
        s.admin(
            &key,
            Method::POST,
            path,
            Some(json!({
                "email": "Ann@x.com",
                "given_name": "Ann",
                "family_name": "Lee",
                "groups": ["engineering", "App user", "Everyone", "Admin Center Administrators", "Missing"]
            })),
        )
        .await,
        200,
    );
    assert_eq!(r["created"], true);
    assert_eq!(r["user"]["source"], "jit");
    assert_eq!(r["user"]["given_name"], "Ann");
    assert_eq!(r["joined"], json!(["engineering", "App user"]));
    assert_eq!(
        r["skipped"],
        json!(["Everyone", "Admin Center Administrators", "Missing"])
    );
    let ann = text(&r["user"], "id");
    let (groups, detail) = jit_groups(&s, &key, &ann).await;
    assert_eq!(
        groups,
        ["App user", "Engineering"],
        "never an administrator"
    );
    assert_eq!(detail["access"][0]["role_name"], "user");
    let listed = body(
        s.admin(&key, Method::GET, "/tenants/jit/users?source=jit", None)
            .await,
        200,
    );
    assert_eq!(listed["total"], 1);

    // An administrator adds a group; the next sign-in updates names and removes nothing.
    let support = text(
        &body(
            s.admin(
                &key,
                Method::POST,
                "/tenants/jit/groups",
                Some(ops("Support")),
            )
            .await,
            201,
        ),
        "id",
    );
    body(
        s.admin(
            &key,
            Method::POST,
            &format!("/tenants/jit/groups/{support}/members"),
            Some(json!({"add": [ann]})),
        )
        .await,
        200,
    );
    let r = body(
        s.admin(
            &key,
            Method::POST,
            path,
            Some(json!({"email": "ann@x.com", "given_name": "Annie", "family_name": "Lee-Smith", "groups": ["Engineering"]})),
        )
        .await,
        200,
    );
    assert_eq!(r["created"], false);
    assert_eq!(r["user"]["id"], ann.as_str());
    assert_eq!(r["user"]["given_name"], "Annie");
    assert_eq!(r["user"]["family_name"], "Lee-Smith");
    assert_eq!(r["joined"], json!([]), "already a member");
    let (groups, detail) = jit_groups(&s, &key, &ann).await;
    assert_eq!(groups, ["App user", "Engineering", "Support"]);
    assert_eq!(detail["user"]["given_name"], "Annie");
    assert_eq!(detail["user"]["source"], "jit");
    let members = body(
        s.admin(
            &key,
            Method::GET,
            &format!("/tenants/jit/groups/{eng}/members"),
            None,
        )
        .await,
        200,
    );
    assert_eq!(members["total"], 1);

    for bad in [
        json!({"email": "not-an-email"}),
        json!({"given_name": "x"}),
        json!({"email": "b@x.com", "roles": ["admin"]}),
    ] {
        s.admin(&key, Method::POST, path, Some(bad))
            .await
            .assert_admin_error(400, "invalid_request");
    }
    let all = body(
        s.admin(&key, Method::GET, "/tenants/jit/users", None).await,
        200,
    );
    assert_eq!(all["total"], 1);
    // A JIT user is the administrators' to edit.
    let r = body(
        s.admin(
            &key,
            Method::PATCH,
            &format!("/tenants/jit/users/{ann}"),
            Some(json!({"display_name": "Annie L."})),
        )
        .await,
        200,
    );
    assert_eq!(r["display_name"], "Annie L.");
}

#[tokio::test]
async fn jit_sign_in_is_refused_unless_the_tenant_is_in_jit_mode() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    s.tenant("groups-only", Mode::ScimGroups).await;
    let op = s.operator_key().await;
    let claims = json!({"email": "ann@x.com", "given_name": "Ann"});
    for (k, tenant, mode) in [(&key, "test", "scim"), (&op, "groups-only", "scim-groups")] {
        let r = s
            .admin(
                k,
                Method::POST,
                &format!("/tenants/{tenant}/jit-signin"),
                Some(claims.clone()),
            )
            .await;
        r.assert_admin_error(409, "conflict");
        let m = text(&r.body, "message");
        assert!(
            m.contains(&format!("'{mode}' mode")) && m.contains("jit"),
            "{m}"
        );
        let users = body(
            s.admin(k, Method::GET, &format!("/tenants/{tenant}/users"), None)
                .await,
            200,
        );
        assert_eq!(users["total"], 0, "{users}");
    }
    body(
        s.admin(
            &key,
            Method::PATCH,
            "/tenants/test",
            Some(json!({"mode": "jit"})),
        )
        .await,
        200,
    );
    let r = body(
        s.admin(&key, Method::POST, &at("/jit-signin"), Some(claims))
            .await,
        200,
    );
    assert_eq!(r["created"], true);
}

/// Signs in; answers (the session cookie's value, the CSRF token, the answer).
async fn sign_in(s: &TestServer, email: &str, password: &str) -> (String, String, Resp) {
    let r = s
        .admin(
            "",
            Method::POST,
            "/session",
            Some(json!({"tenant": "test", "email": email, "password": password})),
        )
        .await;
    let cookie = r
        .header("set-cookie")
        .and_then(|c| {
            c.split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .map(|(_, v)| v.to_string())
        })
        .unwrap_or_default();
    let csrf = text(&r.body, "csrf_token");
    (cookie, csrf, r)
}

/// An admin API request with a session cookie (and a CSRF token when given).
async fn with_cookie(
    s: &TestServer,
    cookie: &str,
    csrf: Option<&str>,
    method: Method,
    path: &str,
    b: Option<Value>,
) -> Resp {
    let mut req = s
        .client
        .request(method, format!("{}{path}", s.admin_base()))
        .header("Cookie", format!("theme=dark; muster_session={cookie}"));
    if let Some(c) = csrf {
        req = req.header("X-CSRF-Token", c);
    }
    if let Some(b) = b {
        req = req
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    TestServer::read(req.send().await.unwrap()).await
}

const PASSWORD: &str = "correct horse battery staple";

/// `muster admin add` for boss@x.com, and the password set through its link.
async fn administrator(s: &TestServer) -> String {
    let invite = s
        .state
        .admin
        .add_administrator(&Who::cli(), "test", "boss@x.com")
        .await
        .unwrap();
    let token = invite
        .link_path
        .split("#token=")
        .nth(1)
        .unwrap()
        .to_string();
    body(
        s.admin(
            "",
            Method::POST,
            "/password",
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await,
        204,
    );
    invite.user.id
}

#[tokio::test]
async fn a_set_password_link_works_once() {
    let s = TestServer::start().await;
    let invite = s
        .state
        .admin
        .add_administrator(&Who::cli(), "test", "boss@x.com")
        .await
        .unwrap();
    assert!(invite.created);
    assert!(
        invite.link_path.starts_with("/admin/set-password#token="),
        "{}",
        invite.link_path
    );
    let token = invite
        .link_path
        .split("#token=")
        .nth(1)
        .unwrap()
        .to_string();
    let set = |password: &str| {
        let s = &s;
        let b = json!({"token": token, "password": password});
        async move { s.admin("", Method::POST, "/password", Some(b)).await }
    };
    set("too short")
        .await
        .assert_admin_error(400, "invalid_request");
    // Not signed in yet: no password was set.
    sign_in(&s, "boss@x.com", "too short")
        .await
        .2
        .assert_admin_error(401, "unauthorized");
    body(set(PASSWORD).await, 204);
    set("another long password")
        .await
        .assert_admin_error(400, "invalid_link");
    s.admin(
        "",
        Method::POST,
        "/password",
        Some(json!({"token": "msp_forged", "password": PASSWORD})),
    )
    .await
    .assert_admin_error(400, "invalid_link");
    let (_, _, r) = sign_in(&s, "boss@x.com", "another long password").await;
    r.assert_admin_error(401, "unauthorized");
    let (_, _, r) = sign_in(&s, "boss@x.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // The administrator is a manual user in Admin Center Administrators.
    let key = s.admin_key("test").await;
    let admins = group_id(&s, &key, "test", "Admin Center Administrators").await;
    let m = body(
        s.admin(
            &key,
            Method::GET,
            &at(&format!("/groups/{admins}/members")),
            None,
        )
        .await,
        200,
    );
    assert_eq!(m["items"][0]["id"], invite.user.id.as_str());
    assert_eq!(m["items"][0]["source"], "manual");
}

#[tokio::test]
async fn the_set_password_page_is_html_with_a_strict_content_security_policy() {
    let s = TestServer::start().await;
    let r = s
        .client
        .get(format!("{}/admin/set-password", s.origin))
        .send()
        .await
        .unwrap();
    let r = TestServer::read(r).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(r.text.contains("/api/admin/v1/password"), "{}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
    let csp = r.header("content-security-policy").unwrap_or_default();
    for d in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(d), "{d} in {csp}");
    }
    // The one inline script is allowed by its hash, and nothing else runs.
    let start = r.text.find("<script>").unwrap() + "<script>".len();
    let end = r.text.find("</script>").unwrap();
    let hash = base64::engine::general_purpose::STANDARD
        .encode(sha2::Sha256::digest(&r.text.as_bytes()[start..end]));
    let script = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_default();
    assert_eq!(script, format!("script-src 'sha256-{hash}'"), "{csp}");
    assert_eq!(r.text.matches("<script").count(), 1);
}

#[tokio::test]
async fn a_session_cookie_reads_and_with_its_csrf_token_writes() {
    let s = TestServer::start().await;
    s.tenant("other", Mode::Scim).await;
    let boss = administrator(&s).await;
    let (cookie, csrf, r) = sign_in(&s, "BOSS@x.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["user_id"], boss.as_str());
    assert!(cookie.starts_with("mss_"), "{cookie}");
    assert!(csrf.len() >= 32, "{csrf}");
    let set = r.header("set-cookie").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));

    let me = body(
        with_cookie(&s, &cookie, None, Method::GET, "/session", None).await,
        200,
    );
    assert_eq!(me["actor"], format!("admin:{boss}"));
    assert_eq!(me["tenant_id"], r.body["tenant_id"]);
    let users = body(
        with_cookie(&s, &cookie, None, Method::GET, &at("/users"), None).await,
        200,
    );
    assert_eq!(users["total"], 1);
    // The cookie's secret is no bearer key.
    s.admin(&cookie, Method::GET, "/session", None)
        .await
        .assert_admin_error(401, "unauthorized");
    // The session is one tenant's.
    with_cookie(&s, &cookie, None, Method::GET, "/tenants/other", None)
        .await
        .assert_admin_error(404, "not_found");

    let new = json!({"display_name": "Made in a session"});
    for bad in [None, Some(""), Some("forged"), Some(cookie.as_str())] {
        with_cookie(
            &s,
            &cookie,
            bad,
            Method::POST,
            &at("/groups"),
            Some(new.clone()),
        )
        .await
        .assert_admin_error(403, "forbidden");
    }
    with_cookie(
        &s,
        &cookie,
        None,
        Method::PATCH,
        "/tenants/test",
        Some(json!({"mode": "jit"})),
    )
    .await
    .assert_admin_error(403, "forbidden");
    // A signed-in administrator is a tenant's administrator, not an operator.
    with_cookie(
        &s,
        &cookie,
        Some(&csrf),
        Method::POST,
        "/tenants",
        Some(json!({"name": "mine"})),
    )
    .await
    .assert_admin_error(403, "forbidden");
    let key = s.admin_key("test").await;
    let custom = body(
        s.admin(&key, Method::GET, &at("/groups?kind=custom"), None)
            .await,
        200,
    );
    assert_eq!(
        custom["total"], 0,
        "nothing was made without the CSRF token"
    );
    let g = body(
        with_cookie(
            &s,
            &cookie,
            Some(&csrf),
            Method::POST,
            &at("/groups"),
            Some(new),
        )
        .await,
        201,
    );
    let events = audit(&s, &key, "test", &format!("?target={}", text(&g, "id"))).await;
    assert_eq!(events[0]["actor"], format!("admin:{boss}"));
    assert_eq!(events[0]["operation"], "admin.group.create");

    // Signing out ends the session on the server.
    with_cookie(&s, &cookie, None, Method::DELETE, "/session", None)
        .await
        .assert_admin_error(403, "forbidden");
    let out = with_cookie(&s, &cookie, Some(&csrf), Method::DELETE, "/session", None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    let cleared = out.header("set-cookie").unwrap_or_default();
    assert!(
        cleared.starts_with("muster_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    with_cookie(&s, &cookie, None, Method::GET, "/session", None)
        .await
        .assert_admin_error(401, "unauthorized");
    with_cookie(
        &s,
        &cookie,
        Some(&csrf),
        Method::POST,
        &at("/groups"),
        Some(json!({"display_name": "After"})),
    )
    .await
    .assert_admin_error(401, "unauthorized");
    // Keys do not sign out.
    s.admin(&key, Method::DELETE, "/session", None)
        .await
        .assert_admin_error(400, "invalid_request");
}

#[tokio::test]
async fn wrong_passwords_are_401_and_repeated_failures_429() {
    let s = TestServer::start().await;
    s.user("ann@x.com").await;
    administrator(&s).await;
    let wrong = |email: &'static str, tenant: &'static str| {
        let s = &s;
        async move {
            s.admin(
                "",
                Method::POST,
                "/session",
                Some(json!({"tenant": tenant, "email": email, "password": "not the password"})),
            )
            .await
        }
    };
    // Unknown tenants and users and non-administrators get the same answer as a wrong password.
    let mut messages = Vec::new();
    for (email, tenant) in [
        ("nobody@x.com", "test"),
        ("boss@x.com", "nowhere"),
        ("ann@x.com", "test"),
    ] {
        let r = wrong(email, tenant).await;
        r.assert_admin_error(401, "unauthorized");
        messages.push(text(&r.body, "message"));
    }
    for _ in 0..5 {
        let r = wrong("boss@x.com", "test").await;
        r.assert_admin_error(401, "unauthorized");
        assert!(r.header("set-cookie").is_none());
        messages.push(text(&r.body, "message"));
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "{messages:?}");
    // After five failures even the right password waits.
    let (_, _, r) = sign_in(&s, "boss@x.com", PASSWORD).await;
    r.assert_admin_error(429, "too_many_attempts");
    assert!(r.header("retry-after").is_some());
    assert!(r.header("set-cookie").is_none());
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (cookie, _, r) = sign_in(&s, "boss@x.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        with_cookie(&s, &cookie, None, Method::GET, "/session", None)
            .await
            .status,
        StatusCode::OK
    );
    s.admin(
        "",
        Method::POST,
        "/session",
        Some(json!({"tenant": "test", "email": "boss@x.com"})),
    )
    .await
    .assert_admin_error(400, "invalid_request");
}

#[tokio::test]
async fn leaving_admin_center_administrators_ends_the_session() {
    let s = TestServer::start().await;
    let boss = administrator(&s).await;
    let (cookie, _, r) = sign_in(&s, "boss@x.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let key = s.admin_key("test").await;
    let admins = group_id(&s, &key, "test", "Admin Center Administrators").await;
    body(
        s.admin(
            &key,
            Method::DELETE,
            &at(&format!("/groups/{admins}/members/{boss}")),
            None,
        )
        .await,
        204,
    );
    with_cookie(&s, &cookie, None, Method::GET, "/session", None)
        .await
        .assert_admin_error(401, "unauthorized");
    sign_in(&s, "boss@x.com", PASSWORD)
        .await
        .2
        .assert_admin_error(401, "unauthorized");
}

#[tokio::test]
async fn a_new_password_ends_every_session() {
    let s = TestServer::start().await;
    administrator(&s).await;
    let (first, _, r) = sign_in(&s, "boss@x.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (second, _, _) = sign_in(&s, "boss@x.com", PASSWORD).await;
    assert_ne!(first, second);
    for c in [&first, &second] {
        body(
            with_cookie(&s, c, None, Method::GET, "/session", None).await,
            200,
        );
    }
    let invite = s
        .state
        .admin
        .add_administrator(&Who::cli(), "test", "boss@x.com")
        .await
        .unwrap();
    assert!(!invite.created, "the same user");
    let token = invite
        .link_path
        .split("#token=")
        .nth(1)
        .unwrap()
        .to_string();
    body(
        s.admin(
            "",
            Method::POST,
            "/password",
            Some(json!({"token": token, "password": "a brand new password"})),
        )
        .await,
        204,
    );
    for c in [&first, &second] {
        with_cookie(&s, c, None, Method::GET, "/session", None)
            .await
            .assert_admin_error(401, "unauthorized");
    }
    sign_in(&s, "boss@x.com", PASSWORD)
        .await
        .2
        .assert_admin_error(401, "unauthorized");
    let (_, _, r) = sign_in(&s, "boss@x.com", "a brand new password").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// An inactive user holds no access, the admin side included: a suspended or turned-off
/// administrator cannot sign in, and its live session ends.
#[tokio::test]
async fn an_inactive_administrator_is_signed_out_and_cannot_sign_in() {
    let s = TestServer::start().await;
    let boss = administrator(&s).await;
    let (cookie, _, r) = sign_in(&s, "boss@x.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let key = s.admin_key("test").await;
    body(
        s.admin(
            &key,
            Method::PATCH,
            &at(&format!("/users/{boss}")),
            Some(json!({"active": false})),
        )
        .await,
        200,
    );
    with_cookie(&s, &cookie, None, Method::GET, "/session", None)
        .await
        .assert_admin_error(401, "unauthorized");
    let (_, _, r) = sign_in(&s, "boss@x.com", PASSWORD).await;
    r.assert_admin_error(401, "unauthorized");
}

/// Two uses of one set-password link at the same moment: exactly one sets the password.
#[tokio::test]
async fn a_set_password_link_spent_twice_at_once_works_once() {
    let s = TestServer::start().await;
    let invite = s
        .state
        .admin
        .add_administrator(&Who::cli(), "test", "boss@x.com")
        .await
        .unwrap();
    let token = invite
        .link_path
        .split("#token=")
        .nth(1)
        .unwrap()
        .to_string();
    let post = |pw: &'static str| {
        let b = json!({"token": token, "password": pw});
        let s = &s;
        async move { s.admin("", Method::POST, "/password", Some(b)).await }
    };
    let (a, b) = tokio::join!(post("first password 123"), post("second password 456"));
    let ok = [&a, &b]
        .iter()
        .filter(|r| r.status == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(ok, 1, "{} / {}", a.text, b.text);
}

/// A sign-in through SSO never turns on a user an administrator turned off.
#[tokio::test]
async fn jit_sign_in_does_not_reactivate_a_user() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    body(
        s.admin(
            &key,
            Method::PATCH,
            "/tenants/test",
            Some(json!({"mode": "jit"})),
        )
        .await,
        200,
    );
    let claims = json!({"email": "jo@x.com", "given_name": "Jo"});
    let r = body(
        s.admin(&key, Method::POST, &at("/jit-signin"), Some(claims.clone()))
            .await,
        200,
    );
    let jo = text(&r["user"], "id");
    body(
        s.admin(
            &key,
            Method::PATCH,
            &at(&format!("/users/{jo}")),
            Some(json!({"active": false})),
        )
        .await,
        200,
    );
    let r = body(
        s.admin(&key, Method::POST, &at("/jit-signin"), Some(claims))
            .await,
        200,
    );
    assert_eq!(r["user"]["active"], false, "{r}");
}

/// A rotated token cannot be rotated again to stretch its life.
#[tokio::test]
async fn a_rotated_token_is_not_rotated_again() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let t = s.store.tenant_by_name("test").await.unwrap().unwrap();
    let id = s.store.list_tokens(&t.id).await.unwrap()[0].id.clone();
    let rotate = |overlap: i64| {
        let (s, key, id) = (&s, key.clone(), id.clone());
        async move {
            s.admin(
                &key,
                Method::POST,
                &at(&format!("/tokens/{id}/rotate")),
                Some(json!({"overlap_seconds": overlap})),
            )
            .await
        }
    };
    assert_eq!(rotate(0).await.status, StatusCode::CREATED);
    rotate(2_592_000).await.assert_admin_error(409, "conflict");
    assert_eq!(
        s.send_as(&s.token, Method::GET, "/Users", None, &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the old token stays expired"
    );
}

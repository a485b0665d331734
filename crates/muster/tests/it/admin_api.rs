//! The admin API's tenant side: who may call it, tenants and their modes, SSO connections, SCIM
//! tokens (health, rotation, revocation), admin keys, the audit log, and tenant isolation.

use crate::support::{GROUP_SCHEMA, Resp, TestServer, USER_SCHEMA, enc, patch_op};
use muster_domain::admin::service::Who;
use muster_domain::model::Mode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The body of an answer, asserting its status.
#[track_caller]
pub(crate) fn body(r: Resp, status: u16) -> Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    r.body
}

/// A string field of a JSON value ("" when absent).
pub(crate) fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// How the audit log names the caller of this key (`key:<id>`, `operator:<id>`).
pub(crate) async fn actor(s: &TestServer, key: &str) -> String {
    let me = body(s.admin(key, Method::GET, "/session", None).await, 200);
    text(&me, "actor")
}

/// The id of a tenant's group with this display name.
pub(crate) async fn group_id(s: &TestServer, key: &str, tenant: &str, name: &str) -> String {
    let f = enc(&format!("displayName eq \"{name}\""));
    let page = body(
        s.admin(
            key,
            Method::GET,
            &format!("/tenants/{tenant}/groups?filter={f}"),
            None,
        )
        .await,
        200,
    );
    assert_eq!(page["total"], 1, "{name}: {page}");
    text(&page["items"][0], "id")
}

/// The audit log (after a flush), newest first.
pub(crate) async fn audit(s: &TestServer, key: &str, tenant: &str, query: &str) -> Vec<Value> {
    s.flush_audit().await;
    let r = s
        .admin(
            key,
            Method::GET,
            &format!("/tenants/{tenant}/audit{query}"),
            None,
        )
        .await;
    array(body(r, 200))
}

/// A JSON array's items (a test failure when it is not an array).
#[track_caller]
pub(crate) fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => panic!("not an array: {other}"),
    }
}

/// `before` or `after` of an audit event, parsed.
pub(crate) fn state(event: &Value, which: &str) -> Value {
    serde_json::from_str(event[which].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// The SCIM tokens of a tenant as listed.
async fn tokens(s: &TestServer, key: &str, tenant: &str) -> Vec<Value> {
    let r = s
        .admin(key, Method::GET, &format!("/tenants/{tenant}/tokens"), None)
        .await;
    array(body(r, 200))
}

fn find<'a>(list: &'a [Value], id: &str) -> &'a Value {
    list.iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list:?}"))
}

/// The SCIM status of a request with this token.
async fn scim_status(s: &TestServer, token: &str) -> u16 {
    s.send_as(token, Method::GET, "/Users", None, &[])
        .await
        .status
        .as_u16()
}

#[tokio::test]
async fn an_operator_creates_tenants_and_a_tenant_admin_is_403() {
    let s = TestServer::start().await;
    let op = s.operator_key().await;
    let admin = s.admin_key("test").await;

    let acme = body(
        s.admin(
            &op,
            Method::POST,
            "/tenants",
            Some(json!({"name": "acme", "mode": "jit"})),
        )
        .await,
        201,
    );
    assert_eq!(acme["name"], "acme");
    assert_eq!(acme["mode"], "jit");
    assert_eq!(acme["settings"]["deactivate"], "delete");
    assert_eq!(acme["settings"]["require_email_username"], true);
    let beta = body(
        s.admin(&op, Method::POST, "/tenants", Some(json!({"name": "beta"})))
            .await,
        201,
    );
    assert_eq!(beta["mode"], "scim", "scim is the default mode");

    // A new tenant starts with its system groups.
    let system = body(
        s.admin(&op, Method::GET, "/tenants/acme/groups?kind=system", None)
            .await,
        200,
    );
    let mut names: Vec<String> = system["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| text(g, "display_name"))
        .collect();
    names.sort();
    assert_eq!(names, ["Admin Center Administrators", "Everyone"]);

    s.admin(&op, Method::POST, "/tenants", Some(json!({"name": "ACME"})))
        .await
        .assert_admin_error(409, "conflict");
    for bad in [
        json!({"name": "x", "mode": "ldap"}),
        json!({"name": "  "}),
        json!({"name": "x", "colour": "red"}),
        json!({"mode": "scim"}),
    ] {
        s.admin(&op, Method::POST, "/tenants", Some(bad))
            .await
            .assert_admin_error(400, "invalid_request");
    }

    s.admin(
        &admin,
        Method::POST,
        "/tenants",
        Some(json!({"name": "gamma"})),
    )
    .await
    .assert_admin_error(403, "forbidden");

    let all = body(s.admin(&op, Method::GET, "/tenants", None).await, 200);
    let names: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| text(t, "name"))
        .collect();
    assert_eq!(names, ["acme", "beta", "test"], "gamma was not created");
    let mine = body(s.admin(&admin, Method::GET, "/tenants", None).await, 200);
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(mine[0]["name"], "test");

    // A tenant by id or by name (in any case).
    let id = text(&acme, "id");
    for r in [id.as_str(), "acme", "Acme"] {
        let t = body(
            s.admin(&op, Method::GET, &format!("/tenants/{r}"), None)
                .await,
            200,
        );
        assert_eq!(t["id"], id.as_str());
    }
    s.admin(&op, Method::GET, "/tenants/nope", None)
        .await
        .assert_admin_error(404, "not_found");

    let events = audit(&s, &op, "acme", "?operation=admin.tenant").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["operation"], "admin.tenant.create");
    assert_eq!(events[0]["actor"], actor(&s, &op).await.as_str());
    assert!(text(&events[0], "actor").starts_with("operator:"));
    assert_eq!(events[0]["target"], id.as_str());
    assert_eq!(state(&events[0], "after")["mode"], "jit");
}

#[tokio::test]
async fn missing_wrong_revoked_and_scim_credentials_are_401() {
    let s = TestServer::start().await;
    let admin = s.admin_key("test").await;
    let inst = body(
        s.admin(
            &admin,
            Method::POST,
            "/tenants/test/instances",
            Some(json!({"name": "App", "product": "app", "roles": ["user"]})),
        )
        .await,
        201,
    );
    let access = body(
        s.admin(
            &admin,
            Method::POST,
            &format!("/tenants/test/instances/{}/keys", text(&inst, "id")),
            Some(json!({"name": "app"})),
        )
        .await,
        201,
    );
    let access = text(&access, "secret");
    let revoked = body(
        s.admin(
            &admin,
            Method::POST,
            "/tenants/test/keys",
            Some(json!({"name": "old"})),
        )
        .await,
        201,
    );
    let revoked_id = text(&revoked["key"], "id");
    let revoked = text(&revoked, "secret");
    body(
        s.admin(
            &admin,
            Method::DELETE,
            &format!("/tenants/test/keys/{revoked_id}"),
            None,
        )
        .await,
        204,
    );

    let wrong = format!("{admin}x");
    for key in [
        "",
        "nope",
        wrong.as_str(),
        s.token.as_str(),
        access.as_str(),
        revoked.as_str(),
    ] {
        for (method, path, b) in [
            (Method::GET, "/tenants", None),
            (Method::GET, "/session", None),
            (Method::GET, "/tenants/test/users", None),
            (
                Method::POST,
                "/tenants/test/groups",
                Some(json!({"display_name": "Sneaky"})),
            ),
            (Method::POST, "/tenants/test/tokens", None),
        ] {
            let r = s.admin(key, method, path, b).await;
            r.assert_admin_error(401, "unauthorized");
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer")),
                "{path}: {:?}",
                r.headers
            );
        }
    }
    let r = s.admin(&s.token, Method::GET, "/tenants", None).await;
    assert!(
        r.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("SCIM tokens")),
        "says why a SCIM token does not work: {}",
        r.text
    );
    // Nothing was made.
    let groups = body(
        s.admin(
            &admin,
            Method::GET,
            "/tenants/test/groups?kind=custom",
            None,
        )
        .await,
        200,
    );
    assert_eq!(groups["total"], 0, "{groups}");
    assert_eq!(tokens(&s, &admin, "test").await.len(), 1);
}

#[tokio::test]
async fn mode_changes_explain_themselves_and_take_effect() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let patch = |b: Value| s.admin(&key, Method::PATCH, "/tenants/test", Some(b));

    let r = body(patch(json!({"mode": "jit"})).await, 200);
    assert_eq!(r["tenant"]["mode"], "jit");
    let said = r["changes"][0].as_str().unwrap_or_default();
    assert!(
        said.contains("from scim to jit") && said.contains("403"),
        "{r}"
    );
    s.get("/Users").await.assert_error(403, None);

    let r = body(patch(json!({"mode": "scim-groups"})).await, 200);
    assert_eq!(r["tenant"]["mode"], "scim-groups");
    assert_eq!(s.get("/Users").await.status, StatusCode::OK);
    s.post(
        "/Users",
        json!({"schemas": [USER_SCHEMA], "userName": "a@x.com"}),
    )
    .await
    .assert_error(403, None);

    let r = body(patch(json!({"mode": "scim"})).await, 200);
    assert_eq!(r["tenant"]["mode"], "scim");
    s.user("a@x.com").await;

    let r = body(patch(json!({"mode": "SCIM"})).await, 200);
    assert_eq!(r["changes"], json!(["Nothing changed."]));

    let r = body(
        patch(json!({"deactivate": "suspend", "require_email_username": false})).await,
        200,
    );
    assert_eq!(r["changes"].as_array().map(Vec::len), Some(2), "{r}");
    assert_eq!(r["tenant"]["settings"]["deactivate"], "suspend");
    assert_eq!(r["tenant"]["settings"]["require_email_username"], false);
    // Both settings are in force for SCIM.
    let plain = s
        .create_user(json!({"schemas": [USER_SCHEMA], "userName": "not-an-email"}))
        .await
        .id();
    let r = s
        .patch(
            &format!("/Users/{plain}"),
            patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(s.get_ok(&format!("/Users/{plain}")).await["active"], false);

    for bad in [
        json!({"mode": "ldap"}),
        json!({"deactivate": "archive"}),
        json!({"colour": "red"}),
    ] {
        patch(bad).await.assert_admin_error(400, "invalid_request");
    }
    let t = body(s.admin(&key, Method::GET, "/tenants/test", None).await, 200);
    assert_eq!(t["mode"], "scim");
    assert_eq!(t["settings"]["deactivate"], "suspend");
}

#[tokio::test]
async fn sso_connections_are_at_most_five_and_scim_is_bound_to_one() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let path = "/tenants/test/connections";
    let list = body(s.admin(&key, Method::GET, path, None).await, 200);
    assert_eq!(list, json!({"connections": [], "max": 5}));

    let entra = body(
        s.admin(
            &key,
            Method::POST,
            path,
            Some(json!({"name": "Entra", "protocol": "SAML"})),
        )
        .await,
        201,
    );
    assert_eq!(entra["protocol"], "saml");
    assert_eq!(entra["scim_bound"], false);
    let entra = text(&entra, "id");
    s.admin(
        &key,
        Method::POST,
        path,
        Some(json!({"name": "x", "protocol": "ldap"})),
    )
    .await
    .assert_admin_error(400, "invalid_request");
    s.admin(
        &key,
        Method::POST,
        path,
        Some(json!({"name": "ENTRA", "protocol": "oidc"})),
    )
    .await
    .assert_admin_error(409, "conflict");
    let okta = body(
        s.admin(
            &key,
            Method::POST,
            path,
            Some(json!({"name": "Okta", "protocol": "oidc"})),
        )
        .await,
        201,
    );
    let okta = text(&okta, "id");
    for n in ["Three", "Four", "Five"] {
        body(
            s.admin(
                &key,
                Method::POST,
                path,
                Some(json!({"name": n, "protocol": "oidc"})),
            )
            .await,
            201,
        );
    }
    s.admin(
        &key,
        Method::POST,
        path,
        Some(json!({"name": "Six", "protocol": "oidc"})),
    )
    .await
    .assert_admin_error(409, "conflict");

    // Tokens made while SCIM is bound belong to that connection.
    let bound = body(
        s.admin(
            &key,
            Method::POST,
            &format!("{path}/{entra}/bind-scim"),
            None,
        )
        .await,
        200,
    );
    assert_eq!(bound["revoked_tokens"], 0);
    let flags: Vec<(String, bool)> = bound["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (text(c, "name"), c["scim_bound"] == true))
        .collect();
    assert!(flags.contains(&("Entra".into(), true)), "{flags:?}");
    assert_eq!(flags.iter().filter(|(_, b)| *b).count(), 1, "{flags:?}");
    let t = body(
        s.admin(&key, Method::POST, "/tenants/test/tokens", None)
            .await,
        201,
    );
    assert_eq!(t["token"]["connection_id"], entra.as_str());
    let entra_token = text(&t, "secret");
    assert_eq!(scim_status(&s, &entra_token).await, 200);

    // Binding another connection revokes the tokens of the previous one.
    let bound = body(
        s.admin(
            &key,
            Method::POST,
            &format!("{path}/{okta}/bind-scim"),
            None,
        )
        .await,
        200,
    );
    assert_eq!(bound["revoked_tokens"], 1, "{bound}");
    assert!(text(&bound, "explanation").contains("revoked"), "{bound}");
    assert_eq!(scim_status(&s, &entra_token).await, 401);
    assert_eq!(scim_status(&s, &s.token).await, 200, "unbound tokens stay");
    s.admin(
        &key,
        Method::POST,
        &format!("{path}/no-such-connection/bind-scim"),
        None,
    )
    .await
    .assert_admin_error(404, "not_found");

    // Deleting a connection revokes its tokens.
    let t = body(
        s.admin(&key, Method::POST, "/tenants/test/tokens", None)
            .await,
        201,
    );
    assert_eq!(t["token"]["connection_id"], okta.as_str());
    let okta_token = text(&t, "secret");
    assert_eq!(scim_status(&s, &okta_token).await, 200);
    body(
        s.admin(&key, Method::DELETE, &format!("{path}/{okta}"), None)
            .await,
        204,
    );
    assert_eq!(scim_status(&s, &okta_token).await, 401);
    s.admin(&key, Method::DELETE, &format!("{path}/{okta}"), None)
        .await
        .assert_admin_error(404, "not_found");
    let list = body(s.admin(&key, Method::GET, path, None).await, 200);
    assert_eq!(list["connections"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn tokens_are_shown_once_listed_with_health_and_revoked() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let made = body(
        s.admin(&key, Method::POST, "/tenants/test/tokens", None)
            .await,
        201,
    );
    let secret = text(&made, "secret");
    let id = text(&made["token"], "id");
    let prefix = text(&made["token"], "prefix");
    assert!(
        secret.starts_with("mst_") && secret.starts_with(&prefix) && secret.len() > prefix.len()
    );
    assert_eq!(made["token"]["status"], "active");
    assert_eq!(made["scim_urls"]["generic"], s.base.as_str());
    assert_eq!(made["scim_urls"]["okta"], s.base.as_str());
    assert_eq!(
        made["scim_urls"]["entra"],
        format!("{}?aadOptscim062020", s.base)
    );

    // The secret works, and is never listed again.
    let r = s
        .send_as(
            &secret,
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": "a@x.com"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let dup = s
        .send_as(
            &secret,
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": "A@x.com"})),
            &[],
        )
        .await;
    dup.assert_error(409, Some("uniqueness"));
    s.flush_audit().await;
    let r = s
        .admin(&key, Method::GET, "/tenants/test/tokens", None)
        .await;
    assert!(!r.text.contains(&secret), "{}", r.text);
    let list = array(body(r, 200));
    assert_eq!(list.len(), 2);
    let mine = find(&list, &id);
    assert_eq!(mine["prefix"], prefix.as_str());
    assert!(mine["last_used"].is_string(), "{mine}");
    assert_eq!(mine["errors_last_hour"], 1, "{mine}");
    assert_eq!(mine["last_error"]["status"], 409, "{mine}");
    assert_eq!(mine["last_error"]["operation"], "scim.users.create");
    assert!(mine["last_error"]["message"].is_string(), "{mine}");
    let other = list.iter().find(|t| t["id"] != id.as_str()).unwrap();
    assert_eq!(other["errors_last_hour"], 0);
    assert!(other["last_error"].is_null(), "{other}");

    body(
        s.admin(
            &key,
            Method::DELETE,
            &format!("/tenants/test/tokens/{id}"),
            None,
        )
        .await,
        204,
    );
    assert_eq!(scim_status(&s, &secret).await, 401);
    assert_eq!(
        find(&tokens(&s, &key, "test").await, &id)["status"],
        "revoked"
    );
    s.admin(
        &key,
        Method::DELETE,
        &format!("/tenants/test/tokens/{id}"),
        None,
    )
    .await
    .assert_admin_error(404, "not_found");

    // A token can be revoked by its prefix too.
    let made = body(
        s.admin(&key, Method::POST, "/tenants/test/tokens", None)
            .await,
        201,
    );
    let secret = text(&made, "secret");
    let prefix = text(&made["token"], "prefix");
    assert_eq!(scim_status(&s, &secret).await, 200);
    body(
        s.admin(
            &key,
            Method::DELETE,
            &format!("/tenants/test/tokens/{prefix}"),
            None,
        )
        .await,
        204,
    );
    assert_eq!(scim_status(&s, &secret).await, 401);
    assert_eq!(scim_status(&s, &s.token).await, 200);
}

#[tokio::test]
async fn a_rotated_token_works_until_its_overlap_ends() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let old = text(&tokens(&s, &key, "test").await[0], "id");
    let rotate = |id: String, b: Option<Value>| {
        let key = key.clone();
        let s = &s;
        async move {
            s.admin(
                &key,
                Method::POST,
                &format!("/tenants/test/tokens/{id}/rotate"),
                b,
            )
            .await
        }
    };

    let r = body(
        rotate(old.clone(), Some(json!({"overlap_seconds": 3600}))).await,
        201,
    );
    assert_eq!(r["old_token_id"], old.as_str());
    let first = text(&r["new"], "secret");
    let first_id = text(&r["new"]["token"], "id");
    assert_eq!(scim_status(&s, &first).await, 200);
    assert_eq!(scim_status(&s, &s.token).await, 200, "inside the overlap");
    let until = muster_scim::resource::parse_datetime(&text(&r, "old_token_expires_at")).unwrap();
    let left = (until - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((3500..=3600).contains(&left), "{left}");
    let list = tokens(&s, &key, "test").await;
    assert_eq!(find(&list, &old)["status"], "expiring");
    assert_eq!(find(&list, &old)["expires_at"], r["old_token_expires_at"]);
    assert_eq!(find(&list, &first_id)["status"], "active");

    // No overlap: the old secret stops at once.
    let r = body(
        rotate(first_id.clone(), Some(json!({"overlap_seconds": 0}))).await,
        201,
    );
    let second = text(&r["new"], "secret");
    let second_id = text(&r["new"]["token"], "id");
    assert_eq!(scim_status(&s, &first).await, 401);
    assert_eq!(scim_status(&s, &second).await, 200);
    assert_eq!(
        find(&tokens(&s, &key, "test").await, &first_id)["status"],
        "expired"
    );

    // Without a body the overlap is one day.
    let r = body(rotate(second_id.clone(), None).await, 201);
    let until = muster_scim::resource::parse_datetime(&text(&r, "old_token_expires_at")).unwrap();
    let left = (until - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((86_300..=86_400).contains(&left), "{left}");
    assert_eq!(scim_status(&s, &second).await, 200);

    for bad in [
        json!({"overlap_seconds": -1}),
        json!({"overlap_seconds": 31 * 24 * 3600}),
        json!({"overlap": 5}),
    ] {
        rotate(second_id.clone(), Some(bad))
            .await
            .assert_admin_error(400, "invalid_request");
    }
    let revoked = body(
        s.admin(&key, Method::POST, "/tenants/test/tokens", None)
            .await,
        201,
    );
    let revoked = text(&revoked["token"], "id");
    body(
        s.admin(
            &key,
            Method::DELETE,
            &format!("/tenants/test/tokens/{revoked}"),
            None,
        )
        .await,
        204,
    );
    rotate(revoked, None)
        .await
        .assert_admin_error(404, "not_found");
    rotate("no-such-token".into(), None)
        .await
        .assert_admin_error(404, "not_found");

    let events = audit(&s, &key, "test", &format!("?target={old}")).await;
    assert_eq!(events[0]["operation"], "admin.token.rotate", "{events:?}");
    assert_eq!(state(&events[0], "after")["replaced_by"], first_id.as_str());
}

#[tokio::test]
async fn admin_keys_are_listed_without_secrets_and_revoked() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let made = body(
        s.admin(
            &key,
            Method::POST,
            "/tenants/test/keys",
            Some(json!({"name": "ci"})),
        )
        .await,
        201,
    );
    let secret = text(&made, "secret");
    let id = text(&made["key"], "id");
    assert!(secret.starts_with("msa_"), "{made}");
    assert_eq!(made["key"]["scope"], "admin");
    assert_eq!(made["key"]["name"], "ci");
    let tenant = body(
        s.admin(&secret, Method::GET, "/tenants/test", None).await,
        200,
    );
    assert_eq!(made["key"]["tenant_id"], tenant["id"]);

    let r = s.admin(&key, Method::GET, "/tenants/test/keys", None).await;
    assert!(
        !r.text.contains(&secret) && !r.text.contains(&key),
        "{}",
        r.text
    );
    let list = array(body(r, 200));
    assert_eq!(list.len(), 2);
    assert_eq!(find(&list, &id)["revoked"], false);
    assert!(find(&list, &id)["last_used"].is_string(), "used above");

    body(
        s.admin(
            &key,
            Method::DELETE,
            &format!("/tenants/test/keys/{id}"),
            None,
        )
        .await,
        204,
    );
    s.admin(&secret, Method::GET, "/tenants/test", None)
        .await
        .assert_admin_error(401, "unauthorized");
    let list = body(
        s.admin(&key, Method::GET, "/tenants/test/keys", None).await,
        200,
    );
    assert_eq!(find(list.as_array().unwrap(), &id)["revoked"], true);
    s.admin(
        &key,
        Method::DELETE,
        &format!("/tenants/test/keys/{id}"),
        None,
    )
    .await
    .assert_admin_error(404, "not_found");
    assert_eq!(
        s.admin(&key, Method::GET, "/tenants/test", None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn admin_changes_are_audited_with_actor_target_and_before_after() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let me = actor(&s, &key).await;
    assert!(me.starts_with("key:"), "{me}");
    let g = body(
        s.admin(
            &key,
            Method::POST,
            "/tenants/test/groups",
            Some(json!({"display_name": "Ops"})),
        )
        .await,
        201,
    );
    let id = text(&g, "id");
    body(
        s.admin(
            &key,
            Method::PATCH,
            &format!("/tenants/test/groups/{id}"),
            Some(json!({"display_name": "Ops Team"})),
        )
        .await,
        200,
    );

    let events = audit(&s, &key, "test", &format!("?target={id}")).await;
    let ops: Vec<String> = events.iter().map(|e| text(e, "operation")).collect();
    assert_eq!(
        ops,
        ["admin.group.rename", "admin.group.create"],
        "newest first"
    );
    for e in &events {
        assert_eq!(e["actor"], me.as_str());
        assert_eq!(e["target"], id.as_str());
        assert_eq!(e["outcome"], "success");
        assert!(e["at"].is_string() && e["seq"].is_i64(), "{e}");
    }
    assert_eq!(state(&events[0], "before")["display_name"], "Ops");
    assert_eq!(state(&events[0], "after")["display_name"], "Ops Team");
    assert!(events[1]["before"].is_null());
    assert_eq!(state(&events[1], "after")["display_name"], "Ops");

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
    let events = audit(&s, &key, "test", "?operation=admin.tenant").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["operation"], "admin.tenant.update");
    assert_eq!(
        state(&events[0], "before")["settings"]["deactivate"],
        "delete"
    );
    assert_eq!(
        state(&events[0], "after")["tenant"]["settings"]["deactivate"],
        "suspend"
    );
}

#[tokio::test]
async fn scim_changes_and_refusals_are_audited_with_the_token_actor() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let token = format!("token:{}", text(&tokens(&s, &key, "test").await[0], "id"));
    let ann = s.user("ann@x.com").await;
    s.get("/Users").await;
    s.get(&format!("/Users/{ann}")).await;
    s.post(
        "/Users",
        json!({"schemas": [USER_SCHEMA], "userName": "ANN@x.com"}),
    )
    .await
    .assert_error(409, Some("uniqueness"));

    let events = audit(&s, &key, "test", &format!("?actor={}", enc(&token))).await;
    let ops: Vec<&str> = events
        .iter()
        .map(|e| e["operation"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        ops,
        [
            "scim.users.create",
            "scim.users.get",
            "scim.users.list",
            "scim.users.create"
        ],
        "every SCIM request is audited: {events:?}"
    );
    let (refused, created) = (&events[0], &events[3]);
    assert_eq!(created["operation"], "scim.users.create");
    assert_eq!(created["outcome"], "success");
    assert_eq!(created["target"], ann.as_str());
    assert_eq!(state(created, "after")["userName"], "ann@x.com");
    assert_eq!(refused["operation"], "scim.users.create");
    assert_eq!(refused["outcome"], "failure");
    assert_eq!(refused["status"], 409);
    assert_eq!(refused["actor"], token.as_str());
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains("ann@x.com")),
        "{refused}"
    );

    let failures = audit(&s, &key, "test", "?outcome=failure").await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["seq"], refused["seq"]);
    let successes = audit(&s, &key, "test", "?outcome=success").await;
    assert!(successes.iter().all(|e| e["outcome"] == "success"));
    assert!(successes.iter().any(|e| e["seq"] == created["seq"]));
    let me = actor(&s, &key).await;
    assert!(
        audit(&s, &key, "test", &format!("?actor={}", enc(&me)))
            .await
            .is_empty(),
        "this key changed nothing"
    );
}

#[tokio::test]
async fn refused_admin_requests_are_audited_as_failures() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let me = actor(&s, &key).await;
    s.admin(
        &key,
        Method::POST,
        "/tenants",
        Some(json!({"name": "mine"})),
    )
    .await
    .assert_admin_error(403, "forbidden");
    let g = s.group("Engineering", &[]).await;
    s.admin(
        &key,
        Method::PATCH,
        &format!("/tenants/test/groups/{g}"),
        Some(json!({"display_name": "Eng"})),
    )
    .await
    .assert_admin_error(409, "owned_by_identity_provider");

    let events = audit(&s, &key, "test", "?outcome=failure").await;
    assert_eq!(events.len(), 2, "{events:?}");
    let (renamed, created) = (&events[0], &events[1]);
    for e in &events {
        assert_eq!(e["actor"], me.as_str());
        assert_eq!(e["outcome"], "failure");
    }
    assert_eq!(created["status"], 403);
    assert!(
        text(created, "operation").starts_with("http.post")
            && text(created, "operation").ends_with("/tenants"),
        "{created}"
    );
    assert_eq!(renamed["status"], 409);
    assert_eq!(renamed["target"], g.as_str());
    assert!(
        text(renamed, "message").contains("identity provider"),
        "{renamed}"
    );
}

#[tokio::test]
async fn audit_filters_by_time_operation_and_pages_backwards() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let make = |name: &'static str| {
        let key = key.clone();
        let s = &s;
        async move {
            let g = body(
                s.admin(
                    &key,
                    Method::POST,
                    "/tenants/test/groups",
                    Some(json!({"display_name": name})),
                )
                .await,
                201,
            );
            text(&g, "id")
        }
    };
    let a = make("A").await;
    let first = audit(&s, &key, "test", &format!("?target={a}")).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let b = make("B").await;
    let second = audit(&s, &key, "test", &format!("?target={b}")).await;
    let (a_at, b_at) = (text(&first[0], "at"), text(&second[0], "at"));
    assert!(a_at < b_at, "{a_at} {b_at}");

    let targets =
        |events: Vec<Value>| -> Vec<String> { events.iter().map(|e| text(e, "target")).collect() };
    let since = targets(audit(&s, &key, "test", &format!("?since={}", enc(&b_at))).await);
    assert_eq!(since, [b.as_str()]);
    let until = targets(audit(&s, &key, "test", &format!("?until={}", enc(&a_at))).await);
    assert_eq!(until, [a.as_str()]);
    // The same instant with another offset is the same filter.
    let t = muster_scim::resource::parse_datetime(&b_at).unwrap();
    let shifted = t
        .to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert!(shifted.ends_with("+02:00"), "{shifted}");
    let since = targets(audit(&s, &key, "test", &format!("?since={}", enc(&shifted))).await);
    assert_eq!(since, [b.as_str()]);
    assert!(
        audit(&s, &key, "test", "?since=2999-01-01T00:00:00Z")
            .await
            .is_empty()
    );

    let both = audit(&s, &key, "test", "?operation=admin.group.create").await;
    assert_eq!(targets(both.clone()), [b.clone(), a.clone()]);
    let page = audit(&s, &key, "test", "?operation=admin.group&limit=1").await;
    assert_eq!(targets(page), [b.as_str()]);
    let next = audit(
        &s,
        &key,
        "test",
        &format!("?operation=admin.group&before={}", both[0]["seq"]),
    )
    .await;
    assert_eq!(targets(next), [a.as_str()]);
    assert!(audit(&s, &key, "test", "?operation=scim.").await.is_empty());

    for bad in ["?since=yesterday", "?until=2026-13-01", "?limit=many"] {
        s.admin(
            &key,
            Method::GET,
            &format!("/tenants/test/audit{bad}"),
            None,
        )
        .await
        .assert_admin_error(400, "invalid_request");
    }
}

#[tokio::test]
async fn no_secret_ever_appears_in_the_audit_log() {
    let s = TestServer::start().await;
    let op = s.operator_key().await;
    let key = s.admin_key("test").await;
    let mut secrets = vec![s.token.clone(), key.clone(), op.clone()];

    let t = body(
        s.admin(&key, Method::POST, "/tenants/test/tokens", None)
            .await,
        201,
    );
    secrets.push(text(&t, "secret"));
    let r = body(
        s.admin(
            &key,
            Method::POST,
            &format!("/tenants/test/tokens/{}/rotate", text(&t["token"], "id")),
            Some(json!({"overlap_seconds": 60})),
        )
        .await,
        201,
    );
    let rotated = text(&r["new"], "secret");
    secrets.push(rotated.clone());
    let k = body(
        s.admin(
            &op,
            Method::POST,
            "/tenants/test/keys",
            Some(json!({"name": "ci"})),
        )
        .await,
        201,
    );
    secrets.push(text(&k, "secret"));
    let inst = body(
        s.admin(
            &key,
            Method::POST,
            "/tenants/test/instances",
            Some(json!({"name": "App", "product": "app", "roles": ["user"]})),
        )
        .await,
        201,
    );
    let ak = body(
        s.admin(
            &key,
            Method::POST,
            &format!("/tenants/test/instances/{}/keys", text(&inst, "id")),
            Some(json!({"name": "app"})),
        )
        .await,
        201,
    );
    let access = text(&ak, "secret");
    secrets.push(access.clone());

    // SCIM changes and refusals with the rotated token; a password sent over SCIM.
    let ann = s
        .send_as(
            &rotated,
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": "ann@x.com", "password": "scim-password-123456"})),
            &[],
        )
        .await;
    assert_eq!(ann.status, StatusCode::CREATED, "{}", ann.text);
    secrets.push("scim-password-123456".into());
    s.send_as(
        &rotated,
        Method::POST,
        "/Users",
        Some(json!({"schemas": [USER_SCHEMA], "userName": "ann@x.com", "password": "another-password-99"})),
        &[],
    )
    .await
    .assert_error(409, Some("uniqueness"));
    secrets.push("another-password-99".into());
    let ann = ann.id();
    let r = s
        .send_as(
            &rotated,
            Method::PATCH,
            &format!("/Users/{ann}"),
            Some(patch_op(
                json!([{"op": "replace", "path": "password", "value": "patched-password-42"}]),
            )),
            &[],
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = s
        .send_as(
            &rotated,
            Method::PUT,
            &format!("/Users/{ann}"),
            Some(json!({"schemas": [USER_SCHEMA], "userName": "ann@x.com", "password": "replaced-password-43"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    secrets.extend(["patched-password-42".into(), "replaced-password-43".into()]);
    let access_url = format!("{}/api/access/v1/users/ann@x.com", s.origin);
    body(s.admin(&access, Method::GET, &access_url, None).await, 200);

    // An administrator's password, set-password link, session and CSRF token.
    let invite = s
        .state
        .admin
        .add_administrator(&Who::cli(), "test", "boss@x.com")
        .await
        .unwrap();
    let setup = invite
        .link_path
        .split("#token=")
        .nth(1)
        .unwrap()
        .to_string();
    let password = "a long and secret password";
    body(
        s.admin(
            "",
            Method::POST,
            "/password",
            Some(json!({"token": setup, "password": password})),
        )
        .await,
        204,
    );
    s.admin(
        "",
        Method::POST,
        "/password",
        Some(json!({"token": setup, "password": password})),
    )
    .await
    .assert_admin_error(400, "invalid_link");
    s.admin(
        "",
        Method::POST,
        "/session",
        Some(json!({"tenant": "test", "email": "boss@x.com", "password": "wrong password 123"})),
    )
    .await
    .assert_admin_error(401, "unauthorized");
    let signed = s
        .admin(
            "",
            Method::POST,
            "/session",
            Some(json!({"tenant": "test", "email": "boss@x.com", "password": password})),
        )
        .await;
    let cookie = signed
        .header("set-cookie")
        .and_then(|c| c.split(';').next().map(str::to_string))
        .unwrap();
    let csrf = text(&body(signed, 200), "csrf_token");
    let session = cookie.split_once('=').unwrap().1.to_string();
    let r = s
        .client
        .post(format!("{}/tenants/test/groups", s.admin_base()))
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .header("Content-Type", "application/json")
        .body(json!({"display_name": "Made in a session"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    secrets.extend([
        setup,
        password.to_string(),
        "wrong password 123".into(),
        session,
        csrf,
    ]);

    s.flush_audit().await;
    let log = s
        .admin(&op, Method::GET, "/tenants/test/audit?limit=1000", None)
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let ops: Vec<String> = log
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| text(e, "operation"))
        .collect();
    for expected in [
        "admin.token.create",
        "admin.token.rotate",
        "admin.key.create.admin",
        "admin.key.create.access",
        "admin.administrator.add",
        "admin.password.set",
        "admin.session.create",
        "admin.group.create",
        "scim.users.create",
        "scim.users.patch",
        "scim.users.replace",
    ] {
        assert!(ops.iter().any(|o| o == expected), "{expected} in {ops:?}");
    }
    for secret in &secrets {
        // The random tail too, should a secret be logged without its kind prefix.
        let tail = &secret[secret.len() - 16..];
        assert!(
            !log.text.contains(secret.as_str()) && !log.text.contains(tail),
            "a secret ({}…) is in the audit log: {}",
            &secret[..4],
            log.text
        );
    }
}

/// Tenant B's name, id and every kind of resource id, tried with tenant A's admin key.
#[tokio::test]
async fn a_tenant_admin_gets_404_for_everything_of_another_tenant() {
    let s = TestServer::start().await;
    let op = s.operator_key().await;
    let a_key = s.admin_key("test").await;
    let b_token = s.tenant("other", Mode::Scim).await;
    let b_key = s.admin_key("other").await;
    let a_ann = s.user("ann@x.com").await;

    // Tenant B's things, made by its own IdP and by an operator.
    let scim_b = |path: &'static str, b: Value| {
        let s = &s;
        let token = b_token.clone();
        async move {
            let r = s.send_as(&token, Method::POST, path, Some(b), &[]).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            r.id()
        }
    };
    let b_ann = scim_b(
        "/Users",
        json!({"schemas": [USER_SCHEMA], "userName": "ann@x.com"}),
    )
    .await;
    let b_bea = scim_b(
        "/Users",
        json!({"schemas": [USER_SCHEMA], "userName": "bea@x.com"}),
    )
    .await;
    let b_scim_group = scim_b(
        "/Groups",
        json!({"schemas": [GROUP_SCHEMA], "displayName": "B Team", "members": [{"value": b_bea}]}),
    )
    .await;
    let opb = |method: Method, path: String, b: Option<Value>, status: u16| {
        let s = &s;
        let op = op.clone();
        async move { body(s.admin(&op, method, &path, b).await, status) }
    };
    let b_id = text(
        &opb(Method::GET, "/tenants/other".into(), None, 200).await,
        "id",
    );
    let b_manual = text(
        &opb(
            Method::POST,
            "/tenants/other/users".into(),
            Some(json!({"user_name": "carl@x.com", "given_name": "Carl"})),
            201,
        )
        .await,
        "id",
    );
    let b_custom = text(
        &opb(
            Method::POST,
            "/tenants/other/groups".into(),
            Some(json!({"display_name": "B Custom"})),
            201,
        )
        .await,
        "id",
    );
    opb(
        Method::POST,
        format!("/tenants/other/groups/{b_custom}/members"),
        Some(json!({"add": [b_bea]})),
        200,
    )
    .await;
    let inst = opb(
        Method::POST,
        "/tenants/other/instances".into(),
        Some(json!({"name": "B App", "product": "app", "roles": ["user"]})),
        201,
    )
    .await;
    let b_inst = text(&inst, "id");
    let b_role = text(&inst["roles"][0], "id");
    let b_grant = text(
        &opb(
            Method::POST,
            "/tenants/other/grants".into(),
            Some(json!({"group_id": b_scim_group, "instance_id": b_inst, "role": "user"})),
            201,
        )
        .await,
        "id",
    );
    let b_conn = text(
        &opb(
            Method::POST,
            "/tenants/other/connections".into(),
            Some(json!({"name": "B SSO", "protocol": "oidc"})),
            201,
        )
        .await,
        "id",
    );
    let b_tokens = opb(Method::GET, "/tenants/other/tokens".into(), None, 200).await;
    let b_token_id = text(&b_tokens[0], "id");
    let b_token_prefix = text(&b_tokens[0], "prefix");
    let b_key_id = actor(&s, &b_key).await["key:".len()..].to_string();

    // Tenant A's own things, for the paths that name B's ids under A.
    let a_inst = body(
        s.admin(
            &a_key,
            Method::POST,
            "/tenants/test/instances",
            Some(json!({"name": "A App", "product": "app", "roles": ["user"]})),
        )
        .await,
        201,
    );
    let a_inst = text(&a_inst, "id");

    let per_tenant: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "".into(), None),
        (Method::PATCH, "".into(), Some(json!({"mode": "jit"}))),
        (Method::GET, "/connections".into(), None),
        (
            Method::POST,
            "/connections".into(),
            Some(json!({"name": "Mine", "protocol": "saml"})),
        ),
        (Method::GET, "/tokens".into(), None),
        (Method::POST, "/tokens".into(), None),
        (Method::GET, "/keys".into(), None),
        (Method::POST, "/keys".into(), Some(json!({"name": "mine"}))),
        (Method::GET, "/audit".into(), None),
        (Method::GET, "/users".into(), None),
        (
            Method::POST,
            "/users".into(),
            Some(json!({"user_name": "new@x.com"})),
        ),
        (Method::GET, "/groups".into(), None),
        (
            Method::POST,
            "/groups".into(),
            Some(json!({"display_name": "New"})),
        ),
        (Method::GET, "/instances".into(), None),
        (
            Method::POST,
            "/instances".into(),
            Some(json!({"name": "New", "product": "p"})),
        ),
        (Method::GET, "/grants".into(), None),
        (
            Method::POST,
            "/jit-signin".into(),
            Some(json!({"email": "jit@x.com"})),
        ),
    ];
    // Paths naming B's resources, tried under B's name or id and under A's name.
    let per_resource: Vec<(Method, String, Option<Value>)> = vec![
        (Method::DELETE, format!("/connections/{b_conn}"), None),
        (
            Method::POST,
            format!("/connections/{b_conn}/bind-scim"),
            None,
        ),
        (Method::DELETE, format!("/tokens/{b_token_id}"), None),
        (Method::DELETE, format!("/tokens/{b_token_prefix}"), None),
        (
            Method::POST,
            format!("/tokens/{b_token_id}/rotate"),
            Some(json!({"overlap_seconds": 0})),
        ),
        (Method::DELETE, format!("/keys/{b_key_id}"), None),
        (Method::GET, format!("/users/{b_ann}"), None),
        (Method::GET, "/users/bea@x.com".into(), None),
        (Method::GET, format!("/users/{b_bea}/access"), None),
        (
            Method::PATCH,
            format!("/users/{b_manual}"),
            Some(json!({"given_name": "Pwned"})),
        ),
        (
            Method::PATCH,
            "/users/carl@x.com".into(),
            Some(json!({"given_name": "Pwned"})),
        ),
        (Method::DELETE, format!("/users/{b_manual}"), None),
        (Method::GET, format!("/groups/{b_custom}"), None),
        (Method::GET, format!("/groups/{b_scim_group}"), None),
        (
            Method::PATCH,
            format!("/groups/{b_custom}"),
            Some(json!({"display_name": "Pwned"})),
        ),
        (Method::GET, format!("/groups/{b_custom}/members"), None),
        (
            Method::POST,
            format!("/groups/{b_custom}/members"),
            Some(json!({"remove": [b_bea]})),
        ),
        (
            Method::DELETE,
            format!("/groups/{b_custom}/members/{b_bea}"),
            None,
        ),
        (Method::DELETE, format!("/groups/{b_custom}"), None),
        (Method::GET, format!("/instances/{b_inst}"), None),
        (
            Method::POST,
            format!("/instances/{b_inst}/roles"),
            Some(json!({"name": "pwned"})),
        ),
        (
            Method::POST,
            format!("/instances/{b_inst}/keys"),
            Some(json!({"name": "pwned"})),
        ),
        (
            Method::DELETE,
            format!("/instances/{b_inst}/roles/{b_role}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/instances/{a_inst}/roles/{b_role}"),
            None,
        ),
        (
            Method::POST,
            "/grants".into(),
            Some(json!({"group_id": b_scim_group, "instance_id": b_inst, "role": "user"})),
        ),
        (
            Method::POST,
            "/grants".into(),
            Some(json!({"group_id": b_scim_group, "instance_id": a_inst, "role": "user"})),
        ),
        (Method::DELETE, format!("/grants/{b_grant}"), None),
        (Method::DELETE, format!("/instances/{b_inst}"), None),
    ];
    let mut tried = 0;
    for tenant in ["other", "OTHER", b_id.as_str()] {
        for (method, rest, b) in per_tenant.iter().chain(&per_resource) {
            let path = format!("/tenants/{tenant}{rest}");
            let r = s.admin(&a_key, method.clone(), &path, b.clone()).await;
            assert_eq!(r.status.as_u16(), 404, "{method} {path}: {}", r.text);
            r.assert_admin_error(404, "not_found");
            tried += 1;
        }
    }
    for (method, rest, b) in &per_resource {
        let path = format!("/tenants/test{rest}");
        let r = s.admin(&a_key, method.clone(), &path, b.clone()).await;
        assert_eq!(r.status.as_u16(), 404, "{method} {path}: {}", r.text);
        r.assert_admin_error(404, "not_found");
        tried += 1;
    }
    assert!(tried > 100, "{tried}");

    // A's lists hold none of B, and A's ann is A's.
    let tenants = body(s.admin(&a_key, Method::GET, "/tenants", None).await, 200);
    assert_eq!(tenants.as_array().map(Vec::len), Some(1));
    let users = s
        .admin(&a_key, Method::GET, "/tenants/test/users", None)
        .await;
    assert!(
        !users.text.contains(&b_ann) && !users.text.contains("bea@x.com"),
        "{}",
        users.text
    );
    let ann = body(
        s.admin(&a_key, Method::GET, "/tenants/test/users/ann@x.com", None)
            .await,
        200,
    );
    assert_eq!(ann["user"]["id"], a_ann.as_str());
    let grants = body(
        s.admin(
            &a_key,
            Method::GET,
            &format!("/tenants/test/grants?group_id={b_scim_group}"),
            None,
        )
        .await,
        200,
    );
    assert_eq!(grants, json!([]));
    let groups = s
        .admin(&a_key, Method::GET, "/tenants/test/groups", None)
        .await;
    assert!(!groups.text.contains(&b_custom) && !groups.text.contains("B Team"));
    let a_id = body(
        s.admin(&a_key, Method::GET, "/tenants/test", None).await,
        200,
    )["id"]
        .clone();
    let log = audit(&s, &a_key, "test", "?limit=1000").await;
    assert!(log.iter().all(|e| e["tenant_id"] == a_id), "{log:?}");
    let b_log = audit(&s, &op, "other", "?limit=1000").await;
    assert!(
        b_log.iter().all(|e| e["outcome"] == "success"),
        "none of A's refusals is in B's log: {b_log:?}"
    );

    // B is untouched: its token, key, mode, users, groups, members, instance, grant, connection.
    assert_eq!(scim_status(&s, &b_token).await, 200);
    let b = body(
        s.admin(&b_key, Method::GET, "/tenants/other", None).await,
        200,
    );
    assert_eq!(b["mode"], "scim");
    let carl = opb(
        Method::GET,
        format!("/tenants/other/users/{b_manual}"),
        None,
        200,
    )
    .await;
    assert_eq!(carl["user"]["given_name"], "Carl");
    let custom = opb(
        Method::GET,
        format!("/tenants/other/groups/{b_custom}"),
        None,
        200,
    )
    .await;
    assert_eq!(custom["display_name"], "B Custom");
    let members = opb(
        Method::GET,
        format!("/tenants/other/groups/{b_custom}/members"),
        None,
        200,
    )
    .await;
    assert_eq!(members["items"][0]["id"], b_bea.as_str());
    let inst = opb(
        Method::GET,
        format!("/tenants/other/instances/{b_inst}"),
        None,
        200,
    )
    .await;
    assert_eq!(inst["roles"].as_array().map(Vec::len), Some(1));
    let grants = opb(
        Method::GET,
        format!("/tenants/other/grants?group_id={b_scim_group}"),
        None,
        200,
    )
    .await;
    assert_eq!(grants[0]["id"], b_grant.as_str());
    let conns = opb(Method::GET, "/tenants/other/connections".into(), None, 200).await;
    assert_eq!(conns["connections"][0]["scim_bound"], false);
    let b_tokens = opb(Method::GET, "/tenants/other/tokens".into(), None, 200).await;
    assert_eq!(
        b_tokens.as_array().map(Vec::len),
        Some(1),
        "A made no token in B"
    );
    let b_groups = opb(
        Method::GET,
        "/tenants/other/groups?kind=custom".into(),
        None,
        200,
    )
    .await;
    assert_eq!(b_groups["total"], 1);
}

/// Member ids from another tenant are refused exactly like ids that exist nowhere.
#[tokio::test]
async fn another_tenants_ids_in_a_body_are_unknown_ids() {
    let s = TestServer::start().await;
    let a_key = s.admin_key("test").await;
    let b_token = s.tenant("other", Mode::Scim).await;
    let r = s
        .send_as(
            &b_token,
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": "bea@x.com"})),
            &[],
        )
        .await;
    let b_bea = r.id();
    let g = body(
        s.admin(
            &a_key,
            Method::POST,
            "/tenants/test/groups",
            Some(json!({"display_name": "Mine"})),
        )
        .await,
        201,
    );
    let members = format!("/tenants/test/groups/{}/members", text(&g, "id"));
    let foreign = s
        .admin(
            &a_key,
            Method::POST,
            &members,
            Some(json!({"add": [b_bea]})),
        )
        .await;
    let nowhere = s
        .admin(
            &a_key,
            Method::POST,
            &members,
            Some(json!({"add": ["00000000-0000-4000-8000-000000000000"]})),
        )
        .await;
    assert_eq!(
        foreign.status, nowhere.status,
        "{} / {}",
        foreign.text, nowhere.text
    );
    assert_eq!(foreign.body["code"], nowhere.body["code"]);
    foreign.assert_admin_error(400, "invalidValue");
    assert!(
        text(&foreign.body, "message").contains(&b_bea),
        "{}",
        foreign.text
    );
    let list = body(s.admin(&a_key, Method::GET, &members, None).await, 200);
    assert_eq!(list["total"], 0);
}

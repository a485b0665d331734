//! Product rules of product.md §3 on the SCIM side, each in the shapes the IdPs send: 1
//! (deactivate deletes, or suspends), 2 (restore is a new create), 4 (reserved groups), 5
//! (product and custom group names, custom takeover by id), 10 (created inactive), 11
//! (userName is an email, per tenant).

use crate::support::{GROUP_SCHEMA, Resp, TestServer, USER_SCHEMA, enc, patch_op};
use muster_domain::model::Mode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn total(s: &TestServer, path: &str, filter: &str) -> u64 {
    let r = s.get(&format!("{path}?filter={}", enc(filter))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["totalResults"].as_u64().unwrap_or(u64::MAX)
}

/// A deactivation request for a user of this userName.
type Shape = dyn Fn(&str) -> (Method, Value);

/// Rule 1 in every shape the IdPs send: Entra's default dialect (`Replace`, string "False"),
/// Entra with aadOptscim062020 (boolean), Okta's path-less replace, and PUT.
#[tokio::test]
async fn deactivating_a_user_removes_it_from_every_group_and_deletes_it() {
    let shapes: Vec<(&str, Box<Shape>)> = vec![
        (
            "entra default",
            Box::new(|_| {
                (
                    Method::PATCH,
                    patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}])),
                )
            }),
        ),
        (
            "entra aadOptscim062020",
            Box::new(|_| {
                (
                    Method::PATCH,
                    patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
                )
            }),
        ),
        (
            "okta",
            Box::new(|_| {
                (
                    Method::PATCH,
                    patch_op(json!([{"op": "replace", "value": {"active": false}}])),
                )
            }),
        ),
        (
            "put",
            Box::new(|name| {
                (
                    Method::PUT,
                    json!({"schemas": [USER_SCHEMA], "userName": name, "active": false}),
                )
            }),
        ),
    ];
    let s = TestServer::start().await;
    for (i, (shape, body)) in shapes.iter().enumerate() {
        let name = format!("gone{i}@x.com");
        let id = s.user(&name).await;
        let stay = s.user(&format!("stay{i}@x.com")).await;
        let g = s.group(&format!("Team {i}"), &[&id, &stay]).await;
        let (method, body) = body(&name);
        let r = s.send(method, &format!("/Users/{id}"), Some(body)).await;
        assert!(r.status.is_success(), "{shape}: {}", r.text);
        s.get(&format!("/Users/{id}")).await.assert_error(404, None);
        assert_eq!(
            total(&s, "/Users", &format!("userName eq \"{name}\"")).await,
            0,
            "{shape}"
        );
        assert_eq!(
            s.member_ids(&g).await,
            std::slice::from_ref(&stay),
            "{shape}"
        );
    }
    // The audit log says what happened.
    s.flush_audit().await;
    let t = s.store.tenant_by_name("test").await.unwrap().unwrap();
    let ev = s
        .store
        .query_audit(&muster_domain::admin::model::AuditQuery {
            tenant_id: Some(t.id),
            operation_prefix: Some("scim.users.patch".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        ev.iter()
            .any(|e| e.message.as_deref().is_some_and(|m| m.contains("deleted"))),
        "{ev:?}"
    );
}

#[tokio::test]
async fn in_suspend_mode_a_deactivated_user_stays_inactive_with_its_memberships() {
    let s = TestServer::start().await;
    s.suspend_deactivated("test").await;
    let id = s.user("ann@x.com").await;
    let g = s.group("Team", &[&id]).await;
    let r = s
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(s.get_ok(&format!("/Users/{id}")).await["active"], false);
    // Entra: an inactive user is still returned by filters.
    assert_eq!(total(&s, "/Users", "userName eq \"ann@x.com\"").await, 1);
    assert_eq!(s.member_ids(&g).await, std::slice::from_ref(&id));
    // Reactivated: still the same user and memberships.
    s.patch(
        &format!("/Users/{id}"),
        patch_op(json!([{"op": "Replace", "path": "active", "value": "True"}])),
    )
    .await;
    assert_eq!(s.get_ok(&format!("/Users/{id}")).await["active"], true);
}

/// Rule 2: restoring in the IdP is a new POST; memberships come back with the group updates.
#[tokio::test]
async fn a_restored_user_is_created_again() {
    let s = TestServer::start().await;
    let id = s.user("ann@x.com").await;
    let g = s.group("Team", &[&id]).await;
    s.delete(&format!("/Users/{id}")).await;
    let again = s.user("ann@x.com").await;
    assert_ne!(again, id);
    assert!(s.member_ids(&g).await.is_empty());
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([{"op": "Add", "path": "members", "value": [{"value": again}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(s.member_ids(&g).await, [again]);
}

/// Rule 10: created inactive, it stays (without access); turned on, then a deactivation
/// deletes it.
#[tokio::test]
async fn a_user_created_inactive_is_kept_until_it_is_deactivated_after_being_active() {
    let s = TestServer::start().await;
    let r = s
        .create_user(json!({"schemas": [USER_SCHEMA], "userName": "late@x.com", "active": false}))
        .await;
    let id = r.id();
    assert_eq!(r.body["active"], false);
    // A profile update that repeats active=false is not a deactivation.
    let r = s
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "replace", "value": {"active": false, "title": "Intern"}}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(s.get_ok(&format!("/Users/{id}")).await["title"], "Intern");
    s.patch(
        &format!("/Users/{id}"),
        patch_op(json!([{"op": "replace", "path": "active", "value": true}])),
    )
    .await;
    assert_eq!(s.get_ok(&format!("/Users/{id}")).await["active"], true);
    s.patch(
        &format!("/Users/{id}"),
        patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
    )
    .await;
    s.get(&format!("/Users/{id}")).await.assert_error(404, None);
}

fn reserved(r: &Resp, name: &str) {
    r.assert_error(409, Some("uniqueness"));
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(name) && detail.contains("reserved"),
        "{detail}"
    );
}

/// Rule 4: the reserved groups in every shape and letter case.
#[tokio::test]
async fn reserved_groups_are_refused_in_every_shape_with_a_message_naming_them() {
    let s = TestServer::start().await;
    for name in ["Everyone", "admin center ADMINISTRATORS"] {
        let r = s
            .post(
                "/Groups",
                json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": []}),
            )
            .await;
        reserved(&r, name);
        // Reading: they are not there.
        assert_eq!(
            total(&s, "/Groups", &format!("displayName eq \"{name}\"")).await,
            0
        );
    }
    let g = s.group("Engineering", &[]).await;
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([{"op": "Replace", "path": "displayName", "value": "EVERYONE"}])),
        )
        .await;
    reserved(&r, "EVERYONE");
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([{"op": "replace", "value": {"id": g, "displayName": "everyone"}}])),
        )
        .await;
    reserved(&r, "everyone");
    let r = s
        .put(
            &format!("/Groups/{g}"),
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Admin Center Administrators"}),
        )
        .await;
    reserved(&r, "Admin Center Administrators");
    assert_eq!(
        s.get_ok(&format!("/Groups/{g}")).await["displayName"],
        "Engineering"
    );
    let r = s
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                   "Operations": [{"method": "POST", "path": "/Groups", "bulkId": "e",
                                   "data": {"schemas": [GROUP_SCHEMA], "displayName": "Everyone"}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["Operations"][0]["status"], "409", "{}", r.text);
    assert!(r.text.contains("reserved"), "{}", r.text);
}

/// Rule 5: a product group's name is refused with a suggestion; a custom group's name is
/// refused with what to do; a custom group addressed by id is taken over.
#[tokio::test]
async fn product_and_custom_group_names_and_custom_takeover_by_id() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let r = s
        .admin(
            &key,
            Method::POST,
            "/tenants/test/instances",
            Some(json!({"name": "CMS", "product": "cms", "roles": ["Editor"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = s
        .post(
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "cms editor"}),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
    assert!(r.text.contains("SCIM_cms editor"), "{}", r.text);

    let r = s
        .admin(
            &key,
            Method::POST,
            "/tenants/test/groups",
            Some(json!({"display_name": "Partners"})),
        )
        .await;
    let custom = r.body["id"].as_str().unwrap().to_string();
    let r = s
        .post(
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "PARTNERS"}),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
    assert!(
        r.text.contains("custom group") && r.text.contains(&custom),
        "{}",
        r.text
    );
    // The IdP finds it (to link it), reads it by id, cannot delete it unlinked, and its first
    // change takes it over.
    assert_eq!(total(&s, "/Groups", "displayName eq \"Partners\"").await, 1);
    assert_eq!(
        s.get_ok(&format!("/Groups/{custom}")).await["displayName"],
        "Partners"
    );
    let r = s.delete(&format!("/Groups/{custom}")).await;
    r.assert_error(409, None);
    assert!(r.text.contains("custom group"), "{}", r.text);
    let ann = s.user("ann@x.com").await;
    let r = s
        .patch(
            &format!("/Groups/{custom}"),
            patch_op(json!([{"op": "Add", "path": "members", "value": [{"value": ann}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let g = s
        .admin(
            &key,
            Method::GET,
            &format!("/tenants/test/groups/{custom}"),
            None,
        )
        .await;
    assert_eq!(g.body["kind"], "scim", "{}", g.text);
    assert_eq!(total(&s, "/Groups", "displayName eq \"Partners\"").await, 1);
}

/// Rule 11: userName is an email address (per tenant), unique ignoring case, may change, and
/// the same email may live in two tenants.
#[tokio::test]
async fn user_names_are_emails_unique_ignoring_case_per_tenant() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Users",
            json!({"schemas": [USER_SCHEMA], "userName": "bjensen"}),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(
        r.text.contains("bjensen") && r.text.contains("email"),
        "{}",
        r.text
    );
    let id = s.user("ann@x.com").await;
    s.post(
        "/Users",
        json!({"schemas": [USER_SCHEMA], "userName": "ANN@X.COM"}),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    let r = s
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "replace", "path": "userName", "value": "ann.lee@x.com"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = s
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "replace", "path": "userName", "value": "ann"}])),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert_eq!(
        s.get_ok(&format!("/Users/{id}")).await["userName"],
        "ann.lee@x.com"
    );
    let other = s.tenant("other", Mode::Scim).await;
    let r = s
        .send_as(
            &other,
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": "ann.lee@x.com"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Off for generic SCIM clients.
    let key = s.admin_key("other").await;
    s.admin(
        &key,
        Method::PATCH,
        "/tenants/other",
        Some(json!({"require_email_username": false})),
    )
    .await;
    let r = s
        .send_as(
            &other,
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": "bjensen"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// Rule 8: in `scim-groups` mode (the group-only product, served at `/api/auth/scim/v2`)
/// users must already exist; groups are pushed with them as members; an unknown member is a
/// 400 that names it and changes nothing.
#[tokio::test]
async fn scim_groups_mode_takes_groups_of_existing_users_only() {
    let s = TestServer::start().await;
    let token = s.tenant("optimaite", Mode::ScimGroups).await;
    let key = s.admin_key("optimaite").await;
    let r = s
        .admin(
            &key,
            Method::POST,
            "/tenants/optimaite/users",
            Some(json!({"user_name": "ann@x.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ann = r.body["id"].as_str().unwrap().to_string();
    let base = format!("{}/api/auth/scim/v2", s.origin);
    let r = s
        .send_as(
            &token,
            Method::POST,
            &format!("{base}/Users"),
            Some(json!({"schemas": [USER_SCHEMA], "userName": "bob@x.com"})),
            &[],
        )
        .await;
    r.assert_error(403, None);
    assert!(r.text.contains("scim-groups"), "{}", r.text);
    let group = |members: Vec<Value>| json!({"schemas": [GROUP_SCHEMA], "displayName": "Editors", "members": members});
    let r = s
        .send_as(
            &token,
            Method::POST,
            &format!("{base}/Groups"),
            Some(group(vec![
                json!({"value": ann}),
                json!({"value": "no-such-user"}),
            ])),
            &[],
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(r.text.contains("no-such-user"), "{}", r.text);
    let r = s
        .send_as(
            &token,
            Method::POST,
            &format!("{base}/Groups"),
            Some(group(vec![json!({"value": ann})])),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let filter = enc("displayName eq \"editors\"");
    let r = s
        .send_as(
            &token,
            Method::GET,
            &format!("{base}/Groups?filter={filter}&startIndex=1&count=10"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    assert_eq!(r.body["Resources"][0]["members"][0]["value"], ann.as_str());
}

//! Users and groups through the admin API: listing by source and kind with SCIM filters, manual
//! users, custom groups and their members, and rule 6 — what the identity provider owns is
//! read-only for administrators — plus the groups SCIM never sees (rule 13).

use crate::admin_api::{array, body, group_id, text};
use crate::support::{GROUP_SCHEMA, TestServer, USER_SCHEMA, enc, ids, patch_op};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A tenant-relative admin API path.
fn at(rest: &str) -> String {
    format!("/tenants/test{rest}")
}

/// A field of every item of an admin list page.
fn items(page: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = array(page["items"].clone())
        .iter()
        .map(|i| text(i, key))
        .collect();
    v.sort();
    v
}

async fn manual(s: &TestServer, key: &str, user_name: &str) -> String {
    let u = body(
        s.admin(
            key,
            Method::POST,
            &at("/users"),
            Some(json!({"user_name": user_name})),
        )
        .await,
        201,
    );
    text(&u, "id")
}

async fn custom(s: &TestServer, key: &str, name: &str) -> String {
    let g = body(
        s.admin(
            key,
            Method::POST,
            &at("/groups"),
            Some(json!({"display_name": name})),
        )
        .await,
        201,
    );
    assert_eq!(g["kind"], "custom");
    text(&g, "id")
}

/// An instance "App" with one role, and the id of its product group "App user".
async fn product_group(s: &TestServer, key: &str) -> String {
    let inst = body(
        s.admin(
            key,
            Method::POST,
            &at("/instances"),
            Some(json!({"name": "App", "product": "app", "roles": ["user"]})),
        )
        .await,
        201,
    );
    text(&inst["roles"][0], "group_id")
}

async fn members(s: &TestServer, key: &str, group: &str) -> Vec<String> {
    let page = body(
        s.admin(
            key,
            Method::GET,
            &at(&format!("/groups/{group}/members")),
            None,
        )
        .await,
        200,
    );
    items(&page, "id")
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn users_are_listed_by_source_and_scim_filter() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ann = s.user("ann@x.com").await;
    let bob = s.user("bob@x.com").await;
    let carol = manual(&s, &key, "carol@x.com").await;
    let list = |q: String| {
        let s = &s;
        let key = key.clone();
        async move {
            s.admin(&key, Method::GET, &at(&format!("/users{q}")), None)
                .await
        }
    };

    let all = body(list(String::new()).await, 200);
    assert_eq!(all["total"], 3);
    assert_eq!(all["start_index"], 1);
    assert_eq!(
        items(&all, "id"),
        sorted(vec![ann.clone(), bob.clone(), carol.clone()])
    );
    let sources: Vec<(String, String)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (text(u, "user_name"), text(u, "source")))
        .collect();
    assert!(
        sources.contains(&("ann@x.com".into(), "scim".into())),
        "{sources:?}"
    );
    assert!(
        sources.contains(&("carol@x.com".into(), "manual".into())),
        "{sources:?}"
    );

    let by = |page: Value| items(&page, "id");
    assert_eq!(
        by(body(list("?source=manual".into()).await, 200)),
        [carol.as_str()]
    );
    assert_eq!(
        by(body(list("?source=scim".into()).await, 200)),
        sorted(vec![ann.clone(), bob.clone()])
    );
    assert!(by(body(list("?source=jit".into()).await, 200)).is_empty());
    list("?source=robot".into())
        .await
        .assert_admin_error(400, "invalid_request");

    let f = |filter: &str| enc(filter);
    assert_eq!(
        by(body(
            list(format!("?filter={}", f("userName sw \"AN\""))).await,
            200
        )),
        [ann.as_str()],
        "attribute values compare ignoring case"
    );
    assert_eq!(
        by(body(
            list(format!(
                "?filter={}&source=manual",
                f("userName sw \"b\" or userName sw \"c\"")
            ))
            .await,
            200
        )),
        [carol.as_str()]
    );
    assert_eq!(
        by(body(
            list(format!("?filter={}", f("name.givenName eq \"Given\""))).await,
            200
        )),
        sorted(vec![ann.clone(), bob.clone()])
    );
    list(format!("?filter={}", f("userName zz \"a\"")))
        .await
        .assert_admin_error(400, "invalidFilter");

    let page = body(list("?count=1&start_index=2".into()).await, 200);
    assert_eq!(page["total"], 3);
    assert_eq!(page["start_index"], 2);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_user_is_found_by_id_or_user_name_with_groups_of_every_kind() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ann = s.user("ann@x.com").await;
    let eng = s.group("Engineering", &[&ann]).await;
    let ops = custom(&s, &key, "Ops").await;
    let app = product_group(&s, &key).await;
    for g in [&ops, &app] {
        body(
            s.admin(
                &key,
                Method::POST,
                &at(&format!("/groups/{g}/members")),
                Some(json!({"add": [ann]})),
            )
            .await,
            200,
        );
    }
    for path in [ann.as_str(), "ann@x.com", "ANN@X.COM"] {
        let d = body(
            s.admin(&key, Method::GET, &at(&format!("/users/{path}")), None)
                .await,
            200,
        );
        assert_eq!(d["user"]["id"], ann.as_str(), "{path}");
        assert_eq!(d["user"]["user_name"], "ann@x.com");
        assert_eq!(d["user"]["given_name"], "Given");
        assert_eq!(d["user"]["family_name"], "Family");
        assert_eq!(d["user"]["source"], "scim");
        assert_eq!(d["user"]["active"], true);
        let groups: Vec<(String, String)> = d["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (text(g, "id"), text(g, "kind")))
            .collect();
        assert_eq!(groups.len(), 3, "{groups:?}");
        assert!(groups.contains(&(eng.clone(), "scim".into())));
        assert!(groups.contains(&(ops.clone(), "custom".into())));
        assert!(groups.contains(&(app.clone(), "product".into())));
        assert_eq!(d["access"][0]["role_name"], "user", "{d}");
    }
    s.admin(&key, Method::GET, &at("/users/nobody@x.com"), None)
        .await
        .assert_admin_error(404, "not_found");
}

#[tokio::test]
async fn manual_users_are_added_edited_and_removed() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    s.user("ann@x.com").await;
    let r = body(
        s.admin(
            &key,
            Method::POST,
            &at("/users"),
            Some(json!({"user_name": "dana@x.com", "given_name": "Dana", "family_name": "Doe"})),
        )
        .await,
        201,
    );
    let dana = text(&r, "id");
    assert_eq!(r["source"], "manual");
    assert_eq!(r["display_name"], "Dana Doe");
    assert_eq!(r["active"], true);
    // SCIM sees every user, manual ones included.
    let scim = s.get_ok(&format!("/Users/{dana}")).await;
    assert_eq!(scim["userName"], "dana@x.com");
    assert_eq!(scim["name"]["givenName"], "Dana");

    for (b, status, code) in [
        (json!({"user_name": "dana"}), 400, "invalid_request"),
        (json!({"user_name": "DANA@x.com"}), 409, "conflict"),
        (json!({"user_name": "Ann@X.com"}), 409, "conflict"),
        (
            json!({"user_name": "x@x.com", "role": "admin"}),
            400,
            "invalid_request",
        ),
        (json!({}), 400, "invalid_request"),
    ] {
        s.admin(&key, Method::POST, &at("/users"), Some(b.clone()))
            .await
            .assert_admin_error(status, code);
    }

    let edit = |b: Value| {
        let s = &s;
        let key = key.clone();
        let path = at(&format!("/users/{dana}"));
        async move { s.admin(&key, Method::PATCH, &path, Some(b)).await }
    };
    let r = body(edit(json!({"given_name": "Dee"})).await, 200);
    assert_eq!(r["given_name"], "Dee");
    assert_eq!(r["family_name"], "Doe", "what is not sent stays");
    let r = body(
        edit(json!({"user_name": "dee@x.com", "active": false})).await,
        200,
    );
    assert_eq!(r["user_name"], "dee@x.com");
    assert_eq!(r["active"], false);
    assert_eq!(
        s.get_ok(&format!("/Users/{dana}")).await["userName"],
        "dee@x.com"
    );
    edit(json!({"user_name": "ANN@x.com"}))
        .await
        .assert_admin_error(409, "conflict");
    edit(json!({"user_name": "not an email"}))
        .await
        .assert_admin_error(400, "invalid_request");
    edit(json!({"source": "scim"}))
        .await
        .assert_admin_error(400, "invalid_request");
    let d = body(
        s.admin(&key, Method::GET, &at("/users/dee@x.com"), None)
            .await,
        200,
    );
    assert_eq!(d["user"]["given_name"], "Dee");
    assert_eq!(d["user"]["source"], "manual");

    // Removing a user removes it from its groups.
    let ops = custom(&s, &key, "Ops").await;
    body(
        s.admin(
            &key,
            Method::POST,
            &at(&format!("/groups/{ops}/members")),
            Some(json!({"add": [dana]})),
        )
        .await,
        200,
    );
    body(
        s.admin(&key, Method::DELETE, &at(&format!("/users/{dana}")), None)
            .await,
        204,
    );
    s.admin(&key, Method::GET, &at(&format!("/users/{dana}")), None)
        .await
        .assert_admin_error(404, "not_found");
    assert_eq!(
        s.get(&format!("/Users/{dana}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(members(&s, &key, &ops).await.is_empty());
    s.admin(&key, Method::DELETE, &at(&format!("/users/{dana}")), None)
        .await
        .assert_admin_error(404, "not_found");
}

#[tokio::test]
async fn a_scim_users_names_and_existence_are_the_identity_providers() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ann = s.user("ann@x.com").await;
    for path in [ann.as_str(), "ann@x.com"] {
        for b in [
            json!({"given_name": "Changed"}),
            json!({"family_name": "Changed"}),
            json!({"display_name": "Changed"}),
            json!({"user_name": "changed@x.com"}),
            json!({"active": false}),
        ] {
            let r = s
                .admin(&key, Method::PATCH, &at(&format!("/users/{path}")), Some(b))
                .await;
            r.assert_admin_error(409, "owned_by_identity_provider");
            assert!(
                text(&r.body, "message").contains("identity provider"),
                "{}",
                r.text
            );
        }
        s.admin(&key, Method::DELETE, &at(&format!("/users/{path}")), None)
            .await
            .assert_admin_error(409, "owned_by_identity_provider");
    }
    let u = s.get_ok(&format!("/Users/{ann}")).await;
    assert_eq!(u["userName"], "ann@x.com");
    assert_eq!(u["name"]["givenName"], "Given");
    assert_eq!(u["active"], true);
    assert!(u.get("displayName").is_none(), "{u}");
}

/// Rule 3, as IdPs do it: find the user by userName, then update it by id.
#[tokio::test]
async fn a_scim_update_takes_over_a_manual_user() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let eve = manual(&s, &key, "eve@x.com").await;
    let found = s
        .get(&format!(
            "/Users?filter={}",
            enc("userName eq \"eve@x.com\"")
        ))
        .await;
    assert_eq!(ids(&found), [eve.as_str()], "{}", found.text);
    let r = s
        .patch(
            &format!("/Users/{eve}"),
            patch_op(json!([{"op": "replace", "path": "name.givenName", "value": "Eve"}])),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let d = body(
        s.admin(&key, Method::GET, &at(&format!("/users/{eve}")), None)
            .await,
        200,
    );
    assert_eq!(d["user"]["given_name"], "Eve");
    assert_eq!(d["user"]["source"], "scim", "{d}");
}

/// Rule 3: the IdP takes over a manual user with its userName; from then on it is read-only.
#[tokio::test]
async fn a_scim_create_takes_over_a_manual_user_of_the_same_user_name() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let eve = manual(&s, &key, "eve@x.com").await;
    let r = s
        .post(
            "/Users",
            json!({"schemas": [USER_SCHEMA], "userName": "EVE@x.com", "name": {"givenName": "Eve"}}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(r.id(), eve, "the same id is kept");
    let d = body(
        s.admin(&key, Method::GET, &at(&format!("/users/{eve}")), None)
            .await,
        200,
    );
    assert_eq!(d["user"]["source"], "scim");
    s.admin(
        &key,
        Method::PATCH,
        &at(&format!("/users/{eve}")),
        Some(json!({"given_name": "Evil"})),
    )
    .await
    .assert_admin_error(409, "owned_by_identity_provider");
}

#[tokio::test]
async fn custom_groups_are_created_renamed_and_deleted() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    s.group("Engineering", &[]).await;
    let r = body(
        s.admin(
            &key,
            Method::POST,
            &at("/groups"),
            Some(json!({"display_name": "Contractors"})),
        )
        .await,
        201,
    );
    let id = text(&r, "id");
    assert_eq!(r["kind"], "custom");
    assert_eq!(r["display_name"], "Contractors");
    let g = body(
        s.admin(&key, Method::GET, &at(&format!("/groups/{id}")), None)
            .await,
        200,
    );
    assert_eq!(g["display_name"], "Contractors");

    for (b, status, code) in [
        (json!({"display_name": "contractors"}), 409, "conflict"),
        (json!({"display_name": "ENGINEERING"}), 409, "conflict"),
        (json!({"display_name": " "}), 400, "invalid_request"),
        (json!({"name": "x"}), 400, "invalid_request"),
    ] {
        s.admin(&key, Method::POST, &at("/groups"), Some(b))
            .await
            .assert_admin_error(status, code);
    }

    let rename = |b: Value| {
        let s = &s;
        let key = key.clone();
        let path = at(&format!("/groups/{id}"));
        async move { s.admin(&key, Method::PATCH, &path, Some(b)).await }
    };
    let r = body(rename(json!({"display_name": "Partners"})).await, 200);
    assert_eq!(r["display_name"], "Partners");
    assert_eq!(r["kind"], "custom");
    rename(json!({"display_name": "engineering"}))
        .await
        .assert_admin_error(409, "conflict");
    rename(json!({"display_name": ""}))
        .await
        .assert_admin_error(400, "invalid_request");
    assert_eq!(group_id(&s, &key, "test", "Partners").await, id);

    // Deleting a custom group takes its grants with it.
    let inst = body(
        s.admin(
            &key,
            Method::POST,
            &at("/instances"),
            Some(json!({"name": "App", "product": "app", "roles": ["user"]})),
        )
        .await,
        201,
    );
    body(
        s.admin(
            &key,
            Method::POST,
            &at("/grants"),
            Some(json!({"group_id": id, "instance_id": inst["id"], "role": "user"})),
        )
        .await,
        201,
    );
    body(
        s.admin(&key, Method::DELETE, &at(&format!("/groups/{id}")), None)
            .await,
        204,
    );
    s.admin(&key, Method::GET, &at(&format!("/groups/{id}")), None)
        .await
        .assert_admin_error(404, "not_found");
    let grants = body(
        s.admin(
            &key,
            Method::GET,
            &at(&format!("/grants?group_id={id}")),
            None,
        )
        .await,
        200,
    );
    assert_eq!(grants, json!([]));
    s.admin(&key, Method::DELETE, &at(&format!("/groups/{id}")), None)
        .await
        .assert_admin_error(404, "not_found");
    // The name is free again.
    custom(&s, &key, "Partners").await;
}

#[tokio::test]
async fn reserved_group_names_are_refused_in_any_case() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ops = custom(&s, &key, "Ops").await;
    for name in [
        "Everyone",
        "everyone",
        " EVERYONE ",
        "Admin Center Administrators",
        "admin center ADMINISTRATORS",
    ] {
        let r = s
            .admin(
                &key,
                Method::POST,
                &at("/groups"),
                Some(json!({"display_name": name})),
            )
            .await;
        r.assert_admin_error(409, "conflict");
        assert!(text(&r.body, "message").contains("reserved"), "{}", r.text);
        s.admin(
            &key,
            Method::PATCH,
            &at(&format!("/groups/{ops}")),
            Some(json!({"display_name": name})),
        )
        .await
        .assert_admin_error(409, "conflict");
    }
    let system = body(
        s.admin(&key, Method::GET, &at("/groups?kind=system"), None)
            .await,
        200,
    );
    assert_eq!(system["total"], 2, "{system}");
    let ops = body(
        s.admin(&key, Method::GET, &at(&format!("/groups/{ops}")), None)
            .await,
        200,
    );
    assert_eq!(ops["display_name"], "Ops");
}

#[tokio::test]
async fn members_of_custom_product_and_administrators_groups_change_all_or_nothing() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ann = s.user("ann@x.com").await;
    let bob = manual(&s, &key, "bob@x.com").await;
    let ops = custom(&s, &key, "Ops").await;
    let app = product_group(&s, &key).await;
    let admins = group_id(&s, &key, "test", "Admin Center Administrators").await;

    for g in [&ops, &app, &admins] {
        let change = |b: Value| {
            let s = &s;
            let key = key.clone();
            let path = at(&format!("/groups/{g}/members"));
            async move { s.admin(&key, Method::POST, &path, Some(b)).await }
        };
        let r = body(change(json!({"add": [ann, bob]})).await, 200);
        assert_eq!(r["id"], g.as_str());
        assert_eq!(
            members(&s, &key, g).await,
            sorted(vec![ann.clone(), bob.clone()])
        );
        body(change(json!({"remove": [ann]})).await, 200);
        assert_eq!(members(&s, &key, g).await, [bob.as_str()]);
        // Add and remove in one change.
        body(change(json!({"add": [ann], "remove": [bob]})).await, 200);
        assert_eq!(members(&s, &key, g).await, [ann.as_str()]);

        // An unknown id fails the whole change, naming the id.
        let r = change(json!({"add": [bob, "no-such-user"]})).await;
        r.assert_admin_error(400, "invalidValue");
        assert!(
            text(&r.body, "message").contains("no-such-user"),
            "{}",
            r.text
        );
        assert_eq!(
            members(&s, &key, g).await,
            [ann.as_str()],
            "nothing applied"
        );
        change(json!({"add": "bob"}))
            .await
            .assert_admin_error(400, "invalid_request");

        body(
            s.admin(
                &key,
                Method::DELETE,
                &at(&format!("/groups/{g}/members/{ann}")),
                None,
            )
            .await,
            204,
        );
        assert!(members(&s, &key, g).await.is_empty());
    }
    s.admin(
        &key,
        Method::GET,
        &at("/groups/no-such-group/members"),
        None,
    )
    .await
    .assert_admin_error(404, "not_found");
    s.admin(
        &key,
        Method::POST,
        &at("/groups/no-such-group/members"),
        Some(json!({"add": [ann]})),
    )
    .await
    .assert_admin_error(404, "not_found");
}

#[tokio::test]
async fn everyones_members_are_every_user_and_cannot_change() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ann = s.user("ann@x.com").await;
    let bob = manual(&s, &key, "bob@x.com").await;
    let cat = s.user("cat@x.com").await;
    let everyone = group_id(&s, &key, "test", "Everyone").await;
    assert_eq!(
        members(&s, &key, &everyone).await,
        sorted(vec![ann.clone(), bob.clone(), cat.clone()])
    );
    let page = body(
        s.admin(
            &key,
            Method::GET,
            &at(&format!("/groups/{everyone}/members?count=2&start_index=2")),
            None,
        )
        .await,
        200,
    );
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));

    for b in [json!({"add": [ann]}), json!({"remove": [bob]})] {
        let r = s
            .admin(
                &key,
                Method::POST,
                &at(&format!("/groups/{everyone}/members")),
                Some(b),
            )
            .await;
        r.assert_admin_error(409, "conflict");
        assert!(
            text(&r.body, "message").contains("system group"),
            "{}",
            r.text
        );
    }
    s.admin(
        &key,
        Method::DELETE,
        &at(&format!("/groups/{everyone}/members/{cat}")),
        None,
    )
    .await
    .assert_admin_error(409, "conflict");
    assert_eq!(members(&s, &key, &everyone).await.len(), 3);
}

#[tokio::test]
async fn a_scim_groups_name_members_and_existence_are_the_identity_providers() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ann = s.user("ann@x.com").await;
    let bob = s.user("bob@x.com").await;
    let eng = s.group("Engineering", &[&ann]).await;
    let path = at(&format!("/groups/{eng}"));

    let refusals = [
        s.admin(
            &key,
            Method::PATCH,
            &path,
            Some(json!({"display_name": "Eng"})),
        )
        .await,
        s.admin(
            &key,
            Method::POST,
            &format!("{path}/members"),
            Some(json!({"add": [bob]})),
        )
        .await,
        s.admin(
            &key,
            Method::POST,
            &format!("{path}/members"),
            Some(json!({"remove": [ann]})),
        )
        .await,
        s.admin(&key, Method::DELETE, &format!("{path}/members/{ann}"), None)
            .await,
        s.admin(&key, Method::DELETE, &path, None).await,
    ];
    for r in refusals {
        r.assert_admin_error(409, "owned_by_identity_provider");
        let m = text(&r.body, "message");
        assert!(
            m.contains("Engineering") && m.contains("identity provider"),
            "{m}"
        );
    }
    let g = s.get_ok(&format!("/Groups/{eng}")).await;
    assert_eq!(g["displayName"], "Engineering");
    assert_eq!(g["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(g["members"][0]["value"], ann.as_str());
    // Administrators still read it and its members.
    let v = body(s.admin(&key, Method::GET, &path, None).await, 200);
    assert_eq!(v["kind"], "scim");
    assert_eq!(members(&s, &key, &eng).await, [ann]);
}

#[tokio::test]
async fn system_and_product_groups_cannot_be_renamed_or_deleted() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let everyone = group_id(&s, &key, "test", "Everyone").await;
    let admins = group_id(&s, &key, "test", "Admin Center Administrators").await;
    let app = product_group(&s, &key).await;
    for (g, words) in [
        (&everyone, "system group"),
        (&admins, "system group"),
        (&app, "product group"),
    ] {
        let path = at(&format!("/groups/{g}"));
        let r = s
            .admin(
                &key,
                Method::PATCH,
                &path,
                Some(json!({"display_name": "Renamed"})),
            )
            .await;
        r.assert_admin_error(409, "conflict");
        assert!(text(&r.body, "message").contains(words), "{}", r.text);
        let r = s.admin(&key, Method::DELETE, &path, None).await;
        r.assert_admin_error(409, "conflict");
        assert!(text(&r.body, "message").contains(words), "{}", r.text);
        assert_ne!(
            body(s.admin(&key, Method::GET, &path, None).await, 200)["display_name"],
            "Renamed"
        );
    }
    assert_eq!(group_id(&s, &key, "test", "App user").await, app);
    let system = body(
        s.admin(&key, Method::GET, &at("/groups?kind=system"), None)
            .await,
        200,
    );
    assert_eq!(
        items(&system, "display_name"),
        ["Admin Center Administrators", "Everyone"]
    );
}

#[tokio::test]
async fn groups_are_listed_by_kind_and_scim_filter() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let eng = s.group("Engineering", &[]).await;
    let ops = custom(&s, &key, "Ops").await;
    let app = product_group(&s, &key).await;
    let list = |q: &str| {
        let s = &s;
        let key = key.clone();
        let path = at(&format!("/groups{q}"));
        async move { s.admin(&key, Method::GET, &path, None).await }
    };
    let all = body(list("").await, 200);
    assert_eq!(
        all["total"], 5,
        "two system groups and one of each other kind"
    );
    assert_eq!(items(&body(list("?kind=scim").await, 200), "id"), [eng]);
    assert_eq!(
        items(&body(list("?kind=custom").await, 200), "id"),
        [ops.as_str()]
    );
    assert_eq!(items(&body(list("?kind=product").await, 200), "id"), [app]);
    assert_eq!(items(&body(list("?source=custom").await, 200), "id"), [ops]);
    assert_eq!(
        items(&body(list("?kind=system").await, 200), "display_name"),
        ["Admin Center Administrators", "Everyone"]
    );
    let f = enc("displayName sw \"e\"");
    assert_eq!(
        items(
            &body(list(&format!("?filter={f}")).await, 200),
            "display_name"
        ),
        ["Engineering", "Everyone"]
    );
    assert_eq!(
        items(
            &body(list(&format!("?filter={f}&kind=system")).await, 200),
            "display_name"
        ),
        ["Everyone"]
    );
    list("?kind=manual")
        .await
        .assert_admin_error(400, "invalid_request");
    list(&format!("?filter={}", enc("displayName eq")))
        .await
        .assert_admin_error(400, "invalidFilter");
    let page = body(list("?count=2").await, 200);
    assert_eq!(page["total"], 5);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
}

/// Rule 13: system and product groups never appear over SCIM, not even in a user's `groups`;
/// the reserved ones answer 409 naming themselves when addressed by id (rule 4). Custom groups
/// are listed, so an identity provider can link them (rule 5).
#[tokio::test]
async fn scim_sees_no_system_or_product_group() {
    let s = TestServer::start().await;
    let key = s.admin_key("test").await;
    let ann = s.user("ann@x.com").await;
    let eng = s.group("Engineering", &[&ann]).await;
    let ops = custom(&s, &key, "Ops").await;
    let app = product_group(&s, &key).await;
    let everyone = group_id(&s, &key, "test", "Everyone").await;
    let admins = group_id(&s, &key, "test", "Admin Center Administrators").await;
    for g in [&ops, &app, &admins] {
        body(
            s.admin(
                &key,
                Method::POST,
                &at(&format!("/groups/{g}/members")),
                Some(json!({"add": [ann]})),
            )
            .await,
            200,
        );
    }

    let list = s.get("/Groups").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(ids(&list), [eng.as_str(), ops.as_str()], "{}", list.text);
    assert_eq!(list.body["totalResults"], 2);
    for f in [
        "displayName eq \"Everyone\"",
        "displayName eq \"Admin Center Administrators\"",
        "displayName eq \"App user\"",
    ] {
        let r = s.get(&format!("/Groups?filter={}", enc(f))).await;
        assert_eq!(r.body["totalResults"], 0, "{f}: {}", r.text);
    }
    let members = format!("members.value eq \"{ann}\"");
    assert_eq!(
        ids(&s.get(&format!("/Groups?filter={}", enc(&members))).await),
        [eng.as_str(), ops.as_str()]
    );
    let add = patch_op(json!([{"op": "add", "path": "members", "value": [{"value": ann}]}]));
    for (g, name) in [
        (&everyone, "Everyone"),
        (&admins, "Admin Center Administrators"),
    ] {
        for r in [
            s.get(&format!("/Groups/{g}")).await,
            s.patch(&format!("/Groups/{g}"), add.clone()).await,
            s.delete(&format!("/Groups/{g}")).await,
        ] {
            r.assert_error(409, None);
            assert!(
                r.text.contains(name) && r.text.contains("reserved"),
                "{}",
                r.text
            );
        }
    }
    s.get(&format!("/Groups/{app}"))
        .await
        .assert_error(404, None);
    s.patch(&format!("/Groups/{app}"), add.clone())
        .await
        .assert_error(404, None);
    s.delete(&format!("/Groups/{app}"))
        .await
        .assert_error(404, None);
    let u = s.get_ok(&format!("/Users/{ann}")).await;
    let groups: Vec<&str> = u["groups"]
        .as_array()
        .map(|a| a.iter().filter_map(|g| g["value"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(groups, [eng.as_str(), ops.as_str()], "{u}");
    // A SCIM group cannot nest a group SCIM does not see.
    let r = s
        .post(
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Outer", "members": [{"value": app, "type": "Group"}]}),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    // Everything is still there for the administrators.
    for g in [&everyone, &admins, &app, &ops] {
        body(
            s.admin(&key, Method::GET, &at(&format!("/groups/{g}")), None)
                .await,
            200,
        );
    }
}

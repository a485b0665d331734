//! PATCH (RFC 7644 §3.5.2) over HTTP, in the shapes real IdPs send.

use crate::support::{ENTERPRISE, TestServer, USER_SCHEMA, patch_op};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn rich_user(s: &TestServer) -> String {
    s.create_user(json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": "pat@x.com",
        "title": "Engineer",
        "active": true,
        "name": {"givenName": "Pat", "familyName": "Smith", "middleName": "Q"},
        "emails": [
            {"value": "pat@x.com", "type": "work", "primary": true, "display": "Work mail"},
            {"value": "pat@home.org", "type": "home"}
        ],
        "phoneNumbers": [{"value": "555-1", "type": "mobile"}],
        ENTERPRISE: {"department": "R&D", "employeeNumber": "7"}
    }))
    .await
    .id()
}

/// PATCHes and asserts 204, returning the new ETag.
async fn ok(s: &TestServer, path: &str, ops: Value) -> String {
    let r = s.patch(path, patch_op(ops.clone())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{ops}: {}", r.text);
    r.header("etag").unwrap_or_default()
}

#[tokio::test]
async fn add_replace_remove_with_paths() {
    let s = TestServer::start().await;
    let id = rich_user(&s).await;
    let p = format!("/Users/{id}");
    let etag = ok(
        &s,
        &p,
        json!([
            {"op": "add", "path": "nickName", "value": "Patty"},
            {"op": "add", "path": "emails", "value": [{"value": "pat@other.net", "type": "other"}]},
            {"op": "add", "path": "name.honorificPrefix", "value": "Dr."},
            {"op": "replace", "path": "name.familyName", "value": "Jones"},
            {"op": "replace", "path": "userName", "value": "pat.jones@x.com"},
            {"op": "replace", "path": "title", "value": "Lead"},
            {"op": "remove", "path": "phoneNumbers"},
            {"op": "remove", "path": "name.middleName"}
        ]),
    )
    .await;
    assert_eq!(etag, "W/\"2\"", "one PATCH, one new version");
    let u = s.get_ok(&p).await;
    assert_eq!(u["nickName"], "Patty");
    assert_eq!(u["userName"], "pat.jones@x.com");
    assert_eq!(u["title"], "Lead");
    assert_eq!(
        u["name"],
        json!({"givenName": "Pat", "familyName": "Jones", "honorificPrefix": "Dr."})
    );
    assert!(u.get("phoneNumbers").is_none(), "{u}");
    let emails = u["emails"].as_array().cloned().unwrap_or_default();
    assert_eq!(emails.len(), 3, "{u}");
    assert_eq!(emails[2]["value"], "pat@other.net");
    assert_eq!(u["meta"]["version"], "W/\"2\"");
    // Adding a value that is already there does not duplicate it.
    ok(
        &s,
        &p,
        json!([{"op": "add", "path": "emails", "value": [{"value": "pat@other.net", "type": "other"}]}]),
    )
    .await;
    assert_eq!(
        s.get_ok(&p).await["emails"].as_array().map(Vec::len),
        Some(3)
    );
}

#[tokio::test]
async fn value_filter_paths() {
    let s = TestServer::start().await;
    let id = rich_user(&s).await;
    let p = format!("/Users/{id}");
    ok(
        &s,
        &p,
        json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "pat.work@x.com"},
            {"op": "remove", "path": "emails[type eq \"home\"]"}
        ]),
    )
    .await;
    let u = s.get_ok(&p).await;
    assert_eq!(
        u["emails"],
        json!([{"value": "pat.work@x.com", "type": "work", "primary": true, "display": "Work mail"}])
    );
    // Removing a sub-value keeps the rest of the element.
    ok(
        &s,
        &p,
        json!([{"op": "remove", "path": "emails[type eq \"work\"].display"}]),
    )
    .await;
    let u = s.get_ok(&p).await;
    assert_eq!(
        u["emails"],
        json!([{"value": "pat.work@x.com", "type": "work", "primary": true}])
    );
    // Entra: a replace whose filter matches nothing adds the value.
    ok(
        &s,
        &p,
        json!([{"op": "Replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "555-2"}]),
    )
    .await;
    let u = s.get_ok(&p).await;
    let phones = u["phoneNumbers"].as_array().cloned().unwrap_or_default();
    assert!(
        phones.contains(&json!({"value": "555-2", "type": "work"})),
        "{u}"
    );
    // Replace the whole matching element; primary moves.
    ok(
        &s,
        &p,
        json!([
            {"op": "add", "path": "emails", "value": [{"value": "second@x.com", "type": "home"}]},
            {"op": "replace", "path": "emails[value eq \"second@x.com\"]", "value": {"primary": true}}
        ]),
    )
    .await;
    let u = s.get_ok(&p).await;
    let primaries: Vec<&Value> = u["emails"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["primary"] == json!(true)).collect())
        .unwrap_or_default();
    assert_eq!(primaries.len(), 1, "{u}");
    assert_eq!(primaries[0]["value"], "second@x.com");
    // Entra: enterprise and address paths seen in the wild.
    ok(
        &s,
        &p,
        json!([{"op": "Replace", "path": "addresses[type eq \"work\"].formatted", "value": "1 Main St"}]),
    )
    .await;
    let u = s.get_ok(&p).await;
    assert_eq!(
        u["addresses"],
        json!([{"type": "work", "formatted": "1 Main St"}])
    );
}

#[tokio::test]
async fn extension_urn_paths() {
    let s = TestServer::start().await;
    let id = rich_user(&s).await;
    let p = format!("/Users/{id}");
    ok(
        &s,
        &p,
        json!([
            {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Research"},
            {"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": "mgr-42"},
            {"op": "replace", "path": format!("{ENTERPRISE}:costCenter"), "value": "CC-1"},
            {"op": "remove", "path": format!("{ENTERPRISE}:employeeNumber")}
        ]),
    )
    .await;
    let u = s.get_ok(&p).await;
    assert_eq!(
        u[ENTERPRISE],
        json!({"department": "Research", "manager": {"value": "mgr-42"}, "costCenter": "CC-1"}),
        "{u}"
    );
    ok(
        &s,
        &p,
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:manager.value"), "value": "mgr-43"}]),
    )
    .await;
    assert_eq!(s.get_ok(&p).await[ENTERPRISE]["manager"]["value"], "mgr-43");
    // The whole extension as a path.
    ok(
        &s,
        &p,
        json!([{"op": "replace", "path": ENTERPRISE, "value": {"division": "North"}}]),
    )
    .await;
    assert_eq!(s.get_ok(&p).await[ENTERPRISE]["division"], "North");
    ok(&s, &p, json!([{"op": "remove", "path": ENTERPRISE}])).await;
    let u = s.get_ok(&p).await;
    assert!(u.get(ENTERPRISE).is_none(), "{u}");
    assert_eq!(u["schemas"], json!([USER_SCHEMA]));
    // The core URN as a prefix.
    ok(
        &s,
        &p,
        json!([{"op": "replace", "path": format!("{USER_SCHEMA}:title"), "value": "Via URN"}]),
    )
    .await;
    assert_eq!(s.get_ok(&p).await["title"], "Via URN");
}

#[tokio::test]
async fn path_less_values_with_dotted_and_urn_keys() {
    let s = TestServer::start().await;
    let id = rich_user(&s).await;
    let p = format!("/Users/{id}");
    // Entra with the new-behaviour flag.
    ok(
        &s,
        &p,
        json!([{"op": "replace", "value": {
            "name.givenName": "Patricia",
            "name.familyName": "Stone",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "99",
            "displayName": "Patricia Stone",
            "favouriteColour": "teal"
        }}]),
    )
    .await;
    let u = s.get_ok(&p).await;
    assert_eq!(u["name"]["givenName"], "Patricia");
    assert_eq!(u["name"]["familyName"], "Stone");
    assert_eq!(u["name"]["middleName"], "Q", "other sub-attributes stay");
    assert_eq!(u[ENTERPRISE]["employeeNumber"], "99");
    assert_eq!(u[ENTERPRISE]["department"], "R&D");
    assert_eq!(u["displayName"], "Patricia Stone");
    assert_eq!(u["favouriteColour"], "teal");
    assert!(u.get("name.givenName").is_none(), "{u}");
    // Path-less add with a nested extension object and a complex attribute.
    ok(
        &s,
        &p,
        json!([{"op": "add", "value": {
            ENTERPRISE: {"division": "West"},
            "name": {"honorificSuffix": "PhD"},
            "emails": [{"value": "x@x.org", "type": "other"}]
        }}]),
    )
    .await;
    let u = s.get_ok(&p).await;
    assert_eq!(u[ENTERPRISE]["division"], "West");
    assert_eq!(u[ENTERPRISE]["department"], "R&D");
    assert_eq!(u["name"]["honorificSuffix"], "PhD");
    assert_eq!(u["name"]["givenName"], "Patricia");
    assert_eq!(u["emails"].as_array().map(Vec::len), Some(3), "{u}");
}

#[tokio::test]
async fn ops_are_case_insensitive_and_entra_strings_are_read() {
    let s = TestServer::start().await;
    let id = s
        .create_user(json!({"schemas": [USER_SCHEMA], "userName": "ent@x.com", "active": false}))
        .await
        .id();
    let p = format!("/Users/{id}");
    ok(
        &s,
        &p,
        json!([
            {"op": "Replace", "path": "active", "value": "True"},
            {"op": "ADD", "path": "title", "value": "T"},
            {"op": "Add", "path": "nickName", "value": "N"},
            {"op": "REMOVE", "path": "nickName"}
        ]),
    )
    .await;
    let u = s.get_ok(&p).await;
    assert_eq!(u["active"], json!(true));
    assert_eq!(u["title"], "T");
    assert!(u.get("nickName").is_none());
    // Names in the body in any case too.
    let r = s
        .patch(
            &p,
            json!({"SCHEMAS": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "operations": [{"OP": "replace", "PATH": "Title", "VALUE": "T2"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(s.get_ok(&p).await["title"], "T2");
}

#[tokio::test]
async fn okta_path_less_deactivation_is_accepted() {
    let s = TestServer::start().await;
    let id = s.user("okta@x.com").await;
    let p = format!("/Users/{id}");
    let r = s
        .patch(
            &p,
            patch_op(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // Issue 2 stores it inactive; product rule 1 (a later issue) deletes it instead.
    let g = s.get(&p).await;
    match g.status.as_u16() {
        200 => assert_eq!(g.body["active"], json!(false), "{}", g.text),
        404 => g.assert_error(404, None),
        other => panic!("unexpected {other}: {}", g.text),
    }
}

#[tokio::test]
async fn an_empty_operation_list_is_a_no_op() {
    let s = TestServer::start().await;
    let id = s.user("noop@x.com").await;
    let etag = ok(&s, &format!("/Users/{id}"), json!([])).await;
    assert_eq!(etag, "W/\"1\"");
}

#[tokio::test]
async fn a_failing_operation_leaves_the_resource_unchanged() {
    let s = TestServer::start().await;
    let id = rich_user(&s).await;
    let p = format!("/Users/{id}");
    let before = s.get_ok(&p).await;
    let failing: [(Value, &str); 5] = [
        (
            json!([{"op": "replace", "path": "title", "value": "Changed"},
                   {"op": "replace", "path": "id", "value": "new-id"}]),
            "mutability",
        ),
        (
            json!([{"op": "remove", "path": "emails"},
                   {"op": "replace", "path": "emails[value co \"zzz\"].value", "value": "x"}]),
            "noTarget",
        ),
        (
            json!([{"op": "add", "path": "nickName", "value": "X"},
                   {"op": "replace", "path": "active", "value": "maybe"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "path": "userName", "value": "other@x.com"},
                   {"op": "remove", "path": "userName"}]),
            "mutability",
        ),
        (
            json!([{"op": "replace", "path": "title", "value": "Changed"},
                   {"op": "replace", "path": "emails[type eq \"work\"", "value": "x"}]),
            "invalidPath",
        ),
    ];
    for (ops, scim_type) in failing {
        let r = s.patch(&p, patch_op(ops.clone())).await;
        r.assert_error(400, Some(scim_type));
        let after = s.get_ok(&p).await;
        assert_eq!(after, before, "{ops} changed the user");
    }
    // A conflict in a later op rolls back the earlier ones too.
    s.user("taken@x.com").await;
    let r = s
        .patch(
            &p,
            patch_op(
                json!([{"op": "replace", "path": "title", "value": "Changed"},
                            {"op": "replace", "path": "userName", "value": "TAKEN@x.com"}]),
            ),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
    assert_eq!(s.get_ok(&p).await, before);
}

#[tokio::test]
async fn group_members_in_every_dialect() {
    let s = TestServer::start().await;
    let u1 = s.user("u1@x.com").await;
    let u2 = s.user("u2@x.com").await;
    let u3 = s.user("u3@x.com").await;
    let u4 = s.user("u4@x.com").await;
    let g = s.group("Team", &[&u1, &u2]).await;
    let p = format!("/Groups/{g}");
    let members = |b: &Value| {
        let mut v: Vec<String> = b["members"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| m["value"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let sorted = |ids: &[&String]| {
        let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };

    // Entra default: Add, and Remove with the ids in `value`.
    ok(
        &s,
        &p,
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": u3}]}]),
    )
    .await;
    assert_eq!(members(&s.get_ok(&p).await), sorted(&[&u1, &u2, &u3]));
    ok(
        &s,
        &p,
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": u1}]}]),
    )
    .await;
    assert_eq!(members(&s.get_ok(&p).await), sorted(&[&u2, &u3]));

    // Entra with the flag, Okta: remove by value filter, add in the same request.
    ok(
        &s,
        &p,
        json!([
            {"op": "remove", "path": format!("members[value eq \"{u2}\"]")},
            {"op": "add", "path": "members", "value": [{"value": u4, "display": "u4@x.com"}]}
        ]),
    )
    .await;
    assert_eq!(members(&s.get_ok(&p).await), sorted(&[&u3, &u4]));
    ok(
        &s,
        &p,
        json!([{"op": "remove", "path": format!("members[value eq \"{u3}\" or value eq \"{u4}\"]")}]),
    )
    .await;
    assert!(s.get_ok(&p).await.get("members").is_none());

    // Microsoft's tests: bare ids as values; path-less add of members.
    ok(
        &s,
        &p,
        json!([{"op": "add", "value": {"members": [{"value": u1}, {"value": u2}]}}]),
    )
    .await;
    assert_eq!(members(&s.get_ok(&p).await), sorted(&[&u1, &u2]));
    ok(
        &s,
        &p,
        json!([{"op": "add", "path": "members", "value": [u3.clone()]}]),
    )
    .await;
    assert_eq!(members(&s.get_ok(&p).await), sorted(&[&u1, &u2, &u3]));

    // Adding an existing member again changes nothing.
    ok(
        &s,
        &p,
        json!([{"op": "add", "path": "members", "value": [{"value": u1}]}]),
    )
    .await;
    assert_eq!(members(&s.get_ok(&p).await), sorted(&[&u1, &u2, &u3]));

    // Replace is full replacement.
    ok(
        &s,
        &p,
        json!([{"op": "replace", "path": "members", "value": [{"value": u4}]}]),
    )
    .await;
    assert_eq!(members(&s.get_ok(&p).await), sorted(&[&u4]));

    // Remove without a value empties the group.
    ok(&s, &p, json!([{"op": "remove", "path": "members"}])).await;
    assert!(s.get_ok(&p).await.get("members").is_none());

    // Remove of a member that is not there is fine.
    ok(
        &s,
        &p,
        json!([{"op": "remove", "path": format!("members[value eq \"{u1}\"]")}]),
    )
    .await;
}

#[tokio::test]
async fn okta_rename_resends_the_id_and_is_accepted() {
    let s = TestServer::start().await;
    let u = s.user("m@x.com").await;
    let g = s.group("Old Name", &[&u]).await;
    let p = format!("/Groups/{g}");
    ok(
        &s,
        &p,
        json!([{"op": "replace", "value": {"id": g, "displayName": "New Name"}}]),
    )
    .await;
    let b = s.get_ok(&p).await;
    assert_eq!(b["displayName"], "New Name");
    assert_eq!(b["id"], g.as_str());
    assert_eq!(b["members"][0]["value"], u.as_str(), "members untouched");
    // Entra: scalar value with a capitalised op.
    ok(
        &s,
        &p,
        json!([{"op": "Replace", "path": "displayName", "value": "Newer"}]),
    )
    .await;
    assert_eq!(s.get_ok(&p).await["displayName"], "Newer");
}

#[tokio::test]
async fn group_member_changes_are_atomic() {
    let s = TestServer::start().await;
    let u1 = s.user("u1@x.com").await;
    let u2 = s.user("u2@x.com").await;
    let g = s.group("Atomic", &[&u1]).await;
    let p = format!("/Groups/{g}");
    let before = s.get_ok(&p).await;
    let r = s
        .patch(
            &p,
            patch_op(json!([
                {"op": "remove", "path": "members"},
                {"op": "add", "path": "members", "value": [{"value": u2}]},
                {"op": "replace", "path": "displayName", "value": "Renamed"},
                {"op": "add", "path": "members", "value": [{"value": "no-such-id"}]}
            ])),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(r.text.contains("no-such-id"));
    assert_eq!(s.get_ok(&p).await, before);
    // A member's sub-attributes cannot be changed in place.
    s.patch(
        &p,
        patch_op(json!([{"op": "replace", "path": format!("members[value eq \"{u1}\"].display"), "value": "x"}])),
    )
    .await
    .assert_error(400, Some("mutability"));
    // `value` and `type` of a member are immutable.
    for sub in ["value", "type"] {
        s.patch(
            &p,
            patch_op(json!([{"op": "replace", "path": format!("members[value eq \"{u1}\"].{sub}"), "value": u2}])),
        )
        .await
        .assert_error(400, Some("mutability"));
    }
    assert_eq!(s.get_ok(&p).await, before);
}

#[tokio::test]
async fn patch_errors_have_the_right_scim_type() {
    let s = TestServer::start().await;
    let id = rich_user(&s).await;
    let p = format!("/Users/{id}");
    let cases: [(Value, &str); 13] = [
        (json!([{"op": "remove"}]), "noTarget"),
        (
            json!([{"op": "replace", "path": "emails[type eq \"nope\" and value co \"z\"].value", "value": "x"}]),
            "noTarget",
        ),
        (
            json!([{"op": "replace", "path": "nosuch.sub", "value": "x"}]),
            "noTarget",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "name[givenName eq \"x\"]", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"work\"].nosuch", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": 42, "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}]),
            "mutability",
        ),
        (
            json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
            "mutability",
        ),
        (json!([{"op": "remove", "path": "userName"}]), "mutability"),
        (
            json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "value": "not an object"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "frobnicate", "path": "title", "value": "x"}]),
            "invalidSyntax",
        ),
    ];
    for (ops, scim_type) in cases {
        let r = s.patch(&p, patch_op(ops.clone())).await;
        assert_eq!(r.body["scimType"], scim_type, "{ops}: {}", r.text);
        r.assert_error(400, Some(scim_type));
    }
    for body in [
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": {}}),
        json!({"schemas": ["urn:wrong"], "Operations": []}),
        json!({"Operations": [{"op": "add", "path": "title"}]}),
        json!({"Operations": ["not an object"]}),
        json!([]),
    ] {
        s.patch(&p, body.clone())
            .await
            .assert_error(400, Some("invalidSyntax"));
    }
    assert_eq!(s.get_ok(&p).await["meta"]["version"], "W/\"1\"");
}

/// Okta's group push: batches of up to 1000 membership changes in one PATCH, adds as a value
/// array and removes as `members[value eq "…"]` paths, mixed; all or nothing.
#[tokio::test]
async fn okta_mixed_membership_batches_of_a_thousand() {
    let s = TestServer::start().await;
    let mut users = Vec::new();
    for i in 0..1500 {
        let r = s
            .store
            .create(
                &s.store.tenant_by_name("test").await.unwrap().unwrap().id,
                muster_scim::schema::ResourceKind::User,
                muster_domain::model::NewResource {
                    data: serde_json::json!({"schemas": [USER_SCHEMA], "userName": format!("u{i}@x.com")})
                        .as_object()
                        .cloned()
                        .unwrap(),
                    members: vec![],
                    class: "scim".into(),
                },
            )
            .await
            .unwrap();
        users.push(r.id);
    }
    let g = s.group("Okta push", &[]).await;
    let add = |ids: &[String]| {
        json!({"op": "add", "path": "members",
               "value": ids.iter().map(|id| json!({"value": id, "display": "x"})).collect::<Vec<_>>()})
    };
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([add(&users[..1000])])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // 500 removes and 500 adds in one request.
    let mut ops: Vec<Value> = users[..500]
        .iter()
        .map(|id| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}))
        .collect();
    ops.push(add(&users[1000..]));
    let r = s
        .patch(&format!("/Groups/{g}"), patch_op(Value::Array(ops)))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let body = s.get_ok(&format!("/Groups/{g}")).await;
    let mut have: Vec<String> = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect();
    have.sort();
    let mut want: Vec<String> = users[500..].to_vec();
    want.sort();
    assert_eq!(have, want);
    // One unknown id among a thousand: nothing of the request is applied.
    let mut bad = users[..999].to_vec();
    bad.push("not-a-user".into());
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([{"op": "replace", "path": "members",
                             "value": bad.iter().map(|id| json!({"value": id})).collect::<Vec<_>>()}])),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert_eq!(
        s.get_ok(&format!("/Groups/{g}")).await["members"]
            .as_array()
            .map(Vec::len),
        Some(1000)
    );
}

//! `/Groups`: members (users and groups), rule 12, uniqueness, the users' `groups` attribute.

use crate::support::{GROUP_SCHEMA, TestServer, enc, ids, patch_op};
use muster_domain::model::Mode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Members of a group as `(value, type)`, sorted.
fn members(body: &Value) -> Vec<(String, String)> {
    let mut m: Vec<(String, String)> = body["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["value"].as_str().unwrap_or_default().to_string(),
                        m["type"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    m.sort();
    m
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

fn member(id: &str, ty: &str) -> (String, String) {
    (id.to_string(), ty.to_string())
}

#[tokio::test]
async fn create_with_user_and_group_members_and_read_ref_type_display() {
    let s = TestServer::start().await;
    let ann = s
        .create_user(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ann@x.com", "displayName": "Ann Lee"
        }))
        .await
        .id();
    let bob = s.user("bob@x.com").await;
    let inner = s.group("Inner", &[&bob]).await;
    let r = s
        .post(
            "/Groups",
            json!({
                "schemas": [GROUP_SCHEMA],
                "displayName": "Outer",
                "externalId": "grp-ext",
                "members": [
                    {"value": ann, "type": "User"},
                    {"value": inner, "type": "Group"},
                    {"value": bob}
                ]
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let outer = r.id();
    assert_eq!(
        members(&r.body),
        sorted(vec![
            member(&ann, "User"),
            member(&bob, "User"),
            member(&inner, "Group")
        ])
    );
    assert_eq!(
        r.header("location").as_deref(),
        r.body["meta"]["location"].as_str()
    );
    assert_eq!(
        r.header("etag").as_deref(),
        r.body["meta"]["version"].as_str()
    );
    assert_eq!(r.body["meta"]["resourceType"], "Group");
    assert_eq!(r.body["externalId"], "grp-ext");

    let g = s.get_ok(&format!("/Groups/{outer}")).await;
    assert_eq!(g["displayName"], "Outer");
    let list = g["members"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 3, "{g}");
    for m in &list {
        let id = m["value"].as_str().unwrap_or_default();
        let (endpoint, display) = if id == ann {
            ("Users", "Ann Lee")
        } else if id == bob {
            ("Users", "Given Family")
        } else {
            ("Groups", "Inner")
        };
        assert_eq!(m["$ref"], format!("{}/{endpoint}/{id}", s.base), "{m}");
        assert_eq!(m["display"], display, "{m}");
    }
}

#[tokio::test]
async fn entra_extra_schema_urn_and_empty_members_are_accepted() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Groups",
            json!({
                "schemas": [GROUP_SCHEMA, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Group1DisplayName",
                "members": []
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(
        r.body.get("members").is_none() || r.body["members"].as_array().is_some_and(Vec::is_empty)
    );
}

#[tokio::test]
async fn an_unknown_member_id_is_400_naming_it_and_nothing_is_applied() {
    let s = TestServer::start().await;
    let ann = s.user("ann@x.com").await;
    let ghost = "00000000-0000-4000-8000-00000000dead";
    let r = s
        .post(
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Ghosts",
                   "members": [{"value": ann}, {"value": ghost}]}),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(r.text.contains(ghost), "{}", r.text);
    let list = s
        .get(&format!(
            "/Groups?filter={}",
            enc("displayName eq \"Ghosts\"")
        ))
        .await;
    assert_eq!(
        list.body["totalResults"], 0,
        "group was created: {}",
        list.text
    );
    assert_eq!(s.get("/Groups").await.body["totalResults"], 0);

    // PATCH and PUT: refused, group unchanged (members and version).
    let bob = s.user("bob@x.com").await;
    let g = s.group("Real", &[&ann]).await;
    let before = s.get_ok(&format!("/Groups/{g}")).await;
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([
                {"op": "add", "path": "members", "value": [{"value": bob}]},
                {"op": "add", "path": "members", "value": [{"value": ghost}]},
                {"op": "replace", "path": "displayName", "value": "Renamed"}
            ])),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(r.text.contains(ghost), "{}", r.text);
    let r = s
        .put(
            &format!("/Groups/{g}"),
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Renamed",
                   "members": [{"value": bob}, {"value": ghost}]}),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(r.text.contains(ghost), "{}", r.text);
    // With a member already there, the unknown id is still found and named.
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([
                {"op": "add", "path": "members", "value": [{"value": ann}, {"value": ghost}]}
            ])),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(r.text.contains(ghost), "{}", r.text);
    let after = s.get_ok(&format!("/Groups/{g}")).await;
    assert_eq!(after, before);
    // Adding members who are already there, with a new one between them: no error, each once,
    // the new one after the old.
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([
                {"op": "add", "path": "members", "value": [{"value": ann}, {"value": bob}, {"value": ann}]}
            ])),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let members = s.member_ids(&g).await;
    assert_eq!(members, vec![ann.clone(), bob.clone()]);
    // Several new members in one request keep the request's order, not their ids' or their
    // creation's.
    let (c1, c2, c3) = (
        s.user("c1@x.com").await,
        s.user("c2@x.com").await,
        s.user("c3@x.com").await,
    );
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([
                {"op": "add", "path": "members", "value": [{"value": c3}, {"value": c1}, {"value": c2}]}
            ])),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let members = s.member_ids(&g).await;
    assert_eq!(members, vec![ann, bob, c3, c1, c2]);
}

/// Member ids reach the store as one bound JSON array: ids that JSON escapes, or that look
/// like numbers, are still each one id, named exactly when unknown and removed as themselves.
#[tokio::test]
async fn member_ids_with_quotes_backslashes_or_digits_stay_one_id_each() {
    let s = TestServer::start().await;
    let ann = s.user("ann@x.com").await;
    let g = s.group("Odd ids", &[&ann]).await;
    for odd in [
        "a\"b",
        "back\\slash",
        "ünï\u{1F600}",
        "42",
        "[\"x\"]",
        "null",
    ] {
        let r = s
            .patch(
                &format!("/Groups/{g}"),
                patch_op(json!([{"op": "add", "path": "members", "value": [{"value": ann}, {"value": odd}]}])),
            )
            .await;
        r.assert_error(400, Some("invalidValue"));
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(&format!("member \"{odd}\"")),
            "{odd}: {detail}"
        );
        let r = s
            .patch(
                &format!("/Groups/{g}"),
                patch_op(json!([{"op": "remove", "path": "members", "value": [{"value": odd}]}])),
            )
            .await;
        assert!(r.status.is_success(), "{odd}: {}", r.text);
        assert_eq!(s.member_ids(&g).await, vec![ann.clone()], "{odd}");
    }
}

#[tokio::test]
async fn a_member_of_another_tenant_is_400() {
    let s = TestServer::start().await;
    let other = s.tenant("other", Mode::Scim).await;
    let r = s
        .send_as(
            &other,
            Method::POST,
            "/Users",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "foreign@x.com"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let foreign = r.id();
    let r = s
        .send_as(
            &other,
            Method::POST,
            "/Groups",
            Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "Foreign"})),
            &[],
        )
        .await;
    let foreign_group = r.id();
    for id in [&foreign, &foreign_group] {
        let r = s
            .post(
                "/Groups",
                json!({"schemas": [GROUP_SCHEMA], "displayName": "Mine", "members": [{"value": id}]}),
            )
            .await;
        r.assert_error(400, Some("invalidValue"));
        assert!(r.text.contains(id.as_str()), "{}", r.text);
    }
    let g = s.group("Mine", &[]).await;
    let r = s
        .patch(
            &format!("/Groups/{g}"),
            patch_op(json!([{"op": "add", "path": "members", "value": [{"value": foreign}]}])),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert!(
        s.get_ok(&format!("/Groups/{g}"))
            .await
            .get("members")
            .is_none()
    );
}

#[tokio::test]
async fn display_name_is_unique_ignoring_case() {
    let s = TestServer::start().await;
    let eng = s.group("Engineering", &[]).await;
    s.post(
        "/Groups",
        json!({"schemas": [GROUP_SCHEMA], "displayName": "ENGINEERING"}),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    assert_eq!(
        s.get_ok(&format!("/Groups/{eng}")).await["displayName"],
        "Engineering"
    );
    let ops = s.group("Ops", &[]).await;
    s.patch(
        &format!("/Groups/{ops}"),
        patch_op(json!([{"op": "replace", "path": "displayName", "value": "engineering"}])),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    s.put(
        &format!("/Groups/{ops}"),
        json!({"schemas": [GROUP_SCHEMA], "displayName": "engineerinG"}),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    assert_eq!(
        s.get_ok(&format!("/Groups/{ops}")).await["displayName"],
        "Ops"
    );
    // Its own name in another case is fine.
    let r = s
        .patch(
            &format!("/Groups/{ops}"),
            patch_op(json!([{"op": "replace", "path": "displayName", "value": "OPS"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        s.get_ok(&format!("/Groups/{ops}")).await["displayName"],
        "OPS"
    );
}

#[tokio::test]
async fn excluded_attributes_members_leaves_members_out() {
    let s = TestServer::start().await;
    let ann = s.user("ann@x.com").await;
    let g = s.group("Big", &[&ann]).await;
    let one = s
        .get_ok(&format!("/Groups/{g}?excludedAttributes=members"))
        .await;
    assert!(one.get("members").is_none(), "{one}");
    assert_eq!(one["displayName"], "Big");
    assert_eq!(one["id"], g.as_str());
    let list = s
        .get(&format!(
            "/Groups?excludedAttributes=members&filter={}",
            enc("displayName eq \"big\"")
        ))
        .await;
    assert_eq!(list.body["totalResults"], 1, "{}", list.text);
    assert!(list.body["Resources"][0].get("members").is_none());
    assert_eq!(list.body["Resources"][0]["displayName"], "Big");
    // Without the parameter the members are there.
    let list = s.get("/Groups").await;
    assert_eq!(
        members(&list.body["Resources"][0]),
        vec![member(&ann, "User")]
    );
}

#[tokio::test]
async fn deleting_a_user_removes_it_from_its_groups() {
    let s = TestServer::start().await;
    let ann = s.user("ann@x.com").await;
    let bob = s.user("bob@x.com").await;
    let g1 = s.group("One", &[&ann, &bob]).await;
    let g2 = s.group("Two", &[&ann]).await;
    let r = s.delete(&format!("/Users/{ann}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        members(&s.get_ok(&format!("/Groups/{g1}")).await),
        vec![member(&bob, "User")]
    );
    assert!(
        s.get_ok(&format!("/Groups/{g2}"))
            .await
            .get("members")
            .is_none()
    );
    let r = s
        .get(&format!(
            "/Groups?filter={}",
            enc(&format!("members.value eq \"{ann}\""))
        ))
        .await;
    assert_eq!(r.body["totalResults"], 0, "{}", r.text);
}

#[tokio::test]
async fn deleting_a_group_removes_it_from_users_and_parent_groups() {
    let s = TestServer::start().await;
    let ann = s.user("ann@x.com").await;
    let inner = s.group("Inner", &[&ann]).await;
    let outer = s.group("Outer", &[&inner]).await;
    let r = s.delete(&format!("/Groups/{inner}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    s.get(&format!("/Groups/{inner}"))
        .await
        .assert_error(404, None);
    s.delete(&format!("/Groups/{inner}"))
        .await
        .assert_error(404, None);
    assert!(
        s.get_ok(&format!("/Groups/{outer}"))
            .await
            .get("members")
            .is_none()
    );
    assert!(
        s.get_ok(&format!("/Users/{ann}"))
            .await
            .get("groups")
            .is_none()
    );
    // The user itself is untouched.
    assert_eq!(
        s.get_ok(&format!("/Users/{ann}")).await["userName"],
        "ann@x.com"
    );
}

/// A page of users carries each user's groups as that user's GET does: by name, an absent list
/// for none. The page reads them for all its users at once, so each user must get only its own.
#[tokio::test]
async fn a_page_of_users_carries_each_users_own_groups() {
    let s = TestServer::start().await;
    let ann = s.user("ann@x.com").await;
    let bob = s.user("bob@x.com").await;
    let cy = s.user("cy@x.com").await;
    let dee = s.user("dee@x.com").await;
    s.group("Zulu", &[&ann, &bob]).await;
    s.group("alpha", &[&ann]).await;
    s.group("Mike", &[&cy, &ann]).await;
    for query in [
        "/Users?count=10",
        "/Users?count=2",
        "/Users?count=2&startIndex=3",
        // A lookup by unique name reads its user's groups in the same statement.
        "/Users?filter=userName%20eq%20%22ANN@x.com%22",
        "/Users?filter=userName%20eq%20%22bob@x.com%22%20and%20active%20eq%20true",
        "/Users?filter=userName%20eq%20%22dee@x.com%22",
    ] {
        let page = s.get(query).await;
        let listed = page.body["Resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!listed.is_empty(), "{query}: {}", page.text);
        for r in listed {
            let id = r["id"].as_str().unwrap_or_default().to_string();
            let single = s.get_ok(&format!("/Users/{id}")).await;
            assert_eq!(r.get("groups"), single.get("groups"), "{query}: {r}");
            let names: Vec<&str> = r["groups"]
                .as_array()
                .map(|g| g.iter().filter_map(|g| g["display"].as_str()).collect())
                .unwrap_or_default();
            let want: &[&str] = match id.as_str() {
                i if i == ann => &["alpha", "Mike", "Zulu"],
                i if i == bob => &["Zulu"],
                i if i == cy => &["Mike"],
                i if i == dee => &[],
                _ => panic!("{query}: an unknown user {r}"),
            };
            assert_eq!(names, want, "{query}: {r}");
        }
    }
}

#[tokio::test]
async fn users_show_their_direct_groups() {
    let s = TestServer::start().await;
    let ann = s.user("ann@x.com").await;
    let g1 = s.group("Alpha", &[&ann]).await;
    let g2 = s.group("Beta", &[&ann]).await;
    let _parent = s.group("Parent", &[&g1]).await;
    let u = s.get_ok(&format!("/Users/{ann}")).await;
    let groups = u["groups"].as_array().cloned().unwrap_or_default();
    let mut seen: Vec<(String, String)> = groups
        .iter()
        .map(|g| {
            assert_eq!(
                g["$ref"],
                format!(
                    "{}/Groups/{}",
                    s.base,
                    g["value"].as_str().unwrap_or_default()
                )
            );
            assert_eq!(g["type"], "direct", "{g}");
            (
                g["value"].as_str().unwrap_or_default().to_string(),
                g["display"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    seen.sort();
    let mut want = vec![(g1.clone(), "Alpha".to_string()), (g2, "Beta".to_string())];
    want.sort();
    assert_eq!(seen, want, "{u}");
    // Lists carry `groups` too.
    let list = s.get("/Users").await;
    assert_eq!(
        list.body["Resources"][0]["groups"].as_array().map(Vec::len),
        Some(2),
        "{}",
        list.text
    );
    // A renamed group shows its new name.
    let r = s
        .patch(
            &format!("/Groups/{g1}"),
            patch_op(json!([{"op": "replace", "path": "displayName", "value": "Alpha2"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let u = s.get_ok(&format!("/Users/{ann}?attributes=groups")).await;
    assert!(
        u["groups"]
            .as_array()
            .is_some_and(|a| a.iter().any(|g| g["display"] == "Alpha2")),
        "{u}"
    );
    // `groups` is read-only: sent on create, it is ignored.
    let r = s
        .create_user(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "userName": "sneaky@x.com", "groups": [{"value": g1}]}),
        )
        .await;
    assert!(r.body.get("groups").is_none(), "{}", r.text);
    let g = s.get_ok(&format!("/Groups/{g1}")).await;
    assert_eq!(members(&g), vec![member(&ann, "User")]);
}

#[tokio::test]
async fn put_replaces_name_and_members() {
    let s = TestServer::start().await;
    let ann = s.user("ann@x.com").await;
    let bob = s.user("bob@x.com").await;
    let g = s.group("Team", &[&ann]).await;
    let r = s
        .put(
            &format!("/Groups/{g}"),
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Team B", "members": [{"value": bob}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["displayName"], "Team B");
    assert_eq!(members(&r.body), vec![member(&bob, "User")]);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    let got = s.get_ok(&format!("/Groups/{g}")).await;
    assert_eq!(members(&got), vec![member(&bob, "User")]);
    // PUT without members empties the group (replace semantics).
    let r = s
        .put(
            &format!("/Groups/{g}"),
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Team B"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        s.get_ok(&format!("/Groups/{g}"))
            .await
            .get("members")
            .is_none()
    );
}

#[tokio::test]
async fn display_name_is_required_and_a_group_cannot_contain_itself() {
    let s = TestServer::start().await;
    s.post("/Groups", json!({"schemas": [GROUP_SCHEMA]}))
        .await
        .assert_error(400, Some("invalidValue"));
    s.post(
        "/Groups",
        json!({"schemas": [GROUP_SCHEMA], "displayName": "X", "members": [{"type": "User", "display": "no value"}]}),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    let g = s.group("Self", &[]).await;
    s.patch(
        &format!("/Groups/{g}"),
        patch_op(json!([{"op": "add", "path": "members", "value": [{"value": g}]}])),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    assert_eq!(ids(&s.get("/Groups").await), vec![g]);
}

/// Group lookups by name that arrive together may share a statement (PostgreSQL): each gets its
/// own group, with its members unless excluded, and never a system group (rule 13).
#[tokio::test]
async fn concurrent_lookups_by_display_name_each_get_their_own_group() {
    let s = TestServer::start().await;
    let u = s.user("lookup-member@x.com").await;
    let mut groups = Vec::new();
    for i in 0..8 {
        let members: Vec<&str> = if i % 2 == 0 { vec![u.as_str()] } else { vec![] };
        groups.push(s.group(&format!("Team {i}"), &members).await);
    }
    let mut reads = Vec::new();
    for round in 0..3 {
        for i in 0..10usize {
            let name = match i {
                8 => "everyone".to_string(),
                9 => "No Such Team".to_string(),
                _ => format!("TEAM {i}"),
            };
            let filter = enc(&format!("displayName eq \"{name}\""));
            let path = if round == 1 {
                format!("/Groups?filter={filter}&excludedAttributes=members")
            } else {
                format!("/Groups?filter={filter}")
            };
            reads.push((i, path));
        }
    }
    for (i, path, r) in s.get_all(reads).await {
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        if i >= 8 {
            assert_eq!(r.body["totalResults"], 0, "{path}: {}", r.text);
            continue;
        }
        assert_eq!(r.body["totalResults"], 1, "{path}: {}", r.text);
        let g = &r.body["Resources"][0];
        assert_eq!(g["id"], groups[i].as_str(), "{path}: {}", r.text);
        assert_eq!(g["displayName"], format!("Team {i}"), "{path}");
        let members = g["members"].as_array().map(|m| m.len()).unwrap_or(0);
        let expected = if path.contains("excludedAttributes") || i % 2 == 1 {
            0
        } else {
            1
        };
        assert_eq!(members, expected, "{path}: {}", r.text);
    }
}

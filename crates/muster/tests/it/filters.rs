//! Filtering (RFC 7644 §3.4.2.2) over `GET ?filter=` and `POST …/.search`.

use crate::support::{ENTERPRISE, Resp, TestServer, USER_SCHEMA, enc, strings};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Four users with distinct attributes; returns the server.
async fn fixture() -> TestServer {
    let s = TestServer::start().await;
    for body in [
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "userName": "alice@x.com", "externalId": "ext-1", "title": "Engineer", "active": true,
            "userType": "Employee",
            "name": {"givenName": "Alice", "familyName": "Archer"},
            "emails": [{"value": "alice@x.com", "type": "work", "primary": true},
                       {"value": "alice@home.org", "type": "home"}],
            ENTERPRISE: {"department": "R&D", "employeeNumber": "100", "manager": {"value": "boss-1"}}
        }),
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "userName": "bob@x.com", "externalId": "EXT-2", "title": "Manager", "active": false,
            "name": {"givenName": "Bob", "familyName": "Builder"},
            "emails": [{"value": "bob@x.com", "type": "work", "primary": true}],
            ENTERPRISE: {"department": "Sales"}
        }),
        json!({
            "schemas": [USER_SCHEMA],
            "userName": "carol@y.org", "active": true,
            "name": {"givenName": "Carol", "familyName": "Carter"},
            "emails": [{"value": "carol@y.org", "type": "work"}]
        }),
        json!({
            "schemas": [USER_SCHEMA],
            "userName": "Oscar@x.com", "title": "engineer", "active": true,
            "name": {"givenName": "Oscar", "familyName": "Owl"},
            "emails": [{"value": "oscar@x.com", "type": "work"}]
        }),
    ] {
        s.create_user(body).await;
    }
    s
}

/// The sorted userNames a filter selects, asserting GET and `POST /Users/.search` agree.
async fn users(s: &TestServer, filter: &str) -> Vec<String> {
    let get = s
        .get(&format!("/Users?count=1000&filter={}", enc(filter)))
        .await;
    assert_eq!(get.status, StatusCode::OK, "{filter}: {}", get.text);
    let post = s
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter, "count": 1000}),
        )
        .await;
    assert_eq!(post.status, StatusCode::OK, "{filter}: {}", post.text);
    let names = |r: &Resp| {
        let mut n = strings(r, "userName");
        n.sort();
        n
    };
    assert_eq!(names(&get), names(&post), "{filter}");
    assert_eq!(
        get.body["totalResults"].as_u64(),
        Some(names(&get).len() as u64),
        "{filter}"
    );
    names(&get)
}

fn v(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

const ALICE: &str = "alice@x.com";
const BOB: &str = "bob@x.com";
const CAROL: &str = "carol@y.org";
const OSCAR: &str = "Oscar@x.com";

#[tokio::test]
async fn every_comparison_operator() {
    let s = fixture().await;
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "alice@x.com""#, &[ALICE]),
        (r#"userName eq "ALICE@X.COM""#, &[ALICE]),
        (r#"userName ne "alice@x.com""#, &[BOB, CAROL, OSCAR]),
        (r#"userName co "@x.""#, &[ALICE, BOB, OSCAR]),
        (r#"userName co "CARO""#, &[CAROL]),
        (r#"userName sw "o""#, &[OSCAR]),
        (r#"userName sw "B""#, &[BOB]),
        (r#"userName ew ".org""#, &[CAROL]),
        (r#"userName ew "X.COM""#, &[ALICE, BOB, OSCAR]),
        ("title pr", &[ALICE, BOB, OSCAR]),
        ("externalId pr", &[ALICE, BOB]),
        (r#"userName gt "bob@x.com""#, &[CAROL, OSCAR]),
        (r#"userName gt "BOB@X.COM""#, &[CAROL, OSCAR]),
        (r#"userName ge "bob@x.com""#, &[BOB, CAROL, OSCAR]),
        (r#"userName lt "bob@x.com""#, &[ALICE]),
        (r#"userName le "bob@x.com""#, &[ALICE, BOB]),
        (r#"name.familyName gt "C""#, &[CAROL, OSCAR]),
        // caseExact=false: both spellings of the title match.
        (r#"title eq "ENGINEER""#, &[ALICE, OSCAR]),
        (r#"title ne "engineer""#, &[BOB, CAROL]),
        // externalId is caseExact.
        (r#"externalId eq "ext-2""#, &[]),
        (r#"externalId eq "EXT-2""#, &[BOB]),
        (r#"userName eq "nobody@x.com""#, &[]),
    ];
    for (f, want) in cases {
        assert_eq!(users(&s, f).await, v(want), "{f}");
    }
}

#[tokio::test]
async fn logical_operators_precedence_and_grouping() {
    let s = fixture().await;
    let cases: &[(&str, &[&str])] = &[
        // `and` binds tighter than `or`.
        (
            r#"userName sw "a" or userName sw "b" and active eq false"#,
            &[ALICE, BOB],
        ),
        (
            r#"(userName sw "a" or userName sw "b") and active eq false"#,
            &[BOB],
        ),
        (
            r#"active eq false and userName sw "b" or userName sw "a""#,
            &[ALICE, BOB],
        ),
        (r#"not (userName sw "a")"#, &[BOB, CAROL, OSCAR]),
        ("not(title pr)", &[CAROL]),
        (
            r#"not (userName sw "a" or userName sw "b") and active eq true"#,
            &[CAROL, OSCAR],
        ),
        (
            r#"((userName eq "alice@x.com") or ((userName eq "carol@y.org")))"#,
            &[ALICE, CAROL],
        ),
        (
            r#"title pr and not (title eq "manager") and active eq true"#,
            &[ALICE, OSCAR],
        ),
        (
            r#"userName eq "alice@x.com" and userName eq "bob@x.com""#,
            &[],
        ),
    ];
    for (f, want) in cases {
        assert_eq!(users(&s, f).await, v(want), "{f}");
    }
}

#[tokio::test]
async fn value_paths_sub_attributes_and_extension_urns() {
    let s = fixture().await;
    let cases: &[(&str, &[&str])] = &[
        (
            r#"emails[type eq "work" and value co "@x"]"#,
            &[ALICE, BOB, OSCAR],
        ),
        (r#"emails[type eq "home"]"#, &[ALICE]),
        (
            r#"emails[type eq "work" and primary eq true]"#,
            &[ALICE, BOB],
        ),
        (r#"emails[primary pr]"#, &[ALICE, BOB]),
        (r#"emails[not (type eq "work")]"#, &[ALICE]),
        (
            r#"emails[type eq "home" or value ew "y.org"] and active eq true"#,
            &[ALICE, CAROL],
        ),
        // Entra's matching attribute: element filter plus a sub-attribute comparison.
        (r#"emails[type eq "work"].value eq "carol@y.org""#, &[CAROL]),
        (r#"emails.value ew "@y.org""#, &[CAROL]),
        (r#"emails.value eq "ALICE@HOME.ORG""#, &[ALICE]),
        (r#"emails.type eq "home""#, &[ALICE]),
        (r#"emails co "home""#, &[ALICE]),
        (r#"name.familyName eq "builder""#, &[BOB]),
        (r#"name.givenName sw "C""#, &[CAROL]),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D""#,
            &[ALICE],
        ),
        (
            r#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:Department co "sal""#,
            &[BOB],
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "boss-1""#,
            &[ALICE],
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr",
            &[ALICE, BOB],
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@x.com""#,
            &[BOB],
        ),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            &[ALICE, BOB],
        ),
    ];
    for (f, want) in cases {
        assert_eq!(users(&s, f).await, v(want), "{f}");
    }
}

#[tokio::test]
async fn dates_booleans_and_ids() {
    let s = fixture().await;
    let all = s.get("/Users?sortBy=meta.created").await;
    let created = |i: usize| {
        all.body["Resources"][i]["meta"]["created"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let last = created(3);
    let first = created(0);
    assert_eq!(
        users(&s, r#"meta.created gt "2000-01-01T00:00:00Z""#)
            .await
            .len(),
        4
    );
    assert!(
        users(&s, r#"meta.created lt "2000-01-01T00:00:00Z""#)
            .await
            .is_empty()
    );
    assert!(
        !users(&s, &format!("meta.created gt \"{last}\""))
            .await
            .contains(&OSCAR.to_string())
    );
    assert!(
        users(&s, &format!("meta.created ge \"{last}\""))
            .await
            .contains(&OSCAR.to_string())
    );
    assert!(
        users(&s, &format!("meta.created le \"{first}\""))
            .await
            .contains(&ALICE.to_string())
    );
    assert!(
        users(&s, &format!("meta.created eq \"{first}\""))
            .await
            .contains(&ALICE.to_string())
    );
    // A date with an offset is compared as the instant it names.
    assert_eq!(
        users(&s, r#"meta.lastModified gt "2000-01-01T02:00:00+02:00""#)
            .await
            .len(),
        4
    );
    assert_eq!(users(&s, "active eq true").await, v(&[ALICE, CAROL, OSCAR]));
    assert_eq!(users(&s, "active eq false").await, v(&[BOB]));
    assert_eq!(users(&s, "active ne true").await, v(&[BOB]));
    assert_eq!(users(&s, "active eq TRUE").await, v(&[ALICE, CAROL, OSCAR]));
    let bob_id = all.body["Resources"][1]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(users(&s, &format!("id eq \"{bob_id}\"")).await, v(&[BOB]));
    assert_eq!(users(&s, r#"meta.resourceType eq "User""#).await.len(), 4);
}

#[tokio::test]
async fn names_and_operators_in_any_case_and_unquoted_values() {
    let s = fixture().await;
    let cases: &[(&str, &[&str])] = &[
        // PingOne.
        (r#"username Eq "alice@x.com""#, &[ALICE]),
        (r#"USERNAME EQ "ALICE@X.COM""#, &[ALICE]),
        (r#"Name.FamilyName SW "arch""#, &[ALICE]),
        (r#"EMAILS[TYPE Eq "home"]"#, &[ALICE]),
        (
            r#"userName sw "a" OR userName sw "b" AND active EQ false"#,
            &[ALICE, BOB],
        ),
        ("Title PR", &[ALICE, BOB, OSCAR]),
        (r#"NOT (title pr)"#, &[CAROL]),
        // Microsoft's reference tests (rule 18).
        ("userName sw O", &[OSCAR]),
        ("userName eq alice@x.com", &[ALICE]),
        ("externalId eq EXT-2", &[BOB]),
        ("active eq false", &[BOB]),
    ];
    for (f, want) in cases {
        assert_eq!(users(&s, f).await, v(want), "{f}");
    }
}

#[tokio::test]
async fn membership_filters_on_groups_and_users() {
    let s = fixture().await;
    let all = s.get("/Users?sortBy=userName").await;
    let id = |i: usize| {
        all.body["Resources"][i]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let (alice, bob, carol) = (id(0), id(1), id(2));
    let g1 = s.group("Engineering", &[&alice, &bob]).await;
    let g2 = s.group("Sales Team", &[&bob]).await;
    let _g3 = s.group("Empty", &[]).await;

    let groups = |f: String| {
        let s = &s;
        async move {
            let get = s.get(&format!("/Groups?filter={}", enc(&f))).await;
            assert_eq!(get.status, StatusCode::OK, "{f}: {}", get.text);
            let post = s.post("/Groups/.search", json!({"filter": f})).await;
            assert_eq!(post.status, StatusCode::OK, "{f}: {}", post.text);
            let mut a = strings(&get, "displayName");
            let mut b = strings(&post, "displayName");
            a.sort();
            b.sort();
            assert_eq!(a, b, "{f}");
            a
        }
    };
    assert_eq!(
        groups(format!("members.value eq \"{bob}\"")).await,
        v(&["Engineering", "Sales Team"])
    );
    assert_eq!(
        groups(format!("members[value eq \"{alice}\"]")).await,
        v(&["Engineering"])
    );
    assert_eq!(
        groups(format!("Members.Value EQ \"{carol}\"")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        groups("members pr".into()).await,
        v(&["Engineering", "Sales Team"])
    );
    assert_eq!(groups("not (members pr)".into()).await, v(&["Empty"]));
    assert_eq!(
        groups(r#"displayName eq "engineering""#.into()).await,
        v(&["Engineering"])
    );
    assert_eq!(
        groups(r#"displayName co "team" or displayName sw "EMP""#.into()).await,
        v(&["Empty", "Sales Team"])
    );
    assert_eq!(
        groups(format!(
            "displayName eq \"Sales Team\" and members.value eq \"{alice}\""
        ))
        .await,
        Vec::<String>::new()
    );
    assert_eq!(groups(format!("id eq \"{g2}\"")).await, v(&["Sales Team"]));

    assert_eq!(
        users(&s, &format!("groups.value eq \"{g1}\"")).await,
        v(&[ALICE, BOB])
    );
    assert_eq!(
        users(&s, &format!("groups[value eq \"{g2}\"]")).await,
        v(&[BOB])
    );
    assert_eq!(
        users(
            &s,
            &format!("groups.value eq \"{g2}\" or groups.value eq \"{g1}\"")
        )
        .await,
        v(&[ALICE, BOB])
    );
    assert_eq!(users(&s, "groups pr").await, v(&[ALICE, BOB]));
    assert_eq!(
        users(&s, &format!("not (groups.value eq \"{g1}\")")).await,
        v(&[CAROL, OSCAR])
    );
}

#[tokio::test]
async fn search_at_the_root_spans_users_and_groups() {
    let s = fixture().await;
    s.group("Engineering", &[]).await;
    let r = s
        .post(
            "/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "userName sw \"a\""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["userName"], ALICE);
    let r = s
        .post(
            "/.search",
            json!({"filter": "displayName eq \"engineering\""}),
        )
        .await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    assert_eq!(r.body["Resources"][0]["meta"]["resourceType"], "Group");
    let r = s.post("/.search", json!({})).await;
    assert_eq!(r.body["totalResults"], 5, "{}", r.text);
    let r = s
        .post("/.search", json!({"startIndex": 4, "count": 2}))
        .await;
    assert_eq!(r.body["totalResults"], 5, "{}", r.text);
    let types: Vec<Value> = r.body["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["meta"]["resourceType"].clone())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(types, vec![json!("User"), json!("Group")]);
    s.post("/.search", json!({"filter": "userName eq"}))
        .await
        .assert_error(400, Some("invalidFilter"));
}

#[tokio::test]
async fn search_request_bodies_carry_paging_and_projection() {
    let s = fixture().await;
    let r = s
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "attributes": ["userName"], "sortBy": "userName", "sortOrder": "descending",
                   "startIndex": 2, "count": 2, "filter": "active eq true"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["totalResults"], 3);
    assert_eq!(r.body["startIndex"], 2);
    assert_eq!(strings(&r, "userName"), vec![CAROL, ALICE]);
    assert!(r.body["Resources"][0].get("name").is_none(), "{}", r.text);
    // Lower-case, as Microsoft's tests send it; and an empty body object.
    let r = s.post("/users/.SEARCH", json!({"count": 1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["itemsPerPage"], 1);
    s.post("/Users/.search", json!({"filter": {"not": "a string"}}))
        .await
        .assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn bad_filters_are_invalid_filter_with_a_position() {
    let s = fixture().await;
    for f in [
        "userName eq",
        r#"userName xx "a""#,
        r#"(userName eq "a""#,
        r#"userName eq "a" and"#,
        r#"userName eq "a" userName eq "b""#,
        r#"emails[type eq "work""#,
        r#"userName eq "unterminated"#,
        "not userName pr",
        r#"userName eq "a")"#,
        r#"emails[type eq "work"][value eq "x"]"#,
        "userName",
        "= 3",
        "userName eq \"a\" or",
        "name.givenName.extra eq \"x\"",
    ] {
        for r in [
            s.get(&format!("/Users?filter={}", enc(f))).await,
            s.post("/Users/.search", json!({"filter": f})).await,
        ] {
            r.assert_error(400, Some("invalidFilter"));
            let detail = r.body["detail"].as_str().unwrap_or_default();
            assert!(detail.contains("position"), "{f}: {detail}");
        }
    }
}

#[tokio::test]
async fn unknown_or_ill_typed_attributes_are_invalid_filter() {
    let s = fixture().await;
    for f in [
        r#"nosuch eq "x""#,
        r#"name.nosuch eq "x""#,
        r#"emails[nosuch eq "x"]"#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nosuch eq "x""#,
        r#"urn:example:unknown:2.0:User:thing eq "x""#,
        "active gt true",
        r#"name eq "x""#,
        r#"meta.version eq "x""#,
        r#"meta.created gt "not a date""#,
        r#"userName[value eq "x"]"#,
    ] {
        s.get(&format!("/Users?filter={}", enc(f)))
            .await
            .assert_error(400, Some("invalidFilter"));
    }
    s.get(&format!("/Groups?filter={}", enc(r#"userName eq "x""#)))
        .await
        .assert_error(400, Some("invalidFilter"));
}

#[tokio::test]
async fn over_long_deep_or_huge_filters_are_refused() {
    let s = fixture().await;
    let long = format!("userName eq \"{}\"", "x".repeat(9000));
    let deep = format!("{}userName pr{}", "(".repeat(40), ")".repeat(40));
    let deep_not = format!("{}userName pr{}", "not (".repeat(40), ")".repeat(40));
    let many = vec!["userName eq \"a\""; 300].join(" or ");
    for f in [&long, &deep, &deep_not, &many] {
        let r = s.post("/Users/.search", json!({"filter": f})).await;
        r.assert_error(400, Some("invalidFilter"));
        assert!(
            r.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("limit")),
            "{}",
            r.text
        );
    }
    let r = s.get(&format!("/Users?filter={}", enc(&deep))).await;
    r.assert_error(400, Some("invalidFilter"));
    // Just under the limits is fine.
    let ok = format!("{}userName pr{}", "(".repeat(20), ")".repeat(20));
    assert_eq!(users(&s, &ok).await.len(), 4);
}

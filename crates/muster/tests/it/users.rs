//! `/Users`: create, read, replace, delete; attribute round-trip; uniqueness.

use crate::support::{ENTERPRISE, TestServer, USER_SCHEMA, enc, ids};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every RFC 7643 §4.1 attribute plus the enterprise extension (§4.3).
fn full_user() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": "ext-701984",
        "userName": "Barbara.Jensen@Example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara",
            "middleName": "Jane",
            "honorificPrefix": "Ms.",
            "honorificSuffix": "III"
        },
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "password": "t1meMa$heen",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true, "display": "Work"},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "phoneNumbers": [
            {"value": "555-555-5555", "type": "work"},
            {"value": "555-555-4444", "type": "mobile", "primary": true}
        ],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
        "addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
             "region": "CA", "postalCode": "91608", "country": "USA",
             "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA", "primary": true},
            {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood",
             "region": "CA", "postalCode": "91608", "country": "USA"}
        ],
        "entitlements": [{"value": "Tour Guide Access"}],
        "roles": [{"value": "Tour Guide", "primary": true}],
        "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
        ENTERPRISE: {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "organization": "Universal Studios",
            "division": "Theme Park",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        }
    })
}

const ROUND_TRIP: [&str; 20] = [
    "externalId",
    "userName",
    "name",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509Certificates",
];

#[track_caller]
fn assert_full_user(body: &Value, sent: &Value) {
    for key in ROUND_TRIP {
        assert_eq!(body[key], sent[key], "{key} in {body}");
    }
    assert_eq!(body[ENTERPRISE], sent[ENTERPRISE], "{body}");
    assert!(body.get("password").is_none(), "password returned: {body}");
    let schemas = body["schemas"].as_array().cloned().unwrap_or_default();
    assert!(schemas.contains(&json!(USER_SCHEMA)), "{body}");
    assert!(schemas.contains(&json!(ENTERPRISE)), "{body}");
}

#[tokio::test]
async fn post_answers_201_with_location_etag_and_every_attribute() {
    let s = TestServer::start().await;
    let sent = full_user();
    let r = s.create_user(sent.clone()).await;
    let body = &r.body;
    let id = r.id();
    assert!(!id.is_empty(), "{}", r.text);
    assert_full_user(body, &sent);
    assert_eq!(body["meta"]["resourceType"], "User");
    let location = body["meta"]["location"].as_str().unwrap_or_default();
    assert_eq!(location, format!("{}/Users/{id}", s.base));
    assert_eq!(r.header("location").as_deref(), Some(location));
    assert_eq!(
        r.header("etag").as_deref(),
        body["meta"]["version"].as_str(),
        "{}",
        r.text
    );
    assert!(
        body["meta"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("W/\""))
    );
    assert!(body["meta"]["created"].is_string() && body["meta"]["lastModified"].is_string());
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/scim+json"))
    );

    // GET answers the same representation.
    let g = s.get(&format!("/Users/{id}")).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body, r.body);
    assert_eq!(g.header("etag"), r.header("etag"));
}

#[tokio::test]
async fn unknown_attributes_are_kept_and_read_only_ones_ignored() {
    let s = TestServer::start().await;
    let r = s
        .create_user(json!({
            "schemas": [USER_SCHEMA, "urn:example:custom:2.0:User"],
            "userName": "kept@x.com",
            "id": "client-chosen-id",
            "meta": {"created": "2001-01-01T00:00:00Z", "version": "W/\"99\""},
            "groups": [{"value": "some-group"}],
            "favouriteColour": "green",
            "nested": {"deep": [1, 2, {"x": true}]},
            "name": {"givenName": "K", "nickname2": "unknown sub"},
            "emails": [{"value": "kept@x.com", "label": "unknown sub too"}]
        }))
        .await;
    let id = r.id();
    assert_ne!(id, "client-chosen-id");
    for body in [r.body.clone(), s.get_ok(&format!("/Users/{id}")).await] {
        assert_eq!(body["id"], id.as_str());
        assert_ne!(body["meta"]["created"], "2001-01-01T00:00:00Z");
        assert_eq!(body["meta"]["version"], "W/\"1\"");
        assert!(body.get("groups").is_none(), "{body}");
        assert_eq!(body["favouriteColour"], "green");
        assert_eq!(body["nested"], json!({"deep": [1, 2, {"x": true}]}));
        assert_eq!(body["name"]["nickname2"], "unknown sub");
        assert_eq!(body["emails"][0]["label"], "unknown sub too");
    }
}

#[tokio::test]
async fn password_is_accepted_and_never_returned() {
    let s = TestServer::start().await;
    let r = s
        .create_user(
            json!({"schemas": [USER_SCHEMA], "userName": "pw@x.com", "password": "S3cret!"}),
        )
        .await;
    let id = r.id();
    assert!(!r.text.contains("S3cret"), "{}", r.text);
    let put = s
        .put(
            &format!("/Users/{id}"),
            json!({"schemas": [USER_SCHEMA], "userName": "pw@x.com", "password": "Other1!"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert!(!put.text.contains("Other1"));
    let p = s
        .patch(
            &format!("/Users/{id}?attributes=password,userName"),
            crate::support::patch_op(
                json!([{"op": "replace", "path": "password", "value": "Third3!"}]),
            ),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(!p.text.contains("Third3") && p.body.get("password").is_none());
    for path in [
        format!("/Users/{id}"),
        format!("/Users/{id}?attributes=password"),
        format!("/Users?filter={}", enc("userName eq \"pw@x.com\"")),
    ] {
        let g = s.get(&path).await;
        assert_eq!(g.status, StatusCode::OK, "{}", g.text);
        assert!(!g.text.contains("password"), "{path}: {}", g.text);
    }
}

#[tokio::test]
async fn attribute_names_are_case_insensitive_and_entra_string_booleans_are_read() {
    let s = TestServer::start().await;
    let r = s
        .create_user(json!({
            "SCHEMAS": [USER_SCHEMA],
            "USERNAME": "Case@X.com",
            "Name": {"GIVENNAME": "Cas", "familyname": "E"},
            "Active": "False",
            "EMAILS": [{"Value": "case@x.com", "Type": "work", "Primary": "True"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Department": "Ops"}
        }))
        .await;
    let b = s.get_ok(&format!("/Users/{}", r.id())).await;
    assert_eq!(b["userName"], "Case@X.com");
    assert_eq!(b["name"], json!({"givenName": "Cas", "familyName": "E"}));
    assert_eq!(b["active"], json!(false));
    assert_eq!(
        b["emails"],
        json!([{"value": "case@x.com", "type": "work", "primary": true}])
    );
    assert_eq!(b[ENTERPRISE]["department"], "Ops");
    assert!(
        b.get("USERNAME").is_none() && b.get("Active").is_none(),
        "{b}"
    );

    let r = s
        .create_user(json!({"schemas": [USER_SCHEMA], "userName": "t@x.com", "active": "True"}))
        .await;
    assert_eq!(r.body["active"], json!(true));
}

#[tokio::test]
async fn flat_enterprise_urn_keys_are_accepted_on_create() {
    let s = TestServer::start().await;
    let r = s
        .create_user(json!({
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "userName": "flat@x.com",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Flat",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42"
        }))
        .await;
    assert_eq!(
        r.body[ENTERPRISE],
        json!({"department": "Flat", "employeeNumber": "42"}),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn put_replaces_every_writable_attribute() {
    let s = TestServer::start().await;
    // The PUT sets active to false: kept (RFC behaviour), not deleted as by default (rule 1).
    s.suspend_deactivated("test").await;
    let created = s.create_user(full_user()).await;
    let id = created.id();
    let r = s
        .put(
            &format!("/Users/{id}"),
            json!({
                "schemas": [USER_SCHEMA],
                "id": "ignored",
                "userName": "Barbara.Jensen@Example.com",
                "name": {"givenName": "Barb"},
                "active": false,
                "emails": [{"value": "new@example.com", "type": "work"}]
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.id(), id);
    assert_eq!(r.body["name"], json!({"givenName": "Barb"}));
    assert_eq!(r.body["active"], json!(false));
    assert_eq!(
        r.body["emails"],
        json!([{"value": "new@example.com", "type": "work"}])
    );
    for gone in [
        "title",
        "externalId",
        "phoneNumbers",
        "addresses",
        "nickName",
        ENTERPRISE,
    ] {
        assert!(
            r.body.get(gone).is_none(),
            "{gone} survived PUT: {}",
            r.text
        );
    }
    assert!(
        !r.body["schemas"]
            .as_array()
            .is_some_and(|a| a.contains(&json!(ENTERPRISE)))
    );
    assert_eq!(r.body["meta"]["created"], created.body["meta"]["created"]);
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    let g = s.get_ok(&format!("/Users/{id}")).await;
    assert_eq!(g, r.body);
}

#[tokio::test]
async fn delete_answers_204_then_the_user_is_gone() {
    let s = TestServer::start().await;
    let id = s.user("gone@x.com").await;
    let keep = s.user("kept@x.com").await;
    let r = s.delete(&format!("/Users/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(r.text.is_empty());
    s.get(&format!("/Users/{id}")).await.assert_error(404, None);
    s.delete(&format!("/Users/{id}"))
        .await
        .assert_error(404, None);
    let list = s.get("/Users").await;
    assert_eq!(ids(&list), vec![keep]);
    assert_eq!(list.body["totalResults"], 1);
    // The userName is free again.
    s.user("GONE@x.com").await;
}

#[tokio::test]
async fn user_name_is_unique_ignoring_case_and_keeps_its_case() {
    let s = TestServer::start().await;
    let ann = s.user("Ann.Lee@Example.com").await;
    let r = s
        .post(
            "/Users",
            json!({"schemas": [USER_SCHEMA], "userName": "ann.lee@EXAMPLE.com"}),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("ann.lee@EXAMPLE.com")),
        "{}",
        r.text
    );
    let b = s.get_ok(&format!("/Users/{ann}")).await;
    assert_eq!(b["userName"], "Ann.Lee@Example.com");
    let list = s.get("/Users").await;
    assert_eq!(list.body["totalResults"], 1);

    // Taking another user's name by PUT or PATCH is refused too.
    let bob = s.user("bob@example.com").await;
    s.put(
        &format!("/Users/{bob}"),
        json!({"schemas": [USER_SCHEMA], "userName": "ANN.LEE@example.com"}),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    s.patch(
        &format!("/Users/{bob}"),
        crate::support::patch_op(
            json!([{"op": "replace", "path": "userName", "value": "Ann.Lee@example.COM"}]),
        ),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    assert_eq!(
        s.get_ok(&format!("/Users/{bob}")).await["userName"],
        "bob@example.com"
    );

    // A user may change the case of its own userName.
    let r = s
        .put(
            &format!("/Users/{ann}"),
            json!({"schemas": [USER_SCHEMA], "userName": "ANN.LEE@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["userName"], "ANN.LEE@example.com");
}

#[tokio::test]
async fn external_id_is_not_unique() {
    let s = TestServer::start().await;
    for name in ["e1@x.com", "e2@x.com"] {
        s.create_user(
            json!({"schemas": [USER_SCHEMA], "userName": name, "externalId": "same-ext"}),
        )
        .await;
    }
    let r = s
        .get(&format!(
            "/Users?filter={}",
            enc("externalId eq \"same-ext\"")
        ))
        .await;
    assert_eq!(r.body["totalResults"], 2, "{}", r.text);
}

#[tokio::test]
async fn user_name_is_required_and_not_blank() {
    let s = TestServer::start().await;
    for body in [
        json!({"schemas": [USER_SCHEMA], "name": {"givenName": "x"}}),
        json!({"schemas": [USER_SCHEMA], "userName": ""}),
        json!({"schemas": [USER_SCHEMA], "userName": "   "}),
        json!({"schemas": [USER_SCHEMA], "userName": null}),
    ] {
        s.post("/Users", body)
            .await
            .assert_error(400, Some("invalidValue"));
    }
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn concurrent_creates_of_one_user_name_yield_one_user() {
    let s = TestServer::start().await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..12 {
        let client = s.client.clone();
        let url = s.url("/Users");
        let token = s.token.clone();
        let name = if i % 2 == 0 {
            "Race@X.com"
        } else {
            "race@x.COM"
        };
        set.spawn(async move {
            let res = client
                .post(url)
                .header("Authorization", format!("Bearer {token}"))
                .header("Content-Type", "application/scim+json")
                .body(json!({"schemas": [USER_SCHEMA], "userName": name}).to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("request: {e}"));
            TestServer::read(res).await
        });
    }
    let mut created = 0;
    while let Some(r) = set.join_next().await {
        let r = r.unwrap_or_else(|e| panic!("join: {e}"));
        match r.status.as_u16() {
            201 => created += 1,
            _ => r.assert_error(409, Some("uniqueness")),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(s.get("/Users").await.body["totalResults"], 1);
}

/// Creates that arrive together are written together (one statement): each must still come
/// back as exactly what was sent, under its own id, with its own conflicts.
#[tokio::test]
async fn concurrent_creates_each_keep_their_own_attributes() {
    let s = TestServer::start().await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..64 {
        let client = s.client.clone();
        let url = s.url("/Users");
        let token = s.token.clone();
        // Every eighth repeats the name of the one before it (in another case).
        let n = if i % 8 == 7 { i - 1 } else { i };
        let body = json!({
            "schemas": [USER_SCHEMA], "userName": format!("Batch{n}@X.com"),
            "externalId": format!("ext-{i}"), "active": i % 2 == 0,
            "name": {"givenName": format!("Given{i}"), "familyName": "Batch"},
            "emails": [{"value": format!("b{i}@x.com"), "primary": true}]
        });
        set.spawn(async move {
            let res = client
                .post(url)
                .header("Authorization", format!("Bearer {token}"))
                .header("Content-Type", "application/scim+json")
                .body(body.to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("request: {e}"));
            (i, TestServer::read(res).await)
        });
    }
    let mut created = 0;
    while let Some(r) = set.join_next().await {
        let (i, r) = r.unwrap_or_else(|e| panic!("join: {e}"));
        if r.status.as_u16() != 201 {
            assert!(i % 8 >= 6, "create {i}: {}", r.text);
            r.assert_error(409, Some("uniqueness"));
            continue;
        }
        created += 1;
        let got = s.get_ok(&format!("/Users/{}", r.id())).await;
        assert_eq!(got, r.body, "create {i}: read back differs from its answer");
        assert_eq!(got["externalId"], format!("ext-{i}"), "{got}");
        assert_eq!(got["name"]["givenName"], format!("Given{i}"), "{got}");
        assert_eq!(got["active"], json!(i % 2 == 0), "{got}");
        assert_eq!(got["emails"][0]["value"], format!("b{i}@x.com"), "{got}");
    }
    assert_eq!(created, 56, "one of each repeated name");
    assert_eq!(s.get("/Users").await.body["totalResults"], 56);
}

/// Reads that arrive together may share a statement (PostgreSQL): each must still get its own
/// user, with its own groups, or its own 404.
#[tokio::test]
async fn concurrent_reads_each_get_their_own_user() {
    let s = TestServer::start().await;
    let mut users = Vec::new();
    for i in 0..24 {
        users.push(s.user(&format!("read{i}@x.com")).await);
    }
    let team = s.group("Readers", &[&users[3], &users[5]]).await;
    let mut reads = Vec::new();
    for round in 0..4 {
        for (i, id) in users.iter().enumerate() {
            // Three shapes of read: with groups (twice), without them, and of an id that is not
            // there; and lookups by name, in changed case.
            let path = match (round, i % 4) {
                (0 | 3, _) => format!("/Users/{id}"),
                (2, 1) => format!(
                    "/Users?filter={}",
                    enc(&format!("userName eq \"READ{i}@x.com\""))
                ),
                (2, 2) => format!(
                    "/Users?filter={}",
                    enc(&format!("userName eq \"nobody{i}@x.com\""))
                ),
                (1, _) => format!("/Users/{id}?excludedAttributes=groups"),
                (_, 0) => format!("/Users/{id}-missing"),
                _ => format!("/Users/{id}?attributes=userName,groups"),
            };
            reads.push((i, path));
        }
    }
    for (i, path, r) in s.get_all(reads).await {
        if path.contains("-missing") {
            r.assert_error(404, None);
            continue;
        }
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        if path.contains("nobody") {
            assert_eq!(r.body["totalResults"], 0, "{path}: {}", r.text);
            assert!(
                r.body.get("Resources").is_none_or(|v| v == &json!([])),
                "{}",
                r.text
            );
            continue;
        }
        let r = if path.contains("filter=") {
            assert_eq!(r.body["totalResults"], 1, "{path}: {}", r.text);
            let body = r.body["Resources"][0].clone();
            crate::support::Resp { body, ..r }
        } else {
            r
        };
        assert_eq!(r.body["id"], users[i].as_str(), "{path}: {}", r.text);
        assert_eq!(r.body["userName"], format!("read{i}@x.com"), "{path}");
        let groups = r.body["groups"].as_array().map(|g| g.len()).unwrap_or(0);
        let in_team = i == 3 || i == 5;
        if path.contains("excludedAttributes=groups") {
            assert_eq!(groups, 0, "{path}: {}", r.text);
        } else {
            assert_eq!(groups, usize::from(in_team), "{path}: {}", r.text);
            if in_team {
                assert_eq!(r.body["groups"][0]["value"], team.as_str(), "{path}");
            }
        }
    }
}

#[tokio::test]
async fn at_most_one_value_is_primary() {
    let s = TestServer::start().await;
    let r = s
        .create_user(json!({
            "schemas": [USER_SCHEMA], "userName": "prim@x.com",
            "emails": [{"value": "a@x.com", "primary": true}, {"value": "b@x.com", "primary": true}],
            "phoneNumbers": [{"value": "1", "primary": "True"}, {"value": "2", "primary": "true"}],
            "addresses": [{"locality": "A", "primary": true}, {"locality": "B", "primary": true}]
        }))
        .await;
    for attr in ["emails", "phoneNumbers", "addresses"] {
        let primaries: Vec<bool> = r.body[attr]
            .as_array()
            .map(|a| a.iter().map(|v| v["primary"] == json!(true)).collect())
            .unwrap_or_default();
        assert_eq!(primaries, vec![true, false], "{attr}: {}", r.text);
    }
    // A new primary value takes the flag from the old one.
    let id = r.id();
    let p = s
        .patch(
            &format!("/Users/{id}"),
            crate::support::patch_op(json!([{"op": "add", "path": "emails",
                "value": [{"value": "c@x.com", "primary": true}]}])),
        )
        .await;
    assert_eq!(p.status, StatusCode::NO_CONTENT, "{}", p.text);
    let u = s.get_ok(&format!("/Users/{id}")).await;
    let primary: Vec<&str> = u["emails"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["primary"] == json!(true))
                .filter_map(|e| e["value"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(primary, vec!["c@x.com"], "{u}");
}

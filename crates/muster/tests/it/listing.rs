//! Listing: index and cursor pagination, sorting, empty results.

use crate::support::{Resp, TestServer, USER_SCHEMA, enc, ids, store_users, strings};
use muster_domain::service::Limits;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Seven users whose userName order, familyName order and creation order all differ.
/// Returns their ids in creation order.
async fn seven(s: &TestServer) -> Vec<String> {
    let people = [
        ("dave@x.com", "Zimmer"),
        ("Alice@x.com", "Young"),
        ("gina@x.com", "Adams"),
        ("bob@x.com", "Miller"),
        ("Fred@x.com", "Baker"),
        ("carl@x.com", "Xu"),
        ("eve@x.com", "Nash"),
    ];
    let mut out = Vec::new();
    for (user, family) in people {
        let r = s
            .create_user(json!({"schemas": [USER_SCHEMA], "userName": user,
                                "name": {"familyName": family, "givenName": "G"}}))
            .await;
        out.push(r.id());
    }
    out
}

#[track_caller]
fn assert_page(r: &Resp, total: u64, start: u64, per_page: u64) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse",
        "{}",
        r.text
    );
    assert_eq!(r.body["totalResults"].as_u64(), Some(total), "{}", r.text);
    assert_eq!(r.body["startIndex"].as_u64(), Some(start), "{}", r.text);
    assert_eq!(
        r.body["itemsPerPage"].as_u64(),
        Some(per_page),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["Resources"].as_array().map(Vec::len),
        Some(per_page as usize),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn start_index_and_count_are_one_based() {
    let s = TestServer::start().await;
    let created = seven(&s).await;
    let all = s.get("/Users").await;
    assert_page(&all, 7, 1, 7);
    assert_eq!(ids(&all), created, "default order is creation order");
    let r = s.get("/Users?startIndex=1&count=3").await;
    assert_page(&r, 7, 1, 3);
    assert_eq!(ids(&r), created[..3]);
    let r = s.get("/Users?startIndex=3&count=3").await;
    assert_page(&r, 7, 3, 3);
    assert_eq!(ids(&r), created[2..5]);
    let r = s.get("/Users?startIndex=7&count=3").await;
    assert_page(&r, 7, 7, 1);
    assert_eq!(ids(&r), created[6..]);
    let r = s.get("/Users?startIndex=8&count=3").await;
    assert_page(&r, 7, 8, 0);
    let r = s.get("/Users?startIndex=2").await;
    assert_page(&r, 7, 2, 6);
    // Parameter names in any case.
    let r = s.get("/Users?STARTINDEX=2&Count=1").await;
    assert_page(&r, 7, 2, 1);
    assert_eq!(ids(&r), created[1..2]);
}

#[tokio::test]
async fn paging_fields_are_json_integers() {
    let s = TestServer::start().await;
    seven(&s).await;
    let r = s.get("/Users?startIndex=2&count=2").await;
    for key in ["totalResults", "startIndex", "itemsPerPage"] {
        assert!(r.body[key].is_u64(), "{key} is not an integer: {}", r.text);
    }
    let r = s.get("/Groups").await;
    for key in ["totalResults", "startIndex", "itemsPerPage"] {
        assert!(r.body[key].is_u64(), "{key} is not an integer: {}", r.text);
    }
}

#[tokio::test]
async fn count_zero_gives_only_the_total() {
    let s = TestServer::start().await;
    seven(&s).await;
    let r = s.get("/Users?count=0").await;
    assert_page(&r, 7, 1, 0);
    assert_eq!(r.body["Resources"], json!([]));
    let r = s
        .get(&format!(
            "/Users?count=0&filter={}",
            enc("userName sw \"a\"")
        ))
        .await;
    assert_page(&r, 1, 1, 0);
    let r = s.post("/Users/.search", json!({"count": 0})).await;
    assert_page(&r, 7, 1, 0);
}

#[tokio::test]
async fn start_index_below_one_is_read_as_one() {
    let s = TestServer::start().await;
    let created = seven(&s).await;
    for q in ["startIndex=0&count=2", "startIndex=-5&count=2"] {
        let r = s.get(&format!("/Users?{q}")).await;
        assert_page(&r, 7, 1, 2);
        assert_eq!(ids(&r), created[..2], "{q}");
    }
}

#[tokio::test]
async fn count_above_the_maximum_is_clamped() {
    let s = TestServer::start_with(Limits {
        max_page_size: 3,
        ..Limits::default()
    })
    .await;
    seven(&s).await;
    let r = s.get("/Users?count=500").await;
    assert_page(&r, 7, 1, 3);
    let r = s.post("/Users/.search", json!({"count": 500})).await;
    assert_page(&r, 7, 1, 3);
    let r = s.get("/ServiceProviderConfig").await;
    assert_eq!(r.body["filter"]["maxResults"], 3, "{}", r.text);
}

#[tokio::test]
async fn the_default_page_size_is_capped_by_the_maximum() {
    let s = TestServer::start_with(Limits {
        max_page_size: 3,
        ..Limits::default()
    })
    .await;
    seven(&s).await;
    let r = s.get("/Users").await;
    assert_page(&r, 7, 1, 3);
}

#[tokio::test]
async fn the_default_maximum_page_size_is_1000() {
    let s = TestServer::start().await;
    let tenant = s
        .store
        .tenant_by_name("test")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no tenant"));
    store_users(&*s.store, &tenant.id, "bulk", 1005).await;
    let r = s.get("/Users?count=5000&attributes=userName").await;
    assert_page(&r, 1005, 1, 1000);
    let r = s
        .get("/Users?startIndex=1001&count=1000&attributes=userName")
        .await;
    assert_page(&r, 1005, 1001, 5);
    assert_eq!(
        s.get("/ServiceProviderConfig").await.body["filter"]["maxResults"],
        1000
    );
}

#[tokio::test]
async fn order_is_stable_across_pages() {
    let s = TestServer::start().await;
    let created = seven(&s).await;
    for sort in [
        "",
        "&sortBy=name.familyName",
        "&sortBy=userName&sortOrder=descending",
    ] {
        let whole = ids(&s.get(&format!("/Users?count=100{sort}")).await);
        let mut walked = Vec::new();
        for start in (1..=7).step_by(2) {
            let r = s
                .get(&format!("/Users?startIndex={start}&count=2{sort}"))
                .await;
            walked.extend(ids(&r));
        }
        assert_eq!(walked, whole, "{sort}");
        let unique: HashSet<&String> = walked.iter().collect();
        assert_eq!(unique.len(), created.len());
    }
}

#[tokio::test]
async fn sort_by_and_sort_order() {
    let s = TestServer::start().await;
    let created = seven(&s).await;
    let names = |r: &Resp| strings(r, "userName");
    let by_name = [
        "Alice@x.com",
        "bob@x.com",
        "carl@x.com",
        "dave@x.com",
        "eve@x.com",
        "Fred@x.com",
        "gina@x.com",
    ];
    let r = s.get("/Users?sortBy=userName").await;
    assert_eq!(names(&r), by_name, "sorted ignoring case");
    let r = s.get("/Users?sortBy=USERNAME&sortOrder=ascending").await;
    assert_eq!(names(&r), by_name);
    let r = s.get("/Users?sortBy=userName&sortOrder=descending").await;
    let mut rev = by_name.to_vec();
    rev.reverse();
    assert_eq!(names(&r), rev);
    let r = s.get("/Users?sortBy=name.familyName").await;
    let fam: Vec<String> = r.body["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| {
                    u["name"]["familyName"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        fam,
        ["Adams", "Baker", "Miller", "Nash", "Xu", "Young", "Zimmer"]
    );
    let r = s.get("/Users?sortBy=meta.created").await;
    assert_eq!(ids(&r), created);
    let r = s
        .get("/Users?sortBy=meta.created&sortOrder=Descending")
        .await;
    let mut rev = created.clone();
    rev.reverse();
    assert_eq!(ids(&r), rev);
    // Sorting and paging together.
    let r = s.get("/Users?sortBy=userName&startIndex=3&count=2").await;
    assert_eq!(names(&r), by_name[2..4]);
    // With a filter.
    let r = s
        .get(&format!(
            "/Users?sortBy=userName&sortOrder=descending&filter={}",
            enc("userName sw \"a\" or userName sw \"b\"")
        ))
        .await;
    assert_eq!(names(&r), ["bob@x.com", "Alice@x.com"]);
    // Users without the sort attribute come last.
    s.create_user(json!({"schemas": [USER_SCHEMA], "userName": "aaron@x.com"}))
        .await;
    let r = s.get("/Users?sortBy=name.familyName").await;
    assert_eq!(names(&r).last().map(String::as_str), Some("aaron@x.com"));
    // Bad sort parameters are 400, never 500.
    for q in [
        "sortBy=nosuch",
        "sortBy=name",
        "sortBy=userName&sortOrder=sideways",
    ] {
        s.get(&format!("/Users?{q}"))
            .await
            .assert_error(400, Some("invalidValue"));
    }
}

#[tokio::test]
async fn groups_sort_and_page_too() {
    let s = TestServer::start().await;
    for n in ["Charlie", "alpha", "Bravo"] {
        s.group(n, &[]).await;
    }
    let r = s.get("/Groups?sortBy=displayName&count=2").await;
    assert_page(&r, 3, 1, 2);
    assert_eq!(strings(&r, "displayName"), ["alpha", "Bravo"]);
    let r = s
        .get("/Groups?sortBy=displayName&sortOrder=descending&startIndex=3")
        .await;
    assert_eq!(strings(&r, "displayName"), ["alpha"]);
}

/// Walks every page from `first` (a URL with `cursor=`), returning the ids in order.
async fn walk(s: &TestServer, first: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut url = first.to_string();
    for _ in 0..100 {
        let r = s.get(&url).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
        assert!(r.body["totalResults"].is_u64(), "{}", r.text);
        out.extend(ids(&r));
        match r.body["nextCursor"].as_str() {
            Some(c) => {
                assert!(!c.is_empty());
                let base = first.split("cursor=").next().unwrap_or_default();
                url = format!("{base}cursor={}", enc(c));
            }
            None => return out,
        }
    }
    panic!("cursor walk did not end")
}

#[tokio::test]
async fn cursor_pagination_returns_each_user_exactly_once() {
    let s = TestServer::start().await;
    let created = seven(&s).await;
    let r = s.get("/Users?cursor=&count=3").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["totalResults"], 7);
    assert_eq!(r.body["itemsPerPage"], 3);
    assert!(r.body["nextCursor"].is_string(), "{}", r.text);

    let walked = walk(&s, "/Users?count=3&cursor=").await;
    assert_eq!(walked, created);

    // With a sort order and with a filter.
    let by_name = ids(&s.get("/Users?sortBy=userName&sortOrder=descending").await);
    let walked = walk(
        &s,
        "/Users?sortBy=userName&sortOrder=descending&count=2&cursor=",
    )
    .await;
    assert_eq!(walked, by_name);
    let f = enc("userName co \"a\"");
    let filtered = ids(&s.get(&format!("/Users?filter={f}")).await);
    let walked = walk(&s, &format!("/Users?filter={f}&count=2&cursor=")).await;
    assert_eq!(walked, filtered);
    assert_eq!(filtered.len(), 4);
    // Descending without sortBy.
    let mut rev = created.clone();
    rev.reverse();
    let walked = walk(&s, "/Users?sortOrder=descending&count=3&cursor=").await;
    assert_eq!(walked, rev);
    // A page size covering everything has no nextCursor.
    let r = s.get("/Users?cursor=&count=7").await;
    assert!(r.body.get("nextCursor").is_none(), "{}", r.text);
    assert_eq!(ids(&r), created);
}

#[tokio::test]
async fn cursor_walk_survives_deletes_between_pages() {
    let s = TestServer::start().await;
    let created = seven(&s).await;
    let r = s.get("/Users?cursor=&count=3").await;
    let first: Vec<String> = ids(&r);
    let next = r.body["nextCursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // A user of the first page goes away: the next page must not skip anyone.
    let del = s.delete(&format!("/Users/{}", created[0])).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let rest = walk(&s, &format!("/Users?count=3&cursor={}", enc(&next))).await;
    assert_eq!(first, created[..3]);
    assert_eq!(rest, created[3..]);
}

#[tokio::test]
async fn cursor_search_in_a_body_and_for_groups() {
    let s = TestServer::start().await;
    let created = seven(&s).await;
    let mut seen = Vec::new();
    let mut cursor = Value::String(String::new());
    for _ in 0..10 {
        let r = s
            .post("/Users/.search", json!({"cursor": cursor, "count": 4}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        seen.extend(ids(&r));
        match r.body.get("nextCursor") {
            Some(c) => cursor = c.clone(),
            None => break,
        }
    }
    assert_eq!(seen, created);
    for n in ["g1", "g2", "g3"] {
        s.group(n, &[]).await;
    }
    let groups = walk(&s, "/Groups?count=1&cursor=").await;
    assert_eq!(groups.len(), 3);
}

#[tokio::test]
async fn a_bad_cursor_is_400_invalid_cursor() {
    let s = TestServer::start().await;
    seven(&s).await;
    for c in ["nonsense", "x1", "s", "sabc", "o-1", "%%%"] {
        s.get(&format!("/Users?count=2&cursor={}", enc(c)))
            .await
            .assert_error(400, Some("invalidCursor"));
    }
    s.post("/Users/.search", json!({"cursor": "garbage"}))
        .await
        .assert_error(400, Some("invalidCursor"));
    // Cursor and startIndex together make no sense.
    s.get("/Users?cursor=&startIndex=2")
        .await
        .assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn empty_results_are_200_with_empty_resources() {
    let s = TestServer::start().await;
    for path in [
        "/Users".to_string(),
        "/Groups".to_string(),
        format!("/Users?filter={}", enc("userName eq \"nobody@x.com\"")),
        format!("/Groups?filter={}", enc("displayName eq \"nothing\"")),
        "/Users?cursor=".to_string(),
    ] {
        let r = s.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.body["totalResults"], 0, "{path}");
        assert_eq!(r.body["Resources"], json!([]), "{path}: {}", r.text);
        assert!(r.body.get("nextCursor").is_none());
    }
    let r = s.post("/.search", json!({})).await;
    assert_eq!(r.body["Resources"], json!([]), "{}", r.text);
    s.user("someone@x.com").await;
    let r = s
        .get(&format!(
            "/Users?filter={}",
            enc("userName eq \"nobody@x.com\"")
        ))
        .await;
    assert_eq!(r.body["Resources"], json!([]));
}

#[tokio::test]
async fn non_numeric_paging_parameters_are_400() {
    let s = TestServer::start().await;
    for q in [
        "count=ten",
        "startIndex=first",
        "count=1.5",
        "count=99999999999999999999999",
    ] {
        s.get(&format!("/Users?{q}"))
            .await
            .assert_error(400, Some("invalidValue"));
    }
}

#[tokio::test]
async fn sequential_index_pages_continue_where_the_last_page_ended() {
    // Clients page with startIndex = 1, 4, 7, … . A node that served the previous page resumes
    // after its last row (a keyset query, cheap at any depth) instead of counting rows again, so a
    // user deleted from an earlier page does not make the walk skip one.
    let s = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(s.user(&format!("walk{i}@x.com")).await);
    }
    let first = s.get("/Users?startIndex=1&count=3").await;
    let page1: Vec<String> = first.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(page1, ids[..3]);
    s.delete(&format!("/Users/{}", ids[0])).await;
    let second = s.get("/Users?startIndex=4&count=3").await;
    let page2: Vec<String> = second.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(page2, ids[3..6], "continues after the last row served");
    assert_eq!(second.body["totalResults"], 6);
    assert_eq!(second.body["startIndex"], 4);
}

/// Later pages of a walk reuse the first page's count; a change on this node makes the next
/// page count again, so `totalResults` never lags a write made here.
#[tokio::test]
async fn later_pages_report_a_total_that_follows_changes() {
    let s = TestServer::start().await;
    let ids = seven(&s).await;
    let total = |r: &Resp| r.body["totalResults"].as_u64();
    let first = s.get("/Users?startIndex=1&count=2").await;
    assert_eq!(total(&first), Some(7), "{}", first.text);
    let second = s.get("/Users?startIndex=3&count=2").await;
    assert_eq!(total(&second), Some(7), "{}", second.text);
    s.create_user(json!({"schemas": [USER_SCHEMA], "userName": "hal@x.com"}))
        .await;
    let third = s.get("/Users?startIndex=5&count=2").await;
    assert_eq!(total(&third), Some(8), "{}", third.text);
    let by_cursor = s.get("/Users?cursor=&count=2").await;
    let next = by_cursor.body["nextCursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let later = format!("/Users?cursor={}&count=2", enc(&next));
    assert_eq!(total(&s.get(&later).await), Some(8));
    let r = s.delete(&format!("/Users/{}", ids[0])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let page = s.get(&later).await;
    assert_eq!(total(&page), Some(7), "{}", page.text);
    let page = s.get("/Users?startIndex=5&count=2").await;
    assert_eq!(total(&page), Some(7), "{}", page.text);
}

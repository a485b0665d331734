//! The audit log from the SCIM side: every request (reads too, unless `audit_reads` is off),
//! changes with the resource before and after them, refusals with their message, no secrets;
//! and retention.

use crate::support::{TestServer, USER_SCHEMA, enc, patch_op};
use muster_domain::admin::model::{AuditEvent, AuditQuery};
use muster_domain::model::TenantId;
use reqwest::Method;
use serde_json::{Value, json};

async fn events(s: &TestServer) -> Vec<AuditEvent> {
    s.flush_audit().await;
    let t = s.store.tenant_by_name("test").await.unwrap().unwrap();
    s.store
        .query_audit(&AuditQuery {
            tenant_id: Some(t.id),
            limit: 1000,
            ..AuditQuery::default()
        })
        .await
        .unwrap()
}

/// An event written straight to the store, as the CLI writes one.
fn cli_event(tenant: &TenantId, target: Option<&str>, at: &str) -> AuditEvent {
    AuditEvent {
        tenant_id: Some(tenant.clone()),
        at: at.into(),
        actor: "cli".into(),
        operation: "admin.test".into(),
        target: target.map(str::to_string),
        outcome: "success".into(),
        status: 200,
        ..AuditEvent::default()
    }
}

fn json_of(v: &Option<String>) -> Value {
    v.as_deref()
        .map(|s| serde_json::from_str(s).unwrap())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn every_scim_request_is_recorded_and_changes_with_before_and_after() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Users",
            json!({"schemas": [USER_SCHEMA], "userName": "ann@x.com", "password": "Hunter2-secret",
                   "name": {"givenName": "Ann"}}),
        )
        .await;
    let id = r.id();
    s.patch(
        &format!("/Users/{id}"),
        patch_op(json!([{"op": "replace", "path": "name.givenName", "value": "Anne"}])),
    )
    .await;
    s.get(&format!("/Users/{id}")).await;
    s.get(&format!(
        "/Users?filter={}",
        enc("userName eq \"ann@x.com\"")
    ))
    .await;
    s.post("/Users/.search", json!({"filter": "userName eq \"x\""}))
        .await;
    s.delete(&format!("/Users/{id}")).await;

    let ev = events(&s).await;
    let ops: Vec<&str> = ev.iter().map(|e| e.operation.as_str()).collect();
    // Newest first.
    assert_eq!(
        ops,
        [
            "scim.users.delete",
            "scim.users.search",
            "scim.users.list",
            "scim.users.get",
            "scim.users.patch",
            "scim.users.create"
        ],
        "{ev:#?}"
    );
    let token = s
        .store
        .list_tokens(&ev[0].tenant_id.clone().unwrap())
        .await
        .unwrap();
    for e in &ev {
        assert_eq!(e.actor, format!("token:{}", token[0].id));
        assert_eq!(e.outcome, "success");
        assert!(e.duration_us.is_some() && e.request_id.is_some());
    }
    for e in [&ev[0], &ev[3], &ev[4], &ev[5]] {
        assert_eq!(e.target.as_deref(), Some(id.as_str()), "{e:?}");
    }
    // Reads carry no documents.
    assert!(
        ev[1..4]
            .iter()
            .all(|e| e.before.is_none() && e.after.is_none())
    );
    let (delete, patch, create) = (&ev[0], &ev[4], &ev[5]);
    assert_eq!(patch.method.as_deref(), Some("PATCH"));
    assert_eq!(
        patch.path.as_deref(),
        Some(format!("/api/scim/v2/Users/{id}").as_str())
    );
    assert_eq!(ev[1].method.as_deref(), Some("POST"));
    assert_eq!(ev[1].path.as_deref(), Some("/api/scim/v2/Users/.search"));
    assert_eq!(create.status, 201);
    assert_eq!(json_of(&create.after)["userName"], "ann@x.com");
    assert_eq!(json_of(&patch.before)["name"]["givenName"], "Ann");
    assert_eq!(json_of(&patch.after)["name"]["givenName"], "Anne");
    assert_eq!(patch.status, 204);
    assert_eq!(json_of(&delete.before)["name"]["givenName"], "Anne");
    assert!(delete.after.is_none());
    let all = format!("{ev:?}");
    assert!(
        !all.contains("Hunter2-secret"),
        "a password reached the audit log"
    );
    assert!(!all.contains(&s.token), "a token reached the audit log");
}

#[tokio::test]
async fn with_audit_reads_off_only_changes_and_refusals_are_recorded() {
    let s = TestServer::start_configured(Default::default(), |st| st.audit_reads = false).await;
    let id = s.user("ann@x.com").await;
    s.get(&format!("/Users/{id}")).await;
    s.get("/Users").await;
    s.get("/Users/nope").await.assert_error(404, None);
    let ops: Vec<String> = events(&s).await.into_iter().map(|e| e.operation).collect();
    assert_eq!(ops, ["scim.users.get", "scim.users.create"]);
}

#[tokio::test]
async fn refused_requests_are_recorded_with_their_message() {
    let s = TestServer::start().await;
    s.user("ann@x.com").await;
    let dup = s
        .post(
            "/Users",
            json!({"schemas": [USER_SCHEMA], "userName": "ANN@x.com"}),
        )
        .await;
    dup.assert_error(409, Some("uniqueness"));
    s.get("/Users?filter=userName%20eq")
        .await
        .assert_error(400, Some("invalidFilter"));
    let ev = events(&s).await;
    assert_eq!(ev[0].operation, "scim.users.list");
    assert_eq!(ev[0].outcome, "failure");
    assert_eq!(ev[0].status, 400);
    assert!(ev[0].message.as_deref().is_some_and(|m| !m.is_empty()));
    assert_eq!(ev[1].operation, "scim.users.create");
    assert_eq!(ev[1].status, 409);
    assert!(
        ev[1]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("ANN@x.com")),
        "{:?}",
        ev[1]
    );
    // A bad token belongs to no tenant: it is recorded without one.
    let r = s
        .send_as("mst_not-a-token", Method::GET, "/Users", None, &[])
        .await;
    r.assert_error(401, None);
    s.flush_audit().await;
    let anonymous = s
        .store
        .query_audit(&AuditQuery {
            actor: Some("anonymous".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(
        anonymous
            .iter()
            .any(|e| e.status == 401 && e.tenant_id.is_none())
    );
    assert!(!format!("{anonymous:?}").contains("mst_not-a-token"));
}

#[tokio::test]
async fn retention_deletes_only_old_events() {
    let s = TestServer::start().await;
    let t = s.store.tenant_by_name("test").await.unwrap().unwrap();
    let event = |at: &str| cli_event(&t.id, None, at);
    let old: Vec<AuditEvent> = (0..2500)
        .map(|_| event("2020-01-01T00:00:00.000Z"))
        .collect();
    s.store.append_audit(&old).await.unwrap();
    s.store
        .append_audit(&[event("2026-06-01T00:00:00.000Z")])
        .await
        .unwrap();
    let n = s
        .store
        .purge_audit("2021-01-01T00:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(n, 2500, "deleted in several chunks");
    let left = s
        .store
        .query_audit(&AuditQuery {
            tenant_id: Some(t.id.clone()),
            operation_prefix: Some("admin.test".into()),
            limit: 10_000,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].at, "2026-06-01T00:00:00.000Z");
}

/// Events are indexed by target in sorted batches, bucket by bucket: those indexed and those not
/// yet indexed are each found once, newest first, in pages, never another tenant's; a purge
/// takes the index entries with the events.
#[tokio::test]
async fn events_are_found_by_target_whether_indexed_yet_or_not() {
    let s = TestServer::start().await;
    let t = s.store.tenant_by_name("test").await.unwrap().unwrap();
    let other = s
        .store
        .create_tenant("other", muster_domain::model::Mode::Scim)
        .await
        .unwrap();
    // 36 000 events (three buckets of the index), a quarter each for targets a, b, c and none;
    // the first 18 000 are old. Another tenant has events for the same target.
    const OLD: &str = "2020-01-01T00:00:00.000Z";
    const NEW: &str = "2026-06-01T00:00:00.000Z";
    for round in 0..12 {
        let at = if round < 6 { OLD } else { NEW };
        let batch: Vec<AuditEvent> = (0..3000)
            .map(|i| cli_event(&t.id, [Some("a"), Some("b"), Some("c"), None][i % 4], at))
            .collect();
        s.store.append_audit(&batch).await.unwrap();
        s.store
            .append_audit(&[cli_event(&other.id, Some("a"), at)])
            .await
            .unwrap();
    }
    // A tail smaller than one indexing batch stays unindexed.
    let tail: Vec<AuditEvent> = (0..400)
        .map(|i| cli_event(&t.id, [Some("a"), None][i % 2], NEW))
        .collect();
    s.store.append_audit(&tail).await.unwrap();
    let query = |tenant: &TenantId, before: Option<i64>, limit: u64| AuditQuery {
        tenant_id: Some(tenant.clone()),
        target: Some("a".into()),
        before_seq: before,
        limit,
        ..AuditQuery::default()
    };
    let store = &s.store;
    let by_target = |before, limit| {
        let q = query(&t.id, before, limit);
        async move { store.query_audit(&q).await }
    };
    let all = by_target(None, 10_000).await.unwrap();
    assert_eq!(all.len(), 9000 + 200);
    assert!(
        all.iter()
            .all(|e| e.target.as_deref() == Some("a") && e.tenant_id.as_ref() == Some(&t.id))
    );
    assert!(
        all.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first, each once"
    );
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = by_target(before, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        paged.extend(page.into_iter().map(|e| e.seq));
    }
    assert_eq!(paged, all.iter().map(|e| e.seq).collect::<Vec<_>>());
    let theirs = s
        .store
        .query_audit(&query(&other.id, None, 100))
        .await
        .unwrap();
    assert_eq!(theirs.len(), 12);

    s.store
        .purge_audit("2021-01-01T00:00:00.000Z")
        .await
        .unwrap();
    let left = by_target(None, 10_000).await.unwrap();
    assert_eq!(left.len(), 4500 + 200);
    assert!(left.iter().all(|e| e.at == NEW));
}

/// A purge that empties the log does not hide the events after it from queries by target
/// (SQLite numbers them from 1 again, below the index's old watermark).
#[tokio::test]
async fn events_after_a_purge_that_empties_the_log_are_found_by_target() {
    let s = TestServer::start().await;
    let t = s.store.tenant_by_name("test").await.unwrap().unwrap();
    let event = |at: &str| cli_event(&t.id, Some("a"), at);
    let old: Vec<AuditEvent> = (0..5000)
        .map(|_| event("2020-01-01T00:00:00.000Z"))
        .collect();
    s.store.append_audit(&old).await.unwrap();
    s.flush_audit().await;
    s.store
        .purge_audit("2099-01-01T00:00:00.000Z")
        .await
        .unwrap();
    let new: Vec<AuditEvent> = (0..3000)
        .map(|_| event("2100-01-01T00:00:00.000Z"))
        .collect();
    for chunk in new.chunks(500) {
        s.store.append_audit(chunk).await.unwrap();
    }
    let found = s
        .store
        .query_audit(&AuditQuery {
            tenant_id: Some(t.id.clone()),
            target: Some("a".into()),
            limit: 10_000,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 3000);
}

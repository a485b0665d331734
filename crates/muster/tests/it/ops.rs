//! Operations endpoints: health, readiness, Prometheus metrics, request ids.

use crate::support::TestServer;
use reqwest::StatusCode;

#[tokio::test]
async fn health_ready_and_metrics() {
    let s = TestServer::start().await;
    let get = |p: &str| s.client.get(format!("{}{p}", s.origin)).send();
    let r = get("/healthz").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().get("x-request-id").is_some(),
        "every answer carries a request id"
    );
    s.user("metrics@x.com").await;
    s.get("/Users/nope").await;
    let body = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(body.contains("muster_http_requests_total"), "{body}");
    assert!(
        body.contains("endpoint=\"/api/scim/v2/Users/{id}\""),
        "route templates, not ids: {body}"
    );
    assert!(
        body.contains("muster_http_request_duration_seconds_bucket"),
        "{body}"
    );
    assert!(body.contains("muster_scim_errors_total"), "{body}");
    assert!(body.contains("muster_store_pool_connections"), "{body}");
    assert!(
        !body.contains("metrics@x.com") && !body.contains(&s.token),
        "no data or secrets in metrics"
    );
}

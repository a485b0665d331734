//! Prometheus metrics at `/metrics`: request counts and latency by endpoint (the route
//! template, never an id or a tenant), SCIM errors by status and scimType, store pool use.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder (installed once; several servers in one test process share it).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("muster_http_request_duration_seconds".into()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        10.0,
                    ],
                )
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Records every routed request.
pub async fn track(req: Request, next: Next) -> Response {
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let secs = start.elapsed().as_secs_f64();
    metrics::counter!("muster_http_requests_total", "method" => method.clone(), "endpoint" => endpoint.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("muster_http_request_duration_seconds", "method" => method, "endpoint" => endpoint).record(secs);
    res
}

/// Counts a SCIM error answer (called where errors become responses).
pub fn scim_error(status: u16, scim_type: Option<&'static str>) {
    metrics::counter!(
        "muster_scim_errors_total",
        "status" => status.to_string(),
        "scim_type" => scim_type.unwrap_or("none")
    )
    .increment(1);
}

pub async fn render(State(s): State<AppState>) -> Response {
    for (pool, size, idle) in s.store.pool_stats() {
        metrics::gauge!("muster_store_pool_connections", "pool" => pool).set(size as f64);
        metrics::gauge!("muster_store_pool_idle_connections", "pool" => pool).set(idle as f64);
    }
    let body = handle().map(PrometheusHandle::render).unwrap_or_default();
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    res
}

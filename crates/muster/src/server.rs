//! Binding and serving: the same code path for `muster serve` and for tests (port 0).

use crate::http;
use crate::state::AppState;
use axum::ServiceExt;
use axum::extract::Request;
use std::future::Future;
use std::net::SocketAddr;
use tower::Layer;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// Binds `listen` and returns the bound address and the future that serves until `shutdown`.
pub async fn bind(
    state: AppState,
    listen: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, impl Future<Output = std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let header = axum::http::HeaderName::from_static("x-request-id");
    let router = http::router(state)
        .layer(PropagateRequestIdLayer::new(header.clone()))
        // Every log line of a request is in its span, which carries its id; the INFO line per
        // request (status, latency) is off unless `MUSTER_LOG` enables `tower_http=info`.
        .layer(TraceLayer::new_for_http().on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)).make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(header, MakeRequestUuid));
    // Paths are normalised before routing (rule 17: resource names in any case).
    let app = tower::util::MapRequestLayer::new(http::routing::normalize::<axum::body::Body>)
        .layer(router);
    let serve = axum::serve(listener, ServiceExt::<Request>::into_make_service(app))
        .with_graceful_shutdown(shutdown);
    Ok((addr, async move { serve.await }))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

//! HTTP: routing, the SCIM service, health endpoints, and errors as SCIM bodies.

pub mod access;
pub mod admin;
pub mod audited;
pub mod error;
pub mod metrics;
pub mod routing;
pub mod scim;

use crate::state::AppState;
use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use error::ApiError;
use muster_scim::ScimError;

pub fn router(state: AppState) -> Router {
    metrics::handle();
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    for prefix in routing::SCIM_PREFIXES {
        app = app.nest(prefix, scim::router());
    }
    let admin = admin::router().route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        forget_tokens_after_changes,
    ));
    app.nest(admin::PREFIX, admin)
        .route("/api/access/v1/users/{user}", get(access::user))
        .route("/admin/set-password", get(admin::set_password_page))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audited::track,
        ))
        .route("/metrics", get(metrics::render))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// An admin change may revoke or rotate a token or change a tenant: the SCIM side forgets the
/// tokens it authenticated, so the change applies to the very next request on this node.
async fn forget_tokens_after_changes(
    axum::extract::State(s): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let safe = req.method().is_safe();
    let res = next.run(req).await;
    if !safe {
        s.tokens.clear();
    }
    res
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(axum::extract::State(s): axum::extract::State<AppState>) -> Response {
    if s.ready().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "store not ready").into_response()
    }
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError(ScimError::not_found(format!(
        "no endpoint at {}",
        uri.path()
    )))
}

async fn method_not_allowed() -> ApiError {
    ApiError(ScimError::new(
        405,
        None,
        "this endpoint does not support that HTTP method",
    ))
}

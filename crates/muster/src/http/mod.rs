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
    app.nest(admin::PREFIX, admin::router())
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

//! Admin API errors as JSON: `{"status": 409, "code": "…", "message": "…"}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use muster_domain::admin::error::AdminError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every admin API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub status: u16,
    /// Stable, machine-readable: `not_found`, `conflict`, `owned_by_identity_provider`, …
    pub code: String,
    /// What went wrong, in words an administrator can act on.
    pub message: String,
}

#[derive(Debug)]
pub struct AdminApiError(pub AdminError);

impl<E: Into<AdminError>> From<E> for AdminApiError {
    fn from(e: E) -> Self {
        AdminApiError(e.into())
    }
}

impl IntoResponse for AdminApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (
            status,
            Json(ErrorBody {
                status: e.status,
                code: e.code.to_string(),
                message: e.message.clone(),
            }),
        )
            .into_response();
        res.extensions_mut()
            .insert(crate::http::audited::ErrorMessage(e.message));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"muster admin\""),
            );
        }
        if matches!(
            status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        ) {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}

pub type AdminApiResult<T> = Result<T, AdminApiError>;

//! One error type for every HTTP answer that is not a success: always an RFC 7644 §3.12 body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use muster_scim::ScimError;

pub const SCIM_JSON: &str = "application/scim+json";

/// A SCIM error as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub ScimError);

impl From<ScimError> for ApiError {
    fn from(e: ScimError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        super::metrics::scim_error(self.0.status, self.0.scim_type.map(|t| t.as_str()));
        let mut res = (status, self.0.to_json().to_string()).into_response();
        res.extensions_mut()
            .insert(super::audited::ErrorMessage(self.0.detail.clone()));
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if matches!(
            status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        ) {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"muster SCIM\""),
            );
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

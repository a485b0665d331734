//! The SCIM 2.0 service (RFC 7644), mounted under every prefix in [`crate::http::routing::SCIM_PREFIXES`].

pub mod discovery;
pub mod extract;
pub mod resources;

use crate::http::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::routing::get;
use muster_scim::ScimError;

pub fn router() -> Router<AppState> {
    resources::routes::router()
        .route("/ServiceProviderConfig", get(discovery::spc))
        // Microsoft's SCIM reference server and its Postman tests use this name.
        .route("/serviceConfiguration", get(discovery::spc))
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{urn}", get(discovery::schema))
        .route("/Me", axum::routing::any(me))
        .route("/Bulk", axum::routing::post(bulk))
}

async fn bulk(
    axum::extract::State(s): axum::extract::State<AppState>,
    extract::Caller(ctx): extract::Caller,
    extract::ScimBody(body): extract::ScimBody,
) -> Result<axum::response::Response, ApiError> {
    let size = resources::json_text(&body).len();
    let out = s.scim.bulk(&ctx, &body, size).await?;
    Ok(resources::scim_json(axum::http::StatusCode::OK, &out))
}

/// RFC 7644 §3.11: `/Me` is optional; muster's tokens belong to an IdP, not a user.
async fn me() -> ApiError {
    ApiError(ScimError::new(
        501,
        None,
        "/Me is not supported: SCIM tokens authenticate an identity provider, not a user",
    ))
}

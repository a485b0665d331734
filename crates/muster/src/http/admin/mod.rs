//! The admin JSON API at `/api/admin/v1`, described by the OpenAPI document it serves at
//! `/api/admin/v1/openapi.json`. Routes and document come from the same handler annotations
//! (utoipa), so they cannot disagree.

pub mod auth;
pub mod error;
mod people;
mod products;
mod session;
mod tenants;

use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequest, Request};
use error::AdminApiError;
use muster_domain::admin::error::AdminError;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const PREFIX: &str = "/api/admin/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "muster admin API",
        description = "Tenants, provisioning modes, SSO connections, SCIM tokens, people and groups, product access, JIT sign-in and the audit log. Authenticate with an admin or operator key (Bearer) or a signed-in session cookie plus X-CSRF-Token for writes."
    ),
    servers((url = "/api/admin/v1")),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
    }
}

/// A JSON request body; a malformed one is a 400 in the admin API's error format.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = AdminApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(AdminError::bad_request(format!(
                "invalid request body: {}",
                e.body_text()
            ))
            .into()),
        }
    }
}

/// Query parameters; malformed ones are a 400 in the admin API's error format.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = AdminApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => {
                Err(AdminError::bad_request(format!("invalid query: {}", e.body_text())).into())
            }
        }
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(
            session::sign_in,
            session::whoami,
            session::sign_out
        ))
        .routes(routes!(session::set_password))
        .routes(routes!(tenants::list_tenants, tenants::create_tenant))
        .routes(routes!(tenants::show_tenant, tenants::update_tenant))
        .routes(routes!(
            tenants::list_connections,
            tenants::create_connection
        ))
        .routes(routes!(tenants::delete_connection))
        .routes(routes!(tenants::bind_scim))
        .routes(routes!(tenants::list_tokens, tenants::create_token))
        .routes(routes!(tenants::revoke_token))
        .routes(routes!(tenants::rotate_token))
        .routes(routes!(tenants::list_keys, tenants::create_key))
        .routes(routes!(tenants::revoke_key))
        .routes(routes!(tenants::audit))
        .routes(routes!(people::list_users, people::create_user))
        .routes(routes!(
            people::show_user,
            people::update_user,
            people::delete_user
        ))
        .routes(routes!(people::user_access))
        .routes(routes!(people::list_groups, people::create_group))
        .routes(routes!(
            people::show_group,
            people::rename_group,
            people::delete_group
        ))
        .routes(routes!(people::group_members, people::change_members))
        .routes(routes!(people::remove_member))
        .routes(routes!(products::list_instances, products::create_instance))
        .routes(routes!(products::show_instance, products::delete_instance))
        .routes(routes!(products::add_role))
        .routes(routes!(products::delete_role))
        .routes(routes!(products::create_access_key))
        .routes(routes!(products::list_grants, products::create_grant))
        .routes(routes!(products::delete_grant))
        .routes(routes!(products::jit_signin))
}

/// The OpenAPI document, with paths relative to [`PREFIX`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// The admin API router, to be nested at [`PREFIX`].
pub fn router() -> axum::Router<AppState> {
    let (router, doc) = api().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async {
            AdminApiError(AdminError::not_found(
                "no admin API endpoint here; the endpoints are listed in /api/admin/v1/openapi.json",
            ))
        })
        .method_not_allowed_fallback(|| async {
            AdminApiError(AdminError::new(
                405,
                "method_not_allowed",
                "this endpoint does not support that HTTP method (see /api/admin/v1/openapi.json)",
            ))
        })
}

/// The page that spends a set-password link (the link's secret is in its fragment).
pub use session::set_password_page;

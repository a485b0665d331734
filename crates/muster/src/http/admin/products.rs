//! Product instances, their roles and access keys, grants of roles to groups, and JIT sign-in.

use super::auth::AdminCaller;
use super::error::{AdminApiResult, ErrorBody};
use super::tenants::NewKey;
use super::{Body, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use muster_domain::admin::access::{JitClaims, JitResult, NewGrant, NewInstance};
use muster_domain::admin::model::{Grant, Instance, Role};
use muster_domain::admin::views::NewKeyView;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    pub name: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantFilter {
    pub group_id: Option<String>,
    pub instance_id: Option<String>,
}

#[utoipa::path(get, path = "/tenants/{tenant}/instances", tag = "access",
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 200, description = "OK", body = [Instance]), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn list_instances(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
) -> AdminApiResult<Json<Vec<Instance>>> {
    Ok(Json(s.admin.instances(&who, &tenant).await?))
}

/// Creates a product instance with its roles; each role comes with a `product` group
/// ("<instance> <role>") that is granted it.
#[utoipa::path(post, path = "/tenants/{tenant}/instances", tag = "access", request_body = NewInstance,
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 201, description = "Created", body = Instance), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn create_instance(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Body(b): Body<NewInstance>,
) -> AdminApiResult<(StatusCode, Json<Instance>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.admin.create_instance(&who, &tenant, &b).await?),
    ))
}

#[utoipa::path(get, path = "/tenants/{tenant}/instances/{id}", tag = "access",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 200, description = "OK", body = Instance), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn show_instance(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<Json<Instance>> {
    Ok(Json(s.admin.instance(&who, &tenant, &id).await?))
}

/// Deletes an instance with its roles, grants, product groups and access keys.
#[utoipa::path(delete, path = "/tenants/{tenant}/instances/{id}", tag = "access",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 204, description = "Done; no content"), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn delete_instance(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<StatusCode> {
    s.admin.delete_instance(&who, &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a role (and its product group) to an instance.
#[utoipa::path(post, path = "/tenants/{tenant}/instances/{id}/roles", tag = "access", request_body = NewRole,
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 201, description = "Created", body = Role), (status = 404, description = "Not found, or in another tenant", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn add_role(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
    Body(b): Body<NewRole>,
) -> AdminApiResult<(StatusCode, Json<Role>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.admin.add_role(&who, &tenant, &id, &b.name).await?),
    ))
}

#[utoipa::path(delete, path = "/tenants/{tenant}/instances/{id}/roles/{role}", tag = "access",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path), ("role" = String, Path)),
    responses((status = 204, description = "Done; no content"), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn delete_role(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id, role)): Path<(String, String, String)>,
) -> AdminApiResult<StatusCode> {
    s.admin.delete_role(&who, &tenant, &id, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates the instance's access key, for `GET /api/access/v1/users/{id-or-userName}`.
#[utoipa::path(post, path = "/tenants/{tenant}/instances/{id}/keys", tag = "access", request_body = NewKey,
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 201, description = "Created", body = NewKeyView), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn create_access_key(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
    Body(b): Body<NewKey>,
) -> AdminApiResult<(StatusCode, Json<NewKeyView>)> {
    let k = s
        .admin
        .create_access_key(&who, &tenant, &id, &b.name)
        .await?;
    Ok((StatusCode::CREATED, Json(k)))
}

#[utoipa::path(get, path = "/tenants/{tenant}/grants", tag = "access",
    params(("tenant" = String, Path, description = "The tenant's id or name"), GrantFilter),
    responses((status = 200, description = "OK", body = [Grant]), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn list_grants(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Query(f): Query<GrantFilter>,
) -> AdminApiResult<Json<Vec<Grant>>> {
    Ok(Json(
        s.admin
            .grants(
                &who,
                &tenant,
                f.group_id.as_deref(),
                f.instance_id.as_deref(),
            )
            .await?,
    ))
}

/// Grants a role of an instance to a group (any kind, `scim` groups included).
#[utoipa::path(post, path = "/tenants/{tenant}/grants", tag = "access", request_body = NewGrant,
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 201, description = "Created", body = Grant), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn create_grant(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Body(b): Body<NewGrant>,
) -> AdminApiResult<(StatusCode, Json<Grant>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.admin.create_grant(&who, &tenant, &b).await?),
    ))
}

/// Revokes a grant.
#[utoipa::path(delete, path = "/tenants/{tenant}/grants/{id}", tag = "access",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 204, description = "Done; no content"), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn delete_grant(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<StatusCode> {
    s.admin.delete_grant(&who, &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Called by the SSO front end with a sign-in's verified claims: creates or updates the `jit`
/// user and adds it to existing groups named in the claims. Only in `jit` mode (else 409).
#[utoipa::path(post, path = "/tenants/{tenant}/jit-signin", tag = "access", request_body = JitClaims,
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 200, description = "OK", body = JitResult), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn jit_signin(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Body(b): Body<JitClaims>,
) -> AdminApiResult<Json<JitResult>> {
    Ok(Json(s.admin.jit_signin(&who, &tenant, &b).await?))
}

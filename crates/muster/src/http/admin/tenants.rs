//! Tenants, SSO connections, SCIM tokens, admin keys and the audit log.

use super::auth::AdminCaller;
use super::error::{AdminApiResult, ErrorBody};
use super::{Body, Query};
use crate::http::scim::extract::origin;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use muster_domain::admin::model::{AuditEvent, AuditQuery, KeyInfo, SsoConnection};
use muster_domain::admin::views::{
    ConnectionsView, NewKeyView, NewTokenView, RotatedView, TenantChanged, TenantPatch, TenantView,
    TokenView,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub name: String,
    /// `scim` (default), `jit` or `scim-groups`.
    #[serde(default = "scim")]
    pub mode: String,
}

fn scim() -> String {
    "scim".into()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    pub name: String,
    /// `saml` or `oidc`.
    pub protocol: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// How long the old token keeps working (default one day, at most 30 days).
    pub overlap_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// A label, e.g. what the key is for.
    #[serde(default)]
    pub name: String,
}

/// Which audit events (newest first).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// RFC 3339 time, inclusive.
    pub since: Option<String>,
    /// RFC 3339 time, inclusive.
    pub until: Option<String>,
    /// `token:<id>`, `key:<id>`, `admin:<user id>`, `operator:<key id>`, `cli`.
    pub actor: Option<String>,
    /// The id of what was acted on.
    pub target: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// Operations starting with this, e.g. `scim.users` or `admin.group`.
    pub operation: Option<String>,
    /// Only events older than this sequence number (the next page).
    pub before: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u64>,
}

/// Tenants the caller may see: all for an operator, its own for a tenant admin.
#[utoipa::path(get, path = "/tenants", tag = "tenants",
    responses((status = 200, description = "OK", body = [TenantView]), (status = 401, description = "Not authenticated: no key or session, or a SCIM token", body = ErrorBody)))]
pub async fn list_tenants(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
) -> AdminApiResult<Json<Vec<TenantView>>> {
    let list = s.admin.list_tenants(&who).await?;
    Ok(Json(list.iter().map(TenantView::from).collect()))
}

/// Creates a tenant with its system groups (operators only).
#[utoipa::path(post, path = "/tenants", tag = "tenants", request_body = NewTenant,
    responses((status = 201, description = "Created", body = TenantView), (status = 403, description = "Authenticated but not allowed (or a cookie write without X-CSRF-Token)", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn create_tenant(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Body(b): Body<NewTenant>,
) -> AdminApiResult<(StatusCode, Json<TenantView>)> {
    let t = s.admin.create_tenant(&who, &b.name, &b.mode).await?;
    Ok((StatusCode::CREATED, Json(TenantView::from(&t))))
}

#[utoipa::path(get, path = "/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 200, description = "OK", body = TenantView), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn show_tenant(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
) -> AdminApiResult<Json<TenantView>> {
    Ok(Json(TenantView::from(
        &s.admin.tenant(&who, &tenant).await?,
    )))
}

/// Changes the provisioning mode, the deactivate policy or `require_email_username`; the
/// answer says what each change means.
#[utoipa::path(patch, path = "/tenants/{tenant}", tag = "tenants", request_body = TenantPatch,
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 200, description = "OK", body = TenantChanged), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn update_tenant(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Body(b): Body<TenantPatch>,
) -> AdminApiResult<Json<TenantChanged>> {
    Ok(Json(s.admin.update_tenant(&who, &tenant, &b).await?))
}

#[utoipa::path(get, path = "/tenants/{tenant}/connections", tag = "connections",
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 200, description = "OK", body = ConnectionsView), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn list_connections(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
) -> AdminApiResult<Json<ConnectionsView>> {
    Ok(Json(s.admin.connections(&who, &tenant).await?))
}

/// Adds an SSO connection (at most five per tenant).
#[utoipa::path(post, path = "/tenants/{tenant}/connections", tag = "connections", request_body = NewConnection,
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 201, description = "Created", body = SsoConnection), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn create_connection(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Body(b): Body<NewConnection>,
) -> AdminApiResult<(StatusCode, Json<SsoConnection>)> {
    let c = s
        .admin
        .create_connection(&who, &tenant, &b.name, &b.protocol)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Deletes an SSO connection; SCIM tokens that belong to it are revoked.
#[utoipa::path(delete, path = "/tenants/{tenant}/connections/{id}", tag = "connections",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 204, description = "Done; no content"), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn delete_connection(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<StatusCode> {
    s.admin.delete_connection(&who, &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Binds SCIM to this connection (exactly one may be bound); tokens of the previous binding
/// are revoked.
#[utoipa::path(post, path = "/tenants/{tenant}/connections/{id}/bind-scim", tag = "connections",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 200, description = "OK", body = Object), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn bind_scim(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<Json<Value>> {
    Ok(Json(s.admin.bind_scim(&who, &tenant, &id).await?))
}

/// SCIM tokens with their provisioning health (last used, last error, errors in the last hour).
#[utoipa::path(get, path = "/tenants/{tenant}/tokens", tag = "tokens",
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 200, description = "OK", body = [TokenView]), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
) -> AdminApiResult<Json<Vec<TokenView>>> {
    Ok(Json(s.admin.tokens(&who, &tenant).await?))
}

/// Generates a SCIM token. The secret is in this answer only, with the URL to enter in Entra
/// ID, Okta and PingOne.
#[utoipa::path(post, path = "/tenants/{tenant}/tokens", tag = "tokens",
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 201, description = "Created", body = NewTokenView), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn create_token(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> AdminApiResult<(StatusCode, Json<NewTokenView>)> {
    let t = s
        .admin
        .create_token(&who, &tenant, &origin(&s, &headers))
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Revokes a token at once.
#[utoipa::path(delete, path = "/tenants/{tenant}/tokens/{id}", tag = "tokens",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path, description = "The token's id or prefix")),
    responses((status = 204, description = "Done; no content"), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<StatusCode> {
    s.admin.revoke_token(&who, &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a token: a new secret now, the old one working until the overlap ends.
#[utoipa::path(post, path = "/tenants/{tenant}/tokens/{id}/rotate", tag = "tokens", request_body(content = Rotate, description = "optional"),
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 201, description = "Created", body = RotatedView), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn rotate_token(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> AdminApiResult<(StatusCode, Json<RotatedView>)> {
    // The body is optional: none means the default overlap.
    let overlap = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<Rotate>(&body)
            .map_err(|e| {
                muster_domain::admin::error::AdminError::bad_request(format!(
                    "invalid request body: {e}"
                ))
            })?
            .overlap_seconds
    };
    let r = s
        .admin
        .rotate_token(&who, &tenant, &id, overlap, &origin(&s, &headers))
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// The tenant's admin and access keys (never their secrets).
#[utoipa::path(get, path = "/tenants/{tenant}/keys", tag = "keys",
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 200, description = "OK", body = [KeyInfo]), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn list_keys(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
) -> AdminApiResult<Json<Vec<KeyInfo>>> {
    Ok(Json(s.admin.keys(&who, &tenant).await?))
}

/// Creates an admin key for this tenant; the secret is shown once.
#[utoipa::path(post, path = "/tenants/{tenant}/keys", tag = "keys", request_body = NewKey,
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 201, description = "Created", body = NewKeyView), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn create_key(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Body(b): Body<NewKey>,
) -> AdminApiResult<(StatusCode, Json<NewKeyView>)> {
    let k = s.admin.create_admin_key(&who, &tenant, &b.name).await?;
    Ok((StatusCode::CREATED, Json(k)))
}

#[utoipa::path(delete, path = "/tenants/{tenant}/keys/{id}", tag = "keys",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path, description = "The key's id or prefix")),
    responses((status = 204, description = "Done; no content"), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn revoke_key(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<StatusCode> {
    s.admin.revoke_key(&who, &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit log: every admin and SCIM change and every refused request, newest first.
#[utoipa::path(get, path = "/tenants/{tenant}/audit", tag = "audit",
    params(("tenant" = String, Path, description = "The tenant's id or name"), AuditParams),
    responses((status = 200, description = "OK", body = [AuditEvent]), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn audit(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Query(p): Query<AuditParams>,
) -> AdminApiResult<Json<Vec<AuditEvent>>> {
    let q = AuditQuery {
        since: time_param("since", p.since.as_deref())?,
        until: time_param("until", p.until.as_deref())?,
        actor: p.actor,
        target: p.target,
        outcome: p.outcome,
        operation_prefix: p.operation,
        before_seq: p.before,
        limit: p.limit.unwrap_or(100).clamp(1, 1000),
        ..AuditQuery::default()
    };
    Ok(Json(s.admin.audit(&who, &tenant, q).await?))
}

/// An RFC 3339 query time, in the one UTC format times are stored in (so they compare as text).
fn time_param(
    name: &str,
    v: Option<&str>,
) -> Result<Option<String>, muster_domain::admin::error::AdminError> {
    v.map(|v| {
        muster_scim::resource::parse_datetime(v)
            .map(muster_scim::resource::format_datetime)
            .ok_or_else(|| {
                muster_domain::admin::error::AdminError::bad_request(format!(
                    "{name} must be an RFC 3339 time such as 2026-01-31T12:00:00Z, not \"{v}\""
                ))
            })
    })
    .transpose()
}

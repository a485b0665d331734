//! Users and groups: list and search by source and kind, manual users, custom groups and
//! their members. What the identity provider owns answers 409 (product rule 6).

use super::auth::AdminCaller;
use super::error::{AdminApiResult, ErrorBody};
use super::{Body, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use muster_domain::admin::model::Access;
use muster_domain::admin::people::{ListFilter, NewUser, UserPatch};
use muster_domain::admin::views::{GroupView, Page, UserDetail, UserView};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    pub display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    pub display_name: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    /// User ids to add.
    #[serde(default)]
    pub add: Vec<String>,
    /// User ids to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub start_index: Option<u64>,
    pub count: Option<u64>,
}

#[utoipa::path(get, path = "/tenants/{tenant}/users", tag = "people",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ListFilter),
    responses((status = 200, description = "OK", body = Page<UserView>), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody)))]
pub async fn list_users(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Query(f): Query<ListFilter>,
) -> AdminApiResult<Json<Page<UserView>>> {
    Ok(Json(s.admin.list_users(&who, &tenant, &f).await?))
}

/// Adds a `manual` user: a collaborator the identity provider does not manage.
#[utoipa::path(post, path = "/tenants/{tenant}/users", tag = "people", request_body = NewUser,
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 201, description = "Created", body = UserView), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn create_user(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Body(b): Body<NewUser>,
) -> AdminApiResult<(StatusCode, Json<UserView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.admin.create_user(&who, &tenant, &b).await?),
    ))
}

/// A user (by id or userName) with its groups of every kind and its effective access.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}", tag = "people",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path, description = "The user's id or userName")),
    responses((status = 200, description = "OK", body = UserDetail), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn show_user(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<Json<UserDetail>> {
    Ok(Json(s.admin.user(&who, &tenant, &id).await?))
}

/// Changes a `manual` or `jit` user; a `scim` user is the identity provider's (409).
#[utoipa::path(patch, path = "/tenants/{tenant}/users/{id}", tag = "people", request_body = UserPatch,
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path, description = "The user's id or userName")),
    responses((status = 200, description = "OK", body = UserView), (status = 404, description = "Not found, or in another tenant", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn update_user(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
    Body(b): Body<UserPatch>,
) -> AdminApiResult<Json<UserView>> {
    Ok(Json(s.admin.update_user(&who, &tenant, &id, &b).await?))
}

/// Removes a `manual` or `jit` user; a `scim` user is the identity provider's (409).
#[utoipa::path(delete, path = "/tenants/{tenant}/users/{id}", tag = "people",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path, description = "The user's id or userName")),
    responses((status = 204, description = "Done; no content"), (status = 404, description = "Not found, or in another tenant", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn delete_user(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<StatusCode> {
    s.admin.delete_user(&who, &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's effective access: the union of the roles granted to its groups (Everyone and
/// nested groups included); none while inactive.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}/access", tag = "access",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path, description = "The user's id or userName")),
    responses((status = 200, description = "OK", body = [Access]), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn user_access(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<Json<Vec<Access>>> {
    Ok(Json(s.admin.user_access(&who, &tenant, &id).await?))
}

#[utoipa::path(get, path = "/tenants/{tenant}/groups", tag = "people",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ListFilter),
    responses((status = 200, description = "OK", body = Page<GroupView>), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody)))]
pub async fn list_groups(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Query(f): Query<ListFilter>,
) -> AdminApiResult<Json<Page<GroupView>>> {
    Ok(Json(s.admin.list_groups(&who, &tenant, &f).await?))
}

/// Creates a `custom` group.
#[utoipa::path(post, path = "/tenants/{tenant}/groups", tag = "people", request_body = NewGroup,
    params(("tenant" = String, Path, description = "The tenant's id or name")),
    responses((status = 201, description = "Created", body = GroupView), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn create_group(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path(tenant): Path<String>,
    Body(b): Body<NewGroup>,
) -> AdminApiResult<(StatusCode, Json<GroupView>)> {
    let g = s.admin.create_group(&who, &tenant, &b.display_name).await?;
    Ok((StatusCode::CREATED, Json(g)))
}

#[utoipa::path(get, path = "/tenants/{tenant}/groups/{id}", tag = "people",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 200, description = "OK", body = GroupView), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn show_group(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<Json<GroupView>> {
    Ok(Json(s.admin.group(&who, &tenant, &id).await?))
}

/// Renames a `custom` group; `scim`, `system` and `product` groups cannot be renamed (409).
#[utoipa::path(patch, path = "/tenants/{tenant}/groups/{id}", tag = "people", request_body = GroupPatch,
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 200, description = "OK", body = GroupView), (status = 404, description = "Not found, or in another tenant", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn rename_group(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
    Body(b): Body<GroupPatch>,
) -> AdminApiResult<Json<GroupView>> {
    Ok(Json(
        s.admin
            .rename_group(&who, &tenant, &id, &b.display_name)
            .await?,
    ))
}

/// Deletes a `custom` group (and its grants); other kinds answer 409.
#[utoipa::path(delete, path = "/tenants/{tenant}/groups/{id}", tag = "people",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 204, description = "Done; no content"), (status = 404, description = "Not found, or in another tenant", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn delete_group(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> AdminApiResult<StatusCode> {
    s.admin.delete_group(&who, &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A group's members, a page at a time (Everyone: every user).
#[utoipa::path(get, path = "/tenants/{tenant}/groups/{id}/members", tag = "people",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path), PageParams),
    responses((status = 200, description = "OK", body = Page<UserView>), (status = 404, description = "Not found, or in another tenant", body = ErrorBody)))]
pub async fn group_members(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
    Query(p): Query<PageParams>,
) -> AdminApiResult<Json<Page<UserView>>> {
    Ok(Json(
        s.admin
            .group_members(&who, &tenant, &id, p.start_index, p.count)
            .await?,
    ))
}

/// Adds and removes members of a `custom` or `product` group or of Admin Center
/// Administrators, all or nothing; a `scim` group's members are the identity provider's (409).
#[utoipa::path(post, path = "/tenants/{tenant}/groups/{id}/members", tag = "people", request_body = MemberChange,
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path)),
    responses((status = 200, description = "OK", body = GroupView), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody), (status = 404, description = "Not found, or in another tenant", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn change_members(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id)): Path<(String, String)>,
    Body(b): Body<MemberChange>,
) -> AdminApiResult<Json<GroupView>> {
    Ok(Json(
        s.admin
            .change_members(&who, &tenant, &id, &b.add, &b.remove)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/tenants/{tenant}/groups/{id}/members/{user}", tag = "people",
    params(("tenant" = String, Path, description = "The tenant's id or name"), ("id" = String, Path), ("user" = String, Path, description = "The member's user id")),
    responses((status = 204, description = "Done; no content"), (status = 404, description = "Not found, or in another tenant", body = ErrorBody), (status = 409, description = "Refused: a name is taken, or the identity provider owns it", body = ErrorBody)))]
pub async fn remove_member(
    State(s): State<AppState>,
    AdminCaller(who): AdminCaller,
    Path((tenant, id, user)): Path<(String, String, String)>,
) -> AdminApiResult<StatusCode> {
    s.admin
        .change_members(&who, &tenant, &id, &[], &[user])
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` (RFC 7644 §4): what the server really
//! does, readable with or without a token (product rule 16).

use super::extract::Id;
use super::extract::base_url;
use super::resources::scim_json;
use crate::http::error::ApiResult;
use crate::state::AppState;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use muster_scim::ScimError;
use muster_scim::list::list_response;
use muster_scim::schema::{ResourceKind, ResourceType, all_schemas};
use serde_json::{Value, json};

pub fn service_provider_config(state: &AppState, base: &str) -> Value {
    let l = &state.scim.limits;
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/muster-directory/muster#readme",
        "patch": {"supported": true},
        "bulk": {"supported": true, "maxOperations": l.bulk_max_operations, "maxPayloadSize": l.bulk_max_payload},
        "filter": {"supported": true, "maxResults": l.max_page_size},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": l.default_page_size,
            "maxPageSize": l.max_page_size
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a muster SCIM token: 'Authorization: Bearer <token>' (or the token alone).",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
    })
}

pub async fn spc(
    State(s): State<AppState>,
    h: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let base = base_url(&s, &h, uri.path());
    scim_json(StatusCode::OK, &service_provider_config(&s, &base))
}

fn types() -> [&'static ResourceType; 2] {
    [
        ResourceType::of(ResourceKind::User),
        ResourceType::of(ResourceKind::Group),
    ]
}

pub async fn resource_types(
    State(s): State<AppState>,
    h: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let base = base_url(&s, &h, uri.path());
    let items: Vec<Value> = types().iter().map(|t| t.to_json(&base)).collect();
    let n = items.len() as u64;
    scim_json(StatusCode::OK, &list_response(items, n, Some(1), None))
}

pub async fn resource_type(
    State(s): State<AppState>,
    h: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Id(name): Id,
) -> ApiResult<Response> {
    let base = base_url(&s, &h, uri.path());
    let t = types()
        .into_iter()
        .find(|t| t.name.eq_ignore_ascii_case(&name))
        .ok_or_else(|| ScimError::not_found(format!("no resource type '{name}'")))?;
    Ok(scim_json(StatusCode::OK, &t.to_json(&base)))
}

pub async fn schemas(
    State(s): State<AppState>,
    h: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let base = base_url(&s, &h, uri.path());
    let items: Vec<Value> = all_schemas().iter().map(|x| x.to_json(&base)).collect();
    let n = items.len() as u64;
    scim_json(StatusCode::OK, &list_response(items, n, Some(1), None))
}

pub async fn schema(
    State(s): State<AppState>,
    h: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Id(urn): Id,
) -> ApiResult<Response> {
    let base = base_url(&s, &h, uri.path());
    let x = all_schemas()
        .into_iter()
        .find(|x| x.id.eq_ignore_ascii_case(&urn))
        .ok_or_else(|| ScimError::not_found(format!("no schema '{urn}'")))?;
    Ok(scim_json(StatusCode::OK, &x.to_json(&base)))
}

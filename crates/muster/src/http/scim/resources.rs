//! `/Users` and `/Groups`: CRUD, PATCH, lists and `.search`.

use super::extract::{Caller, Id, Params, ScimBody};
use crate::http::error::{ApiResult, SCIM_JSON};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use muster_domain::service::{ListParams, Rendered};
use muster_scim::ScimError;
use muster_scim::projection::Projection;
use muster_scim::schema::{ResourceKind, ResourceType};
use serde_json::Value;

/// A JSON answer with the SCIM media type.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    scim_text(status, json_text(body))
}

/// `body` as JSON text. Through serde_json's writer, not `Display`: `to_string()` on a `Value`
/// goes through `fmt::Write` a token at a time, a tenth of a list page's CPU. Writing a `Value`
/// cannot fail (its keys are strings), so there is no error to answer.
pub fn json_text(body: &Value) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

fn scim_text(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    res
}

fn resource_response(status: StatusCode, mut r: Rendered, with_location: bool) -> Response {
    let text = r.take_text();
    with_headers(scim_text(status, text), &r, with_location)
}

fn with_headers(mut res: Response, r: &Rendered, with_location: bool) -> Response {
    if let Ok(v) = HeaderValue::from_str(&r.etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if with_location && let Ok(v) = HeaderValue::from_str(&r.location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// The answer to a change, with the resource before and after it handed to the audit log.
/// The resource is serialised once for both; members (they can be many) stay out of the log.
/// `status` `None`: 204 with only the ETag.
fn changed(status: Option<StatusCode>, r: Rendered, with_location: bool) -> Response {
    let text = json_text(&r.body);
    let after = match r.body.get("members") {
        Some(Value::Array(m)) if !m.is_empty() => {
            let mut doc = r.body.clone();
            if let Some(o) = doc.as_object_mut() {
                o.remove("members");
            }
            json_text(&doc)
        }
        _ => text.clone(),
    };
    let mut res = match status {
        Some(status) => with_headers(scim_text(status, text), &r, with_location),
        None => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            if let Ok(v) = HeaderValue::from_str(&r.etag) {
                res.headers_mut().insert(header::ETAG, v);
            }
            res
        }
    };
    res.extensions_mut().insert(crate::http::audited::Changed {
        before: r.before.map(|m| json_text(&Value::Object(m))),
        after: Some(after),
        note: r.note,
    });
    res
}

fn projection(kind: ResourceKind, p: &Params) -> Projection {
    Projection::parse(
        ResourceType::of(kind),
        p.get("attributes").as_deref(),
        p.get("excludedAttributes").as_deref(),
    )
}

fn if_match(h: &HeaderMap) -> Option<String> {
    h.get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Weak comparison of entity tags (RFC 9110 §8.8.3.2), over a comma-separated list.
fn etag_matches(header_value: &str, etag: &str) -> bool {
    let strip = |t: &str| {
        t.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_string()
    };
    let ours = strip(etag);
    header_value
        .split(',')
        .any(|t| t.trim() == "*" || strip(t) == ours)
}

pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    kind: ResourceKind,
    p: Params,
) -> ApiResult<Response> {
    let params = ListParams {
        filter: p.get("filter"),
        sort_by: p.get("sortBy"),
        sort_order: p.get("sortOrder"),
        start_index: p.get("startIndex"),
        count: p.get("count"),
        cursor: p.get("cursor"),
        attributes: p.get("attributes"),
        excluded_attributes: p.get("excludedAttributes"),
    };
    let body = s.scim.list(&ctx, kind, &params).await?;
    Ok(scim_text(StatusCode::OK, body))
}

/// `POST …/.search` (RFC 7644 §3.4.3): the same query as a list, in a SearchRequest body.
pub fn search_params(body: &Value) -> Result<ListParams, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the search request must be a JSON object"))?;
    let get = |k: &str| muster_scim::resolve::get_ci(obj, k);
    let text = |k: &str| -> Result<Option<String>, ScimError> {
        match get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Array(a)) => Ok(Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            Some(_) => Err(ScimError::invalid_value(format!(
                "'{k}' has the wrong type"
            ))),
        }
    };
    Ok(ListParams {
        filter: text("filter")?,
        sort_by: text("sortBy")?,
        sort_order: text("sortOrder")?,
        start_index: text("startIndex")?,
        count: text("count")?,
        cursor: text("cursor")?,
        attributes: text("attributes")?,
        excluded_attributes: text("excludedAttributes")?,
    })
}

pub async fn search(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    kind: ResourceKind,
    ScimBody(body): ScimBody,
) -> ApiResult<Response> {
    let params = search_params(&body)?;
    let body = s.scim.list(&ctx, kind, &params).await?;
    Ok(scim_text(StatusCode::OK, body))
}

pub async fn search_root(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ScimBody(body): ScimBody,
) -> ApiResult<Response> {
    let params = search_params(&body)?;
    let body = s.scim.search_all(&ctx, &params).await?;
    Ok(scim_json(StatusCode::OK, &body))
}

pub async fn create(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    kind: ResourceKind,
    p: Params,
    ScimBody(body): ScimBody,
) -> ApiResult<Response> {
    let r = s
        .scim
        .create(&ctx, kind, &body, &projection(kind, &p))
        .await?;
    Ok(changed(Some(StatusCode::CREATED), r, true))
}

pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    kind: ResourceKind,
    id: String,
    p: Params,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let r = s.scim.get(&ctx, kind, &id, &projection(kind, &p)).await?;
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && etag_matches(inm, &r.etag)
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&r.etag) {
            res.headers_mut().insert(header::ETAG, v);
        }
        return Ok(res);
    }
    Ok(resource_response(StatusCode::OK, r, true))
}

pub async fn replace(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    kind: ResourceKind,
    id: String,
    p: Params,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ApiResult<Response> {
    let r = s
        .scim
        .replace(
            &ctx,
            kind,
            &id,
            &body,
            if_match(&headers).as_deref(),
            &projection(kind, &p),
        )
        .await?;
    Ok(changed(Some(StatusCode::OK), r, true))
}

/// PATCH answers 204 with the new ETag (product rule 15), or 200 with the resource when the
/// request asks for attributes.
pub async fn patch(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    kind: ResourceKind,
    id: String,
    p: Params,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ApiResult<Response> {
    let wants_body = p.get("attributes").is_some() || p.get("excludedAttributes").is_some();
    let proj = projection(kind, &p);
    let r = s
        .scim
        .patch(
            &ctx,
            kind,
            &id,
            &body,
            if_match(&headers).as_deref(),
            wants_body.then_some(&proj),
        )
        .await?;
    Ok(changed(wants_body.then_some(StatusCode::OK), r, true))
}

pub async fn delete(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    kind: ResourceKind,
    id: String,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let gone = s
        .scim
        .delete(&ctx, kind, &id, if_match(&headers).as_deref())
        .await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(crate::http::audited::Changed {
        before: Some(json_text(&Value::Object(gone.data))),
        after: None,
        note: None,
    });
    Ok(res)
}

/// Route adapters: one set of handlers serves both resource types.
pub mod routes {
    use super::*;
    use axum::Router;
    use axum::routing::{get as r_get, post};

    macro_rules! typed {
        ($name:ident, $kind:expr) => {
            pub mod $name {
                use super::*;
                pub async fn list(s: State<AppState>, c: Caller, p: Params) -> ApiResult<Response> {
                    super::list(s, c, $kind, p).await
                }
                pub async fn create(
                    s: State<AppState>,
                    c: Caller,
                    p: Params,
                    b: ScimBody,
                ) -> ApiResult<Response> {
                    super::create(s, c, $kind, p, b).await
                }
                pub async fn search(
                    s: State<AppState>,
                    c: Caller,
                    b: ScimBody,
                ) -> ApiResult<Response> {
                    super::search(s, c, $kind, b).await
                }
                pub async fn get(
                    s: State<AppState>,
                    c: Caller,
                    Id(id): Id,
                    p: Params,
                    h: HeaderMap,
                ) -> ApiResult<Response> {
                    super::get(s, c, $kind, id, p, h).await
                }
                pub async fn replace(
                    s: State<AppState>,
                    c: Caller,
                    Id(id): Id,
                    p: Params,
                    h: HeaderMap,
                    b: ScimBody,
                ) -> ApiResult<Response> {
                    super::replace(s, c, $kind, id, p, h, b).await
                }
                pub async fn patch(
                    s: State<AppState>,
                    c: Caller,
                    Id(id): Id,
                    p: Params,
                    h: HeaderMap,
                    b: ScimBody,
                ) -> ApiResult<Response> {
                    super::patch(s, c, $kind, id, p, h, b).await
                }
                pub async fn delete(
                    s: State<AppState>,
                    c: Caller,
                    Id(id): Id,
                    h: HeaderMap,
                ) -> ApiResult<Response> {
                    super::delete(s, c, $kind, id, h).await
                }
            }
        };
    }
    typed!(users, ResourceKind::User);
    typed!(groups, ResourceKind::Group);

    pub fn router() -> Router<AppState> {
        Router::new()
            .route("/Users", r_get(users::list).post(users::create))
            .route("/Users/.search", post(users::search))
            .route(
                "/Users/{id}",
                r_get(users::get)
                    .put(users::replace)
                    .patch(users::patch)
                    .delete(users::delete),
            )
            .route("/Groups", r_get(groups::list).post(groups::create))
            .route("/Groups/.search", post(groups::search))
            .route(
                "/Groups/{id}",
                r_get(groups::get)
                    .put(groups::replace)
                    .patch(groups::patch)
                    .delete(groups::delete),
            )
            .route("/.search", post(search_root))
    }
}

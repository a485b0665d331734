//! Request extractors: the authenticated tenant, SCIM JSON bodies and query parameters.

use crate::http::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use muster_domain::model::Mode;
use muster_domain::service::Ctx;
use muster_scim::ScimError;
use serde_json::Value;

/// The SCIM base URL the client used (`http://host/api/scim/v2`), so `meta.location` and
/// `Location` point where the client already talks.
pub fn base_url(state: &AppState, headers: &HeaderMap, path: &str) -> String {
    let prefix = crate::http::routing::scim_prefix(path).unwrap_or("/api/scim/v2");
    let mut url = origin(state, headers);
    url.push_str(prefix);
    url
}

/// `scheme://host[:port]` as the client sees this server (`--public-url` when set).
pub fn origin(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(public) = &state.public_url {
        return public.trim_end_matches('/').to_string();
    }
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    // Built by hand, with room for the prefix `base_url` adds: this runs on every request.
    let mut origin = String::with_capacity(proto.len() + host.len() + 32);
    origin.push_str(proto);
    origin.push_str("://");
    origin.push_str(host);
    origin
}

/// The bearer secret: `Authorization: Bearer <t>`, or the whole header (Okta's header auth).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match v.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => v,
    };
    (!token.is_empty()).then_some(token)
}

/// An authenticated SCIM caller: the token chose the tenant.
pub struct Caller(pub Ctx);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(secret) = bearer(&parts.headers) else {
            return Err(ScimError::unauthorized(
                "authentication required: send 'Authorization: Bearer <token>'",
            )
            .into());
        };
        let hash = muster_domain::tokens::hash(secret);
        let found = match state.tokens.get(&hash) {
            Some(hit) => Some(hit),
            None => {
                let found = state
                    .store
                    .token_by_hash(&hash)
                    .await
                    .map_err(|e| ApiError(muster_domain::service::store_failure(e)))?;
                if let Some((token, tenant)) = &found {
                    state.tokens.put(hash, token, tenant);
                }
                found
            }
        };
        let Some((token, tenant)) = found else {
            return Err(
                ScimError::unauthorized("the token is not valid or has been revoked").into(),
            );
        };
        if let Some(slot) = parts.extensions.get::<crate::http::audited::AuditSlot>() {
            slot.set(Some(tenant.id.clone()), format!("token:{}", token.id));
        }
        state.touch_token(&token.id).await;
        if tenant.mode == Mode::Jit {
            return Err(ScimError::forbidden(format!(
                "tenant '{}' provisions users just in time at sign-in (mode 'jit'), so SCIM is turned off; \
                 an administrator can switch it to 'scim' mode",
                tenant.name
            ))
            .into());
        }
        // Inside a nested router `uri` has lost its prefix; the original (normalised) one has it.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(parts.uri.path(), |u| u.0.path());
        let base_url = base_url(state, &parts.headers, path);
        Ok(Caller(Ctx { tenant, base_url }))
    }
}

/// A JSON request body, accepted as `application/scim+json` or `application/json` (or any
/// other JSON media type), size-limited, parsed to a `Value` (names are matched later,
/// case-insensitively).
pub struct ScimBody(pub Value);

impl FromRequest<AppState> for ScimBody {
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim();
            let json =
                essence.is_empty() || essence.ends_with("/json") || essence.ends_with("+json");
            if !json {
                return Err(ScimError::new(
                    415,
                    None,
                    format!("unsupported Content-Type '{essence}': send application/scim+json or application/json"),
                )
                .into());
            }
        }
        let limit = state.scim.limits.max_body;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| {
                ScimError::too_large(format!(
                    "the request body is larger than the limit of {limit} bytes"
                ))
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ScimError::invalid_syntax(
                "the request body is empty; a JSON object was expected",
            )
            .into());
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ScimError::invalid_syntax(format!("the request body is not valid JSON: {e}"))
        })?;
        if has_nul(&value) {
            return Err(ScimError::invalid_value(
                "text in the request must not contain the NUL character (U+0000)",
            )
            .into());
        }
        Ok(ScimBody(value))
    }
}

/// Whether any string or key holds U+0000, which no store can keep as text.
fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Query parameters by case-insensitive name (first occurrence wins).
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(q.as_bytes()).into_owned().collect();
        if pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ScimError::invalid_value(
                "query parameters must not contain the NUL character (U+0000)",
            )
            .into());
        }
        Ok(Params(pairs))
    }
}

/// A resource id from the path. An id that is not valid UTF-8 cannot exist: 404, as a SCIM body.
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) if !id.contains('\0') => Ok(Id(id)),
            _ => Err(
                ScimError::not_found("no resource has that id (it is not valid UTF-8 text)").into(),
            ),
        }
    }
}

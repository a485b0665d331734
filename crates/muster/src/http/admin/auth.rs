//! Who calls the admin API: an operator or tenant admin key (`Authorization: Bearer …`), or a
//! signed-in administrator's session cookie. Cookie-authenticated writes must carry the
//! session's CSRF token in `X-CSRF-Token`; SCIM tokens are not admin keys (401).

use super::error::AdminApiError;
use crate::http::audited::AuditSlot;
use crate::http::scim::extract::bearer;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use muster_domain::admin::error::AdminError;
use muster_domain::admin::model::KeyScope;
use muster_domain::admin::service::{Actor, Who};

pub const SESSION_COOKIE: &str = "muster_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of a cookie in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// An authenticated admin API caller.
pub struct AdminCaller(pub Who);

fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = AdminApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let actor = if let Some(secret) = bearer(&parts.headers) {
            let key = state.key(secret).await?;
            match key {
                Some(k) if k.scope == KeyScope::Operator => Actor::Operator { key_id: k.id },
                Some(k) if k.scope == KeyScope::Admin => match k.tenant_id {
                    Some(tenant) => Actor::TenantKey {
                        tenant,
                        key_id: k.id,
                    },
                    None => return Err(AdminError::unauthorized("this key has no tenant").into()),
                },
                Some(_) => {
                    return Err(AdminError::unauthorized(
                        "an access key reads the access API only (/api/access/v1)",
                    )
                    .into());
                }
                None => {
                    return Err(AdminError::unauthorized(
                        "the key is not valid or has been revoked (SCIM tokens do not open the admin API; use an admin key: muster admin key create)",
                    )
                    .into());
                }
            }
        } else if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
            let s = state.admin.session(secret).await?;
            let actor = Actor::Admin {
                tenant: s.tenant.clone(),
                user_id: s.user_id.clone(),
            };
            // Recorded before the CSRF check, so a refused write shows in the tenant's log.
            if let Some(slot) = parts.extensions.get::<AuditSlot>() {
                slot.set(Some(s.tenant.clone()), actor.label());
            }
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !safe
                && !sent.is_some_and(|c| {
                    muster_domain::tokens::same_hash(
                        &muster_domain::tokens::hash(c),
                        &muster_domain::tokens::hash(&s.csrf),
                    )
                })
            {
                return Err(AdminError::forbidden(
                    "a signed-in change needs the session's CSRF token in the X-CSRF-Token header",
                )
                .into());
            }
            actor
        } else {
            return Err(AdminError::unauthorized(
                "authentication required: send 'Authorization: Bearer <admin key>' or sign in",
            )
            .into());
        };
        if let Some(slot) = parts.extensions.get::<AuditSlot>() {
            slot.set(actor.scope().cloned(), actor.label());
        }
        Ok(AdminCaller(Who {
            actor,
            request_id: request_id(parts),
        }))
    }
}

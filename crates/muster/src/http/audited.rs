//! Audit records written from the HTTP side: every SCIM request (reads unless `audit_reads` is
//! off) and every refused request (SCIM, admin and access API). Admin changes are recorded by the admin use cases themselves,
//! with before and after. The authenticating extractor fills in who asked through the
//! request's [`AuditSlot`]; handlers and error answers add the rest as response extensions.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use muster_domain::admin::model::{AuditEvent, FAILURE, SUCCESS};
use muster_domain::admin::service::{AuditSink, now};
use muster_domain::model::TenantId;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Who made the request, once authenticated.
#[derive(Debug, Default, Clone)]
pub struct Caller {
    pub tenant: Option<TenantId>,
    pub actor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditSlot(Arc<Mutex<Caller>>);

impl AuditSlot {
    pub fn set(&self, tenant: Option<TenantId>, actor: String) {
        if let Ok(mut c) = self.0.lock() {
            c.tenant = tenant;
            c.actor = Some(actor);
        }
    }
    fn take(&self) -> Caller {
        self.0
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }
}

/// The error message of a refused request (set by the error answers).
#[derive(Debug, Clone)]
pub struct ErrorMessage(pub String);

/// A SCIM change: the resource before and after it (members left out: they can be many).
#[derive(Debug, Clone, Default)]
pub struct Changed {
    /// JSON texts.
    pub before: Option<String>,
    pub after: Option<String>,
    /// What else the change did (a deactivated user deleted, …).
    pub note: Option<&'static str>,
}

/// Records the request in the audit log when it changed something over SCIM or was refused.
pub async fn track(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let slot = AuditSlot::default();
    req.extensions_mut().insert(slot.clone());
    // Cheap clones (shared buffers): most requests are reads that are not recorded.
    let method = req.method().clone();
    let template = req.extensions().get::<MatchedPath>().cloned();
    let uri = req.uri().clone();
    let request_id = req.headers().get("x-request-id").cloned();
    let start = Instant::now();
    let mut res = next.run(req).await;
    let status = res.status();
    let path = uri.path();
    let template = template.as_ref().map(MatchedPath::as_str);
    let scim = crate::http::routing::scim_prefix(path).is_some();
    let change = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let refused = status.is_client_error() || status.is_server_error();
    // A `.search` is a read sent as POST.
    let read = !change || path.ends_with("/.search");
    if !(refused || (scim && (!read || s.audit_reads))) {
        return res;
    }
    let caller = slot.take();
    let change = res.extensions_mut().remove::<Changed>().unwrap_or_default();
    let location_id = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.rsplit('/').next())
        .map(str::to_string);
    let target = path_id(template, path).or(location_id);
    let operation = if scim {
        scim_operation(&method, template.unwrap_or(path))
    } else {
        format!(
            "http.{} {}",
            method.as_str().to_ascii_lowercase(),
            template.unwrap_or("unmatched")
        )
    };
    s.audit.record(AuditEvent {
        tenant_id: caller.tenant,
        at: now(),
        actor: caller.actor.unwrap_or_else(|| "anonymous".into()),
        operation,
        target,
        outcome: if refused { FAILURE } else { SUCCESS }.into(),
        status: i64::from(status.as_u16()),
        request_id: request_id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        message: res
            .extensions()
            .get::<ErrorMessage>()
            .map(|m| m.0.clone())
            .or(change.note.map(str::to_string)),
        before: change.before,
        after: change.after,
        duration_us: Some(start.elapsed().as_micros().min(i64::MAX as u128) as i64),
        method: Some(method.as_str().to_string()),
        path: Some(path.to_string()),
        ..AuditEvent::default()
    });
    res
}

/// The id segment of a path whose route template ends in `{…}`.
fn path_id(template: Option<&str>, path: &str) -> Option<String> {
    let template = template?;
    if !template.ends_with('}') {
        return None;
    }
    path.rsplit('/').next().map(str::to_string)
}

/// `scim.users.create`, `scim.groups.patch`, `scim.users.search`, `scim.bulk`, …
fn scim_operation(method: &Method, template: &str) -> String {
    let rest =
        crate::http::routing::scim_prefix(template).map_or(template, |p| &template[p.len()..]);
    let resource = rest
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let verb = match (method, rest.ends_with('}')) {
        (&Method::POST, _) if rest.ends_with("/.search") => "search",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "replace",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, _) => "delete",
        (_, true) => "get",
        _ => "list",
    };
    match resource.as_str() {
        "users" | "groups" => format!("scim.{resource}.{verb}"),
        "" | ".search" => format!("scim.{verb}"),
        other => format!("scim.{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_by_resource_and_verb() {
        assert_eq!(
            scim_operation(&Method::POST, "/api/scim/v2/Users"),
            "scim.users.create"
        );
        assert_eq!(
            scim_operation(&Method::PATCH, "/scim/v2/Groups/{id}"),
            "scim.groups.patch"
        );
        assert_eq!(
            scim_operation(&Method::GET, "/api/scim/v2/Users/{id}"),
            "scim.users.get"
        );
        assert_eq!(
            scim_operation(&Method::POST, "/api/scim/v2/Bulk"),
            "scim.bulk"
        );
        assert_eq!(
            path_id(Some("/api/scim/v2/Users/{id}"), "/api/scim/v2/Users/abc"),
            Some("abc".into())
        );
        assert_eq!(
            path_id(Some("/api/scim/v2/Users"), "/api/scim/v2/Users"),
            None
        );
    }
}

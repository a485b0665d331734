//! The admin API's errors: a status, a stable machine-readable code and a sentence an
//! administrator can act on.

use crate::store::StoreError;
use muster_scim::ScimError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct AdminError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

pub type AdminResult<T> = Result<T, AdminError>;

impl AdminError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        AdminError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "conflict", message)
    }
    /// Product rule 6: the identity provider owns this object.
    pub fn owned_by_idp(message: impl Into<String>) -> Self {
        Self::new(409, "owned_by_identity_provider", message)
    }
    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(429, "too_many_attempts", message)
    }
    pub fn internal() -> Self {
        Self::new(
            500,
            "internal",
            "internal error; the server log has details",
        )
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AdminError::not_found("not found"),
            StoreError::VersionMismatch => {
                AdminError::new(412, "precondition_failed", "it has changed; read it again")
            }
            StoreError::Conflict(what) => {
                AdminError::conflict(format!("{what} is already in use in this tenant"))
            }
            StoreError::Scim(e) => e.into(),
            StoreError::Busy => AdminError::new(503, "busy", "the store is busy; retry"),
            StoreError::Unavailable(msg) => {
                tracing::warn!(error = %msg, "database unavailable");
                AdminError::new(503, "unavailable", "the database is unavailable; retry")
            }
            StoreError::Internal(msg) => {
                tracing::error!(error = %msg, "store failure");
                AdminError::internal()
            }
        }
    }
}

impl From<ScimError> for AdminError {
    fn from(e: ScimError) -> Self {
        let code = match (e.status, e.scim_type) {
            (_, Some(t)) => t.as_str(),
            (400, None) => "invalid_request",
            (401, None) => "unauthorized",
            (403, None) => "forbidden",
            (404, None) => "not_found",
            (409, None) => "conflict",
            (413, None) => "too_large",
            (500, None) => "internal",
            _ => "error",
        };
        AdminError::new(e.status, code, e.detail)
    }
}

//! The access API the organisation's products call: `GET /api/access/v1/users/{id-or-userName}`
//! with the product instance's access key answers that user's roles in that instance.

use super::admin::error::AdminApiResult;
use super::audited::AuditSlot;
use super::scim::extract::bearer;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::HeaderMap;
use muster_domain::admin::access::UserAccess;
use muster_domain::admin::error::AdminError;

pub async fn user(
    State(s): State<AppState>,
    slot: Option<Extension<AuditSlot>>,
    headers: HeaderMap,
    Path(user): Path<String>,
) -> AdminApiResult<Json<UserAccess>> {
    let refused = || {
        AdminError::unauthorized("send 'Authorization: Bearer <access key>' of a product instance")
    };
    let secret = bearer(&headers).ok_or_else(refused)?;
    let key = s.key(secret).await?.ok_or_else(refused)?;
    if let Some(Extension(slot)) = slot {
        slot.set(key.tenant_id.clone(), format!("key:{}", key.id));
    }
    Ok(Json(s.admin.access_for_key(&key, &user).await?))
}

//! Signing in and out, and setting a password through a one-time link.

use super::auth::{AdminCaller, SESSION_COOKIE, cookie};
use super::error::{AdminApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use muster_domain::admin::auth::ABSOLUTE_SECONDS;
use muster_domain::admin::error::AdminError;
use muster_domain::admin::service::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The tenant's name or id.
    pub tenant: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub tenant_id: String,
    pub user_id: String,
    /// Send this in `X-CSRF-Token` with every change made through the session cookie.
    pub csrf_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// `operator:<key id>`, `key:<key id>` or `admin:<user id>`.
    pub actor: String,
    /// The one tenant this caller may see; absent for operators.
    pub tenant_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// The secret from the one-time link.
    pub token: String,
    pub password: String,
}

/// Parses a body that carries a password. Its parse errors never quote the input (serde's
/// messages can), so no password reaches an error answer or the audit log.
fn secret_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(body).map_err(|e| {
        AdminError::bad_request(format!(
            "invalid request body at line {} column {}: send a JSON object with the documented fields",
            e.line(),
            e.column()
        ))
    })
}

fn session_cookie(headers: &HeaderMap, state: &AppState, value: &str, max_age: i64) -> String {
    let https = state
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{}",
        if https { "; Secure" } else { "" }
    )
}

/// Signs an administrator in: sets an HttpOnly, SameSite=Strict session cookie and answers
/// the CSRF token. Repeated failures are delayed, doubling each time.
#[utoipa::path(post, path = "/session", tag = "session", request_body = SignIn,
    responses((status = 200, description = "OK", body = SessionView), (status = 401, description = "Not authenticated: no key or session, or a SCIM token", body = ErrorBody), (status = 429, description = "Too many failed attempts; retry later", body = ErrorBody)))]
pub async fn sign_in(
    State(s): State<AppState>,
    slot: Option<axum::extract::Extension<crate::http::audited::AuditSlot>>,
    headers: HeaderMap,
    body: Bytes,
) -> AdminApiResult<Response> {
    let b: SignIn = secret_body(&body)?;
    // A refused sign-in shows in the tenant's audit log (not who tried: that is unproven).
    if let (Some(axum::extract::Extension(slot)), Ok(Some(t))) =
        (slot, s.store.tenant(&b.tenant).await)
    {
        slot.set(Some(t.id), "anonymous".into());
    }
    let (secret, signed) = s.admin.sign_in(&b.tenant, &b.email, &b.password).await?;
    let mut res = Json(SessionView {
        tenant_id: signed.tenant.0,
        user_id: signed.user_id,
        csrf_token: signed.csrf,
    })
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&headers, &s, &secret, ABSOLUTE_SECONDS)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Who the caller is.
#[utoipa::path(get, path = "/session", tag = "session",
    responses((status = 200, description = "OK", body = WhoAmI), (status = 401, description = "Not authenticated: no key or session, or a SCIM token", body = ErrorBody)))]
pub async fn whoami(AdminCaller(who): AdminCaller) -> Json<WhoAmI> {
    Json(WhoAmI {
        actor: who.actor.label(),
        tenant_id: who.actor.scope().map(|t| t.0.clone()),
    })
}

/// Signs out: the session ends on the server and the cookie is cleared.
#[utoipa::path(delete, path = "/session", tag = "session",
    responses((status = 204, description = "Done; no content"), (status = 401, description = "Not authenticated: no key or session, or a SCIM token", body = ErrorBody)))]
pub async fn sign_out(
    State(s): State<AppState>,
    headers: HeaderMap,
    AdminCaller(who): AdminCaller,
) -> AdminApiResult<Response> {
    if !matches!(who.actor, Actor::Admin { .. }) {
        return Err(AdminError::bad_request("only a signed-in session can sign out").into());
    }
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        s.admin.sign_out(secret).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&headers, &s, "", 0)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// Sets an administrator's password with the secret of a one-time link (`muster admin add`).
#[utoipa::path(post, path = "/password", tag = "session", request_body = SetPassword,
    responses((status = 204, description = "Done; no content"), (status = 400, description = "The request is invalid (the message says why)", body = ErrorBody)))]
pub async fn set_password(State(s): State<AppState>, body: Bytes) -> AdminApiResult<StatusCode> {
    let b: SetPassword = secret_body(&body)?;
    s.admin.set_password(&b.token, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /admin/set-password#token=…`: a form that posts the fragment's secret and the new
/// password to `POST /api/admin/v1/password`.
pub async fn set_password_page() -> Response {
    let mut res = Html(SET_PASSWORD_HTML).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The inline script is allowed by its hash and nothing else runs.
    if let Ok(v) = HeaderValue::from_str(&csp()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

fn csp() -> String {
    use base64::Engine;
    use sha2::Digest;
    let start = SET_PASSWORD_HTML
        .find("<script>")
        .map_or(0, |i| i + "<script>".len());
    let end = SET_PASSWORD_HTML.find("</script>").unwrap_or(start);
    let hash = sha2::Sha256::digest(&SET_PASSWORD_HTML.as_bytes()[start..end]);
    format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

const SET_PASSWORD_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>muster — set your password</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:1rem 0 .25rem}input{width:100%;padding:.5rem;font-size:1rem}button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}#msg{margin-top:1rem}</style>
</head><body>
<h1>Set your password</h1>
<p>At least 12 characters. This link works once.</p>
<form id="f"><label for="p1">New password</label><input id="p1" type="password" autocomplete="new-password" required minlength="12">
<label for="p2">Repeat it</label><input id="p2" type="password" autocomplete="new-password" required minlength="12">
<button type="submit">Set password</button></form>
<p id="msg" role="status"></p>
<script>
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
history.replaceState(null, "", location.pathname);
const msg = document.getElementById("msg");
document.getElementById("f").addEventListener("submit", async (e) => {
  e.preventDefault();
  const p1 = document.getElementById("p1").value, p2 = document.getElementById("p2").value;
  if (p1 !== p2) { msg.textContent = "The two passwords differ."; return; }
  const r = await fetch("/api/admin/v1/password", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({token, password: p1})});
  if (r.status === 204) { msg.textContent = "Your password is set. You can sign in now."; document.getElementById("f").remove(); }
  else { const b = await r.json().catch(() => ({})); msg.textContent = b.message || ("Failed: " + r.status); }
});
</script>
</body></html>
"#;

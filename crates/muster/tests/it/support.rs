//! Starting a real server for a test, and a small HTTP client around it.

#![allow(dead_code)]

use muster::state::{AppState, Shared};
use muster_domain::model::{Mode, NewResource, NewToken, TenantId};
use muster_domain::service::Limits;
use muster_domain::store::Store;
use muster_scim::schema::ResourceKind;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::oneshot;

pub const SCIM_JSON: &str = "application/scim+json";

pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub origin: String,
    /// `http://127.0.0.1:PORT/api/scim/v2`
    pub base: String,
    pub token: String,
    pub store: Arc<dyn Store>,
    pub state: AppState,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    /// Declared after the server's fields: the schema is dropped last.
    _pg: Option<crate::backend::PgSchema>,
    stop: Option<oneshot::Sender<()>>,
}

/// A response, with the body parsed as JSON when there is one.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    /// Asserts an RFC 7644 §3.12 error body with this status (and scimType when given).
    #[track_caller]
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
            "{}",
            self.text
        );
        assert_eq!(
            self.body["status"],
            Value::String(status.to_string()),
            "{}",
            self.text
        );
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.text
        );
        match scim_type {
            Some(t) => assert_eq!(self.body["scimType"], t, "{}", self.text),
            None => assert!(self.body.get("scimType").is_none(), "{}", self.text),
        }
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with(SCIM_JSON))
        );
    }
    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_default().to_string()
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(Limits::default()).await
    }

    pub async fn start_with(limits: Limits) -> TestServer {
        Self::start_configured(limits, |_| {}).await
    }

    /// A server whose state `configure` adjusts before it serves.
    pub async fn start_configured(
        limits: Limits,
        configure: impl FnOnce(&mut Shared),
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let (store, pg) = crate::backend::open_store(dir.path()).await;
        let mut state = AppState::new(store.clone(), limits, None);
        configure(state.configure());
        let (tx, rx) = oneshot::channel::<()>();
        let (addr, serve) = muster::server::bind(state.clone(), "127.0.0.1:0", async {
            let _ = rx.await;
        })
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
        tokio::spawn(serve);
        let origin = format!("http://{addr}");
        let mut s = TestServer {
            base: format!("{origin}/api/scim/v2"),
            origin,
            token: String::new(),
            store,
            state,
            client: reqwest::Client::new(),
            _dir: dir,
            _pg: pg,
            stop: Some(tx),
        };
        s.token = s.tenant("test", Mode::Scim).await;
        s
    }

    /// Creates a tenant and returns a token for it.
    pub async fn tenant(&self, name: &str, mode: Mode) -> String {
        let t = self
            .store
            .create_tenant(name, mode)
            .await
            .unwrap_or_else(|e| panic!("tenant: {e}"));
        let g = muster_domain::tokens::generate();
        self.store
            .create_token(
                &t.id,
                &NewToken {
                    id: uuid::Uuid::new_v4().to_string(),
                    hash: g.hash,
                    prefix: g.prefix,
                    connection_id: None,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("token: {e}"));
        g.secret
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends a request with this server's token; `body` is sent as SCIM JSON.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.send_as(&self.token, method, path, body, &[]).await
    }

    pub async fn send_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path));
        if !token.is_empty() {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", SCIM_JSON).body(b.to_string());
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("request: {e}"));
        Self::read(res).await
    }

    pub async fn read(res: reqwest::Response) -> Resp {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a user with this userName and returns its id.
    pub async fn user(&self, user_name: &str) -> String {
        let r = self
            .post(
                "/Users",
                serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user_name,
                    "name": {"givenName": "Given", "familyName": "Family"},
                    "emails": [{"value": user_name, "type": "work", "primary": true}],
                    "active": true
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.id()
    }

    /// Creates a group with these member ids and returns its id.
    pub async fn group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members
            .iter()
            .map(|m| serde_json::json!({"value": m}))
            .collect();
        let r = self
            .post(
                "/Groups",
                serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name,
                    "members": members
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.id()
    }
}

/// Creates `n` users named `{prefix}{i:04}@x.com` straight in the store (faster than over HTTP).
pub async fn store_users(store: &dyn Store, tenant: &TenantId, prefix: &str, n: usize) {
    for i in 0..n {
        let mut data = serde_json::Map::new();
        data.insert(
            "userName".into(),
            Value::String(format!("{prefix}{i:04}@x.com")),
        );
        let new = NewResource {
            data,
            members: Vec::new(),
            class: "scim".into(),
        };
        store
            .create(tenant, ResourceKind::User, new)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// A PatchOp body.
pub fn patch_op(ops: Value) -> Value {
    serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The core User schema URN.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The Enterprise User extension URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Percent-encodes a query-string value (a filter, an attribute list).
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `id`s of a ListResponse's `Resources`, in order.
pub fn ids(r: &Resp) -> Vec<String> {
    strings(r, "id")
}

/// One string attribute of every resource of a ListResponse, in order (missing ones as "").
pub fn strings(r: &Resp, key: &str) -> Vec<String> {
    r.body["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v[key].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

impl TestServer {
    /// Sends a request exactly as given: no body or Content-Type is added, the token (when not
    /// empty) goes in `Authorization: Bearer`.
    pub async fn raw(
        &self,
        token: &str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path));
        if !token.is_empty() {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("request: {e}"));
        Self::read(res).await
    }

    /// POSTs a user body, asserts 201 and returns the answer.
    pub async fn create_user(&self, body: Value) -> Resp {
        let r = self.post("/Users", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r
    }

    /// The `value`s of a group's `members`, in the order served.
    pub async fn member_ids(&self, group: &str) -> Vec<String> {
        self.get_ok(&format!("/Groups/{group}")).await["members"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| m["value"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// GETs every `(tag, path)` at once, each on a task of its own (so that the server sees
    /// them together); answers as they come, with their tags and paths.
    pub async fn get_all<T: Send + 'static>(
        &self,
        reads: Vec<(T, String)>,
    ) -> Vec<(T, String, Resp)> {
        let mut set = tokio::task::JoinSet::new();
        for (tag, path) in reads {
            let (client, url, token) = (self.client.clone(), self.url(&path), self.token.clone());
            set.spawn(async move {
                let res = client
                    .get(url)
                    .header("Authorization", format!("Bearer {token}"))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("request: {e}"));
                (tag, path, TestServer::read(res).await)
            });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            out.push(r.unwrap_or_else(|e| panic!("join: {e}")));
        }
        out
    }

    /// GETs a resource and asserts 200.
    pub async fn get_ok(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        r.body
    }
}

impl TestServer {
    /// Creates another token for an existing tenant and returns its secret.
    pub async fn tenant_token(&self, tenant: &muster_domain::model::TenantId) -> String {
        let g = muster_domain::tokens::generate();
        self.store
            .create_token(
                tenant,
                &NewToken {
                    id: uuid::Uuid::new_v4().to_string(),
                    hash: g.hash,
                    prefix: g.prefix,
                    connection_id: None,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("token: {e}"));
        g.secret
    }
}

/// The admin API as tests drive it.
impl TestServer {
    /// `http://127.0.0.1:PORT/api/admin/v1`
    pub fn admin_base(&self) -> String {
        format!("{}/api/admin/v1", self.origin)
    }

    /// A new operator key's secret (made through the store, as `muster operator key create`
    /// does).
    pub async fn operator_key(&self) -> String {
        self.key(muster_domain::admin::model::KeyScope::Operator, None, None)
            .await
    }

    /// A new admin key of the tenant named `tenant`.
    pub async fn admin_key(&self, tenant: &str) -> String {
        let t = self
            .store
            .tenant_by_name(tenant)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no tenant {tenant}"));
        self.key(
            muster_domain::admin::model::KeyScope::Admin,
            Some(t.id),
            None,
        )
        .await
    }

    async fn key(
        &self,
        scope: muster_domain::admin::model::KeyScope,
        tenant: Option<muster_domain::model::TenantId>,
        instance: Option<String>,
    ) -> String {
        let g = muster_domain::tokens::generate_with("msk_");
        self.store
            .create_key(&muster_domain::admin::model::NewKey {
                id: uuid::Uuid::new_v4().to_string(),
                scope,
                tenant_id: tenant,
                instance_id: instance,
                hash: g.hash,
                prefix: g.prefix,
                name: "test".into(),
            })
            .await
            .unwrap_or_else(|e| panic!("key: {e}"));
        g.secret
    }

    /// Sends an admin API request (`path` relative to `/api/admin/v1`, or a full URL) with this
    /// bearer key (none when empty) and a JSON body.
    pub async fn admin(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.admin_base())
        };
        let mut req = self.client.request(method, url);
        if !key.is_empty() {
            req = req.header("Authorization", format!("Bearer {key}"));
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("request: {e}"));
        Self::read(res).await
    }

    /// Switches a tenant to keep deactivated users (`deactivate: suspend`).
    pub async fn suspend_deactivated(&self, tenant: &str) {
        let t = self
            .store
            .tenant_by_name(tenant)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no tenant {tenant}"));
        let settings = muster_domain::admin::model::TenantSettings {
            deactivate: muster_domain::admin::model::Deactivate::Suspend,
            ..t.settings.clone()
        };
        self.store
            .update_tenant(&t.id, t.mode, &settings)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Waits until audit events recorded so far are stored.
    pub async fn flush_audit(&self) {
        self.state.audit.flush().await;
    }
}

impl Resp {
    /// Asserts an admin API error: this status, a code and a message.
    #[track_caller]
    pub fn assert_admin_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.body["status"], status, "{}", self.text);
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            self.text
        );
    }
}

//! Several stateless muster processes on one PostgreSQL (issue 5): concurrent writes through
//! different nodes lose nothing and race correctly. Runs when MUSTER_TEST_POSTGRES_URL is set.

use crate::backend::postgres_url;
use crate::support::{Resp, TestServer, patch_op};
use muster_domain::model::{Mode, NewToken};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_muster");

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A schema with the store migrated, a tenant and a token, and `n` muster processes on it.
struct Cluster {
    nodes: Vec<Node>,
    token: String,
    client: reqwest::Client,
    schema: crate::backend::PgSchema,
}

fn url_with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    // Named after the schema, like `connect_schema`'s sessions, so they can be found.
    format!("{url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}")
}

fn start_node(db_url: &str, env: &[(&str, &str)]) -> Node {
    let child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", db_url])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    // Owned by a Node at once, so the process is reaped whatever happens next.
    let mut node = Node {
        child,
        base: String::new(),
    };
    let stdout = node
        .child
        .stdout
        .take()
        .unwrap_or_else(|| panic!("no stdout"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100))
            && let Some(url) = line.strip_prefix("SCIM base URL: ")
        {
            node.base = url.trim().to_string();
            return node;
        }
    }
    panic!("node did not start");
}

impl Cluster {
    async fn start(n: usize) -> Option<Cluster> {
        Self::start_with(n, &[]).await
    }

    /// `n` nodes with these environment variables (configuration) set.
    async fn start_with(n: usize, env: &[(&str, &str)]) -> Option<Cluster> {
        let url = postgres_url()?;
        let name = format!("c_{}", uuid::Uuid::new_v4().simple());
        let store = muster_store::PgStore::connect_schema(&url, &name, 2)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let schema = crate::backend::PgSchema::new(url.clone(), name.clone());
        let t = muster_domain::store::Store::create_tenant(&store, "cluster", Mode::Scim)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let g = muster_domain::tokens::generate();
        let nt = NewToken {
            id: uuid::Uuid::new_v4().to_string(),
            hash: g.hash,
            prefix: g.prefix,
            connection_id: None,
        };
        muster_domain::store::Store::create_token(&store, &t.id, &nt)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let db = url_with_schema(&url, &name);
        let nodes = (0..n).map(|_| start_node(&db, env)).collect();
        Some(Cluster {
            nodes,
            token: g.secret,
            client: reqwest::Client::new(),
            schema,
        })
    }

    async fn send(
        &self,
        node: usize,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let base = &self.nodes[node % self.nodes.len()].base;
        let mut req = self
            .client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/scim+json")
                .body(b.to_string());
        }
        TestServer::read(req.send().await.unwrap_or_else(|e| panic!("{e}"))).await
    }
}

fn user_body(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_member_adds_through_three_nodes_lose_none() {
    let Some(c) = Cluster::start(3).await else {
        return;
    };
    let g = c
        .send(
            0,
            Method::POST,
            "/Groups",
            Some(json!({"displayName": "All"})),
            &[],
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.text);
    let gid = g.id();
    let mut users = Vec::new();
    for i in 0..60 {
        let r = c
            .send(
                i,
                Method::POST,
                "/Users",
                Some(user_body(&format!("u{i}@x.com"))),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        users.push(r.id());
    }
    let c = std::sync::Arc::new(c);
    let mut tasks = Vec::new();
    for (i, chunk) in users.chunks(2).enumerate() {
        let c = c.clone();
        let gid = gid.clone();
        let members: Vec<Value> = chunk.iter().map(|u| json!({"value": u})).collect();
        tasks.push(tokio::spawn(async move {
            let body = patch_op(json!([{"op": "add", "path": "members", "value": members}]));
            c.send(i, Method::PATCH, &format!("/Groups/{gid}"), Some(body), &[])
                .await
                .status
        }));
    }
    for t in tasks {
        assert_eq!(
            t.await.unwrap_or_else(|e| panic!("{e}")),
            StatusCode::NO_CONTENT
        );
    }
    let r = c
        .send(1, Method::GET, &format!("/Groups/{gid}"), None, &[])
        .await;
    assert_eq!(
        r.body["members"].as_array().map(Vec::len),
        Some(60),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["meta"]["version"], "W/\"31\"",
        "one version per PATCH"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_user_name_give_one_201() {
    let Some(c) = Cluster::start(3).await else {
        return;
    };
    let c = std::sync::Arc::new(c);
    let names = [
        "Race@X.com",
        "race@x.com",
        "RACE@x.COM",
        "race@X.com",
        "rAce@x.com",
        "racE@x.com",
    ];
    let mut tasks = Vec::new();
    for (i, n) in names.iter().cycle().take(18).enumerate() {
        let c = c.clone();
        let body = user_body(n);
        tasks.push(tokio::spawn(async move {
            c.send(i, Method::POST, "/Users", Some(body), &[]).await
        }));
    }
    let mut created = 0;
    for t in tasks {
        let r = t.await.unwrap_or_else(|e| panic!("{e}"));
        match r.status.as_u16() {
            201 => created += 1,
            409 => assert_eq!(r.body["scimType"], "uniqueness", "{}", r.text),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(created, 1);
    let r = c.send(2, Method::GET, "/Users", None, &[]).await;
    assert_eq!(r.body["totalResults"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn if_match_races_have_exactly_one_winner() {
    let Some(c) = Cluster::start(3).await else {
        return;
    };
    let r = c
        .send(
            0,
            Method::POST,
            "/Users",
            Some(user_body("etag@x.com")),
            &[],
        )
        .await;
    let (id, etag) = (r.id(), r.header("etag").unwrap_or_default());
    let c = std::sync::Arc::new(c);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (c, id, etag) = (c.clone(), id.clone(), etag.clone());
        tasks.push(tokio::spawn(async move {
            let body =
                patch_op(json!([{"op": "replace", "path": "title", "value": format!("t{i}")}]));
            c.send(
                i,
                Method::PATCH,
                &format!("/Users/{id}"),
                Some(body),
                &[("If-Match", &etag)],
            )
            .await
            .status
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap_or_else(|e| panic!("{e}")).as_u16() {
            204 => ok += 1,
            412 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1);
    let r = c
        .send(0, Method::GET, &format!("/Users/{id}"), None, &[])
        .await;
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_mid_request_leaves_no_half_applied_patch() {
    let Some(mut c) = Cluster::start(2).await else {
        return;
    };
    let g = c
        .send(
            0,
            Method::POST,
            "/Groups",
            Some(json!({"displayName": "Big"})),
            &[],
        )
        .await;
    let gid = g.id();
    // Enough users that one PATCH adding them all takes a while.
    let mut members = Vec::new();
    let ops: Vec<Value> = (0..1000)
        .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": user_body(&format!("k{i}@x.com"))}))
        .collect();
    let r = c.send(0, Method::POST, "/Bulk", Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})), &[]).await;
    for op in r.body["Operations"].as_array().cloned().unwrap_or_default() {
        let loc = op["location"].as_str().unwrap_or_default().to_string();
        members.push(json!({"value": loc.rsplit('/').next().unwrap_or_default()}));
    }
    assert_eq!(members.len(), 1000);
    let victim_base = c.nodes[1].base.clone();
    let body = patch_op(json!([{"op": "add", "path": "members", "value": members}]));
    let client = c.client.clone();
    let token = c.token.clone();
    let req = tokio::spawn(async move {
        client
            .patch(format!("{victim_base}/Groups/{gid}"))
            .bearer_auth(token)
            .header("Content-Type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(15)).await;
    let _ = c.nodes[1].child.kill();
    let outcome = req.await.unwrap_or_else(|e| panic!("{e}"));
    let r = c
        .send(0, Method::GET, &format!("/Groups/{}", g.id()), None, &[])
        .await;
    let n = r.body["members"].as_array().map_or(0, Vec::len);
    match outcome {
        Ok(StatusCode::NO_CONTENT) => assert_eq!(n, 1000),
        _ => assert!(n == 0 || n == 1000, "half-applied: {n} members"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_the_database_ended_while_idle_are_replaced_unseen() {
    // Without the token cache every request begins with a query (the token's), which must say
    // "unavailable" too.
    let Some(c) = Cluster::start_with(1, &[("MUSTER_TOKEN_CACHE_SECONDS", "0")]).await else {
        return;
    };
    let r = c.send(0, Method::GET, "/Users", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The request's audit event is written by then: every session of the node is idle.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // What a database restart or an idle-session timeout does to the node's pooled sessions.
    let ended = c.schema.end_sessions().await;
    assert!(ended > 0, "the node held no session");
    // Used at once, a session is not checked first (as under load): the request may meet the
    // ended session, and then says the database is unavailable (503, retry) rather than 500.
    let r = c.send(0, Method::GET, "/Users", None, &[]).await;
    if r.status != StatusCode::OK {
        r.assert_error(503, None);
        assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    }
    // A session idle this long is checked before it is handed out (pings are skipped under load).
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for _ in 0..3 {
        let r = c.send(0, Method::GET, "/Users", None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = c
        .send(
            0,
            Method::POST,
            "/Users",
            Some(user_body("after@x.com")),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

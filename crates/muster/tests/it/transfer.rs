//! `muster export` / `muster import` round trip (ids, versions, memberships and token hashes
//! kept; the IdP's token still works), and `muster backup`.

use crate::support::{TestServer, patch_op};
use muster::state::AppState;
use muster_domain::service::Limits;
use reqwest::StatusCode;
use serde_json::json;
use std::process::Command;

#[tokio::test]
async fn export_then_import_into_a_fresh_store_keeps_everything() {
    let s = TestServer::start().await;
    let ann = s.user("ann@x.com").await;
    let bob = s.user("bob@x.com").await;
    let inner = s.group("Inner", &[&bob]).await;
    let outer = s.group("Outer", &[&ann, &inner]).await;
    s.patch(
        &format!("/Users/{ann}"),
        patch_op(json!([{"op": "replace", "path": "title", "value": "Boss"}])),
    )
    .await;
    let before_ann = s.get(&format!("/Users/{ann}")).await.body;
    let before_outer = s.get(&format!("/Groups/{outer}")).await.body;

    let mut file = Vec::new();
    let (u, g, m) = muster::transfer::export(s.store.as_ref(), "test", &mut file)
        .await
        .unwrap();
    // Groups: Inner, Outer and the tenant's two system groups.
    assert_eq!((u, g, m), (2, 4, 3));

    // Into an empty SQLite store (whatever store the suite runs on, the target is SQLite).
    let dir = tempfile::tempdir().unwrap();
    let target = muster::storage::Location::resolve(Some(dir.path()), None)
        .unwrap()
        .open(2)
        .await
        .unwrap();
    let (name, u2, g2, m2) = muster::transfer::import(target.as_ref(), &mut file.as_slice(), None)
        .await
        .unwrap();
    assert_eq!((name.as_str(), u2, g2, m2), ("test", 2, 4, 3));
    let again = muster::transfer::import(target.as_ref(), &mut file.as_slice(), None).await;
    assert!(again.is_err(), "importing the same tenant twice is refused");

    let state = AppState::new(target, Limits::default(), None);
    let (addr, serve) = muster::server::bind(state, "127.0.0.1:0", std::future::pending())
        .await
        .unwrap();
    tokio::spawn(serve);
    let base = format!("http://{addr}/api/scim/v2");
    let get = |p: String| {
        let c = s.client.clone();
        let t = s.token.clone();
        async move { TestServer::read(c.get(p).bearer_auth(t).send().await.unwrap()).await }
    };
    // The same token (only its hash moved) reads the same resources under the same ids.
    let r = get(format!("{base}/Users/{ann}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let strip = |mut v: serde_json::Value| {
        v["meta"]["location"] = json!(null);
        if let Some(groups) = v["groups"].as_array_mut() {
            groups.iter_mut().for_each(|g| g["$ref"] = json!(null));
        }
        if let Some(members) = v["members"].as_array_mut() {
            members.iter_mut().for_each(|m| m["$ref"] = json!(null));
        }
        v
    };
    assert_eq!(strip(r.body), strip(before_ann));
    let r = get(format!("{base}/Groups/{outer}")).await;
    assert_eq!(strip(r.body), strip(before_outer));
}

#[tokio::test]
async fn backup_writes_a_consistent_copy_while_serving() {
    if crate::backend::postgres_url().is_some() {
        return; // backup is for the SQLite store
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_muster");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .arg("--data")
            .arg(dir.path())
            .env_remove("MUSTER_DATABASE_URL")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(run(&["tenant", "create", "acme"]).0);
    let copy = dir.path().join("copy.db");
    let (ok, _, err) = run(&["backup", copy.to_str().unwrap()]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["backup", copy.to_str().unwrap()]);
    assert!(
        !ok && err.contains("already exists"),
        "never overwrites: {err}"
    );
    let on_copy = |args: &[&str]| {
        Command::new(bin)
            .arg("--database-url")
            .arg(format!("sqlite://{}", copy.display()))
            .args(args)
            .output()
            .unwrap()
    };
    let out = on_copy(&["tenant", "list"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("acme"),
        "the copy opens and holds the data"
    );
    // The audit log is in its own file: the backup copies it beside the directory's copy.
    let out = on_copy(&["audit", "--tenant", "acme", "--json"]);
    assert!(
        dir.path().join("copy.audit.db").exists()
            && String::from_utf8_lossy(&out.stdout).contains("tenant.create"),
        "the copy holds the audit log: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

//! The command-line contract, against the real binary: `serve` prints the SCIM URL, and
//! `tenant`/`token` commands work on the same data directory while it runs.

use crate::support::TestServer;
use reqwest::{Method, StatusCode};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_muster");

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines a child writes to `stream`, as they come (read on a thread of their own).
fn lines(stream: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

pub fn muster(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("MUSTER_DATABASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("run muster: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn serve_prints_the_url_and_cli_manages_tenants_and_tokens_while_it_runs() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        // A revocation by the CLI applies to the server within this many seconds.
        .env("MUSTER_TOKEN_CACHE_SECONDS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let rx = lines(child.stdout.take().unwrap_or_else(|| panic!("no stdout")));
    let _guard = Serve(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut base = None;
    while base.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && let Some(url) = line.strip_prefix("SCIM base URL: ")
        {
            base = Some(url.trim().to_string());
        }
    }
    let base = base.unwrap_or_else(|| panic!("serve never printed 'SCIM base URL: …'"));
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/scim/v2"),
        "{base}"
    );

    let (ok, id, err) = muster(dir.path(), &["tenant", "create", "acme"]);
    assert!(ok, "{err}");
    assert_eq!(id.trim().len(), 36, "prints the tenant id: {id}");
    let (ok, _, err) = muster(dir.path(), &["tenant", "create", "ACME"]);
    assert!(!ok && err.contains("already exists"), "{err}");

    let (ok, out, err) = muster(dir.path(), &["token", "create", "--tenant", "acme"]);
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap_or_default().trim().to_string();
    assert!(token.starts_with("mst_"), "{out}");

    let client = reqwest::Client::new();
    let users = format!("{base}/Users");
    let res = client
        .get(&users)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(res.status(), StatusCode::OK);
    // Okta's header auth sends the token as the whole Authorization value.
    let res = client
        .get(&users)
        .header("Authorization", &token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(res.status(), StatusCode::OK);

    let (ok, list, _) = muster(dir.path(), &["token", "list", "--tenant", "acme"]);
    assert!(
        ok && list.contains("active") && !list.contains(&token),
        "lists without the secret: {list}"
    );
    let prefix = &token[..10];
    assert!(list.contains(prefix), "{list}");
    let (ok, _, err) = muster(dir.path(), &["token", "revoke", prefix]);
    assert!(ok, "{err}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let res = client
        .request(Method::GET, &users)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let res = TestServer::read(res).await;
    res.assert_error(401, None);
    let (ok, _, err) = muster(dir.path(), &["token", "create", "--tenant", "nobody"]);
    assert!(!ok && err.contains("no tenant"), "{err}");
}

/// Logs on a pipe or in a file are plain text: terminal colour codes only on a terminal.
#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .env_remove("MUSTER_DATABASE_URL")
        .env_remove("NO_COLOR")
        .env("MUSTER_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let rx = lines(child.stderr.take().unwrap_or_else(|| panic!("no stderr")));
    let _guard = Serve(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let done = line.contains("serving");
            seen.push(line);
            if done {
                break;
            }
        }
    }
    let log = seen.join("\n");
    assert!(log.contains("serving"), "no 'serving' line: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a piped log: {log:?}"
    );
}

#[test]
fn config_precedence_is_defaults_file_environment_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("muster.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9000\"\n[limits]\nmax_page_size = 50\ndefault_page_size = 40\n",
    )
    .unwrap();
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&file)
            .args(args)
            .args(["config", "check"]);
        cmd.env_remove("MUSTER_DATABASE_URL")
            .env_remove("MUSTER_DATA");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, _) = run(&[], &[]);
    assert!(
        ok && out.contains("listen = \"127.0.0.1:9000\"") && out.contains("max_page_size = 50"),
        "{out}"
    );
    let (ok, out, _) = run(
        &[
            ("MUSTER_LIMITS__DEFAULT_PAGE_SIZE", "20"),
            ("MUSTER_DATABASE_URL", "postgres://me:secret@db/muster"),
        ],
        &[],
    );
    assert!(
        ok && out.contains("default_page_size = 20"),
        "env beats file: {out}"
    );
    assert!(
        out.contains("postgres://me:***@db/muster") && !out.contains("secret"),
        "password hidden: {out}"
    );
    let (ok, out, _) = run(&[("MUSTER_DATA", "/from/env")], &["--data", "/from/flag"]);
    assert!(ok && out.contains("/from/flag"), "flags beat env: {out}");
    std::fs::write(&file, "listn = \"x\"\n").unwrap();
    let (ok, _, err) = run(&[], &[]);
    assert!(
        !ok && err.contains("listn"),
        "unknown keys are errors: {err}"
    );
}

//! The operator's commands for the admin side, against the real binary: keys and links are
//! printed alone on the last line, tenants switch modes with an explanation, tokens rotate,
//! and the audit log reads back what happened.

use crate::cli::muster;

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or_default().trim().to_string()
}

#[test]
fn admin_operator_tenant_token_and_audit_commands() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, _, err) = muster(d, &["tenant", "create", "acme"]);
    assert!(ok, "{err}");
    assert!(err.contains("Everyone"), "{err}");

    let (ok, out, err) = muster(
        d,
        &["admin", "key", "create", "--tenant", "acme", "--name", "ci"],
    );
    assert!(ok, "{err}");
    let admin_key = last_line(&out);
    assert!(admin_key.starts_with("msa_"), "{out}");
    let (ok, out, _) = muster(d, &["admin", "key", "list", "--tenant", "acme"]);
    assert!(ok && out.contains("admin") && out.contains("ci"), "{out}");
    assert!(!out.contains(&admin_key), "secrets are never listed: {out}");

    let (ok, out, err) = muster(d, &["operator", "key", "create"]);
    assert!(ok, "{err}");
    let operator = last_line(&out);
    assert!(operator.starts_with("mso_"), "{out}");
    let (ok, out, _) = muster(d, &["operator", "key", "list"]);
    assert!(
        ok && !out.contains(&operator),
        "secrets are never listed: {out}"
    );

    let (ok, out, err) = muster(
        d,
        &[
            "admin",
            "add",
            "--tenant",
            "acme",
            "--email",
            "boss@acme.com",
        ],
    );
    assert!(ok, "{err}");
    let link = last_line(&out);
    assert!(link.contains("/admin/set-password#token=msp_"), "{link}");
    assert!(err.contains("boss@acme.com"), "{err}");

    let (ok, out, err) = muster(
        d,
        &[
            "tenant",
            "set",
            "acme",
            "--mode",
            "jit",
            "--deactivate",
            "suspend",
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("from scim to jit") && out.contains("403"),
        "{out}"
    );
    assert!(out.contains("kept, inactive"), "{out}");
    let (ok, out, _) = muster(d, &["tenant", "show", "acme"]);
    assert!(
        ok && out.contains("\"jit\"") && out.contains("suspend"),
        "{out}"
    );
    let (ok, _, err) = muster(d, &["tenant", "set", "acme", "--mode", "bogus"]);
    assert!(!ok && err.contains("bogus"), "{err}");

    let (ok, out, err) = muster(d, &["token", "create", "--tenant", "acme"]);
    assert!(ok, "{err}");
    let first = last_line(&out);
    assert!(
        err.contains("aadOptscim062020"),
        "the Entra tenant URL is printed: {err}"
    );
    let (_, list, _) = muster(d, &["token", "list", "--tenant", "acme"]);
    let prefix: String = first.chars().take(10).collect();
    assert!(list.contains(&prefix), "{list}");
    let (ok, out, err) = muster(
        d,
        &[
            "token",
            "rotate",
            "--tenant",
            "acme",
            &prefix,
            "--overlap",
            "60",
        ],
    );
    assert!(ok, "{err}");
    assert!(last_line(&out).starts_with("mst_") && last_line(&out) != first);
    assert!(err.contains("works until"), "{err}");
    let (_, list, _) = muster(d, &["token", "list", "--tenant", "acme"]);
    let old = list
        .lines()
        .find(|l| l.contains(&prefix))
        .unwrap_or_default();
    assert!(
        old.contains("expiring 20"),
        "the rotated token is expiring: {list}"
    );

    let (ok, out, err) = muster(d, &["audit", "--tenant", "acme", "--since", "1h"]);
    assert!(ok, "{err}");
    for op in [
        "admin.tenant.create",
        "admin.key.create.admin",
        "admin.administrator.add",
        "admin.tenant.update",
        "admin.token.create",
        "admin.token.rotate",
    ] {
        assert!(out.contains(op), "{op} missing from:\n{out}");
    }
    assert!(out.lines().skip(1).all(|l| l.contains("\tcli\t")), "{out}");
    for secret in [&first, &operator, &admin_key] {
        assert!(
            !out.contains(secret.as_str()),
            "a secret reached the audit log"
        );
    }
    let (ok, json, _) = muster(d, &["audit", "--tenant", "acme", "--json", "--limit", "2"]);
    assert!(ok);
    assert_eq!(json.lines().count(), 2, "{json}");
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["outcome"], "success");
    }
    let (ok, out, _) = muster(d, &["audit", "--tenant", "acme", "--failed"]);
    assert!(ok);
    assert_eq!(
        out.lines().count(),
        1,
        "only the header: no failures yet:\n{out}"
    );
    let (ok, _, err) = muster(d, &["audit", "--tenant", "acme", "--since", "yesterday"]);
    assert!(!ok && err.contains("--since"), "{err}");
}

#[test]
fn openapi_command_prints_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = muster(dir.path(), &["openapi"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["paths"]["/tenants"].is_object());
}

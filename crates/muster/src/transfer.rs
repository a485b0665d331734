//! `muster export` / `muster import`: one tenant as JSON lines (tenant, tokens' hashes, users,
//! groups, memberships), with ids, timestamps and versions kept, so a tenant moves between
//! stores (SQLite ⇄ PostgreSQL) without its identity providers noticing.

use anyhow::{Context, bail};
use muster_domain::model::{Load, MemberRef, Mode, Stored, Tenant, TenantId, TokenInfo};
use muster_domain::store::{ListQuery, PageReq, Store};
use muster_scim::schema::ResourceKind;
use serde_json::{Value, json};
use std::io::{BufRead, Write};

pub const FORMAT: &str = "muster-export";
pub const FORMAT_VERSION: u64 = 1;
const PAGE: u64 = 1000;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

fn kind_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "user",
        ResourceKind::Group => "group",
    }
}

/// Writes one tenant; returns (users, groups, memberships) written.
pub async fn export(
    store: &dyn Store,
    tenant: &str,
    out: &mut dyn Write,
) -> anyhow::Result<(u64, u64, u64)> {
    let t = store
        .tenant_by_name(tenant)
        .await?
        .with_context(|| format!("no tenant named '{tenant}'"))?;
    writeln!(
        out,
        "{}",
        json!({"kind": FORMAT, "version": FORMAT_VERSION})
    )?;
    writeln!(
        out,
        "{}",
        json!({"kind": "tenant", "id": t.id.0, "name": t.name, "mode": t.mode.as_str(), "created": t.created,
               "settings": t.settings})
    )?;
    for (k, hash) in store.export_tokens(&t.id).await? {
        writeln!(
            out,
            "{}",
            json!({"kind": "token", "id": k.id, "prefix": k.prefix, "created": k.created,
                   "lastUsed": k.last_used, "revoked": k.revoked, "hash": hex(&hash),
                   "connection": k.connection_id, "expiresAt": k.expires_at})
        )?;
    }
    let mut counts = [0u64; 3];
    for (i, kind) in [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .enumerate()
    {
        let mut cursor = None;
        loop {
            let q = ListQuery {
                filter: None,
                sort: None,
                descending: false,
                page: PageReq::Cursor {
                    cursor: cursor.clone(),
                    count: PAGE,
                },
                load: Load {
                    members: kind == ResourceKind::Group,
                    ..Load::default()
                },
            };
            let page = store.list(&t.id, kind, &q).await?;
            for s in &page.items {
                counts[i] += 1;
                writeln!(
                    out,
                    "{}",
                    json!({"kind": kind_name(kind), "id": s.id, "created": s.created,
                           "lastModified": s.last_modified, "version": s.version, "class": s.class,
                           "data": s.data})
                )?;
                for chunk in s
                    .members
                    .as_deref()
                    .unwrap_or_default()
                    .chunks(PAGE as usize)
                {
                    counts[2] += chunk.len() as u64;
                    let members: Vec<Value> = chunk
                        .iter()
                        .map(|m| json!({"id": m.id, "type": if m.kind == ResourceKind::Group { "Group" } else { "User" }}))
                        .collect();
                    writeln!(
                        out,
                        "{}",
                        json!({"kind": "members", "group": s.id, "members": members})
                    )?;
                }
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    out.flush()?;
    Ok((counts[0], counts[1], counts[2]))
}

fn text<'a>(v: &'a Value, key: &str, line: usize) -> anyhow::Result<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .with_context(|| format!("line {line}: missing '{key}'"))
}

/// Reads an export into `store`; `rename` gives the tenant another name. Memberships are
/// applied after every resource exists.
pub async fn import(
    store: &dyn Store,
    input: &mut dyn BufRead,
    rename: Option<&str>,
) -> anyhow::Result<(String, u64, u64, u64)> {
    let mut tenant: Option<TenantId> = None;
    let mut name = String::new();
    let mut memberships: Vec<(String, Vec<MemberRef>)> = Vec::new();
    let mut counts = [0u64; 3];
    for (n, line) in input.lines().enumerate() {
        let line_no = n + 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(&line).with_context(|| format!("line {line_no}: not JSON"))?;
        let kind = text(&v, "kind", line_no)?;
        if line_no == 1 {
            if kind != FORMAT || v.get("version").and_then(Value::as_u64) != Some(FORMAT_VERSION) {
                bail!("not a {FORMAT} version {FORMAT_VERSION} file");
            }
            continue;
        }
        let t = match (kind, &tenant) {
            ("tenant", None) => {
                name = rename.map_or_else(
                    || text(&v, "name", line_no).map(str::to_string),
                    |r| Ok(r.to_string()),
                )?;
                let t = Tenant {
                    id: TenantId(text(&v, "id", line_no)?.to_string()),
                    name: name.clone(),
                    mode: Mode::parse(text(&v, "mode", line_no)?).context("unknown mode")?,
                    settings: v
                        .get("settings")
                        .map(|s| serde_json::from_value(s.clone()))
                        .transpose()
                        .with_context(|| format!("line {line_no}: bad settings"))?
                        .unwrap_or_default(),
                    created: text(&v, "created", line_no)?.to_string(),
                };
                store
                    .import_tenant(&t)
                    .await
                    .with_context(|| format!("tenant '{name}' (or its id) already exists"))?;
                tenant = Some(t.id);
                continue;
            }
            ("tenant", Some(_)) => bail!("line {line_no}: a second tenant"),
            (_, None) => bail!("line {line_no}: the tenant line must come first"),
            (_, Some(t)) => t.clone(),
        };
        match kind {
            "token" => {
                let hash = unhex(text(&v, "hash", line_no)?)
                    .with_context(|| format!("line {line_no}: bad hash"))?;
                let revoked = v.get("revoked").and_then(Value::as_bool).unwrap_or(false);
                let info = TokenInfo {
                    id: text(&v, "id", line_no)?.to_string(),
                    tenant_id: t.clone(),
                    prefix: text(&v, "prefix", line_no)?.to_string(),
                    created: text(&v, "created", line_no)?.to_string(),
                    last_used: v
                        .get("lastUsed")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    revoked,
                    connection_id: v
                        .get("connection")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    expires_at: v
                        .get("expiresAt")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                };
                let revoked_at = revoked.then(|| info.created.clone());
                store
                    .import_token(&info, &hash, revoked_at.as_deref())
                    .await?;
            }
            "user" | "group" => {
                let rk = if kind == "user" {
                    ResourceKind::User
                } else {
                    ResourceKind::Group
                };
                let s = Stored {
                    id: text(&v, "id", line_no)?.to_string(),
                    data: v
                        .get("data")
                        .and_then(Value::as_object)
                        .cloned()
                        .with_context(|| format!("line {line_no}: missing 'data'"))?,
                    raw: None,
                    created: text(&v, "created", line_no)?.to_string(),
                    last_modified: text(&v, "lastModified", line_no)?.to_string(),
                    version: v.get("version").and_then(Value::as_i64).unwrap_or(1),
                    members: None,
                    groups: None,
                    // Exports made before sources and kinds existed held only SCIM resources.
                    class: v
                        .get("class")
                        .and_then(Value::as_str)
                        .unwrap_or(muster_domain::model::class::SCIM)
                        .to_string(),
                };
                store
                    .import_resource(&t, rk, &s)
                    .await
                    .with_context(|| format!("line {line_no}: {kind} {}", s.id))?;
                counts[if rk == ResourceKind::User { 0 } else { 1 }] += 1;
            }
            "members" => {
                let group = text(&v, "group", line_no)?.to_string();
                let members = v
                    .get("members")
                    .and_then(Value::as_array)
                    .with_context(|| format!("line {line_no}: missing 'members'"))?
                    .iter()
                    .filter_map(|m| {
                        let id = m.get("id")?.as_str()?.to_string();
                        let kind = if m.get("type").and_then(Value::as_str) == Some("Group") {
                            ResourceKind::Group
                        } else {
                            ResourceKind::User
                        };
                        Some(MemberRef {
                            id,
                            kind,
                            display: None,
                        })
                    })
                    .collect();
                memberships.push((group, members));
            }
            other => bail!("line {line_no}: unknown kind '{other}'"),
        }
    }
    let t = tenant.context("the file has no tenant")?;
    for (group, members) in memberships {
        counts[2] += members.len() as u64;
        store
            .import_members(&t, &group, &members)
            .await
            .with_context(|| format!("members of group {group}"))?;
    }
    Ok((name, counts[0], counts[1], counts[2]))
}

//! Users and groups on SQLite.

use super::{SqliteDialect, SqliteStore, internal, is_unique, now, query};
use crate::row::{name_field, promote};
use crate::sql::{Sql, emit_cond, emit_order, table};
use muster_domain::model::{GroupRef, Load, MemberRef, NewResource, Stored, TenantId};
use muster_domain::store::{ListPage, ListQuery, Mutation, PageReq, StoreError, StoreResult};
use muster_scim::ScimError;
use muster_scim::eval::{Scope, matches};
use muster_scim::patch::MemberChange;
use muster_scim::schema::{GROUP, ResourceKind};
use serde_json::{Map, Value};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use std::collections::HashMap;

/// Ids per `IN (…)` list: well under SQLite's bound-parameter limit.
const CHUNK: usize = 500;

const COLUMNS: &str = "r.seq, r.id, r.data, r.created, r.last_modified, r.version";

type Sq = Sql<SqliteDialect>;

fn stored(row: &SqliteRow) -> StoreResult<(i64, Stored)> {
    let data: String = row.try_get("data").map_err(internal)?;
    let data: Map<String, Value> = serde_json::from_str(&data).map_err(internal)?;
    Ok((
        row.try_get("seq").map_err(internal)?,
        Stored {
            id: row.try_get("id").map_err(internal)?,
            data,
            created: row.try_get("created").map_err(internal)?,
            last_modified: row.try_get("last_modified").map_err(internal)?,
            version: row.try_get("version").map_err(internal)?,
            members: None,
            groups: None,
        },
    ))
}

fn kind_code(kind: ResourceKind) -> i64 {
    match kind {
        ResourceKind::User => 0,
        ResourceKind::Group => 1,
    }
}

impl SqliteStore {
    pub(crate) async fn create_resource(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        new: NewResource,
    ) -> StoreResult<Stored> {
        let id = uuid::Uuid::new_v4().to_string();
        let created = now();
        let p = promote(kind, &new.data)?;
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(internal)?;
        let q = match kind {
            ResourceKind::User => sqlx::query(
                "INSERT INTO users (tenant_id, id, user_name, name_norm, external_id, active, display, data, search, created, last_modified, version) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            )
            .bind(&t.0)
            .bind(&id)
            .bind(&p.name)
            .bind(&p.name_norm)
            .bind(&p.external_id)
            .bind(p.active)
            .bind(&p.display),
            ResourceKind::Group => sqlx::query(
                "INSERT INTO groups (tenant_id, id, display_name, name_norm, external_id, data, search, created, last_modified, version) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            )
            .bind(&t.0)
            .bind(&id)
            .bind(&p.name)
            .bind(&p.name_norm)
            .bind(&p.external_id),
        };
        let r = q
            .bind(&p.data)
            .bind(&p.search)
            .bind(&created)
            .bind(&created)
            .execute(&mut *tx)
            .await;
        match r {
            Ok(_) => {}
            Err(e) if is_unique(&e) => return Err(StoreError::Conflict(name_field(kind).into())),
            Err(e) => return Err(internal(e)),
        }
        if kind == ResourceKind::Group && !new.members.is_empty() {
            add_members(&mut tx, t, &id, &new.members).await?;
        }
        tx.commit().await.map_err(internal)?;
        Ok(Stored {
            id,
            data: new.data,
            last_modified: created.clone(),
            created,
            version: 1,
            members: None,
            groups: None,
        })
    }

    pub(crate) async fn get_resource(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        load: Load,
    ) -> StoreResult<Stored> {
        let mut conn = self.reader.acquire().await.map_err(internal)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM {} r WHERE r.tenant_id = ? AND r.id = ?",
            table(kind).name
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&t.0)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        let (_, mut s) = stored(&row)?;
        load_extras(&mut conn, t, kind, std::slice::from_mut(&mut s), load).await?;
        Ok(s)
    }

    pub(crate) async fn update_resource(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<i64>,
        load: Load,
        mutate: Mutation<'_>,
    ) -> StoreResult<Stored> {
        let tbl = table(kind).name;
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(internal)?;
        let sql = format!("SELECT {COLUMNS} FROM {tbl} r WHERE r.tenant_id = ? AND r.id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&t.0)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(internal)?
            .ok_or(StoreError::NotFound)?;
        let (seq, mut current) = stored(&row)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(StoreError::VersionMismatch);
        }
        let update = mutate(&current)?;
        let data_changed = update.data != current.data;
        let members_changed = !update.members.is_empty();
        for change in &update.members {
            apply_member_change(&mut tx, t, id, change).await?;
        }
        if data_changed || members_changed {
            let modified = now();
            let version = current.version + 1;
            let r = if data_changed {
                let p = promote(kind, &update.data)?;
                match kind {
                    ResourceKind::User => sqlx::query(
                        "UPDATE users SET user_name = ?, name_norm = ?, external_id = ?, active = ?, display = ?, \
                         data = ?, search = ?, last_modified = ?, version = ? WHERE seq = ?",
                    )
                    .bind(p.name)
                    .bind(p.name_norm)
                    .bind(p.external_id)
                    .bind(p.active)
                    .bind(p.display),
                    ResourceKind::Group => sqlx::query(
                        "UPDATE groups SET display_name = ?, name_norm = ?, external_id = ?, \
                         data = ?, search = ?, last_modified = ?, version = ? WHERE seq = ?",
                    )
                    .bind(p.name)
                    .bind(p.name_norm)
                    .bind(p.external_id),
                }
                .bind(p.data)
                .bind(p.search)
                .bind(&modified)
                .bind(version)
                .bind(seq)
                .execute(&mut *tx)
                .await
            } else {
                // A member change bumps the group's version only: its document is untouched.
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {tbl} SET last_modified = ?, version = ? WHERE seq = ?"
                )))
                .bind(&modified)
                .bind(version)
                .bind(seq)
                .execute(&mut *tx)
                .await
            };
            match r {
                Ok(_) => {}
                Err(e) if is_unique(&e) => {
                    return Err(StoreError::Conflict(name_field(kind).into()));
                }
                Err(e) => return Err(internal(e)),
            }
            current.data = update.data;
            current.version = version;
            current.last_modified = modified;
        }
        tx.commit().await.map_err(internal)?;
        if load != Load::default() {
            let mut conn = self.reader.acquire().await.map_err(internal)?;
            load_extras(&mut conn, t, kind, std::slice::from_mut(&mut current), load).await?;
        }
        Ok(current)
    }

    pub(crate) async fn delete_resource(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<i64>,
    ) -> StoreResult<()> {
        let tbl = table(kind).name;
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(internal)?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT seq, version FROM {tbl} WHERE tenant_id = ? AND id = ?"
        )))
        .bind(&t.0)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(internal)?
        .ok_or(StoreError::NotFound)?;
        let seq: i64 = row.try_get("seq").map_err(internal)?;
        let version: i64 = row.try_get("version").map_err(internal)?;
        if if_match.is_some_and(|v| v != version) {
            return Err(StoreError::VersionMismatch);
        }
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {tbl} WHERE seq = ?")))
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        sqlx::query("DELETE FROM group_members WHERE tenant_id = ? AND member_id = ?")
            .bind(&t.0)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        if kind == ResourceKind::Group {
            sqlx::query("DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?")
                .bind(&t.0)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }

    pub(crate) async fn list_resources(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        q: &ListQuery,
    ) -> StoreResult<ListPage> {
        let tbl = table(kind).name;
        let mut conn = self.reader.acquire().await.map_err(internal)?;
        let mut filter = Sq::new(" WHERE r.tenant_id = ");
        filter.text(t.0.clone());
        if let Some(c) = &q.filter {
            filter.push(" AND ");
            emit_cond(&mut filter, c);
        }
        let mut count = Sq::new(&format!("SELECT COUNT(*) AS n FROM {tbl} r"));
        count.push(&filter.text);
        count.binds = filter.binds.clone();
        let total: i64 = query(&count)
            .fetch_one(&mut *conn)
            .await
            .map_err(internal)?
            .try_get("n")
            .map_err(internal)?;

        let (limit, offset, after_seq) = match &q.page {
            PageReq::Index { start, count } => (*count, start.saturating_sub(1), None),
            PageReq::Cursor { cursor, count } => {
                match cursor.as_deref().map(decode_cursor).transpose()? {
                    None => (*count, 0, None),
                    Some(Cursor::Offset(o)) => (*count, o, None),
                    Some(Cursor::After(seq)) => (*count, 0, Some(seq)),
                }
            }
        };
        let mut items = Vec::new();
        let mut more = false;
        if limit > 0 {
            let mut sql = Sq::new(&format!("SELECT {COLUMNS} FROM {tbl} r"));
            sql.push(&filter.text);
            sql.binds = filter.binds.clone();
            if let Some(seq) = after_seq {
                sql.push(if q.descending {
                    " AND r.seq < "
                } else {
                    " AND r.seq > "
                });
                sql.bind(crate::sql::Bind::Int(seq));
            }
            emit_order(&mut sql, q.sort.as_ref(), q.descending);
            sql.push(" LIMIT ");
            sql.bind(crate::sql::Bind::Int(
                i64::try_from(limit + 1).unwrap_or(i64::MAX),
            ));
            if offset > 0 {
                sql.push(" OFFSET ");
                sql.bind(crate::sql::Bind::Int(
                    i64::try_from(offset).unwrap_or(i64::MAX),
                ));
            }
            let rows = query(&sql).fetch_all(&mut *conn).await.map_err(internal)?;
            more = rows.len() as u64 > limit;
            for row in rows.iter().take(limit as usize) {
                items.push(stored(row)?);
            }
        }
        let next_cursor = match (&q.page, more) {
            (PageReq::Cursor { .. }, true) => Some(if q.sort.is_none() {
                format!("s{}", items.last().map(|(seq, _)| *seq).unwrap_or_default())
            } else {
                format!("o{}", offset + items.len() as u64)
            }),
            _ => None,
        };
        let mut items: Vec<Stored> = items.into_iter().map(|(_, s)| s).collect();
        load_extras(&mut conn, t, kind, &mut items, q.load).await?;
        Ok(ListPage {
            items,
            total: total as u64,
            next_cursor,
        })
    }
}

enum Cursor {
    After(i64),
    Offset(u64),
}

fn decode_cursor(c: &str) -> StoreResult<Cursor> {
    let bad = || {
        StoreError::Scim(ScimError::bad_request(
            muster_scim::ScimType::InvalidCursor,
            format!("cursor \"{c}\" was not issued by this server"),
        ))
    };
    let (tag, n) = c.split_at_checked(1).ok_or_else(bad)?;
    match tag {
        "s" => n.parse().map(Cursor::After).map_err(|_| bad()),
        "o" => n.parse().map(Cursor::Offset).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Loads members (groups) or direct groups (users) for a page of resources, in one query per chunk.
async fn load_extras(
    conn: &mut SqliteConnection,
    t: &TenantId,
    kind: ResourceKind,
    items: &mut [Stored],
    load: Load,
) -> StoreResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = items.iter().map(|s| s.id.clone()).collect();
    match kind {
        ResourceKind::Group if load.members => {
            let mut by_group = load_members(conn, t, &ids).await?;
            for s in items.iter_mut() {
                s.members = Some(by_group.remove(&s.id).unwrap_or_default());
            }
        }
        ResourceKind::User if load.groups => {
            let mut by_user: HashMap<String, Vec<GroupRef>> = HashMap::new();
            for chunk in ids.chunks(CHUNK) {
                let mut sql = Sq::new(
                    "SELECT m.member_id, g.id, g.display_name FROM group_members m \
                     JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id WHERE m.tenant_id = ",
                );
                sql.text(t.0.clone())
                    .push(" AND m.member_id IN ")
                    .text_list(chunk)
                    .push(" ORDER BY g.name_norm");
                for row in query(&sql).fetch_all(&mut *conn).await.map_err(internal)? {
                    let member: String = row.try_get(0).map_err(internal)?;
                    by_user.entry(member).or_default().push(GroupRef {
                        id: row.try_get(1).map_err(internal)?,
                        display: row.try_get(2).map_err(internal)?,
                    });
                }
            }
            for s in items.iter_mut() {
                s.groups = Some(by_user.remove(&s.id).unwrap_or_default());
            }
        }
        _ => {}
    }
    Ok(())
}

async fn load_members(
    conn: &mut SqliteConnection,
    t: &TenantId,
    group_ids: &[String],
) -> StoreResult<HashMap<String, Vec<MemberRef>>> {
    let mut out: HashMap<String, Vec<MemberRef>> = HashMap::new();
    for chunk in group_ids.chunks(CHUNK) {
        let mut sql = Sq::new(
            "SELECT m.group_id, m.member_id, m.member_kind, COALESCE(u.display, g.display_name) FROM group_members m \
             LEFT JOIN users u ON m.member_kind = 0 AND u.tenant_id = m.tenant_id AND u.id = m.member_id \
             LEFT JOIN groups g ON m.member_kind = 1 AND g.tenant_id = m.tenant_id AND g.id = m.member_id \
             WHERE m.tenant_id = ",
        );
        sql.text(t.0.clone())
            .push(" AND m.group_id IN ")
            .text_list(chunk);
        for row in query(&sql).fetch_all(&mut *conn).await.map_err(internal)? {
            let group: String = row.try_get(0).map_err(internal)?;
            let kind: i64 = row.try_get(2).map_err(internal)?;
            out.entry(group).or_default().push(MemberRef {
                id: row.try_get(1).map_err(internal)?,
                kind: if kind == 1 {
                    ResourceKind::Group
                } else {
                    ResourceKind::User
                },
                display: row.try_get(3).map_err(internal)?,
            });
        }
    }
    Ok(out)
}

async fn apply_member_change(
    conn: &mut SqliteConnection,
    t: &TenantId,
    group: &str,
    change: &MemberChange,
) -> StoreResult<()> {
    let ids_of = |members: &[Value]| -> Vec<String> {
        members
            .iter()
            .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    match change {
        MemberChange::Add(members) => add_members(conn, t, group, &ids_of(members)).await,
        MemberChange::Replace(members) => {
            remove_all(conn, t, group).await?;
            add_members(conn, t, group, &ids_of(members)).await
        }
        MemberChange::RemoveAll => remove_all(conn, t, group).await,
        MemberChange::Remove(ids) => remove_members(conn, t, group, ids).await,
        MemberChange::RemoveMatching(filter) => {
            let members = load_members(conn, t, &[group.to_string()])
                .await?
                .remove(group)
                .unwrap_or_default();
            let members_attr = GROUP
                .attr("members")
                .ok_or_else(|| internal("no members attribute"))?;
            let mut doomed = Vec::new();
            for m in members {
                let mut obj = Map::new();
                obj.insert("value".into(), Value::String(m.id.clone()));
                obj.insert(
                    "type".into(),
                    Value::String(
                        if m.kind == ResourceKind::Group {
                            "Group"
                        } else {
                            "User"
                        }
                        .into(),
                    ),
                );
                if let Some(d) = m.display {
                    obj.insert("display".into(), Value::String(d));
                }
                if matches(Scope::Element(members_attr), filter, &obj)? {
                    doomed.push(m.id);
                }
            }
            remove_members(conn, t, group, &doomed).await
        }
    }
}

async fn remove_all(conn: &mut SqliteConnection, t: &TenantId, group: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?")
        .bind(&t.0)
        .bind(group)
        .execute(&mut *conn)
        .await
        .map_err(internal)?;
    Ok(())
}

async fn remove_members(
    conn: &mut SqliteConnection,
    t: &TenantId,
    group: &str,
    ids: &[String],
) -> StoreResult<()> {
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sq::new("DELETE FROM group_members WHERE tenant_id = ");
        sql.text(t.0.clone())
            .push(" AND group_id = ")
            .text(group)
            .push(" AND member_id IN ")
            .text_list(chunk);
        query(&sql).execute(&mut *conn).await.map_err(internal)?;
    }
    Ok(())
}

/// Adds members after checking every id is a user or group of this tenant (product rule 12):
/// an unknown id fails the whole request and names the id.
async fn add_members(
    conn: &mut SqliteConnection,
    t: &TenantId,
    group: &str,
    ids: &[String],
) -> StoreResult<()> {
    let mut unique: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(id.clone());
        }
    }
    if unique.iter().any(|id| id == group) {
        return Err(StoreError::Scim(ScimError::invalid_value(format!(
            "group {group} cannot be a member of itself"
        ))));
    }
    for chunk in unique.chunks(CHUNK) {
        let mut sql = Sq::new("SELECT id, 0 FROM users WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND id IN ").text_list(chunk);
        sql.push(" UNION ALL SELECT id, 1 FROM groups WHERE tenant_id = ")
            .text(t.0.clone())
            .push(" AND id IN ")
            .text_list(chunk);
        let mut found: HashMap<String, i64> = HashMap::new();
        for row in query(&sql).fetch_all(&mut *conn).await.map_err(internal)? {
            found.insert(
                row.try_get(0).map_err(internal)?,
                row.try_get(1).map_err(internal)?,
            );
        }
        if let Some(missing) = chunk.iter().find(|id| !found.contains_key(*id)) {
            return Err(StoreError::Scim(ScimError::invalid_value(format!(
                "member \"{missing}\" is not a user or group of this tenant; nothing was changed"
            ))));
        }
        let mut insert = Sq::new(
            "INSERT OR IGNORE INTO group_members (tenant_id, group_id, member_id, member_kind) VALUES ",
        );
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                insert.push(", ");
            }
            insert
                .push("(")
                .text(t.0.clone())
                .push(", ")
                .text(group)
                .push(", ")
                .text(id.clone())
                .push(", ");
            insert.bind(crate::sql::Bind::Int(
                found
                    .get(id)
                    .copied()
                    .map(|k| {
                        if k == 1 {
                            kind_code(ResourceKind::Group)
                        } else {
                            kind_code(ResourceKind::User)
                        }
                    })
                    .unwrap_or(0),
            ));
            insert.push(")");
        }
        query(&insert).execute(&mut *conn).await.map_err(internal)?;
    }
    Ok(())
}

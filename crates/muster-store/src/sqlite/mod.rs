//! The embedded store: one SQLite file in WAL mode. Writes go through a single connection
//! (SQLite has one writer anyway) in `BEGIN IMMEDIATE` transactions, so a read-modify-write
//! never meets a concurrent writer half-way; reads use a pool of read-only connections.

mod resources;

use crate::migrate::SQLITE as MIGRATIONS;
use crate::sql::{Bind, Dialect, Sql};
use async_trait::async_trait;
use muster_domain::model::{Mode, NewToken, Tenant, TenantId, TokenInfo};
use muster_domain::store::{StoreError, StoreResult};
use muster_scim::resource::{fold, format_datetime};
use muster_scim::schema::AttrType;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};
use std::path::Path;
use std::time::Duration;

pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn placeholder(_: usize) -> String {
        "?".into()
    }
    fn json_scalar(sql: &mut Sql<Self>, col: &str, path: &[String], _ty: AttrType) {
        sql.push(&format!("json_extract({col}, "));
        sql.text(json_path(path));
        sql.push(")");
    }
    fn json_elements(sql: &mut Sql<Self>, col: &str, path: &[String], alias: &str) {
        sql.push(&format!("json_each({col}, "));
        sql.text(json_path(path));
        sql.push(&format!(") AS {alias}"));
    }
    const FALSE: &'static str = "0";
    const CONTAINS_OPEN: &'static str = "instr(";
    const SUFFIX_OPEN: &'static str = "substr(";
    fn suffix_close(n: usize) -> String {
        format!(", -{n})")
    }
}

/// `["name", "givenName"]` → `$."name"."givenName"`; numeric segments index arrays.
fn json_path(segments: &[String]) -> String {
    let mut p = String::from("$");
    for s in segments {
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
            p.push_str(&format!("[{s}]"));
        } else {
            p.push_str(&format!(".\"{}\"", s.replace('"', "")));
        }
    }
    p
}

pub(crate) type Q<'a> = sqlx::query::Query<'a, sqlx::Sqlite, SqliteArguments>;

pub(crate) fn query(sql: &Sql<SqliteDialect>) -> Q<'static> {
    let mut q = sqlx::query(AssertSqlSafe(sql.text.clone()));
    for b in &sql.binds {
        q = match b {
            Bind::Text(s) => q.bind(s.clone()),
            Bind::Int(i) => q.bind(*i),
            Bind::Real(r) => q.bind(*r),
        };
    }
    q
}

pub(crate) fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

pub(crate) fn now() -> String {
    format_datetime(time::OffsetDateTime::now_utc())
}

pub struct SqliteStore {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-16000");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(internal)?;
        let store_w = SqliteStore {
            writer: writer.clone(),
            reader: writer.clone(),
        };
        store_w.migrate().await?;
        let readers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(2) as u32
            * 2;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers)
            .connect_with(base.read_only(true))
            .await
            .map_err(internal)?;
        Ok(SqliteStore { writer, reader })
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(internal)?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await
            .map_err(internal)?;
        for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
            sqlx::raw_sql(AssertSqlSafe(m.sql))
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
            sqlx::query("INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)")
                .bind(m.version)
                .bind(m.name)
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }
}

fn tenant_row(r: &SqliteRow) -> StoreResult<Tenant> {
    let mode: String = r.try_get("mode").map_err(internal)?;
    Ok(Tenant {
        id: TenantId(r.try_get("id").map_err(internal)?),
        name: r.try_get("name").map_err(internal)?,
        mode: Mode::parse(&mode).unwrap_or(Mode::Scim),
        created: r.try_get("created").map_err(internal)?,
    })
}

fn token_row(r: &SqliteRow) -> StoreResult<TokenInfo> {
    let revoked: Option<String> = r.try_get("revoked_at").map_err(internal)?;
    Ok(TokenInfo {
        id: r.try_get("tid").map_err(internal)?,
        tenant_id: TenantId(r.try_get("tenant_id").map_err(internal)?),
        prefix: r.try_get("prefix").map_err(internal)?,
        created: r.try_get("tcreated").map_err(internal)?,
        last_used: r.try_get("last_used").map_err(internal)?,
        revoked: revoked.is_some(),
    })
}

const TOKEN_COLUMNS: &str =
    "k.id AS tid, k.tenant_id, k.prefix, k.created AS tcreated, k.last_used, k.revoked_at";

#[async_trait]
impl muster_domain::store::Store for SqliteStore {
    async fn ready(&self) -> bool {
        let n: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
            .fetch_one(&self.reader)
            .await;
        n.is_ok_and(|n| n as usize >= MIGRATIONS.len())
    }

    async fn create_tenant(&self, name: &str, mode: Mode) -> StoreResult<Tenant> {
        let t = Tenant {
            id: TenantId(uuid::Uuid::new_v4().to_string()),
            name: name.to_string(),
            mode,
            created: now(),
        };
        let r = sqlx::query(
            "INSERT INTO tenants (id, name, name_norm, mode, created) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&t.id.0)
        .bind(&t.name)
        .bind(fold(name))
        .bind(mode.as_str())
        .bind(&t.created)
        .execute(&self.writer)
        .await;
        match r {
            Ok(_) => Ok(t),
            Err(e) if is_unique(&e) => Err(StoreError::Conflict("name".into())),
            Err(e) => Err(internal(e)),
        }
    }

    async fn tenant_by_name(&self, name: &str) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query("SELECT id, name, mode, created FROM tenants WHERE name_norm = ?")
            .bind(fold(name))
            .fetch_optional(&self.reader)
            .await
            .map_err(internal)?;
        row.as_ref().map(tenant_row).transpose()
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let rows = sqlx::query("SELECT id, name, mode, created FROM tenants ORDER BY name_norm")
            .fetch_all(&self.reader)
            .await
            .map_err(internal)?;
        rows.iter().map(tenant_row).collect()
    }

    async fn create_token(&self, tenant: &TenantId, token: &NewToken) -> StoreResult<TokenInfo> {
        let created = now();
        sqlx::query("INSERT INTO api_tokens (id, tenant_id, token_hash, prefix, created) VALUES (?, ?, ?, ?, ?)")
            .bind(&token.id)
            .bind(&tenant.0)
            .bind(&token.hash[..])
            .bind(&token.prefix)
            .bind(&created)
            .execute(&self.writer)
            .await
            .map_err(internal)?;
        Ok(TokenInfo {
            id: token.id.clone(),
            tenant_id: tenant.clone(),
            prefix: token.prefix.clone(),
            created,
            last_used: None,
            revoked: false,
        })
    }

    async fn list_tokens(&self, tenant: &TenantId) -> StoreResult<Vec<TokenInfo>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens k WHERE k.tenant_id = ? ORDER BY k.created"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(&tenant.0)
            .fetch_all(&self.reader)
            .await
            .map_err(internal)?;
        rows.iter().map(token_row).collect()
    }

    async fn revoke_token(&self, id_or_prefix: &str) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND (id = ? OR prefix = ?)",
        )
        .bind(now())
        .bind(id_or_prefix)
        .bind(id_or_prefix)
        .execute(&self.writer)
        .await
        .map_err(internal)?;
        Ok(r.rows_affected() > 0)
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> StoreResult<Option<(TokenInfo, Tenant)>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS}, k.token_hash, t.id, t.name, t.mode, t.created FROM api_tokens k \
             JOIN tenants t ON t.id = k.tenant_id WHERE k.token_hash = ? AND k.revoked_at IS NULL"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&hash[..])
            .fetch_optional(&self.reader)
            .await
            .map_err(internal)?;
        let Some(row) = row else { return Ok(None) };
        let stored: Vec<u8> = row.try_get("token_hash").map_err(internal)?;
        let stored: [u8; 32] = stored.try_into().map_err(|_| internal("bad token hash"))?;
        if !muster_domain::tokens::same_hash(&stored, hash) {
            return Ok(None);
        }
        Ok(Some((token_row(&row)?, tenant_row(&row)?)))
    }

    async fn touch_token(&self, id: &str, when: &str) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used = ? WHERE id = ?")
            .bind(when)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn create(
        &self,
        t: &TenantId,
        kind: muster_scim::schema::ResourceKind,
        new: muster_domain::model::NewResource,
    ) -> StoreResult<muster_domain::model::Stored> {
        self.create_resource(t, kind, new).await
    }

    async fn get(
        &self,
        t: &TenantId,
        kind: muster_scim::schema::ResourceKind,
        id: &str,
        load: muster_domain::model::Load,
    ) -> StoreResult<muster_domain::model::Stored> {
        self.get_resource(t, kind, id, load).await
    }

    async fn update(
        &self,
        t: &TenantId,
        kind: muster_scim::schema::ResourceKind,
        id: &str,
        if_match: Option<i64>,
        load: muster_domain::model::Load,
        mutate: muster_domain::store::Mutation<'_>,
    ) -> StoreResult<muster_domain::model::Stored> {
        self.update_resource(t, kind, id, if_match, load, mutate)
            .await
    }

    async fn delete(
        &self,
        t: &TenantId,
        kind: muster_scim::schema::ResourceKind,
        id: &str,
        if_match: Option<i64>,
    ) -> StoreResult<()> {
        self.delete_resource(t, kind, id, if_match).await
    }

    async fn list(
        &self,
        t: &TenantId,
        kind: muster_scim::schema::ResourceKind,
        q: &muster_domain::store::ListQuery,
    ) -> StoreResult<muster_domain::store::ListPage> {
        self.list_resources(t, kind, q).await
    }
}

pub(crate) fn is_unique(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_paths() {
        assert_eq!(
            super::json_path(&["emails".into(), "0".into(), "value".into()]),
            "$.\"emails\"[0].\"value\""
        );
    }
}

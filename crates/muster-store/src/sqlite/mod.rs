//! The embedded engine: one SQLite file in WAL mode. Writes go through a single connection
//! (SQLite has one writer anyway) in `BEGIN IMMEDIATE` transactions, so a read-modify-write
//! never meets a concurrent writer half-way, also from another process such as the CLI; reads use
//! a pool of read-only connections.

use crate::exec::{Backend, Conn, ExecResult, exec_error};
use crate::migrate::Migration;
use crate::sql::{Dialect, Sql};
use crate::store::{SqlStore, now};
use async_trait::async_trait;
use muster_domain::store::{StoreError, StoreResult};
use muster_scim::schema::AttrType;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Sqlite, Transaction};
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
    const FOR_UPDATE: &'static str = "";
    const JSON_CAST: &'static str = "";
    const MIGRATIONS: &'static [Migration] = &[Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/sqlite/0001_init.sql"),
    }];
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

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

pub struct SqliteBackend {
    pub(crate) writer: SqlitePool,
    reader: SqlitePool,
}

/// The store on SQLite.
pub type SqliteStore = SqlStore<SqliteBackend>;

impl SqlStore<SqliteBackend> {
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
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(internal)?;
        let readers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(2) as u32
            * 2;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers)
            .connect_lazy_with(base.read_only(true));
        SqlStore::init(SqliteBackend { writer, reader }).await
    }
}

struct Tx(Transaction<'static, Sqlite>);
impl Tx {
    async fn finish(self) -> ExecResult<()> {
        self.0.commit().await.map_err(exec_error)
    }
}
crate::impl_conn!(Tx, SqliteDialect);

struct Read(PoolConnection<Sqlite>);
impl Read {
    async fn finish(self) -> ExecResult<()> {
        Ok(())
    }
}
crate::impl_conn!(Read, SqliteDialect);

#[async_trait]
impl Backend for SqliteBackend {
    type D = SqliteDialect;

    async fn read(&self) -> StoreResult<Box<dyn Conn<SqliteDialect>>> {
        Ok(Box::new(Read(
            self.reader.acquire().await.map_err(internal)?,
        )))
    }

    async fn write(&self) -> StoreResult<Box<dyn Conn<SqliteDialect>>> {
        Ok(Box::new(Tx(self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(internal)?)))
    }

    /// `VACUUM INTO`: an online, transactionally consistent copy (readers and writers go on).
    async fn backup(&self, path: &str) -> StoreResult<()> {
        if Path::new(path).exists() {
            return Err(internal(format!(
                "{path} already exists; backups never overwrite"
            )));
        }
        let mut conn = self.writer.acquire().await.map_err(internal)?;
        sqlx::query("VACUUM INTO ?")
            .bind(path)
            .execute(&mut *conn)
            .await
            .map_err(internal)?;
        Ok(())
    }

    fn pool_stats(&self) -> Vec<(&'static str, u32, u32)> {
        let stat = |p: &SqlitePool| (p.size(), p.num_idle() as u32);
        let (ws, wi) = stat(&self.writer);
        let (rs, ri) = stat(&self.reader);
        vec![("sqlite_writer", ws, wi), ("sqlite_reader", rs, ri)]
    }

    async fn migrate(&self, migrations: &[Migration]) -> StoreResult<()> {
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(internal)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)",
        )
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
        let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await
            .map_err(internal)?;
        for m in migrations.iter().filter(|m| !done.contains(&m.version)) {
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

#[cfg(test)]
mod tests {
    use crate::store::{page_sql, where_clause};
    use muster_domain::model::{Load, TenantId};
    use muster_domain::query::resolve_filter;
    use muster_domain::store::{ListQuery, PageReq};
    use muster_scim::filter::Filter;
    use muster_scim::schema::{ResourceKind, ResourceType};

    /// The lookups IdPs make on every sync cycle must use an index, whatever the tenant's size.
    #[tokio::test]
    async fn lookups_are_index_searches_not_scans() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::SqliteStore::open(&dir.path().join("t.db"))
            .await
            .unwrap();
        let t = TenantId("t".into());
        for (kind, filter, index) in [
            (
                ResourceKind::User,
                r#"userName eq "a@x.com""#,
                "users_name_norm",
            ),
            (ResourceKind::User, r#"userName sw "a""#, "users_name_norm"),
            (
                ResourceKind::User,
                r#"externalId eq "e1""#,
                "users_external_id",
            ),
            (ResourceKind::User, r#"id eq "i1""#, "users_id"),
            (
                ResourceKind::Group,
                r#"displayName eq "Eng""#,
                "groups_name_norm",
            ),
            (
                ResourceKind::Group,
                r#"externalId eq "e1""#,
                "groups_external_id",
            ),
            (
                ResourceKind::Group,
                r#"members.value eq "u1""#,
                "group_members_member",
            ),
            (
                ResourceKind::User,
                r#"groups.value eq "g1""#,
                "USING PRIMARY KEY (tenant_id=? AND group_id=?)",
            ),
        ] {
            let cond =
                resolve_filter(ResourceType::of(kind), &Filter::parse(filter).unwrap()).unwrap();
            let q = ListQuery {
                filter: Some(cond.clone()),
                sort: None,
                descending: false,
                page: PageReq::Index {
                    start: 1,
                    count: 100,
                },
                load: Load::default(),
            };
            let w = where_clause::<super::SqliteDialect>(&t, Some(&cond));
            let sql = page_sql(kind, &w, &q, None, 100, 0);
            let mut explain = crate::sql::Sql::<super::SqliteDialect>::new("EXPLAIN QUERY PLAN ");
            explain.push(&sql.text);
            explain.binds = sql.binds.clone();
            let rows = crate::bind_all!(explain)
                .fetch_all(&store.backend.writer)
                .await
                .unwrap();
            let plan: Vec<String> = rows
                .iter()
                .map(|r| sqlx::Row::get::<String, _>(r, 3))
                .collect();
            let plan = plan.join(" | ");
            assert!(plan.contains(index), "{filter}: {plan}");
            assert!(!plan.contains("SCAN r"), "{filter} scans the table: {plan}");
        }
    }

    #[test]
    fn json_paths() {
        assert_eq!(
            super::json_path(&["emails".into(), "0".into(), "value".into()]),
            "$.\"emails\"[0].\"value\""
        );
    }
}
#[cfg(test)]
mod agreement_tests;

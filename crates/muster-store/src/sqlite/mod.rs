//! The embedded engine: one SQLite file in WAL mode, driven in-process with rusqlite.
//!
//! SQLite answers in microseconds from its page cache, so statements run directly on the calling
//! task instead of hopping to a worker thread per statement. Writes go through one connection in
//! `BEGIN IMMEDIATE` transactions (SQLite has one writer anyway), so a read-modify-write never
//! meets a concurrent writer half-way, also from another process such as the CLI; each write is
//! a savepoint inside it, committed with those queued behind it ([`writer`]). Reads use a small
//! set of read-only connections.

mod writer;

use crate::exec::{Backend, Cell, Conn, ExecError, ExecResult, Row, Ty, internal};
use crate::migrate::Migration;
use crate::sql::{Bind, Dialect, Sql};
use crate::store::{SqlStore, now};
use async_trait::async_trait;
use muster_domain::store::{StoreError, StoreResult};
use muster_scim::schema::AttrType;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags, params_from_iter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard};
use writer::{Held, Writer};

pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn push_placeholder(text: &mut String, _: usize) {
        text.push('?');
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
    const IN_ROWS_OPEN: &'static str = " IN (";
    const IN_ROWS_CLOSE: &'static str = ")";
    const JSON_TEXTS_OPEN: &'static str = "SELECT value, key FROM json_each(";
    const JSON_TEXTS_CLOSE: &'static str = ")";
    const TENANT_KEY_OPEN: &'static str = "";
    const TENANT_KEY_CLOSE: &'static str = "";
    const AUDIT_APPEND_LOCK: &'static str = "";
    const JSON_CAST: &'static str = "";
    fn push_triple_array(sql: &mut Sql<Self>, a: &str, b: &str, c: &str) {
        sql.push("json_group_array(json_array(")
            .push(a)
            .push(", ")
            .push(b)
            .push(", ")
            .push(c)
            .push("))");
    }
    const MIGRATIONS: &'static [Migration] = &[
        Migration {
            version: 1,
            name: "init",
            sql: include_str!("../../migrations/sqlite/0001_init.sql"),
        },
        Migration {
            version: 2,
            name: "admin",
            sql: include_str!("../../migrations/sqlite/0002_admin.sql"),
        },
        Migration {
            version: 3,
            name: "audit_targets",
            sql: include_str!("../../migrations/sqlite/0003_audit_targets.sql"),
        },
        Migration {
            version: 4,
            name: "members_in_order",
            sql: include_str!("../../migrations/sqlite/0004_members_in_order.sql"),
        },
    ];
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

fn exec_error(e: rusqlite::Error) -> ExecError {
    use rusqlite::ffi::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == ErrorCode::ConstraintViolation
                && matches!(
                    f.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
        {
            ExecError::Unique
        }
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            ExecError::Retry
        }
        _ => ExecError::Other(e.to_string()),
    }
}

/// How long a connection waits for another process's write lock before giving up.
const BUSY_TIMEOUT_MS: u32 = 10_000;

/// Page cache per connection, in KiB. A reader's cache is emptied whenever another connection
/// has committed since its last read (SQLite's rule in WAL mode), so under any write traffic a
/// large one only holds memory; the writer's survives its own commits.
const WRITER_CACHE_KIB: u32 = 16_000;
const READER_CACHE_KIB: u32 = 4_000;

fn open(path: &Path, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch(&format!(
        "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; PRAGMA cache_size = -{}; \
         PRAGMA temp_store = MEMORY;",
        if read_only { READER_CACHE_KIB } else { WRITER_CACHE_KIB }
    ))?;
    // Read-only connections open it read-only too (SQLite attaches with the main file's flags);
    // the writer opens first and creates it.
    conn.execute(
        "ATTACH DATABASE ?1 AS audit",
        [audit_path(path).to_string_lossy()],
    )?;
    if !read_only {
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA audit.journal_mode = WAL; PRAGMA audit.synchronous = NORMAL; \
             PRAGMA audit.cache_size = -{AUDIT_CACHE_KIB};"
        ))?;
    }
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// The audit log's file beside the directory's: `muster.db` → `muster.audit.db`. Every SCIM
/// request appends to the log; in a file of its own, those commits leave the readers' page
/// caches of the directory warm (see `migrations/sqlite/audit_file.sql`).
pub fn audit_path(path: &Path) -> PathBuf {
    path.with_extension("audit.db")
}

/// The audit file's page cache on the writer: appends touch only the newest pages.
const AUDIT_CACHE_KIB: u32 = 2_000;

/// Runs `work` in a `BEGIN IMMEDIATE` transaction: committed when it succeeds, rolled back when
/// it or the commit fails.
fn immediate<T>(
    conn: &Connection,
    work: impl FnOnce() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let done = work().and_then(|v| conn.execute_batch("COMMIT").map(|()| v));
    if done.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    done
}

/// Creates the audit file's tables, and moves the log of a store made before it had one: copied
/// in one transaction (which writes only the audit file), then dropped from the directory's
/// file in a second, so a crash between them loses nothing and the next open finishes the move.
fn prepare_audit_file(conn: &Connection) -> rusqlite::Result<()> {
    let moving = immediate(conn, || {
        conn.execute_batch(include_str!("../../migrations/sqlite/audit_file.sql"))?;
        let moving = conn.query_row(
            "SELECT count(*) > 0 FROM main.sqlite_master WHERE name = 'audit_events'",
            [],
            |r| r.get::<_, bool>(0),
        )?;
        if moving {
            conn.execute_batch(
                "INSERT OR IGNORE INTO audit.audit_events SELECT * FROM main.audit_events ORDER BY seq;
                 INSERT OR IGNORE INTO audit.audit_targets SELECT * FROM main.audit_targets ORDER BY 1, 2, 3;
                 INSERT OR REPLACE INTO audit.audit_index SELECT * FROM main.audit_index;",
            )?;
        }
        Ok(moving)
    })?;
    if moving {
        // IF EXISTS: another process (the CLI beside the server) may have finished the move.
        immediate(conn, || {
            conn.execute_batch(
                "DROP TABLE IF EXISTS main.audit_events; DROP TABLE IF EXISTS main.audit_targets; \
                 DROP TABLE IF EXISTS main.audit_index;",
            )
        })?;
    }
    Ok(())
}

type Shared = Arc<Mutex<Connection>>;

pub struct SqliteBackend {
    pub(crate) writer: Arc<Writer>,
    readers: Vec<Shared>,
    next: AtomicUsize,
    /// Tells the checkpoint thread to stop when the store goes away.
    stop: Arc<AtomicBool>,
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// How often the background thread moves the WAL into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// A WAL that grew past this (a burst, a long reader) is truncated back to it when it restarts.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Checkpoints the WAL from its own connection and thread, so no request pays for it (SQLite's
/// automatic checkpoint runs inside whichever commit crosses the threshold).
///
/// Each round copies the bulk of the WAL with a PASSIVE checkpoint while writes go on, then
/// holds the writer for a moment and copies the few frames committed meanwhile. Only a WAL that
/// is wholly copied is reused from its start by the next write; under a steady stream of
/// commits the first checkpoint never catches up alone, and the WAL would grow without bound
/// (and every append would extend the file).
fn start_checkpointer(path: &Path, writer: Arc<Writer>, stop: Arc<AtomicBool>) -> StoreResult<()> {
    let conn = open(path, false).map_err(internal)?;
    std::thread::Builder::new()
        .name("muster-sqlite-checkpoint".into())
        .spawn(move || {
            let checkpoint = || conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(CHECKPOINT_EVERY);
                let _ = checkpoint();
                // With the open group committed, the next write starts the WAL over.
                let mut held = writer.acquire_blocking();
                let _ = held.commit_group();
                let _ = checkpoint();
            }
        })
        .map_err(internal)?;
    Ok(())
}

/// The store on SQLite.
pub type SqliteStore = SqlStore<SqliteBackend>;

impl SqlStore<SqliteBackend> {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let writer = open(path, false).map_err(internal)?;
        writer
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}; \
                 PRAGMA audit.journal_size_limit = {WAL_SIZE_LIMIT};"
            ))
            .map_err(internal)?;
        let readers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(2)
            * 2;
        let stop = Arc::new(AtomicBool::new(false));
        let writer = Writer::new(writer);
        let backend = SqliteBackend {
            writer: writer.clone(),
            readers: Vec::new(),
            next: AtomicUsize::new(0),
            stop: stop.clone(),
        };
        let mut store = SqlStore::init(backend).await?;
        // Readers open after migrations, so they see the schema.
        let mut opened = Vec::with_capacity(readers);
        for _ in 0..readers {
            opened.push(Arc::new(Mutex::new(open(path, true).map_err(internal)?)));
        }
        // Nothing shares the backend before the store is returned.
        Arc::get_mut(&mut store.backend)
            .ok_or_else(|| internal("the store was shared while it opened"))?
            .readers = opened;
        start_checkpointer(path, writer, stop)?;
        Ok(store)
    }
}

/// A bind as SQLite reads it: borrowed, so no text or blob is copied to run a statement.
struct Param<'a>(&'a Bind);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput::{Borrowed, Owned};
        Ok(match self.0 {
            Bind::Text(s) | Bind::OptText(Some(s)) => Borrowed(ValueRef::Text(s.as_bytes())),
            Bind::Int(i) | Bind::OptInt(Some(i)) => Owned(SqlValue::Integer(*i)),
            Bind::Real(r) => Owned(SqlValue::Real(*r)),
            Bind::OptText(None) | Bind::OptInt(None) => Owned(SqlValue::Null),
            Bind::Bytes(b) => Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn bind_values(binds: &[Bind]) -> impl Iterator<Item = Param<'_>> {
    binds.iter().map(Param)
}

fn cell(v: ValueRef<'_>, ty: Ty, i: usize) -> ExecResult<Cell> {
    let bad = || ExecError::Other(format!("column {i}: unexpected {v:?}"));
    Ok(match (ty, v) {
        (Ty::OptInt | Ty::OptText, ValueRef::Null) => Cell::Null,
        (Ty::Int | Ty::OptInt, ValueRef::Integer(n)) => Cell::Int(n),
        (Ty::Text | Ty::OptText, ValueRef::Text(t)) => {
            Cell::Text(String::from_utf8(t.to_vec()).map_err(|_| bad())?)
        }
        (Ty::Bytes, ValueRef::Blob(b)) => Cell::Bytes(b.to_vec()),
        _ => return Err(bad()),
    })
}

fn run(conn: &Connection, sql: &Sql<SqliteDialect>) -> ExecResult<u64> {
    let mut stmt = conn.prepare_cached(&sql.text).map_err(exec_error)?;
    let n = stmt
        .execute(params_from_iter(bind_values(&sql.binds)))
        .map_err(exec_error)?;
    Ok(n as u64)
}

fn fetch(conn: &Connection, sql: &Sql<SqliteDialect>, cols: &[Ty]) -> ExecResult<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&sql.text).map_err(exec_error)?;
    let mut rows = stmt
        .query(params_from_iter(bind_values(&sql.binds)))
        .map_err(exec_error)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(exec_error)? {
        let mut cells = Vec::with_capacity(cols.len());
        for (i, ty) in cols.iter().enumerate() {
            cells.push(cell(r.get_ref(i).map_err(exec_error)?, *ty, i)?);
        }
        out.push(Row(cells));
    }
    Ok(out)
}

/// Runs a parameterless statement from the statement cache (BEGIN/COMMIT on every write).
fn statement(conn: &Connection, sql: &str) -> ExecResult<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(|_| ())
        .map_err(exec_error)
}

/// A read-only connection, held for one use (the writer, during start-up).
enum Read {
    Pool(OwnedMutexGuard<Connection>),
    Writer(Held),
}

impl std::ops::Deref for Read {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Read::Pool(c) => c,
            Read::Writer(c) => c,
        }
    }
}

#[async_trait]
impl Conn<SqliteDialect> for Read {
    async fn exec(&mut self, sql: &Sql<SqliteDialect>) -> ExecResult<u64> {
        run(self, sql)
    }
    async fn rows(&mut self, sql: &Sql<SqliteDialect>, cols: &[Ty]) -> ExecResult<Vec<Row>> {
        fetch(self, sql, cols)
    }
    async fn commit(self: Box<Self>) -> ExecResult<()> {
        Ok(())
    }
}

/// One write: a savepoint in the writer's open transaction; rolled back when dropped without
/// a commit (the rest of its group is untouched).
struct Tx {
    conn: Option<Held>,
    open: bool,
}

impl Tx {
    fn conn(&self) -> ExecResult<&Connection> {
        self.conn
            .as_deref()
            .ok_or_else(|| ExecError::Other("the transaction has ended".into()))
    }
}

#[async_trait]
impl Conn<SqliteDialect> for Tx {
    async fn exec(&mut self, sql: &Sql<SqliteDialect>) -> ExecResult<u64> {
        run(self.conn()?, sql)
    }
    async fn rows(&mut self, sql: &Sql<SqliteDialect>, cols: &[Ty]) -> ExecResult<Vec<Row>> {
        fetch(self.conn()?, sql, cols)
    }
    async fn commit(mut self: Box<Self>) -> ExecResult<()> {
        statement(self.conn()?, "RELEASE tx")?;
        self.open = false;
        let Some(held) = self.conn.take() else {
            return Ok(());
        };
        held.commit().await.map_err(ExecError::Other)
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.open
            && let Some(c) = &self.conn
        {
            let _ = statement(c, "ROLLBACK TO tx");
            let _ = statement(c, "RELEASE tx");
        }
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    type D = SqliteDialect;

    async fn read(&self) -> StoreResult<Box<dyn Conn<SqliteDialect>>> {
        if self.readers.is_empty() {
            // During start-up (migrations) the writer serves reads too.
            return Ok(Box::new(Read::Writer(self.writer.acquire().await)));
        }
        // Take an idle reader if there is one, else wait for the next in turn.
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for k in 0..n {
            if let Ok(g) = self.readers[(start + k) % n].clone().try_lock_owned() {
                return Ok(Box::new(Read::Pool(g)));
            }
        }
        Ok(Box::new(Read::Pool(
            self.readers[start % n].clone().lock_owned().await,
        )))
    }

    async fn write(&self) -> StoreResult<Box<dyn Conn<SqliteDialect>>> {
        let conn = self.writer.acquire().await;
        conn.begin().map_err(|e| StoreError::from(exec_error(e)))?;
        statement(&conn, "SAVEPOINT tx")?;
        Ok(Box::new(Tx {
            conn: Some(conn),
            open: true,
        }))
    }

    /// `VACUUM INTO`: an online, transactionally consistent copy (readers go on).
    async fn backup(&self, path: &str) -> StoreResult<()> {
        let audit = audit_path(Path::new(path));
        for file in [Path::new(path), &audit] {
            if file.exists() {
                return Err(internal(format!(
                    "{} already exists; backups never overwrite",
                    file.display()
                )));
            }
        }
        // The two files are copied one after the other: the audit copy may hold a few events
        // newer than the directory's copy, never fewer.
        let mut conn = self.writer.acquire().await;
        conn.commit_group().map_err(internal)?;
        conn.execute("VACUUM main INTO ?1", [path])
            .map_err(internal)?;
        conn.execute("VACUUM audit INTO ?1", [audit.to_string_lossy()])
            .map_err(internal)?;
        Ok(())
    }

    fn pool_stats(&self) -> Vec<(&'static str, u32, u32)> {
        let idle = |c: &Shared| u32::from(c.try_lock().is_ok());
        let readers_idle = self.readers.iter().map(idle).sum();
        vec![
            ("sqlite_writer", 1, u32::from(self.writer.is_idle())),
            ("sqlite_reader", self.readers.len() as u32, readers_idle),
        ]
    }

    async fn migrate(&self, migrations: &[Migration]) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await;
        conn.commit_group().map_err(internal)?;
        immediate(&conn, || {
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)",
            )?;
            let done: Vec<i64> = conn
                .prepare("SELECT version FROM schema_migrations")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for m in migrations.iter().filter(|m| !done.contains(&m.version)) {
                conn.execute_batch(m.sql)?;
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied) VALUES (?1, ?2, ?3)",
                    rusqlite::params![m.version, m.name, now()],
                )?;
            }
            Ok(())
        })
        .map_err(internal)?;
        // Not a numbered migration: it also repairs a restored backup missing its audit file.
        prepare_audit_file(&conn).map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use crate::exec::Ty;
    use crate::store::{page_sql, where_clause};
    use muster_domain::model::{Load, TenantId};
    use muster_domain::query::resolve_filter;
    use muster_domain::store::{ListQuery, PageReq};
    use muster_scim::filter::Filter;
    use muster_scim::schema::{ResourceKind, ResourceType};

    /// SQLite's plan of a statement, its steps joined by ` | `.
    async fn query_plan(
        store: &super::SqliteStore,
        sql: &crate::sql::Sql<super::SqliteDialect>,
    ) -> String {
        let mut explain = crate::sql::Sql::<super::SqliteDialect>::new("EXPLAIN QUERY PLAN ");
        explain.push(&sql.text);
        explain.binds = sql.binds.clone();
        let conn = store.backend.writer.acquire().await;
        let rows = super::fetch(&conn, &explain, &[Ty::Int, Ty::Int, Ty::Int, Ty::Text]).unwrap();
        let plan: Vec<String> = rows.into_iter().map(|mut r| r.text(3).unwrap()).collect();
        plan.join(" | ")
    }

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
                "group_members_group",
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
            let sql = page_sql(kind, &w, &q, None, 100, 0, false);
            let plan = query_plan(&store, &sql).await;
            assert!(plan.contains(index), "{filter}: {plan}");
            assert!(!plan.contains("SCAN r"), "{filter} scans the table: {plan}");
        }
    }

    /// An audit query by target probes the batched index and scans only the newest events:
    /// never the whole log, whatever its size.
    #[tokio::test]
    async fn audit_queries_by_target_read_the_index_not_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::SqliteStore::open(&dir.path().join("t.db"))
            .await
            .unwrap();
        let q = muster_domain::admin::model::AuditQuery {
            tenant_id: Some(TenantId("t".into())),
            target: Some("u1".into()),
            limit: 50,
            ..Default::default()
        };
        let sql = crate::admin::audit_query_sql::<super::SqliteDialect>(&q);
        let plan = query_plan(&store, &sql).await;
        assert!(
            plan.contains("SEARCH t USING PRIMARY KEY (bucket=? AND target=?"),
            "{plan}"
        );
        assert!(
            plan.contains("SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN e"), "scans the log: {plan}");
    }

    /// A list statement is prepared once and then reused as it is: SQLite re-prepares a
    /// statement whose bound values steer its plan (a bound LIMIT does, since 3.47), which cost
    /// a fifth of every lookup.
    #[tokio::test]
    async fn list_statements_are_not_re_prepared_per_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::SqliteStore::open(&dir.path().join("t.db"))
            .await
            .unwrap();
        let t = TenantId("t".into());
        let conn = store.backend.writer.acquire().await;
        for i in 0..3 {
            let f = format!("userName eq \"u{i}@x.com\"");
            let cond = resolve_filter(
                ResourceType::of(ResourceKind::User),
                &Filter::parse(&f).unwrap(),
            )
            .unwrap();
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
            let sql = page_sql(ResourceKind::User, &w, &q, None, 100, 0, false);
            super::fetch(&conn, &sql, &crate::store::COLUMN_TYPES).unwrap();
            let stmt = conn.prepare_cached(&sql.text).unwrap();
            assert_eq!(
                stmt.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "{}",
                sql.text
            );
        }
    }

    /// Requests never checkpoint (autocheckpoint is off); the background thread moves committed
    /// pages into the database file.
    #[tokio::test]
    async fn the_wal_is_checkpointed_in_the_background() {
        use muster_domain::model::{Mode, NewResource};
        use muster_domain::store::Store;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = super::SqliteStore::open(&path).await.unwrap();
        let t = store.create_tenant("t", Mode::Scim).await.unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1200));
        let before = std::fs::metadata(&path).unwrap().len();
        for i in 0..400 {
            let data =
                serde_json::json!({"userName": format!("u{i}@x.com"), "title": "x".repeat(200)});
            let new = NewResource {
                data: data.as_object().cloned().unwrap(),
                members: vec![],
                class: "scim".into(),
            };
            store.create(&t.id, ResourceKind::User, new).await.unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::metadata(&path).unwrap().len() == before
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(
            std::fs::metadata(&path).unwrap().len() > before,
            "the database file never grew"
        );
    }

    /// Under a steady stream of commits the WAL is reused from its start after checkpoints
    /// instead of growing for as long as the writes go on (it once reached 780 MB for a 50 MB
    /// database in a 6 s benchmark). Each restart of the WAL gives its header a new salt.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_is_reused_under_steady_writes() {
        use muster_domain::model::{Mode, NewResource};
        use muster_domain::store::Store;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let wal = dir.path().join("t.db-wal");
        let store = std::sync::Arc::new(super::SqliteStore::open(&path).await.unwrap());
        let t = store.create_tenant("t", Mode::Scim).await.unwrap();
        let end = std::time::Instant::now() + super::CHECKPOINT_EVERY * 8;
        // Writers queue for the one connection, so it never idles, as under load.
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (store, t) = (store.clone(), t.id.clone());
                tokio::spawn(async move {
                    let mut i = 0;
                    while std::time::Instant::now() < end {
                        let data = serde_json::json!({"userName": format!("u{w}-{i}@x.com"), "title": "x".repeat(300)});
                        let new = NewResource {
                            data: data.as_object().cloned().unwrap(),
                            members: vec![],
                            class: "scim".into(),
                        };
                        store.create(&t, ResourceKind::User, new).await.unwrap();
                        i += 1;
                    }
                })
            })
            .collect();
        let mut salts = std::collections::HashSet::new();
        while std::time::Instant::now() < end {
            let header = std::fs::read(&wal).unwrap_or_default();
            salts.extend(header.get(16..24).map(<[u8]>::to_vec));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        for w in writers {
            w.await.unwrap();
        }
        assert!(
            salts.len() >= 3,
            "the WAL restarted {} times in {:?} of back-to-back writes",
            salts.len().saturating_sub(1),
            super::CHECKPOINT_EVERY * 8
        );
    }

    #[test]
    fn json_paths() {
        assert_eq!(
            super::json_path(&["emails".into(), "0".into(), "value".into()]),
            "$.\"emails\"[0].\"value\""
        );
    }

    /// Migration 2 on a store made before it: the tenant gets its system groups, and a group an
    /// IdP had pushed under a reserved name is renamed out of the way, keeping id and members.
    /// Events written before migration 3 are found by target after it (the index is filled
    /// from them), and the next events land above its watermark.
    #[tokio::test]
    async fn migration_3_indexes_the_existing_audit_events_by_target() {
        use muster_domain::admin::model::AuditQuery;
        use muster_domain::admin::store::AdminStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(include_str!("../../migrations/sqlite/0001_init.sql"))
                .unwrap();
            c.execute_batch(include_str!("../../migrations/sqlite/0002_admin.sql"))
                .unwrap();
            c.execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL);
                 INSERT INTO schema_migrations VALUES (1, 'init', 'x'), (2, 'admin', 'x');
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                 INSERT INTO audit_events (tenant_id, at, actor, operation, target, outcome, status)
                   SELECT 't1', '2026-01-01T00:00:00.000Z', 'cli', 'scim.user.get',
                          CASE WHEN i % 2 = 1 THEN 'u1' ELSE 'u2' END, 'success', 200 FROM n;",
            )
            .unwrap();
        }
        let store = super::SqliteStore::open(&path).await.unwrap();
        store.append_audit(&[audit_event("u1")]).await.unwrap();
        let found = store
            .query_audit(&AuditQuery {
                tenant_id: Some(TenantId("t1".into())),
                target: Some("u1".into()),
                limit: 10_000,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        // All 1500 older ones: most lie far below the watermark, so only the index finds them.
        assert_eq!(found.len(), 1501);
        assert_eq!(found[0].at, "2026-01-01T00:00:03.000Z");
        assert!(found.iter().all(|e| e.target.as_deref() == Some("u1")));
    }

    fn audit_event(target: &str) -> muster_domain::admin::model::AuditEvent {
        muster_domain::admin::model::AuditEvent {
            tenant_id: Some(TenantId("t1".into())),
            at: "2026-01-01T00:00:03.000Z".into(),
            actor: "cli".into(),
            operation: "scim.users.get".into(),
            target: Some(target.into()),
            outcome: "success".into(),
            status: 200,
            ..Default::default()
        }
    }

    /// Tables of the audit log still in the directory's file.
    fn audit_tables_in_main(store: &super::SqliteStore) -> i64 {
        store.backend.readers[0]
            .try_lock()
            .unwrap()
            .query_row(
                "SELECT count(*) FROM main.sqlite_master WHERE name LIKE 'audit%'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// A reader's page cache of the directory is emptied whenever the directory's file changed
    /// since its last read. Audit appends, one batch every few milliseconds under load, go to
    /// the audit file only, so they never change it.
    #[tokio::test]
    async fn audit_appends_leave_the_directory_file_unchanged() {
        use muster_domain::admin::store::AdminStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = super::SqliteStore::open(&path).await.unwrap();
        assert!(super::audit_path(&path).exists());
        let versions = || {
            let reader = store.backend.readers[0].try_lock().unwrap();
            let v = |schema: &str| {
                reader
                    .query_row(&format!("PRAGMA {schema}.data_version"), [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .unwrap()
            };
            (v("main"), v("audit"))
        };
        let (main, audit) = versions();
        store.append_audit(&[audit_event("u1")]).await.unwrap();
        let (main_after, audit_after) = versions();
        assert_eq!(
            main_after, main,
            "an audit append changed the directory's file"
        );
        assert_ne!(audit_after, audit, "the append reached the audit file");
        let tables = audit_tables_in_main(&store);
        assert_eq!(tables, 0, "no audit table is left in the directory's file");
    }

    /// A store whose log was in the directory's file (before the audit file) has it moved on
    /// open; when an earlier open copied it and stopped before dropping it (the two files commit
    /// one after the other), the next open finishes the move without doubling any event.
    #[tokio::test]
    async fn an_interrupted_move_of_the_audit_log_finishes_on_the_next_open() {
        use muster_domain::admin::model::AuditQuery;
        use muster_domain::admin::store::AdminStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let store = super::SqliteStore::open(&path).await.unwrap();
            store.append_audit(&[audit_event("u1")]).await.unwrap();
        }
        // Put the log back into the directory's file, as a store made before the move had it,
        // and leave the audit file's copy in place, as a move cut off between its steps does.
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute(
                "ATTACH DATABASE ?1 AS audit",
                [super::audit_path(&path).to_string_lossy()],
            )
            .unwrap();
            c.execute_batch(
                "CREATE TABLE main.audit_events AS SELECT * FROM audit.audit_events;
                 CREATE TABLE main.audit_targets AS SELECT * FROM audit.audit_targets;
                 CREATE TABLE main.audit_index AS SELECT * FROM audit.audit_index;
                 INSERT INTO main.audit_events (seq, tenant_id, at, actor, operation, target, outcome, status)
                   VALUES (100, 't1', '2026-01-01T00:00:04.000Z', 'cli', 'scim.users.get', 'u1', 'success', 200);",
            )
            .unwrap();
        }
        let store = super::SqliteStore::open(&path).await.unwrap();
        let found = store
            .query_audit(&AuditQuery {
                tenant_id: Some(TenantId("t1".into())),
                target: Some("u1".into()),
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        let ats: Vec<&str> = found.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(
            ats,
            ["2026-01-01T00:00:04.000Z", "2026-01-01T00:00:03.000Z"],
            "each event once, the one only in the old place too"
        );
        let left = audit_tables_in_main(&store);
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn migration_2_reserves_the_system_group_names() {
        use muster_domain::store::Store;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(include_str!("../../migrations/sqlite/0001_init.sql"))
                .unwrap();
            c.execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL);
                 INSERT INTO schema_migrations VALUES (1, 'init', '2026-01-01T00:00:00.000Z');
                 INSERT INTO tenants (id, name, name_norm, mode, created) VALUES ('t1', 'Old', 'old', 'scim', '2026-01-01T00:00:00.000Z');
                 INSERT INTO users (tenant_id, id, user_name, name_norm, display, data, search, created, last_modified, version)
                   VALUES ('t1', 'u1', 'ann@x.com', 'ann@x.com', 'ann@x.com', '{\"userName\":\"ann@x.com\"}', '{}', 'x', 'x', 1);
                 INSERT INTO groups (tenant_id, id, display_name, name_norm, data, search, created, last_modified, version)
                   VALUES ('t1', 'g1', 'Everyone', 'everyone', '{\"displayName\":\"Everyone\"}', '{\"displayName\":\"everyone\"}', 'x', 'x', 1);
                 INSERT INTO group_members VALUES ('t1', 'g1', 'u1', 0);",
            )
            .unwrap();
        }
        let store = super::SqliteStore::open(&path).await.unwrap();
        let t = TenantId("t1".into());
        let pushed = store
            .get(
                &t,
                ResourceKind::Group,
                "g1",
                Load {
                    members: true,
                    ..Load::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(pushed.data["displayName"], "SCIM_Everyone");
        assert_eq!(pushed.class, "scim");
        assert_eq!(pushed.members.map(|m| m.len()), Some(1));
        let q = ListQuery {
            filter: None,
            sort: None,
            descending: false,
            page: PageReq::Index {
                start: 1,
                count: 10,
            },
            load: Load::default(),
        };
        let groups = store.list(&t, ResourceKind::Group, &q).await.unwrap();
        let mut names: Vec<(String, String)> = groups
            .items
            .iter()
            .map(|g| {
                (
                    g.data["displayName"].as_str().unwrap_or("").to_string(),
                    g.class.clone(),
                )
            })
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                (
                    "Admin Center Administrators".to_string(),
                    "system".to_string()
                ),
                ("Everyone".to_string(), "system".to_string()),
                ("SCIM_Everyone".to_string(), "scim".to_string()),
            ]
        );
    }
}

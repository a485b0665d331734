//! PostgreSQL (and PostgreSQL-compatible distributed SQL): for several stateless muster nodes
//! on one database. Writes lock the row they change (a user by `SELECT … FOR UPDATE`, a group by
//! bumping its version), so concurrent PATCHes from different nodes serialise per resource;
//! migrations serialise on a lock row.

use crate::exec::{Backend, Conn, internal, pool_error};
use crate::migrate::Migration;
use crate::sql::{Dialect, Sql};
use crate::store::{SqlStore, now};
use async_trait::async_trait;
use muster_domain::store::StoreResult;
use muster_scim::schema::AttrType;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[cfg(test)]
mod plan_tests;
pub mod statistics;
mod warm;

pub struct PgDialect;

impl Dialect for PgDialect {
    fn push_placeholder(text: &mut String, n: usize) {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(text, "${n}");
    }
    fn json_scalar(sql: &mut Sql<Self>, col: &str, path: &[String], ty: AttrType) {
        sql.push(&format!("(({col} #>> "));
        sql.text(pg_path(path));
        match ty {
            AttrType::Boolean => sql.push("::text[])::boolean::int)"),
            AttrType::Integer | AttrType::Decimal => sql.push("::text[])::numeric)"),
            _ => sql.push("::text[]) COLLATE \"C\")"),
        };
    }
    fn json_elements(sql: &mut Sql<Self>, col: &str, path: &[String], alias: &str) {
        sql.push(&format!("jsonb_array_elements(COALESCE({col} #> "));
        sql.text(pg_path(path));
        sql.push(&format!("::text[], '[]'::jsonb)) AS {alias}(value)"));
    }
    const FALSE: &'static str = "false";
    const CONTAINS_OPEN: &'static str = "strpos(";
    const SUFFIX_OPEN: &'static str = "right(";
    fn suffix_close(n: usize) -> String {
        format!(", {n})")
    }
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const IN_ROWS_OPEN: &'static str = " = ANY(ARRAY(";
    const IN_ROWS_CLOSE: &'static str = "))";
    const JSON_TEXTS_OPEN: &'static str = "SELECT * FROM json_array_elements_text(";
    const JSON_TEXTS_CLOSE: &'static str = "::json) WITH ORDINALITY";
    const TENANT_KEY_OPEN: &'static str = "(SELECT ";
    const TENANT_KEY_CLOSE: &'static str = "::text)";
    /// One lock for every node's audit appends (the key is arbitrary, fixed): an identity value
    /// is taken at insert, so without it a batch could commit below one already indexed.
    const AUDIT_APPEND_LOCK: &'static str = "SELECT pg_advisory_xact_lock(7318349394477056)";
    const JSON_CAST: &'static str = "::jsonb";
    fn push_triple_array(sql: &mut Sql<Self>, a: &str, b: &str, c: &str) {
        sql.push("COALESCE(json_agg(json_build_array(")
            .push(a)
            .push(", ")
            .push(b)
            .push(", ")
            .push(c)
            .push("))::text, '[]')");
    }
    const MIGRATIONS: &'static [Migration] = &[
        Migration {
            version: 1,
            name: "init",
            sql: include_str!("../../migrations/postgres/0001_init.sql"),
        },
        Migration {
            version: 2,
            name: "admin",
            sql: include_str!("../../migrations/postgres/0002_admin.sql"),
        },
        Migration {
            version: 3,
            name: "audit_targets",
            sql: include_str!("../../migrations/postgres/0003_audit_targets.sql"),
        },
        Migration {
            version: 4,
            name: "members_in_order",
            sql: include_str!("../../migrations/postgres/0004_members_in_order.sql"),
        },
        Migration {
            version: 5,
            name: "no_statistics_for_documents",
            sql: include_str!("../../migrations/postgres/0005_no_statistics_for_documents.sql"),
        },
    ];
}

/// `["name", "givenName"]` → `{"name","givenName"}` (a text[] literal).
fn pg_path(segments: &[String]) -> String {
    let quoted: Vec<String> = segments
        .iter()
        .map(|s| format!("\"{}\"", s.replace(['"', '\\'], "")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

/// A pooled connection idle this long is pinged before it is used.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

pub struct PgBackend {
    /// Shared with the statistics keeper only weakly, so dropping the store closes the pool.
    pool: Arc<PgPool>,
    warm: Arc<warm::Warm>,
}

/// The store on PostgreSQL.
pub type PgStore = SqlStore<PgBackend>;

impl SqlStore<PgBackend> {
    /// Connects (`postgres://…`; a `search_path` may be given as `options`) and migrates.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<PgStore> {
        let opts = PgConnectOptions::from_str(url).map_err(internal)?;
        Self::connect_with(opts, max_connections).await
    }

    /// Connects with `search_path` set to `schema`, creating the schema first: one database can
    /// hold several isolated installations (each test of the suite uses its own).
    pub async fn connect_schema(
        url: &str,
        schema: &str,
        max_connections: u32,
    ) -> StoreResult<PgStore> {
        check_schema_name(schema)?;
        let opts = PgConnectOptions::from_str(url).map_err(internal)?;
        let admin = admin_pool(opts.clone()).await?;
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
        )))
        .execute(&admin)
        .await
        .map_err(internal)?;
        admin.close().await;
        // Named after the schema, so `drop_schema` can end this installation's sessions.
        let opts = opts
            .options([("search_path", schema)])
            .application_name(schema);
        Self::connect_with(opts, max_connections).await
    }

    pub async fn connect_with(
        opts: PgConnectOptions,
        max_connections: u32,
    ) -> StoreResult<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            // By default sqlx pings every connection it hands out, besides the ping when one is
            // given back (off the request's path): a round trip on every request's path, as
            // costly to the server as the statement it precedes. Under load a pooled connection
            // is idle for microseconds; one idle for a while (the database may have restarted
            // meanwhile) is still checked.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(opts)
            .await
            .map_err(internal)?;
        let pool = Arc::new(pool);
        statistics::keep_current(Arc::downgrade(&pool));
        // Half the pool at most is kept warm, and none while anyone waits for the pool; a pool
        // of one keeps none.
        let warm = warm::Warm::new((max_connections / 2) as usize);
        SqlStore::init(PgBackend { pool, warm }).await
    }

    /// Analyzes the tables whose statistics are stale now (see [`statistics`]); every node also
    /// does this by itself every few seconds.
    pub async fn analyze_stale(&self) -> StoreResult<Vec<String>> {
        statistics::analyze_stale(&self.backend.pool).await
    }

    /// Vacuums the tables autovacuum would have vacuumed by now (see [`statistics`]); every
    /// node also does this by itself every few seconds.
    pub async fn vacuum_stale(&self) -> StoreResult<Vec<String>> {
        statistics::vacuum_stale(&self.backend.pool).await
    }
}

fn check_schema_name(schema: &str) -> StoreResult<()> {
    if schema.is_empty()
        || !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(internal(format!("invalid schema name '{schema}'")));
    }
    Ok(())
}

/// Ends the sessions of the installation in `schema` (named after it, as
/// [`SqlStore::connect_schema`] names them), as a database restart would; returns how many.
pub async fn end_sessions(url: &str, schema: &str) -> StoreResult<u64> {
    let admin = admin_pool(PgConnectOptions::from_str(url).map_err(internal)?).await?;
    let ended = terminate_sessions(&admin, schema).await;
    admin.close().await;
    ended
}

/// One session for a one-off statement outside any installation (schemas, other sessions).
async fn admin_pool(opts: PgConnectOptions) -> StoreResult<PgPool> {
    PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .map_err(internal)
}

async fn terminate_sessions(admin: &PgPool, schema: &str) -> StoreResult<u64> {
    let ended = sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND pid <> pg_backend_pid()",
    )
    .bind(schema)
    .execute(admin)
    .await
    .map_err(internal)?;
    Ok(ended.rows_affected())
}

/// Drops a schema made by [`SqlStore::connect_schema`], with everything in it.
pub async fn drop_schema(url: &str, schema: &str) -> StoreResult<()> {
    check_schema_name(schema)?;
    let admin = admin_pool(PgConnectOptions::from_str(url).map_err(internal)?).await?;
    // A session of this installation left inside a transaction (its process or runtime went
    // away mid-write) would hold locks that DROP SCHEMA waits for forever.
    terminate_sessions(&admin, schema).await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&admin)
    .await
    .map_err(internal)?;
    admin.close().await;
    Ok(())
}

/// [`drop_schema`] from synchronous code (a test's `Drop`, which may run while a test panics):
/// on a short-lived runtime of its own thread; failures are ignored.
pub fn drop_schema_blocking(url: &str, schema: &str) {
    let (url, schema) = (url.to_string(), schema.to_string());
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            let _ = rt.block_on(drop_schema(&url, &schema));
        }
    })
    .join();
}

#[async_trait]
impl Backend for PgBackend {
    type D = PgDialect;
    const BATCH_READS: bool = true;
    const DATA_MODIFYING_CTES: bool = true;

    async fn read(&self) -> StoreResult<Box<dyn Conn<PgDialect>>> {
        let conn = self.warm.acquire(&self.pool).await.map_err(pool_error)?;
        Ok(Box::new(warm::Read::new(conn, self.warm.clone())))
    }

    async fn write(&self) -> StoreResult<Box<dyn Conn<PgDialect>>> {
        let conn = self.warm.acquire(&self.pool).await.map_err(pool_error)?;
        Ok(Box::new(warm::Tx::begin(conn, self.warm.clone()).await?))
    }

    async fn write_one(&self) -> StoreResult<Box<dyn Conn<PgDialect>>> {
        // Autocommit: the statement commits when it completes, without BEGIN and COMMIT.
        self.read().await
    }

    async fn backup(&self, _path: &str) -> StoreResult<()> {
        Err(internal(
            "back up PostgreSQL with pg_dump or its continuous archiving",
        ))
    }

    fn pool_stats(&self) -> Vec<(&'static str, u32, u32)> {
        let idle = self.pool.num_idle() + self.warm.len();
        vec![("postgres", self.pool.size(), idle as u32)]
    }

    async fn migrate(&self, migrations: &[Migration]) -> StoreResult<()> {
        // Nodes starting together race on CREATE TABLE IF NOT EXISTS; the loser retries.
        let setup = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL); \
                     CREATE TABLE IF NOT EXISTS schema_lock (id BIGINT PRIMARY KEY); \
                     INSERT INTO schema_lock (id) VALUES (1) ON CONFLICT DO NOTHING";
        let mut attempt = 0;
        loop {
            match sqlx::raw_sql(setup).execute(&*self.pool).await {
                Ok(_) => break,
                Err(_) if attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(e) => return Err(internal(e)),
            }
        }
        let mut tx = self.pool.begin().await.map_err(internal)?;
        // The lock row serialises migrating nodes (portable to distributed SQL, unlike advisory locks).
        sqlx::query("SELECT id FROM schema_lock WHERE id = 1 FOR UPDATE")
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
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)",
            )
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

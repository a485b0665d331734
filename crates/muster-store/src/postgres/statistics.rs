//! Keeps the planner's statistics of muster's tables current, and their visibility maps set,
//! when autovacuum does not.
//!
//! PostgreSQL plans from statistics that only `ANALYZE` (normally autovacuum's) gathers. A table
//! that was never analyzed, or that has grown tenfold since, is planned from guesses: with a
//! tenant's rows or a big group estimated at a handful, a lookup of 100 member ids scanned the
//! whole group through the index on its tenant and group instead of probing the unique index
//! 100 times (6 ms instead of 0.3 at 20k members, growing with the group). Autovacuum can be off
//! (it is on some test and benchmark machines) or slow to reach a table during an initial sync,
//! so each node checks now and then and analyzes what has changed a lot since its last analysis,
//! by the thresholds autovacuum itself uses.
//!
//! `VACUUM` does the rest of autovacuum's work: it reclaims the rows that updates and deletes
//! left behind (every membership change rewrites its group's row), and it marks pages
//! all-visible, without which an index-only scan reads the table anyway. Each member a PATCH
//! adds is checked with one such probe of `users_id`; on a table never vacuumed every probe
//! also fetched its row.

use crate::exec::internal;
use muster_domain::store::StoreResult;
use sqlx::AssertSqlSafe;
use sqlx::PgPool;
use std::sync::Weak;
use std::time::Duration;

/// How often a node looks.
const EVERY: Duration = Duration::from_secs(10);

/// muster's tables that grow with a tenant: the only ones whose plans depend on their size.
/// Other applications' tables in a shared schema are left to their owners.
const TABLES: &[&str] = &[
    "users",
    "groups",
    "group_members",
    "audit_events",
    "audit_targets",
];

/// Those of [`TABLES`] in this schema whose rows changed by more than autovacuum's default
/// analyze threshold (50 rows + 10 % of the table) since their last analysis, and that were not
/// analyzed in the last 30 s (nodes taking turns, a big table growing fast).
const STALE: &str = "SELECT s.relname::text FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
    WHERE s.schemaname = current_schema() AND s.relname::text = ANY($1) \
    AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0) \
    AND COALESCE(GREATEST(s.last_analyze, s.last_autoanalyze), 'epoch') < now() - interval '30 seconds' \
    ORDER BY s.n_mod_since_analyze DESC";

/// Those of [`TABLES`] in this schema that autovacuum's default thresholds would vacuum: more
/// dead rows than 50 + 20 % of the table, or more rows inserted since the last vacuum than
/// 1 000 + 20 % of it (`n_ins_since_vacuum`, PostgreSQL 13+; read through `to_jsonb` so that
/// older servers see none), and not vacuumed in the last minute.
const UNVACUUMED: &str = "SELECT s.relname::text FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
    WHERE s.schemaname = current_schema() AND s.relname::text = ANY($1) \
    AND (s.n_dead_tup > 50 + 0.2 * GREATEST(c.reltuples, 0) \
         OR COALESCE((to_jsonb(s) ->> 'n_ins_since_vacuum')::float8, 0) > 1000 + 0.2 * GREATEST(c.reltuples, 0)) \
    AND COALESCE(GREATEST(s.last_vacuum, s.last_autovacuum), 'epoch') < now() - interval '1 minute' \
    ORDER BY s.n_dead_tup DESC";

/// Analyzes the stale tables now; returns their names.
pub async fn analyze_stale(pool: &PgPool) -> StoreResult<Vec<String>> {
    maintain(pool, STALE, "ANALYZE").await
}

/// Vacuums the tables autovacuum would have vacuumed by now; returns their names.
pub async fn vacuum_stale(pool: &PgPool) -> StoreResult<Vec<String>> {
    maintain(pool, UNVACUUMED, "VACUUM").await
}

/// Runs `verb` on each table `query` names.
async fn maintain(pool: &PgPool, query: &'static str, verb: &str) -> StoreResult<Vec<String>> {
    let stale: Vec<String> = sqlx::query_scalar(query)
        .bind(TABLES)
        .fetch_all(pool)
        .await
        .map_err(internal)?;
    for table in &stale {
        // SKIP_LOCKED (PostgreSQL 12+): another node, or autovacuum, at it is as good.
        // The name is one of TABLES, in this schema.
        let sql = format!("{verb} (SKIP_LOCKED) {table}");
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(pool)
            .await
            .map_err(internal)?;
    }
    Ok(stale)
}

/// Checks every [`EVERY`] for as long as the store's pool exists.
pub fn keep_current(pool: Weak<PgPool>) {
    tokio::spawn(async move {
        let (mut analyzing, mut vacuuming) = (true, true);
        while analyzing || vacuuming {
            tokio::time::sleep(EVERY).await;
            let Some(pool) = pool.upgrade() else { break };
            if pool.is_closed() {
                break;
            }
            if analyzing {
                analyzing = report(analyze_stale(&pool).await, "analyzed", "analyze");
            }
            if vacuuming {
                vacuuming = report(vacuum_stale(&pool).await, "vacuumed", "vacuum");
            }
        }
    });
}

/// Logs one round's outcome; false when the keeper should stop trying. A failure (not
/// permitted, or an engine without these statistics) will not start working later, so it is
/// said once and the work left to the database.
fn report(outcome: StoreResult<Vec<String>>, done: &str, verb: &str) -> bool {
    match outcome {
        Ok(t) if t.is_empty() => true,
        Ok(t) => {
            tracing::debug!(tables = ?t, "{done} tables");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot {verb} muster's tables; relying on autovacuum");
            false
        }
    }
}

//! Keeps the planner's statistics of muster's tables current when autovacuum does not.
//!
//! PostgreSQL plans from statistics that only `ANALYZE` (normally autovacuum's) gathers. A table
//! that was never analyzed, or that has grown tenfold since, is planned from guesses: with a
//! tenant's rows or a big group estimated at a handful, a lookup of 100 member ids scanned the
//! whole group through the index on its tenant and group instead of probing the unique index
//! 100 times (6 ms instead of 0.3 at 20k members, growing with the group). Autovacuum can be off
//! (it is on some test and benchmark machines) or slow to reach a table during an initial sync,
//! so each node checks now and then and analyzes what has changed a lot since its last analysis,
//! by the thresholds autovacuum itself uses.

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

/// Analyzes the stale tables now; returns their names.
pub async fn analyze_stale(pool: &PgPool) -> StoreResult<Vec<String>> {
    let stale: Vec<String> = sqlx::query_scalar(STALE)
        .bind(TABLES)
        .fetch_all(pool)
        .await
        .map_err(internal)?;
    for table in &stale {
        // SKIP_LOCKED (PostgreSQL 12+): another node, or autovacuum, analyzing it is as good.
        // The name is one of TABLES, in this schema.
        let sql = format!("ANALYZE (SKIP_LOCKED) {table}");
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
        loop {
            tokio::time::sleep(EVERY).await;
            let Some(pool) = pool.upgrade() else { break };
            if pool.is_closed() {
                break;
            }
            match analyze_stale(&pool).await {
                Ok(t) if t.is_empty() => {}
                Ok(t) => tracing::debug!(tables = ?t, "analyzed tables for the planner"),
                Err(e) => {
                    // Not permitted, or an engine without these statistics: it will not start
                    // working later, so say it once and leave the statistics to the database.
                    tracing::warn!(error = %e, "cannot analyze muster's tables; relying on autovacuum");
                    break;
                }
            }
        }
    });
}

//! PostgreSQL plans from statistics that autovacuum may not gather in time (or at all, where
//! it is off): muster keeps them current itself. Runs when MUSTER_TEST_POSTGRES_URL is set.

use crate::backend::{PgSchema, postgres_url};
use crate::support::store_users;
use muster_domain::model::Mode;
use muster_domain::store::Store;
use std::time::{Duration, Instant};

#[tokio::test]
async fn tables_that_changed_a_lot_since_their_last_analysis_are_analyzed_once() {
    let Some(url) = postgres_url() else {
        return;
    };
    let name = format!("s_{}", uuid::Uuid::new_v4().simple());
    let _schema = PgSchema::new(url.clone(), name.clone());
    let store = muster_store::PgStore::connect_schema(&url, &name, 2)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let t = store
        .create_tenant("stats", Mode::Scim)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store_users(&store, &t.id, "u", 200).await;
    // Sessions report their row counts to the statistics views when they end (or when idle
    // for a while): end the writer's, and ask from another store.
    drop(store);
    let store = muster_store::PgStore::connect_schema(&url, &name, 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let analyzed = loop {
        let analyzed = store
            .analyze_stale()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if analyzed.iter().any(|t| t == "users") || Instant::now() > deadline {
            break analyzed;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(analyzed.iter().any(|t| t == "users"), "{analyzed:?}");
    // Analyzed just now: not again, though nothing else changed.
    let again = store
        .analyze_stale()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!again.iter().any(|t| t == "users"), "{again:?}");
}

//! PostgreSQL's plans of the membership statements, before any statistics exist: the state of
//! every table during an initial sync, until ANALYZE reaches it. Each listed id must probe a
//! unique index, never read the tenant's users or the group's members. Also how many sessions
//! a write holds at once, and how reads keep theirs (`warm`). Runs when MUSTER_TEST_POSTGRES_URL
//! is set.

use super::{PgDialect, PgStore, drop_schema_blocking};
use crate::exec::{Backend, Conn, Ty};
use crate::sql::Sql;
use crate::store::{delete_members, first_unknown_sql, insert_found_members};
use muster_domain::model::{Load, Mode, NewResource, Stored, Update};
use muster_domain::store::{Store, StoreError};
use muster_scim::patch::MemberChange;
use muster_scim::schema::ResourceKind;

/// A schema of its own for a test, dropped when the test ends, also when it fails.
struct Scratch {
    url: String,
    schema: String,
}

impl Scratch {
    /// None when MUSTER_TEST_POSTGRES_URL is not set.
    fn new() -> Option<Scratch> {
        let url = std::env::var("MUSTER_TEST_POSTGRES_URL").ok()?;
        let schema = format!("p_{}", uuid::Uuid::new_v4().simple());
        (!url.is_empty()).then_some(Scratch { url, schema })
    }

    /// The store on this schema, migrated, with at most `sessions` connections.
    async fn store(&self, sessions: u32) -> PgStore {
        PgStore::connect_schema(&self.url, &self.schema, sessions)
            .await
            .unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        drop_schema_blocking(&self.url, &self.schema);
    }
}

/// The plan of `sql` with its binds, its lines joined by ` | `.
async fn plan(store: &PgStore, sql: &Sql<PgDialect>) -> String {
    let mut explain = Sql::<PgDialect>::new("EXPLAIN ");
    explain.push(&sql.text);
    explain.binds = sql.binds.clone();
    let mut conn = store.backend.read().await.unwrap();
    let rows = conn.rows(&explain, &[Ty::Text]).await.unwrap();
    let lines: Vec<String> = rows.into_iter().map(|mut r| r.text(0).unwrap()).collect();
    lines.join(" | ")
}

/// `INSERT` of users `u000001`… (named `n1`…) of `tenant`, `n` of them in one statement, as
/// a bulk load writes them: no ANALYZE sees them.
fn bulk_users(tenant: &str, n: u32) -> Sql<PgDialect> {
    let mut fill = Sql::<PgDialect>::new(
        "INSERT INTO users (tenant_id, id, user_name, name_norm, display, data, search, created, \
         last_modified, version) SELECT ",
    );
    fill.text(tenant).push(&format!(
        ", 'u' || lpad(i::text, 6, '0'), 'n' || i, 'n' || i, 'd', '{{}}', '{{}}', 'x', 'x', 1 \
         FROM generate_series(1, {n}) i"
    ));
    fill
}

#[tokio::test]
async fn member_changes_probe_unique_indexes_whatever_the_statistics() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(2).await;
    let t = store.create_tenant("plans", Mode::Scim).await.unwrap();
    let tid = &t.id;
    // 20k users and a group of 5k, written in bulk: no ANALYZE has seen them (autovacuum is
    // kept off these tables; the statistics keeper's first look is 10 s away).
    let mut conn = store.backend.write().await.unwrap();
    for table in ["users", "groups", "group_members"] {
        let off = Sql::<PgDialect>::new(&format!(
            "ALTER TABLE {table} SET (autovacuum_enabled = false)"
        ));
        conn.exec(&off).await.unwrap();
    }
    conn.exec(&bulk_users(&t.id.0, 20_000)).await.unwrap();
    let mut group = Sql::<PgDialect>::new(
        "INSERT INTO groups (tenant_id, id, display_name, name_norm, data, search, created, \
         last_modified, version) VALUES (",
    );
    group
        .text(t.id.0.clone())
        .push(", 'G', 'G', 'g', '{}', '{}', 'x', 'x', 1)");
    conn.exec(&group).await.unwrap();
    let mut members = Sql::<PgDialect>::new(
        "INSERT INTO group_members (tenant_id, group_id, member_id, member_kind) SELECT ",
    );
    members
        .text(t.id.0.clone())
        .push(", 'G', 'u' || lpad(i::text, 6, '0'), 0 FROM generate_series(1, 5000) i ORDER BY i");
    conn.exec(&members).await.unwrap();
    conn.commit().await.unwrap();

    let never_analyzed = Sql::<PgDialect>::new(
        "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = current_schema() \
         AND relname IN ('users', 'groups', 'group_members') \
         AND last_analyze IS NULL AND last_autoanalyze IS NULL",
    );
    let mut read = store.backend.read().await.unwrap();
    let rows = read.rows(&never_analyzed, &[Ty::Int]).await.unwrap();
    assert_eq!(rows[0].int(0).unwrap(), 3, "a table was analyzed already");
    drop(read);
    let newcomers: Vec<String> = (6001..6101).map(|i| format!("u{i:06}")).collect();
    let leavers: Vec<String> = (4001..4101).map(|i| format!("u{i:06}")).collect();
    for (what, sql) in [
        (
            "add",
            insert_found_members::<super::PgBackend>(tid, "G", &newcomers),
        ),
        (
            "unknown",
            first_unknown_sql::<super::PgBackend>(tid, &newcomers),
        ),
        (
            "remove",
            delete_members::<super::PgBackend>(tid, "G", &leavers),
        ),
    ] {
        let plan = plan(&store, &sql).await;
        assert!(!plan.contains("Seq Scan on users"), "{what}: {plan}");
        assert!(
            !plan.contains("Bitmap Heap Scan on users"),
            "{what}: {plan}"
        );
        assert!(!plan.contains("hashed SubPlan"), "{what}: {plan}");
        assert!(!plan.contains("group_members_group"), "{what}: {plan}");
        assert!(
            !plan.contains("Seq Scan on group_members"),
            "{what}: {plan}"
        );
        let probe = if what == "remove" {
            "group_members_member"
        } else {
            "users_id"
        };
        assert!(plan.contains(probe), "{what}: {plan}");
    }
    drop(store);
}

/// A tenant that the statistics have not seen yet (its initial sync began after the last
/// ANALYZE, which saw only another tenant) has its users looked up by name and by id through
/// the unique indexes, not by reading all its users through another index led by the tenant.
#[tokio::test]
async fn lookups_of_a_tenant_the_statistics_do_not_know_probe_unique_indexes() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(2).await;
    let known = store.create_tenant("known", Mode::Scim).await.unwrap();
    let new = store.create_tenant("new", Mode::Scim).await.unwrap();
    let mut conn = store.backend.write().await.unwrap();
    let off = Sql::<PgDialect>::new("ALTER TABLE users SET (autovacuum_enabled = false)");
    conn.exec(&off).await.unwrap();
    conn.exec(&bulk_users(&known.id.0, 20_000)).await.unwrap();
    conn.commit().await.unwrap();
    let mut conn = store.backend.write().await.unwrap();
    conn.exec(&Sql::<PgDialect>::new("ANALYZE users"))
        .await
        .unwrap();
    conn.exec(&bulk_users(&new.id.0, 5_000)).await.unwrap();
    conn.commit().await.unwrap();
    let names = vec!["n17".to_string(), "n4242".to_string()];
    let ids = vec!["u000017".to_string(), "u004242".to_string()];
    for (what, key, values, index) in [
        ("by name", "r.name_norm", &names, "users_name_norm"),
        ("by id", "r.id", &ids, "users_id"),
        (
            "one by name",
            "r.name_norm",
            &names[..1].to_vec(),
            "users_name_norm",
        ),
    ] {
        let sql = crate::store::find_many_sql::<PgDialect>(
            &new.id,
            ResourceKind::User,
            key,
            values,
            Load::default(),
            false,
        );
        let plan = plan(&store, &sql).await;
        assert!(
            plan.contains(&format!("Index Scan using {index} on users")),
            "{what}: {plan}"
        );
        assert!(!plan.contains("Filter: (name_norm"), "{what}: {plan}");
        assert!(!plan.contains("Filter: (id"), "{what}: {plan}");
    }
    // The check that each member to add is a user of the tenant probes users_id too.
    let members: Vec<String> = (1..=100).map(|i| format!("u{i:06}")).collect();
    let sql = first_unknown_sql::<super::PgBackend>(&new.id, &members);
    let plan = plan(&store, &sql).await;
    assert!(plan.contains("using users_id on users"), "members: {plan}");
    assert!(!plan.contains("users_class"), "members: {plan}");
    assert!(!plan.contains("users_seq"), "members: {plan}");
    drop(store);
}

/// The heap fetches of the one index-only scan in `explain`'s (an `EXPLAIN ANALYZE`) plan.
async fn heap_fetches(store: &PgStore, explain: &Sql<PgDialect>) -> u64 {
    let mut conn = store.backend.read().await.unwrap();
    let rows = conn.rows(explain, &[Ty::Text]).await.unwrap();
    let lines: Vec<String> = rows.into_iter().map(|mut r| r.text(0).unwrap()).collect();
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("Heap Fetches: "))
        .map(|n| n.parse::<u64>().unwrap())
        .unwrap_or_else(|| panic!("no index-only scan: {}", lines.join(" | ")))
}

/// Users created in bulk on a server whose autovacuum is off (or has not come round yet) are
/// vacuumed by the keeper once, so that the probe of `users_id` that checks each added member
/// can be index-only, reading no table rows.
#[tokio::test]
async fn users_created_in_bulk_are_vacuumed_once_and_member_checks_skip_the_table() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(2).await;
    let t = store.create_tenant("vacuum", Mode::Scim).await.unwrap();
    let mut conn = store.backend.write().await.unwrap();
    let off = Sql::<PgDialect>::new("ALTER TABLE users SET (autovacuum_enabled = false)");
    conn.exec(&off).await.unwrap();
    conn.exec(&bulk_users(&t.id.0, 3_000)).await.unwrap();
    conn.commit().await.unwrap();
    // A session reports its inserts to the statistics views when it ends: ask from another.
    drop(store);
    let store = scratch.store(2).await;
    let ids: Vec<String> = (1..=100).map(|i| format!("u{i:06}")).collect();
    let probe = first_unknown_sql::<super::PgBackend>(&t.id, &ids);
    let mut explain = Sql::<PgDialect>::new("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ");
    explain.push(&probe.text);
    explain.binds = probe.binds.clone();
    assert_eq!(
        heap_fetches(&store, &explain).await,
        100,
        "the rows are new: each probe reads its row"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let vacuumed = store.vacuum_stale().await.unwrap();
        if vacuumed.iter().any(|t| t == "users") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "users never vacuumed: {vacuumed:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Whether the vacuum could mark the pages all-visible (and the probes then read no rows)
    // depends on every other session of the database: one whose snapshot is older than the
    // inserts, such as a concurrent test's, holds it back. Alone, the probes read none.
    let mut read = store.backend.read().await.unwrap();
    let count = Sql::<PgDialect>::new(
        "SELECT vacuum_count FROM pg_stat_user_tables \
         WHERE schemaname = current_schema() AND relname = 'users'",
    );
    assert_eq!(
        read.rows(&count, &[Ty::Int]).await.unwrap()[0]
            .int(0)
            .unwrap(),
        1
    );
    drop(read);
    // Vacuumed just now: not again.
    let again = store.vacuum_stale().await.unwrap();
    assert!(!again.iter().any(|t| t == "users"), "{again:?}");
}

/// ANALYZE skips the documents (migration 5): sorting their sample was most of its cost.
#[tokio::test]
async fn analyze_gathers_no_statistics_on_documents() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(1).await;
    let sql = Sql::<PgDialect>::new(
        "SELECT c.relname || '.' || a.attname FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND a.attstattarget = 0 ORDER BY 1",
    );
    let mut conn = store.backend.read().await.unwrap();
    let rows = conn.rows(&sql, &[Ty::Text]).await.unwrap();
    let skipped: Vec<String> = rows.into_iter().map(|mut r| r.text(0).unwrap()).collect();
    for column in [
        "users.data",
        "users.search",
        "groups.data",
        "groups.search",
        "audit_events.message",
        "audit_events.before",
        "audit_events.after",
    ] {
        assert!(skipped.iter().any(|c| c == column), "{column}: {skipped:?}");
    }
    drop(conn);
    drop(store);
}

/// A new SCIM resource whose document is `{attr: name}`.
fn named(attr: &str, name: &str) -> NewResource {
    let mut data = serde_json::Map::new();
    data.insert(attr.into(), name.into());
    NewResource {
        data,
        members: Vec::new(),
        class: "scim".into(),
    }
}

/// An update that changes nothing ends its transaction before it reads what the answer needs:
/// holding it meanwhile, a pool of one session waited for itself (until the acquire timeout),
/// and N identical PUTs on a pool of N did the same.
#[tokio::test]
async fn an_update_that_changes_nothing_needs_one_session_at_a_time() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(1).await;
    let t = store.create_tenant("noop", Mode::Scim).await.unwrap();
    let user = store
        .create(&t.id, ResourceKind::User, named("userName", "same@x.com"))
        .await
        .unwrap();
    let group = store
        .create(&t.id, ResourceKind::Group, named("displayName", "Same"))
        .await
        .unwrap();
    let load = Load {
        groups: true,
        members: true,
        ..Load::default()
    };
    for (kind, id) in [
        (ResourceKind::User, user.id),
        (ResourceKind::Group, group.id),
    ] {
        let mut same = |cur: &Stored| {
            Ok(Update {
                data: cur.data.clone(),
                members: Vec::new(),
                class: None,
            })
        };
        let update = store.update(&t.id, kind, &id, None, load, &mut same);
        let done = tokio::time::timeout(std::time::Duration::from_secs(10), update)
            .await
            .unwrap_or_else(|_| panic!("{kind:?}: the update waited for a second session"));
        assert_eq!(done.unwrap().version, 1, "{kind:?}");
    }
    drop(store);
}

/// A change to a group's members alone is one statement: an add or a remove bumps the version
/// and changes the members together, an unknown member changes nothing, and any other change
/// is left to the general update.
#[tokio::test]
async fn a_change_to_members_alone_is_one_statement() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(2).await;
    let t = store.create_tenant("alone", Mode::Scim).await.unwrap();
    let ann = store
        .create(&t.id, ResourceKind::User, named("userName", "ann@x.com"))
        .await
        .unwrap();
    let g = store
        .create(&t.id, ResourceKind::Group, named("displayName", "G"))
        .await
        .unwrap();
    let members = |change: MemberChange| {
        move |cur: &Stored| {
            Ok(Update {
                data: cur.data.clone(),
                members: vec![change.clone()],
                class: None,
            })
        }
    };
    let member_ids = |s: Stored| -> Vec<String> {
        s.members
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.id)
            .collect()
    };
    let with_members = Load {
        members: true,
        ..Load::default()
    };
    let add = MemberChange::Add(vec![serde_json::json!({"value": ann.id})]);
    let done = store
        .members_alone(&t.id, &g.id, Some(&[1]), with_members, &mut members(add))
        .await
        .unwrap()
        .expect("an add of members is one statement");
    assert_eq!((done.version, member_ids(done)), (2, vec![ann.id.clone()]));

    let unknown = MemberChange::Add(vec![
        serde_json::json!({"value": ann.id}),
        serde_json::json!({"value": "nobody"}),
    ]);
    let err = store
        .members_alone(&t.id, &g.id, None, with_members, &mut members(unknown))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"nobody\""), "{err}");
    let now = store
        .get(&t.id, ResourceKind::Group, &g.id, with_members)
        .await
        .unwrap();
    assert_eq!((now.version, member_ids(now)), (2, vec![ann.id.clone()]));

    let stale = MemberChange::Remove(vec![ann.id.clone()]);
    let err = store
        .members_alone(&t.id, &g.id, Some(&[1]), with_members, &mut members(stale))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionMismatch), "{err}");

    let remove = MemberChange::Remove(vec![ann.id.clone()]);
    let done = store
        .members_alone(&t.id, &g.id, Some(&[2]), with_members, &mut members(remove))
        .await
        .unwrap()
        .expect("a remove of members is one statement");
    assert_eq!((done.version, member_ids(done)), (3, Vec::<String>::new()));

    let mut rename = |cur: &Stored| {
        let mut data = cur.data.clone();
        data.insert("displayName".into(), "H".into());
        Ok(Update {
            data,
            members: Vec::new(),
            class: None,
        })
    };
    let general = store
        .members_alone(&t.id, &g.id, None, Load::default(), &mut rename)
        .await
        .unwrap();
    assert!(general.is_none(), "a rename is the general update's");
    drop(store);
}

/// The session a read's statement ran on, by `pg_backend_pid()`.
async fn read_pid(store: &PgStore) -> i64 {
    let mut conn = store.backend.read().await.unwrap();
    let sql = Sql::<PgDialect>::new("SELECT pg_backend_pid()::bigint");
    conn.rows(&sql, &[Ty::Int]).await.unwrap()[0]
        .int(0)
        .unwrap()
}

#[tokio::test]
async fn reads_hand_their_session_to_the_next_read() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(4).await;
    let first = read_pid(&store).await;
    for _ in 0..20 {
        assert_eq!(read_pid(&store).await, first, "a read took another session");
    }
    assert_eq!(store.backend.warm.len(), 1);
    drop(store);
}

#[tokio::test]
async fn a_read_cancelled_or_failed_gives_its_session_back_to_the_pool() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(4).await;
    read_pid(&store).await;
    assert_eq!(store.backend.warm.len(), 1);
    // Cancelled half-way: the session may still be busy with the statement.
    {
        let mut conn = store.backend.read().await.unwrap();
        let sleep = Sql::<PgDialect>::new("SELECT pg_sleep(2)::text");
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            conn.rows(&sleep, &[Ty::Text]),
        )
        .await;
        assert!(cut.is_err(), "the statement was not cut short");
    }
    assert_eq!(
        store.backend.warm.len(),
        0,
        "a cancelled read's session was kept"
    );
    // Failed: a statement the database refused.
    {
        let mut conn = store.backend.read().await.unwrap();
        let bad = Sql::<PgDialect>::new("SELECT no_such_column FROM tenants");
        assert!(conn.rows(&bad, &[Ty::Text]).await.is_err());
    }
    assert_eq!(
        store.backend.warm.len(),
        0,
        "a failed read's session was kept"
    );
    // The next reads work, on whatever session the pool hands out, and keep theirs again.
    read_pid(&store).await;
    read_pid(&store).await;
    assert_eq!(store.backend.warm.len(), 1);
    drop(store);
}

#[tokio::test]
async fn a_session_kept_past_the_idle_limit_goes_back_through_the_pool() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(4).await;
    read_pid(&store).await;
    assert_eq!(store.backend.warm.len(), 1);
    tokio::time::sleep(super::PING_AFTER_IDLE + std::time::Duration::from_millis(100)).await;
    assert!(
        store.backend.warm.take().is_none(),
        "a stale session was handed out"
    );
    assert_eq!(store.backend.warm.len(), 0);
    read_pid(&store).await;
    drop(store);
}

#[tokio::test]
async fn write_transactions_commit_on_kept_sessions_and_roll_back_when_dropped_open() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(4).await;
    let one = |sql: &str| Sql::<PgDialect>::new(sql);
    let mut conn = store.backend.write_one().await.unwrap();
    conn.exec(&one("CREATE TABLE probe (x BIGINT)"))
        .await
        .unwrap();
    drop(conn);
    let count = || async {
        let mut conn = store.backend.read().await.unwrap();
        let rows = conn
            .rows(&one("SELECT COUNT(*) FROM probe"), &[Ty::Int])
            .await
            .unwrap();
        rows[0].int(0).unwrap()
    };
    // Dropped open, after a statement: rolled back, and the session is not kept.
    let mut tx = store.backend.write().await.unwrap();
    tx.exec(&one("INSERT INTO probe VALUES (1)")).await.unwrap();
    drop(tx);
    assert_eq!(
        store.backend.warm.len(),
        0,
        "a session left in a transaction was kept"
    );
    // The rollback runs on its own task, before the session is back in the pool.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(count().await, 0, "a dropped transaction's row is there");
    // Failed: the rest of the transaction is refused, none of it is kept.
    let mut tx = store.backend.write().await.unwrap();
    tx.exec(&one("INSERT INTO probe VALUES (2)")).await.unwrap();
    assert!(
        tx.exec(&one("INSERT INTO probe VALUES ('x')"))
            .await
            .is_err()
    );
    drop(tx);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(count().await, 0, "a failed transaction's row is there");
    // Committed: its rows are there and its session serves the next statement.
    let before = store.backend.warm.len();
    let mut tx = store.backend.write().await.unwrap();
    tx.exec(&one("INSERT INTO probe VALUES (3)")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.backend.warm.len(), before.max(1));
    assert_eq!(count().await, 1);
    let pid = read_pid(&store).await;
    let mut tx = store.backend.write().await.unwrap();
    let rows = tx
        .rows(&one("SELECT pg_backend_pid()::bigint"), &[Ty::Int])
        .await
        .unwrap();
    assert_eq!(
        rows[0].int(0).unwrap(),
        pid,
        "the write took another session"
    );
    tx.commit().await.unwrap();
    drop(store);
}

/// A session that finishes while someone waits for the pool goes to that waiter, not into the
/// kept ones (the pool wakes its waiters only for sessions given back to it).
#[tokio::test]
async fn a_caller_waiting_for_the_pool_gets_the_next_session_that_finishes() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = std::sync::Arc::new(scratch.store(2).await);
    let one = Sql::<PgDialect>::new("SELECT 1::bigint");
    let mut a = store.backend.read().await.unwrap();
    let mut b = store.backend.read().await.unwrap();
    a.rows(&one, &[Ty::Int]).await.unwrap();
    b.rows(&one, &[Ty::Int]).await.unwrap();
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move { read_pid(&store).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(b);
    tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
        .await
        .expect("the waiter was left waiting while a session was kept")
        .unwrap();
    drop(a);
}

/// Under steady use a session never idles: after its lease it still passes through the pool
/// (its ping, its `max_lifetime`).
#[tokio::test]
async fn a_session_goes_back_through_the_pool_when_its_lease_is_up() {
    use super::warm::{Read, Warm};
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.store(4).await;
    let warm = Warm::with_lease(2, std::time::Duration::from_millis(300));
    let one = Sql::<PgDialect>::new("SELECT 1::bigint");
    let mut read = Read::new(
        warm.acquire(&store.backend.pool).await.unwrap(),
        warm.clone(),
    );
    read.rows(&one, &[Ty::Int]).await.unwrap();
    drop(read);
    assert_eq!(warm.len(), 1, "a session within its lease was not kept");
    // Idle for less than the ping limit, so it is handed out again; its lease is up after.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let mut read = Read::new(
        warm.acquire(&store.backend.pool).await.unwrap(),
        warm.clone(),
    );
    assert_eq!(warm.len(), 0);
    read.rows(&one, &[Ty::Int]).await.unwrap();
    drop(read);
    assert_eq!(warm.len(), 0, "a session past its lease was kept");
    drop(store);
}

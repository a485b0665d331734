//! Creates that arrive together, written as one multi-row `INSERT`.
//!
//! During an IdP's initial sync every connection creates users at once. Alone, each create is a
//! statement of its own, and on PostgreSQL also a commit and a round trip. Their fixed cost
//! exceeded the row's.
//!
//! So a create queues its row. Whoever finds fewer than [`DRAINS`] batches running starts one,
//! in a task of its own so that a cancelled request never strands the others. The task takes
//! everything queued (up to [`MAX_ROWS`]), writes it in one statement per power of two of rows
//! (so that few statement texts are ever prepared), answers each create, and goes on while rows
//! wait. A row that a unique key refuses is skipped by the statement and answered as a
//! conflict. Any other failure writes the statement's rows again one by one, so each create
//! gets its own outcome.

use crate::exec::{Backend, Ty};
use crate::store::{ResourceRow, insert_rows_sql};
use muster_domain::store::{StoreError, StoreResult};
use muster_scim::schema::ResourceKind;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Rows per batch at most (13 binds a user row: far under every engine's limit).
const MAX_ROWS: usize = 64;
/// Batches written at once at most: PostgreSQL runs each in a process of its own, and one at a
/// time would leave a core of this machine's two idle; SQLite's one writer queues the second.
const DRAINS: usize = 2;

struct Queued {
    row: ResourceRow,
    /// `Ok(true)`: written; `Ok(false)`: a unique key refused it.
    done: oneshot::Sender<StoreResult<bool>>,
}

#[derive(Default)]
struct Queue {
    rows: Vec<Queued>,
    /// Tasks writing batches.
    drains: usize,
}

/// The queue of one store's creates.
#[derive(Default)]
pub(crate) struct Batcher {
    queue: Arc<Mutex<Queue>>,
}

impl Batcher {
    /// Writes `row` through `backend` with whatever else is queued; `false` when a unique key
    /// refused it (its name is taken, possibly by a row of the same batch).
    pub(crate) async fn insert<B: Backend>(
        &self,
        backend: &Arc<B>,
        row: ResourceRow,
    ) -> StoreResult<bool> {
        let (done, answer) = oneshot::channel();
        let start = {
            let mut q = lock(&self.queue);
            q.rows.push(Queued { row, done });
            let start = q.drains < DRAINS;
            q.drains += usize::from(start);
            start
        };
        if start {
            tokio::spawn(drain(backend.clone(), self.queue.clone()));
        }
        answer
            .await
            .map_err(|_| StoreError::Internal("the batch writing this create ended".into()))?
    }
}

fn lock(queue: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes queued rows until none are left.
async fn drain<B: Backend>(backend: Arc<B>, queue: Arc<Mutex<Queue>>) {
    loop {
        let taken: Vec<Queued> = {
            let mut q = lock(&queue);
            if q.rows.is_empty() {
                q.drains -= 1;
                return;
            }
            let n = q.rows.len().min(MAX_ROWS);
            q.rows.drain(..n).collect()
        };
        let (users, groups): (Vec<Queued>, Vec<Queued>) = taken
            .into_iter()
            .partition(|q| q.row.kind == ResourceKind::User);
        for mut rows in [users, groups] {
            while !rows.is_empty() {
                // The largest power of two that fits: 1, 2, 4, … 64 rows, seven statement texts.
                let n = 1 << rows.len().ilog2();
                let rest = rows.split_off(n);
                write(&*backend, rows).await;
                rows = rest;
            }
        }
    }
}

/// Writes `rows` (all of one kind) in one statement and answers each.
async fn write<B: Backend>(backend: &B, rows: Vec<Queued>) {
    match written(backend, &rows).await {
        Ok(ids) => {
            for q in rows {
                let _ = q.done.send(Ok(ids.contains(&q.row.id)));
            }
        }
        Err(e) if rows.len() == 1 => {
            if let Some(q) = rows.into_iter().next() {
                let _ = q.done.send(Err(e));
            }
        }
        Err(_) => {
            for q in rows {
                let one = std::slice::from_ref(&q);
                let outcome = written(backend, one).await.map(|ids| !ids.is_empty());
                let _ = q.done.send(outcome);
            }
        }
    }
}

/// The ids of `rows` that the statement wrote.
async fn written<B: Backend>(backend: &B, rows: &[Queued]) -> StoreResult<HashSet<String>> {
    let kind = rows.first().map_or(ResourceKind::User, |q| q.row.kind);
    let rows: Vec<&ResourceRow> = rows.iter().map(|q| &q.row).collect();
    let sql = insert_rows_sql::<B>(kind, &rows);
    // One statement is atomic by itself (see `Backend::write_one`).
    let mut conn = backend.write_one().await?;
    let found = conn.rows(&sql, &[Ty::Text]).await?;
    conn.commit().await?;
    found.into_iter().map(|mut r| r.text(0)).collect()
}

#[cfg(test)]
mod tests {
    use crate::SqliteStore;
    use muster_domain::model::{Load, Mode, NewResource, TenantId};
    use muster_domain::store::{Store, StoreError};
    use muster_scim::schema::ResourceKind;
    use serde_json::{Map, Value};
    use std::sync::Arc;

    fn named(attr: &str, name: &str) -> NewResource {
        let mut data = Map::new();
        data.insert(attr.into(), Value::String(name.into()));
        NewResource {
            data,
            members: Vec::new(),
            class: "scim".into(),
        }
    }

    /// Creates queued together: names taken twice (within one batch or across two) are one
    /// create and one conflict; a row whose statement fails for another reason (a tenant that
    /// does not exist: a foreign key) fails alone, and the rows written with it are not lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn creates_queued_together_each_get_their_own_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
        let t = store.create_tenant("a", Mode::Scim).await.unwrap().id;
        let ghost = TenantId("no-such-tenant".into());
        let mut set = tokio::task::JoinSet::new();
        for i in 0..150 {
            let (store, t, ghost) = (store.clone(), t.clone(), ghost.clone());
            set.spawn(async move {
                let (tenant, kind, new) = match i {
                    7 | 77 => (ghost, ResourceKind::User, named("userName", "ghost@x.com")),
                    140.. => (
                        t,
                        ResourceKind::Group,
                        named("displayName", &format!("G{}", i % 5)),
                    ),
                    _ => (
                        t,
                        ResourceKind::User,
                        named("userName", &format!("U{}@x.com", i % 60)),
                    ),
                };
                let name = new.data.values().next().cloned();
                (i, kind, name, store.create(&tenant, kind, new).await)
            });
        }
        let mut created = std::collections::HashMap::new();
        let mut conflicts = 0;
        while let Some(done) = set.join_next().await {
            let (i, kind, name, outcome) = done.unwrap();
            match (i, outcome) {
                (7 | 77, Err(StoreError::Conflict(_))) => {
                    panic!("a failed row answered as a conflict")
                }
                (7 | 77, Err(_)) => {}
                (_, Ok(s)) => {
                    assert_eq!(s.data.values().next(), name.as_ref());
                    assert!(
                        created.insert(name.clone(), (kind, s.id)).is_none(),
                        "{name:?} twice"
                    );
                }
                (_, Err(StoreError::Conflict(field))) => {
                    let expected = if kind == ResourceKind::User {
                        "userName"
                    } else {
                        "displayName"
                    };
                    assert_eq!(field, expected);
                    conflicts += 1;
                }
                (i, Err(e)) => panic!("create {i}: {e}"),
            }
        }
        assert_eq!(created.len(), 60 + 5, "one create per name");
        assert_eq!(conflicts, 148 - 65, "the rest are conflicts");
        for (name, (kind, id)) in created {
            let s = store.get(&t, kind, &id, Load::default()).await.unwrap();
            assert_eq!(s.data.values().next(), name.as_ref());
        }
    }
}

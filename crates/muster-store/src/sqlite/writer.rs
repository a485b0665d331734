//! The one SQLite write connection, with group commit.
//!
//! SQLite has a single writer, and on this workload the commit itself (WAL frames written and
//! checksummed, the page cache reset) cost about as much as the statements. So a transaction
//! that finishes while other writers are queued does not commit: it releases its savepoint
//! into the open transaction, hands the connection on, and waits; whoever finds no one queued
//! behind it commits the whole group at once and tells every member the outcome. A member's
//! answer therefore still follows its own commit, and a failed member (its savepoint rolled
//! back) never affects the others.
//!
//! Every holder of the connection — a transaction, a backup, a migration, the checkpointer —
//! goes through [`Writer::acquire`]; the last one out commits, including when a queued task is
//! cancelled while it waits, so a group can never be left open with members waiting.

use rusqlite::Connection;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// Members of one group at most, so no answer waits behind an unbounded queue.
const MAX_GROUP: usize = 64;

type Outcome = Result<(), String>;

pub(crate) struct Writer {
    conn: Arc<Mutex<Connection>>,
    group: std::sync::Mutex<Group>,
}

#[derive(Default)]
struct Group {
    /// Tasks waiting for the connection.
    queued: usize,
    /// Members whose work is in the open transaction, waiting for its commit.
    pending: Vec<oneshot::Sender<Outcome>>,
}

impl Writer {
    pub(crate) fn new(conn: Connection) -> Arc<Writer> {
        Arc::new(Writer {
            conn: Arc::new(Mutex::new(conn)),
            group: std::sync::Mutex::default(),
        })
    }

    fn group(&self) -> std::sync::MutexGuard<'_, Group> {
        self.group.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection, once every holder queued before has finished.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Held {
        let ticket = Ticket::new(self);
        let guard = self.conn.clone().lock_owned().await;
        ticket.into_held(guard)
    }

    /// The same from a thread outside the runtime (the checkpointer).
    pub(crate) fn acquire_blocking(self: &Arc<Self>) -> Held {
        let ticket = Ticket::new(self);
        let guard = self.conn.clone().blocking_lock_owned();
        ticket.into_held(guard)
    }

    /// The connection if it is free now (for a cancelled waiter to finish a group).
    fn try_acquire(self: &Arc<Self>) -> Option<Held> {
        let guard = self.conn.clone().try_lock_owned().ok()?;
        Some(Held {
            writer: self.clone(),
            guard: Some(guard),
        })
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.conn.try_lock().is_ok()
    }
}

/// A place in the queue for the connection. Dropped before it is turned into a [`Held`] (the
/// waiting task was cancelled), it leaves the queue and, if it was the last, commits a group
/// that was waiting for it.
struct Ticket {
    writer: Option<Arc<Writer>>,
}

impl Ticket {
    fn new(writer: &Arc<Writer>) -> Ticket {
        writer.group().queued += 1;
        Ticket {
            writer: Some(writer.clone()),
        }
    }

    fn into_held(mut self, guard: OwnedMutexGuard<Connection>) -> Held {
        let writer = self.writer.take().unwrap_or_else(|| unreachable!());
        writer.group().queued -= 1;
        Held {
            writer,
            guard: Some(guard),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Some(writer) = self.writer.take() else {
            return;
        };
        let last = {
            let mut g = writer.group();
            g.queued -= 1;
            g.queued == 0 && !g.pending.is_empty()
        };
        // If the connection is busy, its holder finishes the group when it is done.
        if last && let Some(held) = writer.try_acquire() {
            drop(held);
        }
    }
}

/// The connection, held. Dropping it hands it on, committing the open group first when no one
/// is queued to continue it.
pub(crate) struct Held {
    writer: Arc<Writer>,
    guard: Option<OwnedMutexGuard<Connection>>,
}

impl std::ops::Deref for Held {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.guard.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl Held {
    /// Starts a transaction unless a group's is already open. A transaction that SQLite ended
    /// by itself (some I/O errors roll back everything) ends its group: its members are told.
    pub(crate) fn begin(&self) -> rusqlite::Result<()> {
        if self.is_autocommit() {
            let lost = std::mem::take(&mut self.writer.group().pending);
            for p in lost {
                let _ = p.send(Err("the transaction was rolled back".into()));
            }
            self.execute_batch("BEGIN IMMEDIATE")?;
        }
        Ok(())
    }

    /// Commits the caller's work (already released into the open transaction): with the next
    /// queued writer's, if there is one, else now, with every waiting member's.
    pub(crate) async fn commit(mut self) -> Outcome {
        if self.writer.group().queued == 0 {
            // One turn of the scheduler lets requests already under way reach the queue:
            // under load that makes groups of several instead of a commit each.
            tokio::task::yield_now().await;
        }
        let deferred = {
            let mut g = self.writer.group();
            if g.queued > 0 && g.pending.len() < MAX_GROUP {
                let (tx, rx) = oneshot::channel();
                g.pending.push(tx);
                // Handed on while the queue cannot change, so someone is sure to finish.
                self.guard = None;
                Some(rx)
            } else {
                None
            }
        };
        match deferred {
            Some(rx) => rx
                .await
                .unwrap_or_else(|_| Err("the group commit was abandoned".into())),
            None => self.commit_group(),
        }
    }

    /// Commits the open transaction, if any, and tells its members.
    pub(crate) fn commit_group(&mut self) -> Outcome {
        let Some(conn) = self.guard.as_deref() else {
            return Ok(());
        };
        let members = std::mem::take(&mut self.writer.group().pending);
        if conn.is_autocommit() {
            return Ok(());
        }
        let outcome = conn.execute_batch("COMMIT").map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            e.to_string()
        });
        for m in members {
            let _ = m.send(outcome.clone());
        }
        outcome
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.guard.is_none() {
            return;
        }
        let last = self.writer.group().queued == 0;
        if last {
            let _ = self.commit_group();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::exec::{Backend, Ty};
    use crate::sql::Sql;
    use crate::sqlite::{SqliteDialect, SqliteStore};
    use std::sync::Arc;

    async fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        store
            .backend
            .writer
            .acquire()
            .await
            .execute_batch("CREATE TABLE scratch (x INTEGER PRIMARY KEY)")
            .unwrap();
        (dir, Arc::new(store))
    }

    fn insert(x: i64) -> Sql<SqliteDialect> {
        let mut sql = Sql::new("INSERT INTO scratch (x) VALUES (");
        sql.int(x).push(")");
        sql
    }

    async fn stored(store: &SqliteStore) -> Vec<i64> {
        let mut conn = store.backend.read().await.unwrap();
        let rows = conn
            .rows(&Sql::new("SELECT x FROM scratch ORDER BY x"), &[Ty::Int])
            .await
            .unwrap();
        rows.iter().map(|r| r.int(0).unwrap()).collect()
    }

    /// Many concurrent writers, some of which fail or give up: exactly the committed work is
    /// stored, and every commit that said yes is visible to readers once it returned.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_commit_in_groups_and_failures_stay_out() {
        let (_dir, store) = store().await;
        let tasks: Vec<_> = (0..16)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut kept = Vec::new();
                    for i in 0..50i64 {
                        let x = w * 1000 + i;
                        let mut tx = store.backend.write().await.unwrap();
                        tx.exec(&insert(x)).await.unwrap();
                        match i % 5 {
                            // A duplicate key: this write fails and is dropped.
                            0 => {
                                assert!(tx.exec(&insert(x)).await.is_err());
                                drop(tx);
                            }
                            // Given up without a commit.
                            1 => drop(tx),
                            _ => {
                                tx.commit().await.unwrap();
                                let mut read = store.backend.read().await.unwrap();
                                let mut q = Sql::new("SELECT count(*) FROM scratch WHERE x = ");
                                q.int(x);
                                let n = read.rows(&q, &[Ty::Int]).await.unwrap()[0].int(0).unwrap();
                                assert_eq!(n, 1, "{x} committed but not visible");
                                kept.push(x);
                            }
                        }
                    }
                    kept
                })
            })
            .collect();
        let mut expected = Vec::new();
        for t in tasks {
            expected.extend(t.await.unwrap());
        }
        expected.sort();
        assert_eq!(stored(&store).await, expected);
        assert!(store.backend.writer.group().pending.is_empty());
    }

    /// A member waiting for the writer queued behind it still gets its commit when that writer
    /// is cancelled while it waits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_waiter_does_not_strand_a_group() {
        let (_dir, store) = store().await;
        let mut first = store.backend.write().await.unwrap();
        first.exec(&insert(1)).await.unwrap();
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move {
                let _tx = store.backend.write().await;
            })
        };
        while store.backend.writer.group().queued == 0 {
            tokio::task::yield_now().await;
        }
        // Someone is queued: this commit is deferred to the waiter's group...
        let commit = tokio::spawn(async move { first.commit().await });
        while store.backend.writer.group().pending.is_empty() && !commit.is_finished() {
            tokio::task::yield_now().await;
        }
        // ...and the waiter gives up.
        waiter.abort();
        let done = tokio::time::timeout(std::time::Duration::from_secs(5), commit).await;
        assert!(
            matches!(done, Ok(Ok(Ok(())))),
            "the deferred commit never finished"
        );
        assert_eq!(stored(&store).await, vec![1]);
    }

    /// A backup (which cannot run inside a transaction) commits an open group first.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backup_commits_the_open_group_first() {
        let (dir, store) = store().await;
        let mut first = store.backend.write().await.unwrap();
        first.exec(&insert(7)).await.unwrap();
        let backup = {
            let store = store.clone();
            let path = dir.path().join("copy.db");
            tokio::spawn(async move { store.backend.backup(path.to_str().unwrap()).await })
        };
        while store.backend.writer.group().queued == 0 {
            tokio::task::yield_now().await;
        }
        first.commit().await.unwrap();
        backup.await.unwrap().unwrap();
        let copy = rusqlite::Connection::open(dir.path().join("copy.db")).unwrap();
        let n: i64 = copy
            .query_row("SELECT count(*) FROM scratch", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}

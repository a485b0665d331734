//! Requests that arrive together, served by one statement.
//!
//! During an IdP's initial sync every connection creates users at once, and during its sync
//! cycles every connection reads them. Alone, each is a statement of its own; on PostgreSQL also
//! a round trip to another process, whose fixed cost exceeded the row's (and, for a create, a
//! commit).
//!
//! So a request queues its job. Whoever finds fewer than [`DRAINS`] batches running starts one,
//! in a task of its own so that a cancelled request never strands the others. The task takes
//! everything queued (up to [`MAX_JOBS`]), runs the jobs of one [`Job::Key`] in one statement
//! per power of two of jobs (so that few statement texts are ever prepared), answers each, and
//! goes on while jobs wait. A create's statement that one row fails runs its rows again one by
//! one, so each gets its own outcome.

use crate::exec::{Backend, Ty};
use crate::row::name_field;
use crate::store::{ResourceRow, find_many, insert_rows_sql};
use async_trait::async_trait;
use muster_domain::model::{Load, Stored, TenantId};
use muster_domain::store::{StoreError, StoreResult};
use muster_scim::resource::{fold, stored_string};
use muster_scim::schema::ResourceKind;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Jobs per batch at most (13 binds a user row: far under every engine's limit).
const MAX_JOBS: usize = 64;
/// Batches run at once at most: PostgreSQL runs each in a process of its own, and one at a
/// time would leave a core of this machine's two idle; SQLite's one writer queues the second.
const DRAINS: usize = 2;

/// Work that can share a statement with other work of the same key.
#[async_trait]
pub(crate) trait Job<B: Backend>: Send + Sync + Sized + 'static {
    type Key: PartialEq + Send;
    type Out: Send + 'static;
    /// Whether one job can fail its statement for all (a create's row, of a tenant deleted
    /// meanwhile, fails the `INSERT` on its foreign key): the jobs of a failed statement then run
    /// again one by one, each for its own answer.
    const ALONE_ON_FAILURE: bool = false;
    fn key(&self) -> Self::Key;
    /// Runs `jobs` (at least one, all of one key) in one statement; an answer per job, in order.
    async fn run(backend: &B, jobs: &[Self]) -> StoreResult<Vec<Self::Out>>;
}

struct Queued<J, O> {
    job: J,
    done: oneshot::Sender<StoreResult<O>>,
}

struct Queue<J, O> {
    jobs: Vec<Queued<J, O>>,
    /// Tasks running batches.
    drains: usize,
}

/// The queue of one kind of job.
pub(crate) struct Batcher<B: Backend, J: Job<B>> {
    queue: Arc<Mutex<Queue<J, J::Out>>>,
}

impl<B: Backend, J: Job<B>> Default for Batcher<B, J> {
    fn default() -> Self {
        Batcher {
            queue: Arc::new(Mutex::new(Queue {
                jobs: Vec::new(),
                drains: 0,
            })),
        }
    }
}

impl<B: Backend, J: Job<B>> Batcher<B, J> {
    /// Runs `job` through `backend` with whatever else is queued.
    pub(crate) async fn run(&self, backend: &Arc<B>, job: J) -> StoreResult<J::Out> {
        let (done, answer) = oneshot::channel();
        let start = {
            let mut q = lock(&self.queue);
            q.jobs.push(Queued { job, done });
            let start = q.drains < DRAINS;
            q.drains += usize::from(start);
            start
        };
        if start {
            tokio::spawn(drain(backend.clone(), self.queue.clone()));
        }
        answer
            .await
            .map_err(|_| StoreError::Internal("the batch running this request ended".into()))?
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A drain's place in [`Queue::drains`]. Given back by [`drain`] when the queue is empty; should
/// the task end otherwise (a panic), given back here, with a new drain started for the jobs still
/// queued, so that they are not left waiting for a drain that will never come.
struct Place<B: Backend, J: Job<B>> {
    backend: Arc<B>,
    queue: Arc<Mutex<Queue<J, J::Out>>>,
    given_back: bool,
}

impl<B: Backend, J: Job<B>> Drop for Place<B, J> {
    fn drop(&mut self) {
        if self.given_back {
            return;
        }
        let restart = {
            let mut q = lock(&self.queue);
            let restart = !q.jobs.is_empty();
            if !restart {
                q.drains -= 1;
            }
            restart
        };
        if restart && let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(drain(self.backend.clone(), self.queue.clone()));
        } else if restart {
            lock(&self.queue).drains -= 1;
        }
    }
}

/// Runs queued jobs until none are left.
async fn drain<B: Backend, J: Job<B>>(backend: Arc<B>, queue: Arc<Mutex<Queue<J, J::Out>>>) {
    let mut place = Place {
        backend: backend.clone(),
        queue: queue.clone(),
        given_back: false,
    };
    loop {
        let mut taken: Vec<Queued<J, J::Out>> = {
            let mut q = lock(&queue);
            if q.jobs.is_empty() {
                q.drains -= 1;
                place.given_back = true;
                return;
            }
            let n = q.jobs.len().min(MAX_JOBS);
            q.jobs.drain(..n).collect()
        };
        while let Some(first) = taken.first() {
            let key = first.job.key();
            let (mut same, rest): (Vec<_>, Vec<_>) =
                taken.into_iter().partition(|q| q.job.key() == key);
            taken = rest;
            while !same.is_empty() {
                // The largest power of two that fits: 1, 2, 4, … 64 jobs, seven statement texts.
                let n = 1 << same.len().ilog2();
                let tail = same.split_off(n);
                answer(&*backend, same).await;
                same = tail;
            }
        }
    }
}

/// Runs `queued` (all of one key) in one statement and answers each.
async fn answer<B: Backend, J: Job<B>>(backend: &B, queued: Vec<Queued<J, J::Out>>) {
    let (jobs, senders): (Vec<J>, Vec<_>) = queued.into_iter().map(|q| (q.job, q.done)).unzip();
    match J::run(backend, &jobs).await {
        Ok(outs) if outs.len() == jobs.len() => {
            for (done, out) in senders.into_iter().zip(outs) {
                let _ = done.send(Ok(out));
            }
        }
        // Only a failure of the statement itself can be one job's; the database out of reach
        // or a serialization failure is everyone's, and so is their answer (a create whose
        // session broke as it committed must not be run again and answered 409).
        Err(StoreError::Internal(_)) if J::ALONE_ON_FAILURE && jobs.len() > 1 => {
            for (job, done) in jobs.iter().zip(senders) {
                let one = J::run(backend, std::slice::from_ref(job)).await;
                let _ = done.send(one.and_then(|mut o| {
                    o.pop()
                        .ok_or_else(|| StoreError::Internal("a batch answered nothing".into()))
                }));
            }
        }
        Err(e) => {
            for done in senders {
                let _ = done.send(Err(same_error(&e)));
            }
        }
        Ok(_) => {
            for done in senders {
                let _ = done.send(Err(StoreError::Internal(
                    "a batch answered another number of rows".into(),
                )));
            }
        }
    }
}

/// `e` again, for another job of the statement it failed.
fn same_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Busy => StoreError::Busy,
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Conflict(f) => StoreError::Conflict(f.clone()),
        other => StoreError::Internal(other.to_string()),
    }
}

/// A new user, or a new group without members: `false` when a unique key refused it (its name
/// is taken, possibly by an earlier row of the same statement, which skips it).
pub(crate) struct Create(pub(crate) ResourceRow);

#[async_trait]
impl<B: Backend> Job<B> for Create {
    type Key = ResourceKind;
    type Out = bool;
    const ALONE_ON_FAILURE: bool = true;
    fn key(&self) -> ResourceKind {
        self.0.kind
    }
    async fn run(backend: &B, jobs: &[Self]) -> StoreResult<Vec<bool>> {
        let rows: Vec<&ResourceRow> = jobs.iter().map(|j| &j.0).collect();
        let sql = insert_rows_sql::<B>(rows[0].kind, &rows);
        // One statement is atomic by itself (see `Backend::write_one`).
        let mut conn = backend.write_one().await?;
        let found = conn.rows(&sql, &[Ty::Text]).await?;
        conn.commit().await?;
        let ids: HashSet<String> = found
            .into_iter()
            .map(|mut r| r.text(0))
            .collect::<StoreResult<_>>()?;
        Ok(rows.iter().map(|r| ids.contains(&r.id)).collect())
    }
}

/// How a [`Read`] finds its resource.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum By {
    Id,
    /// The name folded as `name_norm` is: a user's `userName eq "…"`, or a group's
    /// `displayName eq "…"` among the groups SCIM lists.
    Name,
}

/// A resource read by id or looked up by name (without a group's members).
pub(crate) struct Read {
    pub(crate) tenant: TenantId,
    pub(crate) kind: ResourceKind,
    pub(crate) load: Load,
    pub(crate) by: By,
    pub(crate) value: String,
}

#[async_trait]
impl<B: Backend> Job<B> for Read {
    type Key = (TenantId, ResourceKind, Load, By);
    type Out = Option<Stored>;
    fn key(&self) -> Self::Key {
        (self.tenant.clone(), self.kind, self.load, self.by)
    }
    async fn run(backend: &B, jobs: &[Self]) -> StoreResult<Vec<Option<Stored>>> {
        let first = &jobs[0];
        let values: Vec<String> = jobs.iter().map(|j| j.value.clone()).collect();
        let (column, listed) = match first.by {
            By::Id => ("r.id", false),
            By::Name => ("r.name_norm", first.kind == ResourceKind::Group),
        };
        let mut conn = backend.read().await?;
        let found = find_many::<B>(
            &mut conn,
            &first.tenant,
            first.kind,
            column,
            &values,
            first.load,
            listed,
        )
        .await?;
        let name = name_field(first.kind);
        let by_value = found
            .into_iter()
            .filter_map(|s| {
                let value = match first.by {
                    By::Id => s.id.clone(),
                    By::Name => match &s.raw {
                        Some(raw) => fold(&stored_string(raw, name)?),
                        None => s.data.get(name).and_then(Value::as_str).map(fold)?,
                    },
                };
                Some((value, s))
            })
            .collect();
        Ok(each_its_own(jobs.iter().map(|j| &j.value), by_value))
    }
}

/// The resource found for each key, in order. Two reads of one resource may share a statement:
/// the last one takes it, the others a copy.
fn each_its_own<'a>(
    keys: impl Iterator<Item = &'a String> + Clone,
    mut found: HashMap<String, Stored>,
) -> Vec<Option<Stored>> {
    let mut left: HashMap<&str, usize> = HashMap::new();
    for k in keys.clone() {
        *left.entry(k.as_str()).or_default() += 1;
    }
    keys.map(|k| {
        let n = left.get_mut(k.as_str())?;
        *n -= 1;
        if *n == 0 {
            found.remove(k)
        } else {
            found.get(k).cloned()
        }
    })
    .collect()
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

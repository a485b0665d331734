//! Sessions that statements hand to the next statement, in front of sqlx's pool.
//!
//! sqlx pings every session given back to its pool (a `Sync` round trip, off the request's path
//! but not off the machine): that was a second message exchange for every lookup, a wakeup of the
//! database's process and of muster's. A read or a transaction whose statements all completed
//! leaves its session here instead, and the next one takes it as it is. One dropped half-way (its
//! request cancelled) or failed gives its session back to the pool, whose ping then settles or
//! closes it (a transaction left open is rolled back first); one left here too long goes back the
//! same way, so that a session the database may have ended meanwhile is checked before use. And
//! every session goes back through the pool a minute after it left it, so that the pool's own
//! upkeep (its `max_lifetime`) still reaches sessions that are never idle.

use super::PING_AFTER_IDLE;
use crate::exec::{Conn, ExecError, ExecResult, Row, Ty, exec_error};
use crate::sql::Sql;
use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a session goes from statement to statement before it passes through the pool again.
const LEASE: Duration = Duration::from_secs(60);

/// A session out of the pool, and since when.
pub(super) struct Lease {
    conn: PoolConnection<Postgres>,
    since: Instant,
}

/// The sessions left, newest last, with when each was left.
pub(super) struct Warm {
    conns: Mutex<Vec<(Lease, Instant)>>,
    /// At most this many are kept, so the pool always has sessions for whoever finds none here.
    cap: usize,
    /// Callers waiting for the pool: a session is not kept while one waits (the pool wakes its
    /// waiters only for sessions given back to it).
    waiting: AtomicUsize,
    /// [`LEASE`], shorter in tests.
    lease: Duration,
}

impl Warm {
    pub(super) fn new(cap: usize) -> Arc<Warm> {
        Self::with_lease(cap, LEASE)
    }

    pub(super) fn with_lease(cap: usize, lease: Duration) -> Arc<Warm> {
        Arc::new(Warm {
            conns: Mutex::new(Vec::with_capacity(cap)),
            cap,
            waiting: AtomicUsize::new(0),
            lease,
        })
    }

    /// A kept session, or else one from the pool.
    pub(super) async fn acquire(&self, pool: &PgPool) -> sqlx::Result<Lease> {
        if let Some(lease) = self.take() {
            return Ok(lease);
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        // Counted down also when the caller is cancelled while it waits.
        let _waiting = Waiting(&self.waiting);
        let conn = pool.acquire().await?;
        Ok(Lease {
            conn,
            since: Instant::now(),
        })
    }

    /// The most recently left session, unless it has waited long enough to need a ping (then
    /// it, and every older one, go back to the pool).
    pub(super) fn take(&self) -> Option<Lease> {
        let mut conns = self.conns.lock().ok()?;
        let (lease, left) = conns.pop()?;
        if left.elapsed() < PING_AFTER_IDLE {
            return Some(lease);
        }
        let stale = std::mem::take(&mut *conns);
        drop(conns);
        drop((lease, stale));
        None
    }

    /// Keeps `lease` for the next caller, unless someone waits for the pool or its lease is up
    /// (then it goes back to the pool).
    fn keep(&self, lease: Lease) {
        if self.waiting.load(Ordering::SeqCst) > 0 || lease.since.elapsed() >= self.lease {
            return;
        }
        let Ok(mut conns) = self.conns.lock() else {
            return;
        };
        if conns.len() < self.cap {
            conns.push((lease, Instant::now()));
        }
    }

    /// Sessions kept now (idle, though the pool counts them as in use).
    pub(super) fn len(&self) -> usize {
        self.conns.lock().map_or(0, |c| c.len())
    }
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A read, or a write of one statement (autocommit), on a session taken from [`Warm`] or the
/// pool: left in [`Warm`] when dropped with every statement completed, given back to the pool
/// otherwise. A [`Tx`] runs on one too.
pub(super) struct Read {
    conn: Option<Lease>,
    warm: Arc<Warm>,
    /// No statement is under way, and the last one succeeded.
    clean: bool,
}

impl Read {
    pub(super) fn new(lease: Lease, warm: Arc<Warm>) -> Read {
        Read {
            conn: Some(lease),
            warm,
            clean: true,
        }
    }

    fn conn(&mut self) -> ExecResult<&mut PoolConnection<Postgres>> {
        self.clean = false;
        self.conn
            .as_mut()
            .map(|l| &mut l.conn)
            .ok_or_else(|| ExecError::Other("the session was given back".into()))
    }

    async fn exec(&mut self, sql: &Sql<super::PgDialect>) -> ExecResult<u64> {
        let conn = self.conn()?;
        let r = crate::bind_all!(sql)
            .execute(&mut **conn)
            .await
            .map_err(exec_error)?;
        self.clean = true;
        Ok(r.rows_affected())
    }

    async fn rows(&mut self, sql: &Sql<super::PgDialect>, cols: &[Ty]) -> ExecResult<Vec<Row>> {
        let conn = self.conn()?;
        let rows = crate::bind_all!(sql)
            .fetch_all(&mut **conn)
            .await
            .map_err(exec_error)?;
        self.clean = true;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(crate::decode_row!(row, cols));
        }
        Ok(out)
    }

    /// A statement of the session's own (BEGIN, COMMIT), not a client's.
    async fn simple(&mut self, sql: &'static str) -> ExecResult<()> {
        let conn = self.conn()?;
        sqlx::raw_sql(sql)
            .execute(&mut **conn)
            .await
            .map_err(exec_error)?;
        self.clean = true;
        Ok(())
    }
}

impl Drop for Read {
    fn drop(&mut self) {
        if self.clean
            && let Some(conn) = self.conn.take()
        {
            self.warm.keep(conn);
        }
    }
}

#[async_trait]
impl Conn<super::PgDialect> for Read {
    async fn exec(&mut self, sql: &Sql<super::PgDialect>) -> ExecResult<u64> {
        Read::exec(self, sql).await
    }
    async fn rows(&mut self, sql: &Sql<super::PgDialect>, cols: &[Ty]) -> ExecResult<Vec<Row>> {
        Read::rows(self, sql, cols).await
    }
    async fn commit(self: Box<Self>) -> ExecResult<()> {
        Ok(())
    }
}

/// A write transaction (READ COMMITTED, PostgreSQL's default, as sqlx's `begin` opens it).
pub(super) struct Tx {
    session: Read,
    /// BEGIN ran and neither COMMIT nor ROLLBACK has.
    open: bool,
}

impl Tx {
    pub(super) async fn begin(lease: Lease, warm: Arc<Warm>) -> ExecResult<Tx> {
        // Open as soon as BEGIN is sent: should it fail half-way, Drop rolls back.
        let mut tx = Tx {
            session: Read::new(lease, warm),
            open: true,
        };
        tx.session.simple("BEGIN").await?;
        Ok(tx)
    }
}

impl Drop for Tx {
    /// A transaction dropped open (a statement failed, or its request was cancelled) is rolled
    /// back on its session before the session goes back to the pool; without a runtime to do
    /// that on, the session is closed, which ends the transaction too.
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let Some(Lease { mut conn, .. }) = self.session.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.is_err() {
                        drop(conn.detach());
                    }
                });
            }
            Err(_) => drop(conn.detach()),
        }
    }
}

#[async_trait]
impl Conn<super::PgDialect> for Tx {
    async fn exec(&mut self, sql: &Sql<super::PgDialect>) -> ExecResult<u64> {
        self.session.exec(sql).await
    }
    async fn rows(&mut self, sql: &Sql<super::PgDialect>, cols: &[Ty]) -> ExecResult<Vec<Row>> {
        self.session.rows(sql, cols).await
    }
    async fn commit(mut self: Box<Self>) -> ExecResult<()> {
        self.session.simple("COMMIT").await?;
        self.open = false;
        Ok(())
    }
}

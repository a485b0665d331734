//! Connections that reads hand to the next read, in front of sqlx's pool.
//!
//! sqlx pings every connection given back to its pool (a `Sync` round trip, off the request's
//! path but not off the machine): on a lookup that was a second message exchange for every
//! statement, a wakeup of the database's process and of muster's. A read whose statements all
//! completed leaves its connection here instead, and the next read takes it as it is. A read
//! dropped half-way (its request cancelled) or failed gives its connection back to the pool,
//! whose ping then settles or closes it; one left here too long goes back the same way, so
//! that a session the database may have ended meanwhile is checked before use.

use super::PING_AFTER_IDLE;
use crate::exec::{Conn, ExecError, ExecResult, Row, Ty, exec_error};
use crate::sql::Sql;
use async_trait::async_trait;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The connections reads left, newest last.
pub(super) struct Warm {
    conns: Mutex<Vec<(PoolConnection<Postgres>, Instant)>>,
    /// At most this many are kept: the rest of the pool stays free for writes.
    cap: usize,
}

impl Warm {
    pub(super) fn new(cap: usize) -> Arc<Warm> {
        Arc::new(Warm {
            conns: Mutex::new(Vec::with_capacity(cap)),
            cap,
        })
    }

    /// The most recently left connection, unless it has waited long enough to need a ping
    /// (then it, and any older, go back to the pool).
    pub(super) fn take(&self) -> Option<PoolConnection<Postgres>> {
        let mut conns = self.conns.lock().ok()?;
        let (conn, since) = conns.pop()?;
        if since.elapsed() < PING_AFTER_IDLE {
            return Some(conn);
        }
        // Older ones waited longer still.
        let stale = std::mem::take(&mut *conns);
        drop(conns);
        drop(conn);
        drop(stale);
        None
    }

    fn keep(&self, conn: PoolConnection<Postgres>) {
        let Ok(mut conns) = self.conns.lock() else {
            return;
        };
        if conns.len() < self.cap {
            conns.push((conn, Instant::now()));
        }
    }

    /// Connections kept now (idle, though the pool counts them as in use).
    pub(super) fn len(&self) -> usize {
        self.conns.lock().map_or(0, |c| c.len())
    }
}

/// A read's connection: left in [`Warm`] when every statement on it completed.
pub(super) struct Read {
    conn: Option<PoolConnection<Postgres>>,
    warm: Arc<Warm>,
    /// No statement is under way or failed.
    clean: bool,
}

impl Read {
    pub(super) fn new(conn: PoolConnection<Postgres>, warm: Arc<Warm>) -> Read {
        Read {
            conn: Some(conn),
            warm,
            clean: true,
        }
    }

    fn conn(&mut self) -> ExecResult<&mut PoolConnection<Postgres>> {
        self.clean = false;
        self.conn
            .as_mut()
            .ok_or_else(|| ExecError::Other("the connection was given back".into()))
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

    async fn commit(self: Box<Self>) -> ExecResult<()> {
        Ok(())
    }
}

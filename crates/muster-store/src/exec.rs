//! The little a store needs from a SQL engine: run a statement, fetch typed rows, hold a write
//! transaction. Each engine implements it once ([`crate::sqlite`], [`crate::postgres`]); all
//! store logic ([`crate::store`]) is written once against it.

use crate::sql::{Dialect, Sql};
use async_trait::async_trait;
use muster_domain::store::{StoreError, StoreResult};

/// The column types stores read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    OptInt,
    Text,
    OptText,
    Bytes,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// One fetched row, decoded by the types the query asked for.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Cell>);

/// Wraps an engine or decoding error as a store failure.
pub(crate) fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

fn bad(i: usize) -> StoreError {
    StoreError::Internal(format!("unexpected value in column {i}"))
}

impl Row {
    pub fn int(&self, i: usize) -> StoreResult<i64> {
        match self.0.get(i) {
            Some(Cell::Int(v)) => Ok(*v),
            _ => Err(bad(i)),
        }
    }
    pub fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        match self.0.get(i) {
            Some(Cell::Int(v)) => Ok(Some(*v)),
            Some(Cell::Null) => Ok(None),
            _ => Err(bad(i)),
        }
    }
    pub fn text(&mut self, i: usize) -> StoreResult<String> {
        match self.0.get_mut(i) {
            Some(Cell::Text(s)) => Ok(std::mem::take(s)),
            _ => Err(bad(i)),
        }
    }
    pub fn opt_text(&mut self, i: usize) -> StoreResult<Option<String>> {
        match self.0.get_mut(i) {
            Some(Cell::Text(s)) => Ok(Some(std::mem::take(s))),
            Some(Cell::Null) => Ok(None),
            _ => Err(bad(i)),
        }
    }
    pub fn bytes(&mut self, i: usize) -> StoreResult<Vec<u8>> {
        match self.0.get_mut(i) {
            Some(Cell::Bytes(b)) => Ok(std::mem::take(b)),
            _ => Err(bad(i)),
        }
    }
}

/// What can go wrong running a statement, as far as store logic cares.
#[derive(Debug)]
pub enum ExecError {
    /// A unique constraint refused the write.
    Unique,
    /// A serialization failure or deadlock: the transaction may simply run again.
    Retry,
    /// The database could not be reached, or ended the session (a restart, a network fault).
    /// Usually nothing was done; a session lost during a commit (or an autocommit statement)
    /// may have committed, so this is not retried here: the client's retry finds out (a create
    /// that had landed answers 409).
    Unavailable(String),
    Other(String),
}

impl From<ExecError> for StoreError {
    fn from(e: ExecError) -> Self {
        match e {
            ExecError::Unique => StoreError::Internal("unexpected unique violation".into()),
            ExecError::Retry => StoreError::Busy,
            ExecError::Unavailable(m) => StoreError::Unavailable(m),
            ExecError::Other(m) => StoreError::Internal(m),
        }
    }
}

pub type ExecResult<T> = Result<T, ExecError>;

/// A connection (or transaction) that runs [`Sql`] of one dialect.
#[async_trait]
pub trait Conn<D: Dialect>: Send {
    /// Runs a statement; returns the number of rows it changed.
    async fn exec(&mut self, sql: &Sql<D>) -> ExecResult<u64>;
    /// Runs a query and decodes each row by `cols`.
    async fn rows(&mut self, sql: &Sql<D>, cols: &[Ty]) -> ExecResult<Vec<Row>>;
    /// Commits when this is a transaction (a no-op for a plain connection).
    async fn commit(self: Box<Self>) -> ExecResult<()>;
}

/// A SQL engine: where reads go, and how a write transaction starts.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    type D: Dialect + Send + Sync + 'static;
    /// Whether reads of one resource by id are worth batching ([`crate::batch`]): where each
    /// statement is a round trip to another process. SQLite reads in this one.
    const BATCH_READS: bool = false;
    /// Whether `WITH` may hold statements that change data (PostgreSQL's; SQLite's `WITH`
    /// takes only `SELECT`s), so that one statement can bump a group and change its members
    /// ([`crate::members_alone`]).
    const DATA_MODIFYING_CTES: bool = false;
    async fn read(&self) -> StoreResult<Box<dyn Conn<Self::D>>>;
    /// A transaction that holds the engine's write lock (SQLite) or takes row locks (`FOR UPDATE`).
    async fn write(&self) -> StoreResult<Box<dyn Conn<Self::D>>>;
    /// Where a write of exactly one statement runs: that statement is atomic by itself, so an
    /// engine may run it without an explicit transaction (on PostgreSQL, two round trips fewer).
    async fn write_one(&self) -> StoreResult<Box<dyn Conn<Self::D>>> {
        self.write().await
    }
    /// A consistent copy of the database in a new file.
    async fn backup(&self, path: &str) -> StoreResult<()>;
    /// (name, open connections, idle connections) per pool.
    fn pool_stats(&self) -> Vec<(&'static str, u32, u32)>;
    /// Runs a multi-statement migration script in a transaction.
    async fn migrate(&self, migrations: &[crate::migrate::Migration]) -> StoreResult<()>;
}

/// Decodes one sqlx row by the requested types.
#[macro_export]
#[doc(hidden)]
macro_rules! decode_row {
    ($row:expr, $cols:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        let mut cells = Vec::with_capacity($cols.len());
        for (i, ty) in $cols.iter().enumerate() {
            let cell = match ty {
                $crate::exec::Ty::Int => row.try_get::<i64, _>(i).map($crate::exec::Cell::Int),
                $crate::exec::Ty::OptInt => row
                    .try_get::<Option<i64>, _>(i)
                    .map(|v| v.map_or($crate::exec::Cell::Null, $crate::exec::Cell::Int)),
                $crate::exec::Ty::Text => row.try_get::<String, _>(i).map($crate::exec::Cell::Text),
                $crate::exec::Ty::OptText => row
                    .try_get::<Option<String>, _>(i)
                    .map(|v| v.map_or($crate::exec::Cell::Null, $crate::exec::Cell::Text)),
                $crate::exec::Ty::Bytes => {
                    row.try_get::<Vec<u8>, _>(i).map($crate::exec::Cell::Bytes)
                }
            };
            cells.push(cell.map_err(|e| $crate::exec::ExecError::Other(e.to_string()))?);
        }
        $crate::exec::Row(cells)
    }};
}

/// Maps a sqlx error, recognising unique violations.
pub fn exec_error(e: sqlx::Error) -> ExecError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => ExecError::Unique,
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40001" | "40P01")) => {
            ExecError::Retry
        }
        _ if lost_database(&e) => ExecError::Unavailable(e.to_string()),
        _ => ExecError::Other(e.to_string()),
    }
}

/// Whether the error says the database is out of reach (its socket, no pooled session within
/// the acquire timeout, SQLSTATE class 08 "connection exception" but for 08P01, a protocol
/// violation, which is a bug; 57P0x "operator intervention": shutdown, restart, session ended).
fn lost_database(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| (c.starts_with("08") && c != "08P01") || c.starts_with("57P0")),
        _ => false,
    }
}

/// A sqlx error outside a statement (acquiring a connection, beginning, committing).
pub(crate) fn pool_error(e: sqlx::Error) -> StoreError {
    exec_error(e).into()
}

/// Binds a [`crate::sql::Sql`]'s values to a sqlx query, in order.
#[macro_export]
#[doc(hidden)]
macro_rules! bind_all {
    ($sql:expr) => {{
        let mut q = sqlx::query(sqlx::AssertSqlSafe($sql.text.clone()));
        for b in &$sql.binds {
            q = match b {
                $crate::sql::Bind::Text(s) => q.bind(s.clone()),
                $crate::sql::Bind::Int(i) => q.bind(*i),
                $crate::sql::Bind::Real(r) => q.bind(*r),
                $crate::sql::Bind::OptText(s) => q.bind(s.clone()),
                $crate::sql::Bind::OptInt(i) => q.bind(*i),
                $crate::sql::Bind::Bytes(b) => q.bind(b.clone()),
            };
        }
        q
    }};
}

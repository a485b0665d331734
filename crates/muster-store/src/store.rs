//! The directory store, written once over [`Backend`]: tenants, tokens, users, groups and
//! memberships. Engines differ only in their [`crate::sql::Dialect`] and connection handling.

use crate::batch::{Batcher, By, Create, Read};
use crate::exec::{Backend, Conn, ExecError, Row, Ty, internal};
use crate::row::{name_field, promote};
use crate::sql::{Bind, Dialect, Sql, emit_cond, emit_order, table};
use async_trait::async_trait;
use muster_domain::model::{
    GroupRef, Load, MemberRef, Mode, NewResource, NewToken, SYSTEM_GROUPS, Stored, Tenant,
    TenantId, TokenInfo, class,
};
use muster_domain::query::{Column, Cond, Field};
use muster_domain::store::{
    ListPage, ListQuery, Mutation, PageReq, Store, StoreError, StoreResult,
};
use muster_scim::ScimError;
use muster_scim::eval::Operand;
use muster_scim::eval::{Scope, matches};
use muster_scim::filter::CompareOp;
use muster_scim::patch::MemberChange;
use muster_scim::resource::{fold, format_datetime};
use muster_scim::schema::{GROUP, ResourceKind};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Ids per `IN (…)` list: well under every engine's bound-parameter limit.
pub(crate) const CHUNK: usize = 500;

/// What a resource read selects (rows aliased `r`).
const COLUMNS: &str = "r.seq, r.id, r.data, r.created, r.last_modified, r.version, r.class";
/// The same, as a write's `RETURNING` names them (SQLite's may not name an alias).
const RETURNED_COLUMNS: &str = "seq, id, data, created, last_modified, version, class";
pub(crate) const COLUMN_TYPES: [Ty; 7] = [
    Ty::Int,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Int,
    Ty::Text,
];

/// A new id for a resource or an admin record. Time-ordered (UUID v7: 48 bits of milliseconds,
/// 74 random): rows made together sit together in every index keyed by id — a user's row in
/// `users_id`, an initial sync's users in `group_members_member` — instead of each taking a
/// random page.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) fn now() -> String {
    format_datetime(time::OffsetDateTime::now_utc())
}

/// Maps a write error: a unique violation becomes a conflict on `field`.
fn conflict_on(field: &str) -> impl FnOnce(ExecError) -> StoreError + '_ {
    move |e| match e {
        ExecError::Unique => StoreError::Conflict(field.to_string()),
        other => other.into(),
    }
}

/// The store over one engine.
pub struct SqlStore<B: Backend> {
    pub(crate) backend: Arc<B>,
    /// Single-row creates, written together (see [`crate::batch`]).
    creates: Batcher<B, Create>,
    /// Reads by id and lookups by name, where the engine batches them ([`Backend::BATCH_READS`]).
    reads: Batcher<B, Read>,
    /// Where the next `startIndex` page of a default-ordered list begins (the last `seq` served),
    /// so clients paging sequentially (Okta, PingOne: 1, 101, 201, …) get keyset queries instead
    /// of ever larger OFFSETs. Per node and safe to lose: a miss falls back to OFFSET.
    pages: std::sync::Mutex<HashMap<String, i64>>,
    /// `totalResults` of recent queries, so the pages after the first of a walk do not count the
    /// whole result again (a COUNT over 100k rows cost more than the page itself). Used only
    /// while no write has started on this node since, and for [`COUNT_MEMORY_TTL`] at most
    /// (writes on other nodes).
    counts: std::sync::Mutex<HashMap<String, RememberedCount>>,
    /// Write transactions begun on this node that may change resources (audit rows do not): a
    /// count taken before one is not reused.
    pub(crate) writes: std::sync::atomic::AtomicU64,
}

/// Entries kept in [`SqlStore::pages`] and [`SqlStore::counts`] before each starts afresh.
const PAGE_MEMORY: usize = 4096;
/// How long a remembered `totalResults` is reused at most.
const COUNT_MEMORY_TTL: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Clone, Copy)]
struct RememberedCount {
    at: std::time::Instant,
    writes: u64,
    total: u64,
}

type S<B> = Sql<<B as Backend>::D>;
type C<B> = Box<dyn Conn<<B as Backend>::D>>;

pub(crate) fn tenant_row(mut r: Row, at: usize) -> StoreResult<Tenant> {
    let mode = r.text(at + 2)?;
    let settings = r.text(at + 4)?;
    Ok(Tenant {
        id: TenantId(r.text(at)?),
        name: r.text(at + 1)?,
        mode: Mode::parse(&mode).unwrap_or(Mode::Scim),
        created: r.text(at + 3)?,
        settings: serde_json::from_str(&settings).unwrap_or_default(),
    })
}

/// A tenant's columns (table aliased `t`), as [`tenant_row`] reads them.
pub(crate) const TENANT_COLUMNS: &str = "t.id, t.name, t.mode, t.created, t.settings";
pub(crate) const TENANT_TYPES: [Ty; 5] = [Ty::Text, Ty::Text, Ty::Text, Ty::Text, Ty::Text];
const TOKEN_COLUMNS: &str = "k.id, k.tenant_id, k.prefix, k.created, k.last_used, k.revoked_at, k.connection_id, k.expires_at";
const TOKEN_TYPES: [Ty; 8] = [
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::OptText,
    Ty::OptText,
    Ty::OptText,
    Ty::OptText,
];

fn token_row(r: &mut Row) -> StoreResult<TokenInfo> {
    Ok(TokenInfo {
        id: r.text(0)?,
        tenant_id: TenantId(r.text(1)?),
        prefix: r.text(2)?,
        created: r.text(3)?,
        last_used: r.opt_text(4)?,
        revoked: r.opt_text(5)?.is_some(),
        connection_id: r.opt_text(6)?,
        expires_at: r.opt_text(7)?,
    })
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn init(backend: B) -> StoreResult<Self> {
        let migrations = <B::D as crate::sql::Dialect>::MIGRATIONS;
        backend.migrate(migrations).await?;
        let backend = Arc::new(backend);
        Ok(SqlStore {
            creates: Batcher::default(),
            reads: Batcher::default(),
            backend,
            pages: std::sync::Mutex::default(),
            counts: std::sync::Mutex::default(),
            writes: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// A write transaction; remembered counts are stale from here on.
    pub(crate) async fn write_conn(&self) -> StoreResult<C<B>> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.backend.write().await
    }

    fn remembered_count(&self, key: &str) -> Option<u64> {
        let c = *self.counts.lock().ok()?.get(key)?;
        let fresh = c.at.elapsed() < COUNT_MEMORY_TTL
            && c.writes == self.writes.load(std::sync::atomic::Ordering::SeqCst);
        fresh.then_some(c.total)
    }

    fn remember_count(&self, key: String, writes: u64, total: u64) {
        if let Ok(mut counts) = self.counts.lock() {
            if counts.len() >= PAGE_MEMORY {
                counts.clear();
            }
            let at = std::time::Instant::now();
            counts.insert(key, RememberedCount { at, writes, total });
        }
    }

    /// One resource by id, with its direct groups when it is a user and `load` wants them.
    pub(crate) async fn find(
        conn: &mut C<B>,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        lock: bool,
        load: Load,
    ) -> StoreResult<Option<(i64, Stored)>> {
        let mut sql = select_resources::<B::D>(kind, load);
        sql.push(" WHERE r.tenant_id = ");
        push_tenant_of_lookup(&mut sql, kind, t);
        sql.push(" AND r.id = ").text(id);
        if lock {
            sql.push(<B::D as crate::sql::Dialect>::FOR_UPDATE);
        }
        let groups = wants_groups(kind, load);
        let row = conn
            .rows(&sql, &row_types(groups))
            .await?
            .into_iter()
            .next();
        row.map(|r| resource_row(r, groups, load.raw)).transpose()
    }

    /// Locks a resource by bumping its version and stamping it modified now; returns it as it
    /// is then (the new version). The caller rolls back when nothing else changes.
    async fn bump(
        conn: &mut C<B>,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
    ) -> StoreResult<Option<(i64, Stored)>> {
        let mut sql = S::<B>::new(&format!(
            "UPDATE {} SET version = version + 1, last_modified = ",
            table(kind)
        ));
        sql.text(now())
            .push(" WHERE tenant_id = ")
            .text(t.0.clone())
            .push(" AND id = ")
            .text(id)
            .push(&format!(" RETURNING {RETURNED_COLUMNS}"));
        let row = conn.rows(&sql, &COLUMN_TYPES).await?.into_iter().next();
        row.map(|r| resource_row(r, false, false)).transpose()
    }

    /// `current` after a write, with what `load` asks for beyond its row (read after the commit).
    pub(crate) async fn loaded(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        mut current: Stored,
        load: Load,
    ) -> StoreResult<Stored> {
        if load != Load::default() {
            let mut conn = self.backend.read().await?;
            if wants_groups(kind, load) {
                current.groups = Self::find(&mut conn, t, kind, id, false, load)
                    .await?
                    .and_then(|(_, s)| s.groups);
            }
            load_extras::<B>(&mut conn, t, kind, std::slice::from_mut(&mut current), load).await?;
        }
        Ok(current)
    }

    async fn list_resources(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        q: &ListQuery,
    ) -> StoreResult<ListPage> {
        if let Some(name) = name_lookup::<B>(kind, q) {
            let lookup = Read {
                tenant: t.clone(),
                kind,
                load: q.load,
                by: By::Name,
                value: name,
            };
            let mut items: Vec<Stored> = self
                .reads
                .run(&self.backend, lookup)
                .await?
                .into_iter()
                .collect();
            if !items.is_empty() && kind == ResourceKind::Group && q.load.members {
                let mut conn = self.backend.read().await?;
                load_extras::<B>(&mut conn, t, kind, &mut items, q.load).await?;
            }
            return Ok(ListPage {
                total: items.len() as u64,
                items,
                next_cursor: None,
            });
        }
        let tbl = table(kind);
        let mut conn = self.backend.read().await?;
        let filter = where_clause::<B::D>(t, q.filter.as_ref());
        // The page an earlier page of the same query ended before, if this node served it.
        let page_key = |start: u64| match (&q.page, &q.sort) {
            (PageReq::Index { .. }, None) => Some(format!(
                "{}|{kind:?}|{}|{:?}|{}|{start}",
                t.0, filter.text, filter.binds, q.descending
            )),
            _ => None,
        };
        let remembered = |start: u64| {
            let key = page_key(start)?;
            self.pages.lock().ok()?.get(&key).copied()
        };
        let (limit, offset, after_seq) = match &q.page {
            PageReq::Index { start, count } if *start > 1 => match remembered(*start) {
                Some(seq) => (*count, 0, Some(seq)),
                None => (*count, start - 1, None),
            },
            PageReq::Index { start, count } => (*count, start.saturating_sub(1), None),
            PageReq::Cursor { cursor, count } => {
                match cursor.as_deref().map(decode_cursor).transpose()? {
                    None => (*count, 0, None),
                    Some(Cursor::Offset(o)) => (*count, o, None),
                    Some(Cursor::After(seq)) => (*count, 0, Some(seq)),
                }
            }
        };
        // A lookup by id or unique name (an IdP's `userName eq` before every write) has at most
        // one user: its groups come in the page's statement, not in a second one.
        let groups = wants_groups(kind, q.load);
        let inline_groups = groups && q.filter.as_ref().is_some_and(crate::sql::is_unique);
        let mut items = Vec::new();
        let mut more = false;
        if limit > 0 {
            let sql = page_sql(kind, &filter, q, after_seq, limit, offset, inline_groups);
            let rows = conn.rows(&sql, &row_types(inline_groups)).await?;
            more = rows.len() as u64 > limit;
            for row in rows.into_iter().take(limit as usize) {
                items.push(resource_row(row, inline_groups, q.load.raw)?);
            }
        }
        // A first page that is not full holds every match: no COUNT needed (the common
        // `userName eq` lookup then costs one indexed query). A later page of a walk reuses the
        // count its first page took, while nothing was written since.
        let first = offset == 0 && after_seq.is_none();
        let count_key = || format!("{}|{kind:?}|{}|{:?}", t.0, filter.text, filter.binds);
        let total = if first && limit > 0 && !more {
            items.len() as u64
        } else if let Some(total) = (!first)
            .then(|| self.remembered_count(&count_key()))
            .flatten()
        {
            total
        } else {
            let writes = self.writes.load(std::sync::atomic::Ordering::SeqCst);
            let mut count = S::<B>::new(&format!("SELECT COUNT(*) FROM {tbl} r"));
            count.push(&filter.text);
            count.binds = filter.binds.clone();
            let rows = conn.rows(&count, &[Ty::Int]).await?;
            let total = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0) as u64;
            self.remember_count(count_key(), writes, total);
            total
        };
        if let (PageReq::Index { start, .. }, true, Some((seq, _))) = (&q.page, more, items.last())
            && let Some(key) = page_key(start + items.len() as u64)
            && let Ok(mut pages) = self.pages.lock()
        {
            if pages.len() >= PAGE_MEMORY {
                pages.clear();
            }
            pages.insert(key, *seq);
        }
        let next_cursor = match (&q.page, more) {
            (PageReq::Cursor { .. }, true) => Some(if q.sort.is_none() {
                format!("s{}", items.last().map(|(seq, _)| *seq).unwrap_or_default())
            } else {
                format!("o{}", offset + items.len() as u64)
            }),
            _ => None,
        };
        let mut items: Vec<Stored> = items.into_iter().map(|(_, s)| s).collect();
        if groups && !inline_groups {
            load_user_groups::<B>(&mut conn, t, &mut items, q.load).await?;
        }
        load_extras::<B>(&mut conn, t, kind, &mut items, q.load).await?;
        Ok(ListPage {
            items,
            total,
            next_cursor,
        })
    }
}

/// ` WHERE r.tenant_id = ? [AND filter]`.
pub(crate) fn where_clause<D: Dialect>(t: &TenantId, filter: Option<&Cond>) -> Sql<D> {
    let mut sql = Sql::<D>::new(" WHERE r.tenant_id = ");
    sql.text(t.0.clone());
    if let Some(c) = filter {
        sql.push(" AND ");
        emit_cond(&mut sql, &t.0, c);
    }
    sql
}

/// One page of a list: `limit + 1` rows (the extra one tells whether there is more), with the
/// users' groups only when `inline_groups`: otherwise [`load_user_groups`] reads those for the
/// whole page in one statement.
pub(crate) fn page_sql<D: Dialect>(
    kind: ResourceKind,
    filter: &Sql<D>,
    q: &ListQuery,
    after_seq: Option<i64>,
    limit: u64,
    offset: u64,
    inline_groups: bool,
) -> Sql<D> {
    let load = Load {
        groups: inline_groups,
        ..q.load
    };
    let mut sql = select_resources::<D>(kind, load);
    sql.push(&filter.text);
    sql.binds = filter.binds.clone();
    if let Some(seq) = after_seq {
        sql.push(if q.descending {
            " AND r.seq < "
        } else {
            " AND r.seq > "
        });
        sql.int(seq);
    }
    let selective = q.filter.as_ref().is_some_and(crate::sql::is_selective);
    emit_order(&mut sql, q.sort.as_ref(), q.descending, selective);
    // LIMIT and OFFSET are written into the text, not bound: SQLite (3.47+) plans with a bound
    // LIMIT's value and so re-prepares the statement every time it is bound, which was a fifth
    // of a lookup's CPU. They are integers this function computed, never client text.
    let limit = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    sql.push(&format!(" LIMIT {limit}"));
    if offset > 0 {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        sql.push(&format!(" OFFSET {offset}"));
    }
    sql
}

enum Cursor {
    After(i64),
    Offset(u64),
}

fn decode_cursor(c: &str) -> StoreResult<Cursor> {
    let bad = || {
        StoreError::Scim(ScimError::bad_request(
            muster_scim::ScimType::InvalidCursor,
            format!("cursor \"{c}\" was not issued by this server"),
        ))
    };
    let (tag, n) = c.split_at_checked(1).ok_or_else(bad)?;
    match tag {
        "s" => n.parse().map(Cursor::After).map_err(|_| bad()),
        "o" => n.parse().map(Cursor::Offset).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Whether a read of `kind` selects the users' direct groups.
fn wants_groups(kind: ResourceKind, load: Load) -> bool {
    kind == ResourceKind::User && load.groups
}

/// ` AND <alias>.class IN (…)` of the groups SCIM lists ([`Cond::scim_listed_groups`]): constants,
/// written into the text so they add no binds.
fn push_listed_classes<D: Dialect>(sql: &mut Sql<D>, alias: &str) {
    sql.push(" AND ")
        .push(alias)
        .push(".class IN ('")
        .push(class::SCIM)
        .push("', '")
        .push(class::CUSTOM)
        .push("')");
}

/// A user's direct groups: the memberships joined to their groups, up to the tenant, which the
/// caller writes next. Read per row by [`select_resources`] and per page by [`load_user_groups`].
const USER_GROUPS_FROM: &str = "FROM group_members m \
     JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id WHERE m.tenant_id = ";

/// `SELECT … FROM <table> r` of resource reads. A user read that wants its groups gets them as
/// one more column, a JSON array of `[id, display, name]` triples ([`resource_row`] sorts them
/// by name), so a GET, a batch of reads by id or name, or a lookup by a unique key is one
/// statement (any other page of users reads them after it: [`page_sql`]). SCIM sees
/// a user's own and custom groups, never system or product groups (rule 13), unless the caller
/// asked for every kind; the classes are constants, written into the text so the column adds no
/// binds before the filter's.
fn select_resources<D: Dialect>(kind: ResourceKind, load: Load) -> Sql<D> {
    // Pushed piece by piece rather than formatted: this runs on every read.
    let mut sql = Sql::<D>::new("SELECT ");
    sql.push(COLUMNS);
    if wants_groups(kind, load) {
        sql.push(", (SELECT ");
        D::push_triple_array(&mut sql, "g.id", "g.display_name", "g.name_norm");
        sql.push(" ")
            .push(USER_GROUPS_FROM)
            .push("r.tenant_id AND m.member_id = r.id");
        if !load.all_kinds {
            push_listed_classes(&mut sql, "g");
        }
        sql.push(")");
    }
    sql.push(" FROM ").push(table(kind)).push(" r");
    sql
}

fn row_types(groups: bool) -> Vec<Ty> {
    let mut types = COLUMN_TYPES.to_vec();
    if groups {
        types.push(Ty::Text);
    }
    types
}

/// A row of [`select_resources`]; its document left as text when `raw` ([`Load::raw`]).
fn resource_row(mut row: Row, groups: bool, raw: bool) -> StoreResult<(i64, Stored)> {
    let refs = if groups {
        // By name, as a page's users get them (`load_user_groups`); names are unique.
        let mut triples: Vec<(String, String, String)> =
            serde_json::from_str(&row.text(COLUMN_TYPES.len())?).map_err(internal)?;
        triples.sort_unstable_by(|a, b| a.2.cmp(&b.2));
        Some(
            triples
                .into_iter()
                .map(|(id, display, _)| GroupRef { id, display })
                .collect(),
        )
    } else {
        None
    };
    let text = row.text(2)?;
    let (data, raw) = if raw {
        (Map::new(), Some(text))
    } else {
        (serde_json::from_str(&text).map_err(internal)?, None)
    };
    Ok((
        row.int(0)?,
        Stored {
            id: row.text(1)?,
            data,
            raw,
            created: row.text(3)?,
            last_modified: row.text(4)?,
            version: row.int(5)?,
            members: None,
            groups: refs,
            class: row.text(6)?,
        },
    ))
}

/// The resources of `kind` whose `key` (`r.id`, or `r.name_norm`) is among `values`, with
/// users' groups when `load` wants them; groups only of the classes SCIM lists when `listed`.
pub(crate) async fn find_many<B: Backend>(
    conn: &mut C<B>,
    t: &TenantId,
    kind: ResourceKind,
    key: &str,
    values: &[String],
    load: Load,
    listed: bool,
) -> StoreResult<Vec<Stored>> {
    let sql = find_many_sql::<B::D>(t, kind, key, values, load, listed);
    let groups = wants_groups(kind, load);
    conn.rows(&sql, &row_types(groups))
        .await?
        .into_iter()
        .map(|r| resource_row(r, groups, load.raw).map(|(_, s)| s))
        .collect()
}

/// The tenant of a lookup of `kind` by a unique key. Users' as [`Sql::tenant_key`]: a
/// tenant that the statistics do not know yet is then not planned as one row. Groups' as a
/// plain bind: planned without the tenant's value, a lookup of a group took the statistics of a
/// `groups` table analyzed while it held a few system groups, and scanned it (an initial sync's
/// groups: 1.9 s, then 38.6 s).
fn push_tenant_of_lookup<D: Dialect>(sql: &mut Sql<D>, kind: ResourceKind, t: &TenantId) {
    match kind {
        ResourceKind::User => sql.tenant_key(&t.0),
        ResourceKind::Group => sql.text(t.0.clone()),
    };
}

/// [`find_many`]'s statement.
pub(crate) fn find_many_sql<D: Dialect>(
    t: &TenantId,
    kind: ResourceKind,
    key: &str,
    values: &[String],
    load: Load,
    listed: bool,
) -> Sql<D> {
    let mut sql = select_resources::<D>(kind, load);
    sql.push(" WHERE r.tenant_id = ");
    push_tenant_of_lookup(&mut sql, kind, t);
    sql.push(&format!(" AND {key} IN ")).text_list(values);
    if listed {
        push_listed_classes(&mut sql, "r");
    }
    sql
}

/// The folded name of a list query that looks one resource up by name, when the engine batches
/// reads: `userName eq "…"` (or a group's `displayName eq "…"` among those SCIM lists), its
/// first page, in the default order. IdPs ask it before every create and on every sync cycle.
fn name_lookup<B: Backend>(kind: ResourceKind, q: &ListQuery) -> Option<String> {
    let first = match &q.page {
        PageReq::Index { start, count } => *start <= 1 && *count > 0,
        PageReq::Cursor { cursor, count } => cursor.is_none() && *count > 0,
    };
    if !B::BATCH_READS || q.sort.is_some() || !first {
        return None;
    }
    let name_eq = |c: &Cond| match c {
        Cond::Cmp {
            field: Field::Column(Column::NameNorm),
            op: CompareOp::Eq,
            value: Operand::Str(name),
        } => Some(name.clone()),
        _ => None,
    };
    match (kind, q.filter.as_ref()?) {
        (ResourceKind::User, c) => name_eq(c),
        (ResourceKind::Group, Cond::And(c, listed)) if **listed == Cond::scim_listed_groups() => {
            name_eq(c)
        }
        _ => None,
    }
}

/// Loads the members of a page of groups (users' groups come with the users' rows).
async fn load_extras<B: Backend>(
    conn: &mut C<B>,
    t: &TenantId,
    kind: ResourceKind,
    items: &mut [Stored],
    load: Load,
) -> StoreResult<()> {
    if items.is_empty() || kind != ResourceKind::Group || !load.members {
        return Ok(());
    }
    let ids: Vec<String> = items.iter().map(|s| s.id.clone()).collect();
    let mut by_group = load_members::<B>(conn, t, &ids).await?;
    for s in items.iter_mut() {
        s.members = Some(by_group.remove(&s.id).unwrap_or_default());
    }
    Ok(())
}

/// The direct groups of a page of users (by name, as a single read's subquery orders them), in
/// one statement for the page: on PostgreSQL a subquery per row was an executor run per row,
/// 0.4 of a page's 0.56 ms in the database.
async fn load_user_groups<B: Backend>(
    conn: &mut C<B>,
    t: &TenantId,
    items: &mut [Stored],
    load: Load,
) -> StoreResult<()> {
    let ids: Vec<String> = items.iter().map(|s| s.id.clone()).collect();
    let mut by_user: HashMap<String, Vec<GroupRef>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut sql = S::<B>::new(&format!(
            "SELECT m.member_id, g.id, g.display_name {USER_GROUPS_FROM}"
        ));
        sql.text(t.0.clone())
            .push(" AND m.member_id IN ")
            .text_list(chunk);
        if !load.all_kinds {
            push_listed_classes(&mut sql, "g");
        }
        sql.push(" ORDER BY m.member_id, g.name_norm");
        for mut row in conn.rows(&sql, &[Ty::Text; 3]).await? {
            by_user.entry(row.text(0)?).or_default().push(GroupRef {
                id: row.text(1)?,
                display: row.text(2)?,
            });
        }
    }
    for s in items.iter_mut() {
        s.groups = Some(by_user.remove(&s.id).unwrap_or_default());
    }
    Ok(())
}

async fn load_members<B: Backend>(
    conn: &mut C<B>,
    t: &TenantId,
    group_ids: &[String],
) -> StoreResult<HashMap<String, Vec<MemberRef>>> {
    let mut out: HashMap<String, Vec<MemberRef>> = HashMap::new();
    for chunk in group_ids.chunks(CHUNK) {
        let mut sql = S::<B>::new(
            "SELECT m.group_id, m.member_id, m.member_kind, COALESCE(u.display, g.display_name) FROM group_members m \
             LEFT JOIN users u ON m.member_kind = 0 AND u.tenant_id = m.tenant_id AND u.id = m.member_id \
             LEFT JOIN groups g ON m.member_kind = 1 AND g.tenant_id = m.tenant_id AND g.id = m.member_id \
             WHERE m.tenant_id = ",
        );
        // In the order they were added (the index's own order on SQLite): an export and its
        // import list the same members in the same order, on either store.
        sql.text(t.0.clone())
            .push(" AND m.group_id IN ")
            .text_list(chunk)
            .push(" ORDER BY m.group_id, m.seq");
        for mut row in conn
            .rows(&sql, &[Ty::Text, Ty::Text, Ty::Int, Ty::OptText])
            .await?
        {
            let group = row.text(0)?;
            let kind = row.int(2)?;
            out.entry(group).or_default().push(MemberRef {
                id: row.text(1)?,
                kind: if kind == 1 {
                    ResourceKind::Group
                } else {
                    ResourceKind::User
                },
                display: row.opt_text(3)?,
            });
        }
    }
    Ok(out)
}

async fn apply_member_change<B: Backend>(
    conn: &mut C<B>,
    t: &TenantId,
    group: &str,
    change: &MemberChange,
) -> StoreResult<()> {
    match change {
        MemberChange::Add(members) => {
            add_members::<B>(conn, t, group, &distinct_ids(members)).await
        }
        MemberChange::Replace(members) => {
            remove_all::<B>(conn, t, group).await?;
            add_members::<B>(conn, t, group, &distinct_ids(members)).await
        }
        MemberChange::RemoveAll => remove_all::<B>(conn, t, group).await,
        MemberChange::Remove(ids) => remove_members::<B>(conn, t, group, ids).await,
        MemberChange::RemoveMatching(filter) => {
            let members = load_members::<B>(conn, t, &[group.to_string()])
                .await?
                .remove(group)
                .unwrap_or_default();
            let members_attr = GROUP
                .attr("members")
                .ok_or_else(|| internal("no members attribute"))?;
            let mut doomed = Vec::new();
            for m in members {
                let mut obj = Map::new();
                obj.insert("value".into(), Value::String(m.id.clone()));
                let kind = if m.kind == ResourceKind::Group {
                    "Group"
                } else {
                    "User"
                };
                obj.insert("type".into(), Value::String(kind.into()));
                if let Some(d) = m.display {
                    obj.insert("display".into(), Value::String(d));
                }
                if matches(Scope::Element(members_attr), filter, &obj)? {
                    doomed.push(m.id);
                }
            }
            remove_members::<B>(conn, t, group, &doomed).await
        }
    }
}

async fn remove_all<B: Backend>(conn: &mut C<B>, t: &TenantId, group: &str) -> StoreResult<()> {
    let mut sql = S::<B>::new("DELETE FROM group_members WHERE tenant_id = ");
    sql.text(t.0.clone()).push(" AND group_id = ").text(group);
    conn.exec(&sql).await?;
    Ok(())
}

/// Removes the given members (ids that are not members are no-ops).
async fn remove_members<B: Backend>(
    conn: &mut C<B>,
    t: &TenantId,
    group: &str,
    ids: &[String],
) -> StoreResult<()> {
    for chunk in ids.chunks(CHUNK) {
        conn.exec(&delete_members::<B>(t, group, chunk)).await?;
    }
    Ok(())
}

/// The DELETE of the members `chunk` of `group`.
///
/// Each id probes the unique `(tenant_id, member_id, group_id)` index once, as in
/// [`member_kinds`]: with `member_id IN (…)`, PostgreSQL planning from missing or stale
/// statistics estimated the group at one row and read all of it through the group's index
/// (4.5 ms at 1k members, growing with the group).
pub(crate) fn delete_members<B: Backend>(t: &TenantId, group: &str, chunk: &[String]) -> S<B> {
    let mut sql = listed_ids::<B>(chunk);
    sql.push(" ");
    push_delete_listed::<B>(&mut sql, t, group);
    sql
}

/// `DELETE FROM group_members WHERE <the listed ids' memberships of group>`, after
/// [`listed_ids`]; the caller may add conditions.
pub(crate) fn push_delete_listed<B: Backend>(sql: &mut S<B>, t: &TenantId, group: &str) {
    sql.push("DELETE FROM group_members WHERE seq")
        .push(B::D::IN_ROWS_OPEN)
        .push("SELECT (SELECT m.seq FROM group_members m WHERE m.tenant_id = ")
        .text(t.0.clone())
        .push(" AND m.member_id = v.id AND m.group_id = ")
        .text(group)
        .push(") FROM v")
        .push(B::D::IN_ROWS_CLOSE);
}

/// Adds members after checking every id is a user or group of this tenant (product rule 12):
/// an unknown id fails the whole request and names the id.
///
/// One statement both checks and inserts, in the order given: it inserts only ids it finds, so
/// when it inserts them all (the usual case) nothing else runs. When it inserts fewer, some were
/// members already or are unknown; only then does a second query tell which, and an unknown id
/// fails the request, whose transaction then writes nothing. On PostgreSQL this saves a round
/// trip per PATCH.
async fn add_members<B: Backend>(
    conn: &mut C<B>,
    t: &TenantId,
    group: &str,
    ids: &[String],
) -> StoreResult<()> {
    not_itself(group, ids)?;
    for chunk in ids.chunks(CHUNK) {
        let inserted = conn
            .exec(&insert_found_members::<B>(t, group, chunk))
            .await?;
        if inserted < chunk.len() as u64
            && let Some(missing) = first_unknown_member::<B>(conn, t, chunk).await?
        {
            return Err(unknown_member(&missing));
        }
    }
    Ok(())
}

/// The ids (`value`s) of members to add, each once, in the order given.
pub(crate) fn distinct_ids(members: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(members.len());
    let mut seen = std::collections::HashSet::with_capacity(members.len());
    for id in members
        .iter()
        .filter_map(|m| m.get("value").and_then(Value::as_str))
    {
        if seen.insert(id) {
            ids.push(id.to_string());
        }
    }
    ids
}

/// A group is never a member of itself.
pub(crate) fn not_itself(group: &str, ids: &[String]) -> StoreResult<()> {
    if ids.iter().any(|m| m == group) {
        return Err(StoreError::Scim(ScimError::invalid_value(format!(
            "group {group} cannot be a member of itself"
        ))));
    }
    Ok(())
}

/// The refusal of an add that lists `id`, neither a user nor a visible group of the tenant
/// (product rule 12); the request changes nothing.
pub(crate) fn unknown_member(id: &str) -> StoreError {
    StoreError::Scim(ScimError::invalid_value(format!(
        "member \"{id}\" is not a user or group of this tenant; nothing was changed"
    )))
}

/// `WITH v(id, ord) AS (…)`: the ids of `chunk` as rows, each with its place in the list, for
/// statements that look each one up by itself; the ids are one bound JSON array.
pub(crate) fn listed_ids<B: Backend>(chunk: &[String]) -> S<B> {
    let mut sql = S::<B>::new("WITH v(id, ord) AS (");
    sql.push(B::D::JSON_TEXTS_OPEN)
        // A list of strings always serializes.
        .text(serde_json::to_string(chunk).unwrap_or_default())
        .push(B::D::JSON_TEXTS_CLOSE)
        .push(")");
    sql
}

/// `WITH v(id, ord) AS (…), k(id, ord, kind) AS (…)`: each id of `chunk` with its place in it and
/// its member kind, 0 for a user, 1 for a group SCIM sees (system and product groups cannot be
/// nested), NULL for neither.
///
/// Each id probes the unique `(tenant_id, id)` index once, in a subquery of its own. Given the
/// ids as one `IN (…)` list, PostgreSQL planning from missing or stale statistics (a tenant that
/// just grew) read every user of the tenant through another index and hashed them: 6 ms instead
/// of 0.3 for 100 ids among 12k users, growing with the tenant. No statistics make a probe of a
/// unique key by its whole key look dearer than a scan.
pub(crate) fn member_kinds<B: Backend>(t: &TenantId, chunk: &[String]) -> S<B> {
    let mut sql = listed_ids::<B>(chunk);
    // Scalar subqueries, not EXISTS: PostgreSQL may run an EXISTS as one hashed scan of the
    // whole table instead of a probe per id, and chooses so from those same statistics.
    // MATERIALIZED: the kind is read and filtered on, and would otherwise be probed twice.
    // The users' tenant as a lookup's (`push_tenant_of_lookup`), the groups' as a plain bind.
    sql.push(", k(id, ord, kind) AS MATERIALIZED (SELECT v.id, v.ord, COALESCE((SELECT 0 FROM users u WHERE u.tenant_id = ")
        .tenant_key(&t.0)
        .push(" AND u.id = v.id), (SELECT 1 FROM groups g WHERE g.tenant_id = ")
        .text(t.0.clone())
        .push(" AND g.id = v.id AND g.class IN (")
        .text(class::SCIM)
        .push(", ")
        .text(class::CUSTOM)
        .push("))) FROM v) ");
    sql
}

/// The INSERT of the ids among `chunk` that are users or visible groups of the tenant, in the
/// order of `chunk` (members are listed in the order they were added); members already there
/// are skipped.
pub(crate) fn insert_found_members<B: Backend>(
    t: &TenantId,
    group: &str,
    chunk: &[String],
) -> S<B> {
    let mut sql = member_kinds::<B>(t, chunk);
    sql.push("INSERT INTO group_members (tenant_id, group_id, member_id, member_kind) SELECT ")
        .text(t.0.clone())
        .push(", ")
        .text(group)
        // SQLite reads an ON after a SELECT's FROM as a join's unless a WHERE comes between.
        .push(", id, kind FROM k WHERE kind IS NOT NULL ORDER BY ord ON CONFLICT DO NOTHING");
    sql
}

/// The first id of `chunk` that is neither a user nor a visible group of the tenant.
async fn first_unknown_member<B: Backend>(
    conn: &mut C<B>,
    t: &TenantId,
    chunk: &[String],
) -> StoreResult<Option<String>> {
    let mut rows = conn
        .rows(&first_unknown_sql::<B>(t, chunk), &[Ty::Text])
        .await?;
    rows.pop().map(|mut r| r.text(0)).transpose()
}

pub(crate) fn first_unknown_sql<B: Backend>(t: &TenantId, chunk: &[String]) -> S<B> {
    let mut sql = member_kinds::<B>(t, chunk);
    sql.push("SELECT id FROM k WHERE kind IS NULL ORDER BY ord LIMIT 1");
    sql
}

/// A resource's row as an `INSERT` writes it (new, or restored by an import): its promoted
/// columns, ready to bind in order.
pub(crate) struct ResourceRow {
    pub(crate) kind: ResourceKind,
    pub(crate) id: String,
    /// `tenant_id` to `data`.
    head: Vec<Bind>,
    search: String,
    /// `created`, `last_modified`, `version`, `class`.
    tail: Vec<Bind>,
}

impl ResourceRow {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        data: &Map<String, Value>,
        class: &str,
        created: &str,
        last_modified: &str,
        version: i64,
    ) -> StoreResult<Self> {
        let p = promote(kind, data)?;
        let mut head = vec![
            Bind::Text(t.0.clone()),
            Bind::Text(id.to_string()),
            Bind::Text(p.name),
            Bind::Text(p.name_norm),
            Bind::OptText(p.external_id),
        ];
        if kind == ResourceKind::User {
            head.push(Bind::OptInt(p.active.map(i64::from)));
            head.push(Bind::Text(p.display));
        }
        head.push(Bind::Text(p.data));
        let tail = vec![
            Bind::Text(created.to_string()),
            Bind::Text(last_modified.to_string()),
            Bind::Int(version),
            Bind::Text(class.to_string()),
        ];
        Ok(ResourceRow {
            kind,
            id: id.to_string(),
            head,
            search: p.search,
            tail,
        })
    }

    /// The INSERT of this row alone (a new resource, or one restored by an import).
    pub(crate) fn insert<B: Backend>(&self) -> S<B> {
        let mut sql = insert_head::<B>(self.kind);
        push_tuple::<B>(&mut sql, self);
        sql
    }
}

/// `INSERT INTO <table> (…) VALUES ` of resource rows.
fn insert_head<B: Backend>(kind: ResourceKind) -> S<B> {
    S::<B>::new(match kind {
        ResourceKind::User => {
            "INSERT INTO users (tenant_id, id, user_name, name_norm, external_id, active, display, \
             data, search, created, last_modified, version, class) VALUES "
        }
        ResourceKind::Group => {
            "INSERT INTO groups (tenant_id, id, display_name, name_norm, external_id, \
             data, search, created, last_modified, version, class) VALUES "
        }
    })
}

/// `(?, ?, …)` of one row.
fn push_tuple<B: Backend>(sql: &mut S<B>, row: &ResourceRow) {
    sql.push("(");
    for b in &row.head {
        sql.bind(b.clone()).push(", ");
    }
    sql.json(row.search.clone());
    for b in &row.tail {
        sql.push(", ").bind(b.clone());
    }
    sql.push(")");
}

/// The INSERT of several new rows of one kind, answering the ids it wrote: a row a unique key
/// refuses (its name is taken, perhaps by an earlier row of the same statement) is skipped.
pub(crate) fn insert_rows_sql<B: Backend>(kind: ResourceKind, rows: &[&ResourceRow]) -> S<B> {
    let mut sql = insert_head::<B>(kind);
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        push_tuple::<B>(&mut sql, row);
    }
    sql.push(" ON CONFLICT DO NOTHING RETURNING id");
    sql
}

fn insert_tenant<B: Backend>(t: &Tenant) -> StoreResult<S<B>> {
    Ok(S::<B>::insert(
        "tenants",
        vec![
            ("id", Bind::Text(t.id.0.clone())),
            ("name", Bind::Text(t.name.clone())),
            ("name_norm", Bind::Text(fold(&t.name))),
            ("mode", Bind::Text(t.mode.as_str().into())),
            (
                "settings",
                Bind::Text(serde_json::to_string(&t.settings).map_err(internal)?),
            ),
            ("created", Bind::Text(t.created.clone())),
        ],
    ))
}

/// The stored document of a group muster makes itself (system and product groups).
pub(crate) fn group_document(name: &str) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert(
        "schemas".into(),
        Value::Array(vec![Value::String(
            muster_scim::schema::GROUP_SCHEMA.into(),
        )]),
    );
    data.insert("displayName".into(), Value::String(name.to_string()));
    data
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn ready(&self) -> bool {
        let Ok(mut conn) = self.backend.read().await else {
            return false;
        };
        let sql = S::<B>::new("SELECT COUNT(*) FROM schema_migrations");
        let n = conn
            .rows(&sql, &[Ty::Int])
            .await
            .ok()
            .and_then(|r| r.first().and_then(|r| r.int(0).ok()));
        n.is_some_and(|n| n as usize >= <B::D as crate::sql::Dialect>::MIGRATIONS.len())
    }

    fn pool_stats(&self) -> Vec<(&'static str, u32, u32)> {
        self.backend.pool_stats()
    }

    async fn backup(&self, path: &str) -> StoreResult<()> {
        self.backend.backup(path).await
    }

    async fn create_tenant(&self, name: &str, mode: Mode) -> StoreResult<Tenant> {
        let t = Tenant {
            id: TenantId(new_id()),
            name: name.to_string(),
            mode,
            settings: Default::default(),
            created: now(),
        };
        let mut conn = self.write_conn().await?;
        conn.exec(&insert_tenant::<B>(&t)?)
            .await
            .map_err(conflict_on("name"))?;
        // Every tenant starts with its system groups (product.md §1).
        for name in SYSTEM_GROUPS {
            let data = group_document(name);
            let id = new_id();
            let sql = ResourceRow::new(
                &t.id,
                ResourceKind::Group,
                &id,
                &data,
                class::SYSTEM,
                &t.created,
                &t.created,
                1,
            )?
            .insert::<B>();
            conn.exec(&sql).await?;
        }
        conn.commit().await?;
        Ok(t)
    }

    async fn tenant_by_name(&self, name: &str) -> StoreResult<Option<Tenant>> {
        let mut conn = self.backend.read().await?;
        let mut sql = S::<B>::new(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants t WHERE t.name_norm = "
        ));
        sql.text(fold(name));
        let row = conn.rows(&sql, &TENANT_TYPES).await?.into_iter().next();
        row.map(|r| tenant_row(r, 0)).transpose()
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let mut conn = self.backend.read().await?;
        let sql = S::<B>::new(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants t ORDER BY t.name_norm"
        ));
        conn.rows(&sql, &TENANT_TYPES)
            .await?
            .into_iter()
            .map(|r| tenant_row(r, 0))
            .collect()
    }

    async fn create_token(&self, tenant: &TenantId, token: &NewToken) -> StoreResult<TokenInfo> {
        let created = now();
        let mut conn = self.write_conn().await?;
        let sql = S::<B>::insert(
            "api_tokens",
            vec![
                ("id", Bind::Text(token.id.clone())),
                ("tenant_id", Bind::Text(tenant.0.clone())),
                ("token_hash", Bind::Bytes(token.hash.to_vec())),
                ("prefix", Bind::Text(token.prefix.clone())),
                ("created", Bind::Text(created.clone())),
                ("connection_id", Bind::OptText(token.connection_id.clone())),
            ],
        );
        conn.exec(&sql).await?;
        conn.commit().await?;
        Ok(TokenInfo {
            id: token.id.clone(),
            tenant_id: tenant.clone(),
            prefix: token.prefix.clone(),
            created,
            last_used: None,
            revoked: false,
            connection_id: token.connection_id.clone(),
            expires_at: None,
        })
    }

    async fn list_tokens(&self, tenant: &TenantId) -> StoreResult<Vec<TokenInfo>> {
        let mut conn = self.backend.read().await?;
        let mut sql = S::<B>::new(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens k WHERE k.tenant_id = "
        ));
        sql.text(tenant.0.clone()).push(" ORDER BY k.created");
        conn.rows(&sql, &TOKEN_TYPES)
            .await?
            .iter_mut()
            .map(token_row)
            .collect()
    }

    async fn revoke_token(&self, id_or_prefix: &str) -> StoreResult<bool> {
        let mut conn = self.write_conn().await?;
        let mut sql = S::<B>::new("UPDATE api_tokens SET revoked_at = ");
        sql.text(now())
            .push(" WHERE revoked_at IS NULL AND (id = ")
            .text(id_or_prefix);
        sql.push(" OR prefix = ").text(id_or_prefix).push(")");
        let n = conn.exec(&sql).await?;
        conn.commit().await?;
        Ok(n > 0)
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> StoreResult<Option<(TokenInfo, Tenant)>> {
        let mut conn = self.backend.read().await?;
        let mut sql = S::<B>::new(&format!(
            "SELECT {TOKEN_COLUMNS}, {TENANT_COLUMNS}, k.token_hash FROM api_tokens k \
             JOIN tenants t ON t.id = k.tenant_id WHERE k.revoked_at IS NULL AND k.token_hash = "
        ));
        sql.bind(Bind::Bytes(hash.to_vec()));
        // A rotated token works until its overlap window ends.
        sql.push(" AND (k.expires_at IS NULL OR k.expires_at > ")
            .text(now())
            .push(")");
        let mut types = TOKEN_TYPES.to_vec();
        types.extend(TENANT_TYPES);
        types.push(Ty::Bytes);
        let hash_at = TOKEN_TYPES.len() + TENANT_TYPES.len();
        let Some(mut row) = conn.rows(&sql, &types).await?.into_iter().next() else {
            return Ok(None);
        };
        let stored: [u8; 32] = row
            .bytes(hash_at)?
            .try_into()
            .map_err(|_| internal("bad token hash"))?;
        if !muster_domain::tokens::same_hash(&stored, hash) {
            return Ok(None);
        }
        let info = token_row(&mut row)?;
        Ok(Some((info, tenant_row(row, TOKEN_TYPES.len())?)))
    }

    async fn touch_token(&self, id: &str, when: &str) -> StoreResult<()> {
        let mut conn = self.backend.write().await?;
        let mut sql = S::<B>::new("UPDATE api_tokens SET last_used = ");
        sql.text(when).push(" WHERE id = ").text(id);
        conn.exec(&sql).await?;
        conn.commit().await?;
        Ok(())
    }

    async fn create(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        new: NewResource,
    ) -> StoreResult<Stored> {
        let id = new_id();
        let created = now();
        let row = ResourceRow::new(t, kind, &id, &new.data, &new.class, &created, &created, 1)?;
        if kind == ResourceKind::Group && !new.members.is_empty() {
            let mut conn = self.write_conn().await?;
            conn.exec(&row.insert::<B>())
                .await
                .map_err(conflict_on(name_field(kind)))?;
            add_members::<B>(&mut conn, t, &id, &new.members).await?;
            conn.commit().await?;
        } else {
            // A user (or an empty group) is one row: written with the creates queued with it.
            self.writes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if !self.creates.run(&self.backend, Create(row)).await? {
                return Err(StoreError::Conflict(name_field(kind).to_string()));
            }
        }
        Ok(Stored {
            id,
            data: new.data,
            raw: None,
            last_modified: created.clone(),
            created,
            version: 1,
            members: None,
            groups: None,
            class: new.class,
        })
    }

    async fn export_tokens(&self, tenant: &TenantId) -> StoreResult<Vec<(TokenInfo, [u8; 32])>> {
        let mut conn = self.backend.read().await?;
        let mut sql = S::<B>::new(&format!(
            "SELECT {TOKEN_COLUMNS}, k.token_hash FROM api_tokens k WHERE k.tenant_id = "
        ));
        sql.text(tenant.0.clone()).push(" ORDER BY k.created");
        let mut types = TOKEN_TYPES.to_vec();
        types.push(Ty::Bytes);
        let mut out = Vec::new();
        for mut row in conn.rows(&sql, &types).await? {
            let hash: [u8; 32] = row
                .bytes(TOKEN_TYPES.len())?
                .try_into()
                .map_err(|_| internal("bad token hash"))?;
            out.push((token_row(&mut row)?, hash));
        }
        Ok(out)
    }

    async fn import_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let mut conn = self.write_conn().await?;
        conn.exec(&insert_tenant::<B>(t)?)
            .await
            .map_err(conflict_on("name"))?;
        conn.commit().await?;
        Ok(())
    }

    async fn import_token(
        &self,
        k: &TokenInfo,
        hash: &[u8; 32],
        revoked_at: Option<&str>,
    ) -> StoreResult<()> {
        let mut conn = self.write_conn().await?;
        let sql = S::<B>::insert(
            "api_tokens",
            vec![
                ("id", Bind::Text(k.id.clone())),
                ("tenant_id", Bind::Text(k.tenant_id.0.clone())),
                ("token_hash", Bind::Bytes(hash.to_vec())),
                ("prefix", Bind::Text(k.prefix.clone())),
                ("created", Bind::Text(k.created.clone())),
                ("last_used", Bind::OptText(k.last_used.clone())),
                ("revoked_at", Bind::OptText(revoked_at.map(str::to_string))),
                ("connection_id", Bind::OptText(k.connection_id.clone())),
                ("expires_at", Bind::OptText(k.expires_at.clone())),
            ],
        );
        conn.exec(&sql).await.map_err(conflict_on("token"))?;
        conn.commit().await?;
        Ok(())
    }

    async fn import_resource(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        r: &Stored,
    ) -> StoreResult<()> {
        let sql = ResourceRow::new(
            t,
            kind,
            &r.id,
            &r.data,
            &r.class,
            &r.created,
            &r.last_modified,
            r.version,
        )?
        .insert::<B>();
        let mut conn = self.write_conn().await?;
        conn.exec(&sql)
            .await
            .map_err(conflict_on(name_field(kind)))?;
        conn.commit().await?;
        Ok(())
    }

    async fn import_members(
        &self,
        t: &TenantId,
        group: &str,
        members: &[MemberRef],
    ) -> StoreResult<()> {
        let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
        let mut conn = self.write_conn().await?;
        add_members::<B>(&mut conn, t, group, &ids).await?;
        conn.commit().await?;
        Ok(())
    }

    async fn get(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        load: Load,
    ) -> StoreResult<Stored> {
        if B::BATCH_READS && !(kind == ResourceKind::Group && load.members) {
            let get = Read {
                tenant: t.clone(),
                kind,
                load,
                by: By::Id,
                value: id.to_string(),
            };
            return self
                .reads
                .run(&self.backend, get)
                .await?
                .ok_or(StoreError::NotFound);
        }
        let mut conn = self.backend.read().await?;
        let (_, mut s) = Self::find(&mut conn, t, kind, id, false, load)
            .await?
            .ok_or(StoreError::NotFound)?;
        load_extras::<B>(&mut conn, t, kind, std::slice::from_mut(&mut s), load).await?;
        Ok(s)
    }

    async fn update(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&[i64]>,
        load: Load,
        mutate: Mutation<'_>,
    ) -> StoreResult<Stored> {
        if kind == ResourceKind::Group
            && let Some(done) = self
                .members_alone(t, id, if_match, load, &mut *mutate)
                .await?
        {
            return Ok(done);
        }
        let tbl = table(kind);
        let mut conn = self.write_conn().await?;
        // A group's change is nearly always to its members, whose one write to the group's row
        // is its version: so a group is locked by bumping its version, one statement for both (on
        // PostgreSQL a round trip fewer per membership PATCH). A user's is nearly always to its
        // document, so a user is locked by reading it, and written once.
        let bumped = kind == ResourceKind::Group;
        let (seq, mut current) = if bumped {
            Self::bump(&mut conn, t, kind, id).await?
        } else {
            Self::find(&mut conn, t, kind, id, true, Load::default()).await?
        }
        .ok_or(StoreError::NotFound)?;
        let version = if bumped {
            current.version
        } else {
            current.version + 1
        };
        if if_match.is_some_and(|v| !v.contains(&(version - 1))) {
            return Err(StoreError::VersionMismatch);
        }
        let update = mutate(&current)?;
        let data_changed = update.data != current.data;
        let class_changed = update.class.as_ref().is_some_and(|c| *c != current.class);
        if !(data_changed || class_changed || !update.members.is_empty()) {
            // Nothing changes: the transaction ends here (rolled back, with a group's bump),
            // before `loaded` takes a connection of its own.
            drop(conn);
            if bumped {
                // The group is as it was before the bump.
                let mut conn = self.backend.read().await?;
                current = Self::find(&mut conn, t, kind, id, false, Load::default())
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .1;
            }
            return self.loaded(t, kind, id, current, load).await;
        }
        for change in &update.members {
            apply_member_change::<B>(&mut conn, t, id, change).await?;
        }
        // What the row's UPDATE sets, if anything: ", " once it has set something.
        let mut sep = "";
        let mut sql = S::<B>::new(&format!("UPDATE {tbl} SET "));
        if data_changed {
            let p = promote(kind, &update.data)?;
            let name_col = match kind {
                ResourceKind::User => "user_name",
                ResourceKind::Group => "display_name",
            };
            sql.push(&format!("{name_col} = "))
                .text(p.name)
                .push(", name_norm = ")
                .text(p.name_norm);
            sql.push(", external_id = ")
                .bind(Bind::OptText(p.external_id));
            if kind == ResourceKind::User {
                sql.push(", active = ")
                    .bind(Bind::OptInt(p.active.map(i64::from)));
                sql.push(", display = ").text(p.display);
            }
            sql.push(", data = ")
                .text(p.data)
                .push(", search = ")
                .json(p.search);
            sep = ", ";
        }
        if let Some(c) = update.class.as_ref().filter(|_| class_changed) {
            sql.push(sep).push("class = ").text(c.clone());
            sep = ", ";
        }
        if !bumped {
            // A user's version moves with its write; a group's moved when it was locked.
            current.last_modified = now();
            sql.push(sep)
                .push("last_modified = ")
                .text(current.last_modified.clone())
                .push(", version = ")
                .int(version);
            sep = ", ";
        }
        if !sep.is_empty() {
            sql.push(" WHERE seq = ").int(seq);
            conn.exec(&sql)
                .await
                .map_err(conflict_on(name_field(kind)))?;
        }
        current.data = update.data;
        if let Some(c) = update.class.filter(|_| class_changed) {
            current.class = c;
        }
        current.version = version;
        conn.commit().await?;
        self.loaded(t, kind, id, current, load).await
    }

    async fn delete(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&[i64]>,
    ) -> StoreResult<Stored> {
        let tbl = table(kind);
        let mut conn = self.write_conn().await?;
        let (seq, current) = Self::find(&mut conn, t, kind, id, true, Load::default())
            .await?
            .ok_or(StoreError::NotFound)?;
        if if_match.is_some_and(|v| !v.contains(&current.version)) {
            return Err(StoreError::VersionMismatch);
        }
        let mut sql = S::<B>::new(&format!("DELETE FROM {tbl} WHERE seq = "));
        sql.int(seq);
        conn.exec(&sql).await?;
        // The groups it belonged to change: their versions move, so cached ETags go stale.
        let mut sql = S::<B>::new("UPDATE groups SET version = version + 1, last_modified = ");
        sql.text(now())
            .push(" WHERE tenant_id = ")
            .text(t.0.clone());
        sql.push(" AND id IN (SELECT group_id FROM group_members WHERE tenant_id = ")
            .text(t.0.clone());
        sql.push(" AND member_id = ").text(id).push(")");
        conn.exec(&sql).await?;
        let mut sql = S::<B>::new("DELETE FROM group_members WHERE tenant_id = ");
        sql.text(t.0.clone()).push(" AND member_id = ").text(id);
        conn.exec(&sql).await?;
        if kind == ResourceKind::Group {
            remove_all::<B>(&mut conn, t, id).await?;
        }
        conn.commit().await?;
        Ok(current)
    }

    async fn list(&self, t: &TenantId, kind: ResourceKind, q: &ListQuery) -> StoreResult<ListPage> {
        self.list_resources(t, kind, q).await
    }
}

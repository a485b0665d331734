//! The one place dynamic SQL is written: the query IR of `muster-domain` emitted as SQL text
//! with placeholders and a list of bound values. Every client-supplied value is bound; the only
//! text spliced in comes from the closed IR (column names, schema-validated JSON paths, which
//! are themselves bound). A small [`Dialect`] covers what differs between SQL engines.

use muster_domain::query::{Column, Cond, Field, JsonPath, SortKey};
use muster_scim::eval::Operand;
use muster_scim::filter::CompareOp;
use muster_scim::resource::format_datetime;
use muster_scim::schema::{AttrType, ResourceKind};

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Int(i64),
    Real(f64),
    OptText(Option<String>),
    OptInt(Option<i64>),
    Bytes(Vec<u8>),
}

/// What differs between engines: placeholders and JSON access.
pub trait Dialect {
    /// Writes the placeholder of the `n`th bind (from 1) to `text`, without allocating: a
    /// statement may have hundreds.
    fn push_placeholder(text: &mut String, n: usize);
    /// The scalar at `path` in the JSON column `col`, typed for comparison with `ty`.
    fn json_scalar(sql: &mut Sql<Self>, col: &str, path: &[String], ty: AttrType)
    where
        Self: Sized;
    /// A table expression yielding the elements of the array at `path` as `alias.value`.
    fn json_elements(sql: &mut Sql<Self>, col: &str, path: &[String], alias: &str)
    where
        Self: Sized;
    /// The false literal, for wrapping comparisons so NULL never reaches `NOT`.
    const FALSE: &'static str;
    /// `instr(` / `strpos(`: position of a substring, 0 when absent.
    const CONTAINS_OPEN: &'static str;
    /// Opens the last-n-characters function; [`Dialect::suffix_close`] closes it.
    const SUFFIX_OPEN: &'static str;
    fn suffix_close(n: usize) -> String;
    /// Appended to a row lookup that a write transaction is about to change.
    const FOR_UPDATE: &'static str;
    /// Appended to a bound JSON text that a JSON column stores.
    const JSON_CAST: &'static str;
    /// An aggregate of the rows' `[a, b, c]` triples, in no order, as JSON text (`[]` for no
    /// rows), so a resource and its list of references come back in one statement. The reader
    /// sorts them: an aggregate's `ORDER BY` costs SQLite a temporary b-tree each time it runs,
    /// which was 5 % of a user GET's instructions. Pushed piece by piece: a user read writes it.
    fn push_triple_array(sql: &mut Sql<Self>, a: &str, b: &str, c: &str)
    where
        Self: Sized;
    /// Run first in a transaction that appends audit events, so that events are numbered in
    /// the order they commit (empty where there is only one writer): the index by target may
    /// then trust every number up to the highest it sees.
    const AUDIT_APPEND_LOCK: &'static str;
    /// ` IN (` and `)` around a subquery of keys, written so each key is looked up by itself:
    /// PostgreSQL joins `IN (subquery)` to a scan of the whole table when it judges the table
    /// small, `= ANY(ARRAY(subquery))` probes the index once per key.
    const IN_ROWS_OPEN: &'static str;
    const IN_ROWS_CLOSE: &'static str;
    /// A query of a bound JSON array of texts as rows `(text, place)`, in the array's order,
    /// around the bind: a list of ids is then one bind and one statement text whatever its
    /// length, where `VALUES` rows took a bind per id and a text (and a prepared statement)
    /// for each length.
    const JSON_TEXTS_OPEN: &'static str;
    const JSON_TEXTS_CLOSE: &'static str;
    /// Around the bound tenant of a lookup by a unique key: PostgreSQL plans
    /// `tenant_id = (SELECT $n)` without reading the value, so a tenant that its statistics do
    /// not know yet (one that started its initial sync since the last `ANALYZE`) is not
    /// estimated at one row, which made any index led by the tenant look as good as the unique
    /// one: lookups by name read every user of the new tenant (15–20 ms at 5–7k users).
    const TENANT_KEY_OPEN: &'static str;
    const TENANT_KEY_CLOSE: &'static str;
    /// This engine's schema migrations, in order.
    const MIGRATIONS: &'static [crate::migrate::Migration];
}

/// Bytes reserved for a statement's text: most of muster's statements fit.
const INITIAL_TEXT: usize = 512;

/// SQL text and its binds, built left to right.
#[derive(Debug)]
pub struct Sql<D> {
    pub text: String,
    pub binds: Vec<Bind>,
    alias: usize,
    _d: std::marker::PhantomData<D>,
}

impl<D: Dialect> Default for Sql<D> {
    fn default() -> Self {
        Self::new("")
    }
}

impl<D: Dialect> Sql<D> {
    pub fn new(text: &str) -> Self {
        // Room for the clauses pushed after the start: growing the text step by step was 2 %
        // of a user GET's instructions.
        let mut buf = String::with_capacity(text.len().max(INITIAL_TEXT));
        buf.push_str(text);
        Sql {
            text: buf,
            binds: Vec::new(),
            alias: 0,
            _d: std::marker::PhantomData,
        }
    }
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    pub fn bind(&mut self, b: Bind) -> &mut Self {
        self.binds.push(b);
        D::push_placeholder(&mut self.text, self.binds.len());
        self
    }
    pub fn text(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Bind::Text(s.into()))
    }
    pub fn int(&mut self, i: i64) -> &mut Self {
        self.bind(Bind::Int(i))
    }
    /// The tenant of a lookup by a unique key ([`Dialect::TENANT_KEY_OPEN`]).
    pub fn tenant_key(&mut self, tenant: &str) -> &mut Self {
        self.push(D::TENANT_KEY_OPEN);
        self.text(tenant);
        self.push(D::TENANT_KEY_CLOSE)
    }
    /// A JSON document for a JSON column.
    pub fn json(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Bind::Text(s.into()));
        self.push(D::JSON_CAST)
    }
    /// `INSERT INTO table (c1, c2, …) VALUES (?, ?, …)`: one row, every value bound.
    pub fn insert(table: &str, row: Vec<(&str, Bind)>) -> Self {
        let cols: Vec<&str> = row.iter().map(|(c, _)| *c).collect();
        let mut sql = Self::new(&format!(
            "INSERT INTO {table} ({}) VALUES (",
            cols.join(", ")
        ));
        for (i, (_, v)) in row.into_iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(v);
        }
        sql.push(")");
        sql
    }
    /// `(?, ?, …)` for a list of texts.
    pub fn text_list(&mut self, items: &[String]) -> &mut Self {
        self.push("(");
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.text(s.clone());
        }
        self.push(")")
    }
    fn next_alias(&mut self) -> String {
        self.alias += 1;
        format!("e{}", self.alias)
    }
}

/// The table a resource kind lives in (aliased `r` in every query).
pub fn table(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "users",
        ResourceKind::Group => "groups",
    }
}

fn column_name(c: Column) -> &'static str {
    match c {
        Column::Id => "r.id",
        Column::ExternalId => "r.external_id",
        Column::NameNorm => "r.name_norm",
        Column::Active => "r.active",
        Column::Created => "r.created",
        Column::LastModified => "r.last_modified",
        Column::Class => "r.class",
    }
}

/// Emits `cond` for rows aliased `r`, as a WHERE condition.
///
/// SQL's three-valued logic differs from SCIM's two only under `NOT` (a comparison with a missing
/// value is NULL, and `NOT NULL` is NULL, not true). So comparisons are wrapped in
/// `COALESCE(…, false)` only inside a `NOT`; elsewhere they stay bare, so indexes serve them.
pub fn emit_cond<D: Dialect>(sql: &mut Sql<D>, tenant: &str, cond: &Cond) {
    emit(sql, tenant, cond, None, false);
}

/// `elem`: inside [`Cond::Any`] the alias of the current element; inside
/// [`Cond::Membership`] the membership column holding the other side's id. `negated`: whether
/// an odd number of `NOT`s encloses this condition (within the current subquery).
fn emit<D: Dialect>(
    sql: &mut Sql<D>,
    tenant: &str,
    cond: &Cond,
    elem: Option<&str>,
    negated: bool,
) {
    match cond {
        Cond::Const(true) => {
            sql.push("(1 = 1)");
        }
        Cond::Const(false) => {
            sql.push("(1 = 0)");
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            let op = if matches!(cond, Cond::And(..)) {
                " AND "
            } else {
                " OR "
            };
            sql.push("(");
            emit(sql, tenant, a, elem, negated);
            sql.push(op);
            emit(sql, tenant, b, elem, negated);
            sql.push(")");
        }
        Cond::Not(a) => {
            sql.push("(NOT ");
            emit(sql, tenant, a, elem, !negated);
            sql.push(")");
        }
        Cond::Cmp { field, op, value } => {
            sql.push(if negated { "COALESCE((" } else { "(" });
            compare(sql, field, *op, value, elem);
            if negated {
                sql.push("), ").push(D::FALSE).push(")");
            } else {
                sql.push(")");
            }
        }
        Cond::Present(field) => {
            sql.push(if negated { "COALESCE((" } else { "(" });
            match field {
                Field::Column(c) => {
                    let c = column_name(*c);
                    sql.push(&format!("{c} IS NOT NULL AND {c} <> ''"));
                }
                Field::Json(p) => {
                    sql.push("COALESCE(");
                    D::json_scalar(sql, "r.search", &p.segments, AttrType::String);
                    sql.push(", '') <> ''");
                }
                Field::Elem(p) => {
                    let alias = elem.unwrap_or("e");
                    sql.push("COALESCE(");
                    D::json_scalar(
                        sql,
                        &format!("{alias}.value"),
                        &p.segments,
                        AttrType::String,
                    );
                    sql.push(", '') <> ''");
                }
                Field::MemberValue => {
                    let c = elem.unwrap_or("m.member_id");
                    sql.push(&format!("{c} IS NOT NULL"));
                }
            }
            if negated {
                sql.push("), ").push(D::FALSE).push(")");
            } else {
                sql.push(")");
            }
        }
        Cond::Membership { of_group, cond } => {
            let (own, other) = if *of_group {
                ("m.group_id", "m.member_id")
            } else {
                ("m.member_id", "m.group_id")
            };
            sql.push(&format!(
                "EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = r.tenant_id AND {own} = r.id AND "
            ));
            emit(sql, tenant, cond, Some(other), false);
            sql.push(")");
        }
        Cond::Any { array, cond } => {
            let alias = sql.next_alias();
            sql.push("EXISTS (SELECT 1 FROM ");
            D::json_elements(sql, "r.search", &array.segments, &alias);
            sql.push(" WHERE ");
            emit(sql, tenant, cond, Some(&alias), false);
            sql.push(")");
        }
        Cond::HasMember(id) => {
            // Uncorrelated, so the engine reads the few ids first and fetches those rows by index.
            sql.push("r.id IN (SELECT m.group_id FROM group_members m WHERE m.tenant_id = ");
            sql.text(tenant);
            sql.push(" AND m.member_id = ");
            sql.text(id.clone());
            sql.push(")");
        }
        Cond::HasMembers => {
            sql.push("EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = r.tenant_id AND m.group_id = r.id)");
        }
        Cond::InGroup(id) => {
            sql.push("r.id IN (SELECT m.member_id FROM group_members m WHERE m.tenant_id = ");
            sql.text(tenant);
            sql.push(" AND m.group_id = ");
            sql.text(id.clone());
            sql.push(")");
        }
        Cond::InAnyGroup => {
            sql.push("EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id)");
        }
    }
}

fn operand_bind(value: &Operand) -> Bind {
    match value {
        Operand::Str(s) => Bind::Text(s.clone()),
        Operand::Num(n) => Bind::Real(*n),
        Operand::Bool(b) => Bind::Int(i64::from(*b)),
        // Promoted dates are written by format_datetime, so they compare as text (see
        // `compare` for operands finer than a millisecond).
        Operand::Date(d) => Bind::Text(format_datetime(*d)),
    }
}

fn lhs<D: Dialect>(sql: &mut Sql<D>, field: &Field, elem: Option<&str>) {
    match field {
        Field::Column(c) => {
            sql.push(column_name(*c));
        }
        Field::Json(JsonPath { segments, ty, .. }) => {
            D::json_scalar(sql, "r.search", segments, *ty)
        }
        Field::Elem(JsonPath { segments, ty, .. }) => {
            let alias = elem.unwrap_or("e");
            D::json_scalar(sql, &format!("{alias}.value"), segments, *ty)
        }
        Field::MemberValue => {
            sql.push(elem.unwrap_or("m.member_id"));
        }
    }
}

/// The smallest string greater than every string that starts with `prefix`, when there is one
/// (the prefix with its last character incremented).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(n) = next {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn compare<D: Dialect>(
    sql: &mut Sql<D>,
    field: &Field,
    op: CompareOp,
    value: &Operand,
    elem: Option<&str>,
) {
    match (op, value) {
        (CompareOp::Co, Operand::Str(s)) => {
            sql.push(D::CONTAINS_OPEN);
            lhs(sql, field, elem);
            sql.push(", ");
            sql.text(s.clone());
            sql.push(") > 0");
        }
        (CompareOp::Sw, Operand::Str(s)) => {
            // A range, so a prefix search on an indexed column uses the index.
            lhs(sql, field, elem);
            sql.push(" >= ");
            sql.text(s.clone());
            if let Some(upper) = prefix_upper_bound(s) {
                sql.push(" AND ");
                lhs(sql, field, elem);
                sql.push(" < ");
                sql.text(upper);
            }
        }
        (op, Operand::Date(d)) if d.nanosecond() % 1_000_000 != 0 => {
            // Stored dates have millisecond precision; an operand between two milliseconds
            // equals none, and orders like the next millisecond up.
            let up =
                *d + time::Duration::nanoseconds(i64::from(1_000_000 - d.nanosecond() % 1_000_000));
            let (sym, bound) = match op {
                CompareOp::Gt | CompareOp::Ge => (">=", up),
                CompareOp::Lt | CompareOp::Le => ("<", up),
                _ => {
                    sql.push("1 = 0");
                    return;
                }
            };
            lhs(sql, field, elem);
            sql.push(&format!(" {sym} "));
            sql.bind(Bind::Text(format_datetime(bound)));
        }
        (CompareOp::Ew, Operand::Str(s)) => {
            if s.is_empty() {
                lhs(sql, field, elem);
                sql.push(" IS NOT NULL");
            } else {
                sql.push(D::SUFFIX_OPEN);
                lhs(sql, field, elem);
                sql.push(&D::suffix_close(s.chars().count()));
                sql.push(" = ");
                sql.text(s.clone());
            }
        }
        (op, v) => {
            let sym = match op {
                CompareOp::Eq | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "=",
                CompareOp::Ne => "<>",
                CompareOp::Gt => ">",
                CompareOp::Ge => ">=",
                CompareOp::Lt => "<",
                CompareOp::Le => "<=",
            };
            lhs(sql, field, elem);
            sql.push(&format!(" {sym} "));
            sql.bind(operand_bind(v));
        }
    }
}

/// Whether `cond` pins the rows down by an index lookup (an id, a unique name, an external id,
/// a membership): then a list sorts those few rows instead of walking the `seq` index.
pub fn is_selective(cond: &Cond) -> bool {
    match cond {
        Cond::Cmp {
            field: Field::Column(Column::Id | Column::NameNorm | Column::ExternalId),
            op: CompareOp::Eq,
            ..
        } => true,
        Cond::HasMember(_) | Cond::InGroup(_) => true,
        Cond::And(a, b) => is_selective(a) || is_selective(b),
        Cond::Or(a, b) => is_selective(a) && is_selective(b),
        _ => false,
    }
}

/// Whether `cond` matches at most one row: an id or a unique name, equal to one value.
pub fn is_unique(cond: &Cond) -> bool {
    match cond {
        Cond::Cmp {
            field: Field::Column(Column::Id | Column::NameNorm),
            op: CompareOp::Eq,
            ..
        } => true,
        Cond::And(a, b) => is_unique(a) || is_unique(b),
        _ => false,
    }
}

/// `ORDER BY` for a sort key (missing values last), always ending with `seq` so pages are stable.
/// `selective`: the filter is an index lookup ([`is_selective`]); `+r.seq` then keeps the planner
/// from walking every row of the tenant in `seq` order to avoid sorting a handful.
pub fn emit_order<D: Dialect>(
    sql: &mut Sql<D>,
    sort: Option<&SortKey>,
    descending: bool,
    selective: bool,
) {
    let dir = if descending { "DESC" } else { "ASC" };
    sql.push(" ORDER BY ");
    match sort {
        None => {}
        Some(SortKey::Column(c)) => {
            let c = column_name(*c);
            sql.push(&format!("({c} IS NULL), {c} {dir}, "));
        }
        Some(SortKey::Json(p)) => {
            sql.push("(");
            D::json_scalar(sql, "r.search", &p.segments, p.ty);
            sql.push(" IS NULL), ");
            D::json_scalar(sql, "r.search", &p.segments, p.ty);
            sql.push(&format!(" {dir}, "));
        }
    }
    sql.push(&format!("{}r.seq {dir}", if selective { "+" } else { "" }));
}

//! SQL and memory agree: for generated filters, the users `Store::list` returns from SQLite are
//! exactly those `muster_scim::eval::matches` accepts on their rendered JSON, and a filter the
//! query resolver refuses is refused by `eval::check` too.
//!
//! One store and ~40 users are set up once; proptest then varies the filter. Disagreements found
//! here are kept as `#[ignore = "BUG: …"]` tests at the end with their minimal filters, and kept
//! out of the generators (each exclusion names its test).

use crate::SqliteStore;
use muster_domain::model::{Load, Mode, NewResource, TenantId};
use muster_domain::query::resolve_filter;
use muster_domain::store::{ListQuery, PageReq, Store};
use muster_scim::ScimResult;
use muster_scim::eval::{Scope, check, matches};
use muster_scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use muster_scim::resource::{Meta, format_datetime, normalize, parse_datetime, render};
use muster_scim::schema::{ENTERPRISE_USER_SCHEMA, ResourceKind, ResourceType, USER_SCHEMA};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

const USERS: usize = 40;
const CASES: u32 = 128;

fn user_type() -> &'static ResourceType {
    ResourceType::of(ResourceKind::User)
}

// ---------------------------------------------------------------------------------------------
// The fixture: a store with random users, and their rendered JSON.

struct Fixture {
    rt: tokio::runtime::Runtime,
    store: Option<SqliteStore>,
    tenant: TenantId,
    /// `(id, rendered user)` of every user stored.
    users: Vec<(String, Map<String, Value>)>,
    /// Dates near the users' `meta.created`, for date comparisons.
    dates: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Close the pools inside the runtime.
        let store = self.store.take();
        self.rt.block_on(async move { drop(store) });
    }
}

fn pick<T: Clone + std::fmt::Debug + 'static>(
    options: &[T],
) -> impl Strategy<Value = T> + Clone + use<T> {
    select(options.to_vec())
}

fn random_case(s: &str, flips: &[bool]) -> String {
    s.chars()
        .zip(flips.iter().cycle())
        .map(|(c, &up)| {
            if up {
                c.to_uppercase().collect::<String>()
            } else {
                c.to_lowercase().collect::<String>()
            }
        })
        .collect()
}

/// A user document without `userName` (added with an index so names stay unique).
fn user_doc() -> impl Strategy<Value = (&'static str, Vec<bool>, Value)> {
    let name_part = proptest::option::of(pick(&[
        "Ann", "ann", "ÅSA", "Zoë", "straße", "STRASSE", "İlker", "o'Malley", "x\\y", "", "Bob",
    ]));
    let email = (
        proptest::option::weighted(
            0.9,
            pick(&[
                "ann@work.com",
                "ANN@Work.COM",
                "bob@home.org",
                "zoë@ex.org",
                "straße@ex.de",
                "",
            ]),
        ),
        proptest::option::of(pick(&["work", "Work", "home", "other", ""])),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(value, ty, primary)| {
            let mut m = Map::new();
            if let Some(v) = value {
                m.insert("value".into(), json!(v));
            }
            if let Some(t) = ty {
                m.insert("type".into(), json!(t));
            }
            if let Some(p) = primary {
                m.insert("primary".into(), json!(p));
            }
            Value::Object(m)
        });
    let base = pick(&["ann", "Bob", "åsa", "straße", "İlker", "zoë", "o'malley"]);
    let flips = prop::collection::vec(any::<bool>(), 1..8);
    let doc = (
        (name_part.clone(), name_part),
        prop::collection::vec(email, 0..3),
        proptest::option::of(any::<bool>()),
        proptest::option::of(pick(&["Engineer", "engineer", "", "Chief ß Officer", "VP"])),
        proptest::option::of(pick(&["R&D", "r&d", "Sales", "", "Ünits"])),
        proptest::option::of(pick(&["E1", "e1", "X-9"])),
        proptest::option::of(pick(&["m-1", "M-1"])),
        prop::collection::vec(pick(&["+1 555", "555-0100"]), 0..2),
        proptest::option::of(pick(&["Ann Lee", "BOB", ""])),
    )
        .prop_map(
            |((given, family), emails, active, title, dept, ext_id, manager, phones, display)| {
                let mut m = Map::new();
                let mut name = Map::new();
                if let Some(g) = given {
                    name.insert("givenName".into(), json!(g));
                }
                if let Some(f) = family {
                    name.insert("familyName".into(), json!(f));
                }
                if !name.is_empty() {
                    m.insert("name".into(), Value::Object(name));
                }
                if !emails.is_empty() {
                    m.insert("emails".into(), Value::Array(emails));
                }
                if let Some(a) = active {
                    m.insert("active".into(), json!(a));
                }
                if let Some(t) = title {
                    m.insert("title".into(), json!(t));
                }
                if let Some(x) = ext_id {
                    m.insert("externalId".into(), json!(x));
                }
                if let Some(d) = display {
                    m.insert("displayName".into(), json!(d));
                }
                let phones: Vec<Value> = phones.iter().map(|p| json!({"value": p})).collect();
                if !phones.is_empty() {
                    m.insert("phoneNumbers".into(), Value::Array(phones));
                }
                let mut ent = Map::new();
                if let Some(d) = dept {
                    ent.insert("department".into(), json!(d));
                }
                if let Some(mgr) = manager {
                    ent.insert("manager".into(), json!({"value": mgr}));
                }
                if !ent.is_empty() {
                    m.insert(ENTERPRISE_USER_SCHEMA.into(), Value::Object(ent));
                }
                Value::Object(m)
            },
        );
    (base, flips, doc)
}

/// ~40 generated users (deterministic: the same on every run).
fn fixture() -> Fixture {
    let mut runner = TestRunner::deterministic();
    let strategy = user_doc();
    let docs = (0..USERS)
        .map(|i| {
            let (base, flips, mut doc) = strategy
                .new_tree(&mut runner)
                .unwrap_or_else(|e| panic!("user: {e}"))
                .current();
            let user_name = random_case(&format!("{base}{i}@Example.com"), &flips);
            if let Some(o) = doc.as_object_mut() {
                o.insert("userName".into(), json!(user_name));
            }
            doc
        })
        .collect();
    Fixture::with_docs(docs)
}

impl Fixture {
    /// A store in a temporary directory holding these users, normalised as a POST would.
    fn with_docs(docs: Vec<Value>) -> Fixture {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let store = rt
            .block_on(SqliteStore::open(&dir.path().join("muster.db")))
            .unwrap_or_else(|e| panic!("open: {e}"));
        let tenant = rt
            .block_on(store.create_tenant("agreement", Mode::Scim))
            .unwrap_or_else(|e| panic!("tenant: {e}"))
            .id;
        let rtype = user_type();
        let mut users = Vec::new();
        let mut dates = vec![
            "2000-01-01T00:00:00Z".to_string(),
            "2999-12-31T23:59:59.999Z".to_string(),
        ];
        for (i, doc) in docs.iter().enumerate() {
            let data = normalize(rtype, doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
            let new = NewResource {
                data,
                members: vec![],
                class: "scim".into(),
            };
            let s = rt
                .block_on(store.create(&tenant, ResourceKind::User, new))
                .unwrap_or_else(|e| panic!("create {doc}: {e}"));
            let meta = Meta {
                created: s.created.clone(),
                last_modified: s.last_modified.clone(),
                version: s.version,
                location: format!("https://example.com/Users/{}", s.id),
            };
            let rendered = render(rtype, &s.id, &s.data, &meta);
            users.push((s.id, rendered.as_object().cloned().unwrap_or_default()));
            if i % 8 == 0
                && let Some(t) = parse_datetime(&s.created)
            {
                let ms = time::Duration::milliseconds(1);
                let rfc3339 = time::format_description::well_known::Rfc3339;
                let plus2 = time::UtcOffset::from_hms(2, 0, 0).unwrap_or(time::UtcOffset::UTC);
                dates.push(s.created.clone());
                dates.push(format_datetime(t - ms));
                dates.push(format_datetime(t + ms));
                // The same instant in another offset.
                dates.push(
                    (t + ms)
                        .to_offset(plus2)
                        .format(&rfc3339)
                        .unwrap_or_default(),
                );
            }
        }
        Fixture {
            rt,
            store: Some(store),
            tenant,
            users,
            dates,
            _dir: dir,
        }
    }

    /// Indexes (in `docs` order) of the users memory and SQL select with `filter`.
    fn both(&self, filter: &str) -> (ScimResult<Vec<usize>>, Result<Vec<usize>, String>) {
        let f = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let index = |ids: BTreeSet<String>| -> Vec<usize> {
            (0..self.users.len())
                .filter(|&i| ids.contains(&self.users[i].0))
                .collect()
        };
        (
            memory_ids(self, &f).map(index),
            sql_ids(self, &f).map(index),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Filters.

/// `(urn, attr, sub)` the query resolver supports for users.
const PATHS: &[(Option<&str>, &str, Option<&str>)] = &[
    (None, "userName", None),
    (None, "displayName", None),
    (None, "title", None),
    (None, "nickName", None),
    (None, "active", None),
    (None, "externalId", None),
    (None, "id", None),
    (None, "name", None),
    (None, "name", Some("givenName")),
    (None, "name", Some("familyName")),
    (None, "emails", None),
    (None, "emails", Some("value")),
    (None, "emails", Some("type")),
    (None, "emails", Some("primary")),
    (None, "phoneNumbers", None),
    (None, "phoneNumbers", Some("value")),
    (None, "meta", Some("created")),
    (None, "meta", Some("lastModified")),
    (None, "department", None),
    (Some(USER_SCHEMA), "userName", None),
    (Some(ENTERPRISE_USER_SCHEMA), "department", None),
    (Some(ENTERPRISE_USER_SCHEMA), "manager", Some("value")),
    (Some(ENTERPRISE_USER_SCHEMA), "employeeNumber", None),
    // Left out: `schemas`, `groups`, `meta.resourceType`/`version`/`location`, which the resolver
    // and eval treat differently (`bug_resolver_and_eval_accept_different_filters`,
    // `bug_meta_presence_is_false_in_sql`, `bug_not_inside_a_membership_value_filter`).
    // Refused by both.
    (None, "nosuch", None),
    (None, "name", Some("nosuch")),
    (Some(ENTERPRISE_USER_SCHEMA), "nosuch", None),
];

const VALUE_PATHS: &[(Option<&str>, &str, &[&str])] = &[
    (
        None,
        "emails",
        &["value", "type", "primary", "display", "nosuch"],
    ),
    (None, "phoneNumbers", &["value", "type", "primary"]),
    // Left out: value filters on single-valued `name` and `manager`
    // (`bug_value_filter_on_single_valued_complex_fails_in_sql`) and on `groups`.
];

const STRINGS: &[&str] = &[
    "ann",
    "ANN",
    "a",
    "@",
    "work",
    "WORK",
    "@work.com",
    "org",
    "",
    "ß",
    "ss",
    "STRASSE",
    "straße",
    "İ",
    "i̇",
    "İlker",
    "zoë",
    "ZOË",
    "x\\y",
    "o'm",
    "e",
    "R&D",
    "eng",
    "1",
    "m-1",
    "E1",
    "e1",
    "555",
    "true",
    "False",
    "x",
    "T",
    "z",
];

fn to_path(&(urn, attr, sub): &(Option<&str>, &str, Option<&str>)) -> AttrPath {
    AttrPath {
        urn: urn.map(str::to_string),
        attr: attr.to_string(),
        sub: sub.map(str::to_string),
    }
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    pick(&[
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ])
}

fn comp_value(dates: Vec<String>) -> impl Strategy<Value = CompValue> {
    prop_oneof![
        6 => pick(STRINGS).prop_map(|s| CompValue::Str(s.to_string())),
        2 => select(dates).prop_map(CompValue::Str),
        1 => "[a-zß@. ]{0,4}".prop_map(CompValue::Str),
        1 => any::<bool>().prop_map(CompValue::Bool),
        1 => (-2i64..3).prop_map(|n| CompValue::Num(n.into())),
        1 => Just(CompValue::Null),
    ]
}

fn tree(leaf: BoxedStrategy<Filter>, depth: u32) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(depth, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
    .boxed()
}

fn value_path(dates: Vec<String>) -> impl Strategy<Value = Filter> {
    pick(VALUE_PATHS).prop_flat_map(move |(urn, attr, subs)| {
        let path = pick(subs).prop_map(AttrPath::simple);
        let leaf = prop_oneof![
            3 => (path.clone(), compare_op(), comp_value(dates.clone()))
                .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
            1 => path.prop_map(Filter::Present),
        ]
        .boxed();
        tree(leaf, 2).prop_map(move |f| Filter::ValuePath {
            path: to_path(&(urn, attr, None)),
            filter: Box::new(f),
        })
    })
}

/// Leaves SQL and memory are known to disagree on, each kept as a `bug_…` test below:
/// presence of a whole complex attribute (`name pr`, `emails eq null`:
/// `bug_presence_of_complex_attributes`) and co/sw/ew on a date with letters in the value
/// (`bug_date_substring_is_case_sensitive_in_sql`).
fn known_disagreement(f: &Filter) -> bool {
    let complex = |p: &AttrPath| {
        p.sub.is_none() && ["name", "emails", "phoneNumbers"].contains(&p.attr.as_str())
    };
    match f {
        Filter::Present(p) => complex(p),
        Filter::Compare {
            path,
            value: CompValue::Null,
            ..
        } => complex(path),
        Filter::Compare {
            path,
            op: CompareOp::Co | CompareOp::Sw | CompareOp::Ew,
            value: CompValue::Str(s),
        } => path.attr == "meta" && s.chars().any(char::is_alphabetic),
        _ => false,
    }
}

fn filter(dates: Vec<String>) -> BoxedStrategy<Filter> {
    let path = pick(PATHS).prop_map(|p| to_path(&p));
    let leaf = prop_oneof![
        4 => (path.clone(), compare_op(), comp_value(dates.clone()))
            .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        1 => path.prop_map(Filter::Present),
        1 => value_path(dates),
    ]
    .prop_filter("known disagreement", |f| !known_disagreement(f))
    .boxed();
    tree(leaf, 3)
}

/// `eval::check` on every comparison on its own. `check` evaluates on an empty resource and
/// `and`/`or` short-circuit, so an ill-typed comparison after a false `and` operand (or a true
/// `or` operand) is never looked at (`bug_check_skips_short_circuited_operands`).
fn check_each(f: &Filter) -> ScimResult<()> {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => check_each(a).and(check_each(b)),
        Filter::Not(a) => check_each(a),
        Filter::ValuePath { path, filter } => {
            check(Scope::Resource(user_type()), f)?;
            match muster_scim::resolve::resolve_attr(user_type(), path) {
                Some(r) => check_each_element(r.attr, filter),
                None => Ok(()),
            }
        }
        leaf => check(Scope::Resource(user_type()), leaf),
    }
}

fn check_each_element(parent: &muster_scim::schema::Attribute, f: &Filter) -> ScimResult<()> {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_each_element(parent, a).and(check_each_element(parent, b))
        }
        Filter::Not(a) => check_each_element(parent, a),
        leaf => check(Scope::Element(parent), leaf),
    }
}

// ---------------------------------------------------------------------------------------------
// The comparison.

fn page() -> ListQuery {
    ListQuery {
        filter: None,
        sort: None,
        descending: false,
        page: PageReq::Index {
            start: 1,
            count: 1000,
        },
        load: Load::default(),
    }
}

fn memory_ids(fx: &Fixture, f: &Filter) -> ScimResult<BTreeSet<String>> {
    let scope = Scope::Resource(user_type());
    let mut ids = BTreeSet::new();
    for (id, doc) in &fx.users {
        if matches(scope, f, doc)? {
            ids.insert(id.clone());
        }
    }
    Ok(ids)
}

fn sql_ids(fx: &Fixture, f: &Filter) -> Result<BTreeSet<String>, String> {
    let cond = resolve_filter(user_type(), f).map_err(|e| format!("resolver: {e}"))?;
    let store = fx.store.as_ref().ok_or("no store")?;
    let q = ListQuery {
        filter: Some(cond),
        ..page()
    };
    let page = fx
        .rt
        .block_on(store.list(&fx.tenant, ResourceKind::User, &q))
        .map_err(|e| format!("store: {e}"))?;
    if page.total != page.items.len() as u64 {
        return Err(format!(
            "total {} for {} items",
            page.total,
            page.items.len()
        ));
    }
    Ok(page.items.into_iter().map(|s| s.id).collect())
}

/// One generated filter: both sides refuse it alike, or both accept it and select the same users.
fn agree(fx: &Fixture, f: &Filter) -> Result<(), TestCaseError> {
    let scope = Scope::Resource(user_type());
    match resolve_filter(user_type(), f) {
        Err(e) => {
            // `check_each` covers operands `check` skips (a known bug, see `check_each`).
            let checked = check(scope, f).and(check_each(f));
            prop_assert!(
                checked
                    .as_ref()
                    .err()
                    .is_some_and(|c| (c.status, c.scim_type) == (e.status, e.scim_type)),
                "`{}`: the resolver refuses ({}) but eval::check says {:?}",
                f,
                e.detail,
                checked
            );
        }
        Ok(_) => {
            let checked = check(scope, f);
            prop_assert!(
                checked.is_ok(),
                "`{}`: the resolver accepts, eval::check refuses: {:?}",
                f,
                checked
            );
            let mem = memory_ids(fx, f);
            prop_assert!(mem.is_ok(), "`{}`: eval::matches fails: {:?}", f, mem);
            let sql = sql_ids(fx, f);
            prop_assert!(sql.is_ok(), "`{}`: {:?}", f, sql);
            let (mem, sql) = (mem.unwrap_or_default(), sql.unwrap_or_default());
            if mem != sql {
                let show = |ids: &BTreeSet<String>| -> Vec<String> {
                    fx.users
                        .iter()
                        .filter(|(id, _)| ids.contains(id))
                        .map(|(_, d)| Value::Object(d.clone()).to_string())
                        .collect()
                };
                let only_mem: BTreeSet<String> = mem.difference(&sql).cloned().collect();
                let only_sql: BTreeSet<String> = sql.difference(&mem).cloned().collect();
                return Err(TestCaseError::fail(format!(
                    "`{f}`: memory only {:#?}\nSQL only {:#?}",
                    show(&only_mem),
                    show(&only_sql)
                )));
            }
        }
    }
    Ok(())
}

#[test]
fn sql_and_memory_agree_on_generated_filters() {
    let fx = fixture();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&filter(fx.dates.clone()), |f| agree(&fx, &f));
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Disagreements found by `sql_and_memory_agree_on_generated_filters`, with minimal inputs. Each
// asserts the agreement it should have, so it fails until the cause is fixed.

fn assert_agree(docs: Vec<Value>, filters: &[&str]) {
    let fx = Fixture::with_docs(docs);
    for f in filters {
        let (mem, sql) = fx.both(f);
        assert_eq!(mem.map_err(|e| e.to_string()), sql, "{f}");
    }
}

/// Memory: `name` with only empty sub-attributes is absent (`is_present` looks inside objects),
/// and `emails pr` tests the emails' `value`s. SQL: `COALESCE(json_extract(search, '$.name'), '')
/// <> ''` is true for any stored object or array. Memory says [], SQL says [0].
#[test]

fn bug_presence_of_complex_attributes() {
    assert_agree(
        vec![json!({"userName": "a", "name": {"familyName": ""}, "emails": [{"type": "work"}]})],
        &["name pr", "emails pr", "name eq null"],
    );
}

/// The resolver turns `meta.version pr` (also `meta.resourceType`, `meta.location`) into a JSON
/// path into the stored document, which has no `meta`: SQL selects nobody, memory everybody.
#[test]

fn bug_meta_presence_is_false_in_sql() {
    assert_agree(
        vec![json!({"userName": "a"})],
        &[
            "meta.version pr",
            "meta.resourceType pr",
            "meta.location pr",
        ],
    );
}

/// `name[givenName eq "Ann"]`: the resolver emits `EXISTS (SELECT 1 FROM json_each(search,
/// '$.name') …)`, which walks the object's members; `json_extract` on a member that is a plain
/// string fails, so the list is a 500 ("malformed JSON"). Memory treats the object as one value.
#[test]

fn bug_value_filter_on_single_valued_complex_fails_in_sql() {
    assert_agree(
        vec![json!({
            "userName": "a",
            "name": {"givenName": "Ann"},
            ENTERPRISE_USER_SCHEMA: {"manager": {"value": "m-1"}}
        })],
        &[
            r#"name[givenName eq "ann"]"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "m-1"]"#,
        ],
    );
}

/// dateTime attributes are not caseExact, so `typed_operand` folds a co/sw/ew operand and memory
/// folds the stored date; SQL compares the folded operand with the unfolded `created` column
/// ("…T…Z"). `meta.created co "T"`: memory [0], SQL [].
#[test]

fn bug_date_substring_is_case_sensitive_in_sql() {
    assert_agree(
        vec![json!({"userName": "a"})],
        &[r#"meta.created co "T""#, r#"meta.lastModified ew "z""#],
    );
}

/// A date operand finer than a millisecond is truncated by `format_datetime` before the SQL
/// text comparison: `meta.created eq "<created + 0.4 ms>"` is true in SQL, false in memory (and
/// `ge`/`lt` flip the same way).
#[test]

fn bug_sub_millisecond_dates_are_truncated_in_sql() {
    let fx = Fixture::with_docs(vec![json!({"userName": "a"})]);
    let created = fx.users[0].1["meta"]["created"]
        .as_str()
        .unwrap_or_default();
    let t = parse_datetime(created).unwrap_or_else(|| panic!("{created}"));
    let finer = (t + time::Duration::microseconds(400))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    for op in ["eq", "ge", "lt"] {
        let f = format!(r#"meta.created {op} "{finer}""#);
        let (mem, sql) = fx.both(&f);
        assert_eq!(mem.map_err(|e| e.to_string()), sql, "{f}");
    }
}

/// `sw` is emitted as the range `>= s AND < s || U+10FFFF`, which misses values whose next
/// character is U+10FFFF itself: `title sw "x"` on "x\u{10FFFF}y" is true in memory only.
#[test]

fn bug_sw_misses_the_last_code_point() {
    assert_agree(
        vec![json!({"userName": "a", "title": "x\u{10FFFF}y"})],
        &[r#"title sw "x""#],
    );
}

/// The membership shortcut distributes `not` out of the element filter: `groups[not (value eq
/// "g")]` becomes "not in group g" (true for a user in no group) where memory (and RFC 7644)
/// ask for a group whose value is not "g" (false without groups). `and` likewise becomes "in
/// both groups" rather than "one group with both values".
#[test]

fn bug_not_inside_a_membership_value_filter() {
    assert_agree(
        vec![json!({"userName": "a"})],
        &[r#"groups[not (value eq "g")]"#, "groups[not (value pr)]"],
    );
}

/// `eval::check` evaluates on an empty resource and `and`/`or` short-circuit, so the right-hand
/// operand of a false `and` is never checked: the resolver refuses `title eq "x" and active gt
/// true` (400), `check` accepts it, and `matches` fails only on users whose title is "x" (a
/// PATCH value filter such as `emails[type eq "work" and primary gt true]` errs the same
/// data-dependent way).
#[test]

fn bug_check_skips_short_circuited_operands() {
    let scope = Scope::Resource(user_type());
    for text in [
        r#"title eq "x" and active gt true"#,
        r#"nickName ne "x" or nosuch pr"#,
        r#"emails[type eq "work" and primary gt true]"#,
    ] {
        let f = Filter::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(resolve_filter(user_type(), &f).is_err(), "{text}");
        assert!(check(scope, &f).is_err(), "{text}: check accepts");
    }
}

/// Filters one side accepts and the other refuses (a 400 only on some code paths): the
/// resolver accepts `schemas …` (RFC 7644 example), which eval calls an unknown attribute; eval
/// accepts `groups`/`groups.display` with any operator, `meta.version`, `meta.location` and
/// `meta.resourceType sw`, which the resolver refuses; and the resolver compares
/// `meta.resourceType` ignoring case although the schema says caseExact.
#[test]

fn bug_resolver_and_eval_accept_different_filters() {
    let scope = Scope::Resource(user_type());
    for text in [
        r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#,
        "schemas pr",
        r#"groups sw "x""#,
        r#"groups.display eq "x""#,
        r#"meta.version eq "W/\"1\"""#,
        r#"meta.location co "Users""#,
        r#"meta.resourceType sw "U""#,
    ] {
        let f = Filter::parse(text).unwrap_or_else(|e| panic!("{e}"));
        let resolved = resolve_filter(user_type(), &f)
            .map(|_| ())
            .map_err(|e| e.status);
        assert_eq!(resolved, check(scope, &f).map_err(|e| e.status), "{text}");
    }
    assert_agree(
        vec![json!({"userName": "a"})],
        &[r#"meta.resourceType eq "user""#],
    );
}

//! IdP replays: for each identity provider, its documented request sequence — test connection,
//! initial sync, profile update, group push and rename, membership churn, deactivate, restore,
//! unassign — sent to a real server with the request bodies exactly as the IdP sends them, and
//! the whole directory read back (over SCIM, and the admin API for `source` and `kind`) after
//! every step.
//!
//! The bodies are fixture files, one folder per IdP dialect, under
//! `tests/fixtures/replay/{entra,entra-aadopt,okta,pingone}/`; each folder's `SOURCES.md` names
//! the public source of every file. `{{NAME}}` placeholders stand where the IdP inserts ids and
//! values. Every answer to a replayed request is checked: never a 5xx, and every 4xx has an
//! RFC 7644 error body with a non-empty `detail`.

use crate::admin_api::{body, text};
use crate::support::{ENTERPRISE, Resp, TestServer, enc, ids};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/replay");

/// How one identity provider talks to muster.
#[derive(Clone, Copy)]
struct Client {
    /// The fixture folder.
    folder: &'static str,
    /// The path of the base URL the administrator enters in the IdP.
    base_path: &'static str,
    /// A query the base URL carries (Entra's `?aadOptscim062020`); the IdP keeps it on every
    /// request and adds the resource path to the URL's path.
    flag: Option<&'static str>,
    /// Okta's header-auth app sends the token as the whole `Authorization` header.
    bare_token: bool,
    user_agent: Option<&'static str>,
    content_type: &'static str,
}

const ENTRA: Client = Client {
    folder: "entra",
    base_path: "/api/scim/v2",
    flag: None,
    bare_token: false,
    user_agent: None,
    content_type: "application/scim+json",
};

/// Tenant URL `{origin}/api/scim/v2/?aadOptscim062020`, as Microsoft's page writes it.
const ENTRA_AADOPT: Client = Client {
    folder: "entra-aadopt",
    base_path: "/api/scim/v2/",
    flag: Some("aadOptscim062020"),
    ..ENTRA
};

const OKTA: Client = Client {
    folder: "okta",
    base_path: "/api/scim/v2",
    flag: None,
    bare_token: true,
    user_agent: Some("Okta SCIM Client 1.0.0"),
    content_type: "application/json; charset=utf-8",
};

const PINGONE: Client = Client {
    folder: "pingone",
    base_path: "/api/scim/v2",
    flag: None,
    bare_token: false,
    user_agent: None,
    content_type: "application/json",
};

/// Placeholder values for one request: `vars!(USER_ID = ann, DISPLAY_NAME = "Eng")`.
macro_rules! vars {
    ($($k:ident = $v:expr),* $(,)?) => {
        &[$((stringify!($k), ::std::string::ToString::to_string(&$v))),*] as &[(&str, String)]
    };
}

const NONE: &[(&str, String)] = &[];

/// Query-string encoding with `%20` for spaces, as Okta sends it
/// (`filter=userName%20eq%20%22test.user%40okta.local%22`).
fn pct(s: &str) -> String {
    enc(s).replace('+', "%20")
}

fn eq_filter(attr: &str, value: &str) -> String {
    format!("{attr} eq \"{value}\"")
}

/// One IdP's session against a fresh server (tenant "test", scim mode).
struct Replay {
    s: TestServer,
    c: Client,
    /// An admin key of the tenant, to read `source` and `kind` and change settings.
    key: String,
}

impl Replay {
    async fn start(c: Client) -> Replay {
        let s = TestServer::start().await;
        let key = s.admin_key("test").await;
        Replay { s, c, key }
    }

    /// The tenant's deactivate policy set to `suspend` through the admin API.
    async fn suspend_mode(&self) {
        let t = body(
            self.s
                .admin(
                    &self.key,
                    Method::PATCH,
                    "/tenants/test",
                    Some(json!({"deactivate": "suspend"})),
                )
                .await,
            200,
        );
        assert_eq!(t["tenant"]["settings"]["deactivate"], "suspend", "{t}");
    }

    /// The base URL as configured in the IdP (what `{{BASE_URL}}` stands for).
    fn base_url(&self) -> String {
        format!(
            "{}{}",
            self.s.origin,
            self.c.base_path.trim_end_matches('/')
        )
    }

    /// The full URL the IdP builds for `path` (which may carry its own query).
    fn url(&self, path: &str) -> String {
        let (p, q) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let mut url = format!("{}/{}", self.base_url(), p.trim_start_matches('/'));
        let query: Vec<&str> = self.c.flag.into_iter().chain(q).collect();
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        url
    }

    /// A fixture's text with every `{{NAME}}` replaced (JSON-escaped: they sit inside strings).
    fn fixture(&self, name: &str, vars: &[(&str, String)]) -> String {
        let path = format!("{FIXTURES}/{}/{name}", self.c.folder);
        let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let base = self.base_url();
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw.as_str();
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let len = rest[i..]
                .find("}}")
                .unwrap_or_else(|| panic!("{path}: an unclosed placeholder"));
            let key = &rest[i + 2..i + len];
            let value = match vars.iter().find(|(k, _)| *k == key) {
                Some((_, v)) => v.clone(),
                None if key == "BASE_URL" => base.clone(),
                None => panic!("{path}: no value given for {{{{{key}}}}}"),
            };
            let quoted = Value::String(value).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
            rest = &rest[i + len + 2..];
        }
        out.push_str(rest);
        if let Err(e) = serde_json::from_str::<Value>(&out) {
            panic!("{path} is not JSON once filled in: {e}\n{out}");
        }
        out
    }

    /// Sends one request as the IdP does and checks the answer: never a 5xx, a `detail` on every
    /// 4xx, and a status in `expect`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        fixture: Option<(&str, &[(&str, String)])>,
        expect: &[u16],
    ) -> Resp {
        let body = fixture.map(|(f, v)| self.fixture(f, v));
        let auth = if self.c.bare_token {
            self.s.token.clone()
        } else {
            format!("Bearer {}", self.s.token)
        };
        let mut headers: Vec<(&str, &str)> = vec![("Authorization", auth.as_str())];
        if let Some(ua) = self.c.user_agent {
            headers.push(("User-Agent", ua));
        }
        if body.is_some() {
            headers.push(("Content-Type", self.c.content_type));
        }
        let what = format!(
            "[{}] {method} {path}{}",
            self.c.folder,
            fixture.map(|(f, _)| format!(" ({f})")).unwrap_or_default()
        );
        let r = self
            .s
            .raw(
                "",
                method,
                &self.url(path),
                &headers,
                body.map(String::into_bytes),
            )
            .await;
        let status = r.status.as_u16();
        assert!(
            status < 500,
            "{what}: an IdP's request must never get a server error: {status} {}",
            r.text
        );
        if status >= 400 {
            assert!(
                r.body["detail"]
                    .as_str()
                    .is_some_and(|d| !d.trim().is_empty()),
                "{what}: a {status} without a detail: {}",
                r.text
            );
            assert_eq!(
                r.body["schemas"],
                json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
                "{what}: {}",
                r.text
            );
        }
        assert!(
            expect.contains(&status),
            "{what}: expected {expect:?}, got {status}: {}",
            r.text
        );
        r
    }

    async fn get(&self, path: &str, expect: &[u16]) -> Resp {
        self.send(Method::GET, path, None, expect).await
    }
    async fn post(&self, path: &str, f: &str, v: &[(&str, String)], expect: &[u16]) -> Resp {
        self.send(Method::POST, path, Some((f, v)), expect).await
    }
    async fn put(&self, path: &str, f: &str, v: &[(&str, String)], expect: &[u16]) -> Resp {
        self.send(Method::PUT, path, Some((f, v)), expect).await
    }
    async fn patch(&self, path: &str, f: &str, v: &[(&str, String)], expect: &[u16]) -> Resp {
        self.send(Method::PATCH, path, Some((f, v)), expect).await
    }
    async fn delete(&self, path: &str, expect: &[u16]) -> Resp {
        self.send(Method::DELETE, path, None, expect).await
    }

    /// Asserts the whole directory after a step.
    async fn expect(&self, step: &str, users: Vec<Person>, groups: Vec<Team>) {
        let got = directory(&self.s, &self.key).await;
        let want = Directory {
            users: users.into_iter().collect(),
            groups: groups.into_iter().collect(),
        };
        assert_eq!(got, want, "[{}] the directory after {step}", self.c.folder);
    }

    /// A group's kind as the admin API reports it.
    async fn kind(&self, id: &str) -> String {
        let g = body(
            self.s
                .admin(
                    &self.key,
                    Method::GET,
                    &format!("/tenants/test/groups/{id}"),
                    None,
                )
                .await,
            200,
        );
        text(&g, "kind")
    }

    /// Rule 1 (delete mode): GET of its id is 404, filters and the admin API no longer find it.
    async fn gone(&self, id: &str, user_name: &str) {
        self.s
            .get(&format!("/Users/{id}"))
            .await
            .assert_error(404, None);
        let f = self
            .s
            .get_ok(&format!(
                "/Users?filter={}",
                enc(&eq_filter("userName", user_name))
            ))
            .await;
        assert_eq!(f["totalResults"], 0, "{user_name} is still found: {f}");
        self.s
            .admin(
                &self.key,
                Method::GET,
                &format!("/tenants/test/users/{id}"),
                None,
            )
            .await
            .assert_admin_error(404, "not_found");
    }

    /// Suspend mode: still returned by GET and by a `userName` filter, inactive.
    async fn kept_inactive(&self, id: &str, user_name: &str) {
        let u = self.s.get_ok(&format!("/Users/{id}")).await;
        assert_eq!(u["active"], false, "{u}");
        let f = self
            .s
            .get(&format!(
                "/Users?filter={}",
                enc(&eq_filter("userName", user_name))
            ))
            .await;
        assert_eq!(ids(&f), [id], "{}", f.text);
        assert_eq!(f.body["Resources"][0]["active"], false, "{}", f.text);
    }
}

/// A ListResponse with no results, in the form Entra and Okta document.
#[track_caller]
fn empty(r: &Resp) {
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]),
        "{}",
        r.text
    );
    assert_eq!(r.body["totalResults"], json!(0), "{}", r.text);
    assert_eq!(r.body["startIndex"], json!(1), "{}", r.text);
    assert_eq!(r.body["Resources"], json!([]), "{}", r.text);
}

/// A ListResponse whose paging fields are JSON integers (Okta requires it); its ids.
#[track_caller]
fn listed(r: &Resp) -> Vec<String> {
    for k in ["totalResults", "startIndex", "itemsPerPage"] {
        assert!(r.body[k].is_u64(), "{k} is not an integer: {}", r.text);
    }
    ids(r)
}

/// A user as the directory holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Person {
    user_name: String,
    given: String,
    family: String,
    active: bool,
    /// As the admin API reports it.
    source: String,
}

fn person(user_name: &str, given: &str, family: &str) -> Person {
    Person {
        user_name: user_name.into(),
        given: given.into(),
        family: family.into(),
        active: true,
        source: "scim".into(),
    }
}

impl Person {
    fn inactive(mut self) -> Self {
        self.active = false;
        self
    }
    fn with_source(mut self, source: &str) -> Self {
        self.source = source.into();
        self
    }
}

/// A group as SCIM lists it: name, kind (admin API; always `scim`) and members by `userName`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Team {
    name: String,
    kind: String,
    members: BTreeSet<String>,
}

/// An administrator's custom group with no members, as SCIM lists it (rule 5).
fn custom_team(name: &str) -> Team {
    Team {
        kind: "custom".into(),
        ..team(name, &[])
    }
}

fn team(name: &str, members: &[&str]) -> Team {
    Team {
        name: name.into(),
        kind: "scim".into(),
        members: members.iter().map(|m| m.to_string()).collect(),
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Directory {
    users: BTreeSet<Person>,
    groups: BTreeSet<Team>,
}

fn resources(v: &Value) -> Vec<Value> {
    assert!(v["totalResults"].is_u64(), "{v}");
    let r = v["Resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(v["totalResults"], json!(r.len()), "one page holds all: {v}");
    r
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

/// Reads every user and group back over SCIM (as an IdP import would, rule 9), checks that the
/// users' `groups` agree with the groups' `members`, that the admin API lists the same users
/// and exactly these groups as `scim` ones (rule 13: system and product groups never show; an
/// administrator's `custom` groups are not listed either, only addressable by id for rule 5),
/// and takes `source` and `kind` from the admin API.
async fn directory(s: &TestServer, key: &str) -> Directory {
    let users = resources(&s.get_ok("/Users?startIndex=1&count=100").await);
    let groups = resources(&s.get_ok("/Groups?startIndex=1&count=100").await);
    let admin_users = items(&body(
        s.admin(key, Method::GET, "/tenants/test/users?count=500", None)
            .await,
        200,
    ));
    let admin_groups = items(&body(
        s.admin(key, Method::GET, "/tenants/test/groups?count=500", None)
            .await,
        200,
    ));

    let names: BTreeMap<String, String> = users
        .iter()
        .map(|u| (text(u, "id"), text(u, "userName")))
        .collect();
    let kinds: BTreeMap<String, String> = admin_groups
        .iter()
        .map(|g| (text(g, "id"), text(g, "kind")))
        .collect();
    let mut member_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut teams = BTreeSet::new();
    for g in &groups {
        let gid = text(g, "id");
        let mut members = BTreeSet::new();
        for m in g["members"].as_array().cloned().unwrap_or_default() {
            let v = text(&m, "value");
            members.insert(
                names
                    .get(&v)
                    .cloned()
                    .unwrap_or_else(|| format!("<not a listed user: {v}>")),
            );
            member_of.entry(v).or_default().insert(gid.clone());
        }
        let kind = kinds.get(&gid).cloned().unwrap_or_default();
        assert!(
            kind == "scim" || kind == "custom",
            "SCIM lists its own and custom groups only: {g}"
        );
        teams.insert(Team {
            name: text(g, "displayName"),
            kind,
            members,
        });
    }
    let shown: BTreeSet<String> = groups.iter().map(|g| text(g, "id")).collect();
    let managed: BTreeSet<String> = kinds
        .iter()
        .filter(|(_, k)| *k == "scim" || *k == "custom")
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(shown, managed, "SCIM lists every scim and custom group");

    let admin_by_id: BTreeMap<String, Value> = admin_users
        .iter()
        .map(|u| (text(u, "id"), u.clone()))
        .collect();
    assert_eq!(
        admin_by_id.keys().collect::<BTreeSet<_>>(),
        names.keys().collect::<BTreeSet<_>>(),
        "the admin API and SCIM list the same users"
    );
    let mut people = BTreeSet::new();
    for u in &users {
        let id = text(u, "id");
        let own: BTreeSet<String> = u["groups"]
            .as_array()
            .map(|a| a.iter().map(|g| text(g, "value")).collect())
            .unwrap_or_default();
        assert_eq!(
            own,
            member_of.get(&id).cloned().unwrap_or_default(),
            "a user's `groups` match the groups' `members`: {u}"
        );
        let admin = &admin_by_id[&id];
        let active = u["active"]
            .as_bool()
            .unwrap_or_else(|| panic!("`active` is not a boolean: {u}"));
        assert_eq!(admin["active"], json!(active), "{admin} vs {u}");
        people.insert(Person {
            user_name: text(u, "userName"),
            given: text(&u["name"], "givenName"),
            family: text(&u["name"], "familyName"),
            active,
            source: text(admin, "source"),
        });
    }
    Directory {
        users: people,
        groups: teams,
    }
}

/// Rule 4: a reserved group is refused with a message that names it.
#[track_caller]
fn names_reserved(r: &Resp, name: &str) {
    let detail = r.body["detail"].as_str().unwrap_or_default().to_lowercase();
    assert!(
        detail.contains(&name.to_lowercase()),
        "the refusal does not name {name:?}: {}",
        r.text
    );
}

fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------------------------------------
// Microsoft Entra ID
// ---------------------------------------------------------------------------------------------

/// Entra's Test Connection: a user that does not exist, matched on userName with a random
/// GUID (200, empty ListResponse); and a group the same way.
async fn entra_test_connection(r: &Replay) {
    let probe = r
        .get(
            &format!("/Users?filter={}", enc(&eq_filter("userName", &guid()))),
            &[200],
        )
        .await;
    empty(&probe);
    let probe = r
        .get(
            &format!(
                "/Groups?excludedAttributes=members&filter={}",
                enc(&eq_filter("displayName", &guid()))
            ),
            &[200],
        )
        .await;
    empty(&probe);
}

/// An assigned user: matched on userName (nothing found), then created. Returns its id.
async fn entra_assign(
    r: &Replay,
    user_name: &str,
    given: &str,
    family: &str,
    nick: &str,
) -> String {
    let found = r
        .get(
            &format!("/Users?filter={}", enc(&eq_filter("userName", user_name))),
            &[200],
        )
        .await;
    empty(&found);
    let c = r
        .post(
            "/Users",
            "create-user.json",
            vars!(
                USER_NAME = user_name,
                GIVEN_NAME = given,
                FAMILY_NAME = family,
                EXTERNAL_ID = nick
            ),
            &[201],
        )
        .await;
    assert_eq!(c.body["userName"], user_name, "{}", c.text);
    assert_eq!(c.body["active"], true, "{}", c.text);
    assert_eq!(c.body["externalId"], nick, "{}", c.text);
    assert!(!c.id().is_empty(), "{}", c.text);
    c.id()
}

/// An assigned group: matched on displayName (members excluded, nothing found), then created
/// without members. Returns its id.
async fn entra_push_group(r: &Replay, name: &str) -> String {
    let found = r
        .get(
            &format!(
                "/Groups?excludedAttributes=members&filter={}",
                enc(&eq_filter("displayName", name))
            ),
            &[200],
        )
        .await;
    empty(&found);
    let c = r
        .post(
            "/Groups",
            "create-group.json",
            vars!(DISPLAY_NAME = name, EXTERNAL_ID = guid()),
            &[201],
        )
        .await;
    assert_eq!(c.body["displayName"], name, "{}", c.text);
    assert!(
        c.body
            .get("members")
            .is_none_or(|m| m.as_array().is_some_and(Vec::is_empty)),
        "{}",
        c.text
    );
    c.id()
}

/// Entra reads a group back without its members.
async fn entra_read_group(r: &Replay, id: &str, name: &str) {
    let g = r
        .get(&format!("/Groups/{id}?excludedAttributes=members"), &[200])
        .await;
    assert_eq!(g.body["displayName"], name, "{}", g.text);
    assert!(g.body.get("members").is_none(), "{}", g.text);
    let l = r
        .get(
            &format!(
                "/Groups?excludedAttributes=members&filter={}",
                enc(&eq_filter("displayName", name))
            ),
            &[200],
        )
        .await;
    assert_eq!(ids(&l), [id], "{}", l.text);
    assert!(
        l.body["Resources"][0].get("members").is_none(),
        "{}",
        l.text
    );
}

#[tokio::test]
async fn entra_default_dialect_replay() {
    let r = Replay::start(ENTRA).await;
    entra_test_connection(&r).await;
    r.expect("test connection", vec![], vec![]).await;

    // Initial sync: users first, matched on userName, then created.
    let ann = entra_assign(&r, "ann@contoso.com", "Ann", "Lee", "annl").await;
    let bob = entra_assign(&r, "bob@contoso.com", "Bob", "Ray", "bobr").await;
    let cy = entra_assign(&r, "cy@contoso.com", "Cy", "Diaz", "cyd").await;
    // Matching on externalId, unquoted as Microsoft's Example 1 writes it (rule 18).
    let by_ext = r
        .get(
            &format!("/Users?filter={}", enc("externalId eq annl")),
            &[200],
        )
        .await;
    assert_eq!(ids(&by_ext), [ann.as_str()], "{}", by_ext.text);
    // Then groups, created empty and filled by PATCH (one member, then several in one PATCH).
    let eng = entra_push_group(&r, "Engineering").await;
    let sales = entra_push_group(&r, "Sales").await;
    let g = |id: &str| format!("/Groups/{id}");
    r.patch(&g(&eng), "add-member.json", vars!(USER_ID = ann), &[204])
        .await;
    r.patch(
        &g(&eng),
        "add-members.json",
        vars!(USER_ID = bob, OTHER_USER_ID = cy),
        &[204],
    )
    .await;
    r.patch(&g(&sales), "add-member.json", vars!(USER_ID = ann), &[204])
        .await;
    entra_read_group(&r, &eng, "Engineering").await;
    r.expect(
        "the initial sync",
        vec![
            person("ann@contoso.com", "Ann", "Lee"),
            person("bob@contoso.com", "Bob", "Ray"),
            person("cy@contoso.com", "Cy", "Diaz"),
        ],
        vec![
            team(
                "Engineering",
                &["ann@contoso.com", "bob@contoso.com", "cy@contoso.com"],
            ),
            team("Sales", &["ann@contoso.com"]),
        ],
    )
    .await;

    // A reserved group assigned to the app by mistake (the Opti ID guide warns against it):
    // not found by the lookup (rule 13), refused naming it (rule 4), nothing created.
    let name = "Admin Center Administrators";
    let found = r
        .get(
            &format!(
                "/Groups?excludedAttributes=members&filter={}",
                enc(&eq_filter("displayName", name))
            ),
            &[200],
        )
        .await;
    empty(&found);
    let refused = r
        .post(
            "/Groups",
            "create-group.json",
            vars!(DISPLAY_NAME = name, EXTERNAL_ID = guid()),
            &[409, 400],
        )
        .await;
    names_reserved(&refused, name);

    // Profile updates.
    let u = |id: &str| format!("/Users/{id}");
    r.patch(
        &u(&ann),
        "update-user-multi-valued.json",
        vars!(EMAIL = "ann.lee@contoso.com", FAMILY_NAME = "Lee-Smith"),
        &[204],
    )
    .await;
    let a = r.s.get_ok(&u(&ann)).await;
    assert_eq!(a["name"]["familyName"], "Lee-Smith", "{a}");
    assert_eq!(a["name"]["givenName"], "Ann", "{a}");
    assert_eq!(
        a["emails"],
        json!([{"primary": true, "type": "work", "value": "ann.lee@contoso.com"}]),
        "{a}"
    );
    r.patch(
        &u(&ann),
        "update-user-enterprise.json",
        vars!(
            EMAIL = "ann.lee@contoso.com",
            ADDRESS = "18/2111",
            DEPARTMENT = "Retail"
        ),
        &[204],
    )
    .await;
    let a = r.s.get_ok(&u(&ann)).await;
    assert_eq!(a[ENTERPRISE]["department"], "Retail", "{a}");
    assert_eq!(
        a["addresses"],
        json!([{"type": "work", "formatted": "18/2111"}]),
        "{a}"
    );
    assert_eq!(a["emails"][0]["value"], "ann.lee@contoso.com", "{a}");
    // Manager: a reference added by PATCH (the check Entra makes first is replayed in
    // `entra_manager_reference_check`).
    r.patch(
        &u(&bob),
        "add-manager.json",
        vars!(MANAGER_ID = ann),
        &[204],
    )
    .await;
    let b = r.s.get_ok(&u(&bob)).await;
    assert_eq!(b[ENTERPRISE]["manager"]["value"], ann.as_str(), "{b}");
    // userName changes are allowed (rule 11).
    r.patch(
        &u(&ann),
        "update-user-single-valued.json",
        vars!(USER_NAME = "ann.smith@contoso.com"),
        &[204],
    )
    .await;
    // A group rename.
    r.patch(
        &g(&sales),
        "rename-group.json",
        vars!(DISPLAY_NAME = "Sales EMEA"),
        &[204],
    )
    .await;
    entra_read_group(&r, &sales, "Sales EMEA").await;
    r.expect(
        "profile updates and a group rename",
        vec![
            person("ann.smith@contoso.com", "Ann", "Lee-Smith"),
            person("bob@contoso.com", "Bob", "Ray"),
            person("cy@contoso.com", "Cy", "Diaz"),
        ],
        vec![
            team(
                "Engineering",
                &["ann.smith@contoso.com", "bob@contoso.com", "cy@contoso.com"],
            ),
            team("Sales EMEA", &["ann.smith@contoso.com"]),
        ],
    )
    .await;

    // Membership churn. Removal with the id in `value` removes that member only.
    r.patch(&g(&eng), "remove-member.json", vars!(USER_ID = bob), &[204])
        .await;
    r.expect(
        "removing one member (id in value)",
        vec![
            person("ann.smith@contoso.com", "Ann", "Lee-Smith"),
            person("bob@contoso.com", "Bob", "Ray"),
            person("cy@contoso.com", "Cy", "Diaz"),
        ],
        vec![
            team("Engineering", &["ann.smith@contoso.com", "cy@contoso.com"]),
            team("Sales EMEA", &["ann.smith@contoso.com"]),
        ],
    )
    .await;
    r.patch(
        &g(&eng),
        "remove-member-compat.json",
        vars!(USER_ID = cy),
        &[204],
    )
    .await;
    r.patch(&g(&sales), "add-member.json", vars!(USER_ID = bob), &[204])
        .await;
    // A member added twice is kept once.
    r.patch(&g(&sales), "add-member.json", vars!(USER_ID = ann), &[204])
        .await;
    r.expect(
        "membership churn",
        vec![
            person("ann.smith@contoso.com", "Ann", "Lee-Smith"),
            person("bob@contoso.com", "Bob", "Ray"),
            person("cy@contoso.com", "Cy", "Diaz"),
        ],
        vec![
            team("Engineering", &["ann.smith@contoso.com"]),
            team("Sales EMEA", &["ann.smith@contoso.com", "bob@contoso.com"]),
        ],
    )
    .await;

    // Deactivate (a soft delete or unassignment in Entra): rule 1, removed from every group
    // and deleted. Both the string "False" and the tutorial's boolean.
    r.patch(&u(&bob), "disable-user.json", NONE, &[204]).await;
    r.gone(&bob, "bob@contoso.com").await;
    r.patch(&u(&cy), "disable-user-boolean.json", NONE, &[204])
        .await;
    r.gone(&cy, "cy@contoso.com").await;
    r.expect(
        "two deactivations",
        vec![person("ann.smith@contoso.com", "Ann", "Lee-Smith")],
        vec![
            team("Engineering", &["ann.smith@contoso.com"]),
            team("Sales EMEA", &["ann.smith@contoso.com"]),
        ],
    )
    .await;

    // Restore: Entra reactivates the id it cached, which is gone (404) ...
    r.patch(&u(&bob), "enable-user.json", NONE, &[404]).await;
    // ... and a membership update still carrying that id is refused, naming it (rule 12) ...
    let stale = r
        .patch(&g(&eng), "add-member.json", vars!(USER_ID = bob), &[400])
        .await;
    stale.assert_error(400, Some("invalidValue"));
    assert!(stale.text.contains(&bob), "{}", stale.text);
    // ... then the user is matched and created again (rule 2) and regains its groups through
    // the IdP's group updates.
    let bob2 = entra_assign(&r, "bob@contoso.com", "Bob", "Ray", "bobr").await;
    assert_ne!(bob2, bob, "a new user, not the deleted one");
    r.expect(
        "the restore (before its groups are sent)",
        vec![
            person("ann.smith@contoso.com", "Ann", "Lee-Smith"),
            person("bob@contoso.com", "Bob", "Ray"),
        ],
        vec![
            team("Engineering", &["ann.smith@contoso.com"]),
            team("Sales EMEA", &["ann.smith@contoso.com"]),
        ],
    )
    .await;
    r.patch(&g(&sales), "add-member.json", vars!(USER_ID = bob2), &[204])
        .await;
    r.expect(
        "the restore",
        vec![
            person("ann.smith@contoso.com", "Ann", "Lee-Smith"),
            person("bob@contoso.com", "Bob", "Ray"),
        ],
        vec![
            team("Engineering", &["ann.smith@contoso.com"]),
            team("Sales EMEA", &["ann.smith@contoso.com", "bob@contoso.com"]),
        ],
    )
    .await;

    // Hard delete (30 days after a soft delete, or a permanent delete): DELETE.
    r.delete(&u(&ann), &[204]).await;
    r.gone(&ann, "ann.smith@contoso.com").await;
    // Groups leave scope: DELETE.
    r.delete(&g(&eng), &[204]).await;
    r.s.get(&g(&eng)).await.assert_error(404, None);
    r.expect(
        "the hard delete and a group delete",
        vec![person("bob@contoso.com", "Bob", "Ray")],
        vec![team("Sales EMEA", &["bob@contoso.com"])],
    )
    .await;
}

/// Before changing `manager`, the only reference attribute it checks, Entra asks whether the
/// user already has that value (the query as Microsoft's page printed it: unquoted values, the
/// complex attribute compared as a whole), then adds it.
#[tokio::test]
async fn entra_manager_reference_check() {
    let r = Replay::start(ENTRA).await;
    let ann = entra_assign(&r, "ann@contoso.com", "Ann", "Lee", "annl").await;
    let bob = entra_assign(&r, "bob@contoso.com", "Bob", "Ray", "bobr").await;
    let has_manager = format!(
        "/Users?filter={}&attributes=id",
        enc(&format!("id eq {bob} and manager eq {ann}"))
    );
    empty(&r.get(&has_manager, &[200]).await);
    r.patch(
        &format!("/Users/{bob}"),
        "add-manager.json",
        vars!(MANAGER_ID = ann),
        &[204],
    )
    .await;
    let found = r.get(&has_manager, &[200]).await;
    assert_eq!(ids(&found), [bob.as_str()], "{}", found.text);
    r.expect(
        "a manager update",
        vec![
            person("ann@contoso.com", "Ann", "Lee"),
            person("bob@contoso.com", "Bob", "Ray"),
        ],
        vec![],
    )
    .await;
}

#[tokio::test]
async fn entra_default_dialect_in_suspend_mode() {
    let r = Replay::start(ENTRA).await;
    r.suspend_mode().await;
    let ann = entra_assign(&r, "ann@contoso.com", "Ann", "Lee", "annl").await;
    let bob = entra_assign(&r, "bob@contoso.com", "Bob", "Ray", "bobr").await;
    let eng = entra_push_group(&r, "Engineering").await;
    let g = format!("/Groups/{eng}");
    r.patch(
        &g,
        "add-members.json",
        vars!(USER_ID = ann, OTHER_USER_ID = bob),
        &[204],
    )
    .await;

    // Deactivate: kept, inactive, with its memberships, still returned by GET and filters.
    r.patch(&format!("/Users/{bob}"), "disable-user.json", NONE, &[204])
        .await;
    r.kept_inactive(&bob, "bob@contoso.com").await;
    r.patch(
        &format!("/Users/{ann}"),
        "disable-user-boolean.json",
        NONE,
        &[204],
    )
    .await;
    r.kept_inactive(&ann, "ann@contoso.com").await;
    r.expect(
        "two deactivations",
        vec![
            person("ann@contoso.com", "Ann", "Lee").inactive(),
            person("bob@contoso.com", "Bob", "Ray").inactive(),
        ],
        vec![team("Engineering", &["ann@contoso.com", "bob@contoso.com"])],
    )
    .await;

    // Restore: reactivated by id; Entra does not resend memberships, they were kept.
    r.patch(&format!("/Users/{bob}"), "enable-user.json", NONE, &[204])
        .await;
    r.expect(
        "the restore",
        vec![
            person("ann@contoso.com", "Ann", "Lee").inactive(),
            person("bob@contoso.com", "Bob", "Ray"),
        ],
        vec![team("Engineering", &["ann@contoso.com", "bob@contoso.com"])],
    )
    .await;

    // Hard delete: gone, and out of its groups, active or not.
    r.delete(&format!("/Users/{bob}"), &[204]).await;
    r.gone(&bob, "bob@contoso.com").await;
    r.delete(&format!("/Users/{ann}"), &[204]).await;
    r.gone(&ann, "ann@contoso.com").await;
    r.expect("the hard deletes", vec![], vec![team("Engineering", &[])])
        .await;
}

#[tokio::test]
async fn entra_aadopt_flag_replay() {
    let r = Replay::start(ENTRA_AADOPT).await;
    // The flag stays in the query of every request; it must not get in the way.
    assert!(
        r.url("/Users?filter=x")
            .ends_with("/api/scim/v2/Users?aadOptscim062020&filter=x")
    );
    entra_test_connection(&r).await;
    // Joined naively onto the Tenant URL's trailing slash, the path routes just the same.
    let naive = format!(
        "{}/api/scim/v2//Users?aadOptscim062020&filter={}",
        r.s.origin,
        enc(&eq_filter("userName", &guid()))
    );
    let auth = format!("Bearer {}", r.s.token);
    empty(
        &r.s.raw("", Method::GET, &naive, &[("Authorization", &auth)], None)
            .await,
    );

    let ann = entra_assign(&r, "ann@contoso.com", "Ann", "Lee", "annl").await;
    let bob = entra_assign(&r, "bob@contoso.com", "Bob", "Ray", "bobr").await;
    let cy = entra_assign(&r, "cy@contoso.com", "Cy", "Diaz", "cyd").await;
    let eng = entra_push_group(&r, "Engineering").await;
    let g = format!("/Groups/{eng}");
    for id in [&ann, &bob, &cy] {
        r.patch(&g, "add-member.json", vars!(USER_ID = id), &[204])
            .await;
    }
    entra_read_group(&r, &eng, "Engineering").await;
    r.expect(
        "the initial sync",
        vec![
            person("ann@contoso.com", "Ann", "Lee"),
            person("bob@contoso.com", "Bob", "Ray"),
            person("cy@contoso.com", "Cy", "Diaz"),
        ],
        vec![team(
            "Engineering",
            &["ann@contoso.com", "bob@contoso.com", "cy@contoso.com"],
        )],
    )
    .await;

    // Profile updates: a single-value add, then the path-less replace with dotted and URN keys.
    let u = |id: &str| format!("/Users/{id}");
    r.patch(
        &u(&ann),
        "add-single-value.json",
        vars!(NICK_NAME = "Babs"),
        &[204],
    )
    .await;
    r.patch(
        &u(&ann),
        "replace-multiple.json",
        vars!(
            EMAIL = "ann.lee@contoso.com",
            DISPLAY_NAME = "Annie Lee-Smith",
            GIVEN_NAME = "Annie",
            FAMILY_NAME = "Lee-Smith",
            EMPLOYEE_NUMBER = "4711"
        ),
        &[204],
    )
    .await;
    let a = r.s.get_ok(&u(&ann)).await;
    assert_eq!(a["nickName"], "Babs", "{a}");
    assert_eq!(a["displayName"], "Annie Lee-Smith", "{a}");
    assert_eq!(a["name"]["givenName"], "Annie", "{a}");
    assert_eq!(a["name"]["familyName"], "Lee-Smith", "{a}");
    assert_eq!(a[ENTERPRISE]["employeeNumber"], "4711", "{a}");
    assert_eq!(a["emails"][0]["value"], "ann.lee@contoso.com", "{a}");
    assert_eq!(a["emails"].as_array().map(Vec::len), Some(1), "{a}");
    for literal in ["name.givenName", "name.familyName"] {
        assert!(a.get(literal).is_none(), "a literal {literal:?} key: {a}");
    }
    assert!(
        a.get(format!("{ENTERPRISE}:employeeNumber")).is_none(),
        "a literal URN key: {a}"
    );
    r.patch(
        &g,
        "rename-group.json",
        vars!(DISPLAY_NAME = "Platform Engineering"),
        &[204],
    )
    .await;
    entra_read_group(&r, &eng, "Platform Engineering").await;

    // Membership churn: removal by value filter, then add back, then another removal.
    r.patch(&g, "remove-member.json", vars!(USER_ID = bob), &[204])
        .await;
    r.expect(
        "a removal by value filter",
        vec![
            person("ann@contoso.com", "Annie", "Lee-Smith"),
            person("bob@contoso.com", "Bob", "Ray"),
            person("cy@contoso.com", "Cy", "Diaz"),
        ],
        vec![team(
            "Platform Engineering",
            &["ann@contoso.com", "cy@contoso.com"],
        )],
    )
    .await;
    r.patch(&g, "add-member.json", vars!(USER_ID = bob), &[204])
        .await;
    r.patch(&g, "remove-member.json", vars!(USER_ID = cy), &[204])
        .await;
    r.expect(
        "membership churn",
        vec![
            person("ann@contoso.com", "Annie", "Lee-Smith"),
            person("bob@contoso.com", "Bob", "Ray"),
            person("cy@contoso.com", "Cy", "Diaz"),
        ],
        vec![team(
            "Platform Engineering",
            &["ann@contoso.com", "bob@contoso.com"],
        )],
    )
    .await;

    // Deactivate with a boolean: rule 1.
    r.patch(&u(&bob), "disable-user.json", NONE, &[204]).await;
    r.gone(&bob, "bob@contoso.com").await;
    r.expect(
        "a deactivation",
        vec![
            person("ann@contoso.com", "Annie", "Lee-Smith"),
            person("cy@contoso.com", "Cy", "Diaz"),
        ],
        vec![team("Platform Engineering", &["ann@contoso.com"])],
    )
    .await;

    // Restore: the cached id is gone; created again (rule 2), groups resent.
    r.patch(&u(&bob), "enable-user.json", NONE, &[404]).await;
    let bob2 = entra_assign(&r, "bob@contoso.com", "Bob", "Ray", "bobr").await;
    assert_ne!(bob2, bob);
    r.patch(&g, "add-member.json", vars!(USER_ID = bob2), &[204])
        .await;
    r.expect(
        "the restore",
        vec![
            person("ann@contoso.com", "Annie", "Lee-Smith"),
            person("bob@contoso.com", "Bob", "Ray"),
            person("cy@contoso.com", "Cy", "Diaz"),
        ],
        vec![team(
            "Platform Engineering",
            &["ann@contoso.com", "bob@contoso.com"],
        )],
    )
    .await;

    // Unassign: Entra sends active=false too.
    r.patch(&u(&cy), "disable-user.json", NONE, &[204]).await;
    r.gone(&cy, "cy@contoso.com").await;
    // Hard delete.
    r.delete(&u(&ann), &[204]).await;
    r.gone(&ann, "ann@contoso.com").await;
    r.expect(
        "an unassignment and a hard delete",
        vec![person("bob@contoso.com", "Bob", "Ray")],
        vec![team("Platform Engineering", &["bob@contoso.com"])],
    )
    .await;
    r.delete(&g, &[204]).await;
    r.expect(
        "the group delete",
        vec![person("bob@contoso.com", "Bob", "Ray")],
        vec![],
    )
    .await;
}

#[tokio::test]
async fn entra_aadopt_flag_in_suspend_mode() {
    let r = Replay::start(ENTRA_AADOPT).await;
    r.suspend_mode().await;
    let ann = entra_assign(&r, "ann@contoso.com", "Ann", "Lee", "annl").await;
    let eng = entra_push_group(&r, "Engineering").await;
    let g = format!("/Groups/{eng}");
    r.patch(&g, "add-member.json", vars!(USER_ID = ann), &[204])
        .await;
    r.patch(&format!("/Users/{ann}"), "disable-user.json", NONE, &[204])
        .await;
    r.kept_inactive(&ann, "ann@contoso.com").await;
    r.expect(
        "a deactivation",
        vec![person("ann@contoso.com", "Ann", "Lee").inactive()],
        vec![team("Engineering", &["ann@contoso.com"])],
    )
    .await;
    r.patch(&format!("/Users/{ann}"), "enable-user.json", NONE, &[204])
        .await;
    r.expect(
        "the restore",
        vec![person("ann@contoso.com", "Ann", "Lee")],
        vec![team("Engineering", &["ann@contoso.com"])],
    )
    .await;
    r.patch(&g, "remove-member.json", vars!(USER_ID = ann), &[204])
        .await;
    r.delete(&format!("/Users/{ann}"), &[204]).await;
    r.gone(&ann, "ann@contoso.com").await;
    r.expect("the hard delete", vec![], vec![team("Engineering", &[])])
        .await;
}

// ---------------------------------------------------------------------------------------------
// Okta
// ---------------------------------------------------------------------------------------------

const OKTA_PASSWORD: &str = "1mz050nq";

fn okta_user_lookup(user_name: &str) -> String {
    format!(
        "/Users?filter={}&startIndex=1&count=100",
        pct(&eq_filter("userName", user_name))
    )
}

fn okta_group_lookup(name: &str) -> String {
    format!(
        "/Groups?filter={}&startIndex=1&count=100",
        pct(&eq_filter("displayName", name))
    )
}

/// Test API Credentials: two constant probes.
async fn okta_test_credentials(r: &Replay) {
    let users = r.get("/Users?startIndex=1&count=2", &[200]).await;
    assert!(listed(&users).len() <= 2, "{}", users.text);
    listed(&r.get("/Groups?startIndex=1&count=100", &[200]).await);
}

/// An assigned user: looked up by userName (nothing found), then created with a password.
async fn okta_assign(
    r: &Replay,
    user_name: &str,
    given: &str,
    family: &str,
    okta_id: &str,
) -> String {
    empty(&r.get(&okta_user_lookup(user_name), &[200]).await);
    let c = r
        .post(
            "/Users",
            "create-user.json",
            vars!(
                USER_NAME = user_name,
                GIVEN_NAME = given,
                FAMILY_NAME = family,
                EXTERNAL_ID = okta_id,
                PASSWORD = OKTA_PASSWORD
            ),
            &[201],
        )
        .await;
    assert_eq!(c.body["userName"], user_name, "{}", c.text);
    assert_eq!(c.body["name"]["givenName"], given, "{}", c.text);
    assert!(
        !c.text.contains(OKTA_PASSWORD),
        "password echoed: {}",
        c.text
    );
    c.id()
}

/// A profile update: GET the user, then PUT the full resource back with the changes.
async fn okta_update(r: &Replay, id: &str, user_name: &str, given: &str, family: &str) {
    let cur = r.get(&format!("/Users/{id}"), &[200]).await;
    assert_eq!(cur.body["id"], id, "{}", cur.text);
    let put = r
        .put(
            &format!("/Users/{id}"),
            "put-user.json",
            vars!(
                USER_ID = id,
                USER_NAME = user_name,
                GIVEN_NAME = given,
                MIDDLE_NAME = "Excited",
                FAMILY_NAME = family
            ),
            &[200],
        )
        .await;
    assert_eq!(put.body["id"], id, "{}", put.text);
    assert_eq!(put.body["name"]["middleName"], "Excited", "{}", put.text);
}

/// Group push of a new group: looked up by displayName (nothing found), created empty.
async fn okta_push(r: &Replay, name: &str) -> String {
    empty(&r.get(&okta_group_lookup(name), &[200]).await);
    let c = r
        .post(
            "/Groups",
            "create-group.json",
            vars!(DISPLAY_NAME = name),
            &[201],
        )
        .await;
    assert_eq!(c.body["displayName"], name, "{}", c.text);
    c.id()
}

/// A membership update: Okta resends the group's name (path-less `{id, displayName}`) first.
async fn okta_membership(r: &Replay, id: &str, name: &str, f: &str, v: &[(&str, String)]) {
    let g = format!("/Groups/{id}");
    r.patch(
        &g,
        "rename-group.json",
        vars!(GROUP_ID = id, DISPLAY_NAME = name),
        &[204],
    )
    .await;
    r.patch(&g, f, v, &[204]).await;
}

#[tokio::test]
async fn okta_replay() {
    let r = Replay::start(OKTA).await;
    // Before SCIM: a collaborator the admin added by hand, and a custom group.
    let key = &r.key;
    let dana = text(
        &body(
            r.s.admin(
                key,
                Method::POST,
                "/tenants/test/users",
                Some(json!({"user_name": "dana@okta.local", "given_name": "Dana", "family_name": "Doe"})),
            )
            .await,
            201,
        ),
        "id",
    );
    let partners = text(
        &body(
            r.s.admin(
                key,
                Method::POST,
                "/tenants/test/groups",
                Some(json!({"display_name": "Partners"})),
            )
            .await,
            201,
        ),
        "id",
    );
    okta_test_credentials(&r).await;
    r.expect(
        "Test API Credentials",
        vec![person("dana@okta.local", "Dana", "Doe").with_source("manual")],
        vec![custom_team("Partners")],
    )
    .await;

    // Assignments: looked up, created (with a password, never returned).
    let ann = okta_assign(&r, "ann@okta.local", "Ann", "Lee", "00ujl29u0le5T6Aj10h7").await;
    let bob = okta_assign(&r, "bob@okta.local", "Bob", "Ray", "00ujl29u0le5T6Aj10h8").await;
    let cy = okta_assign(&r, "cy@okta.local", "Cy", "Diaz", "00ujl29u0le5T6Aj10h9").await;
    // A create retried for an existing user is a 409.
    let again = r
        .post(
            "/Users",
            "create-user.json",
            vars!(
                USER_NAME = "ann@okta.local",
                GIVEN_NAME = "Ann",
                FAMILY_NAME = "Lee",
                EXTERNAL_ID = "00ujl29u0le5T6Aj10h7",
                PASSWORD = OKTA_PASSWORD
            ),
            &[409],
        )
        .await;
    again.assert_error(409, Some("uniqueness"));
    // The SPEC test's upper-cased userName filter finds the user.
    let upper = r.get(&okta_user_lookup("ANN@OKTA.LOCAL"), &[200]).await;
    assert_eq!(listed(&upper), [ann.as_str()], "{}", upper.text);
    // The manual user is found by the lookup: Okta links it and sends its profile (rule 3).
    let found = r.get(&okta_user_lookup("dana@okta.local"), &[200]).await;
    assert_eq!(listed(&found), [dana.as_str()], "{}", found.text);
    okta_update(&r, &dana, "dana@okta.local", "Dana", "Doe").await;
    r.expect(
        "assignments",
        vec![
            person("ann@okta.local", "Ann", "Lee"),
            person("bob@okta.local", "Bob", "Ray"),
            person("cy@okta.local", "Cy", "Diaz"),
            person("dana@okta.local", "Dana", "Doe"),
        ],
        vec![custom_team("Partners")],
    )
    .await;

    // Group push: a new group; and one named like the administrator's custom group, which SCIM
    // lists (Okta's lookup finds it, so its admin can link it): a create of that name is refused
    // saying what to do (rule 5), and Okta's first update by id takes control of it.
    let eng = okta_push(&r, "Engineering").await;
    okta_membership(
        &r,
        &eng,
        "Engineering",
        "add-members.json",
        vars!(
            USER_ID = ann,
            USER_NAME = "ann@okta.local",
            OTHER_USER_ID = bob,
            OTHER_USER_NAME = "bob@okta.local"
        ),
    )
    .await;
    let found = r.get(&okta_group_lookup("Partners"), &[200]).await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.text);
    assert_eq!(found.body["Resources"][0]["id"], partners.as_str());
    let clash = r
        .post(
            "/Groups",
            "create-group.json",
            vars!(DISPLAY_NAME = "Partners"),
            &[409],
        )
        .await;
    assert!(clash.text.contains(&partners), "{}", clash.text);
    assert_eq!(r.kind(&partners).await, "custom");
    okta_membership(
        &r,
        &partners,
        "Partners",
        "add-members.json",
        vars!(
            USER_ID = cy,
            USER_NAME = "cy@okta.local",
            OTHER_USER_ID = dana,
            OTHER_USER_NAME = "dana@okta.local"
        ),
    )
    .await;
    assert_eq!(r.kind(&partners).await, "scim");
    // Reserved groups pushed by mistake: not found (rule 13), refused naming them (rule 4).
    for (name, reserved) in [
        ("Admin Center Administrators", "Admin Center Administrators"),
        ("everyone", "Everyone"),
    ] {
        empty(&r.get(&okta_group_lookup(name), &[200]).await);
        let refused = r
            .post(
                "/Groups",
                "create-group.json",
                vars!(DISPLAY_NAME = name),
                &[409, 400],
            )
            .await;
        names_reserved(&refused, reserved);
    }
    r.expect(
        "group push",
        vec![
            person("ann@okta.local", "Ann", "Lee"),
            person("bob@okta.local", "Bob", "Ray"),
            person("cy@okta.local", "Cy", "Diaz"),
            person("dana@okta.local", "Dana", "Doe"),
        ],
        vec![
            team("Engineering", &["ann@okta.local", "bob@okta.local"]),
            team("Partners", &["cy@okta.local", "dana@okta.local"]),
        ],
    )
    .await;

    // Profile update: GET then PUT; the PUT's `groups: []` leaves memberships alone.
    okta_update(&r, &ann, "ann@okta.local", "Annie", "Lee").await;
    r.expect(
        "a profile update",
        vec![
            person("ann@okta.local", "Annie", "Lee"),
            person("bob@okta.local", "Bob", "Ray"),
            person("cy@okta.local", "Cy", "Diaz"),
            person("dana@okta.local", "Dana", "Doe"),
        ],
        vec![
            team("Engineering", &["ann@okta.local", "bob@okta.local"]),
            team("Partners", &["cy@okta.local", "dana@okta.local"]),
        ],
    )
    .await;

    // Membership churn: a mixed remove/add batch, then a full replacement, then a rename.
    okta_membership(
        &r,
        &eng,
        "Engineering",
        "update-membership.json",
        vars!(
            REMOVE_USER_ID = bob,
            ADD_USER_ID = cy,
            ADD_USER_NAME = "cy@okta.local"
        ),
    )
    .await;
    r.expect(
        "a mixed membership batch",
        vec![
            person("ann@okta.local", "Annie", "Lee"),
            person("bob@okta.local", "Bob", "Ray"),
            person("cy@okta.local", "Cy", "Diaz"),
            person("dana@okta.local", "Dana", "Doe"),
        ],
        vec![
            team("Engineering", &["ann@okta.local", "cy@okta.local"]),
            team("Partners", &["cy@okta.local", "dana@okta.local"]),
        ],
    )
    .await;
    okta_membership(
        &r,
        &eng,
        "Engineering",
        "replace-members.json",
        vars!(
            USER_ID = ann,
            USER_NAME = "ann@okta.local",
            OTHER_USER_ID = dana,
            OTHER_USER_NAME = "dana@okta.local"
        ),
    )
    .await;
    r.patch(
        &format!("/Groups/{eng}"),
        "rename-group.json",
        vars!(GROUP_ID = eng, DISPLAY_NAME = "Engineering EMEA"),
        &[204],
    )
    .await;
    r.expect(
        "a full member replacement and a rename",
        vec![
            person("ann@okta.local", "Annie", "Lee"),
            person("bob@okta.local", "Bob", "Ray"),
            person("cy@okta.local", "Cy", "Diaz"),
            person("dana@okta.local", "Dana", "Doe"),
        ],
        vec![
            team("Engineering EMEA", &["ann@okta.local", "dana@okta.local"]),
            team("Partners", &["cy@okta.local", "dana@okta.local"]),
        ],
    )
    .await;

    // Deactivate: the path-less PATCH, and an AIW integration's PUT with active false.
    r.patch(
        &format!("/Users/{ann}"),
        "deactivate-user.json",
        NONE,
        &[204],
    )
    .await;
    r.gone(&ann, "ann@okta.local").await;
    r.put(
        &format!("/Users/{bob}"),
        "put-user-inactive.json",
        vars!(
            USER_ID = bob,
            USER_NAME = "bob@okta.local",
            GIVEN_NAME = "Bob",
            MIDDLE_NAME = "",
            FAMILY_NAME = "Ray"
        ),
        &[200, 204],
    )
    .await;
    r.gone(&bob, "bob@okta.local").await;
    r.expect(
        "two deactivations",
        vec![
            person("cy@okta.local", "Cy", "Diaz"),
            person("dana@okta.local", "Dana", "Doe"),
        ],
        vec![
            team("Engineering EMEA", &["dana@okta.local"]),
            team("Partners", &["cy@okta.local", "dana@okta.local"]),
        ],
    )
    .await;

    // Restore (assigned back): looked up, created again (rule 2), memberships pushed again.
    let ann2 = okta_assign(&r, "ann@okta.local", "Annie", "Lee", "00ujl29u0le5T6Aj10h7").await;
    assert_ne!(ann2, ann);
    okta_membership(
        &r,
        &eng,
        "Engineering EMEA",
        "add-members.json",
        vars!(
            USER_ID = ann2,
            USER_NAME = "ann@okta.local",
            OTHER_USER_ID = dana,
            OTHER_USER_NAME = "dana@okta.local"
        ),
    )
    .await;
    r.expect(
        "the restore",
        vec![
            person("ann@okta.local", "Annie", "Lee"),
            person("cy@okta.local", "Cy", "Diaz"),
            person("dana@okta.local", "Dana", "Doe"),
        ],
        vec![
            team("Engineering EMEA", &["ann@okta.local", "dana@okta.local"]),
            team("Partners", &["cy@okta.local", "dana@okta.local"]),
        ],
    )
    .await;

    // Unassign: Okta never sends DELETE /Users; it deactivates.
    r.patch(
        &format!("/Users/{cy}"),
        "deactivate-user.json",
        NONE,
        &[204],
    )
    .await;
    r.gone(&cy, "cy@okta.local").await;
    // Unlink a pushed group, "Delete the group in the target app".
    r.delete(&format!("/Groups/{eng}"), &[204]).await;
    r.s.get(&format!("/Groups/{eng}"))
        .await
        .assert_error(404, None);
    r.expect(
        "an unassignment and a group unlink",
        vec![
            person("ann@okta.local", "Annie", "Lee"),
            person("dana@okta.local", "Dana", "Doe"),
        ],
        vec![team("Partners", &["dana@okta.local"])],
    )
    .await;
}

#[tokio::test]
async fn okta_in_suspend_mode() {
    let r = Replay::start(OKTA).await;
    r.suspend_mode().await;
    okta_test_credentials(&r).await;
    let ann = okta_assign(&r, "ann@okta.local", "Ann", "Lee", "00ujl29u0le5T6Aj10h7").await;
    let bob = okta_assign(&r, "bob@okta.local", "Bob", "Ray", "00ujl29u0le5T6Aj10h8").await;
    let eng = okta_push(&r, "Engineering").await;
    okta_membership(
        &r,
        &eng,
        "Engineering",
        "add-members.json",
        vars!(
            USER_ID = ann,
            USER_NAME = "ann@okta.local",
            OTHER_USER_ID = bob,
            OTHER_USER_NAME = "bob@okta.local"
        ),
    )
    .await;

    // Deactivate: kept inactive with its memberships, returned by GET and filters.
    r.patch(
        &format!("/Users/{ann}"),
        "deactivate-user.json",
        NONE,
        &[204],
    )
    .await;
    r.kept_inactive(&ann, "ann@okta.local").await;
    let found = r.get(&okta_user_lookup("ann@okta.local"), &[200]).await;
    assert_eq!(listed(&found), [ann.as_str()], "{}", found.text);
    r.expect(
        "a deactivation",
        vec![
            person("ann@okta.local", "Ann", "Lee").inactive(),
            person("bob@okta.local", "Bob", "Ray"),
        ],
        vec![team("Engineering", &["ann@okta.local", "bob@okta.local"])],
    )
    .await;
    // Reactivate by PATCH; memberships are still there.
    r.patch(
        &format!("/Users/{ann}"),
        "reactivate-user.json",
        NONE,
        &[204],
    )
    .await;
    // An AIW integration deactivates by PUT.
    r.put(
        &format!("/Users/{bob}"),
        "put-user-inactive.json",
        vars!(
            USER_ID = bob,
            USER_NAME = "bob@okta.local",
            GIVEN_NAME = "Bob",
            MIDDLE_NAME = "",
            FAMILY_NAME = "Ray"
        ),
        &[200],
    )
    .await;
    r.kept_inactive(&bob, "bob@okta.local").await;
    r.expect(
        "a reactivation and a PUT deactivation",
        vec![
            person("ann@okta.local", "Ann", "Lee"),
            person("bob@okta.local", "Bob", "Ray").inactive(),
        ],
        vec![team("Engineering", &["ann@okta.local", "bob@okta.local"])],
    )
    .await;
    // The group is unlinked and deleted in the target; the users stay.
    r.delete(&format!("/Groups/{eng}"), &[204]).await;
    r.expect(
        "a group unlink",
        vec![
            person("ann@okta.local", "Ann", "Lee"),
            person("bob@okta.local", "Bob", "Ray").inactive(),
        ],
        vec![],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// PingOne
// ---------------------------------------------------------------------------------------------

fn pingone_lookup(user_name: &str) -> String {
    format!(
        "/Users?filter={}",
        enc(&format!("username Eq \"{user_name}\""))
    )
}

/// A user in the rule's scope: looked up with the configured filter, then created.
async fn pingone_provision(
    r: &Replay,
    fixture: &str,
    user_name: &str,
    given: &str,
    family: &str,
) -> String {
    empty(&r.get(&pingone_lookup(user_name), &[200]).await);
    let c = r
        .post(
            "/Users",
            fixture,
            vars!(
                USER_NAME = user_name,
                GIVEN_NAME = given,
                FAMILY_NAME = family
            ),
            &[201],
        )
        .await;
    assert_eq!(c.body["userName"], user_name, "{}", c.text);
    c.id()
}

async fn pingone_put(
    r: &Replay,
    fixture: &str,
    id: &str,
    user_name: &str,
    given: &str,
    family: &str,
    expect: &[u16],
) {
    r.put(
        &format!("/Users/{id}"),
        fixture,
        vars!(
            USER_ID = id,
            USER_NAME = user_name,
            GIVEN_NAME = given,
            FAMILY_NAME = family
        ),
        expect,
    )
    .await;
}

/// The provisioner matches groups by listing them all and comparing names itself.
async fn pingone_find_group(r: &Replay, name: &str) -> Option<String> {
    let all = r.get("/Groups?startIndex=1&count=100", &[200]).await;
    listed(&all);
    all.body["Resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .find(|g| g["displayName"] == name)
        .map(|g| text(g, "id"))
}

async fn pingone_group(r: &Replay, name: &str) -> String {
    assert_eq!(pingone_find_group(r, name).await, None);
    let c = r
        .post(
            "/Groups",
            "create-group.json",
            vars!(DISPLAY_NAME = name),
            &[201],
        )
        .await;
    c.id()
}

#[tokio::test]
async fn pingone_replay() {
    let r = Replay::start(PINGONE).await;
    // A product instance with a role: its product group exists before SCIM starts.
    let inst = body(
        r.s.admin(
            &r.key,
            Method::POST,
            "/tenants/test/instances",
            Some(json!({"name": "App", "product": "app", "roles": ["user"]})),
        )
        .await,
        201,
    );
    let product_group = text(&inst["roles"][0], "group_id");
    let product_name = text(
        &body(
            r.s.admin(
                &r.key,
                Method::GET,
                &format!("/tenants/test/groups/{product_group}"),
                None,
            )
            .await,
            200,
        ),
        "display_name",
    );
    assert!(!product_name.is_empty());

    // Test connection.
    empty(
        &r.get(&pingone_lookup(&format!("{}@example.com", guid())), &[200])
            .await,
    );

    // The rule runs: users in scope are looked up and created; one is disabled in PingOne and
    // provisioned disabled (rule 10).
    let ann = pingone_provision(&r, "create-user.json", "ann@example.com", "Ann", "Lee").await;
    let bob = pingone_provision(&r, "create-user.json", "bob@example.com", "Bob", "Ray").await;
    let cy = pingone_provision(
        &r,
        "create-user-disabled.json",
        "cy@example.com",
        "Cy",
        "Diaz",
    )
    .await;
    assert_eq!(r.s.get_ok(&format!("/Users/{cy}")).await["active"], false);
    // Selected groups: matched by listing, created, members added.
    let eng = pingone_group(&r, "Engineering").await;
    let g = format!("/Groups/{eng}");
    for id in [&ann, &bob] {
        r.patch(&g, "add-member.json", vars!(USER_ID = id), &[204])
            .await;
    }
    // A group named like a product group: refused with a 409 that says why and suggests a
    // prefix (rule 5); renamed in PingOne as suggested, it is created.
    assert_eq!(pingone_find_group(&r, &product_name).await, None, "rule 13");
    let refused = r
        .post(
            "/Groups",
            "create-group.json",
            vars!(DISPLAY_NAME = product_name),
            &[409],
        )
        .await;
    let suggestion = format!("SCIM_{product_name}");
    assert!(
        refused.text.contains(&suggestion),
        "no {suggestion:?} suggestion: {}",
        refused.text
    );
    let app = pingone_group(&r, &suggestion).await;
    r.patch(
        &format!("/Groups/{app}"),
        "add-member.json",
        vars!(USER_ID = ann),
        &[204],
    )
    .await;
    r.expect(
        "the first sync",
        vec![
            person("ann@example.com", "Ann", "Lee"),
            person("bob@example.com", "Bob", "Ray"),
            person("cy@example.com", "Cy", "Diaz").inactive(),
        ],
        vec![
            team("Engineering", &["ann@example.com", "bob@example.com"]),
            team(&suggestion, &["ann@example.com"]),
        ],
    )
    .await;

    // Updates by PUT: a name change, and the disabled user enabled (rule 10).
    pingone_put(
        &r,
        "put-user.json",
        &ann,
        "ann@example.com",
        "Ann",
        "Lee-Smith",
        &[200],
    )
    .await;
    pingone_put(
        &r,
        "put-user.json",
        &cy,
        "cy@example.com",
        "Cy",
        "Diaz",
        &[200],
    )
    .await;
    // Membership churn.
    r.patch(&g, "remove-member.json", vars!(USER_ID = bob), &[204])
        .await;
    r.patch(&g, "add-member.json", vars!(USER_ID = cy), &[204])
        .await;
    r.expect(
        "updates and membership churn",
        vec![
            person("ann@example.com", "Ann", "Lee-Smith"),
            person("bob@example.com", "Bob", "Ray"),
            person("cy@example.com", "Cy", "Diaz"),
        ],
        vec![
            team("Engineering", &["ann@example.com", "cy@example.com"]),
            team(&suggestion, &["ann@example.com"]),
        ],
    )
    .await;

    // The disable deprovisioning action, by PUT: rule 1.
    pingone_put(
        &r,
        "put-user-disabled.json",
        &cy,
        "cy@example.com",
        "Cy",
        "Diaz",
        &[200, 204],
    )
    .await;
    r.gone(&cy, "cy@example.com").await;
    r.expect(
        "a disable",
        vec![
            person("ann@example.com", "Ann", "Lee-Smith"),
            person("bob@example.com", "Bob", "Ray"),
        ],
        vec![
            team("Engineering", &["ann@example.com"]),
            team(&suggestion, &["ann@example.com"]),
        ],
    )
    .await;
    // Back in scope: looked up and created again (rule 2), memberships follow.
    let cy2 = pingone_provision(&r, "create-user.json", "cy@example.com", "Cy", "Diaz").await;
    assert_ne!(cy2, cy);
    r.patch(&g, "add-member.json", vars!(USER_ID = cy2), &[204])
        .await;

    // Deprovision (the configured remove action): DELETE.
    r.delete(&format!("/Users/{ann}"), &[204]).await;
    r.gone(&ann, "ann@example.com").await;
    r.expect(
        "a restore and a deprovision",
        vec![
            person("bob@example.com", "Bob", "Ray"),
            person("cy@example.com", "Cy", "Diaz"),
        ],
        vec![
            team("Engineering", &["cy@example.com"]),
            team(&suggestion, &[]),
        ],
    )
    .await;
    // Deprovision on rule deletion: every provisioned user is deleted.
    for (id, user_name) in [(&bob, "bob@example.com"), (&cy2, "cy@example.com")] {
        r.delete(&format!("/Users/{id}"), &[204]).await;
        r.gone(id, user_name).await;
    }
    r.expect(
        "the rule's deletion",
        vec![],
        vec![team("Engineering", &[]), team(&suggestion, &[])],
    )
    .await;
}

#[tokio::test]
async fn pingone_in_suspend_mode() {
    let r = Replay::start(PINGONE).await;
    r.suspend_mode().await;
    let ann = pingone_provision(&r, "create-user.json", "ann@example.com", "Ann", "Lee").await;
    let eng = pingone_group(&r, "Engineering").await;
    r.patch(
        &format!("/Groups/{eng}"),
        "add-member.json",
        vars!(USER_ID = ann),
        &[204],
    )
    .await;
    pingone_put(
        &r,
        "put-user-disabled.json",
        &ann,
        "ann@example.com",
        "Ann",
        "Lee",
        &[200],
    )
    .await;
    r.kept_inactive(&ann, "ann@example.com").await;
    let found = r.get(&pingone_lookup("ann@example.com"), &[200]).await;
    assert_eq!(ids(&found), [ann.as_str()], "{}", found.text);
    r.expect(
        "a disable",
        vec![person("ann@example.com", "Ann", "Lee").inactive()],
        vec![team("Engineering", &["ann@example.com"])],
    )
    .await;
    pingone_put(
        &r,
        "put-user.json",
        &ann,
        "ann@example.com",
        "Ann",
        "Lee",
        &[200],
    )
    .await;
    r.expect(
        "an enable",
        vec![person("ann@example.com", "Ann", "Lee")],
        vec![team("Engineering", &["ann@example.com"])],
    )
    .await;
    r.delete(&format!("/Users/{ann}"), &[204]).await;
    r.gone(&ann, "ann@example.com").await;
    r.expect("a deprovision", vec![], vec![team("Engineering", &[])])
        .await;
}

// ---------------------------------------------------------------------------------------------
// The fixtures themselves
// ---------------------------------------------------------------------------------------------

#[test]
fn every_fixture_is_json_names_its_public_source_and_is_replayed() {
    let this = include_str!("replay.rs");
    for c in [ENTRA, ENTRA_AADOPT, OKTA, PINGONE] {
        let dir = format!("{FIXTURES}/{}", c.folder);
        let sources = std::fs::read_to_string(format!("{dir}/SOURCES.md"))
            .unwrap_or_else(|e| panic!("{dir}/SOURCES.md: {e}"));
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{dir} has no fixtures");
        for f in &files {
            let raw = std::fs::read_to_string(format!("{dir}/{f}")).unwrap_or_default();
            if let Err(e) = serde_json::from_str::<Value>(&raw) {
                panic!("{dir}/{f} is not JSON as stored: {e}");
            }
            assert!(
                sources
                    .lines()
                    .any(|l| l.contains(&format!("`{f}`")) && l.contains("https://")),
                "{dir}/SOURCES.md names no public source for {f}"
            );
            assert!(
                this.contains(&format!("\"{f}\"")),
                "{dir}/{f} is never replayed"
            );
        }
    }
}

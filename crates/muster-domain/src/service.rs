//! The SCIM use cases, independent of HTTP: what `POST /Users`, `PATCH /Groups/{id}` and
//! friends mean, in terms of the schema engine and the store.

use crate::admin::model::Deactivate;
use crate::model::{GroupRef, Load, MemberRef, Mode, NewResource, Stored, Tenant, Update, class};
use crate::query::{Cond, resolve_filter, resolve_sort};
use crate::rules::{is_email, is_reserved};
use crate::store::{ListQuery, PageReq, Store, StoreError};
use muster_scim::filter::Filter;
use muster_scim::list::{list_response, list_response_text};
use muster_scim::patch::{self, MemberChange};
use muster_scim::projection::Projection;
use muster_scim::resource::{self, Meta};
use muster_scim::schema::{ResourceKind, ResourceType};
use muster_scim::{ScimError, ScimResult};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Server limits, advertised in `/ServiceProviderConfig` and enforced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub default_page_size: u64,
    pub max_page_size: u64,
    pub bulk_max_operations: usize,
    pub bulk_max_payload: usize,
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_page_size: 100,
            max_page_size: 1000,
            bulk_max_operations: 1000,
            bulk_max_payload: 4 * 1024 * 1024,
            max_body: 4 * 1024 * 1024,
        }
    }
}

/// Who is asking, and the base URL their resources' `location`s are relative to.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub tenant: Tenant,
    pub base_url: String,
}

/// A resource as answered: its JSON, ETag and location.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The resource; `Null` when `text` holds it.
    pub body: Value,
    /// The resource as JSON text, written through from its stored text ([`Stored::raw`]).
    pub text: Option<String>,
    pub etag: String,
    pub location: String,
    /// The document before a replace or PATCH (for the audit log; members are not in it).
    pub before: Option<Map<String, Value>>,
    /// What else the change did, for the audit log (a deactivated user deleted, …).
    pub note: Option<&'static str>,
}

impl Rendered {
    /// The resource as JSON text, taken out (its ETag and location stay for the headers).
    pub fn take_text(&mut self) -> String {
        // Writing a `Value` cannot fail: its keys are strings.
        self.text
            .take()
            .unwrap_or_else(|| serde_json::to_string(&self.body).unwrap_or_default())
    }
}

/// Query parameters of a list or `.search`, as sent.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub cursor: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

#[derive(Clone)]
pub struct Scim {
    pub store: Arc<dyn Store>,
    pub limits: Limits,
}

/// Parses an `If-Match` value (a list of entity tags, RFC 9110 §13.1.1): `None` for absent or
/// `*`; tags that are not ours match no version.
pub fn parse_if_match(v: Option<&str>) -> Option<Vec<i64>> {
    let v = v?.trim();
    if v == "*" {
        return None;
    }
    Some(
        v.split(',')
            .map(|t| {
                t.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .parse()
                    .unwrap_or(-1)
            })
            .collect(),
    )
}

/// Runs a store write again (up to 5 times) when the engine aborted it as a serialization
/// conflict, as distributed SQL engines do under contention.
macro_rules! retrying {
    ($call:expr) => {{
        let mut attempt = 0;
        loop {
            match $call.await {
                Err(StoreError::Busy) if attempt < 4 => attempt += 1,
                other => break other,
            }
        }
    }};
}

/// A store error no resource explains: busy or unavailable (503, retry) or a failure (500,
/// logged). The SCIM answer to a lookup outside any resource (a token) as much as to a write.
pub fn store_failure(e: StoreError) -> ScimError {
    match e {
        StoreError::Scim(e) => e,
        StoreError::Busy => ScimError::new(
            503,
            None,
            "the store is busy with conflicting changes; retry",
        ),
        StoreError::Unavailable(msg) => {
            tracing::warn!(error = %msg, "database unavailable");
            ScimError::new(503, None, "the database is unavailable; retry")
        }
        other => {
            tracing::error!(error = %other, "store failure");
            ScimError::internal()
        }
    }
}

/// `items` as a JSON array, each written by `write` as it is consumed; `each` is the bytes
/// reserved per item.
fn json_array<T>(
    items: impl IntoIterator<Item = T, IntoIter: ExactSizeIterator>,
    each: usize,
    mut write: impl FnMut(&mut Vec<u8>, T) -> serde_json::Result<()>,
) -> String {
    let items = items.into_iter();
    let mut out = Vec::with_capacity(2 + items.len() * each);
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing to a Vec cannot fail.
        let _ = write(&mut out, item);
    }
    out.push(b']');
    // serde_json writes UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// One of a group's `members` as SCIM renders it.
#[derive(serde::Serialize)]
struct MemberOut<'a> {
    value: &'a str,
    #[serde(rename = "$ref")]
    r#ref: String,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<&'a str>,
}

impl<'a> MemberOut<'a> {
    fn of(ctx: &Ctx, m: &'a MemberRef) -> Self {
        MemberOut {
            value: &m.id,
            r#ref: Scim::location(ctx, m.kind, &m.id),
            kind: kind_name(m.kind),
            display: m.display.as_deref(),
        }
    }
}

/// One of a user's `groups` as SCIM renders it: direct memberships only.
#[derive(serde::Serialize)]
struct GroupOut<'a> {
    value: &'a str,
    #[serde(rename = "$ref")]
    r#ref: String,
    display: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> GroupOut<'a> {
    fn of(ctx: &Ctx, g: &'a GroupRef) -> Self {
        GroupOut {
            value: &g.id,
            r#ref: Scim::location(ctx, ResourceKind::Group, &g.id),
            display: &g.display,
            kind: "direct",
        }
    }
}

fn kind_name(kind: ResourceKind) -> &'static str {
    ResourceType::of(kind).name
}

impl Scim {
    pub fn new(store: Arc<dyn Store>, limits: Limits) -> Self {
        Scim { store, limits }
    }

    fn map_err(
        &self,
        kind: ResourceKind,
        id: &str,
        e: StoreError,
        data: Option<&Map<String, Value>>,
    ) -> ScimError {
        match e {
            StoreError::NotFound => {
                ScimError::not_found(format!("{} {id} not found", kind_name(kind)))
            }
            StoreError::VersionMismatch => ScimError::precondition_failed(format!(
                "{} {id} has changed since the version in If-Match; read it again",
                kind_name(kind)
            )),
            StoreError::Conflict(field) => {
                let value = data
                    .and_then(|d| d.get(field.as_str()))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                ScimError::uniqueness(format!(
                    "{field} \"{value}\" is already in use in this tenant (compared ignoring case)"
                ))
            }
            e => store_failure(e),
        }
    }

    fn check_create_allowed(ctx: &Ctx, kind: ResourceKind) -> ScimResult<()> {
        if kind == ResourceKind::User && ctx.tenant.mode == Mode::ScimGroups {
            return Err(ScimError::forbidden(
                "this tenant is in 'scim-groups' mode: SCIM manages groups only, and users must already exist in muster",
            ));
        }
        Ok(())
    }

    pub fn location(ctx: &Ctx, kind: ResourceKind, id: &str) -> String {
        format!("{}{}/{id}", ctx.base_url, ResourceType::of(kind).endpoint)
    }

    /// The JSON representation of a stored resource, projected.
    pub fn render(ctx: &Ctx, kind: ResourceKind, mut s: Stored, proj: &Projection) -> Rendered {
        let rt = ResourceType::of(kind);
        let location = Self::location(ctx, kind, &s.id);
        let meta = Meta {
            created: std::mem::take(&mut s.created),
            last_modified: std::mem::take(&mut s.last_modified),
            version: s.version,
            location: location.clone(),
        };
        let etag = resource::etag(s.version);
        // The attributes a store keeps apart (a group's members, a user's groups), in the
        // order rendering adds them. Written through with the stored document, they are JSON
        // text written as they are consumed: a group of 100k members is then never a tree of
        // values. A projection sees them as values.
        let mut extra: Vec<(&str, Value)> = Vec::new();
        if let Some(whole) = proj.whole(rt, kept_apart(kind))
            && let Some(raw) = s.raw.take()
        {
            let mut texts: Vec<(&str, String)> = Vec::new();
            if let Some(members) = s.members.take().filter(|m| !m.is_empty()) {
                texts.push(("members", Self::members_text(ctx, members)));
            }
            if let Some(groups) = s.groups.take().filter(|g| !g.is_empty()) {
                texts.push(("groups", Self::groups_text(ctx, &groups)));
            }
            let keeps = |key: &str| whole.keeps(key);
            if let Ok(text) = resource::render_text(rt, &s.id, &raw, &meta, &texts, &keeps) {
                return Rendered {
                    body: Value::Null,
                    text: Some(text),
                    etag,
                    location,
                    before: None,
                    note: None,
                };
            }
            // Only for a document muster did not write: answered from its value instead.
            s.data = serde_json::from_str(&raw).unwrap_or_default();
            for (name, text) in texts {
                extra.push((name, serde_json::from_str(&text).unwrap_or_default()));
            }
        } else {
            if let Some(raw) = s.raw.take() {
                // Only muster writes stored documents: they are always objects.
                s.data = serde_json::from_str(&raw).unwrap_or_default();
            }
            if let Some(members) = s.members.take().filter(|m| !m.is_empty()) {
                // Consumed as it is rendered: the store's list is freed member by member.
                let list = members
                    .into_iter()
                    .map(|m| serde_json::to_value(MemberOut::of(ctx, &m)).unwrap_or_default())
                    .collect();
                extra.push(("members", Value::Array(list)));
            }
            if let Some(groups) = s.groups.take().filter(|g| !g.is_empty()) {
                let list = groups
                    .iter()
                    .map(|g| serde_json::to_value(GroupOut::of(ctx, g)).unwrap_or_default())
                    .collect();
                extra.push(("groups", Value::Array(list)));
            }
        }
        let mut body = resource::render_owned(rt, &s.id, s.data, &meta);
        if let Some(obj) = body.as_object_mut() {
            let meta = obj.remove("meta");
            for (name, list) in extra {
                obj.insert(name.into(), list);
            }
            if let Some(meta) = meta {
                obj.insert("meta".into(), meta);
            }
        }
        proj.apply(rt, &mut body);
        Rendered {
            body,
            text: None,
            etag,
            location,
            before: None,
            note: None,
        }
    }

    /// A group's `members` as JSON text, written member by member as they are consumed.
    fn members_text(ctx: &Ctx, members: Vec<MemberRef>) -> String {
        json_array(members, ctx.base_url.len() + 120, |out, m| {
            serde_json::to_writer(out, &MemberOut::of(ctx, &m))
        })
    }

    /// A user's `groups` as JSON text.
    fn groups_text(ctx: &Ctx, groups: &[GroupRef]) -> String {
        json_array(groups, ctx.base_url.len() + 120, |out, g| {
            serde_json::to_writer(out, &GroupOut::of(ctx, g))
        })
    }

    fn load_for(kind: ResourceKind, proj: &Projection) -> Load {
        Load {
            members: kind == ResourceKind::Group && proj.wants("members"),
            groups: kind == ResourceKind::User && proj.wants("groups"),
            all_kinds: false,
            raw: false,
        }
    }

    /// [`Self::load_for`] a read answered as stored: when the projection keeps or drops each
    /// top-level attribute whole ([`Projection::whole`]), the document is written through from
    /// its stored text.
    fn load_to_answer(kind: ResourceKind, proj: &Projection) -> Load {
        Load {
            raw: proj
                .whole(ResourceType::of(kind), kept_apart(kind))
                .is_some(),
            ..Self::load_for(kind, proj)
        }
    }

    /// Splits a normalised group body into its document and member ids.
    fn split_members(kind: ResourceKind, data: &mut Map<String, Value>) -> Option<Vec<Value>> {
        if kind != ResourceKind::Group {
            return None;
        }
        match data.remove("members") {
            Some(Value::Array(a)) => Some(a),
            _ => Some(Vec::new()),
        }
    }

    pub async fn create(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        body: &Value,
        proj: &Projection,
    ) -> ScimResult<Rendered> {
        Self::check_create_allowed(ctx, kind)?;
        let rt = ResourceType::of(kind);
        let mut data = resource::normalize(rt, body)?;
        check_names(ctx, kind, None, &data)?;
        let members = Self::split_members(kind, &mut data).unwrap_or_default();
        let ids = member_ids(&members)?;
        let has_members = !ids.is_empty();
        let t = &ctx.tenant.id;
        let created = retrying!(self.store.create(
            t,
            kind,
            NewResource {
                data: data.clone(),
                members: ids.clone(),
                class: class::SCIM.into(),
            },
        ));
        let mut stored = match created {
            Err(StoreError::Conflict(_)) if kind == ResourceKind::User => {
                self.take_over(ctx, &data).await?
            }
            Err(StoreError::Conflict(_)) => return Err(self.group_conflict(ctx, &data).await),
            other => other.map_err(|e| self.map_err(kind, "", e, Some(&data)))?,
        };
        let load = Self::load_for(kind, proj);
        if has_members && load.members {
            stored = self
                .store
                .get(t, kind, &stored.id, load)
                .await
                .map_err(|e| self.map_err(kind, "", e, None))?;
        }
        Ok(Self::render(ctx, kind, stored, proj))
    }

    /// An update's store result, with name clashes of groups explained (rules 4 and 5).
    async fn updated(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        result: Result<Stored, StoreError>,
        data: Option<&Map<String, Value>>,
    ) -> ScimResult<Stored> {
        match (result, data) {
            (Err(StoreError::Conflict(_)), Some(d)) if kind == ResourceKind::Group => {
                Err(self.group_conflict(ctx, d).await)
            }
            (r, _) => r.map_err(|e| self.map_err(kind, id, e, data)),
        }
    }

    /// Product rule 1: a user the identity provider deactivates (active goes from true or
    /// absent to false) is removed from every group and deleted, unless the tenant keeps
    /// deactivated users (`deactivate: suspend`). A user created inactive stays (rule 10).
    async fn after_update(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        now: Option<bool>,
        version: i64,
        r: &mut Rendered,
    ) -> ScimResult<()> {
        let was = r
            .before
            .as_ref()
            .and_then(|m| m.get("active"))
            .and_then(Value::as_bool);
        let deactivated = kind == ResourceKind::User
            && was != Some(false)
            && now == Some(false)
            && ctx.tenant.settings.deactivate == Deactivate::Delete;
        if deactivated {
            // Only the version this deactivation wrote: a reactivation that landed since wins.
            let only = [version];
            match retrying!(self.store.delete(&ctx.tenant.id, kind, id, Some(&only))) {
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(StoreError::VersionMismatch) => return Ok(()),
                Err(e) => return Err(self.map_err(kind, id, e, None)),
            }
            r.note = Some(
                "deactivated: removed from every group and deleted (tenant setting deactivate = delete)",
            );
        }
        Ok(())
    }

    /// Why a group name is taken, in words an IdP administrator can act on: a reserved name,
    /// a product group (rename with a prefix), a custom group (delete or link it), or another
    /// SCIM group.
    async fn group_conflict(&self, ctx: &Ctx, data: &Map<String, Value>) -> ScimError {
        let name = data
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if is_reserved(name) {
            return check_names(ctx, ResourceKind::Group, None, data)
                .err()
                .unwrap_or_else(ScimError::internal);
        }
        let existing = match self.store.group_id_by_name(&ctx.tenant.id, name).await {
            Ok(Some(id)) => self
                .store
                .get(&ctx.tenant.id, ResourceKind::Group, &id, Load::default())
                .await
                .ok(),
            _ => None,
        };
        let class = existing.as_ref().map(|g| g.class.as_str());
        ScimError::uniqueness(match class {
            Some(class::PRODUCT) => format!(
                "\"{name}\" is the name of a product group in muster; give the identity provider's group another name, such as \"SCIM_{name}\", and grant it the same access"
            ),
            Some(class::CUSTOM) => format!(
                "a custom group named \"{name}\" already exists in muster: an administrator must delete it first, or the identity provider can link it by addressing its id ({})",
                existing.as_ref().map(|g| g.id.as_str()).unwrap_or_default()
            ),
            _ => format!(
                "displayName \"{name}\" is already in use in this tenant (compared ignoring case)"
            ),
        })
    }

    /// Product rule 3: a SCIM create whose userName belongs to a `manual` or `jit` user takes
    /// that user over (same id, now `scim`, with the identity provider's attributes). A `scim`
    /// user of that name stays a uniqueness conflict.
    async fn take_over(&self, ctx: &Ctx, data: &Map<String, Value>) -> ScimResult<Stored> {
        let kind = ResourceKind::User;
        let conflict = || {
            self.map_err(
                kind,
                "",
                StoreError::Conflict("userName".into()),
                Some(data),
            )
        };
        let name = data
            .get("userName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let q = ListQuery {
            filter: Some(Cond::name_is(name)),
            sort: None,
            descending: false,
            page: PageReq::Index { start: 1, count: 1 },
            load: Load::default(),
        };
        let page = self
            .store
            .list(&ctx.tenant.id, kind, &q)
            .await
            .map_err(|e| self.map_err(kind, "", e, None))?;
        let Some(existing) = page.items.into_iter().next() else {
            return Err(conflict());
        };
        let mut mutate = |cur: &Stored| {
            if !owned_by_admins(cur) {
                return Err(conflict());
            }
            Ok(Update {
                data: data.clone(),
                members: Vec::new(),
                class: Some(class::SCIM.into()),
            })
        };
        retrying!(self.store.update(
            &ctx.tenant.id,
            kind,
            &existing.id,
            None,
            Load::default(),
            &mut mutate,
        ))
        .map_err(|e| self.map_err(kind, &existing.id, e, Some(data)))
    }

    pub async fn get(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        proj: &Projection,
    ) -> ScimResult<Rendered> {
        let s = self
            .store
            .get(&ctx.tenant.id, kind, id, Self::load_to_answer(kind, proj))
            .await
            .map_err(|e| self.map_err(kind, id, e, None))?;
        visible(kind, &s, id)?;
        Ok(Self::render(ctx, kind, s, proj))
    }

    /// PUT (RFC 7644 §3.5.1): the body replaces every writable attribute, members included.
    pub async fn replace(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        proj: &Projection,
    ) -> ScimResult<Rendered> {
        let rt = ResourceType::of(kind);
        let mut data = resource::normalize(rt, body)?;
        let members = Self::split_members(kind, &mut data);
        let mut changes = Vec::new();
        if let Some(m) = members {
            member_ids(&m)?;
            changes.push(MemberChange::Replace(m));
        }
        let new_data = data.clone();
        let mut before = None;
        let mut mutate = |cur: &Stored| {
            visible(kind, cur, id)?;
            check_names(ctx, kind, Some(&cur.data), &new_data)?;
            before = Some(cur.data.clone());
            Ok(Update {
                data: new_data.clone(),
                members: changes.clone(),
                class: taken_over(cur),
            })
        };
        let if_match = parse_if_match(if_match);
        let result = retrying!(self.store.update(
            &ctx.tenant.id,
            kind,
            id,
            if_match.as_deref(),
            Self::load_for(kind, proj),
            &mut mutate,
        ));
        let s = self.updated(ctx, kind, id, result, Some(&data)).await?;
        let (active, version) = (s.data.get("active").and_then(Value::as_bool), s.version);
        let mut r = Self::render(ctx, kind, s, proj);
        r.before = before;
        self.after_update(ctx, kind, id, active, version, &mut r)
            .await?;
        Ok(r)
    }

    /// PATCH (RFC 7644 §3.5.2). With `proj` the new resource is loaded and rendered; without,
    /// only the new ETag is known (the HTTP layer answers 204).
    pub async fn patch(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        proj: Option<&Projection>,
    ) -> ScimResult<Rendered> {
        let rt = ResourceType::of(kind);
        let ops = patch::parse_request(body)?;
        let mut patched_data: Option<Map<String, Value>> = None;
        let mut before = None;
        let mut mutate = |cur: &Stored| {
            visible(kind, cur, id)?;
            before = Some(cur.data.clone());
            let p = patch::apply(rt, &cur.data, &ops)?;
            check_names(ctx, kind, Some(&cur.data), &p.resource)?;
            for change in &p.members {
                if let MemberChange::Add(m) | MemberChange::Replace(m) = change {
                    member_ids(m)?;
                }
            }
            patched_data = Some(p.resource.clone());
            Ok(Update {
                data: p.resource,
                members: p.members,
                class: taken_over(cur),
            })
        };
        let load = proj.map(|p| Self::load_for(kind, p)).unwrap_or_default();
        let if_match = parse_if_match(if_match);
        let result = retrying!(self.store.update(
            &ctx.tenant.id,
            kind,
            id,
            if_match.as_deref(),
            load,
            &mut mutate,
        ));
        let s = self
            .updated(ctx, kind, id, result, patched_data.as_ref())
            .await?;
        let default = Projection::default();
        let (active, version) = (s.data.get("active").and_then(Value::as_bool), s.version);
        let mut r = Self::render(ctx, kind, s, proj.unwrap_or(&default));
        r.before = before;
        self.after_update(ctx, kind, id, active, version, &mut r)
            .await?;
        Ok(r)
    }

    pub async fn delete(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&str>,
    ) -> ScimResult<Stored> {
        let if_match = parse_if_match(if_match);
        // System and product groups are never SCIM's to delete; a group's class never becomes
        // one of those between this read and the delete.
        if kind == ResourceKind::Group {
            let s = self
                .store
                .get(&ctx.tenant.id, kind, id, Load::default())
                .await
                .map_err(|e| self.map_err(kind, id, e, None))?;
            visible(kind, &s, id)?;
            // Linking takes a custom group over; deleting one the IdP never linked would remove
            // an administrator's group (and its grants) from under them.
            if s.class == class::CUSTOM {
                return Err(ScimError::new(
                    409,
                    None,
                    format!(
                        "group {id} is a custom group of the administrators and not linked to the identity provider: an administrator can delete it, or the identity provider links it by changing it first"
                    ),
                ));
            }
        }
        retrying!(
            self.store
                .delete(&ctx.tenant.id, kind, id, if_match.as_deref())
        )
        .map_err(|e| self.map_err(kind, id, e, None))
    }

    fn page(&self, p: &ListParams) -> ScimResult<PageReq> {
        let int = |name: &str, v: &Option<String>| -> ScimResult<Option<i64>> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
                    ScimError::invalid_value(format!("{name} must be an integer, not \"{s}\""))
                }),
            }
        };
        let count = int("count", &p.count)?
            .map(|c| c.clamp(0, self.limits.max_page_size as i64) as u64)
            .unwrap_or(self.limits.default_page_size.min(self.limits.max_page_size));
        if let Some(cursor) = &p.cursor {
            if p.start_index.is_some() {
                return Err(ScimError::invalid_value(
                    "use either startIndex or cursor, not both",
                ));
            }
            let cursor = if cursor.is_empty() {
                None
            } else {
                Some(cursor.clone())
            };
            return Ok(PageReq::Cursor { cursor, count });
        }
        // RFC 7644 §3.4.2.4: a startIndex below 1 is read as 1.
        let start = int("startIndex", &p.start_index)?.unwrap_or(1).max(1) as u64;
        Ok(PageReq::Index { start, count })
    }

    fn query(
        &self,
        kind: ResourceKind,
        p: &ListParams,
        page: PageReq,
        proj: &Projection,
    ) -> ScimResult<ListQuery> {
        let rt = ResourceType::of(kind);
        let filter = match p.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(f) => Some(resolve_filter(rt, &Filter::parse(f)?)?),
        };
        let filter = if kind == ResourceKind::Group {
            let listed = Cond::scim_listed_groups();
            Some(match filter {
                Some(f) => Cond::And(Box::new(f), Box::new(listed)),
                None => listed,
            })
        } else {
            filter
        };
        let sort = match p.sort_by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(resolve_sort(rt, s)?),
        };
        let descending = match p.sort_order.as_deref().map(str::trim) {
            None | Some("") => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(o) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder must be \"ascending\" or \"descending\", not \"{o}\""
                )));
            }
        };
        Ok(ListQuery {
            filter,
            sort,
            descending,
            page,
            load: Self::load_for(kind, proj),
        })
    }

    /// A list or `.search` of one type, as the JSON text of its ListResponse.
    pub async fn list(&self, ctx: &Ctx, kind: ResourceKind, p: &ListParams) -> ScimResult<String> {
        let rt = ResourceType::of(kind);
        let proj = Projection::parse(
            rt,
            p.attributes.as_deref(),
            p.excluded_attributes.as_deref(),
        );
        let page = self.page(p)?;
        let mut q = self.query(kind, p, page.clone(), &proj)?;
        q.load = Self::load_to_answer(kind, &proj);
        let result = self
            .store
            .list(&ctx.tenant.id, kind, &q)
            .await
            .map_err(|e| self.map_err(kind, "", e, None))?;
        let items: Vec<String> = result
            .items
            .into_iter()
            .map(|s| Self::render(ctx, kind, s, &proj).take_text())
            .collect();
        let start = match page {
            PageReq::Index { start, .. } => Some(start),
            PageReq::Cursor { .. } => None,
        };
        Ok(list_response_text(
            &items,
            result.total,
            start,
            result.next_cursor,
        ))
    }

    /// `POST /.search` at the root (RFC 7644 §3.4.3): users, then groups. A filter that names
    /// attributes only one type has matches nothing of the other type.
    pub async fn search_all(&self, ctx: &Ctx, p: &ListParams) -> ScimResult<Value> {
        if p.cursor.is_some() {
            return Err(ScimError::invalid_value(
                "cursor paging is per resource type: search /Users or /Groups",
            ));
        }
        let PageReq::Index { start, count } = self.page(p)? else {
            return Err(ScimError::internal());
        };
        let mut kinds = Vec::new();
        let mut first_err = None;
        for kind in [ResourceKind::User, ResourceKind::Group] {
            let proj = Projection::parse(
                ResourceType::of(kind),
                p.attributes.as_deref(),
                p.excluded_attributes.as_deref(),
            );
            match self.query(kind, p, PageReq::Index { start: 1, count: 0 }, &proj) {
                Ok(q) => kinds.push((kind, q, proj)),
                Err(e) => first_err = first_err.or(Some(e)),
            }
        }
        if kinds.is_empty() {
            return Err(first_err.unwrap_or_else(ScimError::internal));
        }
        let mut totals = Vec::new();
        for (kind, q, _) in &kinds {
            let r = self
                .store
                .list(&ctx.tenant.id, *kind, q)
                .await
                .map_err(|e| self.map_err(*kind, "", e, None))?;
            totals.push(r.total);
        }
        let total: u64 = totals.iter().sum();
        let mut items = Vec::new();
        let mut offset = start - 1; // into the concatenation
        let mut remaining = count;
        for ((kind, q, proj), n) in kinds.into_iter().zip(totals) {
            if remaining == 0 {
                break;
            }
            if offset >= n {
                offset -= n;
                continue;
            }
            let mut q = q;
            q.page = PageReq::Index {
                start: offset + 1,
                count: remaining,
            };
            let r = self
                .store
                .list(&ctx.tenant.id, kind, &q)
                .await
                .map_err(|e| self.map_err(kind, "", e, None))?;
            remaining -= r.items.len() as u64;
            offset = 0;
            items.extend(
                r.items
                    .into_iter()
                    .map(|s| Self::render(ctx, kind, s, &proj).body),
            );
        }
        Ok(list_response(items, total, Some(start), None))
    }
}

/// The attributes of `kind` a store keeps apart from the document (loaded only when asked):
/// no stored document holds them.
fn kept_apart(kind: ResourceKind) -> &'static [&'static str] {
    match kind {
        ResourceKind::Group => &["members"],
        ResourceKind::User => &["groups"],
    }
}

/// SCIM sees every user, its own groups and the administrators' `custom` groups, which are listed and may be addressed by id, which takes them over (rule 5); the
/// reserved system groups answer 409 naming themselves (rule 4); product groups do not exist
/// for SCIM (rule 13).
fn visible(kind: ResourceKind, s: &Stored, id: &str) -> ScimResult<()> {
    if kind != ResourceKind::Group || s.class == class::SCIM || s.class == class::CUSTOM {
        return Ok(());
    }
    if s.class == class::SYSTEM {
        let doc = s.document();
        let name = doc
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(ScimError::new(
            409,
            None,
            format!(
                "group {id} is the reserved group \"{name}\": it is managed by muster and cannot be read, linked or changed over SCIM; do not assign or push it from the identity provider"
            ),
        ));
    }
    Err(ScimError::not_found(format!(
        "{} {id} not found",
        kind_name(kind)
    )))
}

/// A user an administrator added (`manual`) or that signed in (`jit`).
fn owned_by_admins(s: &Stored) -> bool {
    s.class == class::MANUAL || s.class == class::JIT
}

/// Rules 3 and 5 for updates: the identity provider changing a `manual` or `jit` user, or a
/// `custom` group it addresses by id, takes control of it.
fn taken_over(cur: &Stored) -> Option<String> {
    (owned_by_admins(cur) || cur.class == class::CUSTOM).then(|| class::SCIM.to_string())
}

/// Rules 4 and 11 on a new or changed resource (`current`: before the change). A name that
/// does not change is not checked again, so a setting turned on later does not lock old users.
fn check_names(
    ctx: &Ctx,
    kind: ResourceKind,
    current: Option<&Map<String, Value>>,
    new: &Map<String, Value>,
) -> ScimResult<()> {
    let key = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    let name = new.get(key).and_then(Value::as_str).unwrap_or_default();
    let old = current.and_then(|c| c.get(key)).and_then(Value::as_str);
    if old == Some(name) {
        return Ok(());
    }
    match kind {
        ResourceKind::User if ctx.tenant.settings.require_email_username && !is_email(name) => {
            Err(ScimError::invalid_value(format!(
                "userName must be an email address in this tenant, not \"{name}\" (map the user's email or UPN to userName, or ask an administrator to turn off require_email_username)"
            )))
        }
        ResourceKind::Group if is_reserved(name) => Err(ScimError::uniqueness(format!(
            "\"{name}\" is reserved: the groups Everyone and Admin Center Administrators are managed by muster and cannot be created, renamed to or changed over SCIM; do not assign or push them from the identity provider"
        ))),
        _ => Ok(()),
    }
}

/// Member ids of normalised member objects; every member needs a `value`.
fn member_ids(members: &[Value]) -> ScimResult<Vec<String>> {
    members
        .iter()
        .map(|m| {
            m.get("value")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    ScimError::invalid_value("every member needs a 'value' with the member's id")
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TenantId, class};
    use serde_json::json;

    fn ctx() -> Ctx {
        Ctx {
            tenant: Tenant {
                id: TenantId("t1".into()),
                name: "t".into(),
                mode: Mode::Scim,
                settings: Default::default(),
                created: "2026-01-01T00:00:00Z".into(),
            },
            base_url: "http://h/api/scim/v2".into(),
        }
    }

    fn stored(doc: Value) -> Stored {
        Stored {
            id: "g\"1".into(),
            data: doc.as_object().cloned().unwrap_or_default(),
            raw: None,
            created: "2026-01-01T00:00:00Z".into(),
            last_modified: "2026-01-02T00:00:00Z".into(),
            version: 3,
            members: None,
            groups: None,
            class: class::SCIM.into(),
        }
    }

    /// What is written through as text is, byte for byte, the serialised value a projection
    /// would start from: members and groups included, escapes and missing displays too.
    #[test]
    fn written_through_members_and_groups_are_the_serialised_value() {
        let members = vec![
            MemberRef {
                id: "u\"1".into(),
                kind: ResourceKind::User,
                display: Some("Ann \"A\" \u{e9}\u{1F600}".into()),
            },
            MemberRef {
                id: "g2".into(),
                kind: ResourceKind::Group,
                display: None,
            },
            MemberRef {
                id: "u\\3".into(),
                kind: ResourceKind::User,
                display: Some("tab\there".into()),
            },
        ];
        let groups = vec![GroupRef {
            id: "g\u{7f}".into(),
            display: "Ops/\"x\"".into(),
        }];
        let cases = [
            (
                ResourceKind::Group,
                json!({"displayName": "G", "members": []}),
                Some(members),
                None,
            ),
            (
                ResourceKind::Group,
                json!({"displayName": "G"}),
                Some(Vec::new()),
                None,
            ),
            (
                ResourceKind::User,
                json!({"userName": "a@x", "groups": [], "active": true}),
                None,
                Some(groups),
            ),
        ];
        for (kind, doc, members, groups) in cases {
            let mut by_value = stored(doc.clone());
            by_value.members = members.clone();
            by_value.groups = groups.clone();
            let mut by_text = by_value.clone();
            by_text.raw = Some(doc.to_string());
            by_text.data = Map::new();
            let proj = Projection::default();
            let value = Scim::render(&ctx(), kind, by_value, &proj);
            let text = Scim::render(&ctx(), kind, by_text, &proj);
            assert!(value.text.is_none());
            assert_eq!(text.text, Some(value.body.to_string()), "{kind:?}");
        }
    }
}

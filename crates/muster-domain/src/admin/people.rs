//! Users and groups as administrators manage them. What the identity provider owns stays
//! read-only here (product rule 6): a `scim` user's names, a `scim` group's name, members and
//! existence; `system` and `product` groups are never deleted.

use super::error::{AdminError, AdminResult};
use super::service::{Admin, Who, name_checked};
use super::views::{GroupView, Membership, Page, UserDetail, UserView};
use crate::model::{EVERYONE, Load, NewResource, Stored, Tenant, TenantId, Update, class};
use crate::query::{Cond, resolve_filter};
use crate::store::{ListQuery, PageReq, StoreError};
use muster_scim::filter::Filter;
use muster_scim::patch::MemberChange;
use muster_scim::resource::{fold, normalize};
use muster_scim::schema::{ResourceKind, ResourceType};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

/// The most items one admin list page holds.
pub const MAX_PAGE: u64 = 500;

/// Which users or groups to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    /// A SCIM filter (RFC 7644 §3.4.2.2), e.g. `userName sw "ann"`.
    pub filter: Option<String>,
    /// Users: `scim`, `manual` or `jit`. Groups: `scim`, `custom`, `system` or `product`.
    pub source: Option<String>,
    /// Groups: the same as `source`.
    pub kind: Option<String>,
    /// 1-based index of the first item.
    pub start_index: Option<u64>,
    /// Items per page (at most 500).
    pub count: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// An email address (unique in the tenant, compared ignoring case).
    pub user_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub user_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub active: Option<bool>,
}

fn and(a: Option<Cond>, b: Cond) -> Cond {
    match a {
        Some(a) => Cond::And(Box::new(a), Box::new(b)),
        None => b,
    }
}

fn kind_word(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "user",
        ResourceKind::Group => "group",
    }
}

/// Store "not found" as a sentence naming what was looked for.
fn missing(kind: ResourceKind, id: &str) -> impl FnOnce(StoreError) -> AdminError + '_ {
    move |e| match e {
        StoreError::NotFound => AdminError::not_found(format!("no {} {id}", kind_word(kind))),
        other => other.into(),
    }
}

use crate::rules::is_email as valid_email;
pub(crate) use crate::rules::is_reserved;

impl Admin {
    async fn page(
        &self,
        t: &TenantId,
        kind: ResourceKind,
        filter: Option<Cond>,
        start: Option<u64>,
        count: Option<u64>,
    ) -> AdminResult<(Vec<Stored>, u64, u64)> {
        let start = start.unwrap_or(1).max(1);
        let count = count.unwrap_or(100).min(MAX_PAGE);
        let page = self
            .store
            .list(
                t,
                kind,
                &ListQuery {
                    filter,
                    sort: None,
                    descending: false,
                    page: PageReq::Index { start, count },
                    load: Load::default(),
                },
            )
            .await?;
        Ok((page.items, page.total, start))
    }

    fn list_filter(kind: ResourceKind, f: &ListFilter) -> AdminResult<Option<Cond>> {
        let rt = ResourceType::of(kind);
        let mut cond = match f.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(resolve_filter(rt, &Filter::parse(s)?)?),
        };
        if let Some(c) = f.source.as_deref().or(f.kind.as_deref()) {
            let allowed: &[&str] = match kind {
                ResourceKind::User => &[class::SCIM, class::MANUAL, class::JIT],
                ResourceKind::Group => &[class::SCIM, class::CUSTOM, class::SYSTEM, class::PRODUCT],
            };
            if !allowed.contains(&c) {
                return Err(AdminError::bad_request(format!(
                    "{} must be one of {}",
                    if kind == ResourceKind::User {
                        "source"
                    } else {
                        "kind"
                    },
                    allowed.join(", ")
                )));
            }
            cond = Some(and(cond, Cond::class_is(c)));
        }
        Ok(cond)
    }

    pub async fn list_users(
        &self,
        who: &Who,
        tenant: &str,
        f: &ListFilter,
    ) -> AdminResult<Page<UserView>> {
        let t = self.tenant(who, tenant).await?;
        let cond = Self::list_filter(ResourceKind::User, f)?;
        let (items, total, start) = self
            .page(&t.id, ResourceKind::User, cond, f.start_index, f.count)
            .await?;
        Ok(Page {
            total,
            start_index: start,
            items: items.iter().map(UserView::from).collect(),
        })
    }

    /// A user by id or userName.
    pub(crate) async fn find_user(&self, t: &TenantId, id_or_name: &str) -> AdminResult<Stored> {
        match self
            .store
            .get(t, ResourceKind::User, id_or_name, Load::default())
            .await
        {
            Ok(s) => return Ok(s),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        let (items, _, _) = self
            .page(
                t,
                ResourceKind::User,
                Some(Cond::name_is(id_or_name)),
                None,
                Some(1),
            )
            .await?;
        items
            .into_iter()
            .next()
            .ok_or_else(|| AdminError::not_found(format!("no user {id_or_name}")))
    }

    pub async fn user(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<UserDetail> {
        let t = self.tenant(who, tenant).await?;
        let u = self.find_user(&t.id, id).await?;
        let groups = self
            .store
            .user_groups(&t.id, &u.id)
            .await?
            .into_iter()
            .map(|(g, kind)| Membership {
                id: g.id,
                display_name: g.display,
                kind,
            })
            .collect();
        let access = self.store.effective_access(&t.id, &u.id, None).await?;
        Ok(UserDetail {
            user: UserView::from(&u),
            groups,
            access,
        })
    }

    /// The SCIM document of a user an administrator describes.
    pub(crate) fn user_document(
        t: &Tenant,
        user_name: &str,
        given: Option<&str>,
        family: Option<&str>,
        display: Option<&str>,
        active: bool,
    ) -> AdminResult<Map<String, Value>> {
        let user_name = user_name.trim();
        if t.settings.require_email_username && !valid_email(user_name) {
            return Err(AdminError::bad_request(format!(
                "user_name must be an email address in this tenant, not \"{user_name}\""
            )));
        }
        let mut body = json!({
            "schemas": [muster_scim::schema::USER_SCHEMA],
            "userName": user_name,
            "active": active,
            "emails": [{"value": user_name, "type": "work", "primary": true}],
        });
        let mut name = Map::new();
        if let Some(g) = given.map(str::trim).filter(|s| !s.is_empty()) {
            name.insert("givenName".into(), json!(g));
        }
        if let Some(f) = family.map(str::trim).filter(|s| !s.is_empty()) {
            name.insert("familyName".into(), json!(f));
        }
        if !name.is_empty() {
            body["name"] = Value::Object(name);
        }
        if let Some(d) = display.map(str::trim).filter(|s| !s.is_empty()) {
            body["displayName"] = json!(d);
        }
        Ok(normalize(ResourceType::of(ResourceKind::User), &body)?)
    }

    pub(crate) async fn insert_user(
        &self,
        t: &Tenant,
        data: Map<String, Value>,
        source: &str,
    ) -> AdminResult<Stored> {
        let user_name = data
            .get("userName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.store
            .create(
                &t.id,
                ResourceKind::User,
                NewResource {
                    data,
                    members: Vec::new(),
                    class: source.into(),
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AdminError::conflict(format!(
                    "a user named \"{user_name}\" already exists in this tenant (compared ignoring case)"
                )),
                other => other.into(),
            })
    }

    /// Adds a `manual` user (a collaborator the identity provider does not know).
    pub async fn create_user(
        &self,
        who: &Who,
        tenant: &str,
        new: &NewUser,
    ) -> AdminResult<UserView> {
        let t = self.tenant(who, tenant).await?;
        let data = Self::user_document(
            &t,
            &new.user_name,
            new.given_name.as_deref(),
            new.family_name.as_deref(),
            new.display_name.as_deref(),
            true,
        )?;
        let u = self.insert_user(&t, data, class::MANUAL).await?;
        let view = UserView::from(&u);
        self.changed(
            who,
            Some(&t.id),
            "admin.user.create",
            &u.id,
            None,
            Some(json!(view)),
        );
        Ok(view)
    }

    /// Changes a `manual` or `jit` user; a `scim` user is the identity provider's (rule 6).
    pub async fn update_user(
        &self,
        who: &Who,
        tenant: &str,
        id: &str,
        patch: &UserPatch,
    ) -> AdminResult<UserView> {
        let t = self.tenant(who, tenant).await?;
        let current = self.find_user(&t.id, id).await?;
        let before = UserView::from(&current);
        let mut refusal = None;
        let mut mutate = |cur: &Stored| {
            if cur.class == class::SCIM {
                refusal = Some(AdminError::owned_by_idp(format!(
                    "user {} is provisioned by the identity provider over SCIM: change it there, or the directory drifts from it",
                    cur.id
                )));
                return Err(muster_scim::ScimError::new(
                    409,
                    None,
                    "owned by the identity provider",
                ));
            }
            let v = UserView::from(cur);
            let data = Self::user_document(
                &t,
                patch.user_name.as_deref().unwrap_or(&v.user_name),
                patch.given_name.as_deref().or(v.given_name.as_deref()),
                patch.family_name.as_deref().or(v.family_name.as_deref()),
                patch
                    .display_name
                    .as_deref()
                    .or(cur.data.get("displayName").and_then(Value::as_str)),
                patch.active.unwrap_or(v.active),
            )
            .map_err(|e| {
                let m = e.message.clone();
                refusal = Some(e);
                muster_scim::ScimError::invalid_value(m)
            })?;
            // Keep what an administrator cannot edit here (other emails, addresses, …).
            let mut merged = cur.data.clone();
            for (k, v) in data {
                merged.insert(k, v);
            }
            if patch
                .display_name
                .as_deref()
                .is_some_and(|d| d.trim().is_empty())
            {
                merged.remove("displayName");
            }
            Ok(Update {
                data: merged,
                members: Vec::new(),
                class: None,
            })
        };
        let result = self
            .store
            .update(
                &t.id,
                ResourceKind::User,
                &current.id,
                None,
                Load::default(),
                &mut mutate,
            )
            .await;
        let updated = match result {
            Ok(u) => u,
            Err(_) if refusal.is_some() => return Err(refusal.unwrap_or_else(AdminError::internal)),
            Err(StoreError::Conflict(_)) => {
                return Err(AdminError::conflict(
                    "another user of this tenant has that user_name (compared ignoring case)",
                ));
            }
            Err(e) => return Err(missing(ResourceKind::User, id)(e)),
        };
        let view = UserView::from(&updated);
        self.changed(
            who,
            Some(&t.id),
            "admin.user.update",
            &updated.id,
            Some(json!(before)),
            Some(json!(view)),
        );
        Ok(view)
    }

    /// Removes a `manual` or `jit` user (from every group too).
    pub async fn delete_user(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<()> {
        let t = self.tenant(who, tenant).await?;
        let u = self.find_user(&t.id, id).await?;
        if u.class == class::SCIM {
            return Err(AdminError::owned_by_idp(format!(
                "user {} is provisioned by the identity provider: unassign it there and the identity provider deletes it",
                u.id
            )));
        }
        self.store
            .delete(&t.id, ResourceKind::User, &u.id, None)
            .await
            .map_err(missing(ResourceKind::User, id))?;
        self.store.delete_sessions_of(&t.id, &u.id).await?;
        self.changed(
            who,
            Some(&t.id),
            "admin.user.delete",
            &u.id,
            Some(json!(UserView::from(&u))),
            None,
        );
        Ok(())
    }

    pub async fn list_groups(
        &self,
        who: &Who,
        tenant: &str,
        f: &ListFilter,
    ) -> AdminResult<Page<GroupView>> {
        let t = self.tenant(who, tenant).await?;
        let cond = Self::list_filter(ResourceKind::Group, f)?;
        let (items, total, start) = self
            .page(&t.id, ResourceKind::Group, cond, f.start_index, f.count)
            .await?;
        Ok(Page {
            total,
            start_index: start,
            items: items.iter().map(GroupView::from).collect(),
        })
    }

    pub(crate) async fn find_group(&self, t: &TenantId, id: &str) -> AdminResult<Stored> {
        self.store
            .get(t, ResourceKind::Group, id, Load::default())
            .await
            .map_err(missing(ResourceKind::Group, id))
    }

    pub async fn group(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<GroupView> {
        let t = self.tenant(who, tenant).await?;
        Ok(GroupView::from(&self.find_group(&t.id, id).await?))
    }

    /// A group's members, a page at a time (an index range, whatever the group's size).
    /// Everyone's members are every user of the tenant.
    pub async fn group_members(
        &self,
        who: &Who,
        tenant: &str,
        id: &str,
        start: Option<u64>,
        count: Option<u64>,
    ) -> AdminResult<Page<UserView>> {
        let t = self.tenant(who, tenant).await?;
        let g = self.find_group(&t.id, id).await?;
        let everyone = g.class == class::SYSTEM && is_everyone(&g);
        let cond = (!everyone).then(|| Cond::InGroup(g.id.clone()));
        let (items, total, start) = self
            .page(&t.id, ResourceKind::User, cond, start, count)
            .await?;
        Ok(Page {
            total,
            start_index: start,
            items: items.iter().map(UserView::from).collect(),
        })
    }

    pub async fn create_group(
        &self,
        who: &Who,
        tenant: &str,
        name: &str,
    ) -> AdminResult<GroupView> {
        let t = self.tenant(who, tenant).await?;
        let name = name_checked("display_name", name)?;
        if is_reserved(&name) {
            return Err(AdminError::conflict(format!(
                "\"{name}\" is a reserved group name (Everyone and Admin Center Administrators exist in every tenant)"
            )));
        }
        let data = normalize(
            ResourceType::of(ResourceKind::Group),
            &json!({"schemas": [muster_scim::schema::GROUP_SCHEMA], "displayName": name}),
        )?;
        let g = self
            .store
            .create(
                &t.id,
                ResourceKind::Group,
                NewResource {
                    data,
                    members: Vec::new(),
                    class: class::CUSTOM.into(),
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AdminError::conflict(format!(
                    "a group named \"{name}\" already exists in this tenant (compared ignoring case)"
                )),
                other => other.into(),
            })?;
        let view = GroupView::from(&g);
        self.changed(
            who,
            Some(&t.id),
            "admin.group.create",
            &g.id,
            None,
            Some(json!(view)),
        );
        Ok(view)
    }

    /// Why an administrator may not change this group's name, members or existence.
    fn guard_group(g: &Stored, action: &str) -> AdminResult<()> {
        let name = g
            .data
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match g.class.as_str() {
            class::SCIM => Err(AdminError::owned_by_idp(format!(
                "group \"{name}\" is provisioned by the identity provider: {action} it there, or the directory drifts from it (you can still grant it product access)"
            ))),
            class::SYSTEM if action != "change the members of" || is_everyone(g) => {
                Err(AdminError::conflict(format!(
                    "\"{name}\" is a system group: it cannot {}",
                    match action {
                        "rename" => "be renamed".to_string(),
                        "delete" => "be deleted".to_string(),
                        _ => "have members changed (it contains every user of the tenant)"
                            .to_string(),
                    }
                )))
            }
            class::PRODUCT if action != "change the members of" => {
                Err(AdminError::conflict(format!(
                    "\"{name}\" is a product group: it cannot be {} (it comes with its product instance's role)",
                    if action == "rename" {
                        "renamed"
                    } else {
                        "deleted"
                    }
                )))
            }
            _ => Ok(()),
        }
    }

    pub async fn rename_group(
        &self,
        who: &Who,
        tenant: &str,
        id: &str,
        name: &str,
    ) -> AdminResult<GroupView> {
        let t = self.tenant(who, tenant).await?;
        let name = name_checked("display_name", name)?;
        let g = self.find_group(&t.id, id).await?;
        Self::guard_group(&g, "rename")?;
        if is_reserved(&name) {
            return Err(AdminError::conflict(format!(
                "\"{name}\" is a reserved group name"
            )));
        }
        let before = GroupView::from(&g);
        let mut mutate = |cur: &Stored| {
            let mut data = cur.data.clone();
            data.insert("displayName".into(), json!(name));
            Ok(Update {
                data,
                members: Vec::new(),
                class: None,
            })
        };
        let updated = self
            .store
            .update(
                &t.id,
                ResourceKind::Group,
                &g.id,
                None,
                Load::default(),
                &mut mutate,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AdminError::conflict(format!(
                    "a group named \"{name}\" already exists in this tenant"
                )),
                other => missing(ResourceKind::Group, id)(other),
            })?;
        let view = GroupView::from(&updated);
        self.changed(
            who,
            Some(&t.id),
            "admin.group.rename",
            &g.id,
            Some(json!(before)),
            Some(json!(view)),
        );
        Ok(view)
    }

    pub async fn delete_group(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<()> {
        let t = self.tenant(who, tenant).await?;
        let g = self.find_group(&t.id, id).await?;
        Self::guard_group(&g, "delete")?;
        self.store
            .delete(&t.id, ResourceKind::Group, &g.id, None)
            .await
            .map_err(missing(ResourceKind::Group, id))?;
        for grant in self.store.list_grants(&t.id, Some(&g.id), None).await? {
            self.store.delete_grant(&t.id, &grant.id).await?;
        }
        self.changed(
            who,
            Some(&t.id),
            "admin.group.delete",
            &g.id,
            Some(json!(GroupView::from(&g))),
            None,
        );
        Ok(())
    }

    /// Adds or removes users of a `custom`, `product` or Admin Center Administrators group.
    pub async fn change_members(
        &self,
        who: &Who,
        tenant: &str,
        id: &str,
        add: &[String],
        remove: &[String],
    ) -> AdminResult<GroupView> {
        let t = self.tenant(who, tenant).await?;
        let g = self.find_group(&t.id, id).await?;
        Self::guard_group(&g, "change the members of")?;
        self.apply_members(&t.id, &g.id, add, remove).await?;
        self.changed(
            who,
            Some(&t.id),
            "admin.group.members",
            &g.id,
            None,
            Some(json!({"added": add, "removed": remove})),
        );
        Ok(GroupView::from(&self.find_group(&t.id, &g.id).await?))
    }

    /// Member changes in one transaction; unknown user ids fail the whole change.
    pub(crate) async fn apply_members(
        &self,
        t: &TenantId,
        group: &str,
        add: &[String],
        remove: &[String],
    ) -> AdminResult<()> {
        let mut changes = Vec::new();
        if !add.is_empty() {
            changes.push(MemberChange::Add(
                add.iter().map(|id| json!({"value": id})).collect(),
            ));
        }
        if !remove.is_empty() {
            changes.push(MemberChange::Remove(remove.to_vec()));
        }
        if changes.is_empty() {
            return Ok(());
        }
        let mut mutate = |cur: &Stored| {
            Ok(Update {
                data: cur.data.clone(),
                members: changes.clone(),
                class: None,
            })
        };
        self.store
            .update(
                t,
                ResourceKind::Group,
                group,
                None,
                Load::default(),
                &mut mutate,
            )
            .await
            .map_err(missing(ResourceKind::Group, group))?;
        Ok(())
    }
}

pub(crate) fn is_everyone(g: &Stored) -> bool {
    g.data
        .get("displayName")
        .and_then(Value::as_str)
        .is_some_and(|n| fold(n) == fold(EVERYONE))
}

//! Product access: instances and their roles, grants of roles to groups, a user's effective
//! access (what the organisation's products ask), and JIT sign-in.

use super::error::{AdminError, AdminResult};
use super::model::{Access, Grant, Instance, KeyInfo, KeyScope, Role};
use super::people::is_reserved;
use super::service::{Admin, Who, name_checked};
use super::views::UserView;
use crate::model::{Mode, TenantId, Update, class};
use crate::store::StoreError;
use muster_scim::schema::ResourceKind;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstance {
    /// E.g. "CMS – production".
    pub name: String,
    /// The product it is a deployment of, e.g. "cms".
    pub product: String,
    /// Role names; each gets a product group granted it.
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    pub group_id: String,
    pub instance_id: String,
    /// The role's id or name within the instance.
    pub role: String,
}

/// The claims the SSO front end verified for a sign-in.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JitClaims {
    pub email: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Names of groups the identity provider says the user is in; only groups that already
    /// exist (and are not system groups) are joined.
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JitResult {
    pub user: UserView,
    pub created: bool,
    /// Groups the user was added to by this sign-in.
    pub joined: Vec<String>,
    /// Group names in the claim that do not exist (or may not be joined) and were skipped.
    pub skipped: Vec<String>,
}

/// What the access API answers: a user's roles in one instance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserAccess {
    pub user_id: String,
    pub user_name: String,
    pub active: bool,
    pub instance_id: String,
    pub instance_name: String,
    pub product: String,
    /// Role names, each once, sorted.
    pub roles: Vec<String>,
    /// Each role with the group it comes through.
    pub grants: Vec<Access>,
}

impl Admin {
    async fn instance_of(&self, t: &TenantId, id: &str) -> AdminResult<Instance> {
        self.store
            .instance(t, id)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("no product instance {id}")))
    }

    pub async fn instances(&self, who: &Who, tenant: &str) -> AdminResult<Vec<Instance>> {
        let t = self.tenant(who, tenant).await?;
        Ok(self.store.list_instances(&t.id).await?)
    }

    pub async fn instance(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<Instance> {
        let t = self.tenant(who, tenant).await?;
        self.instance_of(&t.id, id).await
    }

    pub async fn create_instance(
        &self,
        who: &Who,
        tenant: &str,
        new: &NewInstance,
    ) -> AdminResult<Instance> {
        let t = self.tenant(who, tenant).await?;
        let name = name_checked("name", &new.name)?;
        let product = name_checked("product", &new.product)?;
        let mut roles = Vec::new();
        for r in &new.roles {
            let r = name_checked("a role name", r)?;
            if !roles
                .iter()
                .any(|x: &String| muster_scim::resource::fold(x) == muster_scim::resource::fold(&r))
            {
                roles.push(r);
            }
        }
        let inst = self
            .store
            .create_instance(&t.id, &name, &product, &roles)
            .await
            .map_err(conflict_words)?;
        self.changed(
            who,
            Some(&t.id),
            "admin.instance.create",
            &inst.id,
            None,
            Some(json!(inst)),
        );
        Ok(inst)
    }

    pub async fn delete_instance(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<()> {
        let t = self.tenant(who, tenant).await?;
        let inst = self.instance_of(&t.id, id).await?;
        self.store.delete_instance(&t.id, &inst.id).await?;
        self.changed(
            who,
            Some(&t.id),
            "admin.instance.delete",
            &inst.id,
            Some(json!(inst)),
            None,
        );
        Ok(())
    }

    pub async fn add_role(
        &self,
        who: &Who,
        tenant: &str,
        instance: &str,
        name: &str,
    ) -> AdminResult<Role> {
        let t = self.tenant(who, tenant).await?;
        let name = name_checked("name", name)?;
        let inst = self.instance_of(&t.id, instance).await?;
        let role = self
            .store
            .add_role(&t.id, &inst.id, &name)
            .await
            .map_err(conflict_words)?;
        self.changed(
            who,
            Some(&t.id),
            "admin.role.create",
            &role.id,
            None,
            Some(json!({"instance_id": inst.id, "role": role})),
        );
        Ok(role)
    }

    pub async fn delete_role(
        &self,
        who: &Who,
        tenant: &str,
        instance: &str,
        role: &str,
    ) -> AdminResult<()> {
        let t = self.tenant(who, tenant).await?;
        let inst = self.instance_of(&t.id, instance).await?;
        if !self.store.delete_role(&t.id, &inst.id, role).await? {
            return Err(AdminError::not_found(format!(
                "no role {role} in this instance"
            )));
        }
        self.changed(who, Some(&t.id), "admin.role.delete", role, None, None);
        Ok(())
    }

    pub async fn grants(
        &self,
        who: &Who,
        tenant: &str,
        group: Option<&str>,
        instance: Option<&str>,
    ) -> AdminResult<Vec<Grant>> {
        let t = self.tenant(who, tenant).await?;
        Ok(self.store.list_grants(&t.id, group, instance).await?)
    }

    /// Grants a role to any group, `scim` groups included (rule 6 allows it).
    pub async fn create_grant(&self, who: &Who, tenant: &str, g: &NewGrant) -> AdminResult<Grant> {
        let t = self.tenant(who, tenant).await?;
        let inst = self.instance_of(&t.id, &g.instance_id).await?;
        let role = inst
            .roles
            .iter()
            .find(|r| {
                r.id == g.role
                    || muster_scim::resource::fold(&r.name) == muster_scim::resource::fold(&g.role)
            })
            .ok_or_else(|| {
                AdminError::not_found(format!(
                    "instance \"{}\" has no role \"{}\"",
                    inst.name, g.role
                ))
            })?;
        let group = self.find_group(&t.id, &g.group_id).await?;
        let grant = self.store.create_grant(&t.id, &group.id, &role.id).await?;
        self.changed(
            who,
            Some(&t.id),
            "admin.grant.create",
            &grant.id,
            None,
            Some(json!(grant)),
        );
        Ok(grant)
    }

    pub async fn delete_grant(&self, who: &Who, tenant: &str, id: &str) -> AdminResult<()> {
        let t = self.tenant(who, tenant).await?;
        let before = self
            .store
            .list_grants(&t.id, None, None)
            .await?
            .into_iter()
            .find(|g| g.id == id)
            .ok_or_else(|| AdminError::not_found(format!("no grant {id}")))?;
        self.store.delete_grant(&t.id, id).await?;
        self.changed(
            who,
            Some(&t.id),
            "admin.grant.delete",
            id,
            Some(json!(before)),
            None,
        );
        Ok(())
    }

    pub async fn user_access(
        &self,
        who: &Who,
        tenant: &str,
        user: &str,
    ) -> AdminResult<Vec<Access>> {
        let t = self.tenant(who, tenant).await?;
        let u = self.find_user(&t.id, user).await?;
        Ok(self.store.effective_access(&t.id, &u.id, None).await?)
    }

    /// The access API: a user's roles in the instance the key belongs to.
    pub async fn access_for_key(&self, key: &KeyInfo, user: &str) -> AdminResult<UserAccess> {
        let (KeyScope::Access, Some(t), Some(instance)) = (
            key.scope,
            key.tenant_id.as_ref(),
            key.instance_id.as_deref(),
        ) else {
            return Err(AdminError::unauthorized(
                "the access API needs a product instance's access key",
            ));
        };
        let inst = self.instance_of(t, instance).await?;
        let u = self.find_user(t, user).await?;
        let grants = self
            .store
            .effective_access(t, &u.id, Some(&inst.id))
            .await?;
        let mut roles: Vec<String> = grants.iter().map(|g| g.role_name.clone()).collect();
        roles.sort();
        roles.dedup();
        let v = UserView::from(&u);
        Ok(UserAccess {
            user_id: u.id,
            user_name: v.user_name,
            active: v.active,
            instance_id: inst.id,
            instance_name: inst.name,
            product: inst.product,
            roles,
            grants,
        })
    }

    /// A sign-in through SSO in a `jit` tenant: creates or updates the `jit` user and adds it to
    /// the existing groups its claims name. Never removes a membership, never joins a system
    /// group, and is refused when SCIM provisions the tenant.
    pub async fn jit_signin(
        &self,
        who: &Who,
        tenant: &str,
        c: &JitClaims,
    ) -> AdminResult<JitResult> {
        let t = self.tenant(who, tenant).await?;
        if t.mode != Mode::Jit {
            return Err(AdminError::conflict(format!(
                "tenant '{}' is in '{}' mode: users come from the identity provider over SCIM, so JIT creation at sign-in is off (switch the tenant to 'jit' mode to use it)",
                t.name,
                t.mode.as_str()
            )));
        }
        let existing = match self.find_user(&t.id, c.email.trim()).await {
            Ok(u) => Some(u),
            Err(e) if e.status == 404 => None,
            Err(e) => return Err(e),
        };
        let (user, created) = match existing {
            None => {
                let data = Self::user_document_for(&t, c)?;
                (self.insert_user(&t, data, class::JIT).await?, true)
            }
            Some(u) if u.class == class::SCIM => (u, false),
            Some(u) => {
                let data = Self::user_document_for(&t, c)?;
                let mut mutate = |cur: &crate::model::Stored| {
                    let mut merged = cur.data.clone();
                    // A sign-in never changes userName, nor turns on a user an administrator
                    // turned off.
                    for (k, v) in data.clone() {
                        if k != "userName" && k != "active" {
                            merged.insert(k, v);
                        }
                    }
                    Ok(Update {
                        data: merged,
                        members: Vec::new(),
                        class: None,
                    })
                };
                let u = self
                    .store
                    .update(
                        &t.id,
                        ResourceKind::User,
                        &u.id,
                        None,
                        Default::default(),
                        &mut mutate,
                    )
                    .await?;
                (u, false)
            }
        };
        let mut joined = Vec::new();
        let mut skipped = Vec::new();
        let mine: Vec<String> = self
            .store
            .user_groups(&t.id, &user.id)
            .await?
            .into_iter()
            .map(|(g, _)| g.id)
            .collect();
        for name in &c.groups {
            let group = if is_reserved(name) {
                None
            } else {
                match self.store.group_id_by_name(&t.id, name).await? {
                    Some(id) => Some(self.find_group(&t.id, &id).await?),
                    None => None,
                }
            };
            match group {
                Some(g) if g.class != class::SYSTEM => {
                    if !mine.contains(&g.id) {
                        self.apply_members(&t.id, &g.id, std::slice::from_ref(&user.id), &[])
                            .await?;
                        joined.push(name.clone());
                    }
                }
                _ => skipped.push(name.clone()),
            }
        }
        let view = UserView::from(&user);
        self.changed(
            who,
            Some(&t.id),
            "admin.jit.signin",
            &user.id,
            None,
            Some(json!({"user": view, "created": created, "joined": joined})),
        );
        Ok(JitResult {
            user: view,
            created,
            joined,
            skipped,
        })
    }

    fn user_document_for(
        t: &crate::model::Tenant,
        c: &JitClaims,
    ) -> AdminResult<serde_json::Map<String, Value>> {
        Self::user_document(
            t,
            &c.email,
            c.given_name.as_deref(),
            c.family_name.as_deref(),
            None,
            true,
        )
    }
}

/// Unique-name violations of instances and roles, in words.
fn conflict_words(e: StoreError) -> AdminError {
    match e {
        StoreError::Conflict(what) => {
            AdminError::conflict(format!("{what} is already in use in this tenant"))
        }
        other => other.into(),
    }
}

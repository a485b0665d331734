//! A change to a group's members alone, as one statement, where the engine runs statements
//! that modify data inside `WITH` ([`Backend::DATA_MODIFYING_CTES`]: PostgreSQL).
//!
//! The general update locks the group by bumping its version, changes the members, and
//! commits: `BEGIN`, `UPDATE … RETURNING`, the member statement, `COMMIT`, four round trips and
//! four statements for the database to start and end. An IdP's membership PATCH (Okta's 100 a
//! request, Entra's adds and removes) changes nothing else. So the group is read, the change
//! computed from what was read, and one statement in autocommit bumps the version only if it is
//! still the one read (and, for an add, only if every member exists) and changes the members
//! in the same breath. When the version has moved meanwhile, nothing is written and the general
//! path runs instead.

use crate::exec::{Backend, Ty, internal};
use crate::sql::Sql;
use crate::store::{
    CHUNK, SqlStore, distinct_ids, listed_ids, member_kinds, not_itself, now, push_delete_listed,
    unknown_member,
};
use muster_domain::model::{Load, Stored, Update};
use muster_domain::store::{Mutation, StoreError, StoreResult};
use muster_scim::patch::MemberChange;
use muster_scim::schema::ResourceKind;

type S<B> = Sql<<B as Backend>::D>;

/// The one change this path takes: members added or removed by id, at most one chunk.
enum Change {
    Add(Vec<String>),
    Remove(Vec<String>),
}

impl Change {
    /// `update`'s change when it is to `current`'s members alone and fits one statement.
    fn of(current: &Stored, update: &Update) -> Option<Change> {
        let same_class = update.class.as_ref().is_none_or(|c| *c == current.class);
        if update.data != current.data || !same_class {
            return None;
        }
        let change = match update.members.as_slice() {
            [MemberChange::Add(members)] => Change::Add(distinct_ids(members)),
            [MemberChange::Remove(ids)] => Change::Remove(ids.clone()),
            _ => return None,
        };
        let n = match &change {
            Change::Add(ids) | Change::Remove(ids) => ids.len(),
        };
        (n > 0 && n <= CHUNK).then_some(change)
    }
}

impl<B: Backend> SqlStore<B> {
    /// The update of group `id` when it is a change to its members alone, in one statement;
    /// `None` when it is not, or when the group changed since it was read: the caller then runs
    /// the general update (which asks `mutate` again).
    pub(crate) async fn members_alone(
        &self,
        t: &muster_domain::model::TenantId,
        id: &str,
        if_match: Option<&[i64]>,
        load: Load,
        mutate: Mutation<'_>,
    ) -> StoreResult<Option<Stored>> {
        if !B::DATA_MODIFYING_CTES {
            return Ok(None);
        }
        let (seq, mut current) = {
            let mut conn = self.backend.read().await?;
            Self::find(
                &mut conn,
                t,
                ResourceKind::Group,
                id,
                false,
                Load::default(),
            )
            .await?
            .ok_or(StoreError::NotFound)?
        };
        if if_match.is_some_and(|v| !v.contains(&current.version)) {
            return Err(StoreError::VersionMismatch);
        }
        let update = mutate(&current).map_err(StoreError::Scim)?;
        let Some(change) = Change::of(&current, &update) else {
            return Ok(None);
        };
        if let Change::Add(ids) = &change {
            not_itself(id, ids)?;
        }
        let modified = now();
        let sql = one_statement::<B>(t, id, seq, current.version, &modified, &change);
        // Remembered list totals are stale from here on, as after any write.
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut conn = self.backend.write_one().await?;
        let mut rows = conn.rows(&sql, &[Ty::Int, Ty::OptText]).await?;
        let mut row = rows
            .pop()
            .ok_or_else(|| internal("the membership statement returned no row"))?;
        if let Some(missing) = row.opt_text(1)? {
            return Err(unknown_member(&missing));
        }
        if row.int(0)? == 0 {
            // Changed or deleted since it was read: the general path decides.
            return Ok(None);
        }
        drop(conn);
        current.version += 1;
        current.last_modified = modified;
        self.loaded(t, ResourceKind::Group, id, current, load)
            .await
            .map(Some)
    }
}

/// `WITH …, g AS (the version's bump), … SELECT <groups bumped>, <first unknown member>`.
fn one_statement<B: Backend>(
    t: &muster_domain::model::TenantId,
    group: &str,
    seq: i64,
    version: i64,
    modified: &str,
    change: &Change,
) -> S<B> {
    let bump = |sql: &mut S<B>, guard: &str| {
        sql.push(", g AS (UPDATE groups SET version = version + 1, last_modified = ")
            .text(modified)
            .push(" WHERE seq = ")
            .int(seq)
            .push(" AND version = ")
            .int(version)
            .push(guard)
            .push(" RETURNING seq)");
    };
    match change {
        Change::Add(ids) => {
            // `k`: each id with its kind, NULL for an unknown one, which stops the whole write.
            let mut sql = member_kinds::<B>(t, ids);
            bump(
                &mut sql,
                " AND NOT EXISTS (SELECT 1 FROM k WHERE kind IS NULL)",
            );
            sql.push(", i AS (INSERT INTO group_members (tenant_id, group_id, member_id, member_kind) SELECT ")
                .text(t.0.clone())
                .push(", ")
                .text(group)
                .push(", k.id, k.kind FROM k, g WHERE k.kind IS NOT NULL ORDER BY k.ord ON CONFLICT DO NOTHING) ")
                .push("SELECT (SELECT count(*) FROM g), (SELECT id FROM k WHERE kind IS NULL ORDER BY ord LIMIT 1)");
            sql
        }
        Change::Remove(ids) => {
            let mut sql = listed_ids::<B>(ids);
            bump(&mut sql, "");
            sql.push(", d AS (");
            push_delete_listed::<B>(&mut sql, t, group);
            sql.push(" AND EXISTS (SELECT 1 FROM g)) SELECT (SELECT count(*) FROM g), NULL");
            sql
        }
    }
}

//! Memberships: the one answer to "is this profile a member of this
//! workspace, with what role", the rules of roles, and the members listing.

use sea_orm::{
    sea_query::Order, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use entity::{
    membership::{self, Role},
    workspace,
};

use super::{
    ids::{ProfileId, WorkspaceId},
    paging::{Key, Keyset, Page, PageRequest},
};
use crate::error::{Error, Reason, Result};

/// The managers of a workspace are its owner and its admins: they manage
/// its invitations and members (workspace settings stay the owner's).
pub fn is_manager(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}

/// Whether a member with role `by` may grant `role` through an invitation:
/// `OWNER` never (there is one, its creator), `ADMIN` only by a manager.
pub fn may_grant(by: Role, role: Role) -> Result<()> {
    match role {
        Role::Owner => Err(Error::bad_input(
            Reason::InvalidRole,
            "An invitation grants ADMIN or MEMBER, never OWNER",
        )),
        Role::Admin if !is_manager(by) => Err(Error::Forbidden {
            reason: Some(Reason::RoleNotGrantable),
            message: "Only the owner and admins may invite an admin".into(),
        }),
        _ => Ok(()),
    }
}

/// A profile's membership of a workspace, with the workspace.
#[derive(Debug, Clone)]
pub struct Membership {
    pub workspace: workspace::Model,
    pub role: Role,
}

/// The membership of `profile` in `workspace`, if any, in one statement.
/// Every "may this person act here" question starts from this.
pub async fn membership(
    db: &impl ConnectionTrait,
    workspace: WorkspaceId,
    profile: ProfileId,
) -> Result<Option<Membership>> {
    let found = membership::Entity::find_by_id((workspace.0, profile.0))
        .find_also_related(workspace::Entity)
        .one(db)
        .await?;
    Ok(match found {
        Some((m, Some(workspace))) => Some(Membership {
            workspace,
            role: m.role,
        }),
        _ => None,
    })
}

/// Roles for these `(workspace, profile)` pairs, for batching; pairs that
/// are not memberships are absent.
pub async fn roles(
    db: &impl ConnectionTrait,
    pairs: &[(WorkspaceId, ProfileId)],
) -> Result<Vec<((WorkspaceId, ProfileId), Role)>> {
    let rows = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.is_in(pairs.iter().map(|p| p.0 .0)))
        .filter(membership::Column::ProfileId.is_in(pairs.iter().map(|p| p.1 .0)))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            (
                (WorkspaceId(m.workspace_id), ProfileId(m.profile_id)),
                m.role,
            )
        })
        // The query is over the two id sets, so it may return more.
        .filter(|(pair, _)| pairs.contains(pair))
        .collect())
}

/// Which of `targets` the viewer may see as a `Member` from outside any one
/// workspace (a federated `Member` entity): those sharing a workspace with
/// the viewer, and those who created an invitation the viewer may view (as
/// its creator, its recipient at `viewer_email`, or a manager of its
/// workspace). Two statements for any number of targets.
pub async fn seen_by(
    db: &impl ConnectionTrait,
    viewer: ProfileId,
    viewer_email: &str,
    targets: &[ProfileId],
) -> Result<Vec<ProfileId>> {
    use sea_orm::{Condition, QuerySelect, QueryTrait};
    let mine = |managed: bool| {
        let q = membership::Entity::find()
            .select_only()
            .column(membership::Column::WorkspaceId)
            .filter(membership::Column::ProfileId.eq(viewer.0));
        let q = if managed {
            q.filter(membership::Column::Role.is_in([Role::Owner, Role::Admin]))
        } else {
            q
        };
        q.into_query()
    };
    let ids = targets.iter().map(|t| t.0);
    let mut seen: Vec<ProfileId> = membership::Entity::find()
        .filter(membership::Column::ProfileId.is_in(ids.clone()))
        .filter(membership::Column::WorkspaceId.in_subquery(mine(false)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| ProfileId(m.profile_id))
        .collect();
    let creators: Vec<uuid::Uuid> = entity::invitation::Entity::find()
        .select_only()
        .column(entity::invitation::Column::CreatorId)
        .distinct()
        .filter(entity::invitation::Column::CreatorId.is_in(ids))
        .filter(
            Condition::any()
                .add(entity::invitation::Column::CreatorId.eq(viewer.0))
                .add(entity::invitation::Column::Email.eq(viewer_email))
                .add(entity::invitation::Column::WorkspaceId.in_subquery(mine(true))),
        )
        .into_tuple()
        .all(db)
        .await?;
    seen.extend(creators.into_iter().map(ProfileId));
    seen.sort_unstable();
    seen.dedup();
    Ok(seen)
}

const BY_JOINED: Keyset<membership::Entity> = Keyset {
    at: membership::Column::Created,
    id: membership::Column::ProfileId,
    natural: Order::Asc,
    key_of: |m| Key {
        at: m.created,
        id: m.profile_id,
    },
};

fn of_workspace(workspace: WorkspaceId) -> sea_orm::Select<membership::Entity> {
    membership::Entity::find().filter(membership::Column::WorkspaceId.eq(workspace.0))
}

/// A page of a workspace's members with their roles, oldest first (so the
/// owner first).
pub async fn page(
    db: &impl ConnectionTrait,
    workspace: WorkspaceId,
    req: &PageRequest,
) -> Result<Page<(ProfileId, Role)>> {
    Ok(BY_JOINED
        .fetch(db, of_workspace(workspace), req)
        .await?
        .map(|m| (ProfileId(m.profile_id), m.role)))
}

pub async fn count(db: &impl ConnectionTrait, workspace: WorkspaceId) -> Result<u64> {
    Ok(of_workspace(workspace).count(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managers_are_the_owner_and_admins() {
        assert!(is_manager(Role::Owner) && is_manager(Role::Admin));
        assert!(!is_manager(Role::Member));
    }

    #[test]
    fn owner_is_never_granted_and_admin_only_by_a_manager() {
        assert!(matches!(
            may_grant(Role::Owner, Role::Owner),
            Err(Error::BadUserInput {
                reason: Reason::InvalidRole,
                ..
            })
        ));
        assert!(matches!(
            may_grant(Role::Member, Role::Admin),
            Err(Error::Forbidden {
                reason: Some(Reason::RoleNotGrantable),
                ..
            })
        ));
        assert!(may_grant(Role::Admin, Role::Admin).is_ok());
        assert!(may_grant(Role::Member, Role::Member).is_ok());
    }
}

//! A workspace's members and their roles: the owner changes roles;
//! managers remove members (an admin not the owner or another admin);
//! anyone may leave but the owner. A membership ends as a withdrawn
//! accepted invitation ends it (`invitations::departure`).

use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};

use entity::{
    membership::{self, Role},
    workspace,
};

use super::{
    caller::Caller,
    ids::{ProfileId, WorkspaceId},
    invitations::departure,
    members, now,
};
use crate::error::{Error, Reason, Result};

/// `updateMemberRole`: the owner makes a member an admin or a plain member.
pub async fn update_member_role(
    db: &impl ConnectionTrait,
    caller: &Caller,
    workspace: WorkspaceId,
    profile: ProfileId,
    role: Role,
) -> Result<Role> {
    let mine = members::membership(db, workspace, caller.id())
        .await?
        .ok_or(Error::NotFound("workspace"))?;
    let theirs = members::membership(db, workspace, profile)
        .await?
        .ok_or(Error::NotFound("member"))?;
    if mine.role != Role::Owner {
        return Err(Error::forbidden(
            "Only the workspace owner may change roles",
        ));
    }
    if role == Role::Owner {
        return Err(Error::bad_input(
            Reason::InvalidRole,
            "A member can be made ADMIN or MEMBER; the owner is its creator",
        ));
    }
    if theirs.role == Role::Owner {
        return Err(Error::conflict(
            Reason::OwnerRoleFixed,
            "The owner's role cannot change",
        ));
    }
    membership::Entity::update_many()
        .col_expr(membership::Column::Role, Expr::value(role))
        .filter(membership::Column::WorkspaceId.eq(workspace.0))
        .filter(membership::Column::ProfileId.eq(profile.0))
        .exec(db)
        .await?;
    Ok(role)
}

/// `removeMember`: returns the workspace.
pub async fn remove_member<C>(
    db: &C,
    caller: &Caller,
    workspace: WorkspaceId,
    profile: ProfileId,
) -> Result<workspace::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mine = members::membership(db, workspace, caller.id())
        .await?
        .ok_or(Error::NotFound("workspace"))?;
    let theirs = members::membership(db, workspace, profile)
        .await?
        .ok_or(Error::NotFound("member"))?;
    if profile == caller.id() {
        if mine.role == Role::Owner {
            return Err(Error::conflict(
                Reason::OwnerCannotLeave,
                "The owner cannot leave the workspace (delete it instead)",
            ));
        }
    } else {
        match (mine.role, theirs.role) {
            (Role::Owner, _) | (Role::Admin, Role::Member) => {}
            (Role::Admin, _) => {
                return Err(Error::forbidden(
                    "An admin may remove members, not the owner or another admin",
                ))
            }
            (Role::Member, _) => {
                return Err(Error::forbidden(
                    "Only the owner and admins may remove members",
                ))
            }
        }
    }
    let txn = db.begin().await?;
    departure::end(&txn, workspace, profile, Some(caller.id()), now()).await?;
    txn.commit().await?;
    Ok(mine.workspace)
}

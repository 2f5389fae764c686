//! The four invitation mutations of the SPEC's table, each with its
//! permission rule. Each writes its rows, and the email's outbox row, in one
//! transaction.

use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, Set, SqlErr, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use entity::{
    invitation::{self, InvitationStatus as Status},
    membership::{self, Role},
    profile,
};

use super::{
    queries::{load, reload},
    state::{self, Step},
};
use crate::delivery::outbox::{self, EMAILS};
use crate::domain::{
    caller::Caller,
    ids::{InvitationId, ProfileId, WorkspaceId},
    members, now, profiles,
    rate_limit::{self, RateLimits},
    values::EmailAddress,
};
use crate::error::{Error, Input, Reason, Result};

/// `createInvitation`: one transaction writes the `PENDING` invitation and
/// its outbox email.
pub async fn create<C>(
    db: &C,
    caller: &Caller,
    workspace: WorkspaceId,
    email: Input<EmailAddress>,
    limits: &RateLimits,
) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let ws = members::membership(db, workspace, caller.id())
        .await?
        .ok_or(Error::NotFound("workspace"))?
        .workspace;
    let email = email?;
    if !ws.domains.0.iter().any(|d| d == email.domain()) {
        return Err(Error::bad_input(
            Reason::DomainNotAllowed,
            format!("{} is not one of this workspace's domains", email.domain()),
        ));
    }
    if is_member_email(db, workspace, email.as_str()).await? {
        return Err(Error::conflict(
            Reason::AlreadyMember,
            "Someone with this email is already a member",
        ));
    }

    let now = now();
    let txn = db.begin().await?;
    let inserted = invitation::ActiveModel {
        id: Set(Uuid::new_v4()),
        created: Set(now),
        last_modified: Set(now),
        status: Set(Status::Pending),
        email: Set(email.into_string()),
        creator_id: Set(caller.id().0),
        workspace_id: Set(workspace.0),
    }
    .insert(&txn)
    .await;
    // The partial unique index is the rule: one PENDING per (workspace,
    // email), whatever runs concurrently.
    let inv = match inserted {
        Ok(inv) => inv,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(Error::conflict(
                Reason::AlreadyInvited,
                "This email already has a pending invitation to this workspace",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // Counted with the invitation: a refused or rolled-back one costs nothing.
    rate_limit::take_invitation(&txn, limits, caller.id(), workspace, now).await?;
    outbox::enqueue(&txn, &EMAILS, inv.id).await?;
    txn.commit().await?;
    Ok(inv)
}

async fn is_member_email(
    db: &impl ConnectionTrait,
    workspace: WorkspaceId,
    email: &str,
) -> Result<bool> {
    Ok(membership::Entity::find()
        .inner_join(profile::Entity)
        .filter(membership::Column::WorkspaceId.eq(workspace.0))
        .filter(profile::Column::Email.eq(email))
        .one(db)
        .await?
        .is_some())
}

/// `acceptInvitation`: a conditional update plus an idempotent membership
/// insert, so of concurrent accepts one makes the change and all return the
/// same `ACCEPTED` invitation.
pub async fn accept<C>(db: &C, caller: &Caller, id: InvitationId) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (inv, standing) = load(db, caller, id).await?;
    standing.require_recipient()?;
    if !caller.email_verified {
        return Err(Error::Forbidden {
            reason: Some(Reason::EmailNotVerified),
            message: "Verify your email address before accepting".into(),
        });
    }
    if state::accept(inv.status)? == Step::Unchanged {
        return Ok(inv);
    }

    let txn = db.begin().await?;
    if !transition(&txn, &inv, Status::Accepted).await? {
        // Someone else moved it first: report the state it is in now.
        txn.rollback().await?;
        let now_is = reload(db, id).await?;
        state::accept(now_is.status)?;
        return Ok(now_is);
    }
    let workspace = WorkspaceId(inv.workspace_id);
    // Already a member by another path: nothing more to grant.
    membership::Entity::insert(membership::ActiveModel {
        workspace_id: Set(workspace.0),
        profile_id: Set(caller.id().0),
        role: Set(Role::Member),
        created: Set(now()),
        invitation_id: Set(Some(inv.id)),
    })
    .on_conflict_do_nothing_on([
        membership::Column::WorkspaceId,
        membership::Column::ProfileId,
    ])
    .exec_without_returning(&txn)
    .await?;
    profiles::default_if_unset(&txn, caller.id(), workspace).await?;
    let accepted = reload(&txn, id).await?;
    txn.commit().await?;
    Ok(accepted)
}

/// `withdrawInvitation`: `PENDING` or `ACCEPTED` -> `REVOKED`; an accepted
/// one also ends the membership it granted.
pub async fn withdraw<C>(db: &C, caller: &Caller, id: InvitationId) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (mut inv, standing) = load(db, caller, id).await?;
    standing.require_manager()?;
    // Retried only when a concurrent accept moved it under us.
    for _ in 0..3 {
        if state::withdraw(inv.status) == Step::Unchanged {
            return Ok(inv);
        }
        let txn = db.begin().await?;
        if !transition(&txn, &inv, Status::Revoked).await? {
            txn.rollback().await?;
            inv = reload(db, id).await?;
            continue;
        }
        outbox::cancel_unsent(&txn, &EMAILS, &[inv.id]).await?;
        if inv.status == Status::Accepted {
            end_granted_membership(&txn, WorkspaceId(inv.workspace_id), id).await?;
        }
        let revoked = reload(&txn, id).await?;
        txn.commit().await?;
        return Ok(revoked);
    }
    Err(Error::internal(format!(
        "invitation {id} kept changing while being withdrawn"
    )))
}

/// `deleteInvitation`: only `PENDING` or `REVOKED` ones, with their email.
pub async fn delete<C>(db: &C, caller: &Caller, id: InvitationId) -> Result<InvitationId>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (inv, standing) = load(db, caller, id).await?;
    standing.require_manager()?;
    state::delete(inv.status)?;
    let txn = db.begin().await?;
    outbox::delete_for(&txn, &EMAILS, &[id.0]).await?;
    let deleted = invitation::Entity::delete_many()
        .filter(invitation::Column::Id.eq(id.0))
        .filter(invitation::Column::Status.is_in([Status::Pending, Status::Revoked]))
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted == 0 {
        // Accepted (or deleted) meanwhile.
        txn.rollback().await?;
        state::delete(reload(db, id).await?.status)?;
        return Err(Error::NotFound("invitation"));
    }
    txn.commit().await?;
    Ok(id)
}

/// Moves `inv` to `to` if it is still in the state we read; `false` when a
/// concurrent request changed it first.
async fn transition(
    db: &impl ConnectionTrait,
    inv: &invitation::Model,
    to: Status,
) -> Result<bool> {
    let result = invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(to))
        .col_expr(invitation::Column::LastModified, Expr::value(now()))
        .filter(invitation::Column::Id.eq(inv.id))
        .filter(invitation::Column::Status.eq(inv.status))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends the membership an accepted invitation granted, and revokes the
/// `PENDING` invitations that member had sent for the workspace.
async fn end_granted_membership(
    db: &impl ConnectionTrait,
    workspace: WorkspaceId,
    invitation: InvitationId,
) -> Result<()> {
    let Some(granted) = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(workspace.0))
        .filter(membership::Column::InvitationId.eq(invitation.0))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let member = ProfileId(granted.profile_id);
    membership::Entity::delete_by_id((workspace.0, member.0))
        .exec(db)
        .await?;

    let theirs: Vec<Uuid> = invitation::Entity::find()
        .select_only()
        .column(invitation::Column::Id)
        .filter(invitation::Column::WorkspaceId.eq(workspace.0))
        .filter(invitation::Column::CreatorId.eq(member.0))
        .filter(invitation::Column::Status.eq(Status::Pending))
        .into_tuple()
        .all(db)
        .await?;
    if !theirs.is_empty() {
        invitation::Entity::update_many()
            .col_expr(invitation::Column::Status, Expr::value(Status::Revoked))
            .col_expr(invitation::Column::LastModified, Expr::value(now()))
            .filter(invitation::Column::Id.is_in(theirs.iter().copied()))
            .filter(invitation::Column::Status.eq(Status::Pending))
            .exec(db)
            .await?;
        outbox::cancel_unsent(db, &EMAILS, &theirs).await?;
    }
    profiles::clear_default(db, workspace, Some(member)).await?;
    Ok(())
}

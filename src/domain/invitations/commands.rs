//! The invitation mutations but creation (`creation`), each with its
//! permission rule. Each writes its
//! rows, its history events and any email's outbox row in one transaction,
//! and moves an invitation only from the state it read (a concurrent change
//! makes the loser read again and answer from the new state).

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, SqlErr,
    TransactionSession, TransactionTrait, UpdateMany,
};
use std::time::Duration;
use uuid::Uuid;

use entity::{
    invitation::{self, InvitationStatus as Status},
    invitation_event::EventKind,
    membership,
};

use super::{
    departure,
    expiry::{self, Scope},
    history::{self, NewEvent},
    queries::{load, reload},
    state::{self, Step},
};
use crate::delivery::outbox::{self, EMAILS};
use crate::domain::{
    caller::Caller,
    ids::{InvitationId, WorkspaceId},
    now, profiles,
    rate_limit::{self, RateLimits},
};
use crate::error::{Error, Reason, Result};

/// Resends an invitation may have, in all.
pub const MAX_RESENDS: i32 = 5;

fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn require_verified(caller: &Caller) -> Result<()> {
    if caller.email_verified {
        Ok(())
    } else {
        Err(Error::Forbidden {
            reason: Some(Reason::EmailNotVerified),
            message: "Verify your email address before answering an invitation".into(),
        })
    }
}

/// `acceptInvitation`: a conditional update plus an idempotent membership
/// insert with the invitation's role, so of concurrent accepts one makes
/// the change and all return the same `ACCEPTED` invitation.
pub async fn accept<C>(db: &C, caller: &Caller, id: InvitationId) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (inv, standing) = load(db, caller, id).await?;
    standing.require_recipient()?;
    require_verified(caller)?;
    if state::accept(inv.status)? == Step::Unchanged {
        return Ok(inv);
    }

    let now = now();
    let txn = db.begin().await?;
    if !transition(&txn, &inv, Status::Accepted, now).await? {
        // Someone else moved it first (or it expired): the state it is in.
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
        role: Set(inv.role),
        created: Set(now),
        invitation_id: Set(Some(inv.id)),
    })
    .on_conflict_do_nothing_on([
        membership::Column::WorkspaceId,
        membership::Column::ProfileId,
    ])
    .exec_without_returning(&txn)
    .await?;
    profiles::default_if_unset(&txn, caller.id(), workspace).await?;
    history::record(
        &txn,
        vec![NewEvent::new(&inv, EventKind::Accepted, now).by(caller.id())],
    )
    .await?;
    let accepted = reload(&txn, id).await?;
    txn.commit().await?;
    Ok(accepted)
}

/// `declineInvitation`: its recipient refuses a `PENDING` or `EXPIRED`
/// invitation; its unsent email is cancelled.
pub async fn decline<C>(db: &C, caller: &Caller, id: InvitationId) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (mut inv, standing) = load(db, caller, id).await?;
    standing.require_recipient()?;
    require_verified(caller)?;
    for _ in 0..3 {
        if state::decline(inv.status)? == Step::Unchanged {
            return Ok(inv);
        }
        let now = now();
        let txn = db.begin().await?;
        if !transition(&txn, &inv, Status::Declined, now).await? {
            txn.rollback().await?;
            inv = reload(db, id).await?;
            continue;
        }
        history::record(
            &txn,
            vec![NewEvent::new(&inv, EventKind::Declined, now).by(caller.id())],
        )
        .await?;
        cancel_emails(&txn, std::slice::from_ref(&inv), now).await?;
        let declined = reload(&txn, id).await?;
        txn.commit().await?;
        return Ok(declined);
    }
    Err(Error::internal(format!(
        "invitation {id} kept changing while being declined"
    )))
}

/// `withdrawInvitation`: `PENDING`, `ACCEPTED` or `EXPIRED` -> `REVOKED`;
/// an accepted one also ends the membership it granted.
pub async fn withdraw<C>(db: &C, caller: &Caller, id: InvitationId) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (mut inv, standing) = load(db, caller, id).await?;
    standing.require_manager()?;
    // Retried only when a concurrent change moved it under us.
    for _ in 0..3 {
        if state::withdraw(inv.status) == Step::Unchanged {
            return Ok(inv);
        }
        let now = now();
        let txn = db.begin().await?;
        if !transition(&txn, &inv, Status::Revoked, now).await? {
            txn.rollback().await?;
            inv = reload(db, id).await?;
            continue;
        }
        history::record(
            &txn,
            vec![NewEvent::new(&inv, EventKind::Revoked, now).by(caller.id())],
        )
        .await?;
        cancel_emails(&txn, std::slice::from_ref(&inv), now).await?;
        if inv.status == Status::Accepted {
            departure::end_granted_by(
                &txn,
                WorkspaceId(inv.workspace_id),
                id,
                Some(caller.id()),
                now,
            )
            .await?;
        }
        let revoked = reload(&txn, id).await?;
        txn.commit().await?;
        return Ok(revoked);
    }
    Err(Error::internal(format!(
        "invitation {id} kept changing while being withdrawn"
    )))
}

/// `deleteInvitation`: any but an `ACCEPTED` one, with its emails and its
/// history.
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
        .filter(invitation::Column::Status.ne(Status::Accepted))
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

/// What a resend may do, and how often.
#[derive(Debug, Clone, Copy)]
pub struct ResendLimits {
    pub cooldown: Duration,
    pub rate: RateLimits,
}

/// `resendInvitation`: a `PENDING` or `EXPIRED` invitation is `PENDING`
/// again with the same link, its clock stopped until the next send. A
/// queued email is made due now; otherwise a new one is queued.
pub async fn resend<C>(
    db: &C,
    caller: &Caller,
    id: InvitationId,
    limits: &ResendLimits,
) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (inv, standing) = load(db, caller, id).await?;
    standing.require_manager()?;
    state::resend(inv.status)?;
    if inv.resends >= MAX_RESENDS {
        return Err(Error::conflict(
            Reason::ResendLimit,
            format!("An invitation is sent again at most {MAX_RESENDS} times"),
        ));
    }
    let now = now();
    if let Some(last) = inv.last_resent_at {
        let cooldown = chrono::Duration::from_std(limits.cooldown).unwrap_or_default();
        let free_at = last + cooldown;
        if free_at > now {
            let retry_after = ((free_at - now).num_milliseconds().max(1) as u64).div_ceil(1000);
            return Err(Error::RateLimited {
                retry_after_secs: retry_after,
                message: format!(
                    "This invitation was sent again moments ago; try again in {retry_after} s"
                ),
            });
        }
    }

    let txn = db.begin().await?;
    if inv.status == Status::Expired {
        expiry::materialize(&txn, Scope::One(id), now).await?;
    }
    let moved = moving(&inv, Status::Pending, now)
        .col_expr(
            invitation::Column::ExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(invitation::Column::Resends, Expr::value(inv.resends + 1))
        .col_expr(invitation::Column::LastResentAt, Expr::value(Some(now)))
        // Of concurrent resends, one.
        .filter(invitation::Column::Resends.eq(inv.resends))
        .exec(&txn)
        .await;
    match moved {
        Ok(r) if r.rows_affected == 1 => {}
        Ok(_) => {
            // A concurrent change came first: answer from the state now.
            txn.rollback().await?;
            let now_is = reload(db, id).await?;
            state::resend(now_is.status)?;
            return Err(Error::RateLimited {
                retry_after_secs: limits.cooldown.as_secs().max(1),
                message: "This invitation was sent again moments ago".into(),
            });
        }
        Err(e) if is_unique_violation(&e) => return Err(super::creation::already_invited()),
        Err(e) => return Err(e.into()),
    }
    rate_limit::take_invitation(
        &txn,
        &limits.rate,
        caller.id(),
        WorkspaceId(inv.workspace_id),
        now,
    )
    .await?;
    if !outbox::hurry_queued(&txn, &EMAILS, inv.id).await? {
        outbox::enqueue(&txn, &EMAILS, inv.id).await?;
    }
    history::record(
        &txn,
        vec![NewEvent::new(&inv, EventKind::Resent, now).by(caller.id())],
    )
    .await?;
    let resent = reload(&txn, id).await?;
    txn.commit().await?;
    Ok(resent)
}

/// The update that moves `inv` to `to` if it is still in the state it was
/// read in (as of `now`: a pending one that expired meanwhile is not
/// pending any more).
fn moving(
    inv: &invitation::Model,
    to: Status,
    now: DateTime<Utc>,
) -> UpdateMany<invitation::Entity> {
    invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(to))
        .col_expr(invitation::Column::LastModified, Expr::value(now))
        .filter(invitation::Column::Id.eq(inv.id))
        .filter(state::is(inv.status, now))
}

/// Moves `inv` to `to` if it is still in the state it was read in; `false`
/// when a concurrent change came first. Leaving `EXPIRED`, the expiry is
/// written down first, so the history has it.
pub(super) async fn transition(
    db: &impl ConnectionTrait,
    inv: &invitation::Model,
    to: Status,
    now: DateTime<Utc>,
) -> Result<bool> {
    if inv.status == Status::Expired {
        expiry::materialize(db, Scope::One(InvitationId(inv.id)), now).await?;
    }
    Ok(moving(inv, to, now).exec(db).await?.rows_affected == 1)
}

/// Cancels the unsent emails of these invitations, with their events.
pub(super) async fn cancel_emails(
    db: &impl ConnectionTrait,
    invitations: &[invitation::Model],
    now: DateTime<Utc>,
) -> Result<()> {
    let ids: Vec<Uuid> = invitations.iter().map(|i| i.id).collect();
    let cancelled = outbox::cancel_unsent(db, &EMAILS, &ids).await?;
    history::record(
        db,
        invitations
            .iter()
            .filter(|i| cancelled.contains(&i.id))
            .map(|i| NewEvent::new(i, EventKind::EmailCancelled, now))
            .collect(),
    )
    .await
}

//! A membership ends (its accepted invitation withdrawn, or the member
//! removed or leaving), always the same way, in the caller's transaction:
//! the membership goes, the accepted invitation that granted it becomes
//! `REVOKED`, the `PENDING` invitations that member created there are
//! revoked (a removed member's invitations stop working) with their unsent
//! emails, and the workspace stops being the member's default.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::{
    invitation::{self, InvitationStatus as Status},
    invitation_event::EventKind,
    membership,
};

use super::{
    commands::{cancel_emails, transition},
    history::{self, NewEvent},
    state,
};
use crate::domain::{
    ids::{InvitationId, ProfileId, WorkspaceId},
    profiles,
};
use crate::error::Result;

/// Ends the membership `invitation` granted, if it still stands.
pub(crate) async fn end_granted_by(
    db: &impl ConnectionTrait,
    workspace: WorkspaceId,
    invitation: InvitationId,
    by: Option<ProfileId>,
    now: DateTime<Utc>,
) -> Result<()> {
    let granted = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(workspace.0))
        .filter(membership::Column::InvitationId.eq(invitation.0))
        .one(db)
        .await?;
    match granted {
        Some(m) => end(db, workspace, ProfileId(m.profile_id), by, now).await,
        None => Ok(()),
    }
}

/// Ends `member`'s membership of `workspace`; `by` is who ended it (none:
/// the system).
pub(crate) async fn end(
    db: &impl ConnectionTrait,
    workspace: WorkspaceId,
    member: ProfileId,
    by: Option<ProfileId>,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(m) = membership::Entity::find_by_id((workspace.0, member.0))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    membership::Entity::delete_by_id((workspace.0, member.0))
        .exec(db)
        .await?;

    // The invitation that granted it (already revoked when this is its
    // withdrawal).
    if let Some(granting) = m.invitation_id {
        let found = invitation::Entity::find_by_id(granting).one(db).await?;
        if let Some(inv) = found.filter(|i| i.status == Status::Accepted) {
            if transition(db, &inv, Status::Revoked, now).await? {
                let event = NewEvent::new(&inv, EventKind::Revoked, now);
                history::record(db, vec![by.map_or(event.clone(), |b| event.by(b))]).await?;
            }
        }
    }

    // The member's own pending invitations, revoked by the system.
    let theirs = invitation::Entity::find()
        .filter(invitation::Column::WorkspaceId.eq(workspace.0))
        .filter(invitation::Column::CreatorId.eq(member.0))
        .filter(state::is(Status::Pending, now))
        .all(db)
        .await?;
    let mut events = Vec::new();
    for inv in &theirs {
        if transition(db, inv, Status::Revoked, now).await? {
            events.push(NewEvent::new(inv, EventKind::Revoked, now));
        }
    }
    history::record(db, events).await?;
    cancel_emails(db, &theirs, now).await?;

    profiles::clear_default(db, workspace, Some(member)).await?;
    Ok(())
}

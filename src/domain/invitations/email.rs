//! An invitation's email: what it says (read for the delivery worker), what
//! each attempt means for the invitation (its history, its clock), and how
//! its delivery went (read for `emailDelivery`).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

use entity::{
    email_outbox,
    invitation::{self, InvitationStatus},
    invitation_event::EventKind,
};

use super::{
    expiry,
    history::{self, NewEvent},
};
use crate::delivery::outbox::Recorded;

use crate::domain::{
    ids::{self, InvitationId},
    profiles, workspaces,
};
use crate::error::Result;

/// The facts one invitation email is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailFacts {
    pub invitation_id: Uuid,
    /// Only a `PENDING` invitation's email is sent.
    pub status: InvitationStatus,
    pub recipient: String,
    pub creator_name: String,
    pub creator_email: String,
    pub workspace_name: String,
}

/// The facts for several invitations, in three statements, by invitation
/// id; an invitation that is gone is absent.
pub async fn email_facts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, EmailFacts>> {
    let invs = invitation::Entity::find()
        .filter(invitation::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let creators: HashMap<_, _> =
        profiles::by_ids(db, &ids::distinct(&invs, |i| ids::ProfileId(i.creator_id)))
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let workspaces: HashMap<_, _> = workspaces::by_ids(
        db,
        &ids::distinct(&invs, |i| ids::WorkspaceId(i.workspace_id)),
    )
    .await?
    .into_iter()
    .map(|w| (w.id, w))
    .collect();
    Ok(invs
        .into_iter()
        .filter_map(|i| {
            let creator = creators.get(&i.creator_id)?;
            let ws = workspaces.get(&i.workspace_id)?;
            Some((
                i.id,
                EmailFacts {
                    invitation_id: i.id,
                    status: i.status,
                    recipient: i.email,
                    creator_name: creator.name.clone(),
                    creator_email: creator.email.clone(),
                    workspace_name: ws.name.clone(),
                },
            ))
        })
        .collect())
}

/// The newest email of each of these invitations (after a resend there
/// are several), for batching.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    invitations: &[InvitationId],
) -> Result<HashMap<InvitationId, email_outbox::Model>> {
    let rows = email_outbox::Entity::find()
        .filter(email_outbox::Column::InvitationId.is_in(invitations.iter().map(|i| i.0)))
        .order_by_asc(email_outbox::Column::Created)
        .order_by_asc(email_outbox::Column::Id)
        .all(db)
        .await?;
    // Oldest first, so the newest is kept.
    Ok(rows
        .into_iter()
        .map(|o| (InvitationId(o.invitation_id), o))
        .collect())
}

/// What an attempt at an invitation's email means for the invitation, in
/// the transaction that records the attempt: its history event, and, for
/// the first email sent since it was (re)sent, the start of its clock.
pub async fn attempted(
    db: &impl ConnectionTrait,
    invitation: InvitationId,
    recorded: Recorded,
    at: DateTime<Utc>,
    error: Option<&str>,
) -> Result<()> {
    let Some(inv) = invitation::Entity::find_by_id(invitation.0).one(db).await? else {
        return Ok(());
    };
    let event = match recorded {
        Recorded::Sent => {
            expiry::start_clock(db, invitation, at).await?;
            NewEvent::new(&inv, EventKind::EmailSent, at)
        }
        Recorded::RetryAt(_) => NewEvent::new(&inv, EventKind::EmailAttemptFailed, at),
        Recorded::Failed => NewEvent::new(&inv, EventKind::EmailFailed, at),
        Recorded::Cancelled => NewEvent::new(&inv, EventKind::EmailCancelled, at),
    };
    let event = match error {
        Some(e) => event.detail(e),
        None => event,
    };
    history::record(db, vec![event]).await
}

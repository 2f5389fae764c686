//! Each invitation's history: one row per thing that happened to it,
//! written in the transaction of the change it records, so the history
//! never tells of a change that was rolled back. The one source the
//! history listing, subscriptions and webhooks read.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use entity::invitation_event::{self as event, EventKind};

use crate::domain::ids::{self, InvitationId, ProfileId};
use crate::domain::webhooks;
use crate::error::Result;

/// One thing that happened to an invitation.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub invitation: Uuid,
    pub workspace: Uuid,
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    /// Who acted; `None` for the system.
    pub actor: Option<ProfileId>,
    pub detail: Option<String>,
}

impl NewEvent {
    pub fn new(invitation: &entity::invitation::Model, kind: EventKind, at: DateTime<Utc>) -> Self {
        Self {
            invitation: invitation.id,
            workspace: invitation.workspace_id,
            kind,
            at,
            actor: None,
            detail: None,
        }
    }

    pub fn by(mut self, actor: ProfileId) -> Self {
        self.actor = Some(actor);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into().chars().take(1000).collect());
        self
    }

    fn row(self) -> event::ActiveModel {
        event::ActiveModel {
            id: NotSet,
            invitation_id: Set(self.invitation),
            workspace_id: Set(self.workspace),
            at: Set(self.at),
            kind: Set(self.kind),
            actor_id: Set(self.actor.map(|a| a.0)),
            detail: Set(self.detail),
        }
    }
}

/// Writes events, in the caller's transaction, with a delivery to each
/// webhook that wants them (so call it after the change it records: the
/// delivery's body shows the invitation as it is then).
pub async fn record(db: &impl ConnectionTrait, events: Vec<NewEvent>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let workspaces = ids::distinct(&events, |e| e.workspace);
    let hooks = webhooks::listening(db, &workspaces).await?;
    let rows = events.into_iter().map(NewEvent::row);
    if hooks.is_empty() {
        event::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    } else {
        let written = event::Entity::insert_many(rows)
            .exec_with_returning(db)
            .await?;
        webhooks::enqueue(db, &hooks, &written).await?;
    }
    Ok(())
}

/// The histories of these invitations, each oldest first (for batching:
/// an invitation's history is short).
pub async fn of_invitations(
    db: &impl ConnectionTrait,
    ids: &[InvitationId],
) -> Result<Vec<event::Model>> {
    Ok(event::Entity::find()
        .filter(event::Column::InvitationId.is_in(ids.iter().map(|i| i.0)))
        .order_by_asc(event::Column::At)
        .order_by_asc(event::Column::Id)
        .all(db)
        .await?)
}

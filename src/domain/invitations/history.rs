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

use crate::domain::ids::{InvitationId, ProfileId};
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

/// Writes events, in the caller's transaction.
pub async fn record(db: &impl ConnectionTrait, events: Vec<NewEvent>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    event::Entity::insert_many(events.into_iter().map(NewEvent::row))
        .exec_without_returning(db)
        .await?;
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

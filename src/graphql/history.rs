//! `InvitationEvent`: what happened to an invitation, from its history.

use async_graphql::{Context, Enum, Object, ID};
use std::sync::Arc;

use entity::invitation_event as event;

use super::{
    invitation::Invitation,
    member::Member,
    page::{connection_type, PageArgs},
    scalars::DateTime,
};
use crate::domain::{
    ids::{ProfileId, WorkspaceId},
    paging::{Key, Page},
};
use crate::error::Result;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "event::EventKind")]
pub(crate) enum InvitationEventKind {
    Created,
    EmailSent,
    EmailAttemptFailed,
    EmailFailed,
    EmailCancelled,
    Resent,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

#[derive(Clone)]
pub(crate) struct InvitationEvent {
    event: Arc<event::Model>,
    invitation: Invitation,
}

connection_type!(
    InvitationEvent,
    InvitationEventConnection,
    InvitationEventEdge
);

impl InvitationEvent {
    pub(crate) fn new(event: event::Model, invitation: Invitation) -> Self {
        Self {
            event: Arc::new(event),
            invitation,
        }
    }

    /// An event's place in its invitation's history (oldest first).
    fn key(e: &event::Model) -> Key {
        Key {
            at: e.at,
            id: uuid::Uuid::from_u64_pair(0, e.id as u64),
        }
    }
}

/// One page of an invitation's history (all of which is loaded, being
/// short), oldest first.
pub(crate) fn page(
    events: &[event::Model],
    invitation: &Invitation,
    args: &PageArgs,
    listing: &str,
) -> Result<Page<InvitationEvent>> {
    let req = args.parse(listing)?;
    let after = req.after;
    let (before, rest): (Vec<&event::Model>, Vec<&event::Model>) = events
        .iter()
        .partition(|e| after.is_some_and(|k| (e.at, e.id as u64) <= (k.at, k.id.as_u64_pair().1)));
    let limit = req.limit as usize;
    Ok(Page {
        has_previous: !before.is_empty(),
        has_next: rest.len() > limit,
        items: rest
            .into_iter()
            .take(limit)
            .map(|e| {
                (
                    InvitationEvent::key(e),
                    InvitationEvent::new(e.clone(), invitation.clone()),
                )
            })
            .collect(),
    })
}

#[Object]
impl InvitationEvent {
    async fn id(&self) -> ID {
        ID(self.event.id.to_string())
    }

    async fn at(&self) -> DateTime {
        self.event.at.into()
    }

    async fn kind(&self) -> InvitationEventKind {
        self.event.kind.into()
    }

    /// Who acted; null for the system.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<Member>> {
        let Some(actor) = self.event.actor_id else {
            return Ok(None);
        };
        let ws = WorkspaceId(self.event.workspace_id);
        Ok(Some(Member::load_in(ctx, ProfileId(actor), ws).await?))
    }

    async fn detail(&self) -> Option<&str> {
        self.event.detail.as_deref()
    }

    async fn invitation(&self) -> &Invitation {
        &self.invitation
    }
}

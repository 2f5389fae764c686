//! `Subscription.invitationEvents`: each new history event the viewer may
//! hear of, from the live feed. Visibility is the domain's, checked at
//! each event against the invitation the feed read once for all of this
//! process's subscribers (and the viewer's role, read once per viewer and
//! event, only when being creator or recipient does not settle it); nested
//! fields load through the socket's dataloaders, whose
//! caches are emptied before each event so a socket open for hours never
//! serves what it read an hour ago.

use async_graphql::{Context, Subscription, ID};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::{
    context::{caller, data, db, Listening},
    history::InvitationEvent,
    invitation::Invitation,
    loaders,
};
use crate::domain::{
    ids::WorkspaceId,
    invitations::{self, state},
    members, now,
};
use crate::error::{Error, Result};
use crate::live::Feed;

#[derive(Default)]
pub(crate) struct InvitationSubscription;

#[Subscription]
impl InvitationSubscription {
    /// Events of the invitations the viewer may view, as they happen;
    /// optionally of one workspace (of which the viewer is a member).
    async fn invitation_events<'a>(
        &self,
        ctx: &'a Context<'_>,
        workspace_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<InvitationEvent>> + 'a> {
        let workspace = workspace_id
            .map(|id| WorkspaceId::parse(&id).map_err(|e| e.at("workspaceId")))
            .transpose()?;
        let caller = caller(ctx).await?;
        let db = db(ctx)?;
        if let Some(ws) = workspace {
            if members::membership(db, ws, caller.id()).await?.is_none() {
                return Err(Error::NotFound("workspace"));
            }
        }
        // Subscribed before returning: an event committed from here on is
        // heard.
        let rx = data::<Feed>(ctx)?.subscribe_from_now(db).await?;
        if let Some(listening) = ctx.data_opt::<Listening>() {
            listening.now();
        }
        Ok(futures_util::stream::unfold(rx, move |mut rx| async move {
            loop {
                let event = match rx.recv().await {
                    Ok(event) => event,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a subscriber fell behind the live feed");
                        continue;
                    }
                    Err(RecvError::Closed) => return None,
                };
                if workspace.is_some_and(|ws| ws.0 != event.workspace_id) {
                    continue;
                }
                // Deleted since: nothing to show.
                let Some(inv) = &event.invitation else {
                    continue;
                };
                let inv = state::as_of(inv.clone(), now());
                let role = event.role_of(db, caller.id());
                let item = match invitations::may_hear(caller, &inv, event.kind, role).await {
                    Ok(true) => Ok(InvitationEvent::new(
                        event.event.clone(),
                        Invitation::from_model(inv),
                    )),
                    Ok(false) => continue,
                    Err(e) => Err(e),
                };
                loaders::forget(ctx);
                return Some((item, rx));
            }
        }))
    }
}

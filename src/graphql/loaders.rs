//! Dataloaders: one query per batch of keys, so a listing's nested fields
//! cost the same number of statements whatever the page size. They live for
//! one request, so their caches never serve stale rows across requests.

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;
use std::collections::HashMap;

use entity::{email_outbox, invitation_event, membership::Role, profile, workspace};

use crate::domain::{
    ids::{InvitationId, ProfileId, WorkspaceId},
    invitations, members, profiles, workspaces,
};
use crate::error::Error;

pub(crate) struct ProfileLoader(pub(crate) DatabaseConnection);

impl Loader<ProfileId> for ProfileLoader {
    type Value = profile::Model;
    type Error = Error;

    async fn load(&self, keys: &[ProfileId]) -> Result<HashMap<ProfileId, Self::Value>, Error> {
        let rows = profiles::by_ids(&self.0, keys).await?;
        Ok(rows.into_iter().map(|p| (ProfileId(p.id), p)).collect())
    }
}

pub(crate) struct WorkspaceLoader(pub(crate) DatabaseConnection);

impl Loader<WorkspaceId> for WorkspaceLoader {
    type Value = workspace::Model;
    type Error = Error;

    async fn load(&self, keys: &[WorkspaceId]) -> Result<HashMap<WorkspaceId, Self::Value>, Error> {
        let rows = workspaces::by_ids(&self.0, keys).await?;
        Ok(rows.into_iter().map(|w| (WorkspaceId(w.id), w)).collect())
    }
}

/// Roles by `(workspace, profile)`.
pub(crate) struct RoleLoader(pub(crate) DatabaseConnection);

impl Loader<(WorkspaceId, ProfileId)> for RoleLoader {
    type Value = Role;
    type Error = Error;

    async fn load(
        &self,
        keys: &[(WorkspaceId, ProfileId)],
    ) -> Result<HashMap<(WorkspaceId, ProfileId), Role>, Error> {
        Ok(members::roles(&self.0, keys).await?.into_iter().collect())
    }
}

/// The newest email delivery of each invitation.
pub(crate) struct DeliveryLoader(pub(crate) DatabaseConnection);

impl Loader<InvitationId> for DeliveryLoader {
    type Value = email_outbox::Model;
    type Error = Error;

    async fn load(
        &self,
        keys: &[InvitationId],
    ) -> Result<HashMap<InvitationId, Self::Value>, Error> {
        invitations::email::deliveries(&self.0, keys).await
    }
}

/// Each invitation's whole history, oldest first (it is short: one query
/// for a page of invitations serves their `events` and `totalCount`).
pub(crate) struct EventsLoader(pub(crate) DatabaseConnection);

impl Loader<InvitationId> for EventsLoader {
    type Value = Vec<invitation_event::Model>;
    type Error = Error;

    async fn load(
        &self,
        keys: &[InvitationId],
    ) -> Result<HashMap<InvitationId, Self::Value>, Error> {
        let mut by: HashMap<InvitationId, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for e in invitations::history::of_invitations(&self.0, keys).await? {
            by.entry(InvitationId(e.invitation_id)).or_default().push(e);
        }
        Ok(by)
    }
}

/// Empties the caches of the request's loaders: a subscription does so
/// before each event, so a long-lived socket reads fresh rows.
pub(crate) fn forget(ctx: &async_graphql::Context<'_>) {
    use super::context::loader;
    if let Ok(l) = loader::<ProfileLoader>(ctx) {
        l.clear::<ProfileId>();
    }
    if let Ok(l) = loader::<WorkspaceLoader>(ctx) {
        l.clear::<WorkspaceId>();
    }
    if let Ok(l) = loader::<RoleLoader>(ctx) {
        l.clear::<(WorkspaceId, ProfileId)>();
    }
    if let Ok(l) = loader::<DeliveryLoader>(ctx) {
        l.clear::<InvitationId>();
    }
    if let Ok(l) = loader::<EventsLoader>(ctx) {
        l.clear::<InvitationId>();
    }
}

/// Invitations by id, as they are now (federated entities).
pub(crate) struct InvitationLoader(pub(crate) DatabaseConnection);

impl Loader<InvitationId> for InvitationLoader {
    type Value = entity::invitation::Model;
    type Error = Error;

    async fn load(
        &self,
        keys: &[InvitationId],
    ) -> Result<HashMap<InvitationId, Self::Value>, Error> {
        let rows = invitations::by_ids(&self.0, keys).await?;
        Ok(rows.into_iter().map(|i| (InvitationId(i.id), i)).collect())
    }
}

/// Whether a viewer (id and email) may see a profile as a `Member` from
/// outside a workspace (federated `Member` entities), by `(viewer, email,
/// target)`.
pub(crate) struct SeenLoader(pub(crate) DatabaseConnection);

impl Loader<(ProfileId, String, ProfileId)> for SeenLoader {
    type Value = ();
    type Error = Error;

    async fn load(
        &self,
        keys: &[(ProfileId, String, ProfileId)],
    ) -> Result<HashMap<(ProfileId, String, ProfileId), ()>, Error> {
        // One viewer per request: group anyway, to be right for any keys.
        let mut by_viewer: HashMap<(ProfileId, &str), Vec<ProfileId>> = HashMap::new();
        for (viewer, email, target) in keys {
            by_viewer.entry((*viewer, email)).or_default().push(*target);
        }
        let mut seen = HashMap::new();
        for ((viewer, email), targets) in by_viewer {
            for target in members::seen_by(&self.0, viewer, email, &targets).await? {
                seen.insert((viewer, email.to_owned(), target), ());
            }
        }
        Ok(seen)
    }
}

//! Dataloaders: one query per batch of keys, so a listing's nested fields
//! cost the same number of statements whatever the page size. They live for
//! one request, so their caches never serve stale rows across requests.

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use uuid::Uuid;

use entity::{email_outbox, membership::Role, profile, workspace};

use crate::domain::{members, outbox, profiles, workspaces};
use crate::error::Error;

pub struct ProfileLoader(pub DatabaseConnection);

impl Loader<Uuid> for ProfileLoader {
    type Value = profile::Model;
    type Error = Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = profiles::by_ids(&self.0, keys).await?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

pub struct WorkspaceLoader(pub DatabaseConnection);

impl Loader<Uuid> for WorkspaceLoader {
    type Value = workspace::Model;
    type Error = Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = workspaces::by_ids(&self.0, keys).await?;
        Ok(rows.into_iter().map(|w| (w.id, w)).collect())
    }
}

/// Roles by `(workspace id, profile id)`.
pub struct RoleLoader(pub DatabaseConnection);

impl Loader<(Uuid, Uuid)> for RoleLoader {
    type Value = Role;
    type Error = Error;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), Role>, Error> {
        let rows = members::by_pairs(&self.0, keys).await?;
        Ok(rows
            .into_iter()
            .map(|m| ((m.workspace_id, m.profile_id), m.role))
            .filter(|(k, _)| keys.contains(k))
            .collect())
    }
}

/// Outbox rows by invitation id.
pub struct DeliveryLoader(pub DatabaseConnection);

impl Loader<Uuid> for DeliveryLoader {
    type Value = email_outbox::Model;
    type Error = Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = outbox::by_invitations(&self.0, keys).await?;
        Ok(rows.into_iter().map(|o| (o.invitation_id, o)).collect())
    }
}

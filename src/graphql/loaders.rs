//! Dataloaders: one query per batch of keys, so a listing's nested fields
//! cost the same number of statements whatever the page size.

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use uuid::Uuid;

use entity::{profile, workspace};

use crate::domain::{profiles, workspaces};
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

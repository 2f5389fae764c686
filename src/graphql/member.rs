//! `Member`: a profile as seen inside a workspace (no email, no phone).

use async_graphql::{Context, Object, ID};
use std::{collections::HashMap, sync::Arc};
use uuid::Uuid;

use entity::profile;

use super::{context::loader, loaders::ProfileLoader};
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Member(Arc<profile::Model>);

impl Member {
    pub fn new(model: profile::Model) -> Self {
        Self(Arc::new(model))
    }

    /// Loads through the request's batch.
    pub async fn load(ctx: &Context<'_>, id: Uuid) -> Result<Member> {
        loader::<ProfileLoader>(ctx)?
            .load_one(id)
            .await?
            .map(Member::new)
            .ok_or_else(|| Error::Internal(format!("profile {id} is referenced but missing")))
    }

    /// Loads several in one batch.
    pub async fn load_many(ctx: &Context<'_>, ids: &[Uuid]) -> Result<HashMap<Uuid, Member>> {
        let found = loader::<ProfileLoader>(ctx)?
            .load_many(ids.iter().copied())
            .await?;
        Ok(found
            .into_iter()
            .map(|(id, p)| (id, Member::new(p)))
            .collect())
    }
}

#[Object]
impl Member {
    /// The profile id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Unique, '@'-prefixed.
    async fn handle(&self) -> &str {
        &self.0.handle
    }
}

//! `Member`: a profile as seen inside a workspace (no email, no phone).

use async_graphql::{Context, Object, ID};
use std::{collections::HashMap, sync::Arc};

use entity::profile;

use super::{context::loader, loaders::ProfileLoader, page::connection_type};
use crate::domain::ids::ProfileId;
use crate::error::{Error, Result};

#[derive(Clone)]
pub(crate) struct Member(Arc<profile::Model>);

connection_type!(Member, MemberConnection, MemberEdge);

impl Member {
    fn new(model: profile::Model) -> Self {
        Self(Arc::new(model))
    }

    /// Loads through the request's batch.
    pub(crate) async fn load(ctx: &Context<'_>, id: ProfileId) -> Result<Member> {
        loader::<ProfileLoader>(ctx)?
            .load_one(id)
            .await?
            .map(Member::new)
            .ok_or_else(|| Error::internal(format!("profile {id} is referenced but missing")))
    }

    /// Loads several in one batch.
    pub(crate) async fn load_many(
        ctx: &Context<'_>,
        ids: &[ProfileId],
    ) -> Result<HashMap<ProfileId, Member>> {
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

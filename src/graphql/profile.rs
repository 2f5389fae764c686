//! `me`, `updateProfile`, `setDefaultWorkspace`.

use async_graphql::{Context, InputObject, Object, ID};

use entity::profile;

use super::{
    context::{caller, db},
    workspace::Workspace,
};
use crate::domain::{
    ids::{ProfileId, WorkspaceId},
    members,
    profiles::{self, ProfilePatch},
    values::{Name, Phone},
};
use crate::error::Result;

/// The authenticated user. Created on first access from the token's claims.
pub(crate) struct Profile(profile::Model);

#[Object]
impl Profile {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn handle(&self) -> &str {
        &self.0.handle
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    async fn default_workspace(&self, ctx: &Context<'_>) -> Result<Option<Workspace>> {
        let Some(ws) = self.0.default_workspace_id else {
            return Ok(None);
        };
        let membership =
            members::membership(db(ctx)?, WorkspaceId(ws), ProfileId(self.0.id)).await?;
        Ok(membership.map(Workspace::for_member))
    }
}

#[derive(InputObject)]
pub(crate) struct UpdateProfileInput {
    pub name: Option<String>,
    pub phone: Option<String>,
}

impl UpdateProfileInput {
    fn parse(self) -> Result<ProfilePatch> {
        Ok(ProfilePatch {
            name: self
                .name
                .as_deref()
                .map(Name::parse)
                .transpose()
                .map_err(|e| e.at("name"))?,
            phone: self
                .phone
                .as_deref()
                .map(Phone::parse)
                .transpose()
                .map_err(|e| e.at("phone"))?,
        })
    }
}

#[derive(Default)]
pub(crate) struct ProfileQuery;

#[Object]
impl ProfileQuery {
    /// The authenticated user's profile.
    async fn me(&self, ctx: &Context<'_>) -> Result<Profile> {
        Ok(Profile(caller(ctx).await?.profile.clone()))
    }
}

#[derive(Default)]
pub(crate) struct ProfileMutation;

#[Object]
impl ProfileMutation {
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> Result<Profile> {
        let caller = caller(ctx).await?;
        let patch = input.parse()?;
        Ok(Profile(profiles::update(db(ctx)?, caller, patch).await?))
    }

    /// Members only.
    async fn set_default_workspace(&self, ctx: &Context<'_>, id: ID) -> Result<Profile> {
        let caller = caller(ctx).await?;
        let workspace = WorkspaceId::parse(&id).map_err(|e| e.at("id"))?;
        Ok(Profile(
            profiles::set_default_workspace(db(ctx)?, caller, workspace).await?,
        ))
    }
}

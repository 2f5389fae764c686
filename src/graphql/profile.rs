//! `me`, `updateProfile`, `setDefaultWorkspace`.

use async_graphql::{Context, InputObject, Object, ID};

use entity::profile;

use super::{
    context::{db, viewer},
    workspace::Workspace,
};
use crate::domain::{id, profiles, workspaces};
use crate::error::Result;

/// The authenticated user. Created on first access from the token's claims.
pub struct Profile(profile::Model);

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
        let Some(ws_id) = self.0.default_workspace_id else {
            return Ok(None);
        };
        match workspaces::for_member(db(ctx)?, self.0.id, ws_id).await {
            Ok((model, role)) => Ok(Some(Workspace::for_member(model, role))),
            Err(crate::error::Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[derive(InputObject)]
pub struct UpdateProfileInput {
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Default)]
pub struct ProfileQuery;

#[Object]
impl ProfileQuery {
    /// The authenticated user's profile.
    async fn me(&self, ctx: &Context<'_>) -> Result<Profile> {
        Ok(Profile(viewer(ctx).await?.profile.clone()))
    }
}

#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> Result<Profile> {
        let me = viewer(ctx).await?.profile.clone();
        let updated =
            profiles::update(db(ctx)?, me, input.name.as_deref(), input.phone.as_deref()).await?;
        Ok(Profile(updated))
    }

    /// Members only.
    async fn set_default_workspace(&self, ctx: &Context<'_>, id: ID) -> Result<Profile> {
        let me = viewer(ctx).await?.profile.clone();
        let workspace_id = id::parse(&id, "id")?;
        Ok(Profile(
            profiles::set_default_workspace(db(ctx)?, me, workspace_id).await?,
        ))
    }
}

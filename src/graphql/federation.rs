//! Apollo Federation v2 (with `GRAPHQL_FEDERATION=true`): `Invitation`,
//! `Workspace` and `Member` are entities keyed by `id`, resolved for
//! `_entities` with the visibility of `invitation(id)` and `workspace(id)`
//! (not visible: null, never an error), batched through the request's
//! dataloaders.

use async_graphql::{Context, Object, ID};

use super::{
    context::{caller, loader},
    invitation::Invitation,
    loaders::{InvitationLoader, ProfileLoader, RoleLoader, SeenLoader, WorkspaceLoader},
    member::Member,
    workspace::Workspace,
};
use crate::domain::{
    ids::{InvitationId, ProfileId, WorkspaceId},
    invitations::access::Standing,
    members::Membership,
};
use crate::error::Result;

#[derive(Default)]
pub(crate) struct EntityQuery;

#[Object]
impl EntityQuery {
    /// Its creator, a manager of its workspace, or its recipient.
    #[graphql(entity)]
    async fn find_invitation_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Invitation>> {
        let caller = caller(ctx).await?;
        let Ok(id) = InvitationId::parse(&id) else {
            return Ok(None);
        };
        let Some(inv) = loader::<InvitationLoader>(ctx)?.load_one(id).await? else {
            return Ok(None);
        };
        let role = loader::<RoleLoader>(ctx)?
            .load_one((WorkspaceId(inv.workspace_id), caller.id()))
            .await?;
        let visible = Standing::of(&inv, role, caller).may_view();
        Ok(visible.then(|| Invitation::from_model(inv)))
    }

    /// Its members.
    #[graphql(entity)]
    async fn find_workspace_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Workspace>> {
        let caller = caller(ctx).await?;
        let Ok(id) = WorkspaceId::parse(&id) else {
            return Ok(None);
        };
        let role = loader::<RoleLoader>(ctx)?
            .load_one((id, caller.id()))
            .await?;
        let Some(role) = role else {
            return Ok(None);
        };
        let workspace = loader::<WorkspaceLoader>(ctx)?.load_one(id).await?;
        Ok(workspace.map(|workspace| Workspace::for_member(Membership { workspace, role })))
    }

    /// Someone who shares a workspace with the viewer, or created an
    /// invitation the viewer may view; its `role` is null (no workspace is
    /// implied).
    #[graphql(entity)]
    async fn find_member_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Member>> {
        let caller = caller(ctx).await?;
        let Ok(id) = ProfileId::parse(&id) else {
            return Ok(None);
        };
        let key = (caller.id(), caller.email().to_owned(), id);
        if loader::<SeenLoader>(ctx)?.load_one(key).await?.is_none() {
            return Ok(None);
        }
        let profile = loader::<ProfileLoader>(ctx)?.load_one(id).await?;
        Ok(profile.map(Member::outside))
    }
}

//! `Member`: a profile as seen inside a workspace (no email, no phone),
//! with its role there.

use async_graphql::{Context, Object, ID};
use std::{collections::HashMap, sync::Arc};

use entity::{membership::Role, profile};

use super::{
    context::loader,
    loaders::{ProfileLoader, RoleLoader},
    page::connection_type,
    workspace::WorkspaceRole,
};
use crate::domain::ids::{ProfileId, WorkspaceId};
use crate::error::{Error, Result};

/// The workspace a member is seen through, and its role there when known.
#[derive(Clone, Copy, Debug)]
enum Seen {
    /// Its role is looked up (batched) when asked for.
    In(WorkspaceId),
    /// Its role as read with it.
    As(Role),
    /// Through no workspace (a federated entity): no role.
    Outside,
}

#[derive(Clone)]
pub(crate) struct Member {
    profile: Arc<profile::Model>,
    seen: Seen,
}

connection_type!(Member, MemberConnection, MemberEdge);

impl Member {
    fn new(model: profile::Model, seen: Seen) -> Self {
        Self {
            profile: Arc::new(model),
            seen,
        }
    }

    /// A profile already read; its role is its role in `workspace`, if
    /// still a member.
    pub(crate) fn shared_in(profile: Arc<profile::Model>, workspace: WorkspaceId) -> Self {
        Self {
            profile,
            seen: Seen::In(workspace),
        }
    }

    /// Loads through the request's batch; its role is its role in
    /// `workspace`, if still a member.
    pub(crate) async fn load_in(
        ctx: &Context<'_>,
        id: ProfileId,
        workspace: WorkspaceId,
    ) -> Result<Member> {
        Self::load_seen(ctx, id, Seen::In(workspace)).await
    }

    /// Loads a member whose role is known.
    pub(crate) async fn load_as(ctx: &Context<'_>, id: ProfileId, role: Role) -> Result<Member> {
        Self::load_seen(ctx, id, Seen::As(role)).await
    }

    async fn load_seen(ctx: &Context<'_>, id: ProfileId, seen: Seen) -> Result<Member> {
        loader::<ProfileLoader>(ctx)?
            .load_one(id)
            .await?
            .map(|p| Member::new(p, seen))
            .ok_or_else(|| Error::internal(format!("profile {id} is referenced but missing")))
    }

    /// A profile seen through no workspace (its `role` is null).
    pub(crate) fn outside(model: profile::Model) -> Self {
        Self::new(model, Seen::Outside)
    }

    /// Loads several, with the roles they were read with, in one batch.
    pub(crate) async fn load_many(
        ctx: &Context<'_>,
        members: &[(ProfileId, Role)],
    ) -> Result<HashMap<ProfileId, Member>> {
        let found = loader::<ProfileLoader>(ctx)?
            .load_many(members.iter().map(|(id, _)| *id))
            .await?;
        Ok(members
            .iter()
            .filter_map(|(id, role)| {
                let p = found.get(id)?;
                Some((*id, Member::new(p.clone(), Seen::As(*role))))
            })
            .collect())
    }
}

#[Object]
impl Member {
    /// The profile id.
    async fn id(&self) -> ID {
        ID(self.profile.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.profile.name
    }

    /// Unique, '@'-prefixed.
    async fn handle(&self) -> &str {
        &self.profile.handle
    }

    /// Role in the workspace it is seen through; null when no longer a member.
    async fn role(&self, ctx: &Context<'_>) -> Result<Option<WorkspaceRole>> {
        super::boxed(async move {
            let role = match self.seen {
                Seen::As(role) => Some(role),
                Seen::Outside => None,
                Seen::In(ws) => {
                    loader::<RoleLoader>(ctx)?
                        .load_one((ws, ProfileId(self.profile.id)))
                        .await?
                }
            };
            Ok(role.map(Into::into))
        })
        .await
    }
}

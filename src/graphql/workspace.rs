//! `Workspace` and its queries and mutations.
//!
//! Field-level access lives in [`Workspace`] itself: a node is built either
//! for a member or for an invitee, and every restricted field asks
//! [`Workspace::member_role`] first, however the node was reached.

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, ID};
use std::sync::Arc;

use entity::{membership::Role, workspace as ws};

use super::{
    connection::{
        page_args, wants_total, InvitationConnection, MemberConnection, WorkspaceConnection,
    },
    context::{db, loader, viewer},
    invitation::{invitation_connection, InvitationStatus},
    loaders::{ProfileLoader, RoleLoader},
    member::Member,
    scalars::DateTime,
};
use crate::domain::{
    id,
    invitations::Listing,
    members,
    paging::{Page, PageRequest},
    workspaces::{self, NewWorkspace, WorkspacePatch},
};
use crate::error::{Error, Result};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "WorkspaceStatus")]
pub enum WorkspaceStatus {
    Ready,
    Provisioning,
    Failed,
}

impl From<ws::WorkspaceStatus> for WorkspaceStatus {
    fn from(s: ws::WorkspaceStatus) -> Self {
        match s {
            ws::WorkspaceStatus::Ready => Self::Ready,
            ws::WorkspaceStatus::Provisioning => Self::Provisioning,
            ws::WorkspaceStatus::Failed => Self::Failed,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "WorkspaceRole")]
pub enum WorkspaceRole {
    Owner,
    Member,
}

impl From<Role> for WorkspaceRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => Self::Owner,
            Role::Member => Self::Member,
        }
    }
}

/// How the viewer reached a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Through its membership: the role is known.
    Member(Role),
    /// Through an invitation: the viewer may or may not be a member, looked
    /// up (batched) only when a field needs it.
    ThroughInvitation,
}

#[derive(Clone)]
pub struct Workspace {
    model: Arc<ws::Model>,
    access: Access,
}

impl Workspace {
    pub fn for_member(model: ws::Model, role: Role) -> Self {
        Self {
            model: Arc::new(model),
            access: Access::Member(role),
        }
    }

    pub fn through_invitation(model: ws::Model) -> Self {
        Self {
            model: Arc::new(model),
            access: Access::ThroughInvitation,
        }
    }

    /// The viewer's role here, if a member.
    async fn role(&self, ctx: &Context<'_>) -> Result<Option<Role>> {
        match self.access {
            Access::Member(role) => Ok(Some(role)),
            Access::ThroughInvitation => {
                let me = viewer(ctx).await?.id();
                Ok(loader::<RoleLoader>(ctx)?
                    .load_one((self.model.id, me))
                    .await?)
            }
        }
    }

    /// The gate of every members-only field: whoever reaches the workspace
    /// otherwise (an invitee) gets null with `FORBIDDEN`.
    async fn member_role(&self, ctx: &Context<'_>) -> Result<Role> {
        self.role(ctx)
            .await?
            .ok_or_else(|| Error::forbidden("Only members of the workspace can see this"))
    }
}

#[Object]
impl Workspace {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    async fn created(&self) -> DateTime {
        self.model.created.into()
    }

    async fn last_modified(&self) -> DateTime {
        self.model.last_modified.into()
    }

    /// Unique slug of the workspace: lower-case letters, digits and '_', at most 63 characters.
    async fn alias(&self) -> &str {
        &self.model.alias
    }

    async fn name(&self) -> &str {
        &self.model.name
    }

    /// Allowed email domains for invitations. Members only (null and FORBIDDEN for others).
    async fn domains(&self, ctx: &Context<'_>) -> Result<Option<&[String]>> {
        self.member_role(ctx).await?;
        Ok(Some(&self.model.domains.0))
    }

    /// Members only (null and FORBIDDEN for others).
    async fn repository_url(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.member_role(ctx).await?;
        Ok(self.model.repository_url.as_deref())
    }

    /// Members only (null and FORBIDDEN for others).
    async fn pipelines_image(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.member_role(ctx).await?;
        Ok(self.model.pipelines_image.as_deref())
    }

    async fn image_url(&self) -> Option<&str> {
        self.model.image_url.as_deref()
    }

    async fn status(&self) -> WorkspaceStatus {
        self.model.status.into()
    }

    /// Whether this is the viewer's default workspace.
    async fn default_workspace(&self, ctx: &Context<'_>) -> Result<bool> {
        if self.role(ctx).await?.is_none() {
            return Ok(false);
        }
        // Read through the loader, not the request's cached viewer, so a
        // mutation's own result shows the default it just set.
        let me = viewer(ctx).await?.id();
        let profile = loader::<ProfileLoader>(ctx)?.load_one(me).await?;
        Ok(profile.and_then(|p| p.default_workspace_id) == Some(self.model.id))
    }

    async fn owner(&self, ctx: &Context<'_>) -> Result<Member> {
        Member::load(ctx, self.model.owner_id).await
    }

    /// The viewer's role here; null when the viewer is not a member (an invitee, say).
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Option<WorkspaceRole>> {
        Ok(self.role(ctx).await?.map(Into::into))
    }

    /// Members only (null and FORBIDDEN for others).
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<MemberConnection>> {
        self.member_role(ctx).await?;
        let listing = members::listing(self.model.id);
        let req = PageRequest::parse(&page_args(first, after, last, before), &listing)?;
        let db = db(ctx)?;
        let page = members::page(db, self.model.id, &req).await?;
        let ids: Vec<_> = page.items.iter().map(|(_, m)| m.profile_id).collect();
        let found = Member::load_many(ctx, &ids).await?;
        let page = Page {
            items: page
                .items
                .into_iter()
                .filter_map(|(k, m)| found.get(&m.profile_id).map(|n| (k, n.clone())))
                .collect(),
            has_previous: page.has_previous,
            has_next: page.has_next,
        };
        let total = if wants_total(ctx) {
            Some(members::count(db, self.model.id).await?)
        } else {
            None
        };
        Ok(Some(MemberConnection::new(page, &listing, total)))
    }

    /// Members only (null and FORBIDDEN for others).
    async fn member(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Member>> {
        self.member_role(ctx).await?;
        let profile_id = id::parse(&id, "id")?;
        members::role_of(db(ctx)?, self.model.id, profile_id)
            .await?
            .ok_or(Error::NotFound("member"))?;
        Ok(Some(Member::load(ctx, profile_id).await?))
    }

    /// Active invitations (PENDING and ACCEPTED unless `status` says otherwise).
    /// The owner sees all of them; any other member sees those it sent.
    /// Members only (null and FORBIDDEN for others).
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<InvitationStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<InvitationConnection>> {
        let role = self.member_role(ctx).await?;
        let args = page_args(first, after, last, before);
        let listing = Listing::Workspace {
            id: self.model.id,
            role,
        };
        Ok(Some(
            invitation_connection(ctx, listing, status, args).await?,
        ))
    }
}

#[derive(InputObject)]
pub struct CreateWorkspaceInput {
    pub name: String,
    /// Generated from the name when absent.
    pub alias: Option<String>,
    pub domains: Option<Vec<String>>,
    pub repository_url: Option<String>,
    pub pipelines_image: Option<String>,
    pub image_url: Option<String>,
}

/// Absent fields are left unchanged.
#[derive(InputObject)]
pub struct UpdateWorkspaceInput {
    pub name: Option<String>,
    pub domains: Option<Vec<String>>,
    pub repository_url: MaybeUndefined<String>,
    pub pipelines_image: MaybeUndefined<String>,
    pub image_url: MaybeUndefined<String>,
}

/// `undefined` leaves a field as it is; `null` clears it.
fn patch_of(value: MaybeUndefined<String>) -> Option<Option<String>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

#[derive(Default)]
pub struct WorkspaceQuery;

#[Object]
impl WorkspaceQuery {
    /// Workspaces the viewer owns or is a member of.
    async fn workspaces(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<WorkspaceConnection> {
        let me = viewer(ctx).await?.id();
        let req = PageRequest::parse(&page_args(first, after, last, before), workspaces::LISTING)?;
        let db = db(ctx)?;
        let page = workspaces::page_of_viewer(db, me, &req).await?;
        // The owner is the only OWNER, so the role follows from the row.
        let page = page.map(|w| {
            let role = if w.owner_id == me {
                Role::Owner
            } else {
                Role::Member
            };
            Workspace::for_member(w, role)
        });
        let total = if wants_total(ctx) {
            Some(workspaces::count_of_viewer(db, me).await?)
        } else {
            None
        };
        Ok(WorkspaceConnection::new(page, workspaces::LISTING, total))
    }

    /// NOT_FOUND unless the viewer is a member.
    async fn workspace(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Workspace>> {
        let me = viewer(ctx).await?.id();
        let id = id::parse(&id, "id")?;
        let (model, role) = workspaces::for_member(db(ctx)?, me, id).await?;
        Ok(Some(Workspace::for_member(model, role)))
    }
}

#[derive(Default)]
pub struct WorkspaceMutation;

#[Object]
impl WorkspaceMutation {
    /// The viewer becomes its OWNER.
    async fn create_workspace(
        &self,
        ctx: &Context<'_>,
        input: CreateWorkspaceInput,
    ) -> Result<Workspace> {
        let me = viewer(ctx).await?.id();
        let new = NewWorkspace {
            name: input.name,
            alias: input.alias,
            domains: input.domains,
            repository_url: input.repository_url,
            pipelines_image: input.pipelines_image,
            image_url: input.image_url,
        };
        let model = workspaces::create(db(ctx)?, me, new).await?;
        Ok(Workspace::for_member(model, Role::Owner))
    }

    /// Owner only.
    async fn update_workspace(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWorkspaceInput,
    ) -> Result<Workspace> {
        let me = viewer(ctx).await?.id();
        let id = id::parse(&id, "id")?;
        let patch = WorkspacePatch {
            name: input.name,
            domains: input.domains,
            repository_url: patch_of(input.repository_url),
            pipelines_image: patch_of(input.pipelines_image),
            image_url: patch_of(input.image_url),
        };
        let model = workspaces::update(db(ctx)?, me, id, patch).await?;
        Ok(Workspace::for_member(model, Role::Owner))
    }

    /// Owner only. Deletes its memberships and invitations too. Returns the id.
    async fn delete_workspace(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let me = viewer(ctx).await?.id();
        let id = id::parse(&id, "id")?;
        Ok(ID(workspaces::delete(db(ctx)?, me, id).await?.to_string()))
    }
}

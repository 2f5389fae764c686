//! `Workspace`, its connection, and its queries and mutations.
//!
//! Field-level access lives in [`Workspace`] itself: a node is built either
//! for a member or for an invitee, and every restricted field asks
//! [`Workspace::member_role`] first, however the node was reached.

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, ID};
use std::sync::Arc;

use entity::{membership::Role, workspace as ws};

use super::{
    context::{caller, data, db, loader},
    invitation::{invitation_connection, InvitationConnection, InvitationStatus},
    loaders::{ProfileLoader, RoleLoader},
    member::{Member, MemberConnection},
    page::{self, connection, connection_type, PageArgs},
    scalars::{DateTime, Duration},
    webhook::Webhook,
    Policy,
};
use crate::domain::{
    ids::{ProfileId, WorkspaceId},
    invitations::Listing,
    members::{self, is_manager, Membership},
    paging::Page,
    team,
    values::{Alias, DomainName, Expiry, Name, Setting},
    webhooks,
    workspaces::{self, NewWorkspace, WorkspacePatch},
};
use crate::error::{Error, Result};

/// The name cursors of the workspaces listing carry.
const LISTING: &str = "workspaces";

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "WorkspaceStatus", remote = "ws::WorkspaceStatus")]
pub enum WorkspaceStatus {
    Ready,
    Provisioning,
    Failed,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "WorkspaceRole", remote = "Role")]
pub(crate) enum WorkspaceRole {
    Owner,
    /// Manages invitations and members like the owner; workspace settings stay the owner's.
    Admin,
    Member,
}

/// How the caller reached a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Through its membership: the role is known.
    Member(Role),
    /// Through an invitation: the caller may or may not be a member, looked
    /// up (batched) only when a field needs it.
    ThroughInvitation,
}

#[derive(Clone)]
pub(crate) struct Workspace {
    model: Arc<ws::Model>,
    access: Access,
}

connection_type!(Workspace, WorkspaceConnection, WorkspaceEdge);

impl Workspace {
    pub(crate) fn for_member(m: Membership) -> Self {
        Self {
            model: Arc::new(m.workspace),
            access: Access::Member(m.role),
        }
    }

    pub(crate) fn through_invitation(model: Arc<ws::Model>) -> Self {
        Self {
            model,
            access: Access::ThroughInvitation,
        }
    }

    fn workspace_id(&self) -> WorkspaceId {
        WorkspaceId(self.model.id)
    }

    /// The caller's role here, if a member.
    async fn role(&self, ctx: &Context<'_>) -> Result<Option<Role>> {
        super::boxed(async move {
            match self.access {
                Access::Member(role) => Ok(Some(role)),
                Access::ThroughInvitation => {
                    let me = caller(ctx).await?.id();
                    Ok(loader::<RoleLoader>(ctx)?
                        .load_one((self.workspace_id(), me))
                        .await?)
                }
            }
        })
        .await
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
        super::boxed(async move {
            if self.role(ctx).await?.is_none() {
                return Ok(false);
            }
            // Read through the loader, not the request's cached caller, so a
            // mutation's own result shows the default it just set.
            let me = caller(ctx).await?.id();
            let profile = loader::<ProfileLoader>(ctx)?.load_one(me).await?;
            Ok(profile.and_then(|p| p.default_workspace_id) == Some(self.model.id))
        })
        .await
    }

    async fn owner(&self, ctx: &Context<'_>) -> Result<Member> {
        super::boxed(async move {
            Member::load_as(ctx, ProfileId(self.model.owner_id), Role::Owner).await
        })
        .await
    }

    /// The viewer's role here; null when the viewer is not a member (an invitee, say).
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Option<WorkspaceRole>> {
        super::boxed(async move { Ok(self.role(ctx).await?.map(Into::into)) }).await
    }

    /// Managers only (null and FORBIDDEN for others).
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Option<Vec<Webhook>>> {
        super::boxed(async move {
            if !is_manager(self.member_role(ctx).await?) {
                return Err(Error::forbidden(
                    "Only the owner and admins of the workspace see its webhooks",
                ));
            }
            let hooks = webhooks::of_workspace(db(ctx)?, self.workspace_id()).await?;
            Ok(Some(hooks.into_iter().map(Webhook::new).collect()))
        })
        .await
    }

    /// Members only (null and FORBIDDEN for others).
    #[graphql(complexity = "page::cost(first, last, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<MemberConnection>> {
        super::boxed(async move {
            self.member_role(ctx).await?;
            let id = self.workspace_id();
            let listing = format!("members:{id}");
            let req = PageArgs::new(first, after, last, before).parse(&listing)?;
            let db = db(ctx)?;
            let page = members::page(db, id, &req).await?;
            let wanted: Vec<(ProfileId, Role)> = page.items.iter().map(|(_, m)| *m).collect();
            let found = Member::load_many(ctx, &wanted).await?;
            let page = Page {
                items: page
                    .items
                    .into_iter()
                    .filter_map(|(k, (p, _))| found.get(&p).map(|m| (k, m.clone())))
                    .collect(),
                has_previous: page.has_previous,
                has_next: page.has_next,
            };
            Ok(Some(
                connection(ctx, &listing, page, members::count(db, id)).await?,
            ))
        })
        .await
    }

    /// Members only (null and FORBIDDEN for others).
    async fn member(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Member>> {
        super::boxed(async move {
            self.member_role(ctx).await?;
            let profile = ProfileId::parse(&id).map_err(|e| e.at("id"))?;
            let m = members::membership(db(ctx)?, self.workspace_id(), profile)
                .await?
                .ok_or(Error::NotFound("member"))?;
            Ok(Some(Member::load_as(ctx, profile, m.role).await?))
        })
        .await
    }

    /// Members only. How long a new invitation stays acceptable after its email is sent.
    async fn invitation_expiry(&self, ctx: &Context<'_>) -> Result<Option<Duration>> {
        super::boxed(async move {
            self.member_role(ctx).await?;
            Ok(Some(
                Expiry::from_secs(self.model.invitation_expiry_secs).into(),
            ))
        })
        .await
    }

    /// Active invitations (PENDING and ACCEPTED unless `status` says otherwise).
    /// The managers see all of them; any other member sees those it sent.
    /// Members only (null and FORBIDDEN for others).
    #[graphql(complexity = "page::cost(first, last, child_complexity)")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<InvitationStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<InvitationConnection>> {
        super::boxed(async move {
            let role = self.member_role(ctx).await?;
            let args = PageArgs::new(first, after, last, before);
            let listing = Listing::Workspace {
                id: self.workspace_id(),
                role,
            };
            Ok(Some(
                invitation_connection(ctx, listing, status, args).await?,
            ))
        })
        .await
    }
}

#[derive(InputObject)]
pub(crate) struct CreateWorkspaceInput {
    pub name: String,
    /// Generated from the name when absent.
    pub alias: Option<String>,
    pub domains: Option<Vec<String>>,
    pub repository_url: Option<String>,
    pub pipelines_image: Option<String>,
    pub image_url: Option<String>,
    /// From INVITATION_EXPIRY_MIN to P90D; default P7D.
    pub invitation_expiry: Option<Duration>,
}

impl CreateWorkspaceInput {
    fn parse(self, policy: &Policy) -> Result<NewWorkspace> {
        Ok(NewWorkspace {
            name: Name::parse(&self.name).map_err(|e| e.at("name"))?,
            alias: self
                .alias
                .as_deref()
                .map(Alias::parse)
                .transpose()
                .map_err(|e| e.at("alias"))?,
            domains: domains(self.domains.as_deref().unwrap_or_default())?,
            repository_url: setting(self.repository_url.as_deref(), "repositoryUrl")?,
            pipelines_image: setting(self.pipelines_image.as_deref(), "pipelinesImage")?,
            image_url: setting(self.image_url.as_deref(), "imageUrl")?,
            invitation_expiry: expiry(self.invitation_expiry, policy)?,
        })
    }
}

/// Absent fields are left unchanged.
#[derive(InputObject)]
pub(crate) struct UpdateWorkspaceInput {
    pub name: Option<String>,
    pub domains: Option<Vec<String>>,
    pub repository_url: MaybeUndefined<String>,
    pub pipelines_image: MaybeUndefined<String>,
    pub image_url: MaybeUndefined<String>,
    pub invitation_expiry: Option<Duration>,
}

impl UpdateWorkspaceInput {
    fn parse(self, policy: &Policy) -> Result<WorkspacePatch> {
        // `undefined` leaves a setting as it is; `null` clears it.
        let patch = |value: MaybeUndefined<String>, field| match value {
            MaybeUndefined::Undefined => Ok(None),
            MaybeUndefined::Null => Ok(Some(None)),
            MaybeUndefined::Value(v) => setting(Some(&v), field).map(Some),
        };
        Ok(WorkspacePatch {
            name: self
                .name
                .as_deref()
                .map(Name::parse)
                .transpose()
                .map_err(|e| e.at("name"))?,
            domains: self.domains.as_deref().map(domains).transpose()?,
            repository_url: patch(self.repository_url, "repositoryUrl")?,
            pipelines_image: patch(self.pipelines_image, "pipelinesImage")?,
            image_url: patch(self.image_url, "imageUrl")?,
            invitation_expiry: expiry(self.invitation_expiry, policy)?,
        })
    }
}

fn expiry(raw: Option<Duration>, policy: &Policy) -> Result<Option<Expiry>> {
    raw.map(|d| Expiry::parse(&d.0, policy.expiry_min))
        .transpose()
        .map_err(|e| e.at("invitationExpiry"))
}

fn domains(raw: &[String]) -> Result<Vec<DomainName>> {
    DomainName::parse_list(raw).map_err(|e| e.at("domains"))
}

fn setting(raw: Option<&str>, field: &'static str) -> Result<Option<Setting>> {
    Setting::parse_opt(raw).map_err(|e| e.at(field))
}

#[derive(Default)]
pub(crate) struct WorkspaceQuery;

#[Object]
impl WorkspaceQuery {
    /// Workspaces the viewer owns or is a member of.
    #[graphql(complexity = "page::cost(first, last, child_complexity)")]
    async fn workspaces(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<WorkspaceConnection> {
        let caller = caller(ctx).await?;
        let req = PageArgs::new(first, after, last, before).parse(LISTING)?;
        let db = db(ctx)?;
        let page = workspaces::page_of_caller(db, caller, &req).await?;
        connection(
            ctx,
            LISTING,
            page.map(Workspace::for_member),
            workspaces::count_of_caller(db, caller),
        )
        .await
    }

    /// NOT_FOUND unless the viewer is a member.
    async fn workspace(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Workspace>> {
        let caller = caller(ctx).await?;
        let id = WorkspaceId::parse(&id).map_err(|e| e.at("id"))?;
        let membership = workspaces::for_member(db(ctx)?, caller, id).await?;
        Ok(Some(Workspace::for_member(membership)))
    }
}

#[derive(Default)]
pub(crate) struct WorkspaceMutation;

#[Object]
impl WorkspaceMutation {
    /// The viewer becomes its OWNER.
    async fn create_workspace(
        &self,
        ctx: &Context<'_>,
        input: CreateWorkspaceInput,
    ) -> Result<Workspace> {
        let caller = caller(ctx).await?;
        let input = input.parse(data::<Policy>(ctx)?)?;
        let model = workspaces::create(db(ctx)?, caller, input).await?;
        Ok(Workspace::for_member(Membership {
            workspace: model,
            role: Role::Owner,
        }))
    }

    /// Owner only.
    async fn update_workspace(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWorkspaceInput,
    ) -> Result<Workspace> {
        let caller = caller(ctx).await?;
        let id = WorkspaceId::parse(&id).map_err(|e| e.at("id"))?;
        let input = input.parse(data::<Policy>(ctx)?);
        let model = workspaces::update(db(ctx)?, caller, id, input).await?;
        Ok(Workspace::for_member(Membership {
            workspace: model,
            role: Role::Owner,
        }))
    }

    /// Owner only. Deletes its memberships and invitations too. Returns the id.
    async fn delete_workspace(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let caller = caller(ctx).await?;
        let id = WorkspaceId::parse(&id).map_err(|e| e.at("id"))?;
        Ok(ID(workspaces::delete(db(ctx)?, caller, id)
            .await?
            .to_string()))
    }

    /// Owner only.
    async fn update_member_role(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        profile_id: ID,
        role: WorkspaceRole,
    ) -> Result<Member> {
        let caller = caller(ctx).await?;
        let workspace = WorkspaceId::parse(&workspace_id).map_err(|e| e.at("workspaceId"))?;
        let profile = ProfileId::parse(&profile_id).map_err(|e| e.at("profileId"))?;
        let role = team::update_member_role(db(ctx)?, caller, workspace, profile, role.into())
            .await
            .map_err(|e| e.at("role"))?;
        Member::load_as(ctx, profile, role).await
    }

    /// A manager, or the member itself (leaving). Returns the workspace.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        profile_id: ID,
    ) -> Result<Workspace> {
        let caller = caller(ctx).await?;
        let workspace = WorkspaceId::parse(&workspace_id).map_err(|e| e.at("workspaceId"))?;
        let profile = ProfileId::parse(&profile_id).map_err(|e| e.at("profileId"))?;
        let model = team::remove_member(db(ctx)?, caller, workspace, profile).await?;
        // As the caller sees it now (having left: from outside).
        Ok(Workspace::through_invitation(Arc::new(model)))
    }
}

//! `Invitation`, its listings and its four mutations. Resolvers read the
//! viewer, parse ids, call `domain::invitations`, and wrap the result.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use std::sync::Arc;

use entity::{email_outbox, invitation as inv};

use super::{
    connection::{page_args, wants_total, InvitationConnection},
    context::{data, db, loader, viewer},
    loaders::{DeliveryLoader, ProfileLoader, WorkspaceLoader},
    member::Member,
    scalars::DateTime,
    workspace::Workspace,
};
use crate::domain::{
    id,
    invitations::{self, Listing, Standing},
    paging::{Page, PageArgs, PageRequest},
    rate_limit::RateLimits,
};
use crate::error::{Error, Result};
use crate::mail::worker::Wakeup;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Sent to the recipient and awaiting acceptance.
    Pending,
    /// Accepted by the recipient, who is now a member of the workspace.
    Accepted,
    /// Withdrawn; it can no longer be accepted.
    Revoked,
}

impl From<inv::InvitationStatus> for InvitationStatus {
    fn from(s: inv::InvitationStatus) -> Self {
        match s {
            inv::InvitationStatus::Pending => Self::Pending,
            inv::InvitationStatus::Accepted => Self::Accepted,
            inv::InvitationStatus::Revoked => Self::Revoked,
        }
    }
}

impl From<InvitationStatus> for inv::InvitationStatus {
    fn from(s: InvitationStatus) -> Self {
        match s {
            InvitationStatus::Pending => Self::Pending,
            InvitationStatus::Accepted => Self::Accepted,
            InvitationStatus::Revoked => Self::Revoked,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EmailDeliveryStatus {
    /// Waiting in the outbox for its first or next attempt.
    Queued,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up after the last retry.
    Failed,
    /// Not sent: the invitation was withdrawn first.
    Cancelled,
}

impl From<email_outbox::DeliveryStatus> for EmailDeliveryStatus {
    fn from(s: email_outbox::DeliveryStatus) -> Self {
        match s {
            email_outbox::DeliveryStatus::Queued => Self::Queued,
            email_outbox::DeliveryStatus::Sent => Self::Sent,
            email_outbox::DeliveryStatus::Failed => Self::Failed,
            email_outbox::DeliveryStatus::Cancelled => Self::Cancelled,
        }
    }
}

#[derive(SimpleObject)]
pub struct EmailDelivery {
    status: EmailDeliveryStatus,
    attempts: i32,
    last_attempt: Option<DateTime>,
    sent_at: Option<DateTime>,
    /// Last SMTP or rendering error, for the creator and the owner to act on.
    last_error: Option<String>,
}

impl From<email_outbox::Model> for EmailDelivery {
    fn from(row: email_outbox::Model) -> Self {
        Self {
            status: row.status.into(),
            attempts: row.attempts,
            last_attempt: row.last_attempt_at.map(Into::into),
            sent_at: row.sent_at.map(Into::into),
            last_error: row.last_error,
        }
    }
}

#[derive(Clone)]
pub struct Invitation(Arc<inv::Model>);

impl Invitation {
    fn new(model: inv::Model) -> Self {
        Self(Arc::new(model))
    }

    async fn workspace_model(&self, ctx: &Context<'_>) -> Result<entity::workspace::Model> {
        loader::<WorkspaceLoader>(ctx)?
            .load_one(self.0.workspace_id)
            .await?
            .ok_or_else(|| Error::Internal(format!("invitation {} has no workspace", self.0.id)))
    }

    async fn standing(&self, ctx: &Context<'_>) -> Result<Standing> {
        let owner_id = self.workspace_model(ctx).await?.owner_id;
        Ok(Standing::of(&self.0, owner_id, viewer(ctx).await?.caller()))
    }
}

#[Object]
impl Invitation {
    /// Version 4 UUID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn created(&self) -> DateTime {
        self.0.created.into()
    }

    async fn last_modified(&self) -> DateTime {
        self.0.last_modified.into()
    }

    async fn status(&self) -> InvitationStatus {
        self.0.status.into()
    }

    /// The recipient's email address, normalised to lower case.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The member who sent the invitation.
    async fn creator(&self, ctx: &Context<'_>) -> Result<Member> {
        Member::load(ctx, self.0.creator_id).await
    }

    /// The workspace the recipient is invited to.
    async fn workspace(&self, ctx: &Context<'_>) -> Result<Workspace> {
        Ok(Workspace::through_invitation(
            self.workspace_model(ctx).await?,
        ))
    }

    /// Delivery of the invitation email; visible to the creator and the workspace owner only, null for anyone else.
    async fn email_delivery(&self, ctx: &Context<'_>) -> Result<Option<EmailDelivery>> {
        if !self.standing(ctx).await?.may_manage() {
            return Ok(None);
        }
        let row = loader::<DeliveryLoader>(ctx)?.load_one(self.0.id).await?;
        Ok(row.map(Into::into))
    }
}

/// One page of a listing, as a connection.
pub async fn invitation_connection(
    ctx: &Context<'_>,
    listing: Listing,
    status: Option<Vec<InvitationStatus>>,
    args: PageArgs,
) -> Result<InvitationConnection> {
    let name = listing.name();
    let req = PageRequest::parse(&args, &name)?;
    let statuses: Option<Vec<inv::InvitationStatus>> =
        status.map(|s| s.into_iter().map(Into::into).collect());
    let caller = viewer(ctx).await?.caller();
    let db = db(ctx)?;
    let query = invitations::listing_query(caller, listing, statuses.as_deref())?;
    let total = if wants_total(ctx) {
        Some(invitations::count(db, query.clone()).await?)
    } else {
        None
    };
    let page = invitations::page(db, query, &req).await?;
    prefetch(ctx, &page).await?;
    Ok(InvitationConnection::new(
        page.map(Invitation::new),
        &name,
        total,
    ))
}

/// Loads the creators and workspaces a page's nodes will ask for, one
/// batch each, into the request's loader cache: the nodes then resolve
/// them without a loader round trip each.
async fn prefetch(ctx: &Context<'_>, page: &Page<inv::Model>) -> Result<()> {
    let look = ctx.look_ahead();
    let selects = |field: &str| {
        look.field("nodes").field(field).exists()
            || look.field("edges").field("node").field(field).exists()
    };
    let ids = |f: fn(&inv::Model) -> uuid::Uuid| {
        let mut ids: Vec<_> = page.items.iter().map(|(_, i)| f(i)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let creators = async {
        if selects("creator") {
            loader::<ProfileLoader>(ctx)?
                .load_many(ids(|i| i.creator_id))
                .await?;
        }
        Ok::<_, Error>(())
    };
    let workspaces = async {
        if selects("workspace") || selects("emailDelivery") {
            loader::<WorkspaceLoader>(ctx)?
                .load_many(ids(|i| i.workspace_id))
                .await?;
        }
        Ok::<_, Error>(())
    };
    futures_util::try_join!(creators, workspaces)?;
    Ok(())
}

#[derive(Default)]
pub struct InvitationQuery;

#[Object]
impl InvitationQuery {
    /// NOT_FOUND unless the viewer created it, owns its workspace, or is its recipient.
    async fn invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Invitation>> {
        let caller = viewer(ctx).await?.caller();
        let id = id::parse(&id, "id")?;
        let (model, _) = invitations::get(db(ctx)?, caller, id).await?;
        Ok(Some(Invitation::new(model)))
    }

    /// Invitations the viewer has sent, newest first.
    async fn sent_invitations(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<InvitationStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<InvitationConnection> {
        let args = page_args(first, after, last, before);
        invitation_connection(ctx, Listing::Sent, status, args).await
    }

    /// Invitations addressed to the viewer's email, newest first.
    async fn received_invitations(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<InvitationStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<InvitationConnection> {
        let args = page_args(first, after, last, before);
        invitation_connection(ctx, Listing::Received, status, args).await
    }
}

#[derive(Default)]
pub struct InvitationMutation;

#[Object]
impl InvitationMutation {
    /// Members only. Returns the PENDING invitation at once; its email is queued, and the response does not wait for it.
    async fn create_invitation(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        email: String,
    ) -> Result<Invitation> {
        let caller = viewer(ctx).await?.caller();
        let workspace_id = id::parse(&workspace_id, "workspaceId")?;
        let limits = data::<RateLimits>(ctx)?;
        let model = invitations::create(db(ctx)?, caller, workspace_id, &email, limits).await?;
        // The email is committed to the outbox; let this process's worker
        // send it now rather than at its next poll.
        data::<Wakeup>(ctx)?.notify();
        Ok(Invitation::new(model))
    }

    /// Recipient only. PENDING -> ACCEPTED, and the recipient becomes a MEMBER.
    async fn accept_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Invitation> {
        let caller = viewer(ctx).await?.caller();
        let id = id::parse(&id, "id")?;
        Ok(Invitation::new(
            invitations::accept(db(ctx)?, caller, id).await?,
        ))
    }

    /// Creator or workspace owner. PENDING or ACCEPTED -> REVOKED; an accepted one also ends the membership it granted.
    async fn withdraw_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Invitation> {
        let caller = viewer(ctx).await?.caller();
        let id = id::parse(&id, "id")?;
        Ok(Invitation::new(
            invitations::withdraw(db(ctx)?, caller, id).await?,
        ))
    }

    /// Creator or workspace owner. Only PENDING or REVOKED ones. Returns the id.
    async fn delete_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let caller = viewer(ctx).await?.caller();
        let id = id::parse(&id, "id")?;
        Ok(ID(invitations::delete(db(ctx)?, caller, id)
            .await?
            .to_string()))
    }
}

//! `Invitation`, its connection, its listings and its four mutations.
//! Resolvers read the caller, parse the arguments, call
//! `domain::invitations`, and wrap the result.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use std::sync::Arc;

use entity::{email_outbox, invitation as inv, profile, workspace};
use std::collections::HashMap;
use uuid::Uuid;

use super::{
    context::{caller, data, db, loader},
    history::{self, InvitationEventConnection},
    loaders::{DeliveryLoader, EventsLoader, RoleLoader, WorkspaceLoader},
    member::Member,
    page::{self, connection, connection_type, PageArgs},
    scalars::{DateTime, Duration},
    workspace::{Workspace, WorkspaceRole},
    Policy,
};
use crate::delivery::Wakeup;
use crate::domain::{
    ids::{self, InvitationId, ProfileId, WorkspaceId},
    invitations::{self, access::Standing, Listing, NewInvitations},
    now,
    paging::Page,
    profiles,
    values::{Expiry, IdempotencyKey},
    workspaces,
};
use crate::error::{Error, Result};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "inv::InvitationStatus")]
pub enum InvitationStatus {
    /// Sent to the recipient and awaiting acceptance.
    Pending,
    /// Accepted by the recipient, who is now a member of the workspace.
    Accepted,
    /// Withdrawn; it can no longer be accepted.
    Revoked,
    /// Not accepted in time; a manager may resend it.
    Expired,
    /// Declined by its recipient.
    Declined,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "email_outbox::DeliveryStatus")]
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

#[derive(SimpleObject)]
pub(crate) struct EmailDelivery {
    status: EmailDeliveryStatus,
    attempts: i32,
    last_attempt: Option<DateTime>,
    sent_at: Option<DateTime>,
    /// Last SMTP or rendering error, for the creator and the managers to act on.
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
pub(crate) struct Invitation {
    model: Arc<inv::Model>,
    /// Its creator and workspace, when a listing read them with its page:
    /// its fields then need no loader.
    creator: Option<Arc<profile::Model>>,
    workspace: Option<Arc<workspace::Model>>,
}

connection_type!(Invitation, InvitationConnection, InvitationEdge);

impl Invitation {
    fn new(model: inv::Model) -> Self {
        Self {
            model: Arc::new(model),
            creator: None,
            workspace: None,
        }
    }

    fn invitation_id(&self) -> InvitationId {
        InvitationId(self.model.id)
    }

    /// Through the loader, for an invitation not read by a listing.
    async fn load_workspace(&self, ctx: &Context<'_>) -> Result<Arc<workspace::Model>> {
        loader::<WorkspaceLoader>(ctx)?
            .load_one(WorkspaceId(self.model.workspace_id))
            .await?
            .map(Arc::new)
            .ok_or_else(|| {
                Error::internal(format!("invitation {} has no workspace", self.model.id))
            })
    }

    fn workspace_id(&self) -> WorkspaceId {
        WorkspaceId(self.model.workspace_id)
    }

    async fn standing(&self, ctx: &Context<'_>) -> Result<Standing> {
        let caller = caller(ctx).await?;
        let role = loader::<RoleLoader>(ctx)?
            .load_one((self.workspace_id(), caller.id()))
            .await?;
        Ok(Standing::of(&self.model, role, caller))
    }
}

#[Object]
impl Invitation {
    /// Version 4 UUID.
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    async fn created(&self) -> DateTime {
        self.model.created.into()
    }

    async fn last_modified(&self) -> DateTime {
        self.model.last_modified.into()
    }

    async fn status(&self) -> InvitationStatus {
        self.model.status.into()
    }

    /// The recipient's email address, normalised to lower case.
    async fn email(&self) -> &str {
        &self.model.email
    }

    /// The member who sent the invitation.
    async fn creator(&self, ctx: &Context<'_>) -> Result<Member> {
        match &self.creator {
            Some(p) => Ok(Member::shared_in(p.clone(), self.workspace_id())),
            None => {
                let id = ProfileId(self.model.creator_id);
                super::boxed(Member::load_in(ctx, id, self.workspace_id())).await
            }
        }
    }

    /// The workspace the recipient is invited to.
    async fn workspace(&self, ctx: &Context<'_>) -> Result<Workspace> {
        let model = match &self.workspace {
            Some(w) => w.clone(),
            None => super::boxed(self.load_workspace(ctx)).await?,
        };
        Ok(Workspace::through_invitation(model))
    }

    /// Delivery of the invitation email (the newest, after a resend); visible to the creator and the managers only, null for anyone else.
    async fn email_delivery(&self, ctx: &Context<'_>) -> Result<Option<EmailDelivery>> {
        super::boxed(async move {
            if !self.standing(ctx).await?.may_manage() {
                return Ok(None);
            }
            let row = loader::<DeliveryLoader>(ctx)?
                .load_one(self.invitation_id())
                .await?;
            Ok(row.map(Into::into))
        })
        .await
    }

    /// The role the recipient gets on accepting.
    async fn role(&self) -> WorkspaceRole {
        self.model.role.into()
    }

    /// Null until the email is first sent; then sent + the expiry.
    async fn expires_at(&self) -> Option<DateTime> {
        self.model.expires_at.map(Into::into)
    }

    /// Oldest first; creator and managers only, null for anyone else.
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<InvitationEventConnection>> {
        super::boxed(async move {
            if !self.standing(ctx).await?.may_manage() {
                return Ok(None);
            }
            let events = loader::<EventsLoader>(ctx)?
                .load_one(self.invitation_id())
                .await?
                .unwrap_or_default();
            let listing = format!("events:{}", self.model.id);
            let args = PageArgs::new(first, after, None, None);
            let page = history::page(&events, self, &args, &listing)?;
            let total = events.len() as u64;
            Ok(Some(
                connection(ctx, &listing, page, async { Ok(total) }).await?,
            ))
        })
        .await
    }
}

/// An idempotency key argument, checked before any look-up.
pub(crate) fn parse_key(raw: Option<String>) -> Result<Option<IdempotencyKey>> {
    raw.map(|k| IdempotencyKey::parse(&k))
        .transpose()
        .map_err(|e| e.at("idempotencyKey"))
}

/// An `expiresIn` argument, its refusal kept for its turn.
pub(crate) fn expires_in_of(raw: Option<Duration>, policy: &Policy) -> Result<Option<Expiry>> {
    raw.map(|d| Expiry::parse(&d.0, policy.expiry_min))
        .transpose()
        .map_err(|e| e.at("expiresIn"))
}

impl Invitation {
    pub(crate) fn from_model(model: inv::Model) -> Self {
        Self::new(model)
    }
}

/// One page of a listing, as a connection.
pub(crate) async fn invitation_connection(
    ctx: &Context<'_>,
    listing: Listing,
    status: Option<Vec<InvitationStatus>>,
    args: PageArgs,
) -> Result<InvitationConnection> {
    let name = listing.name();
    let req = args.parse(&name)?;
    let statuses: Option<Vec<inv::InvitationStatus>> =
        status.map(|s| s.into_iter().map(Into::into).collect());
    let caller = caller(ctx).await?;
    let db = db(ctx)?;
    let now = now();
    let query = invitations::listing_query(caller, listing, statuses.as_deref(), now)
        .map_err(|e| e.at("status"))?;
    let page = invitations::page(db, query.clone(), &req, now).await?;
    let related = prefetch(ctx, &page).await?;
    connection(
        ctx,
        &name,
        page.map(|model| Invitation {
            creator: related.creators.get(&model.creator_id).cloned(),
            workspace: related.workspaces.get(&model.workspace_id).cloned(),
            model: Arc::new(model),
        }),
        invitations::count(db, query),
    )
    .await
}

/// A listing's creators and workspaces, by id.
struct Related {
    creators: HashMap<Uuid, Arc<profile::Model>>,
    workspaces: HashMap<Uuid, Arc<workspace::Model>>,
}

/// Reads the creators and workspaces a page's nodes will ask for, one
/// statement each, run at once, for the nodes to carry: they then resolve
/// those fields without a loader (whose batching window would hold the
/// request a millisecond for keys it already has all of).
async fn prefetch(ctx: &Context<'_>, page: &Page<inv::Model>) -> Result<Related> {
    let look = ctx.look_ahead();
    let selects = |field: &str| {
        look.field("nodes").field(field).exists()
            || look.field("edges").field("node").field(field).exists()
    };
    let db = db(ctx)?;
    let rows = || page.items.iter().map(|(_, i)| i);
    let creators = async {
        if !selects("creator") {
            return Ok(HashMap::new());
        }
        let found =
            profiles::by_ids(db, &ids::distinct(rows(), |i| ProfileId(i.creator_id))).await?;
        Ok::<_, Error>(found.into_iter().map(|p| (p.id, Arc::new(p))).collect())
    };
    let workspaces = async {
        if !(selects("workspace") || selects("emailDelivery")) {
            return Ok(HashMap::new());
        }
        let found =
            workspaces::by_ids(db, &ids::distinct(rows(), |i| WorkspaceId(i.workspace_id))).await?;
        Ok::<_, Error>(found.into_iter().map(|w| (w.id, Arc::new(w))).collect())
    };
    let (creators, workspaces) = futures_util::try_join!(creators, workspaces)?;
    Ok(Related {
        creators,
        workspaces,
    })
}

#[derive(Default)]
pub(crate) struct InvitationQuery;

#[Object]
impl InvitationQuery {
    /// NOT_FOUND unless the viewer created it, manages its workspace, or is its recipient.
    async fn invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Invitation>> {
        let caller = caller(ctx).await?;
        let id = InvitationId::parse(&id).map_err(|e| e.at("id"))?;
        Ok(Some(Invitation::new(
            invitations::get(db(ctx)?, caller, id).await?,
        )))
    }

    /// Invitations the viewer has sent, newest first.
    #[graphql(complexity = "page::cost(first, last, child_complexity)")]
    async fn sent_invitations(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<InvitationStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<InvitationConnection> {
        let args = PageArgs::new(first, after, last, before);
        invitation_connection(ctx, Listing::Sent, status, args).await
    }

    /// Invitations addressed to the viewer's email, newest first.
    #[graphql(complexity = "page::cost(first, last, child_complexity)")]
    async fn received_invitations(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<InvitationStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<InvitationConnection> {
        let args = PageArgs::new(first, after, last, before);
        invitation_connection(ctx, Listing::Received, status, args).await
    }
}

#[derive(Default)]
pub(crate) struct InvitationMutation;

#[Object]
impl InvitationMutation {
    /// Members only. Returns the PENDING invitation at once; its email is queued, and the response does not wait for it.
    async fn create_invitation(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        email: String,
        role: Option<WorkspaceRole>,
        expires_in: Option<Duration>,
        idempotency_key: Option<String>,
    ) -> Result<Invitation> {
        let caller = caller(ctx).await?;
        let workspace = WorkspaceId::parse(&workspace_id).map_err(|e| e.at("workspaceId"))?;
        let key = parse_key(idempotency_key)?;
        let policy = data::<Policy>(ctx)?;
        let new = NewInvitations {
            emails: vec![email],
            role: role.map_or(entity::membership::Role::Member, Into::into),
            expires_in: expires_in_of(expires_in, policy),
            dry_run: false,
            key,
        };
        let model = invitations::create(db(ctx)?, caller, workspace, new, &policy.rate_limits)
            .await
            // Its other input errors are about the address.
            .map_err(|e| e.at("email"))?;
        // The email is committed to the outbox; let this process's worker
        // send it now rather than at its next poll.
        data::<Wakeup>(ctx)?.notify();
        Ok(Invitation::new(model))
    }

    /// Creator or manager. PENDING or EXPIRED -> PENDING, the email sent again.
    async fn resend_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Invitation> {
        let caller = caller(ctx).await?;
        let id = InvitationId::parse(&id).map_err(|e| e.at("id"))?;
        let policy = data::<Policy>(ctx)?;
        let model = invitations::resend(db(ctx)?, caller, id, &policy.resend_limits()).await?;
        data::<Wakeup>(ctx)?.notify();
        Ok(Invitation::new(model))
    }

    /// Recipient only. PENDING or EXPIRED -> DECLINED.
    async fn decline_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Invitation> {
        let caller = caller(ctx).await?;
        let id = InvitationId::parse(&id).map_err(|e| e.at("id"))?;
        Ok(Invitation::new(
            invitations::decline(db(ctx)?, caller, id).await?,
        ))
    }

    /// Recipient only. PENDING -> ACCEPTED, and the recipient becomes a member with the invitation's role.
    async fn accept_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Invitation> {
        let caller = caller(ctx).await?;
        let id = InvitationId::parse(&id).map_err(|e| e.at("id"))?;
        Ok(Invitation::new(
            invitations::accept(db(ctx)?, caller, id).await?,
        ))
    }

    /// Creator or manager. PENDING, EXPIRED or ACCEPTED -> REVOKED; an accepted one also ends the membership it granted.
    async fn withdraw_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Invitation> {
        let caller = caller(ctx).await?;
        let id = InvitationId::parse(&id).map_err(|e| e.at("id"))?;
        Ok(Invitation::new(
            invitations::withdraw(db(ctx)?, caller, id).await?,
        ))
    }

    /// Creator or manager. Any but an ACCEPTED one. Returns the id.
    async fn delete_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let caller = caller(ctx).await?;
        let id = InvitationId::parse(&id).map_err(|e| e.at("id"))?;
        let deleted = invitations::delete(db(ctx)?, caller, id).await?;
        Ok(ID(deleted.to_string()))
    }
}

//! `createInvitations`: many addresses at once, one result each.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};

use super::{
    context::{caller, data, db},
    invitation::{expires_in_of, parse_key, Invitation},
    scalars::Duration,
    workspace::WorkspaceRole,
    Policy,
};
use crate::delivery::Wakeup;
use crate::domain::{
    ids::WorkspaceId,
    invitations::{self, NewInvitations, Outcome},
};
use crate::error::Result;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Outcome")]
pub(crate) enum InvitationOutcome {
    Invited,
    WouldInvite,
    InvalidEmail,
    DomainNotAllowed,
    AlreadyMember,
    AlreadyInvited,
    Duplicate,
    RateLimited,
}

#[derive(SimpleObject)]
pub(crate) struct InvitationResult {
    /// As given.
    email: String,
    outcome: InvitationOutcome,
    invitation: Option<Invitation>,
}

#[derive(SimpleObject)]
pub(crate) struct BulkInvitationResult {
    results: Vec<InvitationResult>,
    invited_count: i32,
}

#[derive(Default)]
pub(crate) struct BulkMutation;

#[Object]
impl BulkMutation {
    /// Up to 100 addresses, one result each, in order.
    #[allow(clippy::too_many_arguments)]
    async fn create_invitations(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        emails: Vec<String>,
        role: Option<WorkspaceRole>,
        expires_in: Option<Duration>,
        dry_run: Option<bool>,
        idempotency_key: Option<String>,
    ) -> Result<BulkInvitationResult> {
        let caller = caller(ctx).await?;
        let workspace = WorkspaceId::parse(&workspace_id).map_err(|e| e.at("workspaceId"))?;
        let key = parse_key(idempotency_key)?;
        let policy = data::<Policy>(ctx)?;
        let new = NewInvitations {
            emails,
            role: role.map_or(entity::membership::Role::Member, Into::into),
            expires_in: expires_in_of(expires_in, policy),
            dry_run: dry_run.unwrap_or(false),
            key,
        };
        let created =
            invitations::create_many(db(ctx)?, caller, workspace, new, &policy.rate_limits).await?;
        if created
            .results
            .iter()
            .any(|r| r.outcome == Outcome::Invited)
        {
            data::<Wakeup>(ctx)?.notify();
        }
        let invited_count = created
            .results
            .iter()
            .filter(|r| r.outcome.invites())
            .count();
        Ok(BulkInvitationResult {
            invited_count: invited_count as i32,
            results: created
                .results
                .into_iter()
                .map(|r| InvitationResult {
                    email: r.email,
                    outcome: r.outcome.into(),
                    invitation: r.invitation.map(Invitation::from_model),
                })
                .collect(),
        })
    }
}

//! Invitations: the seven operations of the SPEC's table, each with its
//! permission rule, in one function per operation.

use sea_orm::{
    sea_query::{Expr, Order},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, Select, Set, SqlErr, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use entity::{
    invitation::{self, InvitationStatus as Status},
    membership::{self, Role},
    profile, workspace,
};

use super::{
    email::EmailAddress,
    invitation_state::{self, Step},
    members, now, outbox,
    paging::{Key, Keyset, Page, PageRequest},
    profiles,
    rate_limit::{self, RateLimits},
};
use crate::error::{Error, Reason, Result};

/// Who is asking, as far as invitations care.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub profile_id: Uuid,
    /// Normalised like invitation addresses.
    pub email: &'a str,
    pub email_verified: bool,
}

/// How a caller stands to one invitation; every permission derives from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub creator: bool,
    pub owner: bool,
    pub recipient: bool,
}

impl Standing {
    pub fn of(inv: &invitation::Model, workspace_owner_id: Uuid, caller: Caller<'_>) -> Self {
        Self {
            creator: inv.creator_id == caller.profile_id,
            owner: workspace_owner_id == caller.profile_id,
            recipient: inv.email == caller.email,
        }
    }

    /// `invitation(id)`: its creator, the workspace owner, its recipient.
    pub fn may_view(self) -> bool {
        self.creator || self.owner || self.recipient
    }

    /// Withdraw, delete, and see `emailDelivery`: the creator or the owner.
    pub fn may_manage(self) -> bool {
        self.creator || self.owner
    }

    /// For withdraw and delete: the recipient is told no, anyone else is
    /// told nothing.
    fn require_manager(self) -> Result<()> {
        match self {
            s if s.may_manage() => Ok(()),
            s if s.recipient => Err(Error::forbidden(
                "Only the sender or the workspace owner may do this",
            )),
            _ => Err(Error::NotFound("invitation")),
        }
    }

    /// For accept: the creator and the owner are told no, anyone else is
    /// told nothing.
    fn require_recipient(self) -> Result<()> {
        match self {
            s if s.recipient => Ok(()),
            s if s.may_manage() => Err(Error::forbidden(
                "Only the recipient may accept an invitation",
            )),
            _ => Err(Error::NotFound("invitation")),
        }
    }
}

/// The invitation with its workspace's owner, or `NOT_FOUND`.
async fn load(db: &impl ConnectionTrait, id: Uuid) -> Result<(invitation::Model, Uuid)> {
    let (inv, ws) = invitation::Entity::find_by_id(id)
        .find_also_related(workspace::Entity)
        .one(db)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    let ws = ws.ok_or(Error::NotFound("invitation"))?;
    Ok((inv, ws.owner_id))
}

async fn reload(db: &impl ConnectionTrait, id: Uuid) -> Result<invitation::Model> {
    invitation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("invitation"))
}

/// `invitation(id)`.
pub async fn get(
    db: &impl ConnectionTrait,
    caller: Caller<'_>,
    id: Uuid,
) -> Result<(invitation::Model, Standing)> {
    let (inv, owner_id) = load(db, id).await?;
    let standing = Standing::of(&inv, owner_id, caller);
    if !standing.may_view() {
        return Err(Error::NotFound("invitation"));
    }
    Ok((inv, standing))
}

/// `createInvitation`: one transaction writes the `PENDING` invitation and
/// its outbox email.
pub async fn create<C>(
    db: &C,
    caller: Caller<'_>,
    workspace_id: Uuid,
    raw_email: &str,
    limits: &RateLimits,
) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    members::role_of(db, workspace_id, caller.profile_id)
        .await?
        .ok_or(Error::NotFound("workspace"))?;
    let email = EmailAddress::parse(raw_email)?;
    let ws = workspace::Entity::find_by_id(workspace_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("workspace"))?;
    if !ws.domains.0.iter().any(|d| d == email.domain()) {
        return Err(Error::bad_input(
            Reason::DomainNotAllowed,
            "email",
            format!("{} is not one of this workspace's domains", email.domain()),
        ));
    }
    if is_member_email(db, workspace_id, email.as_str()).await? {
        return Err(Error::conflict(
            Reason::AlreadyMember,
            "Someone with this email is already a member",
        ));
    }

    let now = now();
    let txn = db.begin().await?;
    let inserted = invitation::ActiveModel {
        id: Set(Uuid::new_v4()),
        created: Set(now),
        last_modified: Set(now),
        status: Set(Status::Pending),
        email: Set(email.into_string()),
        creator_id: Set(caller.profile_id),
        workspace_id: Set(workspace_id),
    }
    .insert(&txn)
    .await;
    // The partial unique index is the rule: one PENDING per (workspace,
    // email), whatever runs concurrently.
    let inv = match inserted {
        Ok(inv) => inv,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(Error::conflict(
                Reason::AlreadyInvited,
                "This email already has a pending invitation to this workspace",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // Counted with the invitation: a refused or rolled-back one costs nothing.
    rate_limit::take_invitation(&txn, limits, caller.profile_id, workspace_id, now).await?;
    outbox::enqueue(&txn, inv.id).await?;
    txn.commit().await?;
    Ok(inv)
}

async fn is_member_email(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    email: &str,
) -> Result<bool> {
    Ok(membership::Entity::find()
        .inner_join(profile::Entity)
        .filter(membership::Column::WorkspaceId.eq(workspace_id))
        .filter(profile::Column::Email.eq(email))
        .one(db)
        .await?
        .is_some())
}

/// `acceptInvitation`: a conditional update plus an idempotent membership
/// insert, so of concurrent accepts one makes the change and all return the
/// same `ACCEPTED` invitation.
pub async fn accept<C>(db: &C, caller: Caller<'_>, id: Uuid) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (inv, owner_id) = load(db, id).await?;
    Standing::of(&inv, owner_id, caller).require_recipient()?;
    if !caller.email_verified {
        return Err(Error::Forbidden {
            reason: Some(Reason::EmailNotVerified),
            message: "Verify your email address before accepting".into(),
        });
    }
    if invitation_state::accept(inv.status)? == Step::Unchanged {
        return Ok(inv);
    }

    let txn = db.begin().await?;
    let changed = transition(&txn, &inv, Status::Accepted).await?;
    if !changed {
        // Someone else moved it first: report the state it is in now.
        txn.rollback().await?;
        let now_is = reload(db, id).await?;
        invitation_state::accept(now_is.status)?;
        return Ok(now_is);
    }
    // Already a member by another path: nothing more to grant.
    membership::Entity::insert(membership::ActiveModel {
        workspace_id: Set(inv.workspace_id),
        profile_id: Set(caller.profile_id),
        role: Set(Role::Member),
        created: Set(now()),
        invitation_id: Set(Some(inv.id)),
    })
    .on_conflict_do_nothing_on([
        membership::Column::WorkspaceId,
        membership::Column::ProfileId,
    ])
    .exec_without_returning(&txn)
    .await?;
    profiles::default_if_unset(&txn, caller.profile_id, inv.workspace_id).await?;
    let accepted = reload(&txn, id).await?;
    txn.commit().await?;
    Ok(accepted)
}

/// `withdrawInvitation`: `PENDING` or `ACCEPTED` -> `REVOKED`; an accepted
/// one also ends the membership it granted.
pub async fn withdraw<C>(db: &C, caller: Caller<'_>, id: Uuid) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (mut inv, owner_id) = load(db, id).await?;
    Standing::of(&inv, owner_id, caller).require_manager()?;
    // Retried only when a concurrent accept moved it under us.
    for _ in 0..3 {
        if invitation_state::withdraw(inv.status) == Step::Unchanged {
            return Ok(inv);
        }
        let txn = db.begin().await?;
        if !transition(&txn, &inv, Status::Revoked).await? {
            txn.rollback().await?;
            inv = reload(db, id).await?;
            continue;
        }
        outbox::cancel_unsent(&txn, &[inv.id]).await?;
        if inv.status == Status::Accepted {
            end_granted_membership(&txn, inv.workspace_id, inv.id).await?;
        }
        let revoked = reload(&txn, id).await?;
        txn.commit().await?;
        return Ok(revoked);
    }
    Err(Error::Internal(format!(
        "invitation {id} kept changing while being withdrawn"
    )))
}

/// `deleteInvitation`: only `PENDING` or `REVOKED` ones, with their email.
pub async fn delete<C>(db: &C, caller: Caller<'_>, id: Uuid) -> Result<Uuid>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (inv, owner_id) = load(db, id).await?;
    Standing::of(&inv, owner_id, caller).require_manager()?;
    invitation_state::delete(inv.status)?;
    let txn = db.begin().await?;
    outbox::delete_for_invitation(&txn, id).await?;
    let deleted = invitation::Entity::delete_many()
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::Status.is_in([Status::Pending, Status::Revoked]))
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted == 0 {
        // Accepted (or deleted) meanwhile.
        txn.rollback().await?;
        invitation_state::delete(reload(db, id).await?.status)?;
        return Err(Error::NotFound("invitation"));
    }
    txn.commit().await?;
    Ok(id)
}

/// Moves `inv` to `to` if it is still in the state we read; `false` when a
/// concurrent request changed it first.
async fn transition(
    db: &impl ConnectionTrait,
    inv: &invitation::Model,
    to: Status,
) -> Result<bool> {
    let result = invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(to))
        .col_expr(invitation::Column::LastModified, Expr::value(now()))
        .filter(invitation::Column::Id.eq(inv.id))
        .filter(invitation::Column::Status.eq(inv.status))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends the membership an accepted invitation granted, and revokes the
/// `PENDING` invitations that member had sent for the workspace.
async fn end_granted_membership(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    invitation_id: Uuid,
) -> Result<()> {
    let Some(granted) = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(workspace_id))
        .filter(membership::Column::InvitationId.eq(invitation_id))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let member_id = granted.profile_id;
    membership::Entity::delete_by_id((workspace_id, member_id))
        .exec(db)
        .await?;

    let theirs: Vec<Uuid> = invitation::Entity::find()
        .select_only()
        .column(invitation::Column::Id)
        .filter(invitation::Column::WorkspaceId.eq(workspace_id))
        .filter(invitation::Column::CreatorId.eq(member_id))
        .filter(invitation::Column::Status.eq(Status::Pending))
        .into_tuple()
        .all(db)
        .await?;
    if !theirs.is_empty() {
        invitation::Entity::update_many()
            .col_expr(invitation::Column::Status, Expr::value(Status::Revoked))
            .col_expr(invitation::Column::LastModified, Expr::value(now()))
            .filter(invitation::Column::Id.is_in(theirs.iter().copied()))
            .filter(invitation::Column::Status.eq(Status::Pending))
            .exec(db)
            .await?;
        outbox::cancel_unsent(db, &theirs).await?;
    }

    profile::Entity::update_many()
        .col_expr(
            profile::Column::DefaultWorkspaceId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(profile::Column::Id.eq(member_id))
        .filter(profile::Column::DefaultWorkspaceId.eq(workspace_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The three listings of invitations.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    /// Those the caller created.
    Sent,
    /// Those addressed to the caller's email.
    Received,
    /// A workspace's: all of them for its owner, a member's own otherwise.
    /// `role` is the caller's role there, as the caller found it with
    /// `workspaces::for_member` (non-members never get this far).
    Workspace { id: Uuid, role: Role },
}

impl Listing {
    /// The name cursors carry.
    pub fn name(self) -> String {
        match self {
            Listing::Sent => "sent".into(),
            Listing::Received => "received".into(),
            Listing::Workspace { id, .. } => format!("invitations:{id}"),
        }
    }

    fn default_statuses(self) -> &'static [Status] {
        match self {
            Listing::Sent | Listing::Received => {
                &[Status::Pending, Status::Accepted, Status::Revoked]
            }
            Listing::Workspace { .. } => &[Status::Pending, Status::Accepted],
        }
    }
}

/// The rows a listing holds for this caller, with the status filter.
pub fn listing_query(
    caller: Caller<'_>,
    listing: Listing,
    statuses: Option<&[Status]>,
) -> Result<Select<invitation::Entity>> {
    let statuses = match statuses {
        Some([]) => {
            return Err(Error::bad_input(
                Reason::InvalidStatusFilter,
                "status",
                "`status` must name at least one status",
            ))
        }
        Some(s) => s,
        None => listing.default_statuses(),
    };
    let scope = match listing {
        Listing::Sent => Condition::all().add(invitation::Column::CreatorId.eq(caller.profile_id)),
        Listing::Received => Condition::all().add(invitation::Column::Email.eq(caller.email)),
        Listing::Workspace { id, role } => {
            let scope = Condition::all().add(invitation::Column::WorkspaceId.eq(id));
            match role {
                Role::Owner => scope,
                Role::Member => scope.add(invitation::Column::CreatorId.eq(caller.profile_id)),
            }
        }
    };
    Ok(invitation::Entity::find()
        .filter(scope)
        .filter(invitation::Column::Status.is_in(statuses.iter().copied())))
}

const NEWEST_FIRST: Keyset<invitation::Entity> = Keyset {
    at: invitation::Column::Created,
    id: invitation::Column::Id,
    natural: Order::Desc,
    key_of: |i| Key {
        at: i.created,
        id: i.id,
    },
};

pub async fn page(
    db: &impl ConnectionTrait,
    query: Select<invitation::Entity>,
    req: &PageRequest,
) -> Result<Page<invitation::Model>> {
    NEWEST_FIRST.fetch(db, query, req).await
}

pub async fn count(db: &impl ConnectionTrait, query: Select<invitation::Entity>) -> Result<u64> {
    Ok(query.count(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(creator: Uuid, email: &str) -> invitation::Model {
        invitation::Model {
            id: Uuid::new_v4(),
            created: now(),
            last_modified: now(),
            status: Status::Pending,
            email: email.into(),
            creator_id: creator,
            workspace_id: Uuid::new_v4(),
        }
    }

    fn caller(id: Uuid, email: &str) -> Caller<'_> {
        Caller {
            profile_id: id,
            email,
            email_verified: true,
        }
    }

    #[test]
    fn creator_owner_and_recipient_may_view_anyone_else_not() {
        let (creator, owner, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let i = inv(creator, "r@x.com");
        assert!(Standing::of(&i, owner, caller(creator, "c@x.com")).may_view());
        assert!(Standing::of(&i, owner, caller(owner, "o@x.com")).may_view());
        assert!(Standing::of(&i, owner, caller(other, "r@x.com")).may_view());
        assert!(!Standing::of(&i, owner, caller(other, "s@x.com")).may_view());
    }

    #[test]
    fn withdraw_and_delete_refuse_the_recipient_with_forbidden_and_others_with_not_found() {
        let (creator, owner, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let i = inv(creator, "r@x.com");
        assert!(Standing::of(&i, owner, caller(creator, "c@x.com"))
            .require_manager()
            .is_ok());
        assert!(Standing::of(&i, owner, caller(owner, "o@x.com"))
            .require_manager()
            .is_ok());
        assert!(matches!(
            Standing::of(&i, owner, caller(other, "r@x.com")).require_manager(),
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(
            Standing::of(&i, owner, caller(other, "s@x.com")).require_manager(),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn accept_refuses_creator_and_owner_with_forbidden_and_others_with_not_found() {
        let (creator, owner, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let i = inv(creator, "r@x.com");
        assert!(Standing::of(&i, owner, caller(other, "r@x.com"))
            .require_recipient()
            .is_ok());
        assert!(matches!(
            Standing::of(&i, owner, caller(creator, "c@x.com")).require_recipient(),
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(
            Standing::of(&i, owner, caller(owner, "o@x.com")).require_recipient(),
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(
            Standing::of(&i, owner, caller(other, "s@x.com")).require_recipient(),
            Err(Error::NotFound(_))
        ));
    }
}

/// What an invitation email needs to say.
#[derive(Debug, Clone)]
pub struct EmailFacts {
    pub invitation_id: Uuid,
    pub recipient: String,
    pub creator_name: String,
    pub creator_email: String,
    pub workspace_name: String,
}

/// The facts for several invitations, in three queries.
pub async fn email_facts(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<EmailFacts>> {
    let invs = invitation::Entity::find()
        .filter(invitation::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let creators: std::collections::HashMap<Uuid, profile::Model> =
        profiles::by_ids(db, &invs.iter().map(|i| i.creator_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let workspaces: std::collections::HashMap<Uuid, workspace::Model> =
        super::workspaces::by_ids(db, &invs.iter().map(|i| i.workspace_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
    Ok(invs
        .into_iter()
        .filter_map(|i| {
            let creator = creators.get(&i.creator_id)?;
            let ws = workspaces.get(&i.workspace_id)?;
            Some(EmailFacts {
                invitation_id: i.id,
                recipient: i.email,
                creator_name: creator.name.clone(),
                creator_email: creator.email.clone(),
                workspace_name: ws.name.clone(),
            })
        })
        .collect())
}

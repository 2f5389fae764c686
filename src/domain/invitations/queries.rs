//! Reading invitations: one by id, and the three listings.

use sea_orm::{
    sea_query::Order, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, Select,
};

use entity::{
    invitation::{self, InvitationStatus as Status},
    membership::Role,
};

use super::{access::Standing, state};
use crate::domain::{
    caller::Caller,
    ids::{InvitationId, WorkspaceId},
    members::{self, is_manager},
    now,
    paging::{Key, Keyset, Page, PageRequest},
};
use crate::error::{Error, Reason, Result};

/// The invitation as it is now, with how the caller stands to it, or
/// `NOT_FOUND`.
pub(super) async fn load(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: InvitationId,
) -> Result<(invitation::Model, Standing)> {
    let inv = reload(db, id).await?;
    let role = members::membership(db, WorkspaceId(inv.workspace_id), caller.id())
        .await?
        .map(|m| m.role);
    let standing = Standing::of(&inv, role, caller);
    Ok((inv, standing))
}

/// The invitation as it is now.
pub(super) async fn reload(
    db: &impl ConnectionTrait,
    id: InvitationId,
) -> Result<invitation::Model> {
    let inv = invitation::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    Ok(state::as_of(inv, now()))
}

/// `invitation(id)`: its creator, a manager, its recipient.
pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: InvitationId,
) -> Result<invitation::Model> {
    let (inv, standing) = load(db, caller, id).await?;
    standing.require_viewer()?;
    Ok(inv)
}

/// Whether the caller may hear of an event of `kind` about `inv`, checked
/// at each event (a viewer who is no longer a manager stops hearing).
/// `role`, the caller's role in the invitation's workspace, is awaited only
/// when being its creator or recipient does not settle it.
pub async fn may_hear<F>(
    caller: &Caller,
    inv: &invitation::Model,
    kind: entity::invitation_event::EventKind,
    role: F,
) -> Result<bool>
where
    F: std::future::Future<Output = Result<Option<Role>>>,
{
    if Standing::of(inv, None, caller).may_hear(kind) {
        return Ok(true);
    }
    Ok(Standing::of(inv, role.await?, caller).may_hear(kind))
}

/// These invitations as they are now (for batching; visibility is the
/// caller's to check).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[InvitationId],
) -> Result<Vec<invitation::Model>> {
    let now = now();
    Ok(invitation::Entity::find()
        .filter(invitation::Column::Id.is_in(ids.iter().map(|i| i.0)))
        .all(db)
        .await?
        .into_iter()
        .map(|i| state::as_of(i, now))
        .collect())
}

/// The three listings of invitations.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    /// Those the caller created.
    Sent,
    /// Those addressed to the caller's email.
    Received,
    /// A workspace's: all of them for its managers, a member's own otherwise.
    /// `role` is the caller's role there (non-members never get this far).
    Workspace { id: WorkspaceId, role: Role },
}

impl Listing {
    /// A name for the listing and its scope (cursors carry it).
    pub fn name(self) -> String {
        match self {
            Listing::Sent => "sent".into(),
            Listing::Received => "received".into(),
            Listing::Workspace { id, .. } => format!("invitations:{id}"),
        }
    }

    fn default_statuses(self) -> &'static [Status] {
        match self {
            Listing::Sent | Listing::Received => &[
                Status::Pending,
                Status::Accepted,
                Status::Revoked,
                Status::Expired,
                Status::Declined,
            ],
            Listing::Workspace { .. } => &[Status::Pending, Status::Accepted],
        }
    }
}

/// The rows a listing holds for this caller, with the status filter
/// (`None`: the listing's default statuses) as of `now`.
pub fn listing_query(
    caller: &Caller,
    listing: Listing,
    statuses: Option<&[Status]>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Select<invitation::Entity>> {
    let statuses = match statuses {
        Some([]) => {
            return Err(Error::bad_input(
                Reason::InvalidStatusFilter,
                "The status filter must name at least one status",
            ))
        }
        Some(s) => s,
        None => listing.default_statuses(),
    };
    let me = caller.id().0;
    let scope = match listing {
        Listing::Sent => Condition::all().add(invitation::Column::CreatorId.eq(me)),
        Listing::Received => Condition::all().add(invitation::Column::Email.eq(caller.email())),
        Listing::Workspace { id, role } => {
            let scope = Condition::all().add(invitation::Column::WorkspaceId.eq(id.0));
            if is_manager(role) {
                scope
            } else {
                scope.add(invitation::Column::CreatorId.eq(me))
            }
        }
    };
    Ok(invitation::Entity::find()
        .filter(scope)
        .filter(state::is_any(statuses, now)))
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

/// One page of a listing, each invitation as it is at `now`.
pub async fn page(
    db: &impl ConnectionTrait,
    query: Select<invitation::Entity>,
    req: &PageRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Page<invitation::Model>> {
    Ok(NEWEST_FIRST
        .fetch(db, query, req)
        .await?
        .map(|inv| state::as_of(inv, now)))
}

pub async fn count(db: &impl ConnectionTrait, query: Select<invitation::Entity>) -> Result<u64> {
    Ok(query.count(db).await?)
}

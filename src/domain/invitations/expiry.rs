//! Expiry: the clock starts when an invitation's email is first sent, and
//! from `expires_at` on the invitation is `EXPIRED` to every read (see
//! `state::as_of`). Writing `EXPIRED` down, with its history event at
//! `expires_at`, is [`materialize`]'s job: before a write that concerns an
//! expired invitation, and in the background sweep; reads never wait for
//! it.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use entity::{
    invitation::{self, InvitationStatus as Status},
    invitation_event::EventKind,
};

use super::history::{self, NewEvent};
use crate::domain::ids::{InvitationId, WorkspaceId};
use crate::error::Result;

/// Which expired invitations to write down.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    One(InvitationId),
    /// The invitations of these addresses to one workspace (before creating
    /// others: only one may be `PENDING`).
    Addresses(WorkspaceId, &'a [&'a str]),
    /// Every one due (the sweep), at most this many.
    Due(u64),
}

/// Marks `PENDING` invitations past their `expires_at` `EXPIRED` (last
/// modified when they expired) with their `EXPIRED` event; returns them.
/// Conditional on the stored status, so each expiry is written once,
/// whichever process gets there first.
pub async fn materialize(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<invitation::Model>> {
    let due = Condition::all()
        .add(invitation::Column::Status.eq(Status::Pending))
        .add(invitation::Column::ExpiresAt.lte(now));
    let scoped = match scope {
        Scope::One(id) => due.add(invitation::Column::Id.eq(id.0)),
        Scope::Addresses(ws, emails) => due
            .add(invitation::Column::WorkspaceId.eq(ws.0))
            .add(invitation::Column::Email.is_in(emails.iter().copied())),
        Scope::Due(_) => due,
    };
    let mut candidates = invitation::Entity::find().filter(scoped.clone());
    if let Scope::Due(limit) = scope {
        candidates = candidates.limit(limit);
    }
    let candidates = candidates.all(db).await?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let mut expired = Vec::with_capacity(candidates.len());
    for inv in candidates {
        let Some(at) = inv.expires_at else { continue };
        let written = invitation::Entity::update_many()
            .col_expr(invitation::Column::Status, Expr::value(Status::Expired))
            .col_expr(invitation::Column::LastModified, Expr::value(at))
            .filter(invitation::Column::Id.eq(inv.id))
            .filter(invitation::Column::Status.eq(Status::Pending))
            .exec(db)
            .await?
            .rows_affected;
        if written == 1 {
            expired.push(invitation::Model {
                status: Status::Expired,
                last_modified: at,
                ..inv
            });
        }
    }
    history::record(
        db,
        expired
            .iter()
            .map(|inv| NewEvent::new(inv, EventKind::Expired, inv.last_modified))
            .collect(),
    )
    .await?;
    Ok(expired)
}

/// Starts the clock of an invitation whose email was just sent, unless it
/// is running (this round's first send starts it).
pub async fn start_clock(
    db: &impl ConnectionTrait,
    invitation: InvitationId,
    sent_at: DateTime<Utc>,
) -> Result<()> {
    let expiry: Option<i64> = invitation::Entity::find_by_id(invitation.0)
        .select_only()
        .column(invitation::Column::ExpirySecs)
        .into_tuple()
        .one(db)
        .await?;
    let Some(secs) = expiry else { return Ok(()) };
    invitation::Entity::update_many()
        .col_expr(
            invitation::Column::ExpiresAt,
            Expr::value(Some(sent_at + chrono::Duration::seconds(secs))),
        )
        .filter(invitation::Column::Id.eq(invitation.0))
        .filter(invitation::Column::ExpiresAt.is_null())
        .filter(invitation::Column::Status.eq(Status::Pending))
        .exec(db)
        .await?;
    Ok(())
}

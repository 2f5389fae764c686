//! The email outbox: rows written in the caller's transaction, so an
//! invitation and its email exist together or not at all.

use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use entity::email_outbox::{self, DeliveryStatus};

use crate::error::Result;

/// Queues the invitation email, due now.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    invitation_id: Uuid,
) -> Result<email_outbox::Model> {
    let now = super::now();
    Ok(email_outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        invitation_id: Set(invitation_id),
        status: Set(DeliveryStatus::Queued),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_attempt_at: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        created: Set(now),
    }
    .insert(db)
    .await?)
}

/// Cancels the unsent emails of these invitations.
pub async fn cancel_unsent(db: &impl ConnectionTrait, invitation_ids: &[Uuid]) -> Result<()> {
    if invitation_ids.is_empty() {
        return Ok(());
    }
    email_outbox::Entity::update_many()
        .col_expr(
            email_outbox::Column::Status,
            Expr::value(DeliveryStatus::Cancelled),
        )
        .filter(email_outbox::Column::InvitationId.is_in(invitation_ids.iter().copied()))
        .filter(email_outbox::Column::Status.eq(DeliveryStatus::Queued))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the email of an invitation about to be deleted (an unsent one
/// is thereby never sent).
pub async fn delete_for_invitation(db: &impl ConnectionTrait, invitation_id: Uuid) -> Result<()> {
    email_outbox::Entity::delete_many()
        .filter(email_outbox::Column::InvitationId.eq(invitation_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Delivery rows by invitation, for batching.
pub async fn by_invitations(
    db: &impl ConnectionTrait,
    invitation_ids: &[Uuid],
) -> Result<Vec<email_outbox::Model>> {
    Ok(email_outbox::Entity::find()
        .filter(email_outbox::Column::InvitationId.is_in(invitation_ids.iter().copied()))
        .all(db)
        .await?)
}

//! An invitation's email: what it says (read for the delivery worker) and
//! how its delivery went (read for `emailDelivery`).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

use entity::{
    email_outbox,
    invitation::{self, InvitationStatus},
};

use crate::domain::{
    ids::{self, InvitationId},
    profiles, workspaces,
};
use crate::error::Result;

/// The facts one invitation email is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailFacts {
    pub invitation_id: Uuid,
    /// Only a `PENDING` invitation's email is sent.
    pub status: InvitationStatus,
    pub recipient: String,
    pub creator_name: String,
    pub creator_email: String,
    pub workspace_name: String,
}

/// The facts for several invitations, in three statements, by invitation
/// id; an invitation that is gone is absent.
pub async fn email_facts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, EmailFacts>> {
    let invs = invitation::Entity::find()
        .filter(invitation::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let creators: HashMap<_, _> =
        profiles::by_ids(db, &ids::distinct(&invs, |i| ids::ProfileId(i.creator_id)))
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let workspaces: HashMap<_, _> = workspaces::by_ids(
        db,
        &ids::distinct(&invs, |i| ids::WorkspaceId(i.workspace_id)),
    )
    .await?
    .into_iter()
    .map(|w| (w.id, w))
    .collect();
    Ok(invs
        .into_iter()
        .filter_map(|i| {
            let creator = creators.get(&i.creator_id)?;
            let ws = workspaces.get(&i.workspace_id)?;
            Some((
                i.id,
                EmailFacts {
                    invitation_id: i.id,
                    status: i.status,
                    recipient: i.email,
                    creator_name: creator.name.clone(),
                    creator_email: creator.email.clone(),
                    workspace_name: ws.name.clone(),
                },
            ))
        })
        .collect())
}

/// The email deliveries of these invitations, for batching.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    invitations: &[InvitationId],
) -> Result<Vec<email_outbox::Model>> {
    Ok(email_outbox::Entity::find()
        .filter(email_outbox::Column::InvitationId.is_in(invitations.iter().map(|i| i.0)))
        .all(db)
        .await?)
}

//! Memberships: who belongs to a workspace, in the order they joined.

use sea_orm::{
    sea_query::Order, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use entity::membership::{self, Role};

use super::paging::{Key, Keyset, Page, PageRequest};
use crate::error::Result;

/// The viewer's role in a workspace, if any.
pub async fn role_of(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    profile_id: Uuid,
) -> Result<Option<Role>> {
    Ok(membership::Entity::find_by_id((workspace_id, profile_id))
        .one(db)
        .await?
        .map(|m| m.role))
}

/// The name of the members listing of one workspace, for its cursors.
pub fn listing(workspace_id: Uuid) -> String {
    format!("members:{workspace_id}")
}

const BY_JOINED: Keyset<membership::Entity> = Keyset {
    at: membership::Column::Created,
    id: membership::Column::ProfileId,
    natural: Order::Asc,
    key_of: |m| Key {
        at: m.created,
        id: m.profile_id,
    },
};

fn of_workspace(workspace_id: Uuid) -> sea_orm::Select<membership::Entity> {
    membership::Entity::find().filter(membership::Column::WorkspaceId.eq(workspace_id))
}

/// A page of a workspace's members, oldest first (so the owner first).
pub async fn page(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    req: &PageRequest,
) -> Result<Page<membership::Model>> {
    BY_JOINED.fetch(db, of_workspace(workspace_id), req).await
}

pub async fn count(db: &impl ConnectionTrait, workspace_id: Uuid) -> Result<u64> {
    Ok(of_workspace(workspace_id).count(db).await?)
}

/// Memberships for these `(workspace, profile)` pairs (a superset may come
/// back; callers keep the pairs they asked for).
pub async fn by_pairs(
    db: &impl ConnectionTrait,
    pairs: &[(Uuid, Uuid)],
) -> Result<Vec<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::WorkspaceId.is_in(pairs.iter().map(|p| p.0)))
        .filter(membership::Column::ProfileId.is_in(pairs.iter().map(|p| p.1)))
        .all(db)
        .await?)
}

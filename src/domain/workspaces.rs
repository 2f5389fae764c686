//! Workspaces: creation with a unique alias, owner-only changes, deletion,
//! and the caller's listing.

use sea_orm::{
    sea_query::Order, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, QueryTrait, Select, Set, TransactionSession, TransactionTrait,
    TryInsertResult,
};
use std::collections::HashSet;

use entity::{
    membership::{self, Role},
    workspace::{self, DomainList, WorkspaceStatus},
};

use super::{
    caller::Caller,
    ids::{ProfileId, WorkspaceId},
    members::{self, Membership},
    now,
    paging::{Key, Keyset, Page, PageRequest},
    profiles,
    values::{alias, Alias, DomainName, Expiry, Name, Setting},
};
use crate::error::{Error, Input, Reason, Result};

/// `createWorkspace` input, parsed.
#[derive(Debug, Clone)]
pub struct NewWorkspace {
    pub name: Name,
    /// Generated from the name when absent.
    pub alias: Option<Alias>,
    pub domains: Vec<DomainName>,
    pub repository_url: Option<Setting>,
    pub pipelines_image: Option<Setting>,
    pub image_url: Option<Setting>,
    /// For its new invitations; 7 days when absent.
    pub invitation_expiry: Option<Expiry>,
}

/// `updateWorkspace` input: `None` leaves a field unchanged; for the
/// optional settings, `Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct WorkspacePatch {
    pub name: Option<Name>,
    pub domains: Option<Vec<DomainName>>,
    pub repository_url: Option<Option<Setting>>,
    pub pipelines_image: Option<Option<Setting>>,
    pub image_url: Option<Option<Setting>>,
    pub invitation_expiry: Option<Expiry>,
}

fn domain_list(domains: Vec<DomainName>) -> DomainList {
    DomainList(domains.into_iter().map(DomainName::into_string).collect())
}

fn text(setting: Option<Setting>) -> Option<String> {
    setting.map(Setting::into_string)
}

/// `createWorkspace`: the caller becomes its owner, and it becomes the
/// caller's default workspace if the caller has none.
pub async fn create<C>(db: &C, caller: &Caller, input: NewWorkspace) -> Result<workspace::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = now();
    let id = WorkspaceId::new();
    let base_alias = Alias::base_from_name(input.name.as_str());
    let row = workspace::ActiveModel {
        id: Set(id.0),
        alias: Set(String::new()),
        name: Set(input.name.into_string()),
        domains: Set(domain_list(input.domains)),
        repository_url: Set(text(input.repository_url)),
        pipelines_image: Set(text(input.pipelines_image)),
        image_url: Set(text(input.image_url)),
        status: Set(WorkspaceStatus::Ready),
        owner_id: Set(caller.id().0),
        invitation_expiry_secs: Set(input.invitation_expiry.unwrap_or(Expiry::DEFAULT).secs()),
        created: Set(now),
        last_modified: Set(now),
    };

    let txn = db.begin().await?;
    match input.alias {
        Some(alias) => {
            if !insert_with_alias(&txn, row, &alias).await? {
                return Err(Error::conflict(Reason::AliasTaken, "That alias is taken"));
            }
        }
        None => insert_with_generated_alias(&txn, row, &base_alias).await?,
    }
    membership::ActiveModel {
        workspace_id: Set(id.0),
        profile_id: Set(caller.id().0),
        role: Set(Role::Owner),
        created: Set(now),
        invitation_id: Set(None),
    }
    .insert(&txn)
    .await?;
    profiles::default_if_unset(&txn, caller.id(), id).await?;
    let model = find(&txn, id)
        .await?
        .ok_or_else(|| Error::internal("the new workspace is not there"))?;
    txn.commit().await?;
    Ok(model)
}

/// Inserts unless the alias is taken; `false` when it is. `ON CONFLICT DO
/// NOTHING` waits for a concurrent insert of the same alias to commit, so
/// uniqueness holds across processes without aborting the transaction.
async fn insert_with_alias(
    db: &impl ConnectionTrait,
    mut row: workspace::ActiveModel,
    alias: &Alias,
) -> Result<bool> {
    row.alias = Set(alias.as_str().to_owned());
    let result = workspace::Entity::insert(row)
        .on_conflict_do_nothing_on([workspace::Column::Alias])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(result, TryInsertResult::Inserted(n) if n > 0))
}

/// Tries the name's slug, then numbered variants, until one is free.
async fn insert_with_generated_alias(
    db: &impl ConnectionTrait,
    row: workspace::ActiveModel,
    base: &str,
) -> Result<()> {
    for _ in 0..20 {
        let alias = free_alias(db, base).await?;
        if insert_with_alias(db, row.clone(), &alias).await? {
            return Ok(());
        }
    }
    Err(Error::internal("could not find a free alias"))
}

async fn free_alias(db: &impl ConnectionTrait, base: &str) -> Result<Alias> {
    // Every candidate up to _99999 starts with this prefix.
    let prefix = &base[..base.len().min(alias::MAX_LEN - 6)];
    let taken: HashSet<String> = workspace::Entity::find()
        .select_only()
        .column(workspace::Column::Alias)
        .filter(workspace::Column::Alias.starts_with(prefix.trim_end_matches('_')))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    (1..=99_999)
        .map(|n| Alias::candidate(base, n))
        .find(|a| !taken.contains(a.as_str()))
        .ok_or_else(|| Error::internal("no free alias"))
}

pub async fn find(db: &impl ConnectionTrait, id: WorkspaceId) -> Result<Option<workspace::Model>> {
    Ok(workspace::Entity::find_by_id(id.0).one(db).await?)
}

/// Loads workspaces by id, for batching.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[WorkspaceId],
) -> Result<Vec<workspace::Model>> {
    Ok(workspace::Entity::find()
        .filter(workspace::Column::Id.is_in(ids.iter().map(|i| i.0)))
        .all(db)
        .await?)
}

/// A workspace the caller belongs to, with the caller's role; `NOT_FOUND`
/// for anyone else, saying nothing about whether it exists.
pub async fn for_member(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: WorkspaceId,
) -> Result<Membership> {
    members::membership(db, id, caller.id())
        .await?
        .ok_or(Error::NotFound("workspace"))
}

/// Owner-only operations: a member gets `FORBIDDEN`, anyone else
/// `NOT_FOUND`.
async fn for_owner(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: WorkspaceId,
) -> Result<workspace::Model> {
    match for_member(db, caller, id).await? {
        Membership {
            workspace,
            role: Role::Owner,
        } => Ok(workspace),
        _ => Err(Error::forbidden("Only the workspace owner may do this")),
    }
}

/// `updateWorkspace`.
pub async fn update(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: WorkspaceId,
    patch: Input<WorkspacePatch>,
) -> Result<workspace::Model> {
    let current = for_owner(db, caller, id).await?;
    let patch = patch?;
    let mut active: workspace::ActiveModel = current.into();
    if let Some(name) = patch.name {
        active.name = Set(name.into_string());
    }
    if let Some(domains) = patch.domains {
        active.domains = Set(domain_list(domains));
    }
    if let Some(v) = patch.repository_url {
        active.repository_url = Set(text(v));
    }
    if let Some(v) = patch.pipelines_image {
        active.pipelines_image = Set(text(v));
    }
    if let Some(v) = patch.image_url {
        active.image_url = Set(text(v));
    }
    if let Some(e) = patch.invitation_expiry {
        active.invitation_expiry_secs = Set(e.secs());
    }
    active.last_modified = Set(now());
    Ok(active.update(db).await?)
}

/// `deleteWorkspace`: removes it with its memberships (and, by foreign
/// key, everything else that belongs to it), and clears it as anyone's
/// default.
pub async fn delete<C>(db: &C, caller: &Caller, id: WorkspaceId) -> Result<WorkspaceId>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    for_owner(&txn, caller, id).await?;
    profiles::clear_default(&txn, id, None).await?;
    membership::Entity::delete_many()
        .filter(membership::Column::WorkspaceId.eq(id.0))
        .exec(&txn)
        .await?;
    workspace::Entity::delete_by_id(id.0).exec(&txn).await?;
    txn.commit().await?;
    Ok(id)
}

const NEWEST_FIRST: Keyset<workspace::Entity> = Keyset {
    at: workspace::Column::Created,
    id: workspace::Column::Id,
    natural: Order::Desc,
    key_of: |w| Key {
        at: w.created,
        id: w.id,
    },
};

fn of_member(profile: ProfileId) -> Select<workspace::Entity> {
    let mine = membership::Entity::find()
        .select_only()
        .column(membership::Column::WorkspaceId)
        .filter(membership::Column::ProfileId.eq(profile.0))
        .into_query();
    workspace::Entity::find().filter(workspace::Column::Id.in_subquery(mine))
}

/// The workspaces the caller belongs to, newest first, each with the
/// caller's role.
pub async fn page_of_caller(
    db: &impl ConnectionTrait,
    caller: &Caller,
    req: &PageRequest,
) -> Result<Page<Membership>> {
    let me = caller.id();
    let page = NEWEST_FIRST.fetch(db, of_member(me), req).await?;
    let pairs: Vec<_> = page
        .items
        .iter()
        .map(|(_, w)| (WorkspaceId(w.id), me))
        .collect();
    let roles: std::collections::HashMap<_, _> =
        members::roles(db, &pairs).await?.into_iter().collect();
    Ok(page.map(|workspace| Membership {
        role: roles
            .get(&(WorkspaceId(workspace.id), me))
            .copied()
            .unwrap_or(Role::Member),
        workspace,
    }))
}

pub async fn count_of_caller(db: &impl ConnectionTrait, caller: &Caller) -> Result<u64> {
    Ok(of_member(caller.id()).count(db).await?)
}

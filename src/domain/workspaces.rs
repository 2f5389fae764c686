//! Workspaces: creation with a unique alias, owner-only changes, deletion,
//! and the viewer's listing.

use sea_orm::{
    sea_query::{Expr, Order},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, QueryTrait, Select, Set, TransactionSession, TransactionTrait, TryInsertResult,
};
use std::collections::HashSet;
use uuid::Uuid;

use entity::{
    membership::{self, Role},
    profile,
    workspace::{self, DomainList, WorkspaceStatus},
};

use super::{
    alias::{self, Alias},
    domain_name::DomainName,
    name::Name,
    now,
    paging::{Key, Keyset, Page, PageRequest},
    profiles,
};
use crate::error::{Error, Reason, Result};

/// `createWorkspace` input, as the client sent it.
#[derive(Debug, Default, Clone)]
pub struct NewWorkspace {
    pub name: String,
    pub alias: Option<String>,
    pub domains: Option<Vec<String>>,
    pub repository_url: Option<String>,
    pub pipelines_image: Option<String>,
    pub image_url: Option<String>,
}

/// `updateWorkspace` input: `None` leaves a field unchanged; for the
/// optional texts, `Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct WorkspacePatch {
    pub name: Option<String>,
    pub domains: Option<Vec<String>>,
    pub repository_url: Option<Option<String>>,
    pub pipelines_image: Option<Option<String>>,
    pub image_url: Option<Option<String>>,
}

/// Optional free-text settings (URLs, an image reference): trimmed, blank
/// means none, at most 2048 characters, no control characters.
pub fn parse_setting(raw: Option<&str>, field: &'static str) -> Result<Option<String>> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > 2048 || value.chars().any(char::is_control) {
        return Err(Error::bad_input(
            Reason::InvalidValue,
            field,
            format!("`{field}` must be at most 2048 characters, without control characters"),
        ));
    }
    Ok(Some(value.to_owned()))
}

fn domain_list(raw: &[String]) -> Result<DomainList> {
    Ok(DomainList(
        DomainName::parse_list(raw)?
            .into_iter()
            .map(DomainName::into_string)
            .collect(),
    ))
}

/// `createWorkspace`: the viewer becomes its owner, and it becomes the
/// viewer's default workspace if the viewer has none.
pub async fn create<C>(db: &C, owner_id: Uuid, input: NewWorkspace) -> Result<workspace::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let name = Name::parse(&input.name)?;
    let given_alias = input.alias.as_deref().map(Alias::parse).transpose()?;
    let domains = domain_list(input.domains.as_deref().unwrap_or_default())?;
    let now = now();
    let id = Uuid::new_v4();
    let row = workspace::ActiveModel {
        id: Set(id),
        alias: Set(String::new()),
        name: Set(name.into_string()),
        domains: Set(domains),
        repository_url: Set(parse_setting(
            input.repository_url.as_deref(),
            "repositoryUrl",
        )?),
        pipelines_image: Set(parse_setting(
            input.pipelines_image.as_deref(),
            "pipelinesImage",
        )?),
        image_url: Set(parse_setting(input.image_url.as_deref(), "imageUrl")?),
        status: Set(WorkspaceStatus::Ready),
        owner_id: Set(owner_id),
        created: Set(now),
        last_modified: Set(now),
    };

    let txn = db.begin().await?;
    match given_alias {
        Some(alias) => {
            if !insert_with_alias(&txn, row, &alias).await? {
                return Err(Error::conflict(Reason::AliasTaken, "That alias is taken"));
            }
        }
        None => insert_with_generated_alias(&txn, row, &input.name).await?,
    }
    membership::ActiveModel {
        workspace_id: Set(id),
        profile_id: Set(owner_id),
        role: Set(Role::Owner),
        created: Set(now),
        invitation_id: Set(None),
    }
    .insert(&txn)
    .await?;
    profiles::default_if_unset(&txn, owner_id, id).await?;
    let model = find(&txn, id).await?.ok_or(Error::NotFound("workspace"))?;
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
    name: &str,
) -> Result<()> {
    let base = Alias::base_from_name(name);
    for _ in 0..20 {
        let alias = free_alias(db, &base).await?;
        if insert_with_alias(db, row.clone(), &alias).await? {
            return Ok(());
        }
    }
    Err(Error::Internal("could not find a free alias".into()))
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
        .ok_or_else(|| Error::Internal("no free alias".into()))
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<workspace::Model>> {
    Ok(workspace::Entity::find_by_id(id).one(db).await?)
}

/// Loads workspaces by id, for batching.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<workspace::Model>> {
    Ok(workspace::Entity::find()
        .filter(workspace::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// A workspace the viewer belongs to, with the viewer's role; `NOT_FOUND`
/// for anyone else, saying nothing about whether it exists.
pub async fn for_member(
    db: &impl ConnectionTrait,
    viewer_id: Uuid,
    id: Uuid,
) -> Result<(workspace::Model, Role)> {
    // One statement: the membership with its workspace.
    let found = membership::Entity::find_by_id((id, viewer_id))
        .find_also_related(workspace::Entity)
        .one(db)
        .await?;
    match found {
        Some((m, Some(model))) => Ok((model, m.role)),
        _ => Err(Error::NotFound("workspace")),
    }
}

/// Owner-only operations: a member gets `FORBIDDEN`, anyone else
/// `NOT_FOUND`.
async fn for_owner(
    db: &impl ConnectionTrait,
    viewer_id: Uuid,
    id: Uuid,
) -> Result<workspace::Model> {
    match for_member(db, viewer_id, id).await? {
        (model, Role::Owner) => Ok(model),
        (_, Role::Member) => Err(Error::forbidden("Only the workspace owner may do this")),
    }
}

/// `updateWorkspace`.
pub async fn update(
    db: &impl ConnectionTrait,
    viewer_id: Uuid,
    id: Uuid,
    patch: WorkspacePatch,
) -> Result<workspace::Model> {
    let current = for_owner(db, viewer_id, id).await?;
    let mut active: workspace::ActiveModel = current.into();
    if let Some(name) = patch.name {
        active.name = Set(Name::parse(&name)?.into_string());
    }
    if let Some(domains) = patch.domains {
        active.domains = Set(domain_list(&domains)?);
    }
    let settings = [
        (patch.repository_url, "repositoryUrl"),
        (patch.pipelines_image, "pipelinesImage"),
        (patch.image_url, "imageUrl"),
    ];
    for (value, field) in settings {
        let Some(value) = value else { continue };
        let parsed = Set(parse_setting(value.as_deref(), field)?);
        match field {
            "repositoryUrl" => active.repository_url = parsed,
            "pipelinesImage" => active.pipelines_image = parsed,
            _ => active.image_url = parsed,
        }
    }
    active.last_modified = Set(now());
    Ok(active.update(db).await?)
}

/// `deleteWorkspace`: removes it with its memberships (and, by foreign
/// key, everything else that belongs to it), and clears it as anyone's
/// default.
pub async fn delete<C>(db: &C, viewer_id: Uuid, id: Uuid) -> Result<Uuid>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    for_owner(&txn, viewer_id, id).await?;
    profile::Entity::update_many()
        .col_expr(
            profile::Column::DefaultWorkspaceId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(profile::Column::DefaultWorkspaceId.eq(id))
        .exec(&txn)
        .await?;
    membership::Entity::delete_many()
        .filter(membership::Column::WorkspaceId.eq(id))
        .exec(&txn)
        .await?;
    workspace::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(id)
}

pub const LISTING: &str = "workspaces";

const NEWEST_FIRST: Keyset<workspace::Entity> = Keyset {
    at: workspace::Column::Created,
    id: workspace::Column::Id,
    natural: Order::Desc,
    key_of: |w| Key {
        at: w.created,
        id: w.id,
    },
};

fn of_viewer(viewer_id: Uuid) -> Select<workspace::Entity> {
    let mine = membership::Entity::find()
        .select_only()
        .column(membership::Column::WorkspaceId)
        .filter(membership::Column::ProfileId.eq(viewer_id))
        .into_query();
    workspace::Entity::find().filter(workspace::Column::Id.in_subquery(mine))
}

/// The workspaces the viewer owns or belongs to, newest first.
pub async fn page_of_viewer(
    db: &impl ConnectionTrait,
    viewer_id: Uuid,
    req: &PageRequest,
) -> Result<Page<workspace::Model>> {
    NEWEST_FIRST.fetch(db, of_viewer(viewer_id), req).await
}

pub async fn count_of_viewer(db: &impl ConnectionTrait, viewer_id: Uuid) -> Result<u64> {
    Ok(of_viewer(viewer_id).count(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_trimmed_and_blank_means_none() {
        assert_eq!(parse_setting(Some("  "), "imageUrl").unwrap(), None);
        assert_eq!(
            parse_setting(Some(" https://x.test/a.png "), "imageUrl")
                .unwrap()
                .as_deref(),
            Some("https://x.test/a.png")
        );
        assert!(parse_setting(Some(&"x".repeat(2049)), "imageUrl").is_err());
    }
}

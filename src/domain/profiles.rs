//! Profiles: created on first access from the token, email kept in step with
//! it, name and phone the user's own after that.

use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, Set, SqlErr,
};
use std::collections::HashSet;
use uuid::Uuid;

use entity::profile;

use super::{
    caller::{Caller, Identity},
    ids::{ProfileId, WorkspaceId},
    members, now,
    values::{handle, Name, Phone},
};
use crate::error::{Error, Result};

/// The caller a verified token names, their profile made on first access.
/// The email follows the token; the name is taken from the token only when
/// the profile is made.
pub async fn sign_in(db: &impl ConnectionTrait, id: &Identity) -> Result<Caller> {
    let profile = ensure(db, id).await?;
    Ok(Caller {
        profile,
        email_verified: id.email_verified,
    })
}

async fn ensure(db: &impl ConnectionTrait, id: &Identity) -> Result<profile::Model> {
    if let Some(found) = find_by_subject(db, &id.subject).await? {
        return follow_email(db, found, &id.email).await;
    }
    let name = initial_name(id);
    let base = handle::base(&name);
    // A concurrent first request for the same subject, or another profile
    // taking the same handle, shows up as a unique violation: look again.
    for _ in 0..10 {
        let handle = free_handle(db, &base).await?;
        let now = now();
        let new = profile::ActiveModel {
            id: Set(Uuid::new_v4()),
            subject: Set(id.subject.clone()),
            email: Set(id.email.clone()),
            name: Set(name.clone()),
            handle: Set(handle),
            phone: Set(None),
            default_workspace_id: Set(None),
            created: Set(now),
            last_modified: Set(now),
        };
        match new.insert(db).await {
            Ok(model) => return Ok(model),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                if let Some(found) = find_by_subject(db, &id.subject).await? {
                    return follow_email(db, found, &id.email).await;
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::internal("could not find a free handle"))
}

fn initial_name(id: &Identity) -> String {
    let from_token = id.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let name = from_token.unwrap_or_else(|| id.email.split('@').next().unwrap_or(""));
    // A token cannot be refused for its name: control characters become
    // spaces (SPEC Part 2, "Names").
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(Name::MAX_CHARS)
        .collect();
    match name.trim() {
        "" => "user".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}

async fn find_by_subject(
    db: &impl ConnectionTrait,
    subject: &str,
) -> Result<Option<profile::Model>> {
    Ok(profile::Entity::find()
        .filter(profile::Column::Subject.eq(subject))
        .one(db)
        .await?)
}

async fn follow_email(
    db: &impl ConnectionTrait,
    found: profile::Model,
    email: &str,
) -> Result<profile::Model> {
    if found.email == email {
        return Ok(found);
    }
    let mut active: profile::ActiveModel = found.into();
    active.email = Set(email.to_owned());
    active.last_modified = Set(now());
    Ok(active.update(db).await?)
}

/// The first candidate handle for `base` that no profile has yet.
async fn free_handle(db: &impl ConnectionTrait, base: &str) -> Result<String> {
    let prefix = handle::search_prefix(base);
    let taken: HashSet<String> = profile::Entity::find()
        .select_only()
        .column(profile::Column::Handle)
        .filter(profile::Column::Handle.starts_with(&prefix))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    (1..=handle::MAX_SUFFIX)
        .map(|n| handle::candidate(base, n))
        .find(|h| !taken.contains(h))
        .ok_or_else(|| Error::internal("no free handle"))
}

/// `updateProfile` input: `None` leaves a field as it is; a phone of
/// `Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct ProfilePatch {
    pub name: Option<Name>,
    pub phone: Option<Option<Phone>>,
}

/// `updateProfile`.
pub async fn update(
    db: &impl ConnectionTrait,
    caller: &Caller,
    patch: ProfilePatch,
) -> Result<profile::Model> {
    if patch.name.is_none() && patch.phone.is_none() {
        return Ok(caller.profile.clone());
    }
    let mut active: profile::ActiveModel = caller.profile.clone().into();
    if let Some(name) = patch.name {
        active.name = Set(name.into_string());
    }
    if let Some(phone) = patch.phone {
        active.phone = Set(phone.map(Phone::into_string));
    }
    active.last_modified = Set(now());
    Ok(active.update(db).await?)
}

/// `setDefaultWorkspace`: only a workspace the caller belongs to.
pub async fn set_default_workspace(
    db: &impl ConnectionTrait,
    caller: &Caller,
    workspace: WorkspaceId,
) -> Result<profile::Model> {
    members::membership(db, workspace, caller.id())
        .await?
        .ok_or(Error::NotFound("workspace"))?;
    let mut active: profile::ActiveModel = caller.profile.clone().into();
    active.default_workspace_id = Set(Some(workspace.0));
    active.last_modified = Set(now());
    Ok(active.update(db).await?)
}

/// Makes `workspace` the profile's default when it has none, as the SPEC
/// wants for the next workspace a profile creates or joins.
pub async fn default_if_unset(
    db: &impl ConnectionTrait,
    profile: ProfileId,
    workspace: WorkspaceId,
) -> Result<()> {
    profile::Entity::update_many()
        .col_expr(
            profile::Column::DefaultWorkspaceId,
            Expr::value(workspace.0),
        )
        .filter(profile::Column::Id.eq(profile.0))
        .filter(profile::Column::DefaultWorkspaceId.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Clears `workspace` as the default of `profiles` (all profiles when
/// `None`), when the membership or the workspace ends.
pub async fn clear_default(
    db: &impl ConnectionTrait,
    workspace: WorkspaceId,
    profile: Option<ProfileId>,
) -> Result<()> {
    let mut update = profile::Entity::update_many()
        .col_expr(
            profile::Column::DefaultWorkspaceId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(profile::Column::DefaultWorkspaceId.eq(workspace.0));
    if let Some(p) = profile {
        update = update.filter(profile::Column::Id.eq(p.0));
    }
    update.exec(db).await?;
    Ok(())
}

/// Loads profiles by id, for batching.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[ProfileId]) -> Result<Vec<profile::Model>> {
    Ok(profile::Entity::find()
        .filter(profile::Column::Id.is_in(ids.iter().map(|i| i.0)))
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::email::normalise;

    fn identity(email: &str, name: Option<&str>) -> Identity {
        Identity {
            subject: "s".into(),
            email: normalise(email),
            name: name.map(Into::into),
            email_verified: true,
        }
    }

    #[test]
    fn name_defaults_to_the_email_local_part() {
        assert_eq!(initial_name(&identity("ada.l@x.com", None)), "ada.l");
        assert_eq!(initial_name(&identity("ada.l@x.com", Some("  "))), "ada.l");
        assert_eq!(initial_name(&identity("ada.l@x.com", Some("Ada"))), "Ada");
    }

    #[test]
    fn control_characters_in_a_token_name_become_spaces() {
        let name = initial_name(&identity("a@x.com", Some("Ann\tLee\u{85}\n")));
        assert_eq!(name, "Ann Lee");
    }
}

//! Profiles: created on first access from the token, email kept in step with
//! it, name and phone the user's own after that.

use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, Set, SqlErr,
};
use std::collections::HashSet;
use uuid::Uuid;

use entity::{membership, profile};

use super::{domain_name::DomainName, handle, name::Name};
use crate::error::{Error, Reason, Result};

/// Who the verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    /// Normalised with [`normalise_email`].
    pub email: String,
    pub name: Option<String>,
    pub email_verified: bool,
}

/// Lower case, trimmed, and the domain in its ASCII (IDN) form when it is a
/// host name, so that tokens and invitations compare alike.
pub fn normalise_email(raw: &str) -> String {
    let lower = raw.trim().to_lowercase();
    match lower.rsplit_once('@') {
        Some((local, domain)) => match DomainName::normalise(domain) {
            Some(ascii) => format!("{local}@{ascii}"),
            None => lower,
        },
        None => lower,
    }
}

/// The caller's profile, created on first access. The email follows the
/// token; the name is taken from the token only when the profile is made.
pub async fn ensure(db: &impl ConnectionTrait, id: &Identity) -> Result<profile::Model> {
    if let Some(found) = find_by_subject(db, &id.subject).await? {
        return follow_email(db, found, &id.email).await;
    }
    let name = initial_name(id);
    let base = handle::base(&name);
    // A concurrent first request for the same subject, or another profile
    // taking the same handle, shows up as a unique violation: look again.
    for _ in 0..10 {
        let handle = free_handle(db, &base).await?;
        let now = super::now();
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
    Err(Error::Internal("could not find a free handle".into()))
}

fn initial_name(id: &Identity) -> String {
    let from_token = id.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let name = from_token.unwrap_or_else(|| id.email.split('@').next().unwrap_or(""));
    let name: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
    if name.trim().is_empty() {
        "user".to_owned()
    } else {
        name
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
    active.last_modified = Set(super::now());
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
        .ok_or_else(|| Error::Internal("no free handle".into()))
}

/// A phone number as people write it: digits, spaces and `+-().`, at most
/// 32 characters. Blank clears it.
pub fn parse_phone(raw: &str) -> Result<Option<String>> {
    let phone = raw.trim();
    if phone.is_empty() {
        return Ok(None);
    }
    let ok = phone.len() <= 32
        && phone.chars().any(|c| c.is_ascii_digit())
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !ok {
        return Err(Error::bad_input(
            Reason::InvalidPhone,
            "phone",
            "The phone number may hold digits, spaces and +-(). only, at most 32 characters",
        ));
    }
    Ok(Some(phone.to_owned()))
}

/// `updateProfile`: absent fields stay as they are.
pub async fn update(
    db: &impl ConnectionTrait,
    me: profile::Model,
    name: Option<&str>,
    phone: Option<&str>,
) -> Result<profile::Model> {
    let name = name.map(Name::parse).transpose()?.map(Name::into_string);
    let phone = phone.map(parse_phone).transpose()?;
    if name.is_none() && phone.is_none() {
        return Ok(me);
    }
    let mut active: profile::ActiveModel = me.into();
    if let Some(name) = name {
        active.name = Set(name);
    }
    if let Some(phone) = phone {
        active.phone = Set(phone);
    }
    active.last_modified = Set(super::now());
    Ok(active.update(db).await?)
}

/// `setDefaultWorkspace`: only a workspace the viewer belongs to.
pub async fn set_default_workspace(
    db: &impl ConnectionTrait,
    me: profile::Model,
    workspace_id: Uuid,
) -> Result<profile::Model> {
    let member = membership::Entity::find_by_id((workspace_id, me.id))
        .one(db)
        .await?;
    if member.is_none() {
        return Err(Error::NotFound("workspace"));
    }
    let mut active: profile::ActiveModel = me.into();
    active.default_workspace_id = Set(Some(workspace_id));
    active.last_modified = Set(super::now());
    Ok(active.update(db).await?)
}

/// Makes `workspace_id` the profile's default when it has none, as the SPEC
/// wants for the next workspace a profile creates or joins.
pub async fn default_if_unset(
    db: &impl ConnectionTrait,
    profile_id: Uuid,
    workspace_id: Uuid,
) -> Result<()> {
    profile::Entity::update_many()
        .col_expr(
            profile::Column::DefaultWorkspaceId,
            Expr::value(workspace_id),
        )
        .filter(profile::Column::Id.eq(profile_id))
        .filter(profile::Column::DefaultWorkspaceId.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Loads profiles by id, for batching.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<profile::Model>> {
    Ok(profile::Entity::find()
        .filter(profile::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(email: &str, name: Option<&str>) -> Identity {
        Identity {
            subject: "s".into(),
            email: normalise_email(email),
            name: name.map(Into::into),
            email_verified: true,
        }
    }

    #[test]
    fn email_is_stored_lower_cased() {
        assert_eq!(normalise_email(" Ada@Example.COM "), "ada@example.com");
    }

    #[test]
    fn email_domain_is_stored_in_ascii() {
        assert_eq!(
            normalise_email("ada@Bücher.example"),
            "ada@xn--bcher-kva.example"
        );
    }

    #[test]
    fn name_defaults_to_the_email_local_part() {
        assert_eq!(initial_name(&identity("ada.l@x.com", None)), "ada.l");
        assert_eq!(initial_name(&identity("ada.l@x.com", Some("  "))), "ada.l");
        assert_eq!(initial_name(&identity("ada.l@x.com", Some("Ada"))), "Ada");
    }

    #[test]
    fn phone_accepts_what_people_write_and_blank_clears() {
        assert_eq!(
            parse_phone(" +1 (555) 010-0000 ").unwrap().as_deref(),
            Some("+1 (555) 010-0000")
        );
        assert_eq!(parse_phone("  ").unwrap(), None);
        assert!(parse_phone("call me").is_err());
    }
}

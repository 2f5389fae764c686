//! Per-request context: the caller, resolved to a profile once per request.

use async_graphql::Context;
use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;

use entity::profile;

use crate::domain::invitations::Caller;
use crate::domain::profiles::{self, Identity};
use crate::error::{Error, Result};

/// What the HTTP edge learned from the `Authorization` header.
#[derive(Debug, Clone)]
pub enum Auth {
    Missing,
    Invalid(String),
    Valid(Identity),
}

/// The authenticated caller and their profile.
#[derive(Debug)]
pub struct Viewer {
    pub identity: Identity,
    pub profile: profile::Model,
}

impl Viewer {
    pub fn id(&self) -> uuid::Uuid {
        self.profile.id
    }

    pub fn caller(&self) -> Caller<'_> {
        Caller {
            profile_id: self.profile.id,
            email: &self.profile.email,
            email_verified: self.identity.email_verified,
        }
    }
}

#[derive(Default)]
pub struct ViewerCell(OnceCell<Viewer>);

/// Typed access to request and schema data; a missing item is a bug, so
/// it is an internal error rather than a panic.
pub fn data<'a, T: Send + Sync + 'static>(ctx: &Context<'a>) -> Result<&'a T> {
    ctx.data_opt::<T>().ok_or_else(|| {
        Error::Internal(format!(
            "missing context data {}",
            std::any::type_name::<T>()
        ))
    })
}

pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection> {
    data::<DatabaseConnection>(ctx)
}

/// The caller; `UNAUTHENTICATED` without a valid token. Every root field
/// starts here, so nothing is reachable without it.
pub async fn viewer<'a>(ctx: &Context<'a>) -> Result<&'a Viewer> {
    let identity = match data::<Auth>(ctx)? {
        Auth::Valid(identity) => identity,
        Auth::Missing => {
            return Err(Error::Unauthenticated(
                "Authentication required: send `Authorization: Bearer <token>`".into(),
            ))
        }
        Auth::Invalid(why) => return Err(Error::Unauthenticated(why.clone())),
    };
    let db = db(ctx)?;
    data::<ViewerCell>(ctx)?
        .0
        .get_or_try_init(|| async {
            let profile = profiles::ensure(db, identity).await?;
            Ok(Viewer {
                identity: identity.clone(),
                profile,
            })
        })
        .await
}

/// The request's dataloader of type `L`.
pub fn loader<'a, L: Send + Sync + 'static>(
    ctx: &Context<'a>,
) -> Result<&'a async_graphql::dataloader::DataLoader<L, async_graphql::dataloader::HashMapCache>> {
    data(ctx)
}

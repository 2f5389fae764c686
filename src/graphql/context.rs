//! Per-request context: the caller, signed in once per request, and typed
//! access to what the schema and the request carry.

use async_graphql::{
    dataloader::{DataLoader, HashMapCache},
    Context,
};
use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;

use crate::domain::{
    caller::{Caller, Identity},
    profiles,
};
use crate::error::{Error, Result};

/// What the HTTP edge learned from the `Authorization` header.
#[derive(Debug, Clone)]
pub enum Auth {
    Missing,
    /// Why the token was refused (safe to show the client).
    Invalid(String),
    Valid(Identity),
}

/// The request's caller, made once on first use.
#[derive(Default)]
pub(crate) struct CallerCell(OnceCell<Caller>);

/// Typed access to request and schema data; a missing item is a bug, so
/// it is an internal error rather than a panic.
pub(crate) fn data<'a, T: Send + Sync + 'static>(ctx: &Context<'a>) -> Result<&'a T> {
    ctx.data_opt::<T>().ok_or_else(|| {
        Error::internal(format!(
            "missing context data {}",
            std::any::type_name::<T>()
        ))
    })
}

pub(crate) fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection> {
    data::<DatabaseConnection>(ctx)
}

/// The caller; `UNAUTHENTICATED` without a valid token. Every root field
/// starts here, so nothing is reachable without it.
pub(crate) async fn caller<'a>(ctx: &Context<'a>) -> Result<&'a Caller> {
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
    data::<CallerCell>(ctx)?
        .0
        .get_or_try_init(|| profiles::sign_in(db, identity))
        .await
}

/// The request's dataloader of type `L`.
pub(crate) fn loader<'a, L: Send + Sync + 'static>(
    ctx: &Context<'a>,
) -> Result<&'a DataLoader<L, HashMapCache>> {
    data(ctx)
}

/// Told when a subscription listens (events committed from then on reach
/// it), so the WebSocket can hold the client's next message until then.
pub struct Listening(std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>);

impl Listening {
    pub fn new() -> (Self, tokio::sync::oneshot::Receiver<()>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (Self(std::sync::Mutex::new(Some(tx))), rx)
    }

    pub(crate) fn now(&self) {
        if let Some(tx) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
        }
    }
}

//! What the engine needs of a channel (email today; webhooks next): where
//! its rows live, how to turn claimed rows into messages, and how to send
//! them.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use std::{fmt, future::Future};

use super::outbox::{Claimed, Queue, Recorded};
use crate::error::Result;

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth another try (4xx, connection trouble, timeouts).
    Transient(String),
    /// Will never work for this message: fail it at once.
    Permanent(String),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Transient(m) | SendError::Permanent(m) => f.write_str(m),
        }
    }
}

/// What a claimed row turned into.
#[derive(Debug)]
pub enum Prepared<M> {
    /// Ready to send.
    Send(M),
    /// No longer wanted (its subject changed or is gone): not sent.
    Cancel,
    /// Can never be sent (it cannot be rendered): fails for good.
    Fail(String),
}

/// A delivery channel.
pub trait Channel: Send + Sync + 'static {
    /// What [`Channel::load`] reads for a batch of rows.
    type Loaded: Send + Sync;
    /// A rendered message.
    type Message: Send + Sync;
    /// A connection messages go over, opened per batch.
    type Session: Session<Self::Message>;

    /// A short name for logs and metrics, such as `email`.
    fn name(&self) -> &'static str;

    /// The channel's outbox table.
    fn queue(&self) -> &'static Queue;

    /// For logs: where messages go.
    fn describe(&self) -> String;

    /// Reads what the claimed rows need, in a few statements for all.
    fn load(
        &self,
        db: &DatabaseConnection,
        rows: &[Claimed],
    ) -> impl Future<Output = Result<Self::Loaded>> + Send;

    /// Renders one row from what was loaded; no I/O.
    fn render(&self, row: &Claimed, loaded: &Self::Loaded) -> Prepared<Self::Message>;

    /// A session for one batch (a connection opened lazily).
    fn open(&self) -> Self::Session;

    /// What an outcome means beyond the outbox (a history event, say),
    /// written in the transaction that records it.
    fn recorded(
        &self,
        txn: &DatabaseTransaction,
        row: &Claimed,
        recorded: Recorded,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (txn, row, recorded, at, error);
        async { Ok(()) }
    }
}

/// Sends messages one at a time over one connection.
pub trait Session<M>: Send {
    fn send(&mut self, message: &M) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Ends the connection politely.
    fn close(self) -> impl Future<Output = ()> + Send;
}

//! The delivery engine: how a change reaches the outside world at least
//! once and never twice at the same time, whatever is delivered.
//!
//! A mutation writes an outbox row in its own transaction
//! ([`outbox::enqueue`]); a [`Worker`] claims due rows under a lease,
//! has its [`Channel`] render and send them, and records each outcome,
//! retrying with [`backoff`] until the row is `SENT`, `FAILED` or
//! `CANCELLED`. Email (`crate::mail`) is the first channel.

pub mod backoff;
pub mod channel;
pub mod outbox;
pub mod worker;

pub use channel::{Channel, Prepared, SendError, Session};
pub use worker::{DeliveryMetrics, Outcome, StepReport, Wakeup, Worker, WorkerConfig};

//! SeaORM entities: the tables as Rust types, and nothing else.
//!
//! Behaviour lives in the application's `domain` module; migrations live in
//! the `migration` crate and do not depend on this one.

pub mod email_outbox;
pub mod idempotency_key;
pub mod invitation;
pub mod invitation_event;
pub mod membership;
pub mod profile;
pub mod rate_event;
pub mod webhook;
pub mod webhook_delivery;
pub mod workspace;

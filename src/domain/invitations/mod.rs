//! The invitation aggregate: who may ([`access`]), the state machine
//! ([`state`]) with its expiry ([`expiry`]), creating ([`creation`]) and
//! the other mutations ([`commands`]),
//! what happens when a membership ends ([`departure`]), the reads
//! ([`queries`]), the history ([`history`]), and its email ([`email`]).

pub mod access;
pub mod commands;
pub mod creation;
pub mod departure;
pub mod email;
pub mod expiry;
pub mod history;
pub mod queries;
pub mod state;

pub use commands::{accept, decline, delete, resend, withdraw, ResendLimits};
pub use creation::{create, create_many, AddressResult, NewInvitations, Outcome};
pub use queries::{by_ids, count, get, listing_query, may_hear, page, Listing};

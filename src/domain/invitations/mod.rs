//! The invitation aggregate: who may ([`access`]), the state machine
//! ([`state`]) with its expiry ([`expiry`]), the mutations ([`commands`]),
//! what happens when a membership ends ([`departure`]), the reads
//! ([`queries`]), the history ([`history`]), and its email ([`email`]).

pub mod access;
pub mod commands;
pub mod departure;
pub mod email;
pub mod expiry;
pub mod history;
pub mod queries;
pub mod state;

pub use commands::{
    accept, create, decline, delete, resend, withdraw, NewInvitation, ResendLimits,
};
pub use queries::{count, get, listing_query, page, Listing};

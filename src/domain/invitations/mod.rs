//! The invitation aggregate: who may ([`access`]), the state machine
//! ([`state`]), the mutations ([`commands`]), the reads ([`queries`]), and
//! what its email says ([`email`]).

pub mod access;
pub mod commands;
pub mod email;
pub mod queries;
pub mod state;

pub use commands::{accept, create, delete, withdraw};
pub use queries::{count, get, listing_query, page, Listing};

//! The invitations server as a library, so tests build it as `main` does.
//!
//! Data flows one way: `http` (the edge) -> `auth` -> `graphql` (thin
//! resolvers) -> `domain` (the SPEC's rules) -> SeaORM `entity` -> database.

pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod startup;
pub mod telemetry;

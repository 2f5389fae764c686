//! The invitations server as a library, so tests build it as `main` does.
//!
//! A request flows down: `http` (the edge) -> `auth` (the token) ->
//! `graphql` (thin resolvers) -> `domain` (the SPEC's rules) -> SeaORM
//! `entity` -> database. A change that must reach the world flows on:
//! `domain` writes an outbox row in its transaction -> `delivery` (the
//! worker) -> a channel (`mail` -> SMTP, `webhook` -> HTTP). And a change
//! a subscriber must see: `domain` writes a history event -> `live` (the
//! feed, every process) -> `graphql` (subscriptions) -> `http` (the
//! WebSocket).

// Unit tests use only some of the dev-dependencies (the rest are the
// integration tests').
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod auth;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod health;
pub mod http;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod startup;
pub mod telemetry;
pub mod webhook;

// The binary's global allocator: a dependency of the package, not of this
// library.
use mimalloc as _;

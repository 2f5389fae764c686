//! Database migrations: frozen history, independent of the `entity` crate.
//!
//! Tables and columns are named with `DeriveIden` enums local to each
//! migration, so a later change to an entity can never rewrite the past.

// `MigrationTrait`'s methods, written through async-trait, must keep the
// trait's elided lifetimes.
#![allow(elided_lifetimes_in_paths)]

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_foundation;
mod m20261126_000002_invitations;
mod m20261126_000003_rate_limits;
mod m20261202_000004_lifecycle;
mod m20261202_000005_idempotency;
mod m20261202_000006_event_notify;
mod m20261204_000007_webhooks;
mod m20261204_000008_delivery_trace;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_foundation::Migration),
            Box::new(m20261126_000002_invitations::Migration),
            Box::new(m20261126_000003_rate_limits::Migration),
            Box::new(m20261202_000004_lifecycle::Migration),
            Box::new(m20261202_000005_idempotency::Migration),
            Box::new(m20261202_000006_event_notify::Migration),
            Box::new(m20261204_000007_webhooks::Migration),
            Box::new(m20261204_000008_delivery_trace::Migration),
        ]
    }
}

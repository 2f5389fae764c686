//! The SPEC's rules in plain Rust: input values, the caller, and one
//! function per operation taking any SeaORM connection (a pool or a
//! transaction). Nothing here knows about GraphQL or HTTP.

pub mod caller;
pub mod idempotency;
pub mod ids;
pub mod invitations;
pub mod members;
pub mod paging;
pub mod profiles;
pub mod rate_limit;
pub mod team;
pub mod values;
pub mod webhooks;
pub mod workspaces;

pub use crate::clock::now;

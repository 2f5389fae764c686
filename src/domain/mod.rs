//! The SPEC's rules in plain Rust: input newtypes, and one function per
//! operation taking any SeaORM connection (a pool or a transaction).
//! Nothing here knows about GraphQL or HTTP.

pub mod alias;
pub mod domain_name;
pub mod email;
pub mod handle;
pub mod id;
pub mod invitation_state;
pub mod invitations;
pub mod members;
pub mod name;
pub mod outbox;
pub mod paging;
pub mod profiles;
pub mod rate_limit;
pub mod slug;
pub mod workspaces;

use chrono::{DateTime, SubsecRound, Utc};

/// The current time at the precision both databases store (microseconds),
/// so a value read back equals the value written and cursors stay exact.
pub fn now() -> DateTime<Utc> {
    now_from(Utc::now())
}

/// Any instant at the stored precision.
pub fn now_from(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

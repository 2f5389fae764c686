//! Time at the precision both databases store (microseconds), so a value
//! read back equals the value written and cursors stay exact.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    at_stored_precision(Utc::now())
}

/// Any instant at the stored precision.
pub fn at_stored_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

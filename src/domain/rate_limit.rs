//! Rate limits on creating invitations, per inviter and per workspace,
//! counted in the database so every server process sees the same counts.
//!
//! A sliding window: an action is allowed while fewer than `limit` actions
//! of its bucket happened in the last `window`. Checked and recorded in the
//! caller's transaction; under concurrent requests a bucket may overshoot
//! by the number of requests in flight.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use std::time::Duration;
use uuid::Uuid;

use entity::rate_event;

use super::ids::{ProfileId, WorkspaceId};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Invitations one profile may create per window; 0 for no limit.
    pub per_inviter: u32,
    /// Invitations one workspace may receive per window; 0 for no limit.
    pub per_workspace: u32,
    pub window: Duration,
}

/// Counts one invitation by `inviter` in `workspace`, or refuses with
/// `RATE_LIMITED` and the seconds until the oldest counted one leaves the
/// window.
pub async fn take_invitation(
    db: &impl ConnectionTrait,
    limits: &RateLimits,
    inviter: ProfileId,
    workspace: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<()> {
    let buckets = [
        (format!("inviter:{inviter}"), limits.per_inviter, "you have"),
        (
            format!("workspace:{workspace}"),
            limits.per_workspace,
            "this workspace has",
        ),
    ];
    let window = chrono::Duration::from_std(limits.window).unwrap_or_default();
    let since = now - window;
    for (bucket, limit, who) in &buckets {
        if *limit == 0 {
            continue;
        }
        // Forget what left the window, so buckets stay small.
        rate_event::Entity::delete_many()
            .filter(rate_event::Column::Bucket.eq(bucket.as_str()))
            .filter(rate_event::Column::At.lte(since))
            .exec(db)
            .await?;
        let (count, oldest): (i64, Option<DateTime<Utc>>) = rate_event::Entity::find()
            .select_only()
            .column_as(rate_event::Column::Id.count(), "count")
            .column_as(rate_event::Column::At.min(), "oldest")
            .filter(rate_event::Column::Bucket.eq(bucket.as_str()))
            .filter(rate_event::Column::At.gt(since))
            .into_tuple()
            .one(db)
            .await?
            .unwrap_or((0, None));
        if count >= i64::from(*limit) {
            let free_at = oldest.unwrap_or(now) + window;
            let retry_after = (free_at - now).num_seconds().max(1) as u64;
            return Err(Error::RateLimited {
                retry_after_secs: retry_after,
                message: format!(
                    "Too many invitations: {who} sent {limit} in the last {} minutes; try again in {retry_after} s",
                    limits.window.as_secs() / 60
                ),
            });
        }
    }
    for (bucket, limit, _) in buckets {
        if limit == 0 {
            continue;
        }
        rate_event::ActiveModel {
            id: Set(Uuid::new_v4()),
            bucket: Set(bucket),
            at: Set(now),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

//! Rate limits on sending invitations (creates and resends), per inviter
//! and per workspace, counted in the database so every server process sees
//! the same counts.
//!
//! A sliding window: an action is allowed while fewer than `limit` actions
//! of its bucket happened in the last `window`. Checked and recorded in the
//! caller's transaction, so a refused or rolled-back action costs nothing;
//! under concurrent requests a bucket may overshoot by the number of
//! requests in flight.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use std::time::Duration;
use uuid::Uuid;

use entity::rate_event;

use super::ids::{ProfileId, WorkspaceId};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Invitations one profile may send per window; 0 for no limit.
    pub per_inviter: u32,
    /// Invitations one workspace may receive per window; 0 for no limit.
    pub per_workspace: u32,
    pub window: Duration,
}

/// How many of the invitations asked for may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub granted: usize,
    /// When refused some: seconds until the oldest counted one leaves the
    /// window.
    pub retry_after_secs: u64,
    /// The refused ones' message.
    message_for: Option<(&'static str, u32)>,
}

impl Grant {
    /// The error for an action that was not granted.
    pub fn refusal(&self, limits: &RateLimits) -> Error {
        let (who, limit) = self.message_for.unwrap_or(("you have", 0));
        Error::RateLimited {
            retry_after_secs: self.retry_after_secs,
            message: format!(
                "Too many invitations: {who} sent {limit} in the last {} minutes; try again in {} s",
                limits.window.as_secs() / 60,
                self.retry_after_secs
            ),
        }
    }
}

fn buckets(
    limits: &RateLimits,
    inviter: ProfileId,
    workspace: WorkspaceId,
) -> [(String, u32, &'static str); 2] {
    [
        (format!("inviter:{inviter}"), limits.per_inviter, "you have"),
        (
            format!("workspace:{workspace}"),
            limits.per_workspace,
            "this workspace has",
        ),
    ]
}

/// How many of `wanted` invitations by `inviter` in `workspace` the limits
/// allow now; with `take`, counts those (otherwise, for a dry run, only
/// looks).
pub async fn grant(
    db: &impl ConnectionTrait,
    limits: &RateLimits,
    inviter: ProfileId,
    workspace: WorkspaceId,
    wanted: usize,
    take: bool,
    now: DateTime<Utc>,
) -> Result<Grant> {
    let window = chrono::Duration::from_std(limits.window).unwrap_or_default();
    let since = now - window;
    let mut grant = Grant {
        granted: wanted,
        retry_after_secs: 0,
        message_for: None,
    };
    let buckets = buckets(limits, inviter, workspace);
    for (bucket, limit, who) in &buckets {
        if *limit == 0 || wanted == 0 {
            continue;
        }
        if take {
            // Forget what left the window, so buckets stay small.
            rate_event::Entity::delete_many()
                .filter(rate_event::Column::Bucket.eq(bucket.as_str()))
                .filter(rate_event::Column::At.lte(since))
                .exec(db)
                .await?;
        }
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
        let left = usize::try_from(i64::from(*limit) - count).unwrap_or(0);
        if left < grant.granted {
            grant.granted = left;
            let free_at = oldest.unwrap_or(now) + window;
            grant.retry_after_secs = grant
                .retry_after_secs
                .max((free_at - now).num_seconds().max(1) as u64);
            grant.message_for = Some((who, *limit));
        }
    }
    if take && grant.granted > 0 {
        let rows = buckets
            .iter()
            .filter(|(_, limit, _)| *limit > 0)
            .flat_map(|(bucket, _, _)| {
                (0..grant.granted).map(move |_| rate_event::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    bucket: Set(bucket.clone()),
                    at: Set(now),
                })
            })
            .collect::<Vec<_>>();
        if !rows.is_empty() {
            rate_event::Entity::insert_many(rows)
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(grant)
}

/// Counts one invitation, or refuses with `RATE_LIMITED`.
pub async fn take_invitation(
    db: &impl ConnectionTrait,
    limits: &RateLimits,
    inviter: ProfileId,
    workspace: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<()> {
    let grant = grant(db, limits, inviter, workspace, 1, true, now).await?;
    if grant.granted == 1 {
        Ok(())
    } else {
        Err(grant.refusal(limits))
    }
}

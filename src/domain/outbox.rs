//! The email outbox: rows written in the caller's transaction (so an
//! invitation and its email exist together or not at all), claimed by
//! delivery workers under a lease, and recorded after each attempt.
//!
//! A claim takes due rows whose invitation is still `PENDING`, sets a lease
//! (`locked_until`) and counts the attempt, in one statement; on PostgreSQL
//! the rows are picked `FOR UPDATE SKIP LOCKED`, so concurrent workers of
//! several processes never claim the same row. A crashed worker's rows come
//! back when the lease runs out. Every record is conditional on the lease
//! the worker holds.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};
use std::time::Duration;
use uuid::Uuid;

use entity::{
    email_outbox::{self, DeliveryStatus},
    invitation::{self, InvitationStatus},
};

use crate::error::Result;

/// Queues the invitation email, due now.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    invitation_id: Uuid,
) -> Result<email_outbox::Model> {
    let now = super::now();
    Ok(email_outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        invitation_id: Set(invitation_id),
        status: Set(DeliveryStatus::Queued),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_attempt_at: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        created: Set(now),
    }
    .insert(db)
    .await?)
}

/// Not held by a worker right now.
fn unleased(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(email_outbox::Column::LockedUntil.is_null())
        .add(email_outbox::Column::LockedUntil.lte(now))
}

/// Cancels the queued emails of these invitations. An email a worker is
/// sending at this moment is left to finish: it shows `SENT` (or, if the
/// attempt fails, is cancelled before the next one).
pub async fn cancel_unsent(db: &impl ConnectionTrait, invitation_ids: &[Uuid]) -> Result<()> {
    if invitation_ids.is_empty() {
        return Ok(());
    }
    email_outbox::Entity::update_many()
        .col_expr(
            email_outbox::Column::Status,
            Expr::value(DeliveryStatus::Cancelled),
        )
        .filter(email_outbox::Column::InvitationId.is_in(invitation_ids.iter().copied()))
        .filter(email_outbox::Column::Status.eq(DeliveryStatus::Queued))
        .filter(unleased(super::now()))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the email of an invitation about to be deleted (an unsent one
/// is thereby never sent).
pub async fn delete_for_invitation(db: &impl ConnectionTrait, invitation_id: Uuid) -> Result<()> {
    email_outbox::Entity::delete_many()
        .filter(email_outbox::Column::InvitationId.eq(invitation_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Delivery rows by invitation, for batching.
pub async fn by_invitations(
    db: &impl ConnectionTrait,
    invitation_ids: &[Uuid],
) -> Result<Vec<email_outbox::Model>> {
    Ok(email_outbox::Entity::find()
        .filter(email_outbox::Column::InvitationId.is_in(invitation_ids.iter().copied()))
        .all(db)
        .await?)
}

/// Outbox rows per status, for the metrics.
pub async fn count_by_status(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>> {
    let rows: Vec<(DeliveryStatus, i64)> = email_outbox::Entity::find()
        .select_only()
        .column(email_outbox::Column::Status)
        .column_as(email_outbox::Column::Id.count(), "n")
        .group_by(email_outbox::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: Vec<(String, i64)> = [
        DeliveryStatus::Queued,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Cancelled,
    ]
    .into_iter()
    .map(|s| (status_name(s).to_owned(), 0))
    .collect();
    for (status, n) in rows {
        if let Some(entry) = counts
            .iter_mut()
            .find(|(name, _)| name == status_name(status))
        {
            entry.1 = n;
        }
    }
    Ok(counts)
}

fn status_name(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Queued => "QUEUED",
        DeliveryStatus::Sent => "SENT",
        DeliveryStatus::Failed => "FAILED",
        DeliveryStatus::Cancelled => "CANCELLED",
    }
}

/// Cancels queued rows whose invitation is no longer `PENDING` (withdrawn
/// while a worker held the row, and that attempt failed).
pub async fn cancel_stale(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    let not_pending = invitation::Entity::find()
        .select_only()
        .column(invitation::Column::Id)
        .filter(invitation::Column::Status.ne(InvitationStatus::Pending))
        .into_query();
    Ok(email_outbox::Entity::update_many()
        .col_expr(
            email_outbox::Column::Status,
            Expr::value(DeliveryStatus::Cancelled),
        )
        .filter(email_outbox::Column::Status.eq(DeliveryStatus::Queued))
        .filter(unleased(now))
        .filter(email_outbox::Column::InvitationId.in_subquery(not_pending))
        .exec(db)
        .await?
        .rows_affected)
}

/// Claims up to `limit` due rows until `lease_until`, counting an attempt
/// for each (so a message that crashes its worker still runs out of
/// attempts).
pub async fn claim(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<email_outbox::Model>> {
    let due = email_outbox::Entity::find()
        .select_only()
        .column(email_outbox::Column::Id)
        .inner_join(invitation::Entity)
        .filter(invitation::Column::Status.eq(InvitationStatus::Pending))
        .filter(email_outbox::Column::Status.eq(DeliveryStatus::Queued))
        .filter(email_outbox::Column::NextAttemptAt.lte(now))
        .filter(unleased(now))
        .order_by_asc(email_outbox::Column::NextAttemptAt)
        .order_by_asc(email_outbox::Column::Id)
        .limit(limit)
        .into_query()
        .lock_with_tables_behavior(
            LockType::Update,
            [email_outbox::Entity],
            LockBehavior::SkipLocked,
        )
        .to_owned();
    Ok(email_outbox::Entity::update_many()
        .col_expr(
            email_outbox::Column::LockedUntil,
            Expr::value(Some(lease_until)),
        )
        .col_expr(
            email_outbox::Column::Attempts,
            Expr::col(email_outbox::Column::Attempts).add(1),
        )
        .col_expr(email_outbox::Column::LastAttemptAt, Expr::value(Some(now)))
        .filter(email_outbox::Column::Id.in_subquery(due))
        // Checked again on the row itself, after any wait for a lock.
        .filter(email_outbox::Column::Status.eq(DeliveryStatus::Queued))
        .filter(unleased(now))
        .exec_with_returning(db)
        .await?)
}

fn held(row: &email_outbox::Model) -> Condition {
    let lease = Condition::all().add(email_outbox::Column::Id.eq(row.id));
    match row.locked_until {
        Some(until) => lease.add(email_outbox::Column::LockedUntil.eq(until)),
        None => lease.add(email_outbox::Column::LockedUntil.is_null()),
    }
}

/// The SMTP server took it.
pub async fn record_sent(
    db: &impl ConnectionTrait,
    row: &email_outbox::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    email_outbox::Entity::update_many()
        .col_expr(
            email_outbox::Column::Status,
            Expr::value(DeliveryStatus::Sent),
        )
        .col_expr(email_outbox::Column::SentAt, Expr::value(Some(now)))
        .col_expr(
            email_outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            email_outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(held(row))
        .exec(db)
        .await?;
    Ok(())
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(DateTime<Utc>),
    Failed,
}

/// When to try again after `attempts` failed attempts: about 1 s after the
/// first, doubling, capped at 5 minutes; `jitter` in [0, 1) spreads retries
/// by up to ±20 % so a burst of failures does not retry in lockstep.
pub fn retry_delay(attempts: i32, jitter: f64) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    let base = Ord::min(1u64 << exp, 300) as f64;
    let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Duration::from_secs_f64((base * spread).min(300.0))
}

/// Decides and records what follows a failed attempt: `FAILED` after the
/// last attempt or on a permanent rejection, otherwise a retry.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    row: &email_outbox::Model,
    now: DateTime<Utc>,
    error: &str,
    permanent: bool,
    max_attempts: i32,
    jitter: f64,
) -> Result<AfterFailure> {
    let after = if permanent || row.attempts >= max_attempts {
        AfterFailure::Failed
    } else {
        let delay =
            chrono::Duration::from_std(retry_delay(row.attempts, jitter)).unwrap_or_default();
        AfterFailure::RetryAt(super::now_from(now + delay))
    };
    let mut update = email_outbox::Entity::update_many()
        .col_expr(
            email_outbox::Column::LastError,
            Expr::value(Some(truncate(error))),
        )
        .col_expr(
            email_outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    update = match after {
        AfterFailure::Failed => update.col_expr(
            email_outbox::Column::Status,
            Expr::value(DeliveryStatus::Failed),
        ),
        AfterFailure::RetryAt(at) => {
            update.col_expr(email_outbox::Column::NextAttemptAt, Expr::value(at))
        }
    };
    update.filter(held(row)).exec(db).await?;
    Ok(after)
}

fn truncate(error: &str) -> String {
    error.chars().take(1000).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_retry_is_after_about_one_second() {
        let d = retry_delay(1, 0.5);
        assert!((0.8..=1.2).contains(&d.as_secs_f64()), "{d:?}");
    }

    #[test]
    fn retries_back_off_exponentially() {
        assert_eq!(retry_delay(2, 0.5), Duration::from_secs(2));
        assert_eq!(retry_delay(5, 0.5), Duration::from_secs(16));
    }

    #[test]
    fn retries_are_capped_at_five_minutes() {
        for attempts in [9, 10, 20, 1000] {
            assert!(retry_delay(attempts, 0.99) <= Duration::from_secs(300));
        }
    }

    #[test]
    fn jitter_spreads_retries() {
        assert!(retry_delay(3, 0.0) < retry_delay(3, 0.99));
    }
}

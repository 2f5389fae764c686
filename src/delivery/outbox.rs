//! The outbox table protocol, the same for every channel's table.
//!
//! A row is written in the caller's transaction (so a change and what it
//! must tell the world exist together or not at all), `QUEUED` and due now.
//! A worker claims due rows in one statement that sets a lease
//! (`locked_until`) and counts the attempt; on PostgreSQL the rows are
//! picked `FOR UPDATE SKIP LOCKED`, so workers of several processes never
//! claim the same row (SQLite has one writer at a time). A crashed worker's rows come back when the lease
//! runs out. Every record is conditional on the lease the worker holds.
//! A row ends `SENT`, `FAILED` (after the last attempt, or refused for
//! good) or `CANCELLED` (no longer wanted).

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Alias, Cond, Expr, ExprTrait, Order, Query, SimpleExpr},
    ConnectionTrait, DatabaseBackend, Statement, Value,
};
use uuid::Uuid;

use crate::clock::{at_stored_precision, now};
use crate::error::Result;

/// A channel's outbox table: the protocol columns, plus `subject`, the
/// column naming what a row delivers (for email, the invitation).
#[derive(Debug)]
pub struct Queue {
    pub table: &'static str,
    pub subject: &'static str,
}

/// Invitation emails.
pub const EMAILS: Queue = Queue {
    table: "email_outbox",
    subject: "invitation_id",
};

/// A row's place in the protocol (the `status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Queued,
    Sent,
    Failed,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Queued,
        Status::Sent,
        Status::Failed,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "QUEUED",
            Status::Sent => "SENT",
            Status::Failed => "FAILED",
            Status::Cancelled => "CANCELLED",
        }
    }
}

fn col(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

fn status_is(status: Status) -> SimpleExpr {
    col("status").eq(status.as_str())
}

/// Not held by a worker right now.
fn unleased(now: DateTime<Utc>) -> Cond {
    Cond::any()
        .add(col("locked_until").is_null())
        .add(col("locked_until").lte(now))
}

/// Queues a delivery of `subject`, due now.
pub async fn enqueue(db: &impl ConnectionTrait, queue: &Queue, subject: Uuid) -> Result<()> {
    enqueue_many(db, queue, &[subject]).await
}

/// Queues a delivery of each of `subjects`, due now, in one statement.
pub async fn enqueue_many(
    db: &impl ConnectionTrait,
    queue: &Queue,
    subjects: &[Uuid],
) -> Result<()> {
    if subjects.is_empty() {
        return Ok(());
    }
    let now = now();
    let mut insert = Query::insert();
    insert.into_table(Alias::new(queue.table)).columns(
        [
            "id",
            queue.subject,
            "status",
            "attempts",
            "next_attempt_at",
            "created",
        ]
        .map(Alias::new),
    );
    for subject in subjects {
        insert.values_panic([
            Uuid::new_v4().into(),
            (*subject).into(),
            Status::Queued.as_str().into(),
            0i32.into(),
            now.into(),
            now.into(),
        ]);
    }
    db.execute(&insert).await?;
    Ok(())
}

/// Cancels the queued deliveries of these subjects; returns the subjects
/// whose delivery it cancelled. One a worker holds at this moment is left
/// to finish: it ends `SENT`, or, if that attempt fails, the channel
/// cancels it before the next.
pub async fn cancel_unsent(
    db: &impl ConnectionTrait,
    queue: &Queue,
    subjects: &[Uuid],
) -> Result<Vec<Uuid>> {
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    let update = Query::update()
        .table(Alias::new(queue.table))
        .value(Alias::new("status"), Status::Cancelled.as_str())
        .and_where(col(queue.subject).is_in(subjects.iter().copied()))
        .and_where(status_is(Status::Queued))
        .cond_where(unleased(now()))
        .returning(Query::returning().column(Alias::new(queue.subject)))
        .to_owned();
    let rows = db.query_all(&update).await?;
    let mut cancelled: Vec<Uuid> = rows
        .iter()
        .map(|r| r.try_get("", queue.subject))
        .collect::<std::result::Result<_, _>>()?;
    cancelled.sort_unstable();
    cancelled.dedup();
    Ok(cancelled)
}

/// Makes the newest delivery of `subject` due now if it is still queued;
/// whether there was one.
pub async fn hurry_queued(db: &impl ConnectionTrait, queue: &Queue, subject: Uuid) -> Result<bool> {
    let newest = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(queue.table))
        .and_where(col(queue.subject).eq(subject))
        .order_by(Alias::new("created"), Order::Desc)
        .order_by(Alias::new("id"), Order::Desc)
        .limit(1)
        .to_owned();
    let Some(row) = db.query_one(&newest).await? else {
        return Ok(false);
    };
    let id: Uuid = row.try_get("", "id")?;
    let update = Query::update()
        .table(Alias::new(queue.table))
        .value(Alias::new("next_attempt_at"), Value::from(now()))
        .and_where(col("id").eq(id))
        .and_where(status_is(Status::Queued))
        .to_owned();
    Ok(db.execute(&update).await?.rows_affected() == 1)
}

/// Deletes the deliveries of subjects about to be deleted (an unsent one
/// is thereby never sent).
pub async fn delete_for(db: &impl ConnectionTrait, queue: &Queue, subjects: &[Uuid]) -> Result<()> {
    let delete = Query::delete()
        .from_table(Alias::new(queue.table))
        .and_where(col(queue.subject).is_in(subjects.iter().copied()))
        .to_owned();
    db.execute(&delete).await?;
    Ok(())
}

/// A row a worker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: Uuid,
    /// What the row delivers (for email, the invitation id).
    pub subject: Uuid,
    /// This attempt included.
    pub attempts: i32,
    /// The lease: records are conditional on it.
    pub locked_until: DateTime<Utc>,
}

/// Claims up to `limit` due rows until `lease_until`, counting an attempt
/// for each (so a message that crashes its worker still runs out of
/// attempts). Oldest due first.
pub async fn claim(
    db: &impl ConnectionTrait,
    queue: &Queue,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Claimed>> {
    let rows = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            // The locked rows in a CTE: PostgreSQL may run a `LIMIT ... FOR
            // UPDATE SKIP LOCKED` subquery of an UPDATE more than once,
            // each time skipping the rows it just locked, and so claim more
            // than `limit` rows. A CTE runs once.
            let (t, subject) = (queue.table, queue.subject);
            let sql = format!(
                "WITH due AS (
                   SELECT id FROM {t}
                   WHERE status = 'QUEUED' AND next_attempt_at <= $1
                     AND (locked_until IS NULL OR locked_until <= $1)
                   ORDER BY next_attempt_at, id
                   LIMIT $3
                   FOR UPDATE SKIP LOCKED)
                 UPDATE {t} SET locked_until = $2, attempts = {t}.attempts + 1, last_attempt_at = $1
                 FROM due WHERE {t}.id = due.id
                 RETURNING {t}.id, {t}.{subject}, {t}.attempts, {t}.locked_until"
            );
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            db.query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                [now.into(), lease_until.into(), limit.into()],
            ))
            .await?
        }
        // One writer at a time: a plain subquery picks the rows.
        _ => {
            let table = Alias::new(queue.table);
            let due = Query::select()
                .column(Alias::new("id"))
                .from(table.clone())
                .and_where(status_is(Status::Queued))
                .and_where(col("next_attempt_at").lte(now))
                .cond_where(unleased(now))
                .order_by(Alias::new("next_attempt_at"), Order::Asc)
                .order_by(Alias::new("id"), Order::Asc)
                .limit(limit)
                .to_owned();
            let claim = Query::update()
                .table(table)
                .value(Alias::new("locked_until"), Value::from(lease_until))
                .value(Alias::new("attempts"), col("attempts").add(1))
                .value(Alias::new("last_attempt_at"), Value::from(now))
                .and_where(col("id").in_subquery(due))
                .and_where(status_is(Status::Queued))
                .cond_where(unleased(now))
                .returning(
                    Query::returning()
                        .columns(["id", queue.subject, "attempts", "locked_until"].map(Alias::new)),
                )
                .to_owned();
            db.query_all(&claim).await?
        }
    };
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("", "id")?,
                subject: r.try_get("", queue.subject)?,
                attempts: r.try_get("", "attempts")?,
                locked_until: r.try_get("", "locked_until")?,
            })
        })
        .collect()
}

/// Extends the lease on these rows, all claimed together under `held`, to
/// `until`; returns how many were still held.
pub async fn renew(
    db: &impl ConnectionTrait,
    queue: &Queue,
    ids: &[Uuid],
    held: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let update = Query::update()
        .table(Alias::new(queue.table))
        .value(Alias::new("locked_until"), Value::from(until))
        .and_where(col("id").is_in(ids.iter().copied()))
        .and_where(col("locked_until").eq(held))
        .to_owned();
    Ok(db.execute(&update).await?.rows_affected())
}

/// The row, while `claimed` still holds its lease.
fn held(claimed: &Claimed) -> Cond {
    Cond::all()
        .add(col("id").eq(claimed.id))
        .add(col("locked_until").eq(claimed.locked_until))
}

/// How an attempt ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Sent,
    RetryAt(DateTime<Utc>),
    Failed,
    Cancelled,
}

/// Records the outcome of an attempt; `false` if the lease was lost (the
/// row was taken over, and the record is the new holder's to make).
pub async fn record(
    db: &impl ConnectionTrait,
    queue: &Queue,
    claimed: &Claimed,
    now: DateTime<Utc>,
    outcome: Recorded,
    error: Option<&str>,
) -> Result<bool> {
    let mut update = Query::update();
    update
        .table(Alias::new(queue.table))
        .value(Alias::new("locked_until"), Value::ChronoDateTimeUtc(None))
        .value(Alias::new("last_error"), Value::String(error.map(truncate)))
        .cond_where(held(claimed));
    match outcome {
        Recorded::Sent => {
            update
                .value(Alias::new("status"), Status::Sent.as_str())
                .value(Alias::new("sent_at"), Value::from(now));
        }
        Recorded::RetryAt(at) => {
            update.value(Alias::new("next_attempt_at"), Value::from(at));
        }
        Recorded::Failed => {
            update.value(Alias::new("status"), Status::Failed.as_str());
        }
        Recorded::Cancelled => {
            update.value(Alias::new("status"), Status::Cancelled.as_str());
        }
    }
    Ok(db.execute(&update).await?.rows_affected() == 1)
}

fn truncate(error: &str) -> String {
    error.chars().take(1000).collect()
}

/// What follows a failed attempt: `FAILED` after the last attempt or on a
/// permanent refusal, otherwise a retry after the backoff.
pub fn after_failure(
    claimed: &Claimed,
    now: DateTime<Utc>,
    permanent: bool,
    max_attempts: i32,
    jitter: f64,
) -> Recorded {
    if permanent || claimed.attempts >= max_attempts {
        return Recorded::Failed;
    }
    let delay = super::backoff::retry_delay(claimed.attempts, jitter);
    let delay = chrono::Duration::from_std(delay).unwrap_or_default();
    Recorded::RetryAt(at_stored_precision(now + delay))
}

/// Rows per status, for the metrics.
pub async fn count_by_status(
    db: &impl ConnectionTrait,
    queue: &Queue,
) -> Result<Vec<(Status, i64)>> {
    let select = Query::select()
        .column(Alias::new("status"))
        .expr_as(Expr::col(Alias::new("id")).count(), Alias::new("n"))
        .from(Alias::new(queue.table))
        .group_by_col(Alias::new("status"))
        .to_owned();
    let rows = db.query_all(&select).await?;
    let mut counts: Vec<(Status, i64)> = Status::ALL.iter().map(|s| (*s, 0)).collect();
    for row in rows {
        let status: String = row.try_get("", "status")?;
        let n: i64 = row.try_get("", "n")?;
        if let Some(entry) = counts.iter_mut().find(|(s, _)| s.as_str() == status) {
            entry.1 = n;
        }
    }
    Ok(counts)
}

//! The delivery worker of one channel. [`Worker::step`] is one pass:
//! claim due rows ([`Worker::claim`]), load and render them
//! ([`Channel::load`], [`Channel::render`]), send each ([`Session::send`])
//! and record its outcome as soon as the receiver answers
//! ([`Worker::record`]). Tests call the step, or each part, directly. The
//! loop in [`Worker::run`] only decides when to step again: at once while
//! there is work, on a [`Wakeup`] from a mutation, or after the poll
//! interval (which finds rows from other processes, retries that came due,
//! and rows a crashed worker left behind).

use chrono::{DateTime, Utc};
use prometheus_client::metrics::{counter::Counter, histogram::Histogram};
use sea_orm::DatabaseConnection;
use std::{sync::Arc, time::Duration};
use tokio::sync::{watch, Notify};

use super::{
    backoff::{random_jitter, Jitter},
    channel::{Channel, Prepared, SendError, Session},
    outbox::{self, Claimed, Recorded},
};
use crate::clock::now;
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Rows claimed (and sent over one connection) per step.
    pub batch_size: u64,
    /// After this many attempts a row is `FAILED`.
    pub max_attempts: i32,
    /// How long a claim holds a row; longer than any send can take.
    pub lease: Duration,
    pub poll_interval: Duration,
}

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub cancelled: usize,
}

/// The counters a worker moves (registered by `metrics`).
#[derive(Debug, Clone, Default)]
pub struct DeliveryMetrics {
    pub sent: Counter,
    pub retried: Counter,
    pub failed: Counter,
    /// Time for one message, from its send to the receiver's answer.
    pub send_duration: Option<Histogram>,
}

/// Wakes this process's worker when a mutation queues a delivery.
#[derive(Debug, Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    pub fn notify(&self) {
        self.0.notify_one();
    }

    async fn notified(&self) {
        self.0.notified().await
    }
}

pub struct Worker<C: Channel> {
    db: DatabaseConnection,
    channel: C,
    config: WorkerConfig,
    metrics: DeliveryMetrics,
    jitter: Jitter,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Refused(SendError),
    Unwanted,
}

impl<C: Channel> Worker<C> {
    pub fn new(db: DatabaseConnection, channel: C, config: WorkerConfig) -> Self {
        Self {
            db,
            channel,
            config,
            metrics: DeliveryMetrics::default(),
            jitter: random_jitter,
        }
    }

    /// Counts into these (the application's) metrics.
    pub fn with_metrics(mut self, metrics: DeliveryMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Retry jitter from `jitter` instead of the OS.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    pub fn channel(&self) -> &C {
        &self.channel
    }

    /// Claims due rows as of `now`, under a lease.
    pub async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed>> {
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        outbox::claim(
            &self.db,
            self.channel.queue(),
            now,
            now + lease,
            self.config.batch_size,
        )
        .await
    }

    /// Records how an attempt ended: sent, retried after the backoff,
    /// failed, or cancelled.
    pub async fn record(
        &self,
        row: &Claimed,
        now: DateTime<Utc>,
        outcome: &Outcome,
    ) -> Result<Recorded> {
        let (recorded, error) = match outcome {
            Outcome::Sent => (Recorded::Sent, None),
            Outcome::Unwanted => (Recorded::Cancelled, None),
            Outcome::Refused(e) => {
                let permanent = matches!(e, SendError::Permanent(_));
                let after = outbox::after_failure(
                    row,
                    now,
                    permanent,
                    self.config.max_attempts,
                    (self.jitter)(),
                );
                (after, Some(e.to_string()))
            }
        };
        let held = outbox::record(
            &self.db,
            self.channel.queue(),
            row,
            now,
            recorded,
            error.as_deref(),
        )
        .await?;
        if !held {
            tracing::warn!(delivery_id = %row.id, "lease lost before the outcome was recorded");
        }
        Ok(recorded)
    }

    /// Claim, render, send, record: one batch, as of `now`.
    pub async fn step(&self, now: DateTime<Utc>) -> Result<StepReport> {
        let rows = self.claim(now).await?;
        let mut report = StepReport {
            claimed: rows.len(),
            ..StepReport::default()
        };
        if rows.is_empty() {
            return Ok(report);
        }
        let loaded = self.channel.load(&self.db, &rows).await?;
        let mut session = self.channel.open();
        for row in &rows {
            let outcome = match self.channel.render(row, &loaded) {
                Prepared::Send(message) => {
                    let started = std::time::Instant::now();
                    let sent = session.send(&message).await;
                    if let Some(h) = &self.metrics.send_duration {
                        h.observe(started.elapsed().as_secs_f64());
                    }
                    match sent {
                        Ok(()) => Outcome::Sent,
                        Err(e) => Outcome::Refused(e),
                    }
                }
                Prepared::Cancel => Outcome::Unwanted,
                Prepared::Fail(why) => Outcome::Refused(SendError::Permanent(why)),
            };
            let recorded = self.record(row, now, &outcome).await?;
            self.count(row, &outcome, recorded, &mut report);
        }
        session.close().await;
        Ok(report)
    }

    fn count(&self, row: &Claimed, outcome: &Outcome, recorded: Recorded, report: &mut StepReport) {
        let error = match outcome {
            Outcome::Refused(e) => e.to_string(),
            _ => String::new(),
        };
        match recorded {
            Recorded::Sent => {
                report.sent += 1;
                self.metrics.sent.inc();
                tracing::info!(event = %self.event("sent"), delivery_id = %row.id, attempts = row.attempts, "delivered");
            }
            Recorded::RetryAt(at) => {
                report.retried += 1;
                self.metrics.retried.inc();
                tracing::warn!(event = %self.event("retried"), delivery_id = %row.id, attempts = row.attempts, retry_at = %at, error, "will be retried");
            }
            Recorded::Failed => {
                report.failed += 1;
                self.metrics.failed.inc();
                tracing::warn!(event = %self.event("failed"), delivery_id = %row.id, attempts = row.attempts, error, "failed for good");
            }
            Recorded::Cancelled => {
                report.cancelled += 1;
                tracing::info!(event = %self.event("cancelled"), delivery_id = %row.id, "no longer wanted");
            }
        }
    }

    /// A log event's name, such as `email_sent`.
    fn event(&self, what: &str) -> String {
        format!("{}_{what}", self.channel.name())
    }

    /// Steps until nothing is due as of `now` (tests; a drain).
    pub async fn drain(&self, now: DateTime<Utc>) -> Result<StepReport> {
        let mut total = StepReport::default();
        loop {
            let r = self.step(now).await?;
            if r.claimed == 0 {
                return Ok(total);
            }
            total.claimed += r.claimed;
            total.sent += r.sent;
            total.retried += r.retried;
            total.failed += r.failed;
            total.cancelled += r.cancelled;
        }
    }

    /// Runs until `shutdown` turns true, finishing the batch in flight.
    pub async fn run(self, wakeup: Wakeup, mut shutdown: watch::Receiver<bool>) {
        let channel = self.channel.name();
        tracing::info!(channel, to = %self.channel.describe(), "delivery worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let busy = match self.step(now()).await {
                Ok(report) => report.claimed > 0,
                Err(e) => {
                    tracing::error!(channel, error = ?e, "delivery worker step failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(channel, "delivery worker stopped");
    }
}

//! The delivery worker of one channel. [`Worker::step`] is one pass:
//! claim due rows ([`Worker::claim`]), load and render them
//! ([`Channel::load`], [`Channel::render`]), send each ([`Session::send`])
//! and record its outcome as soon as the receiver answers
//! ([`Worker::record`]), renewing the lease of the rows still held while
//! it sends (so a short lease is safe, and a crashed process's rows come
//! back within seconds). Tests call the step, or each part, directly.
//!
//! [`Worker::run`] runs `concurrency` lanes, each stepping over a
//! connection of its own, so one slow answer does not hold the queue. A
//! lane steps again at once while there is work, on a [`Wakeup`] from a
//! mutation, or after the poll interval (which finds rows from other
//! processes, retries that came due, and rows a crashed worker left).

use chrono::{DateTime, Utc};
use prometheus_client::metrics::{counter::Counter, histogram::Histogram};
use sea_orm::{DatabaseConnection, TransactionTrait};
use std::{sync::Arc, time::Duration};
use tokio::sync::{watch, Mutex};
use uuid::Uuid;

use super::{
    backoff::{random_jitter, Jitter},
    channel::{Channel, Prepared, SendError, Session},
    outbox::{self, Claimed, Recorded},
};
use crate::clock::{self, now};
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Rows one lane claims (and sends over its connection) per step.
    pub batch_size: u64,
    /// After this many attempts a row is `FAILED`.
    pub max_attempts: i32,
    /// How long a claim holds a row; renewed every third of it while the
    /// rows are being sent.
    pub lease: Duration,
    pub poll_interval: Duration,
    /// Lanes sending at once, each over its own connection.
    pub concurrency: usize,
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

impl StepReport {
    fn add(&mut self, other: StepReport) {
        self.claimed += other.claimed;
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
    }
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

/// Wakes this process's workers when a mutation queues a delivery. Every
/// lane of every worker sharing it wakes: each lane notes the count before
/// it claims, so a wake-up between its claim and its wait is not lost.
#[derive(Debug, Clone)]
pub struct Wakeup(Arc<watch::Sender<u64>>);

impl Default for Wakeup {
    fn default() -> Self {
        Self(Arc::new(watch::channel(0).0))
    }
}

impl Wakeup {
    pub fn notify(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn listen(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
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

/// The rows of one claim still waiting for their outcome, and the lease
/// they share. Records and renewals take turns on it, so that neither acts
/// on a lease the other just changed.
struct Held {
    lease: DateTime<Utc>,
    pending: Vec<Uuid>,
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

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.lease).unwrap_or_default()
    }

    /// Claims due rows as of `now`, under a lease.
    pub async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed>> {
        outbox::claim(
            &self.db,
            self.channel.queue(),
            now,
            now + self.lease(),
            self.config.batch_size,
        )
        .await
    }

    /// Records how an attempt ended: sent, retried after the backoff,
    /// failed, or cancelled. `now` is the time of the attempt.
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
        let txn = self.db.begin().await?;
        let held = outbox::record(
            &txn,
            self.channel.queue(),
            row,
            now,
            recorded,
            error.as_deref(),
        )
        .await?;
        if held {
            self.channel
                .recorded(&txn, row, recorded, now, error.as_deref())
                .await?;
        } else {
            tracing::warn!(delivery_id = %row.id, "lease lost before the outcome was recorded");
        }
        txn.commit().await?;
        Ok(recorded)
    }

    /// Claim, render, send, record: one batch, as of `now`, over a
    /// connection of its own.
    pub async fn step(&self, now: DateTime<Utc>) -> Result<StepReport> {
        let rows = self.claim(now).await?;
        if rows.is_empty() {
            return Ok(StepReport::default());
        }
        let mut session = self.channel.open();
        let report = self.deliver(rows, now, &mut session).await;
        session.close().await;
        report
    }

    /// Sends claimed rows over `session`, each recorded as soon as the
    /// receiver answers, while the lease of those not yet recorded is
    /// renewed.
    pub async fn deliver(
        &self,
        rows: Vec<Claimed>,
        now: DateTime<Utc>,
        session: &mut C::Session,
    ) -> Result<StepReport> {
        let Some(first) = rows.first() else {
            return Ok(StepReport::default());
        };
        let held = Mutex::new(Held {
            lease: first.locked_until,
            pending: rows.iter().map(|r| r.id).collect(),
        });
        let work = async {
            let mut report = StepReport {
                claimed: rows.len(),
                ..StepReport::default()
            };
            let loaded = self.channel.load(&self.db, &rows).await?;
            for row in &rows {
                let outcome = self.attempt(row, &loaded, session).await;
                // The time of the answer (never before the step's own).
                let at = clock::now().max(now);
                let mut held = held.lock().await;
                let row = Claimed {
                    locked_until: held.lease,
                    ..row.clone()
                };
                let recorded = self.record(&row, at, &outcome).await?;
                held.pending.retain(|id| *id != row.id);
                drop(held);
                self.count(&row, &outcome, recorded, &mut report);
            }
            Ok(report)
        };
        let heartbeat = async {
            let every = (self.config.lease / 3).max(Duration::from_millis(10));
            loop {
                tokio::time::sleep(every).await;
                self.renew(&held).await;
            }
        };
        tokio::select! {
            report = work => report,
            _ = heartbeat => unreachable!("the heartbeat never ends"),
        }
    }

    /// One attempt at one row.
    async fn attempt(
        &self,
        row: &Claimed,
        loaded: &C::Loaded,
        session: &mut C::Session,
    ) -> Outcome {
        match self.channel.render(row, loaded) {
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
        }
    }

    async fn renew(&self, held: &Mutex<Held>) {
        let mut held = held.lock().await;
        let until = (now() + self.lease()).max(held.lease);
        if until == held.lease || held.pending.is_empty() {
            return;
        }
        match outbox::renew(
            &self.db,
            self.channel.queue(),
            &held.pending,
            held.lease,
            until,
        )
        .await
        {
            Ok(_) => held.lease = until,
            // Records keep to the old lease, which may still hold.
            Err(e) => tracing::warn!(error = ?e, "could not renew a delivery lease"),
        }
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
            total.add(r);
        }
    }

    /// Runs the lanes until `shutdown` turns true, each finishing the
    /// batch it has in flight.
    pub async fn run(self, wakeup: Wakeup, shutdown: watch::Receiver<bool>) {
        let channel = self.channel.name();
        tracing::info!(channel, to = %self.channel.describe(), lanes = self.config.concurrency, "delivery worker started");
        let lanes =
            (0..self.config.concurrency.max(1)).map(|_| self.lane(&wakeup, shutdown.clone()));
        futures_util::future::join_all(lanes).await;
        tracing::info!(channel, "delivery worker stopped");
    }

    async fn lane(&self, wakeup: &Wakeup, mut shutdown: watch::Receiver<bool>) {
        let mut session: Option<C::Session> = None;
        let mut woken = wakeup.listen();
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Wake-ups from here on end the next wait at once.
            woken.borrow_and_update();
            let now = now();
            let rows = match self.claim(now).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(channel = self.channel.name(), error = ?e, "delivery worker could not claim");
                    Vec::new()
                }
            };
            if rows.is_empty() {
                // Idle: let the connection go, and wait.
                if let Some(s) = session.take() {
                    s.close().await;
                }
                tokio::select! {
                    _ = woken.changed() => {}
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            let s = session.get_or_insert_with(|| self.channel.open());
            if let Err(e) = self.deliver(rows, now, s).await {
                tracing::error!(channel = self.channel.name(), error = ?e, "delivery step failed");
                tokio::time::sleep(self.config.poll_interval).await;
            }
        }
        if let Some(s) = session.take() {
            s.close().await;
        }
    }
}

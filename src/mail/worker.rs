//! The delivery worker. [`Worker::step`] claims due outbox rows, renders and
//! sends them, and records each outcome; tests call it directly. The loop in
//! [`Worker::run`] only decides when to call it again: at once while there
//! is work, on a wake-up from a mutation, or after the poll interval (which
//! finds rows from other processes, retries that came due, and rows a
//! crashed worker left behind).

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio::sync::{watch, Notify};

use super::{
    message::{self, InvitationEmail, Sender},
    transport::{Mailer, Outgoing, SendError},
};
use crate::domain::{
    invitations, now,
    outbox::{self, AfterFailure},
};
use crate::error::Result;
use crate::metrics::Metrics;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub sender: Sender,
    pub public_app_url: String,
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
    pub cancelled: u64,
}

/// Wakes the worker of this process when a mutation enqueues an email.
#[derive(Debug, Clone, Default)]
pub struct Wakeup(pub Arc<Notify>);

impl Wakeup {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

pub struct Worker {
    db: DatabaseConnection,
    mailer: Mailer,
    config: WorkerConfig,
    metrics: Arc<Metrics>,
}

impl Worker {
    pub fn new(db: DatabaseConnection, mailer: Mailer, config: WorkerConfig) -> Self {
        Self {
            db,
            mailer,
            config,
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// Counts into the application's metrics instead of a private set.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Claim, send, record: one batch, as of `now`.
    pub async fn step(&self, now: DateTime<Utc>) -> Result<StepReport> {
        let mut report = StepReport {
            cancelled: outbox::cancel_stale(&self.db, now).await?,
            ..StepReport::default()
        };
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let rows = outbox::claim(&self.db, now, now + lease, self.config.batch_size).await?;
        report.claimed = rows.len();
        if rows.is_empty() {
            return Ok(report);
        }
        let ids: Vec<_> = rows.iter().map(|r| r.invitation_id).collect();
        let facts: HashMap<_, _> = invitations::email_facts(&self.db, &ids)
            .await?
            .into_iter()
            .map(|f| (f.invitation_id, f))
            .collect();

        // Render what can be rendered; the rest fails now.
        let mut outgoing = Vec::with_capacity(rows.len());
        let mut results: Vec<Option<Result<(), SendError>>> = vec![None; rows.len()];
        for (i, row) in rows.iter().enumerate() {
            let rendered = facts
                .get(&row.invitation_id)
                .ok_or_else(|| "the invitation is gone".to_owned())
                .and_then(|f| {
                    let email = InvitationEmail {
                        invitation_id: f.invitation_id,
                        recipient: f.recipient.clone(),
                        creator_name: f.creator_name.clone(),
                        creator_email: f.creator_email.clone(),
                        workspace_name: f.workspace_name.clone(),
                    };
                    let id = message::message_id(row.id, &self.config.sender);
                    message::render(
                        &email,
                        &self.config.sender,
                        &self.config.public_app_url,
                        &id,
                    )
                    .map(|bytes| (email.recipient, bytes))
                });
            match rendered {
                Ok((to, bytes)) => outgoing.push((
                    i,
                    Outgoing {
                        id: row.id,
                        from: self.config.sender.address.clone(),
                        to,
                        bytes,
                    },
                )),
                Err(e) => results[i] = Some(Err(SendError::Permanent(e))),
            }
        }
        let messages: Vec<Outgoing> = outgoing.iter().map(|(_, m)| m.clone()).collect();
        let started = std::time::Instant::now();
        let sent = self.mailer.send_batch(&messages).await;
        self.metrics
            .email_send_duration
            .observe(started.elapsed().as_secs_f64());
        let elapsed_ms = started.elapsed().as_millis() as u64;
        for ((i, _), result) in outgoing.iter().zip(sent) {
            results[*i] = Some(result);
        }

        for (row, result) in rows.iter().zip(results) {
            match result.unwrap_or_else(|| Err(SendError::Transient("not attempted".into()))) {
                Ok(()) => {
                    outbox::record_sent(&self.db, row, now).await?;
                    report.sent += 1;
                    self.metrics.emails_sent.inc();
                    tracing::info!(event = "email_sent", outbox_id = %row.id, attempts = row.attempts, elapsed_ms, "email sent");
                }
                Err(e) => {
                    let permanent = matches!(e, SendError::Permanent(_));
                    let after = outbox::record_failure(
                        &self.db,
                        row,
                        now,
                        &e.to_string(),
                        permanent,
                        self.config.max_attempts,
                        jitter(),
                    )
                    .await?;
                    match after {
                        AfterFailure::Failed => {
                            report.failed += 1;
                            self.metrics.emails_failed.inc();
                            tracing::warn!(event = "email_failed", outbox_id = %row.id, attempts = row.attempts, error = %e, "email failed for good");
                        }
                        AfterFailure::RetryAt(at) => {
                            report.retried += 1;
                            self.metrics.emails_retried.inc();
                            tracing::warn!(event = "email_retried", outbox_id = %row.id, attempts = row.attempts, retry_at = %at, error = %e, "email will be retried");
                        }
                    }
                }
            }
        }
        Ok(report)
    }

    /// Runs until `shutdown` turns true, finishing the batch in flight.
    pub async fn run(self, wakeup: Wakeup, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(transport = %self.mailer.describe(), "mail worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let busy = match self.step(now()).await {
                Ok(report) => report.claimed > 0,
                Err(e) => {
                    tracing::error!(error = ?e, "mail worker step failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = wakeup.0.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("mail worker stopped");
    }
}

/// A number in [0, 1) for retry jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

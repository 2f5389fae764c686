//! What the process knows of its own health: whether the database answers
//! and whether the delivery worker runs. `/readyz` reports it; the edge
//! refuses requests at once while the database is away, instead of letting
//! each wait for a connection (`DB_ACQUIRE_TIMEOUT`) to fail.
//!
//! A prober pings the database every second while it answers and every
//! quarter second while it does not; a request that failed inside makes it
//! look at once.

use sea_orm::DatabaseConnection;
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::sync::Notify;

#[derive(Debug)]
struct Inner {
    database_up: AtomicBool,
    worker_running: AtomicBool,
    /// Whether a delivery worker is expected at all (`MAIL_WORKER`).
    worker_expected: AtomicBool,
    look_now: Notify,
}

#[derive(Debug, Clone)]
pub struct Health(Arc<Inner>);

impl Default for Health {
    fn default() -> Self {
        Self(Arc::new(Inner {
            database_up: AtomicBool::new(true),
            worker_running: AtomicBool::new(false),
            worker_expected: AtomicBool::new(false),
            look_now: Notify::new(),
        }))
    }
}

/// How long a ping may take before the database counts as away.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

impl Health {
    pub fn database_up(&self) -> bool {
        self.0.database_up.load(Ordering::Relaxed)
    }

    /// Ready to serve: the database answers and, if one is expected, the
    /// delivery worker runs.
    pub fn ready(&self) -> bool {
        self.database_up()
            && (!self.0.worker_expected.load(Ordering::Relaxed)
                || self.0.worker_running.load(Ordering::Relaxed))
    }

    /// Something failed inside: look at the database now.
    pub fn suspect(&self) {
        self.0.look_now.notify_one();
    }

    pub fn worker_started(&self) {
        self.0.worker_expected.store(true, Ordering::Relaxed);
        self.0.worker_running.store(true, Ordering::Relaxed);
    }

    /// The worker ended (stopped, or died).
    pub fn worker_ended(&self) {
        self.0.worker_running.store(false, Ordering::Relaxed);
    }

    fn set_database_up(&self, up: bool) {
        let was = self.0.database_up.swap(up, Ordering::Relaxed);
        match (was, up) {
            (true, false) => tracing::error!(
                "the database is not answering: requests fail at once until it is back"
            ),
            (false, true) => tracing::info!("the database answers again"),
            _ => {}
        }
    }

    /// Pings once; whether the database answered.
    pub async fn probe(&self, db: &DatabaseConnection) -> bool {
        let up = matches!(
            tokio::time::timeout(PING_TIMEOUT, db.ping()).await,
            Ok(Ok(()))
        );
        self.set_database_up(up);
        up
    }

    /// Watches the database for as long as the process runs.
    pub async fn watch(self, db: DatabaseConnection) {
        loop {
            let up = self.probe(&db).await;
            let wait = if up {
                Duration::from_secs(1)
            } else {
                Duration::from_millis(250)
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.0.look_now.notified() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_needs_the_database_and_the_expected_worker() {
        let h = Health::default();
        assert!(h.ready(), "no worker expected");
        h.worker_started();
        assert!(h.ready());
        h.worker_ended();
        assert!(!h.ready(), "the worker is gone");
        h.worker_started();
        h.set_database_up(false);
        assert!(!h.ready());
        assert!(!h.database_up());
    }
}

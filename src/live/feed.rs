//! Every committed history event, once, to every receiver in this process.
//!
//! On PostgreSQL the feed listens on `invitation_events` (a trigger sends
//! each new event's id, on commit only, to every process sharing the
//! database) and reads each announced event. When the listener's
//! connection is lost, sqlx reconnects it, and the feed catches up from
//! the table: events of the last [`LOOKBACK`] ids it has not yet published.
//! On SQLite (one writer, in this process, so ids commit in order) the
//! feed reads the table's tail every [`POLL`] while anyone listens, and
//! keeps its place every [`IDLE_POLL`] while nobody does (so a new
//! subscriber misses nothing committed after it subscribed; it may hear a
//! few events from just before).

use sea_orm::{
    sqlx::postgres::PgListener, ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    time::Duration,
};
use tokio::sync::{broadcast, watch, Notify, OnceCell};

use entity::{invitation, invitation_event as event, membership::Role};

use crate::domain::{
    ids::{ProfileId, WorkspaceId},
    members,
};
use crate::error::Result;

/// The channel the trigger of migration `m20261202_000006` notifies.
pub const CHANNEL: &str = "invitation_events";
/// How far back a reconnected listener looks for events it missed.
pub const LOOKBACK: i64 = 1000;
/// SQLite's tail is read this often while anyone listens.
pub const POLL: Duration = Duration::from_millis(100);
/// And its place kept this often while nobody does.
pub const IDLE_POLL: Duration = Duration::from_secs(1);

/// One committed event as the feed read it, with its invitation as it was
/// then (`None`: deleted since), read once per process for all its
/// subscribers. It reads as the event itself.
#[derive(Debug)]
pub struct LiveEvent {
    pub event: event::Model,
    pub invitation: Option<invitation::Model>,
    /// Roles in the event's workspace, read once per process and event for
    /// each profile that asks, however many of its sockets ask.
    roles: std::sync::Mutex<HashMap<ProfileId, Arc<OnceCell<Option<Role>>>>>,
}

impl LiveEvent {
    fn new(event: event::Model, invitation: Option<invitation::Model>) -> Self {
        Self {
            event,
            invitation,
            roles: Default::default(),
        }
    }

    /// `profile`'s role in the event's workspace now (read once for all
    /// of that profile's subscriptions in this process).
    pub async fn role_of(
        &self,
        db: &DatabaseConnection,
        profile: ProfileId,
    ) -> Result<Option<Role>> {
        let cell = self
            .roles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(profile)
            .or_default()
            .clone();
        let ws = WorkspaceId(self.event.workspace_id);
        let role = cell
            .get_or_try_init(|| async {
                Ok::<_, crate::error::Error>(
                    members::roles(db, &[(ws, profile)])
                        .await?
                        .into_iter()
                        .next()
                        .map(|(_, role)| role),
                )
            })
            .await?;
        Ok(*role)
    }
}

impl std::ops::Deref for LiveEvent {
    type Target = event::Model;
    fn deref(&self) -> &event::Model {
        &self.event
    }
}

/// An event and its invitation, as read.
type Read = (event::Model, Option<invitation::Model>);

/// Cheap to clone: clones share the receivers.
#[derive(Clone)]
pub struct Feed {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    ready: watch::Sender<bool>,
    /// A new subscriber wakes an idle SQLite tail.
    wake: Arc<Notify>,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(1024).0,
            ready: watch::channel(false).0,
            wake: Arc::new(Notify::new()),
        }
    }
}

/// One subscriber's receiver (see [`Feed::subscribe_from_now`]).
pub struct Subscriber {
    rx: broadcast::Receiver<Arc<LiveEvent>>,
    floor: Option<i64>,
}

impl Subscriber {
    /// The next event; an error if the subscriber fell behind (and missed
    /// some) or the feed stopped.
    pub async fn recv(&mut self) -> Result<Arc<LiveEvent>, broadcast::error::RecvError> {
        loop {
            let e = self.rx.recv().await?;
            if self.floor.is_some_and(|floor| e.id <= floor) {
                continue;
            }
            return Ok(e);
        }
    }
}

/// The ids published lately, so a catch-up publishes none twice.
#[derive(Default)]
struct Recent {
    order: VecDeque<i64>,
    ids: HashSet<i64>,
}

impl Recent {
    /// Whether `id` is new (and now remembered).
    fn first_time(&mut self, id: i64) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > 4 * LOOKBACK as usize {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

impl Feed {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        let rx = self.tx.subscribe();
        self.wake.notify_one();
        rx
    }

    /// A receiver of the events committed from now on. On SQLite, whose
    /// tail is polled, the newest event now is the floor: events up to it
    /// were committed before and are skipped. (On PostgreSQL the listener
    /// hears only what commits after, and ids need not commit in order.)
    pub async fn subscribe_from_now(&self, db: &DatabaseConnection) -> Result<Subscriber> {
        let rx = self.subscribe();
        let floor = match db.get_database_backend() {
            DatabaseBackend::Postgres => None,
            _ => Some(newest_id(db).await?),
        };
        Ok(Subscriber { rx, floor })
    }

    /// Resolves once the feed listens (events committed from then on are
    /// published).
    pub async fn ready(&self) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
    }

    fn publish(&self, events: Vec<Read>, recent: &mut Recent) {
        for (e, invitation) in events {
            if recent.first_time(e.id) {
                // No receiver is no error: nobody is listening.
                let _ = self.tx.send(Arc::new(LiveEvent::new(e, invitation)));
            }
        }
    }

    /// Runs until `stop` turns true.
    pub async fn run(self, db: DatabaseConnection, mut stop: watch::Receiver<bool>) {
        let run = async {
            match db.get_database_backend() {
                DatabaseBackend::Postgres => self.listen(&db).await,
                _ => self.tail(&db).await,
            }
        };
        tokio::select! {
            _ = run => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }

    async fn listen(&self, db: &DatabaseConnection) {
        let mut recent = Recent::default();
        // Events before the feed first listened are history, not news.
        let mut floor: Option<i64> = None;
        loop {
            let listening = async {
                let mut listener =
                    PgListener::connect_with(db.get_postgres_connection_pool()).await?;
                listener.listen(CHANNEL).await?;
                Ok::<_, sea_orm::sqlx::Error>(listener)
            };
            let mut listener = match listening.await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "live feed could not listen; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = self.catch_up(db, &mut floor, &mut recent).await {
                tracing::warn!(error = ?e, "live feed could not catch up");
            }
            self.ready.send_replace(true);
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => {
                        // With those already waiting (a bulk create
                        // announces a hundred at once): one read for all.
                        let mut ids: Vec<i64> = Vec::new();
                        ids.extend(n.payload().parse::<i64>().ok());
                        while ids.len() < 500 {
                            let Some(more) = listener.next_buffered() else {
                                break;
                            };
                            ids.extend(more.payload().parse::<i64>().ok());
                        }
                        if ids.is_empty() {
                            continue;
                        }
                        match by_ids(db, &ids).await {
                            Ok(events) => self.publish(events, &mut recent),
                            Err(e) => {
                                tracing::warn!(error = ?e, events = ids.len(), "live feed could not read announced events")
                            }
                        }
                    }
                    // The connection was lost and is back: what was
                    // announced meanwhile is in the table.
                    Ok(None) => {
                        if let Err(e) = self.catch_up(db, &mut floor, &mut recent).await {
                            tracing::warn!(error = ?e, "live feed could not catch up");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "live feed lost its listener; reconnecting");
                        break;
                    }
                }
            }
        }
    }

    /// Publishes the events of the last [`LOOKBACK`] ids not yet
    /// published; the first call only notes where news starts.
    async fn catch_up(
        &self,
        db: &DatabaseConnection,
        floor: &mut Option<i64>,
        recent: &mut Recent,
    ) -> Result<()> {
        let newest = newest_id(db).await?;
        let Some(start) = *floor else {
            *floor = Some(newest);
            return Ok(());
        };
        let from = start.max(newest - LOOKBACK);
        let events = event::Entity::find()
            .filter(event::Column::Id.gt(from))
            .order_by_asc(event::Column::Id)
            .find_also_related(invitation::Entity)
            .all(db)
            .await?;
        self.publish(events, recent);
        Ok(())
    }

    async fn tail(&self, db: &DatabaseConnection) {
        let mut recent = Recent::default();
        let mut last = loop {
            match newest_id(db).await {
                Ok(id) => break id,
                Err(e) => {
                    tracing::warn!(error = ?e, "live feed could not read the events table; retrying");
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
        };
        self.ready.send_replace(true);
        loop {
            let pause = if self.tx.receiver_count() == 0 {
                // Nobody listens: keep the place, publish nothing.
                match newest_id(db).await {
                    Ok(id) => last = last.max(id),
                    Err(e) => {
                        tracing::warn!(error = ?e, "live feed could not read the events table")
                    }
                }
                IDLE_POLL
            } else {
                match self.read_tail(db, &mut last, &mut recent).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = ?e, "live feed could not read new events"),
                }
                POLL
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.wake.notified() => {}
            }
        }
    }

    /// Whether there may be more to read at once.
    async fn read_tail(
        &self,
        db: &DatabaseConnection,
        last: &mut i64,
        recent: &mut Recent,
    ) -> Result<bool> {
        let events = event::Entity::find()
            .filter(event::Column::Id.gt(*last))
            .order_by_asc(event::Column::Id)
            .limit(500)
            .find_also_related(invitation::Entity)
            .all(db)
            .await?;
        let full = events.len() == 500;
        if let Some((e, _)) = events.last() {
            *last = e.id;
        }
        self.publish(events, recent);
        Ok(full)
    }
}

async fn newest_id(db: &DatabaseConnection) -> Result<i64> {
    let newest = event::Entity::find()
        .order_by_desc(event::Column::Id)
        .one(db)
        .await?;
    Ok(newest.map_or(0, |e| e.id))
}

async fn by_ids(db: &DatabaseConnection, ids: &[i64]) -> Result<Vec<Read>> {
    Ok(event::Entity::find()
        .filter(event::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(event::Column::Id)
        .find_also_related(invitation::Entity)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_published_once_even_when_a_catch_up_reads_it_again() {
        let mut recent = Recent::default();
        assert!(recent.first_time(7));
        assert!(!recent.first_time(7));
        assert!(recent.first_time(8));
    }

    #[test]
    fn the_memory_of_published_ids_is_bounded() {
        let mut recent = Recent::default();
        for id in 0..10 * LOOKBACK {
            recent.first_time(id);
        }
        assert_eq!(recent.ids.len(), 4 * LOOKBACK as usize);
        assert!(!recent.first_time(10 * LOOKBACK - 1));
    }
}

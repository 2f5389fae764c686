//! SPEC Part 2 "Live updates": the feed subscriptions read. Only committed
//! events are published, once each, and on PostgreSQL a feed on another
//! connection pool (as another process has) hears them too.

use invitations::{
    domain::invitations::history::{record, NewEvent},
    live::Feed,
    startup::connect_with,
};
use sea_orm::{DatabaseConnection, EntityTrait, TransactionTrait};
use std::{sync::Arc, time::Duration};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use entity::invitation_event::EventKind;
use invitations::live::LiveEvent as Event;

use crate::helpers::team;

/// A running feed on `db`, ready, and its receiver; dropping the stopper
/// ends it.
async fn feed_on(db: DatabaseConnection) -> (broadcast::Receiver<Arc<Event>>, watch::Sender<bool>) {
    let feed = Feed::default();
    let rx = feed.subscribe();
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(feed.clone().run(db, stopped));
    feed.ready().await;
    (rx, stop)
}

async fn next(rx: &mut broadcast::Receiver<Arc<Event>>) -> Arc<Event> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an event within 5 s")
        .expect("the feed is open")
}

#[tokio::test]
async fn a_committed_event_is_published_and_a_rolled_back_one_never_is() {
    let t = team().await;
    let first = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let (mut rx, _stop) = feed_on(t.app.db.clone()).await;

    // A change that rolls back, with its event.
    let inv = entity::invitation::Entity::find_by_id(Uuid::parse_str(&first).unwrap())
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let txn = t.app.db.begin().await.unwrap();
    record(
        &txn,
        vec![NewEvent::new(
            &inv,
            EventKind::Resent,
            invitations::clock::now(),
        )],
    )
    .await
    .unwrap();
    txn.rollback().await.unwrap();

    let second = t.app.invited(&t.ada, &t.ws, "dave@acme.test").await;
    let e = next(&mut rx).await;
    assert_eq!(
        (e.invitation_id.to_string(), e.kind),
        (second, EventKind::Created)
    );
    assert!(rx.try_recv().is_err(), "nothing else was published");
}

#[tokio::test]
async fn each_event_is_published_once_in_the_order_of_its_invitation() {
    let t = team().await;
    let (mut rx, _stop) = feed_on(t.app.db.clone()).await;
    let id = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let withdraw = t
        .app
        .gql(
            Some(&t.ada),
            crate::helpers::WITHDRAW,
            serde_json::json!({ "id": id }),
        )
        .await;
    assert!(withdraw.get("errors").is_none(), "{withdraw:#}");
    // Whatever the email worker adds meanwhile, the feed tells the
    // invitation's history: each event once, with its id, in order.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut published = Vec::new();
    while let Ok(e) = rx.try_recv() {
        published.push((e.id, e.kind));
    }
    let history: Vec<(i64, EventKind)> = invitations::domain::invitations::history::of_invitations(
        &t.app.db,
        &[invitations::domain::ids::InvitationId(
            Uuid::parse_str(&id).unwrap(),
        )],
    )
    .await
    .unwrap()
    .into_iter()
    .map(|e| (e.id, e.kind))
    .collect();
    assert_eq!(published, history);
    assert_eq!(published.first().map(|p| p.1), Some(EventKind::Created));
    assert!(published.iter().any(|p| p.1 == EventKind::Revoked));
}

/// Two processes sharing one PostgreSQL database: a change through one
/// reaches a feed on the other's pool (SQLite is one process).
#[tokio::test]
async fn on_postgresql_a_change_reaches_a_feed_on_another_connection_pool() {
    let t = team().await;
    if !t.app.db_url.starts_with("postgres") {
        return;
    }
    let other = connect_with(&t.app.db_url, Duration::from_secs(5))
        .await
        .unwrap();
    let (mut rx, _stop) = feed_on(other).await;
    let id = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let e = next(&mut rx).await;
    assert_eq!(
        (e.invitation_id.to_string(), e.kind),
        (id, EventKind::Created)
    );
}

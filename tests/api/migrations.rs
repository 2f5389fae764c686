//! The migrations keep the meaning of existing rows.

use crate::helpers::TestDatabase;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    sea_query::{Alias, Query},
    ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Value,
};
use std::time::Duration;
use uuid::Uuid;

fn insert(
    table: &str,
    columns: &[&str],
    values: Vec<Value>,
) -> sea_orm::sea_query::InsertStatement {
    Query::insert()
        .into_table(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(*c)))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned()
}

#[tokio::test]
async fn the_lifecycle_migration_keeps_existing_invitations_as_they_were_and_starts_their_history()
{
    let database = TestDatabase::create().await;
    let db = invitations::startup::connect_with(&database.url, Duration::from_secs(5))
        .await
        .unwrap();
    Migrator::up(&db, Some(3)).await.unwrap();
    let at = invitations::clock::now();
    let (ada, carol, ws) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for (id, who) in [(ada, "ada"), (carol, "carol")] {
        db.execute(&insert(
            "profile",
            &[
                "id",
                "subject",
                "email",
                "name",
                "handle",
                "created",
                "last_modified",
            ],
            vec![
                id.into(),
                who.into(),
                format!("{who}@acme.test").into(),
                who.into(),
                format!("@{who}").into(),
                at.into(),
                at.into(),
            ],
        ))
        .await
        .unwrap();
    }
    db.execute(&insert(
        "workspace",
        &[
            "id",
            "alias",
            "name",
            "domains",
            "status",
            "owner_id",
            "created",
            "last_modified",
        ],
        vec![
            ws.into(),
            "acme".into(),
            "Acme".into(),
            serde_json::json!(["acme.test"]).into(),
            "READY".into(),
            ada.into(),
            at.into(),
            at.into(),
        ],
    ))
    .await
    .unwrap();
    let (pending, accepted, revoked) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for (id, status, email) in [
        (pending, "PENDING", "dan@acme.test"),
        (accepted, "ACCEPTED", "carol@acme.test"),
        (revoked, "REVOKED", "erin@acme.test"),
    ] {
        db.execute(&insert(
            "invitation",
            &[
                "id",
                "created",
                "last_modified",
                "status",
                "email",
                "creator_id",
                "workspace_id",
            ],
            vec![
                id.into(),
                at.into(),
                at.into(),
                status.into(),
                email.into(),
                ada.into(),
                ws.into(),
            ],
        ))
        .await
        .unwrap();
    }
    db.execute(&insert(
        "membership",
        &[
            "workspace_id",
            "profile_id",
            "role",
            "created",
            "invitation_id",
        ],
        vec![
            ws.into(),
            carol.into(),
            "MEMBER".into(),
            at.into(),
            Some(accepted).into(),
        ],
    ))
    .await
    .unwrap();
    db.execute(&insert(
        "email_outbox",
        &[
            "id",
            "invitation_id",
            "status",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "created",
        ],
        vec![
            Uuid::new_v4().into(),
            pending.into(),
            "SENT".into(),
            1i32.into(),
            at.into(),
            Some(at).into(),
            at.into(),
        ],
    ))
    .await
    .unwrap();

    Migrator::up(&db, None).await.unwrap();

    use entity::{invitation, invitation_event, workspace};
    let p = invitation::Entity::find_by_id(pending)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        p.role,
        entity::membership::Role::Member,
        "grants what it granted"
    );
    assert_eq!(p.expires_at, None, "a sent one keeps no expiry");
    assert_eq!(p.status, invitation::InvitationStatus::Pending);
    let w = workspace::Entity::find_by_id(ws)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.invitation_expiry_secs, 7 * 86_400);
    let kinds = |id: Uuid| {
        let db = &db;
        async move {
            use sea_orm::ColumnTrait;
            invitation_event::Entity::find()
                .filter(invitation_event::Column::InvitationId.eq(id))
                .order_by_asc(invitation_event::Column::Id)
                .all(db)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.kind, e.actor_id))
                .collect::<Vec<_>>()
        }
    };
    use invitation_event::EventKind::*;
    assert_eq!(
        kinds(pending).await,
        [(Created, Some(ada)), (EmailSent, None)]
    );
    assert_eq!(
        kinds(accepted).await,
        [(Created, Some(ada)), (Accepted, Some(carol))]
    );
    assert_eq!(
        kinds(revoked).await,
        [(Created, Some(ada)), (Revoked, None)]
    );
    // A resend may queue a second email for one invitation now.
    invitations::delivery::outbox::enqueue(&db, &invitations::delivery::outbox::EMAILS, pending)
        .await
        .unwrap();
    db.close().await.unwrap();
}

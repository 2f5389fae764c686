//! Live updates across processes (PostgreSQL): each new history event is
//! announced on the channel `invitation_events` with its id as the payload.
//! PostgreSQL sends a notification only when its transaction commits, so a
//! rolled-back change is never announced. SQLite has nothing to do: its
//! one writer is in-process, and the feed reads the table's tail.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE FUNCTION invitation_event_notify() RETURNS trigger AS $$
             BEGIN
               PERFORM pg_notify('invitation_events', NEW.id::text);
               RETURN NULL;
             END $$ LANGUAGE plpgsql",
        )
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER invitation_event_notify AFTER INSERT ON invitation_event
             FOR EACH ROW EXECUTE FUNCTION invitation_event_notify()",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP TRIGGER IF EXISTS invitation_event_notify ON invitation_event")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS invitation_event_notify()")
            .await?;
        Ok(())
    }
}

//! Events counted by rate limits, shared by every server process.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateEvent::Table)
                    .col(pk_uuid(RateEvent::Id))
                    .col(string_len(RateEvent::Bucket, 80))
                    .col(timestamp_with_time_zone(RateEvent::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rate_event_bucket_at")
                    .table(RateEvent::Table)
                    .col(RateEvent::Bucket)
                    .col(RateEvent::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateEvent::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RateEvent {
    Table,
    Id,
    Bucket,
    At,
}

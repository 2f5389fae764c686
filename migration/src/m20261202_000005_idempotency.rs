//! Idempotency keys: a successful create's result, kept per caller and key
//! for 24 hours. The primary key makes concurrent first calls with one key
//! create once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .col(uuid(IdempotencyKey::ProfileId))
                    .col(string_len(IdempotencyKey::Key, 255))
                    .col(string_len(IdempotencyKey::Fingerprint, 64))
                    .col(json_null(IdempotencyKey::Result))
                    .col(timestamp_with_time_zone(IdempotencyKey::Created))
                    .col(timestamp_with_time_zone(IdempotencyKey::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKey::ProfileId)
                            .col(IdempotencyKey::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_key_expires")
                    .table(IdempotencyKey::Table)
                    .col(IdempotencyKey::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKey::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    ProfileId,
    Key,
    Fingerprint,
    Result,
    Created,
    ExpiresAt,
}

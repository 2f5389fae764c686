//! Webhooks, the delivery engine's second channel: a workspace's webhooks
//! (their signing secrets stored so the server can sign), and one outbox
//! row per delivery, with the protocol columns of `email_outbox` plus the
//! event it tells of, its body (made once, so every retry sends the same
//! bytes) and the receiver's last HTTP status.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Webhook::Table)
                    .col(pk_uuid(Webhook::Id))
                    .col(uuid(Webhook::WorkspaceId))
                    .col(text(Webhook::Url))
                    .col(text(Webhook::Secret))
                    // Comma-separated event kinds; null for all.
                    .col(text_null(Webhook::Events))
                    .col(boolean(Webhook::Enabled).default(true))
                    .col(uuid(Webhook::CreatorId))
                    .col(timestamp_with_time_zone(Webhook::Created))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Webhook::Table, Webhook::WorkspaceId)
                            .to(Workspace::Table, Workspace::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_workspace")
                    .table(Webhook::Table)
                    .col(Webhook::WorkspaceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .col(pk_uuid(WebhookDelivery::Id))
                    .col(uuid(WebhookDelivery::WebhookId))
                    .col(big_integer(WebhookDelivery::EventId))
                    .col(string_len(WebhookDelivery::EventKind, 32))
                    .col(text(WebhookDelivery::Body))
                    .col(string_len(WebhookDelivery::Status, 16))
                    .col(integer(WebhookDelivery::Attempts).default(0))
                    .col(timestamp_with_time_zone(WebhookDelivery::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(WebhookDelivery::LockedUntil))
                    .col(timestamp_with_time_zone_null(
                        WebhookDelivery::LastAttemptAt,
                    ))
                    .col(text_null(WebhookDelivery::LastError))
                    .col(integer_null(WebhookDelivery::LastStatus))
                    .col(timestamp_with_time_zone_null(WebhookDelivery::SentAt))
                    .col(timestamp_with_time_zone(WebhookDelivery::Created))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDelivery::Table, WebhookDelivery::WebhookId)
                            .to(Webhook::Table, Webhook::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_delivery_due")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::Status)
                    .col(WebhookDelivery::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_delivery_webhook")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::WebhookId)
                    .col(WebhookDelivery::Created)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDelivery::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Webhook::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Workspace {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Webhook {
    Table,
    Id,
    WorkspaceId,
    Url,
    Secret,
    Events,
    Enabled,
    CreatorId,
    Created,
}

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
    WebhookId,
    EventId,
    EventKind,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastAttemptAt,
    LastError,
    LastStatus,
    SentAt,
    Created,
}

//! Invitations, the email outbox, and the link from a membership to the
//! invitation that granted it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invitation::Table)
                    .col(pk_uuid(Invitation::Id))
                    .col(timestamp_with_time_zone(Invitation::Created))
                    .col(timestamp_with_time_zone(Invitation::LastModified))
                    .col(string_len(Invitation::Status, 16))
                    .col(string_len(Invitation::Email, 254))
                    .col(uuid(Invitation::CreatorId))
                    .col(uuid(Invitation::WorkspaceId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitation::Table, Invitation::CreatorId)
                            .to(Profile::Table, Profile::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitation::Table, Invitation::WorkspaceId)
                            .to(Workspace::Table, Workspace::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The three listings, each newest first.
        for (name, col) in [
            ("idx_invitation_creator_created", Invitation::CreatorId),
            ("idx_invitation_workspace_created", Invitation::WorkspaceId),
            ("idx_invitation_email_created", Invitation::Email),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Invitation::Table)
                        .col(col)
                        .col(Invitation::Created)
                        .col(Invitation::Id)
                        .to_owned(),
                )
                .await?;
        }
        // One PENDING invitation per (workspace, email), under any
        // concurrency. The same SQL works on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_invitation_pending ON invitation (workspace_id, email) \
                 WHERE status = 'PENDING'",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EmailOutbox::Table)
                    .col(pk_uuid(EmailOutbox::Id))
                    .col(uuid_uniq(EmailOutbox::InvitationId))
                    .col(string_len(EmailOutbox::Status, 16))
                    .col(integer(EmailOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(EmailOutbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(EmailOutbox::LockedUntil))
                    .col(timestamp_with_time_zone_null(EmailOutbox::LastAttemptAt))
                    .col(text_null(EmailOutbox::LastError))
                    .col(timestamp_with_time_zone_null(EmailOutbox::SentAt))
                    .col(timestamp_with_time_zone(EmailOutbox::Created))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EmailOutbox::Table, EmailOutbox::InvitationId)
                            .to(Invitation::Table, Invitation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The worker's scan: due rows of a status, oldest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_email_outbox_due")
                    .table(EmailOutbox::Table)
                    .col(EmailOutbox::Status)
                    .col(EmailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Membership::Table)
                    .add_column(uuid_null(Membership::InvitationId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_membership_invitation")
                    .table(Membership::Table)
                    .col(Membership::InvitationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_membership_invitation")
                    .table(Membership::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Membership::Table)
                    .drop_column(Membership::InvitationId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(EmailOutbox::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Invitation::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Profile {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Workspace {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    InvitationId,
}

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    Created,
    LastModified,
    Status,
    Email,
    CreatorId,
    WorkspaceId,
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Id,
    InvitationId,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastAttemptAt,
    LastError,
    SentAt,
    Created,
}

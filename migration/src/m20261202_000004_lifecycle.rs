//! The invitation lifecycle of SPEC Part 2: roles granted by invitations,
//! expiry, resends (several emails per invitation), and each invitation's
//! history.
//!
//! Existing rows keep their meaning: invitations grant `MEMBER`; one already
//! sent keeps no expiry (it was made under "pending until withdrawn"; a
//! resend starts its clock); workspaces get the default expiry of 7 days;
//! each invitation's history starts with what is known of it (created, its
//! email sent, accepted or revoked).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const SEVEN_DAYS: i64 = 7 * 24 * 3600;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            string_len(Invitation::Role, 16)
                .default("MEMBER")
                .to_owned(),
            big_integer(Invitation::ExpirySecs)
                .default(SEVEN_DAYS)
                .to_owned(),
            timestamp_with_time_zone_null(Invitation::ExpiresAt),
            integer(Invitation::Resends).default(0).to_owned(),
            timestamp_with_time_zone_null(Invitation::LastResentAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Invitation::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Workspace::Table)
                    .add_column(
                        big_integer(Workspace::InvitationExpirySecs)
                            .default(SEVEN_DAYS)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        // The sweep's scan: pending invitations by when they expire.
        manager
            .create_index(
                Index::create()
                    .name("idx_invitation_status_expires")
                    .table(Invitation::Table)
                    .col(Invitation::Status)
                    .col(Invitation::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        several_emails_per_invitation(manager).await?;

        manager
            .create_table(
                Table::create()
                    .table(InvitationEvent::Table)
                    .col(big_pk_auto(InvitationEvent::Id))
                    .col(uuid(InvitationEvent::InvitationId))
                    .col(uuid(InvitationEvent::WorkspaceId))
                    .col(timestamp_with_time_zone(InvitationEvent::At))
                    .col(string_len(InvitationEvent::Kind, 32))
                    .col(uuid_null(InvitationEvent::ActorId))
                    .col(text_null(InvitationEvent::Detail))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InvitationEvent::Table, InvitationEvent::InvitationId)
                            .to(Invitation::Table, Invitation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invitation_event_invitation")
                    .table(InvitationEvent::Table)
                    .col(InvitationEvent::InvitationId)
                    .col(InvitationEvent::At)
                    .col(InvitationEvent::Id)
                    .to_owned(),
            )
            .await?;

        // What is known of each existing invitation's history.
        let db = manager.get_connection();
        for sql in [
            "INSERT INTO invitation_event (invitation_id, workspace_id, at, kind, actor_id)
             SELECT id, workspace_id, created, 'CREATED', creator_id FROM invitation",
            "INSERT INTO invitation_event (invitation_id, workspace_id, at, kind)
             SELECT o.invitation_id, i.workspace_id, o.sent_at, 'EMAIL_SENT'
             FROM email_outbox o JOIN invitation i ON i.id = o.invitation_id
             WHERE o.status = 'SENT' AND o.sent_at IS NOT NULL",
            "INSERT INTO invitation_event (invitation_id, workspace_id, at, kind, actor_id)
             SELECT i.id, i.workspace_id, i.last_modified, 'ACCEPTED', m.profile_id
             FROM invitation i LEFT JOIN membership m ON m.invitation_id = i.id
             WHERE i.status = 'ACCEPTED'",
            "INSERT INTO invitation_event (invitation_id, workspace_id, at, kind)
             SELECT id, workspace_id, last_modified, 'REVOKED' FROM invitation
             WHERE status = 'REVOKED'",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InvitationEvent::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_invitation_status_expires")
                    .table(Invitation::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Invitation::Role,
            Invitation::ExpirySecs,
            Invitation::ExpiresAt,
            Invitation::Resends,
            Invitation::LastResentAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Invitation::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Workspace::Table)
                    .drop_column(Workspace::InvitationExpirySecs)
                    .to_owned(),
            )
            .await
        // The outbox keeps allowing several emails per invitation.
    }
}

/// A resend queues a new email: the outbox's one-row-per-invitation
/// constraint goes, an index for "the invitation's emails" comes.
async fn several_emails_per_invitation(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            db.execute_unprepared(
                "ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_invitation_id_key",
            )
            .await?;
        }
        _ => {
            // SQLite cannot drop a column's UNIQUE: the table is rebuilt.
            manager
                .create_table(
                    Table::create()
                        .table(EmailOutboxNew::Table)
                        .col(pk_uuid(EmailOutbox::Id))
                        .col(uuid(EmailOutbox::InvitationId))
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
                                .from(EmailOutboxNew::Table, EmailOutbox::InvitationId)
                                .to(Invitation::Table, Invitation::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            db.execute_unprepared(
                "INSERT INTO email_outbox_new (id, invitation_id, status, attempts, next_attempt_at,
                   locked_until, last_attempt_at, last_error, sent_at, created)
                 SELECT id, invitation_id, status, attempts, next_attempt_at,
                   locked_until, last_attempt_at, last_error, sent_at, created
                 FROM email_outbox",
            )
            .await?;
            db.execute_unprepared("DROP TABLE email_outbox").await?;
            db.execute_unprepared("ALTER TABLE email_outbox_new RENAME TO email_outbox")
                .await?;
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
        }
    }
    manager
        .create_index(
            Index::create()
                .name("idx_email_outbox_invitation")
                .table(EmailOutbox::Table)
                .col(EmailOutbox::InvitationId)
                .col(EmailOutbox::Created)
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    Role,
    ExpirySecs,
    ExpiresAt,
    Resends,
    LastResentAt,
    Status,
}

#[derive(DeriveIden)]
enum Workspace {
    Table,
    InvitationExpirySecs,
}

#[derive(DeriveIden)]
enum InvitationEvent {
    Table,
    Id,
    InvitationId,
    WorkspaceId,
    At,
    Kind,
    ActorId,
    Detail,
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

#[derive(DeriveIden)]
enum EmailOutboxNew {
    Table,
}

//! Profiles, workspaces and memberships.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Profile::Table)
                    .col(pk_uuid(Profile::Id))
                    .col(string_uniq(Profile::Subject))
                    .col(string(Profile::Email))
                    .col(string(Profile::Name))
                    .col(string_len_uniq(Profile::Handle, 40))
                    .col(string_null(Profile::Phone))
                    .col(uuid_null(Profile::DefaultWorkspaceId))
                    .col(timestamp_with_time_zone(Profile::Created))
                    .col(timestamp_with_time_zone(Profile::LastModified))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_profile_email")
                    .table(Profile::Table)
                    .col(Profile::Email)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Workspace::Table)
                    .col(pk_uuid(Workspace::Id))
                    .col(string_len_uniq(Workspace::Alias, 63))
                    .col(string(Workspace::Name))
                    .col(json(Workspace::Domains))
                    .col(string_null(Workspace::RepositoryUrl))
                    .col(string_null(Workspace::PipelinesImage))
                    .col(string_null(Workspace::ImageUrl))
                    .col(string_len(Workspace::Status, 16))
                    .col(uuid(Workspace::OwnerId))
                    .col(timestamp_with_time_zone(Workspace::Created))
                    .col(timestamp_with_time_zone(Workspace::LastModified))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Workspace::Table, Workspace::OwnerId)
                            .to(Profile::Table, Profile::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // A profile's default workspace; deleting the workspace clears it.
        // SQLite cannot add a foreign key to an existing table, so the link is
        // enforced in code there and by this constraint on PostgreSQL.
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .create_foreign_key(
                    ForeignKey::create()
                        .name("fk_profile_default_workspace")
                        .from(Profile::Table, Profile::DefaultWorkspaceId)
                        .to(Workspace::Table, Workspace::Id)
                        .on_delete(ForeignKeyAction::SetNull)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Membership::Table)
                    .col(uuid(Membership::WorkspaceId))
                    .col(uuid(Membership::ProfileId))
                    .col(string_len(Membership::Role, 16))
                    .col(timestamp_with_time_zone(Membership::Created))
                    .primary_key(
                        Index::create()
                            .col(Membership::WorkspaceId)
                            .col(Membership::ProfileId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Membership::Table, Membership::WorkspaceId)
                            .to(Workspace::Table, Workspace::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Membership::Table, Membership::ProfileId)
                            .to(Profile::Table, Profile::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // "Workspaces of a profile", newest membership first or by workspace.
        manager
            .create_index(
                Index::create()
                    .name("idx_membership_profile")
                    .table(Membership::Table)
                    .col(Membership::ProfileId)
                    .to_owned(),
            )
            .await?;
        // Members of a workspace in the order they joined.
        manager
            .create_index(
                Index::create()
                    .name("idx_membership_workspace_created")
                    .table(Membership::Table)
                    .col(Membership::WorkspaceId)
                    .col(Membership::Created)
                    .col(Membership::ProfileId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .drop_foreign_key(
                    ForeignKey::drop()
                        .name("fk_profile_default_workspace")
                        .table(Profile::Table)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Membership::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Workspace::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Profile::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Profile {
    Table,
    Id,
    Subject,
    Email,
    Name,
    Handle,
    Phone,
    DefaultWorkspaceId,
    Created,
    LastModified,
}

#[derive(DeriveIden)]
enum Workspace {
    Table,
    Id,
    Alias,
    Name,
    Domains,
    RepositoryUrl,
    PipelinesImage,
    ImageUrl,
    Status,
    OwnerId,
    Created,
    LastModified,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    WorkspaceId,
    ProfileId,
    Role,
    Created,
}

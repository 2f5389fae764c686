use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workspace")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub alias: String,
    pub name: String,
    /// Allowed email domains, already normalised (ASCII, lower case).
    #[sea_orm(column_type = "Json")]
    pub domains: DomainList,
    pub repository_url: Option<String>,
    pub pipelines_image: Option<String>,
    pub image_url: Option<String>,
    pub status: WorkspaceStatus,
    pub owner_id: Uuid,
    /// How long its new invitations stay acceptable once sent.
    pub invitation_expiry_secs: i64,
    pub created: DateTimeUtc,
    pub last_modified: DateTimeUtc,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct DomainList(pub Vec<String>);

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum WorkspaceStatus {
    #[sea_orm(string_value = "READY")]
    Ready,
    #[sea_orm(string_value = "PROVISIONING")]
    Provisioning,
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::membership::Entity")]
    Membership,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Membership.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// A person, keyed by the `sub` claim of their tokens.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "profile")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub subject: String,
    /// Lower-cased; not unique (several subjects may share an email).
    pub email: String,
    pub name: String,
    #[sea_orm(unique)]
    pub handle: String,
    pub phone: Option<String>,
    pub default_workspace_id: Option<Uuid>,
    pub created: DateTimeUtc,
    pub last_modified: DateTimeUtc,
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

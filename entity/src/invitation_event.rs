use sea_orm::entity::prelude::*;

/// Something that happened to an invitation, written in the transaction of
/// the change. The one source of the history, subscriptions and webhooks.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation_event")]
pub struct Model {
    /// Increasing in the order events were written.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub invitation_id: Uuid,
    pub workspace_id: Uuid,
    pub at: DateTimeUtc,
    pub kind: EventKind,
    /// Who acted; none for the system.
    pub actor_id: Option<Uuid>,
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum EventKind {
    #[sea_orm(string_value = "CREATED")]
    Created,
    #[sea_orm(string_value = "EMAIL_SENT")]
    EmailSent,
    #[sea_orm(string_value = "EMAIL_ATTEMPT_FAILED")]
    EmailAttemptFailed,
    #[sea_orm(string_value = "EMAIL_FAILED")]
    EmailFailed,
    #[sea_orm(string_value = "EMAIL_CANCELLED")]
    EmailCancelled,
    #[sea_orm(string_value = "RESENT")]
    Resent,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    #[sea_orm(string_value = "REVOKED")]
    Revoked,
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::invitation::Entity",
        from = "Column::InvitationId",
        to = "super::invitation::Column::Id",
        on_delete = "Cascade"
    )]
    Invitation,
}

impl Related<super::invitation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Invitation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

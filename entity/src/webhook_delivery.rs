use sea_orm::entity::prelude::*;

use super::email_outbox::DeliveryStatus;
use super::invitation_event::EventKind;

/// One event on its way to one webhook: an outbox row of the delivery
/// engine (its protocol columns are `email_outbox`'s).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    /// Sent as `webhook-id`, the same on every retry.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: i64,
    pub event_kind: EventKind,
    /// The JSON body, made when the event was written.
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// The receiver's HTTP status at the last attempt, if it answered.
    pub last_status: Option<i32>,
    pub sent_at: Option<DateTimeUtc>,
    pub created: DateTimeUtc,
    /// The W3C trace context of the request that caused it, sent along.
    pub traceparent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::webhook::Entity",
        from = "Column::WebhookId",
        to = "super::webhook::Column::Id",
        on_delete = "Cascade"
    )]
    Webhook,
}

impl Related<super::webhook::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Webhook.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

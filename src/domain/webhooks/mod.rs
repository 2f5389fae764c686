//! Webhooks: a workspace's managers register URLs that hear of its
//! invitations' events. Each event a webhook wants becomes one delivery,
//! an outbox row written in the event's own transaction ([`enqueue`]), so
//! it inherits the delivery engine's guarantees; the channel that sends
//! them is `crate::webhook`. The body ([`payload`]) and the signature
//! ([`signature`]) are the SPEC's and Standard Webhooks' formats.

pub mod payload;
pub mod signature;

use sea_orm::{
    sea_query::Order, ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    Iterable, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;
use uuid::Uuid;

use entity::{
    email_outbox::DeliveryStatus, invitation, invitation_event as event,
    invitation_event::EventKind, webhook, webhook_delivery as delivery,
};

use crate::domain::{
    caller::Caller,
    ids::{WebhookId, WorkspaceId},
    members::{self, is_manager},
    now,
    paging::{Key, Keyset, Page, PageRequest},
    values::webhook_url::WebhookUrl,
};
use crate::error::{Error, Input, Result};

pub use signature::Secret;

/// What `createWebhook` asks for, parsed.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: WebhookUrl,
    /// `None`: every kind.
    pub events: Option<Vec<EventKind>>,
}

/// The kinds a webhook wants, as stored (`None`: all).
pub fn kinds(hook: &webhook::Model) -> Vec<EventKind> {
    match &hook.events {
        None => EventKind::iter().collect(),
        Some(list) => list
            .split(',')
            .filter_map(|k| EventKind::try_from_value(&k.to_owned()).ok())
            .collect(),
    }
}

fn wants(hook: &webhook::Model, kind: EventKind) -> bool {
    kinds(hook).contains(&kind)
}

/// The caller's workspace, if they manage it: a stranger is told nothing,
/// a plain member is told no.
async fn managed(db: &impl ConnectionTrait, caller: &Caller, ws: WorkspaceId) -> Result<()> {
    match members::membership(db, ws, caller.id()).await? {
        None => Err(Error::NotFound("workspace")),
        Some(m) if !is_manager(m.role) => Err(Error::forbidden(
            "Only the owner and admins of the workspace manage its webhooks",
        )),
        Some(_) => Ok(()),
    }
}

/// `createWebhook`: a manager registers `url`; returns the webhook and
/// its secret, which is shown this once (and kept, to sign with).
pub async fn create(
    db: &impl ConnectionTrait,
    caller: &Caller,
    ws: WorkspaceId,
    input: Input<NewWebhook>,
    secret: Secret,
) -> Result<(webhook::Model, Secret)> {
    managed(db, caller, ws).await?;
    let input = input?;
    let events = input.events.map(|kinds| {
        kinds
            .iter()
            .map(|k| k.to_value())
            .collect::<Vec<_>>()
            .join(",")
    });
    let hook = webhook::ActiveModel {
        id: Set(Uuid::new_v4()),
        workspace_id: Set(ws.0),
        url: Set(input.url.as_str().to_owned()),
        secret: Set(secret.to_text()),
        events: Set(events),
        enabled: Set(true),
        creator_id: Set(caller.id().0),
        created: Set(now()),
    }
    .insert(db)
    .await?;
    Ok((hook, secret))
}

/// `deleteWebhook`: a manager of its workspace; its deliveries go with it.
pub async fn delete(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: WebhookId,
) -> Result<WebhookId> {
    let hook = webhook::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(Error::NotFound("webhook"))?;
    managed(db, caller, WorkspaceId(hook.workspace_id))
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => Error::NotFound("webhook"),
            e => e,
        })?;
    webhook::Entity::delete_by_id(id.0).exec(db).await?;
    Ok(id)
}

/// A workspace's webhooks, oldest first (the caller's access is checked
/// by the workspace they were reached through).
pub async fn of_workspace(
    db: &impl ConnectionTrait,
    ws: WorkspaceId,
) -> Result<Vec<webhook::Model>> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::WorkspaceId.eq(ws.0))
        .order_by_asc(webhook::Column::Created)
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?)
}

const NEWEST_FIRST: Keyset<delivery::Entity> = Keyset {
    at: delivery::Column::Created,
    id: delivery::Column::Id,
    natural: Order::Desc,
    key_of: |d| Key {
        at: d.created,
        id: d.id,
    },
};

/// A page of a webhook's deliveries, newest first.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    hook: WebhookId,
    req: &PageRequest,
) -> Result<Page<delivery::Model>> {
    let base = delivery::Entity::find().filter(delivery::Column::WebhookId.eq(hook.0));
    NEWEST_FIRST.fetch(db, base, req).await
}

pub async fn count_deliveries(db: &impl ConnectionTrait, hook: WebhookId) -> Result<u64> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::WebhookId.eq(hook.0))
        .count(db)
        .await?)
}

/// The enabled webhooks of these workspaces (one statement): what
/// [`enqueue`] needs, read before the events are written so that a
/// workspace without webhooks costs nothing more.
pub async fn listening(
    db: &impl ConnectionTrait,
    workspaces: &[Uuid],
) -> Result<Vec<webhook::Model>> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::WorkspaceId.is_in(workspaces.iter().copied()))
        .filter(webhook::Column::Enabled.eq(true))
        .all(db)
        .await?)
}

/// Queues one delivery per event and webhook that wants its kind, in the
/// caller's transaction, each with its body made now from the invitation
/// as the event left it.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    hooks: &[webhook::Model],
    events: &[event::Model],
) -> Result<()> {
    let wanted: Vec<(&webhook::Model, &event::Model)> = events
        .iter()
        .flat_map(|e| {
            hooks
                .iter()
                .filter(move |h| h.workspace_id == e.workspace_id && wants(h, e.kind))
                .map(move |h| (h, e))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = crate::domain::ids::distinct(&wanted, |(_, e)| e.invitation_id);
    let invitations: HashMap<Uuid, invitation::Model> = invitation::Entity::find()
        .filter(invitation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let at = now();
    let traceparent = crate::telemetry::traceparent();
    let rows = wanted.into_iter().filter_map(|(hook, e)| {
        let inv = invitations.get(&e.invitation_id)?;
        Some(delivery::ActiveModel {
            id: Set(Uuid::new_v4()),
            webhook_id: Set(hook.id),
            event_id: Set(e.id),
            event_kind: Set(e.kind),
            body: Set(payload::body(e, inv)),
            status: Set(DeliveryStatus::Queued),
            attempts: Set(0),
            next_attempt_at: Set(at),
            locked_until: Set(None),
            last_attempt_at: Set(None),
            last_error: Set(None),
            last_status: Set(None),
            sent_at: Set(None),
            created: Set(at),
            traceparent: Set(traceparent.clone()),
        })
    });
    delivery::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

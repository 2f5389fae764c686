//! `Webhook`, its deliveries, and `createWebhook`/`deleteWebhook`.
//! Resolvers read the caller, parse the arguments, call
//! `domain::webhooks`, and wrap the result.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use std::sync::Arc;

use entity::{email_outbox::DeliveryStatus, webhook, webhook_delivery as delivery};

use super::{
    context::{caller, data, db},
    history::InvitationEventKind,
    page::{connection, connection_type, PageArgs},
    scalars::DateTime,
    Policy,
};
use crate::domain::{
    ids::{WebhookId, WorkspaceId},
    values::webhook_url::{Reach, WebhookUrl},
    webhooks::{self, NewWebhook, Secret},
};
use crate::error::{Error, Reason, Result};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WebhookDeliveryStatus {
    /// Waiting for its first or next attempt.
    Queued,
    /// Answered with 2xx.
    Sent,
    /// Given up: after the last attempt, or on 410 Gone.
    Failed,
}

impl From<DeliveryStatus> for WebhookDeliveryStatus {
    fn from(s: DeliveryStatus) -> Self {
        match s {
            DeliveryStatus::Queued => Self::Queued,
            DeliveryStatus::Sent => Self::Sent,
            // Webhook deliveries are never cancelled; were one, it was not sent.
            DeliveryStatus::Failed | DeliveryStatus::Cancelled => Self::Failed,
        }
    }
}

#[derive(Clone)]
pub(crate) struct WebhookDelivery(Arc<delivery::Model>);

connection_type!(
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookDeliveryEdge
);

#[Object]
impl WebhookDelivery {
    /// Sent as `webhook-id`, the same on every retry.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn event_kind(&self) -> InvitationEventKind {
        self.0.event_kind.into()
    }

    async fn status(&self) -> WebhookDeliveryStatus {
        self.0.status.into()
    }

    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    async fn last_attempt(&self) -> Option<DateTime> {
        self.0.last_attempt_at.map(Into::into)
    }

    /// HTTP status of the last answer.
    async fn last_status(&self) -> Option<i32> {
        self.0.last_status
    }

    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
}

#[derive(Clone)]
pub(crate) struct Webhook(Arc<webhook::Model>);

impl Webhook {
    pub(crate) fn new(model: webhook::Model) -> Self {
        Self(Arc::new(model))
    }
}

#[Object]
impl Webhook {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn url(&self) -> &str {
        &self.0.url
    }

    async fn events(&self) -> Vec<InvitationEventKind> {
        webhooks::kinds(&self.0)
            .into_iter()
            .map(Into::into)
            .collect()
    }

    async fn created(&self) -> DateTime {
        self.0.created.into()
    }

    /// False once the receiver answered 410 Gone.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Newest first.
    #[graphql(complexity = "super::page::cost(first, None, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<WebhookDeliveryConnection> {
        let id = WebhookId(self.0.id);
        let listing = format!("deliveries:{id}");
        let req = PageArgs::new(first, after, None, None).parse(&listing)?;
        let db = db(ctx)?;
        let page = webhooks::deliveries(db, id, &req).await?;
        let page = page.map(|d| WebhookDelivery(Arc::new(d)));
        connection(ctx, &listing, page, webhooks::count_deliveries(db, id)).await
    }
}

#[derive(SimpleObject)]
pub(crate) struct WebhookCreated {
    webhook: Webhook,
    /// whsec_ + base64 of 32 random bytes; shown only here.
    secret: String,
}

/// `url` and `events` as `createWebhook` takes them: the URL's form, and
/// (without `WEBHOOK_ALLOW_PRIVATE`) that its name resolves to public
/// addresses only.
async fn parse_new(
    url: &str,
    events: Option<Vec<InvitationEventKind>>,
    reach: Reach,
) -> Result<NewWebhook> {
    let url = WebhookUrl::parse(url, reach).map_err(|e| e.at("url"))?;
    if reach == Reach::PublicOnly {
        if let (Some(host), Some(port)) = (url.host(), url.port()) {
            if host.parse::<std::net::IpAddr>().is_err() {
                crate::webhook::resolver::resolve_checked(&host, port, reach)
                    .await
                    .map_err(|e| {
                        Error::bad_input(
                            Reason::InvalidUrl,
                            format!("A webhook URL must resolve to public addresses only: {e}"),
                        )
                        .at("url")
                    })?;
            }
        }
    }
    let events = match events {
        Some(kinds) if kinds.is_empty() => {
            return Err(Error::bad_input(
                Reason::InvalidValue,
                "Name at least one event kind, or leave `events` out for all",
            )
            .at("events"))
        }
        Some(kinds) => {
            // Each kind once, in the order first given.
            let mut once = Vec::new();
            for kind in kinds.into_iter().map(Into::into) {
                if !once.contains(&kind) {
                    once.push(kind);
                }
            }
            Some(once)
        }
        None => None,
    };
    Ok(NewWebhook { url, events })
}

#[derive(Default)]
pub(crate) struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Managers only. The secret is shown this once.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        url: String,
        events: Option<Vec<InvitationEventKind>>,
    ) -> Result<WebhookCreated> {
        let caller = caller(ctx).await?;
        let ws = WorkspaceId::parse(&workspace_id).map_err(|e| e.at("workspaceId"))?;
        let reach = data::<Policy>(ctx)?.webhook_reach;
        let input = parse_new(&url, events, reach).await;
        let secret = Secret::generate()
            .map_err(|e| Error::internal(format!("no randomness for a secret: {e}")))?;
        let (hook, secret) = webhooks::create(db(ctx)?, caller, ws, input, secret).await?;
        Ok(WebhookCreated {
            webhook: Webhook::new(hook),
            secret: secret.to_text(),
        })
    }

    /// Managers only. Returns the id.
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let caller = caller(ctx).await?;
        let id = WebhookId::parse(&id).map_err(|e| e.at("id"))?;
        Ok(ID(webhooks::delete(db(ctx)?, caller, id)
            .await?
            .to_string()))
    }
}

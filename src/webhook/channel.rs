//! Webhooks, the delivery engine's second channel: a `webhook_delivery`
//! row becomes a POST of its body to its webhook's URL with the Standard
//! Webhooks headers. A 2xx answer delivers it; anything else, or no answer
//! within the timeout, is retried; `410 Gone` fails it and disables the
//! webhook. Redirects are not followed (a redirect could lead anywhere),
//! and connections are made only through [`CheckedResolver`], to the
//! address it checked.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use uuid::Uuid;

use entity::{webhook, webhook_delivery as delivery};

use super::resolver::CheckedResolver;
use crate::delivery::{
    outbox::{Claimed, Queue, Recorded},
    Channel, Prepared, SendError, Session,
};
use crate::domain::{
    values::webhook_url::{Reach, WebhookUrl},
    webhooks::{signature, Secret},
};
use crate::error::Result;

/// Webhook deliveries.
pub const WEBHOOKS: Queue = Queue {
    table: "webhook_delivery",
    subject: "webhook_id",
};

/// The answer that disables a webhook.
const GONE: u16 = 410;

/// The receivers' last answers, by delivery, from the sessions that
/// sent them to [`Channel::recorded`], which writes them down.
type Answers = Arc<Mutex<HashMap<Uuid, u16>>>;

#[derive(Debug, Clone)]
pub struct WebhookChannel {
    client: reqwest::Client,
    reach: Reach,
    answers: Answers,
}

impl WebhookChannel {
    /// `reach`: where webhooks may point (`WEBHOOK_ALLOW_PRIVATE`);
    /// `timeout`: how long a receiver has to answer (`WEBHOOK_TIMEOUT`).
    pub fn new(reach: Reach, timeout: Duration) -> std::result::Result<Self, String> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckedResolver(reach)))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("invitations-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the webhook HTTP client: {e}"))?;
        Ok(Self {
            client,
            reach,
            answers: Answers::default(),
        })
    }

    fn take_answer(&self, id: Uuid) -> Option<u16> {
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
    }
}

/// What a batch of claimed rows needs: the rows and their webhooks.
pub struct Loaded {
    deliveries: HashMap<Uuid, delivery::Model>,
    hooks: HashMap<Uuid, webhook::Model>,
}

/// One signed POST, ready to go.
pub struct WebhookRequest {
    delivery_id: Uuid,
    url: WebhookUrl,
    secret: Secret,
    body: String,
    /// The causing request's trace, when it was traced.
    traceparent: Option<String>,
}

impl Channel for WebhookChannel {
    type Loaded = Loaded;
    type Message = WebhookRequest;
    type Session = WebhookSession;

    fn name(&self) -> &'static str {
        "webhook"
    }

    fn queue(&self) -> &'static Queue {
        &WEBHOOKS
    }

    fn describe(&self) -> String {
        match self.reach {
            Reach::PublicOnly => "each webhook's https URL (public addresses only)".into(),
            Reach::Anywhere => "each webhook's URL (private addresses allowed)".into(),
        }
    }

    async fn load(&self, db: &DatabaseConnection, rows: &[Claimed]) -> Result<Loaded> {
        let deliveries = delivery::Entity::find()
            .filter(delivery::Column::Id.is_in(rows.iter().map(|r| r.id)))
            .all(db)
            .await?;
        let hooks = webhook::Entity::find()
            .filter(webhook::Column::Id.is_in(rows.iter().map(|r| r.subject)))
            .all(db)
            .await?;
        Ok(Loaded {
            deliveries: deliveries.into_iter().map(|d| (d.id, d)).collect(),
            hooks: hooks.into_iter().map(|h| (h.id, h)).collect(),
        })
    }

    fn render(&self, row: &Claimed, loaded: &Loaded) -> Prepared<WebhookRequest> {
        let (Some(d), Some(hook)) = (
            loaded.deliveries.get(&row.id),
            loaded.hooks.get(&row.subject),
        ) else {
            // Deleted with its webhook meanwhile.
            return Prepared::Cancel;
        };
        if !hook.enabled {
            return Prepared::Fail(
                "the webhook is disabled: its receiver answered 410 Gone".into(),
            );
        }
        // Checked again now: the settings may have changed since.
        let url = match WebhookUrl::parse(&hook.url, self.reach) {
            Ok(url) => url,
            Err(_) => return Prepared::Fail(format!("{} may not be called", hook.url)),
        };
        let Some(secret) = Secret::parse(&hook.secret) else {
            return Prepared::Fail("the webhook's secret is unreadable".into());
        };
        Prepared::Send(WebhookRequest {
            delivery_id: d.id,
            url,
            secret,
            body: d.body.clone(),
            traceparent: d.traceparent.clone(),
        })
    }

    fn open(&self) -> WebhookSession {
        WebhookSession {
            client: self.client.clone(),
            answers: self.answers.clone(),
        }
    }

    /// Writes down the receiver's answer, and disables the webhook on
    /// `410 Gone`.
    async fn recorded(
        &self,
        txn: &DatabaseTransaction,
        row: &Claimed,
        _recorded: Recorded,
        _at: DateTime<Utc>,
        _error: Option<&str>,
    ) -> Result<()> {
        let answer = self.take_answer(row.id);
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::LastStatus,
                Expr::value(answer.map(i32::from)),
            )
            .filter(delivery::Column::Id.eq(row.id))
            .exec(txn)
            .await?;
        if answer == Some(GONE) {
            webhook::Entity::update_many()
                .col_expr(webhook::Column::Enabled, Expr::value(false))
                .filter(webhook::Column::Id.eq(row.subject))
                .exec(txn)
                .await?;
            tracing::warn!(webhook_id = %row.subject, "webhook disabled: its receiver answered 410 Gone");
        }
        Ok(())
    }
}

/// Sends over the channel's client (its connection pool).
pub struct WebhookSession {
    client: reqwest::Client,
    answers: Answers,
}

impl Session<WebhookRequest> for WebhookSession {
    async fn send(&mut self, m: &WebhookRequest) -> std::result::Result<(), SendError> {
        let id = m.delivery_id.to_string();
        let timestamp = crate::clock::now().timestamp();
        let signature = signature::sign(&m.secret, &id, timestamp, m.body.as_bytes());
        let mut request = self.client.post(m.url.as_str());
        if let Some(parent) = &m.traceparent {
            request = request.header("traceparent", parent);
        }
        let sent = request
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(m.body.clone())
            .send()
            .await;
        let status = match sent {
            Ok(response) => response.status(),
            Err(e) => return Err(SendError::Transient(describe(&e))),
        };
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(m.delivery_id, status.as_u16());
        match status.as_u16() {
            200..=299 => Ok(()),
            GONE => Err(SendError::Permanent(
                "410 Gone: the receiver wants no more; the webhook is disabled".into(),
            )),
            _ => Err(SendError::Transient(format!(
                "the receiver answered {status}"
            ))),
        }
    }

    async fn close(self) {}
}

/// An error with its causes (reqwest's own message hides them: "error
/// sending request"), without the URL's query string.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "no answer in time".to_owned()
    } else {
        "could not reach the receiver".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

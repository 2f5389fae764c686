//! Email, the delivery engine's first channel: an outbox row of
//! `email_outbox` becomes the invitation email of its invitation.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use std::collections::HashMap;
use uuid::Uuid;

use super::{
    message::{self, InvitationEmail, Sender},
    transport::{MailSession, Mailer, Outgoing},
};
use crate::delivery::{
    outbox::{Claimed, Queue, Recorded, EMAILS},
    Channel, Prepared,
};
use crate::domain::{
    ids::InvitationId,
    invitations::email::{self, email_facts, EmailFacts},
};
use crate::error::Result;
use entity::invitation::InvitationStatus;

/// How invitation emails are written and where they go.
#[derive(Debug, Clone)]
pub struct EmailChannel {
    pub mailer: Mailer,
    pub sender: Sender,
    /// Links are `PUBLIC_APP_URL/invitations/<id>`.
    pub public_app_url: String,
}

impl EmailChannel {
    /// The message for one outbox row, or why there is none.
    pub fn message(&self, row: &Claimed, facts: Option<&EmailFacts>) -> Prepared<Outgoing> {
        let Some(f) = facts else {
            return Prepared::Cancel;
        };
        if f.status != InvitationStatus::Pending {
            return Prepared::Cancel;
        }
        let email = InvitationEmail {
            invitation_id: f.invitation_id,
            recipient: f.recipient.clone(),
            creator_name: f.creator_name.clone(),
            creator_email: f.creator_email.clone(),
            workspace_name: f.workspace_name.clone(),
        };
        let id = message::message_id(row.id, &self.sender);
        match message::render(&email, &self.sender, &self.public_app_url, &id) {
            Ok(bytes) => Prepared::Send(Outgoing {
                id: row.id,
                from: self.sender.address.clone(),
                to: email.recipient,
                bytes,
            }),
            Err(e) => Prepared::Fail(e),
        }
    }
}

impl Channel for EmailChannel {
    type Loaded = HashMap<Uuid, EmailFacts>;
    type Message = Outgoing;
    type Session = MailSession;

    fn name(&self) -> &'static str {
        "email"
    }

    fn queue(&self) -> &'static Queue {
        &EMAILS
    }

    fn describe(&self) -> String {
        self.mailer.describe()
    }

    async fn load(&self, db: &DatabaseConnection, rows: &[Claimed]) -> Result<Self::Loaded> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.subject).collect();
        email_facts(db, &ids).await
    }

    fn render(&self, row: &Claimed, loaded: &Self::Loaded) -> Prepared<Outgoing> {
        self.message(row, loaded.get(&row.subject))
    }

    fn open(&self) -> MailSession {
        self.mailer.open()
    }

    async fn recorded(
        &self,
        txn: &DatabaseTransaction,
        row: &Claimed,
        recorded: Recorded,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<()> {
        email::attempted(txn, InvitationId(row.subject), recorded, at, error).await
    }
}

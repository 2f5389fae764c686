//! Creating invitations, one (`createInvitation`) or many at once
//! (`createInvitations`), through one set of rules: the whole request is
//! refused as `createInvitation` is (not a member, the role, the expiry);
//! then each address gets its outcome (valid, in the workspace's domains,
//! not a duplicate, not a member, not already invited, within the rate
//! limits), and every invited one is written, with its email and its
//! `CREATED` event, in one transaction. The look-ups and inserts are
//! batched, so a hundred addresses cost about the statements of one.
//!
//! `createInvitation` is the one-address case, its outcome turned into the
//! error the SPEC's table gives.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionSession, TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use entity::{
    invitation::{self, InvitationStatus as Status},
    invitation_event::EventKind,
    membership::{self, Role},
    profile,
};

use super::{
    expiry,
    history::{self, NewEvent},
    state,
};
use crate::delivery::outbox::{self, EMAILS};
use crate::domain::{
    caller::Caller,
    idempotency::{self, Claim, Fingerprint},
    ids::WorkspaceId,
    members::{self, is_manager},
    now,
    rate_limit::{self, Grant, RateLimits},
    values::{email, EmailAddress, Expiry, IdempotencyKey},
};
use crate::error::{Error, Input, Reason, Result};

/// At most this many addresses in one call.
pub const MAX_ADDRESSES: usize = 100;

/// What a create asks for.
#[derive(Debug, Clone)]
pub struct NewInvitations {
    /// As the client gave them.
    pub emails: Vec<String>,
    /// Granted on accepting.
    pub role: Role,
    /// Instead of the workspace's expiry.
    pub expires_in: Input<Option<Expiry>>,
    /// Decide every outcome; write and consume nothing.
    pub dry_run: bool,
    /// A repeat with this key returns the first call's result.
    pub key: Option<IdempotencyKey>,
}

/// What became of one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Invited,
    WouldInvite,
    InvalidEmail,
    DomainNotAllowed,
    AlreadyMember,
    AlreadyInvited,
    /// The same address, after normalisation, earlier in the list.
    Duplicate,
    RateLimited,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Invited => "INVITED",
            Outcome::WouldInvite => "WOULD_INVITE",
            Outcome::InvalidEmail => "INVALID_EMAIL",
            Outcome::DomainNotAllowed => "DOMAIN_NOT_ALLOWED",
            Outcome::AlreadyMember => "ALREADY_MEMBER",
            Outcome::AlreadyInvited => "ALREADY_INVITED",
            Outcome::Duplicate => "DUPLICATE",
            Outcome::RateLimited => "RATE_LIMITED",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Outcome::Invited,
            Outcome::WouldInvite,
            Outcome::InvalidEmail,
            Outcome::DomainNotAllowed,
            Outcome::AlreadyMember,
            Outcome::AlreadyInvited,
            Outcome::Duplicate,
            Outcome::RateLimited,
        ]
        .into_iter()
        .find(|o| o.name() == s)
    }

    /// Counted in `invitedCount`.
    pub fn invites(self) -> bool {
        matches!(self, Outcome::Invited | Outcome::WouldInvite)
    }
}

/// One address's result, in input order.
#[derive(Debug, Clone)]
pub struct AddressResult {
    /// As given.
    pub email: String,
    pub outcome: Outcome,
    /// The invitation made, or the pending one (when the caller may see it).
    pub invitation: Option<invitation::Model>,
}

/// The results, and what the rate limits said (for `createInvitation`'s
/// error).
#[derive(Debug, Clone)]
pub struct Created {
    pub results: Vec<AddressResult>,
    grant: Option<Grant>,
}

/// `createInvitations`.
pub async fn create_many<C>(
    db: &C,
    caller: &Caller,
    workspace: WorkspaceId,
    new: NewInvitations,
    limits: &RateLimits,
) -> Result<Created>
where
    C: ConnectionTrait + TransactionTrait,
{
    if !(1..=MAX_ADDRESSES).contains(&new.emails.len()) {
        return Err(Error::bad_input(
            Reason::TooMany,
            format!("Between 1 and {MAX_ADDRESSES} addresses at once"),
        )
        .at("emails"));
    }
    keyed(
        db,
        caller,
        workspace,
        new,
        limits,
        "createInvitations",
        |_| true,
    )
    .await
}

/// `createInvitation`: the one-address case, each outcome but `INVITED` the
/// refusal of the SPEC's table.
pub async fn create<C>(
    db: &C,
    caller: &Caller,
    workspace: WorkspaceId,
    new: NewInvitations,
    limits: &RateLimits,
) -> Result<invitation::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    // Refused (any outcome but INVITED), it keeps nothing.
    let invited = |c: &Created| c.results.iter().all(|r| r.outcome == Outcome::Invited);
    let created = keyed(
        db,
        caller,
        workspace,
        new,
        limits,
        "createInvitation",
        invited,
    )
    .await?;
    let Some(result) = created.results.into_iter().next() else {
        return Err(Error::internal("a create without a result"));
    };
    match (result.outcome, result.invitation) {
        (Outcome::Invited | Outcome::WouldInvite, Some(inv)) => Ok(inv),
        (Outcome::Invited | Outcome::WouldInvite, None) => Err(Error::NotFound("invitation")),
        (Outcome::InvalidEmail, _) => Err(EmailAddress::parse(&result.email)
            .err()
            .unwrap_or_else(|| Error::internal("an invalid address parsed"))),
        (Outcome::DomainNotAllowed, _) => Err(Error::bad_input(
            Reason::DomainNotAllowed,
            "The address is not in one of this workspace's domains",
        )),
        (Outcome::AlreadyMember, _) => Err(Error::conflict(
            Reason::AlreadyMember,
            "Someone with this email is already a member",
        )),
        (Outcome::AlreadyInvited | Outcome::Duplicate, _) => Err(already_invited()),
        (Outcome::RateLimited, _) => Err(created
            .grant
            .map(|g| g.refusal(limits))
            .unwrap_or_else(|| Error::internal("rate limited without a grant"))),
    }
}

pub(super) fn already_invited() -> Error {
    Error::conflict(
        Reason::AlreadyInvited,
        "This email already has a pending invitation to this workspace",
    )
}

/// The whole-request checks, then the call, under its idempotency key if
/// it has one (a dry run ignores it). Its writes are kept when `succeeded`
/// says the call succeeded.
async fn keyed<C>(
    db: &C,
    caller: &Caller,
    workspace: WorkspaceId,
    new: NewInvitations,
    limits: &RateLimits,
    operation: &str,
    succeeded: impl Fn(&Created) -> bool,
) -> Result<Created>
where
    C: ConnectionTrait + TransactionTrait,
{
    let membership = members::membership(db, workspace, caller.id())
        .await?
        .ok_or(Error::NotFound("workspace"))?;
    members::may_grant(membership.role, new.role)?;
    let expiry = new.expires_in.clone()?.unwrap_or(Expiry::from_secs(
        membership.workspace.invitation_expiry_secs,
    ));
    let plan = Plan {
        caller,
        workspace,
        domains: membership.workspace.domains.0.clone(),
        manager: is_manager(membership.role),
        role: new.role,
        expiry,
        limits,
    };
    let key = new.key.clone().filter(|_| !new.dry_run);
    let Some(key) = key else {
        return plan.run(db, &new.emails, new.dry_run, &succeeded).await;
    };
    let fingerprint = Fingerprint::of(&serde_json::json!({
        "operation": operation,
        "workspace": workspace.0,
        "emails": new.emails.iter().map(|e| email::normalise(e)).collect::<Vec<_>>(),
        "role": format!("{:?}", new.role),
        "expiry": new.expires_in.clone()?.map(Expiry::secs),
    }));
    // A concurrent first call makes this one wait, then replay.
    for _ in 0..3 {
        let txn = db.begin().await?;
        match idempotency::claim(&txn, caller, &key, &fingerprint, now()).await? {
            Claim::Replay(stored) => {
                txn.rollback().await?;
                return replay(db, &stored).await;
            }
            Claim::Raced => {
                txn.rollback().await?;
                continue;
            }
            Claim::Mine => {}
        }
        let created = plan.write(&txn, &new.emails).await?;
        if succeeded(&created) {
            idempotency::complete(&txn, caller, &key, stored_form(&created)).await?;
            txn.commit().await?;
        } else {
            txn.rollback().await?;
        }
        return Ok(created);
    }
    Err(Error::internal("an idempotency key kept being claimed"))
}

/// A result as kept for repeats.
fn stored_form(created: &Created) -> serde_json::Value {
    serde_json::Value::Array(
        created
            .results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "email": r.email,
                    "outcome": r.outcome.name(),
                    "invitation": r.invitation.as_ref().map(|i| i.id),
                })
            })
            .collect(),
    )
}

/// The first call's result, its invitations as they are now.
async fn replay(db: &impl ConnectionTrait, stored: &serde_json::Value) -> Result<Created> {
    let rows = stored.as_array().cloned().unwrap_or_default();
    let ids: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| r["invitation"].as_str()?.parse().ok())
        .collect();
    let now = now();
    let found: HashMap<Uuid, invitation::Model> = invitation::Entity::find()
        .filter(invitation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, state::as_of(i, now)))
        .collect();
    let results = rows
        .iter()
        .map(|r| AddressResult {
            email: r["email"].as_str().unwrap_or_default().to_owned(),
            outcome: r["outcome"]
                .as_str()
                .and_then(Outcome::parse)
                .unwrap_or(Outcome::InvalidEmail),
            invitation: r["invitation"]
                .as_str()
                .and_then(|id| id.parse::<Uuid>().ok())
                .and_then(|id| found.get(&id).cloned()),
        })
        .collect();
    Ok(Created {
        results,
        grant: None,
    })
}

/// One create, its whole-request checks passed.
struct Plan<'a> {
    caller: &'a Caller,
    workspace: WorkspaceId,
    domains: Vec<String>,
    /// Whether the caller may see every invitation of the workspace.
    manager: bool,
    role: Role,
    expiry: Expiry,
    limits: &'a RateLimits,
}

/// An address still in the running, with its place in the input.
struct Candidate {
    index: usize,
    address: EmailAddress,
}

impl Plan<'_> {
    /// In a transaction of its own, kept if it `succeeded`; or looking
    /// only (a dry run).
    async fn run<C>(
        &self,
        db: &C,
        emails: &[String],
        dry_run: bool,
        succeeded: impl Fn(&Created) -> bool,
    ) -> Result<Created>
    where
        C: ConnectionTrait + TransactionTrait,
    {
        if dry_run {
            return self.decide(db, emails, false).await.map(|(c, _)| c);
        }
        let txn = db.begin().await?;
        let created = self.write(&txn, emails).await?;
        if succeeded(&created) {
            txn.commit().await?;
        } else {
            txn.rollback().await?;
        }
        Ok(created)
    }

    /// Decides every outcome and writes the invitations, in `txn`.
    async fn write(&self, txn: &impl ConnectionTrait, emails: &[String]) -> Result<Created> {
        let (mut created, invite) = self.decide(txn, emails, true).await?;
        if invite.is_empty() {
            return Ok(created);
        }
        let now = now();
        let rows: Vec<invitation::ActiveModel> = invite
            .iter()
            .map(|c| invitation::ActiveModel {
                id: Set(Uuid::new_v4()),
                created: Set(now),
                last_modified: Set(now),
                status: Set(Status::Pending),
                email: Set(c.address.as_str().to_owned()),
                creator_id: Set(self.caller.id().0),
                workspace_id: Set(self.workspace.0),
                role: Set(self.role),
                expiry_secs: Set(self.expiry.secs()),
                expires_at: Set(None),
                resends: Set(0),
                last_resent_at: Set(None),
            })
            .collect();
        // The partial unique index is the rule (one PENDING per workspace
        // and address): an address invited concurrently is skipped here.
        let pending_only =
            OnConflict::columns([invitation::Column::WorkspaceId, invitation::Column::Email])
                // A literal, not a parameter: PostgreSQL matches it against the
                // index's own predicate when it plans the statement.
                .target_and_where(Expr::cust("status = 'PENDING'"))
                .do_nothing()
                .to_owned();
        let inserted = match invitation::Entity::insert_many(rows)
            .on_conflict(pending_only)
            .exec_with_returning(txn)
            .await
        {
            Ok(rows) => rows,
            Err(DbErr::RecordNotInserted) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let by_address: HashMap<String, invitation::Model> =
            inserted.into_iter().map(|i| (i.email.clone(), i)).collect();
        let mut events = Vec::with_capacity(by_address.len());
        let mut ids = Vec::with_capacity(by_address.len());
        for c in &invite {
            let result = &mut created.results[c.index];
            match by_address.get(c.address.as_str()) {
                Some(inv) => {
                    result.outcome = Outcome::Invited;
                    result.invitation = Some(inv.clone());
                    ids.push(inv.id);
                    events.push(NewEvent::new(inv, EventKind::Created, now).by(self.caller.id()));
                }
                None => result.outcome = Outcome::AlreadyInvited,
            }
        }
        // Counted for the invitations made: the grant was taken for all of
        // `invite`; a concurrent skip is rare and costs its one count.
        outbox::enqueue_many(txn, &EMAILS, &ids).await?;
        history::record(txn, events).await?;
        Ok(created)
    }

    /// Every address's outcome, and the candidates to invite (taking their
    /// rate-limit counts when `take`).
    async fn decide(
        &self,
        db: &impl ConnectionTrait,
        emails: &[String],
        take: bool,
    ) -> Result<(Created, Vec<Candidate>)> {
        let mut results: Vec<AddressResult> = emails
            .iter()
            .map(|e| AddressResult {
                email: e.clone(),
                outcome: Outcome::WouldInvite,
                invitation: None,
            })
            .collect();
        let mut seen = HashSet::new();
        let mut candidates = Vec::new();
        for (index, raw) in emails.iter().enumerate() {
            let outcome = match EmailAddress::parse(raw) {
                Err(_) => Outcome::InvalidEmail,
                Ok(a) if !self.domains.iter().any(|d| d == a.domain()) => Outcome::DomainNotAllowed,
                Ok(a) if !seen.insert(a.as_str().to_owned()) => Outcome::Duplicate,
                Ok(address) => {
                    candidates.push(Candidate { index, address });
                    continue;
                }
            };
            results[index].outcome = outcome;
        }
        let now = now();
        let addresses: Vec<&str> = candidates.iter().map(|c| c.address.as_str()).collect();
        if take && !addresses.is_empty() {
            // Expired invitations to these addresses no longer block new ones.
            expiry::materialize(
                db,
                expiry::Scope::Addresses(self.workspace, &addresses),
                now,
            )
            .await?;
        }
        let members = member_emails(db, self.workspace, &addresses).await?;
        let pending = pending_invitations(db, self.workspace, &addresses, now).await?;
        let mut invite = Vec::with_capacity(candidates.len());
        for c in candidates {
            let result = &mut results[c.index];
            if members.contains(c.address.as_str()) {
                result.outcome = Outcome::AlreadyMember;
            } else if let Some(inv) = pending.get(c.address.as_str()) {
                result.outcome = Outcome::AlreadyInvited;
                let visible = self.manager || inv.creator_id == self.caller.id().0;
                result.invitation = visible.then(|| inv.clone());
            } else {
                invite.push(c);
            }
        }
        let grant = rate_limit::grant(
            db,
            self.limits,
            self.caller.id(),
            self.workspace,
            invite.len(),
            take,
            now,
        )
        .await?;
        for c in invite.drain(grant.granted..) {
            results[c.index].outcome = Outcome::RateLimited;
        }
        Ok((
            Created {
                results,
                grant: Some(grant),
            },
            invite,
        ))
    }
}

/// The addresses of these that belong to a member of the workspace.
async fn member_emails(
    db: &impl ConnectionTrait,
    workspace: WorkspaceId,
    addresses: &[&str],
) -> Result<HashSet<String>> {
    if addresses.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<String> = membership::Entity::find()
        .inner_join(profile::Entity)
        .select_only()
        .column(profile::Column::Email)
        .filter(membership::Column::WorkspaceId.eq(workspace.0))
        .filter(profile::Column::Email.is_in(addresses.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// The pending invitations (as of `now`) of these addresses, by address.
async fn pending_invitations(
    db: &impl ConnectionTrait,
    workspace: WorkspaceId,
    addresses: &[&str],
    now: DateTime<Utc>,
) -> Result<HashMap<String, invitation::Model>> {
    if addresses.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(invitation::Entity::find()
        .filter(invitation::Column::WorkspaceId.eq(workspace.0))
        .filter(invitation::Column::Email.is_in(addresses.iter().copied()))
        .filter(state::is(Status::Pending, now))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.email.clone(), i))
        .collect())
}

//! Idempotency keys: a client that cannot tell whether its create went
//! through sends it again with the same key, and gets the first call's
//! result instead of a second invitation. Per caller and key, kept 24
//! hours; a call with other arguments under a used key is
//! `IDEMPOTENCY_KEY_REUSED`; a refused call keeps nothing (the key is
//! claimed in the call's own transaction).
//!
//! Concurrent first calls with one key create once: the key's row is the
//! primary key `(profile, key)`, inserted first in the call's transaction,
//! so a second call waits for the first to commit, then finds its result.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    SqlErr,
};

use entity::idempotency_key;

use super::{caller::Caller, values::IdempotencyKey};
use crate::error::{Error, Reason, Result};

/// How long a result is kept.
pub const KEPT: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The SHA-256 of a call's normalised arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Of the call's arguments, already normalised (addresses in their
    /// normal form), as JSON.
    pub fn of(arguments: &serde_json::Value) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, arguments.to_string().as_bytes());
        Self(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// What a keyed call finds.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The key is this call's: do the work, then [`complete`].
    Mine,
    /// The first call's result: return it.
    Replay(serde_json::Value),
    /// Another call claimed it meanwhile: roll back and claim again (it
    /// will be a replay).
    Raced,
}

/// Claims `key` for this call in `txn`, or finds the first call's result.
pub async fn claim(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    key: &IdempotencyKey,
    fingerprint: &Fingerprint,
    now: DateTime<Utc>,
) -> Result<Claim> {
    let id = (caller.id().0, key.as_str().to_owned());
    if let Some(found) = idempotency_key::Entity::find_by_id(id.clone())
        .one(txn)
        .await?
    {
        if found.expires_at > now {
            if found.fingerprint != fingerprint.0 {
                return Err(Error::conflict(
                    Reason::IdempotencyKeyReused,
                    "This idempotency key was used for a call with other arguments",
                ));
            }
            return Ok(match found.result {
                Some(result) => Claim::Replay(result),
                None => Claim::Raced,
            });
        }
        idempotency_key::Entity::delete_by_id(id.clone())
            .exec(txn)
            .await?;
    }
    let inserted = idempotency_key::ActiveModel {
        profile_id: Set(id.0),
        key: Set(id.1),
        fingerprint: Set(fingerprint.0.clone()),
        result: Set(None),
        created: Set(now),
        expires_at: Set(now + KEPT),
    }
    .insert(txn)
    .await;
    match inserted {
        Ok(_) => Ok(Claim::Mine),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Ok(Claim::Raced)
        }
        Err(e) => Err(e.into()),
    }
}

/// Keeps a claimed call's result, in its transaction.
pub async fn complete(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    key: &IdempotencyKey,
    result: serde_json::Value,
) -> Result<()> {
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::Result, Expr::value(Some(result)))
        .filter(idempotency_key::Column::ProfileId.eq(caller.id().0))
        .filter(idempotency_key::Column::Key.eq(key.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}

/// Forgets results older than 24 hours (the worker's sweep).
pub async fn forget_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_the_same_for_the_same_arguments_only() {
        let a = Fingerprint::of(&serde_json::json!({ "email": "ada@acme.test" }));
        let b = Fingerprint::of(&serde_json::json!({ "email": "ada@acme.test" }));
        let c = Fingerprint::of(&serde_json::json!({ "email": "bob@acme.test" }));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

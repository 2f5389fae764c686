//! The invitation state machine, in one place:
//! `PENDING -> ACCEPTED | REVOKED | DECLINED | EXPIRED`,
//! `EXPIRED -> PENDING (resend) | REVOKED | DECLINED`, `ACCEPTED -> REVOKED`;
//! `REVOKED` and `DECLINED` are final.
//!
//! An invitation is `EXPIRED` from its `expires_at` on, whatever is stored:
//! [`as_of`] is how every read sees it, and [`is`] how every query and
//! conditional write asks for it, so nothing waits for a sweep.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition};

use entity::invitation::{self, InvitationStatus as Status};

use crate::error::{Error, Reason, Result};

/// What an operation does to an invitation in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Move to this state.
    To(Status),
    /// Already there: return it unchanged.
    Unchanged,
}

/// The invitation as it is at `now`: a `PENDING` one past its `expires_at`
/// is `EXPIRED`, last modified when it expired.
pub fn as_of(mut inv: invitation::Model, now: DateTime<Utc>) -> invitation::Model {
    if let (Status::Pending, Some(at)) = (inv.status, inv.expires_at) {
        if at <= now {
            inv.status = Status::Expired;
            inv.last_modified = at;
        }
    }
    inv
}

/// The rows whose status is `status` at `now`.
pub fn is(status: Status, now: DateTime<Utc>) -> Condition {
    let stored = invitation::Column::Status.eq(status);
    let unexpired = Condition::any()
        .add(invitation::Column::ExpiresAt.is_null())
        .add(invitation::Column::ExpiresAt.gt(now));
    let expired = Condition::all()
        .add(invitation::Column::Status.eq(Status::Pending))
        .add(invitation::Column::ExpiresAt.lte(now));
    match status {
        Status::Pending => Condition::all().add(stored).add(unexpired),
        Status::Expired => Condition::any().add(stored).add(expired),
        _ => Condition::all().add(stored),
    }
}

/// The rows whose status at `now` is any of `statuses`.
pub fn is_any(statuses: &[Status], now: DateTime<Utc>) -> Condition {
    statuses
        .iter()
        .fold(Condition::any(), |c, s| c.add(is(*s, now)))
}

fn conflict(from: Status) -> Error {
    match from {
        Status::Accepted => {
            Error::conflict(Reason::InvitationAccepted, "This invitation was accepted")
        }
        Status::Revoked => {
            Error::conflict(Reason::InvitationRevoked, "This invitation was withdrawn")
        }
        Status::Declined => {
            Error::conflict(Reason::InvitationDeclined, "This invitation was declined")
        }
        Status::Expired => {
            Error::conflict(Reason::InvitationExpired, "This invitation has expired")
        }
        Status::Pending => Error::internal("a pending invitation is not a conflict"),
    }
}

pub fn accept(from: Status) -> Result<Step> {
    match from {
        Status::Pending => Ok(Step::To(Status::Accepted)),
        Status::Accepted => Ok(Step::Unchanged),
        other => Err(conflict(other)),
    }
}

pub fn decline(from: Status) -> Result<Step> {
    match from {
        Status::Pending | Status::Expired => Ok(Step::To(Status::Declined)),
        Status::Declined => Ok(Step::Unchanged),
        other => Err(conflict(other)),
    }
}

/// A final invitation is returned as it is.
pub fn withdraw(from: Status) -> Step {
    match from {
        Status::Pending | Status::Accepted | Status::Expired => Step::To(Status::Revoked),
        Status::Revoked | Status::Declined => Step::Unchanged,
    }
}

/// Sent again: a pending or expired invitation is pending, its clock reset.
pub fn resend(from: Status) -> Result<Step> {
    match from {
        Status::Pending | Status::Expired => Ok(Step::To(Status::Pending)),
        other => Err(conflict(other)),
    }
}

/// Whether an invitation in this state may be deleted.
pub fn delete(from: Status) -> Result<()> {
    match from {
        Status::Accepted => Err(Error::conflict(
            Reason::InvitationAccepted,
            "An accepted invitation cannot be deleted; withdraw it instead",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<Step>) -> Reason {
        match r {
            Err(Error::Conflict { reason, .. }) => reason,
            other => panic!("a conflict, not {other:?}"),
        }
    }

    #[test]
    fn pending_can_be_accepted_declined_withdrawn_and_resent() {
        assert_eq!(accept(Status::Pending).unwrap(), Step::To(Status::Accepted));
        assert_eq!(
            decline(Status::Pending).unwrap(),
            Step::To(Status::Declined)
        );
        assert_eq!(withdraw(Status::Pending), Step::To(Status::Revoked));
        assert_eq!(resend(Status::Pending).unwrap(), Step::To(Status::Pending));
    }

    #[test]
    fn accepting_an_accepted_invitation_changes_nothing() {
        assert_eq!(accept(Status::Accepted).unwrap(), Step::Unchanged);
    }

    #[test]
    fn accepting_a_revoked_expired_or_declined_invitation_is_a_conflict_with_its_reason() {
        assert_eq!(reason(accept(Status::Revoked)), Reason::InvitationRevoked);
        assert_eq!(reason(accept(Status::Expired)), Reason::InvitationExpired);
        assert_eq!(reason(accept(Status::Declined)), Reason::InvitationDeclined);
    }

    #[test]
    fn an_expired_invitation_can_be_resent_declined_or_withdrawn() {
        assert_eq!(resend(Status::Expired).unwrap(), Step::To(Status::Pending));
        assert_eq!(
            decline(Status::Expired).unwrap(),
            Step::To(Status::Declined)
        );
        assert_eq!(withdraw(Status::Expired), Step::To(Status::Revoked));
    }

    #[test]
    fn revoked_and_declined_are_final() {
        for s in [Status::Revoked, Status::Declined] {
            assert_eq!(withdraw(s), Step::Unchanged);
            assert!(accept(s).is_err());
            assert!(resend(s).is_err());
        }
        assert_eq!(decline(Status::Declined).unwrap(), Step::Unchanged);
        assert_eq!(reason(decline(Status::Revoked)), Reason::InvitationRevoked);
    }

    #[test]
    fn accepted_can_only_be_withdrawn() {
        assert_eq!(withdraw(Status::Accepted), Step::To(Status::Revoked));
        assert_eq!(
            reason(decline(Status::Accepted)),
            Reason::InvitationAccepted
        );
        assert_eq!(reason(resend(Status::Accepted)), Reason::InvitationAccepted);
        assert!(delete(Status::Accepted).is_err());
    }

    #[test]
    fn anything_but_accepted_can_be_deleted() {
        for s in [
            Status::Pending,
            Status::Revoked,
            Status::Expired,
            Status::Declined,
        ] {
            assert!(delete(s).is_ok(), "{s:?}");
        }
    }

    #[test]
    fn a_pending_invitation_is_expired_from_its_expires_at_on() {
        let at = crate::clock::now();
        let inv = invitation::Model {
            id: uuid::Uuid::new_v4(),
            created: at - chrono::Duration::days(8),
            last_modified: at - chrono::Duration::days(8),
            status: Status::Pending,
            email: "a@x.com".into(),
            creator_id: uuid::Uuid::new_v4(),
            workspace_id: uuid::Uuid::new_v4(),
            role: entity::membership::Role::Member,
            expiry_secs: 7 * 86_400,
            expires_at: Some(at),
            resends: 0,
            last_resent_at: None,
        };
        let before = as_of(inv.clone(), at - chrono::Duration::microseconds(1));
        assert_eq!(before.status, Status::Pending);
        let then = as_of(inv.clone(), at);
        assert_eq!((then.status, then.last_modified), (Status::Expired, at));
        let unsent = invitation::Model {
            expires_at: None,
            ..inv
        };
        assert_eq!(
            as_of(unsent, at + chrono::Duration::days(365)).status,
            Status::Pending
        );
    }
}

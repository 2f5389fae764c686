//! The invitation state machine, in one place:
//! `PENDING -> ACCEPTED`, `PENDING -> REVOKED`, `ACCEPTED -> REVOKED`;
//! nothing leaves `REVOKED`.

use entity::invitation::InvitationStatus as Status;

use crate::error::{Error, Reason, Result};

/// What an operation does to an invitation in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Move to this state.
    To(Status),
    /// Already there: return it unchanged.
    Unchanged,
}

pub fn accept(from: Status) -> Result<Step> {
    match from {
        Status::Pending => Ok(Step::To(Status::Accepted)),
        Status::Accepted => Ok(Step::Unchanged),
        Status::Revoked => Err(Error::conflict(
            Reason::InvitationRevoked,
            "This invitation was withdrawn",
        )),
    }
}

pub fn withdraw(from: Status) -> Step {
    match from {
        Status::Pending | Status::Accepted => Step::To(Status::Revoked),
        Status::Revoked => Step::Unchanged,
    }
}

/// Whether an invitation in this state may be deleted.
pub fn delete(from: Status) -> Result<()> {
    match from {
        Status::Pending | Status::Revoked => Ok(()),
        Status::Accepted => Err(Error::conflict(
            Reason::InvitationAccepted,
            "An accepted invitation cannot be deleted; withdraw it instead",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_can_be_accepted() {
        assert_eq!(accept(Status::Pending).unwrap(), Step::To(Status::Accepted));
    }

    #[test]
    fn accepting_an_accepted_invitation_changes_nothing() {
        assert_eq!(accept(Status::Accepted).unwrap(), Step::Unchanged);
    }

    #[test]
    fn revoked_cannot_be_accepted() {
        assert!(matches!(
            accept(Status::Revoked),
            Err(Error::Conflict {
                reason: Reason::InvitationRevoked,
                ..
            })
        ));
    }

    #[test]
    fn pending_and_accepted_can_be_withdrawn() {
        assert_eq!(withdraw(Status::Pending), Step::To(Status::Revoked));
        assert_eq!(withdraw(Status::Accepted), Step::To(Status::Revoked));
    }

    #[test]
    fn nothing_leaves_revoked() {
        assert_eq!(withdraw(Status::Revoked), Step::Unchanged);
        assert!(accept(Status::Revoked).is_err());
    }

    #[test]
    fn only_pending_and_revoked_can_be_deleted() {
        assert!(delete(Status::Pending).is_ok());
        assert!(delete(Status::Revoked).is_ok());
        assert!(matches!(
            delete(Status::Accepted),
            Err(Error::Conflict {
                reason: Reason::InvitationAccepted,
                ..
            })
        ));
    }
}

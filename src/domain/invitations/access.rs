//! Who may do what with one invitation: every permission derives from how
//! the caller stands to it.

use entity::{invitation, invitation_event::EventKind, membership::Role};

use crate::domain::{caller::Caller, members::is_manager};
use crate::error::{Error, Result};

/// How a caller stands to one invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub creator: bool,
    /// Manages the invitation's workspace (its owner or an admin).
    pub manager: bool,
    pub recipient: bool,
}

impl Standing {
    /// `role` is the caller's role in the invitation's workspace, if any.
    pub fn of(inv: &invitation::Model, role: Option<Role>, caller: &Caller) -> Self {
        Self {
            creator: inv.creator_id == caller.id().0,
            manager: role.is_some_and(is_manager),
            recipient: inv.email == caller.email(),
        }
    }

    /// `invitation(id)`: its creator, a manager, its recipient.
    pub fn may_view(self) -> bool {
        self.creator || self.manager || self.recipient
    }

    /// Withdraw, delete, and see `emailDelivery`: the creator or a manager.
    pub fn may_manage(self) -> bool {
        self.creator || self.manager
    }

    /// Whether a live event of `kind` reaches this viewer: any event of an
    /// invitation they may view, but the email's own events (`EMAIL_*`)
    /// only to the creator and managers, who see `emailDelivery`.
    pub fn may_hear(self, kind: EventKind) -> bool {
        let email_event = matches!(
            kind,
            EventKind::EmailSent
                | EventKind::EmailAttemptFailed
                | EventKind::EmailFailed
                | EventKind::EmailCancelled
        );
        if email_event {
            self.may_manage()
        } else {
            self.may_view()
        }
    }

    /// For withdraw and delete: the recipient is told no, anyone else is
    /// told nothing.
    pub fn require_manager(self) -> Result<()> {
        match self {
            s if s.may_manage() => Ok(()),
            s if s.recipient => Err(Error::forbidden(
                "Only the sender or a manager of the workspace may do this",
            )),
            _ => Err(Error::NotFound("invitation")),
        }
    }

    /// For accept: the creator and managers are told no, anyone else is
    /// told nothing.
    pub fn require_recipient(self) -> Result<()> {
        match self {
            s if s.recipient => Ok(()),
            s if s.may_manage() => Err(Error::forbidden(
                "Only the recipient may answer an invitation",
            )),
            _ => Err(Error::NotFound("invitation")),
        }
    }

    /// For `invitation(id)`.
    pub fn require_viewer(self) -> Result<()> {
        if self.may_view() {
            Ok(())
        } else {
            Err(Error::NotFound("invitation"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ids::ProfileId, now};
    use entity::{invitation::InvitationStatus, profile};
    use uuid::Uuid;

    fn inv(creator: ProfileId, email: &str) -> invitation::Model {
        invitation::Model {
            id: Uuid::new_v4(),
            created: now(),
            last_modified: now(),
            status: InvitationStatus::Pending,
            email: email.into(),
            creator_id: creator.0,
            workspace_id: Uuid::new_v4(),
            role: Role::Member,
            expiry_secs: 7 * 86_400,
            expires_at: None,
            resends: 0,
            last_resent_at: None,
        }
    }

    fn caller(id: ProfileId, email: &str) -> Caller {
        Caller {
            profile: profile::Model {
                id: id.0,
                subject: "s".into(),
                email: email.into(),
                name: "n".into(),
                handle: "@n".into(),
                phone: None,
                default_workspace_id: None,
                created: now(),
                last_modified: now(),
            },
            email_verified: true,
        }
    }

    fn people() -> (ProfileId, ProfileId, ProfileId) {
        (ProfileId::new(), ProfileId::new(), ProfileId::new())
    }

    /// The owner's role for the owner, none for anyone else.
    fn role(owner: ProfileId, id: ProfileId) -> Option<Role> {
        (owner == id).then_some(Role::Owner)
    }

    #[test]
    fn creator_owner_and_recipient_may_view_anyone_else_not() {
        let (creator, owner, other) = people();
        let i = inv(creator, "r@x.com");
        let s = |id, email| Standing::of(&i, role(owner, id), &caller(id, email));
        assert!(s(creator, "c@x.com").may_view());
        assert!(s(owner, "o@x.com").may_view());
        assert!(s(other, "r@x.com").may_view());
        assert!(!s(other, "s@x.com").may_view());
    }

    #[test]
    fn withdraw_and_delete_refuse_the_recipient_with_forbidden_and_others_with_not_found() {
        let (creator, owner, other) = people();
        let i = inv(creator, "r@x.com");
        let s = |id, email| Standing::of(&i, role(owner, id), &caller(id, email)).require_manager();
        assert!(s(creator, "c@x.com").is_ok());
        assert!(s(owner, "o@x.com").is_ok());
        assert!(matches!(s(other, "r@x.com"), Err(Error::Forbidden { .. })));
        assert!(matches!(s(other, "s@x.com"), Err(Error::NotFound(_))));
    }

    #[test]
    fn an_admin_manages_like_the_owner_and_a_plain_member_does_not() {
        let (creator, admin, member) = people();
        let i = inv(creator, "r@x.com");
        assert!(Standing::of(&i, Some(Role::Admin), &caller(admin, "a@x.com")).may_manage());
        assert!(!Standing::of(&i, Some(Role::Member), &caller(member, "m@x.com")).may_view());
    }

    #[test]
    fn a_live_event_reaches_viewers_and_email_events_only_creator_and_managers() {
        let (creator, owner, other) = people();
        let i = inv(creator, "r@x.com");
        let s = |id, email| Standing::of(&i, role(owner, id), &caller(id, email));
        for kind in [EventKind::Accepted, EventKind::Created, EventKind::Expired] {
            assert!(s(creator, "c@x.com").may_hear(kind));
            assert!(s(owner, "o@x.com").may_hear(kind));
            assert!(s(other, "r@x.com").may_hear(kind));
            assert!(!s(other, "s@x.com").may_hear(kind));
        }
        for kind in [EventKind::EmailSent, EventKind::EmailFailed] {
            assert!(s(creator, "c@x.com").may_hear(kind));
            assert!(s(owner, "o@x.com").may_hear(kind));
            assert!(!s(other, "r@x.com").may_hear(kind));
        }
    }

    #[test]
    fn accept_refuses_creator_and_owner_with_forbidden_and_others_with_not_found() {
        let (creator, owner, other) = people();
        let i = inv(creator, "r@x.com");
        let s =
            |id, email| Standing::of(&i, role(owner, id), &caller(id, email)).require_recipient();
        assert!(s(other, "r@x.com").is_ok());
        assert!(matches!(
            s(creator, "c@x.com"),
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(s(owner, "o@x.com"), Err(Error::Forbidden { .. })));
        assert!(matches!(s(other, "s@x.com"), Err(Error::NotFound(_))));
    }
}

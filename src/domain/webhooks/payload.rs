//! The body of a webhook delivery, as the SPEC gives it: `{"type":
//! "invitation.<kind in lower case>", "timestamp", "data": {"event",
//! "invitation"}}`. It is made once, when the event is written, so every
//! retry sends the same bytes (only the signature's timestamp changes).

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::ActiveEnum;
use serde_json::json;

use entity::{invitation, invitation_event};

use crate::domain::invitations::state;

/// `invitation.accepted` and the like.
pub fn event_type(kind: invitation_event::EventKind) -> String {
    format!("invitation.{}", kind.to_value().to_ascii_lowercase())
}

fn time(at: DateTime<Utc>) -> String {
    // As the API's DateTime scalar writes it.
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The JSON body for `event` of `invitation` (the invitation as the
/// event left it).
pub fn body(event: &invitation_event::Model, invitation: &invitation::Model) -> String {
    let inv = state::as_of(invitation.clone(), event.at);
    json!({
        "type": event_type(event.kind),
        "timestamp": time(event.at),
        "data": {
            "event": {
                "id": event.id.to_string(),
                "kind": event.kind.to_value(),
                "at": time(event.at),
                "actorId": event.actor_id.map(|a| a.to_string()),
            },
            "invitation": {
                "id": inv.id.to_string(),
                "email": inv.email,
                "status": inv.status.to_value(),
                "role": inv.role.to_value(),
                "workspaceId": inv.workspace_id.to_string(),
                "created": time(inv.created),
                "lastModified": time(inv.last_modified),
                "expiresAt": inv.expires_at.map(time),
            },
        },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use entity::{invitation::InvitationStatus, invitation_event::EventKind, membership::Role};
    use serde_json::Value;
    use uuid::Uuid;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    fn invitation(
        status: InvitationStatus,
        expires_at: Option<DateTime<Utc>>,
    ) -> invitation::Model {
        invitation::Model {
            id: Uuid::new_v4(),
            created: at(0),
            last_modified: at(10),
            status,
            email: "bob@acme.test".into(),
            creator_id: Uuid::new_v4(),
            workspace_id: Uuid::new_v4(),
            role: Role::Admin,
            expiry_secs: 3600,
            expires_at,
            resends: 0,
            last_resent_at: None,
        }
    }

    fn event(inv: &invitation::Model, kind: EventKind, secs: i64) -> invitation_event::Model {
        invitation_event::Model {
            id: 42,
            invitation_id: inv.id,
            workspace_id: inv.workspace_id,
            at: at(secs),
            kind,
            actor_id: Some(inv.creator_id),
            detail: None,
        }
    }

    #[test]
    fn the_type_is_invitation_and_the_kind_in_lower_case() {
        assert_eq!(event_type(EventKind::Accepted), "invitation.accepted");
        assert_eq!(
            event_type(EventKind::EmailAttemptFailed),
            "invitation.email_attempt_failed"
        );
    }

    #[test]
    fn the_body_carries_the_event_and_the_invitation_as_the_spec_lists_them() {
        let inv = invitation(InvitationStatus::Accepted, Some(at(3600)));
        let e = event(&inv, EventKind::Accepted, 10);
        let body: Value = serde_json::from_str(&body(&e, &inv)).unwrap();
        assert_eq!(body["type"], "invitation.accepted");
        assert_eq!(body["timestamp"], "2027-01-15T08:00:10.000000Z");
        assert_eq!(
            body["data"]["event"],
            serde_json::json!({
                "id": "42", "kind": "ACCEPTED", "at": "2027-01-15T08:00:10.000000Z",
                "actorId": inv.creator_id.to_string(),
            })
        );
        let i = &body["data"]["invitation"];
        assert_eq!(i["id"], inv.id.to_string());
        assert_eq!(i["email"], "bob@acme.test");
        assert_eq!(i["status"], "ACCEPTED");
        assert_eq!(i["role"], "ADMIN");
        assert_eq!(i["workspaceId"], inv.workspace_id.to_string());
        assert_eq!(i["created"], "2027-01-15T08:00:00.000000Z");
        assert_eq!(i["lastModified"], "2027-01-15T08:00:10.000000Z");
        assert_eq!(i["expiresAt"], "2027-01-15T09:00:00.000000Z");
    }

    #[test]
    fn an_invitation_past_its_expiry_is_expired_in_the_body() {
        let inv = invitation(InvitationStatus::Pending, Some(at(3600)));
        let e = event(&inv, EventKind::Expired, 3600);
        let body: Value = serde_json::from_str(&body(&e, &inv)).unwrap();
        assert_eq!(body["data"]["invitation"]["status"], "EXPIRED");
    }

    #[test]
    fn the_system_as_actor_is_null() {
        let inv = invitation(InvitationStatus::Pending, None);
        let mut e = event(&inv, EventKind::Revoked, 5);
        e.actor_id = None;
        let body: Value = serde_json::from_str(&body(&e, &inv)).unwrap();
        assert_eq!(body["data"]["event"]["actorId"], Value::Null);
        assert_eq!(body["data"]["invitation"]["expiresAt"], Value::Null);
    }
}

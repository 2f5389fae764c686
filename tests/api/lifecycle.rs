//! SPEC Part 2 "Expiry, resend, decline" and "History": one test per rule,
//! and the races between them.

use crate::helpers::{code, reason, spawn_app_with, team, Team, User, ACCEPT, WITHDRAW};
use serde_json::{json, Value};
use std::time::Duration;

const CREATE: &str = "mutation($ws: ID!, $email: String!, $role: WorkspaceRole, $expiresIn: Duration) {
  createInvitation(workspaceId: $ws, email: $email, role: $role, expiresIn: $expiresIn) { id status role expiresAt } }";
const GET: &str = "query($id: ID!) { invitation(id: $id) {
  id status lastModified expiresAt role
  emailDelivery { status attempts sentAt }
  events { totalCount nodes { kind at detail actor { handle role } } } } }";
const RESEND: &str = "mutation($id: ID!) { resendInvitation(id: $id) { id status expiresAt emailDelivery { status } } }";
const DECLINE: &str =
    "mutation($id: ID!) { declineInvitation(id: $id) { id status lastModified } }";

impl Team {
    async fn create(&self, by: &User, email: &str, extra: Value) -> Value {
        let mut vars = json!({ "ws": self.ws, "email": email });
        vars.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        self.app.gql(Some(by), CREATE, vars).await
    }

    async fn invite(&self, email: &str, expires_in: &str) -> String {
        let body = self
            .create(&self.ada, email, json!({ "expiresIn": expires_in }))
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        body["data"]["createInvitation"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn get(&self, by: &User, id: &str) -> Value {
        self.app.ok(by, GET, json!({ "id": id })).await["invitation"].clone()
    }

    fn kinds(inv: &Value) -> Vec<String> {
        inv["events"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn millis(t: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

// ---- expiry ----

#[tokio::test]
async fn expires_at_is_null_until_the_email_is_first_sent_then_sent_plus_the_expiry() {
    let t = team().await;
    let id = t.invite("carol@acme.test", "P2D").await;
    let inv = t.get(&t.ada, &id).await;
    assert!(inv["expiresAt"].is_null(), "{inv}");
    t.app.deliver_all().await;
    let inv = t.get(&t.ada, &id).await;
    let sent = millis(&inv["emailDelivery"]["sentAt"]);
    assert_eq!(millis(&inv["expiresAt"]) - sent, 2 * 86_400 * 1000, "{inv}");
}

#[tokio::test]
async fn an_invitation_uses_its_workspaces_expiry_unless_it_names_one() {
    let t = team().await;
    let q = "query($ws: ID!) { workspace(id: $ws) { invitationExpiry } }";
    let ws = t.app.ok(&t.ada, q, json!({ "ws": t.ws })).await;
    assert_eq!(ws["workspace"]["invitationExpiry"], "P7D", "the default");
    let update = "mutation($ws: ID!) { updateWorkspace(id: $ws, input: { invitationExpiry: \"PT36H\" }) { invitationExpiry } }";
    let ws = t.app.ok(&t.ada, update, json!({ "ws": t.ws })).await;
    assert_eq!(ws["updateWorkspace"]["invitationExpiry"], "P1DT12H");
    let body = t.create(&t.ada, "carol@acme.test", json!({})).await;
    let id = body["data"]["createInvitation"]["id"].as_str().unwrap();
    t.app.deliver_all().await;
    let inv = t.get(&t.ada, id).await;
    let sent = millis(&inv["emailDelivery"]["sentAt"]);
    assert_eq!(millis(&inv["expiresAt"]) - sent, 36 * 3600 * 1000);
}

#[tokio::test]
async fn an_expiry_outside_its_bounds_or_not_iso_8601_is_invalid_expiry() {
    let t = team().await;
    for bad in ["PT0S", "P91D", "P1M", "seven days", "P-1D"] {
        let body = t
            .create(&t.ada, "carol@acme.test", json!({ "expiresIn": bad }))
            .await;
        assert_eq!(reason(&body), "INVALID_EXPIRY", "{bad}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "expiresIn");
        let create = "mutation($e: Duration) { createWorkspace(input: { name: \"W\", invitationExpiry: $e }) { id } }";
        let body = t.app.gql(Some(&t.ada), create, json!({ "e": bad })).await;
        assert_eq!(reason(&body), "INVALID_EXPIRY", "{bad}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "invitationExpiry");
    }
}

#[tokio::test]
async fn invitation_expiry_is_for_members_only() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    t.invite(&carol.email, "P1D").await;
    let q = "{ receivedInvitations { nodes { workspace { name invitationExpiry } } } }";
    let body = t.app.gql(Some(&carol), q, json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN");
    assert_eq!(
        body["data"]["receivedInvitations"]["nodes"][0]["workspace"],
        json!({ "name": "Acme", "invitationExpiry": null })
    );
}

/// An invitation expiring a second after its email is sent, now expired.
async fn expired(t: &Team, email: &str) -> String {
    let id = t.invite(email, "PT1S").await;
    t.app.deliver_all().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    id
}

#[tokio::test]
async fn from_expires_at_on_every_read_and_write_sees_expired_without_waiting_for_a_sweep() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = expired(&t, &carol.email).await;
    let inv = t.get(&t.ada, &id).await;
    assert_eq!(inv["status"], "EXPIRED");
    assert_eq!(
        inv["lastModified"], inv["expiresAt"],
        "lastModified = expiresAt"
    );
    // Listings filter by what is true now.
    let sent = "query($s: [InvitationStatus!]) { sentInvitations(status: $s) { totalCount nodes { id } } }";
    let pending = t.app.ok(&t.ada, sent, json!({ "s": ["PENDING"] })).await;
    assert!(
        !pending.to_string().contains(&id),
        "a PENDING listing does not hold it: {pending}"
    );
    let gone = t.app.ok(&t.ada, sent, json!({ "s": ["EXPIRED"] })).await;
    assert_eq!(gone["sentInvitations"]["nodes"][0]["id"], id.as_str());
    // Accepting it: INVITATION_EXPIRED.
    let body = t.app.gql(Some(&carol), ACCEPT, json!({ "id": id })).await;
    assert_eq!(reason(&body), "INVITATION_EXPIRED");
    // A new invitation to the address is allowed (the one-pending index does
    // not see the expired one as pending).
    t.invite(&carol.email, "P1D").await;
}

#[tokio::test]
async fn an_expired_invitation_has_its_expired_event_at_expires_at() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = expired(&t, &carol.email).await;
    t.app.ok(&carol, DECLINE, json!({ "id": id })).await;
    let inv = t.get(&t.ada, &id).await;
    assert_eq!(
        Team::kinds(&inv),
        ["CREATED", "EMAIL_SENT", "EXPIRED", "DECLINED"]
    );
    let expired_event = &inv["events"]["nodes"][2];
    assert_eq!(expired_event["at"], inv["expiresAt"]);
    assert!(expired_event["actor"].is_null(), "the system");
}

// ---- resend ----

#[tokio::test]
async fn resending_while_the_email_is_queued_makes_it_due_now_and_queues_no_second() {
    let t = team().await;
    let id = t.invite("carol@acme.test", "P1D").await;
    let body = t.app.ok(&t.ada, RESEND, json!({ "id": id })).await;
    assert_eq!(body["resendInvitation"]["status"], "PENDING");
    let sent = t.app.deliver_all().await;
    assert_eq!(
        sent.iter().filter(|m| m.to == "carol@acme.test").count(),
        1,
        "one email"
    );
    assert_eq!(
        Team::kinds(&t.get(&t.ada, &id).await),
        ["CREATED", "RESENT", "EMAIL_SENT"]
    );
}

fn message_id(m: &invitations::mail::Outgoing) -> String {
    String::from_utf8_lossy(&m.bytes)
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: ").map(str::to_owned))
        .unwrap()
}

fn link(m: &invitations::mail::Outgoing, id: &str) -> bool {
    String::from_utf8_lossy(&m.bytes).contains(&format!("/invitations/{id}"))
}

#[tokio::test]
async fn resending_a_sent_invitation_queues_a_new_email_with_a_new_message_id_and_the_same_link() {
    let t = team().await;
    let id = t.invite("carol@acme.test", "P1D").await;
    let first = t.app.deliver_all().await;
    let first = first.iter().find(|m| m.to == "carol@acme.test").unwrap();
    let resent = t.app.ok(&t.ada, RESEND, json!({ "id": id })).await;
    assert!(
        resent["resendInvitation"]["expiresAt"].is_null(),
        "the clock stops"
    );
    assert_eq!(
        resent["resendInvitation"]["emailDelivery"]["status"], "QUEUED",
        "the newest"
    );
    let second = t.app.deliver_all().await;
    assert_eq!(second.len(), 1);
    assert_ne!(message_id(first), message_id(&second[0]));
    assert!(link(first, &id) && link(&second[0], &id));
    let inv = t.get(&t.ada, &id).await;
    assert_eq!(inv["emailDelivery"]["status"], "SENT");
    assert!(
        inv["expiresAt"].is_string(),
        "and restarts at the next send"
    );
}

#[tokio::test]
async fn resending_an_expired_invitation_makes_it_pending_again() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = expired(&t, &carol.email).await;
    let body = t.app.ok(&t.ada, RESEND, json!({ "id": id })).await;
    assert_eq!(body["resendInvitation"]["status"], "PENDING");
    assert!(body["resendInvitation"]["expiresAt"].is_null());
}

#[tokio::test]
async fn resending_is_for_the_creator_and_managers() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.invite(&carol.email, "P1D").await;
    assert_eq!(
        code(&t.app.gql(Some(&carol), RESEND, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&t.app.gql(Some(&t.bob), RESEND, json!({ "id": id })).await),
        "NOT_FOUND",
        "a plain member who did not send it"
    );
    let eve = t.app.user("eve@acme.test");
    assert_eq!(
        code(&t.app.gql(Some(&eve), RESEND, json!({ "id": id })).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn a_resend_within_the_cooldown_is_rate_limited() {
    let t = team().await;
    let id = t.invite("carol@acme.test", "P1D").await;
    t.app.ok(&t.ada, RESEND, json!({ "id": id })).await;
    let body = t.app.gql(Some(&t.ada), RESEND, json!({ "id": id })).await;
    assert_eq!(code(&body), "RATE_LIMITED");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    t.app.ok(&t.ada, RESEND, json!({ "id": id })).await;
}

#[tokio::test]
async fn an_invitation_is_resent_five_times_at_most() {
    let t = Team::on(spawn_app_with(|s| s.invitation_resend_cooldown = Duration::ZERO).await).await;
    let id = t.invite("carol@acme.test", "P1D").await;
    for _ in 0..5 {
        t.app.ok(&t.ada, RESEND, json!({ "id": id })).await;
    }
    let body = t.app.gql(Some(&t.ada), RESEND, json!({ "id": id })).await;
    assert_eq!((code(&body), reason(&body)), ("CONFLICT", "RESEND_LIMIT"));
}

#[tokio::test]
async fn a_resend_counts_against_the_invitation_rate_limits() {
    let t = Team::on(spawn_app_with(|s| s.invite_rate_per_inviter = 2).await).await;
    // Ada sent Bob's invitation already: one of her two.
    let id = t.invite("carol@acme.test", "P1D").await;
    let body = t.app.gql(Some(&t.ada), RESEND, json!({ "id": id })).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
}

#[tokio::test]
async fn accepted_revoked_and_declined_invitations_are_not_resent() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let accepted = t.invite(&carol.email, "P1D").await;
    t.app.ok(&carol, ACCEPT, json!({ "id": accepted })).await;
    let revoked = t.invite("dan@acme.test", "P1D").await;
    t.app.ok(&t.ada, WITHDRAW, json!({ "id": revoked })).await;
    let erin = t.app.user("erin@acme.test");
    let declined = t.invite(&erin.email, "P1D").await;
    t.app.ok(&erin, DECLINE, json!({ "id": declined })).await;
    for (id, why) in [
        (accepted, "INVITATION_ACCEPTED"),
        (revoked, "INVITATION_REVOKED"),
        (declined, "INVITATION_DECLINED"),
    ] {
        let body = t.app.gql(Some(&t.ada), RESEND, json!({ "id": id })).await;
        assert_eq!((code(&body), reason(&body)), ("CONFLICT", why));
    }
}

// ---- decline ----

#[tokio::test]
async fn declining_ends_a_pending_invitation_and_cancels_its_unsent_email() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.invite(&carol.email, "P1D").await;
    let body = t.app.ok(&carol, DECLINE, json!({ "id": id })).await;
    assert_eq!(body["declineInvitation"]["status"], "DECLINED");
    let again = t.app.ok(&carol, DECLINE, json!({ "id": id })).await;
    assert_eq!(again, body, "unchanged");
    let inv = t.get(&t.ada, &id).await;
    assert_eq!(inv["emailDelivery"]["status"], "CANCELLED");
    assert_eq!(
        Team::kinds(&inv),
        ["CREATED", "DECLINED", "EMAIL_CANCELLED"]
    );
    let body = t.app.gql(Some(&carol), ACCEPT, json!({ "id": id })).await;
    assert_eq!(reason(&body), "INVITATION_DECLINED");
}

#[tokio::test]
async fn declining_an_expired_invitation_clears_it() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = expired(&t, &carol.email).await;
    let body = t.app.ok(&carol, DECLINE, json!({ "id": id })).await;
    assert_eq!(body["declineInvitation"]["status"], "DECLINED");
}

#[tokio::test]
async fn declining_is_refused_as_accepting_is() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.invite(&carol.email, "P1D").await;
    assert_eq!(
        code(&t.app.gql(Some(&t.ada), DECLINE, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    let eve = t.app.user("eve@acme.test");
    assert_eq!(
        code(&t.app.gql(Some(&eve), DECLINE, json!({ "id": id })).await),
        "NOT_FOUND"
    );
    let mut c = crate::helpers::claims("sub|carol@acme.test", "carol@acme.test");
    c.email_verified = Some(false);
    let unverified = t.app.user_with(c);
    assert_eq!(
        reason(
            &t.app
                .gql(Some(&unverified), DECLINE, json!({ "id": id }))
                .await
        ),
        "EMAIL_NOT_VERIFIED"
    );
    t.app.ok(&carol, ACCEPT, json!({ "id": id })).await;
    assert_eq!(
        reason(&t.app.gql(Some(&carol), DECLINE, json!({ "id": id })).await),
        "INVITATION_ACCEPTED"
    );
    let revoked = t.invite("dan@acme.test", "P1D").await;
    t.app.ok(&t.ada, WITHDRAW, json!({ "id": revoked })).await;
    let dan = t.app.user("dan@acme.test");
    assert_eq!(
        reason(
            &t.app
                .gql(Some(&dan), DECLINE, json!({ "id": revoked }))
                .await
        ),
        "INVITATION_REVOKED"
    );
}

#[tokio::test]
async fn withdrawing_an_expired_invitation_revokes_it_and_any_but_accepted_can_be_deleted() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = expired(&t, &carol.email).await;
    let body = t.app.ok(&t.ada, WITHDRAW, json!({ "id": id })).await;
    assert_eq!(body["withdrawInvitation"]["status"], "REVOKED");
    let dan = t.app.user("dan@acme.test");
    let declined = t.invite(&dan.email, "P1D").await;
    t.app.ok(&dan, DECLINE, json!({ "id": declined })).await;
    let delete = "mutation($id: ID!) { deleteInvitation(id: $id) }";
    for id in [&id, &declined] {
        t.app.ok(&t.ada, delete, json!({ "id": id })).await;
    }
    use sea_orm::{EntityTrait, PaginatorTrait};
    // Bob's invitation and its history are all that is left.
    let events = entity::invitation_event::Entity::find()
        .count(&t.app.db)
        .await
        .unwrap();
    assert_eq!(events, 3, "events go with their invitation");
}

// ---- history ----

#[tokio::test]
async fn the_history_lists_each_change_oldest_first_with_who_acted() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.invite(&carol.email, "P1D").await;
    t.app.deliver_all().await;
    t.app.ok(&t.ada, RESEND, json!({ "id": id })).await;
    t.app.deliver_all().await;
    t.app.ok(&carol, ACCEPT, json!({ "id": id })).await;
    let inv = t.get(&t.ada, &id).await;
    assert_eq!(
        Team::kinds(&inv),
        ["CREATED", "EMAIL_SENT", "RESENT", "EMAIL_SENT", "ACCEPTED"]
    );
    assert_eq!(inv["events"]["totalCount"], 5);
    let actors: Vec<Value> = inv["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].clone())
        .collect();
    assert_eq!(actors[0], json!({ "handle": "@ada", "role": "OWNER" }));
    assert!(
        actors[1].is_null() && actors[3].is_null(),
        "the system sends"
    );
    assert_eq!(actors[4], json!({ "handle": "@carol", "role": "MEMBER" }));
    let at: Vec<i64> = inv["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| millis(&e["at"]))
        .collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "{at:?}");

    // Pages of two, by cursor, give the same history.
    let q =
        "query($id: ID!, $after: String) { invitation(id: $id) { events(first: 2, after: $after) {
        nodes { kind } pageInfo { hasNextPage hasPreviousPage endCursor } } } }";
    let mut after = Value::Null;
    let mut kinds = Vec::new();
    loop {
        let page = t
            .app
            .ok(&t.ada, q, json!({ "id": id, "after": after }))
            .await;
        let events = &page["invitation"]["events"];
        for n in events["nodes"].as_array().unwrap() {
            kinds.push(n["kind"].as_str().unwrap().to_owned());
        }
        assert_eq!(events["pageInfo"]["hasPreviousPage"], !after.is_null());
        if events["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = events["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(kinds, Team::kinds(&inv));
}

#[tokio::test]
async fn failed_attempts_are_in_the_history_with_their_error() {
    let t = team().await;
    // Bob's email out of the way first.
    t.app.deliver_all().await;
    let id = t.invite("carol@acme.test", "P1D").await;
    let sink = crate::smtp_sink::SmtpSink::start();
    sink.refuse_next_messages(1, 451);
    let mut config = invitations::mail::SmtpConfig::parse(&sink.url()).unwrap();
    config.timeout = Duration::from_secs(5);
    let w = crate::helpers::email_worker(&t.app.db, invitations::mail::Mailer::Smtp(config), 2);
    w.drain(invitations::clock::now()).await.unwrap();
    w.drain(invitations::clock::now() + chrono::Duration::seconds(5))
        .await
        .unwrap();
    let inv = t.get(&t.ada, &id).await;
    let kinds = Team::kinds(&inv);
    assert_eq!(kinds[..2], ["CREATED", "EMAIL_ATTEMPT_FAILED"]);
    assert!(inv["events"]["nodes"][1]["detail"]
        .as_str()
        .unwrap()
        .contains("451"));
    assert_eq!(kinds[2], "EMAIL_SENT", "{kinds:?}");
}

#[tokio::test]
async fn the_history_is_for_the_creator_and_managers_and_null_for_anyone_else() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.invite(&carol.email, "P1D").await;
    let q = "query($id: ID!) { invitation(id: $id) { id events { totalCount } } }";
    let body = t.app.gql(Some(&carol), q, json!({ "id": id })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert!(body["data"]["invitation"]["events"].is_null());
    let body = t.app.ok(&t.ada, q, json!({ "id": id })).await;
    assert_eq!(body["invitation"]["events"]["totalCount"], 1);
}

// ---- races ----

#[tokio::test]
async fn of_a_concurrent_accept_and_decline_one_wins_and_both_say_so() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.invite(&carol.email, "P1D").await;
    let (a, d) = tokio::join!(
        t.app.gql(Some(&carol), ACCEPT, json!({ "id": id })),
        t.app.gql(Some(&carol), DECLINE, json!({ "id": id })),
    );
    let status = t.get(&t.ada, &id).await["status"].clone();
    match status.as_str().unwrap() {
        "ACCEPTED" => {
            assert_eq!(a["data"]["acceptInvitation"]["status"], "ACCEPTED");
            assert_eq!(reason(&d), "INVITATION_ACCEPTED");
        }
        "DECLINED" => {
            assert_eq!(d["data"]["declineInvitation"]["status"], "DECLINED");
            assert_eq!(reason(&a), "INVITATION_DECLINED");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn an_accept_at_the_instant_of_expiry_either_wins_or_sees_it_expired_never_both() {
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
    let t = team().await;
    for (i, offset_ms) in [-3i64, -1, 0, 1, 3].into_iter().enumerate() {
        let carol = t.app.user(&format!("carol{i}@acme.test"));
        let id = t.invite(&carol.email, "P1D").await;
        t.app.deliver_all().await;
        // It expires at `at`; accepts and the sweep all come at that moment.
        let at = invitations::clock::now() + chrono::Duration::milliseconds(300);
        entity::invitation::Entity::update_many()
            .col_expr(entity::invitation::Column::ExpiresAt, Expr::value(Some(at)))
            .filter(entity::invitation::Column::Id.eq(id.parse::<uuid::Uuid>().unwrap()))
            .exec(&t.app.db)
            .await
            .unwrap();
        let wait = (at - invitations::clock::now() + chrono::Duration::milliseconds(offset_ms))
            .to_std()
            .unwrap_or_default();
        tokio::time::sleep(wait).await;
        let accept = || t.app.gql(Some(&carol), ACCEPT, json!({ "id": id }));
        let sweep = || {
            invitations::domain::invitations::expiry::materialize(
                &t.app.db,
                invitations::domain::invitations::expiry::Scope::Due(100),
                invitations::clock::now(),
            )
        };
        let (a, b, _, _) = tokio::join!(accept(), accept(), sweep(), sweep());
        let inv = t.get(&t.ada, &id).await;
        let kinds = Team::kinds(&inv);
        let accepted = kinds.iter().filter(|k| *k == "ACCEPTED").count();
        let expired = kinds.iter().filter(|k| *k == "EXPIRED").count();
        match inv["status"].as_str().unwrap() {
            "ACCEPTED" => {
                assert_eq!((accepted, expired), (1, 0), "{kinds:?}");
                for r in [&a, &b] {
                    assert_eq!(r["data"]["acceptInvitation"]["status"], "ACCEPTED", "{r}");
                }
            }
            "EXPIRED" => {
                assert_eq!(accepted, 0, "{kinds:?}");
                assert!(expired <= 1, "{kinds:?}");
                for r in [&a, &b] {
                    assert_eq!(reason(r), "INVITATION_EXPIRED", "{r}");
                }
            }
            other => panic!("{other}"),
        }
    }
}

#[tokio::test]
async fn a_resend_racing_an_accept_never_leaves_an_email_for_an_accepted_invitation() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.invite(&carol.email, "P1D").await;
    t.app.deliver_all().await;
    let (_, accepted) = tokio::join!(
        t.app.gql(Some(&t.ada), RESEND, json!({ "id": id })),
        t.app.gql(Some(&carol), ACCEPT, json!({ "id": id })),
    );
    assert_eq!(accepted["data"]["acceptInvitation"]["status"], "ACCEPTED");
    let later = t.app.deliver_all().await;
    assert!(
        later.iter().all(|m| m.to != carol.email),
        "no email after the accept"
    );
}

#[tokio::test]
async fn of_two_concurrent_resends_one_resends() {
    let t = team().await;
    let id = t.invite("carol@acme.test", "P1D").await;
    t.app.deliver_all().await;
    let (a, b) = tokio::join!(
        t.app.gql(Some(&t.ada), RESEND, json!({ "id": id })),
        t.app.gql(Some(&t.ada), RESEND, json!({ "id": id })),
    );
    let ok = [&a, &b]
        .iter()
        .filter(|r| r.get("errors").is_none())
        .count();
    assert_eq!(ok, 1, "{a} {b}");
    assert_eq!(t.app.deliver_all().await.len(), 1, "one email");
    let kinds = Team::kinds(&t.get(&t.ada, &id).await);
    assert_eq!(kinds.iter().filter(|k| *k == "RESENT").count(), 1);
}

// ---- statements ----

#[tokio::test]
async fn a_listing_with_roles_expiry_and_history_counts_makes_as_many_statements_for_1_10_and_50() {
    let app = spawn_app_with(|s| s.invite_rate_per_inviter = 0).await;
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    let q = "{ sentInvitations(first: 50) { nodes { id role expiresAt status
        creator { handle role } events { totalCount } } } }";
    let mut counts = Vec::new();
    let mut made = 0;
    for target in [1, 10, 50] {
        while made < target {
            app.invited(&ada, &ws, &format!("u{made}@acme.test")).await;
            made += 1;
        }
        counts.push(app.fewest_statements(&ada, q, json!({})).await);
    }
    assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
}

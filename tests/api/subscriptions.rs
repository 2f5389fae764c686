//! SPEC Part 2 "Live updates: subscriptions", over a real WebSocket
//! speaking graphql-transport-ws.

use serde_json::{json, Value};
use std::time::Duration;

use invitations::auth::expiry_in;

use crate::helpers::{claims, spawn_app_with, team, Team, User, ACCEPT};
use crate::ws_client::{Heard, Socket, EVENTS};

/// A socket signed in as `user`, subscribed to every event it may hear
/// (of `ws` alone when given).
async fn listening(t: &Team, user: &User, ws: Option<&str>) -> Socket {
    let mut s = Socket::open(&t.app.base).await;
    s.init(user).await;
    s.subscribe("1", EVENTS, json!({ "ws": ws })).await;
    // Subscribed once the server has read the message: a ping after it is
    // answered only then.
    s.send(json!({"type": "ping"})).await;
    assert_eq!(s.hear().await["type"], "pong");
    s
}

/// The next event on subscription "1".
async fn event(s: &mut Socket) -> Value {
    s.next_of("1").await["data"]["invitationEvents"].clone()
}

#[tokio::test]
async fn a_sender_hears_the_moment_an_invitation_is_accepted() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let mut s = listening(&t, &t.ada, None).await;
    let id = t.app.invited(&t.ada, &t.ws, &carol.email).await;
    let created = event(&mut s).await;
    assert_eq!(created["kind"], "CREATED");
    assert_eq!(created["invitation"]["id"], id);
    assert_eq!(created["actor"]["handle"], "@ada");
    assert_eq!(created["actor"]["role"], "OWNER");

    t.app.ok(&carol, ACCEPT, json!({ "id": id })).await;
    let accepted = event(&mut s).await;
    assert_eq!(accepted["kind"], "ACCEPTED");
    assert_eq!(accepted["invitation"]["status"], "ACCEPTED");
    assert_eq!(accepted["invitation"]["workspace"]["name"], "Acme");

    // The same event, by the same id, as the invitation's history lists it.
    let history = t
        .app
        .ok(
            &t.ada,
            "query($id: ID!) { invitation(id: $id) { events { nodes { id kind } } } }",
            json!({ "id": id }),
        )
        .await;
    let ids: Vec<&Value> = history["invitation"]["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&created["id"], &accepted["id"]]);
}

#[tokio::test]
async fn email_events_reach_the_creator_and_managers_but_not_the_recipient() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let mut to_ada = listening(&t, &t.ada, None).await;
    let mut to_carol = listening(&t, &carol, None).await;
    let id = t.app.invited(&t.bob, &t.ws, &carol.email).await;
    t.app.deliver_all().await;
    t.app.ok(&carol, ACCEPT, json!({ "id": id })).await;

    // Carol's invitation's events (Bob's own, from the setup, has its
    // email cancelled as he accepted first), up to its acceptance.
    async fn kinds_of(s: &mut Socket, id: &str) -> Vec<String> {
        let mut kinds = Vec::new();
        while kinds.last().map(String::as_str) != Some("ACCEPTED") {
            let e = event(s).await;
            if e["invitation"]["id"] == id {
                kinds.push(e["kind"].as_str().unwrap().to_owned());
            }
        }
        kinds
    }
    assert_eq!(
        kinds_of(&mut to_ada, &id).await,
        ["CREATED", "EMAIL_SENT", "ACCEPTED"]
    );
    assert_eq!(kinds_of(&mut to_carol, &id).await, ["CREATED", "ACCEPTED"]);
}

#[tokio::test]
async fn a_stranger_hears_nothing_of_invitations_they_may_not_view() {
    let t = team().await;
    let eve = t.app.user("eve@elsewhere.test");
    let mut s = listening(&t, &eve, None).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    // Then something Eve may hear of: her own workspace's invitation.
    let eves = t
        .app
        .create_workspace(&eve, "Elsewhere", &["elsewhere.test"])
        .await;
    t.app.invited(&eve, &eves, "fred@elsewhere.test").await;
    let first = event(&mut s).await;
    assert_eq!(first["invitation"]["email"], "fred@elsewhere.test");
}

#[tokio::test]
async fn a_workspace_id_narrows_the_events_to_that_workspace() {
    let t = team().await;
    let other = t
        .app
        .create_workspace(&t.ada, "Other", &["other.test"])
        .await;
    let mut s = listening(&t, &t.ada, Some(&other)).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    t.app.invited(&t.ada, &other, "dan@other.test").await;
    assert_eq!(event(&mut s).await["invitation"]["email"], "dan@other.test");
}

#[tokio::test]
async fn subscribing_to_a_workspace_one_is_not_a_member_of_is_not_found() {
    let t = team().await;
    let eve = t.app.user("eve@elsewhere.test");
    let mut s = Socket::open(&t.app.base).await;
    s.init(&eve).await;
    s.subscribe("1", EVENTS, json!({ "ws": t.ws })).await;
    let m = s.hear().await;
    assert_eq!(m["type"], "error", "{m}");
    assert_eq!(m["id"], "1");
    assert_eq!(m["payload"][0]["extensions"]["code"], "NOT_FOUND");
    // The socket stays usable.
    s.send(json!({"type": "ping"})).await;
    assert_eq!(s.hear().await["type"], "pong");
}

#[tokio::test]
async fn visibility_is_checked_at_each_event_so_a_demoted_admin_stops_hearing() {
    let t = team().await;
    let bob_id = t.app.profile_id(&t.bob).await;
    let set_role = "mutation($ws: ID!, $p: ID!, $r: WorkspaceRole!) { updateMemberRole(workspaceId: $ws, profileId: $p, role: $r) { role } }";
    t.app
        .ok(
            &t.ada,
            set_role,
            json!({ "ws": t.ws, "p": bob_id, "r": "ADMIN" }),
        )
        .await;
    let mut s = listening(&t, &t.bob, None).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    assert_eq!(
        event(&mut s).await["invitation"]["email"],
        "carol@acme.test"
    );

    t.app
        .ok(
            &t.ada,
            set_role,
            json!({ "ws": t.ws, "p": bob_id, "r": "MEMBER" }),
        )
        .await;
    t.app.invited(&t.ada, &t.ws, "dan@acme.test").await;
    // Bob's own invitation he hears of; Ada's, no longer.
    t.app.invited(&t.bob, &t.ws, "erin@acme.test").await;
    assert_eq!(event(&mut s).await["invitation"]["email"], "erin@acme.test");
}

#[tokio::test]
async fn a_socket_without_a_valid_token_is_closed_with_4403() {
    let t = team().await;
    for payload in [
        json!({}),
        json!({"Authorization": "Bearer not-a-token"}),
        Value::Null,
    ] {
        let mut s = Socket::open(&t.app.base).await;
        s.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        assert_eq!(s.closed_within(Duration::from_secs(5)).await, 4403);
    }
    let mut c = claims("sub|old", "old@acme.test");
    c.exp = expiry_in(Duration::ZERO) - 60;
    let expired = t.app.user_with(c);
    let mut s = Socket::open(&t.app.base).await;
    s.send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", expired.token)}}))
        .await;
    assert_eq!(s.closed_within(Duration::from_secs(5)).await, 4403);
}

#[tokio::test]
async fn a_socket_still_open_when_its_token_expires_is_closed_with_4403() {
    let t = team().await;
    let mut c = claims("sub|ada@acme.test", "ada@acme.test");
    c.exp = expiry_in(Duration::from_secs(2));
    let short = t.app.user_with(c);
    let mut s = listening(&t, &short, None).await;
    assert_eq!(s.closed_within(Duration::from_secs(10)).await, 4403);
}

#[tokio::test]
async fn subscribing_before_connection_init_closes_with_4401() {
    let t = team().await;
    let mut s = Socket::open(&t.app.base).await;
    s.subscribe("1", EVENTS, json!({})).await;
    assert_eq!(s.closed_within(Duration::from_secs(5)).await, 4401);
}

#[tokio::test]
async fn one_subscription_over_the_limit_is_refused_and_the_others_stay() {
    let app = spawn_app_with(|s| s.graphql_max_subscriptions = 2).await;
    let t = Team::on(app).await;
    let mut s = Socket::open(&t.app.base).await;
    s.init(&t.ada).await;
    s.subscribe("1", EVENTS, json!({})).await;
    s.subscribe("2", EVENTS, json!({})).await;
    s.subscribe("3", EVENTS, json!({})).await;
    s.send(json!({"type": "ping"})).await;
    let refused = s.hear().await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["id"], "3");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    assert_eq!(
        refused["payload"][0]["extensions"]["reason"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
    assert_eq!(s.hear().await["type"], "pong");
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let mut ids = vec![
        s.hear().await["id"].as_str().unwrap().to_owned(),
        s.hear().await["id"].as_str().unwrap().to_owned(),
    ];
    ids.sort();
    assert_eq!(ids, ["1", "2"]);
}

#[tokio::test]
async fn a_completed_subscription_hears_no_more() {
    let t = team().await;
    let mut s = listening(&t, &t.ada, None).await;
    s.send(json!({"id": "1", "type": "complete"})).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    // Longer than the feed takes on either database (SQLite polls every
    // 100 ms): an event for a live subscription would have come.
    let heard = s.hear_within(Duration::from_millis(1500)).await;
    assert!(heard.is_none(), "nothing after complete: {heard:?}");
    // The socket itself is alive.
    s.send(json!({"type": "ping"})).await;
    assert_eq!(s.hear().await["type"], "pong");
}

#[tokio::test]
async fn queries_run_over_the_socket_too() {
    let t = team().await;
    let mut s = Socket::open(&t.app.base).await;
    s.init(&t.ada).await;
    s.subscribe("q", "{ me { handle } }", json!({})).await;
    assert_eq!(s.next_of("q").await["data"]["me"]["handle"], "@ada");
    let done = s.hear().await;
    assert_eq!(done, json!({"id": "q", "type": "complete"}));
}

#[tokio::test]
async fn a_page_from_an_origin_not_allowed_cannot_open_a_socket() {
    let app =
        spawn_app_with(|s| s.cors_allowed_origins = vec!["https://app.acme.test".into()]).await;
    assert_eq!(
        Socket::open_from(&app.base, Some("https://evil.test"))
            .await
            .err(),
        Some(403)
    );
    assert!(Socket::open_from(&app.base, Some("https://app.acme.test"))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_client_that_never_sends_connection_init_is_closed() {
    let t = team().await;
    let mut s = Socket::open(&t.app.base).await;
    // The server's 10 s allowance, and some.
    match s.hear_within(Duration::from_secs(15)).await {
        Some(Heard::Closed(code)) => assert_eq!(code, 4408),
        other => panic!("expected 4408, got {other:?}"),
    }
}

#[tokio::test]
async fn on_postgresql_a_change_through_one_process_reaches_a_subscriber_on_another() {
    let t = team().await;
    if !t.app.db_url.starts_with("postgres") {
        eprintln!("SQLite has one process per database file: nothing to cross");
        return;
    }
    let b = crate::helpers::ServerProcess::start(&t.app.db_url, &[("MAIL_WORKER", "false")]);
    let mut s = Socket::open(&b.base).await;
    s.init(&t.ada).await;
    s.subscribe("1", EVENTS, json!({})).await;
    s.send(json!({"type": "ping"})).await;
    assert_eq!(s.hear().await["type"], "pong");

    // Through process A (this one), heard on process B.
    for email in ["carol@acme.test", "dan@acme.test"] {
        let id = t.app.invited(&t.ada, &t.ws, email).await;
        let e = event(&mut s).await;
        assert_eq!(e["kind"], "CREATED");
        assert_eq!(e["invitation"]["id"], id);
    }
}

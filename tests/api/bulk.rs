//! SPEC Part 2 "Many at once, and safe retries": bulk invitations with a
//! result per address, dry runs, and idempotency keys.

use crate::helpers::{code, reason, spawn_app, spawn_app_with, Team, User, WITHDRAW};
use serde_json::{json, Value};

const BULK: &str = "mutation($ws: ID!, $emails: [String!]!, $role: WorkspaceRole, $expiresIn: Duration, $dryRun: Boolean, $key: String) {
  createInvitations(workspaceId: $ws, emails: $emails, role: $role, expiresIn: $expiresIn, dryRun: $dryRun, idempotencyKey: $key) {
    invitedCount results { email outcome invitation { id email status role } } } }";
const ONE: &str = "mutation($ws: ID!, $email: String!, $key: String) {
  createInvitation(workspaceId: $ws, email: $email, idempotencyKey: $key) { id email status } }";

/// Bulk calls on the helpers' [`Team`].
impl Team {
    async fn bulk(&self, by: &User, emails: &[&str], extra: Value) -> Value {
        let mut vars = json!({ "ws": self.ws, "emails": emails });
        vars.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        self.app.gql(Some(by), BULK, vars).await
    }

    async fn count(&self, table: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let db = &self.app.db;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

fn outcomes(body: &Value) -> Vec<String> {
    body["data"]["createInvitations"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{body:#}"))
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_hundred_addresses_get_one_result_each_in_order_with_every_outcome() {
    // Ada sends Bob's and Carol's invitations first; the inviter limit
    // leaves her 90 more.
    let t = Team::on(spawn_app_with(|s| s.invite_rate_per_inviter = 92).await).await;
    let carol = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let mut emails: Vec<String> = vec![
        "not an address".into(),
        "eve@evil.test".into(),
        "BOB@acme.test".into(),
        "carol@acme.test".into(),
        "Dan@Acme.test".into(),
        "dan@acme.test".into(),
        "zoë@xn--bcher-kva.example".into(),
        "ann@bücher.example".into(),
        "ann@xn--bcher-kva.example".into(),
    ];
    emails.extend((0..91).map(|i| format!("u{i:02}@acme.test")));
    assert_eq!(emails.len(), 100);
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    let body = t.bulk(&t.ada, &refs, json!({})).await;
    let got = outcomes(&body);
    assert_eq!(
        got[..9],
        [
            "INVALID_EMAIL",
            "DOMAIN_NOT_ALLOWED",
            "ALREADY_MEMBER",
            "ALREADY_INVITED",
            "INVITED",
            "DUPLICATE",
            "INVALID_EMAIL",
            "INVITED",
            "DUPLICATE",
        ]
    );
    // Two invited above, 88 of the 91 within the limit, the rest refused.
    assert!(got[9..97].iter().all(|o| o == "INVITED"), "{got:?}");
    assert!(got[97..].iter().all(|o| o == "RATE_LIMITED"), "{got:?}");
    let result = &body["data"]["createInvitations"];
    assert_eq!(result["invitedCount"], 90);
    let results = result["results"].as_array().unwrap();
    assert_eq!(results[0]["email"], "not an address", "as given");
    assert_eq!(
        results[3]["invitation"]["id"],
        carol.as_str(),
        "the pending one"
    );
    assert_eq!(results[4]["invitation"]["email"], "dan@acme.test");
    assert_eq!(
        results[7]["invitation"]["email"],
        "ann@xn--bcher-kva.example"
    );
    assert!(results[0]["invitation"].is_null() && results[99]["invitation"].is_null());
    // Each invitation with its email and its event.
    assert_eq!(t.count("invitation").await, 1 + 1 + 90);
    assert_eq!(t.count("email_outbox").await, 92);
    let sent = t.app.deliver_all().await;
    assert_eq!(sent.len(), 91, "all but Bob's: he accepted before it went");
}

#[tokio::test]
async fn the_whole_request_is_refused_as_create_invitation_is() {
    let t = Team::on(spawn_app().await).await;
    let eve = t.app.user("eve@acme.test");
    assert_eq!(
        code(&t.bulk(&eve, &["x@acme.test"], json!({})).await),
        "NOT_FOUND"
    );
    let body = t
        .bulk(&t.bob, &["x@acme.test"], json!({ "role": "ADMIN" }))
        .await;
    assert_eq!(reason(&body), "ROLE_NOT_GRANTABLE");
    let body = t
        .bulk(&t.ada, &["x@acme.test"], json!({ "role": "OWNER" }))
        .await;
    assert_eq!(reason(&body), "INVALID_ROLE");
    let body = t
        .bulk(&t.ada, &["x@acme.test"], json!({ "expiresIn": "P1Y" }))
        .await;
    assert_eq!(reason(&body), "INVALID_EXPIRY");
    let many: Vec<String> = (0..101).map(|i| format!("u{i}@acme.test")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    for emails in [&refs[..], &[][..]] {
        let body = t.bulk(&t.ada, emails, json!({})).await;
        assert_eq!((code(&body), reason(&body)), ("BAD_USER_INPUT", "TOO_MANY"));
        assert_eq!(body["errors"][0]["extensions"]["field"], "emails");
    }
    assert_eq!(t.count("invitation").await, 1, "nothing made");
}

#[tokio::test]
async fn a_dry_run_decides_everything_and_writes_and_consumes_nothing() {
    let t = Team::on(spawn_app_with(|s| s.invite_rate_per_inviter = 3).await).await;
    let before = (t.count("invitation").await, t.count("rate_event").await);
    let emails = ["a@acme.test", "b@acme.test", "c@acme.test", "bob@acme.test"];
    let body = t.bulk(&t.ada, &emails, json!({ "dryRun": true })).await;
    assert_eq!(
        outcomes(&body),
        [
            "WOULD_INVITE",
            "WOULD_INVITE",
            "RATE_LIMITED",
            "ALREADY_MEMBER"
        ]
    );
    assert_eq!(body["data"]["createInvitations"]["invitedCount"], 2);
    assert_eq!(
        (t.count("invitation").await, t.count("rate_event").await),
        before,
        "nothing written"
    );
    let body = t.bulk(&t.ada, &emails, json!({})).await;
    assert_eq!(outcomes(&body)[..3], ["INVITED", "INVITED", "RATE_LIMITED"]);
}

#[tokio::test]
async fn an_already_invited_address_shows_the_pending_invitation_to_those_who_may_see_it() {
    let t = Team::on(spawn_app().await).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let by_bob = t.bulk(&t.bob, &["carol@acme.test"], json!({})).await;
    let r = &by_bob["data"]["createInvitations"]["results"][0];
    assert_eq!(r["outcome"], "ALREADY_INVITED");
    assert!(r["invitation"].is_null(), "Ada's, not Bob's to see");
    let by_ada = t.bulk(&t.ada, &["carol@acme.test"], json!({})).await;
    assert!(by_ada["data"]["createInvitations"]["results"][0]["invitation"].is_object());
}

#[tokio::test]
async fn a_hundred_addresses_cost_the_statements_of_one() {
    let t = Team::on(spawn_app_with(|s| s.invite_rate_per_inviter = 0).await).await;
    let mut counts = Vec::new();
    for n in [1usize, 10, 100] {
        let emails: Vec<String> = (0..n).map(|i| format!("n{n}-{i}@acme.test")).collect();
        let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
        let before = t.app.statements();
        let body = t.bulk(&t.ada, &refs, json!({})).await;
        assert_eq!(body["data"]["createInvitations"]["invitedCount"], n);
        counts.push(t.app.statements() - before);
    }
    eprintln!("statements for 1, 10, 100 addresses: {counts:?}");
    assert_eq!(counts[0], counts[1], "{counts:?}");
    assert_eq!(counts[1], counts[2], "{counts:?}");
}

// ---- idempotency keys ----

#[tokio::test]
async fn a_repeat_with_the_same_key_returns_the_first_result_and_sends_one_email() {
    let t = Team::on(spawn_app().await).await;
    t.app.deliver_all().await;
    let vars = json!({ "ws": t.ws, "email": "carol@acme.test", "key": "k-1" });
    let first = t.app.ok(&t.ada, ONE, vars.clone()).await;
    // The response was lost; the client sends it again, the address in
    // another case.
    let again = json!({ "ws": t.ws, "email": "Carol@ACME.test", "key": "k-1" });
    let second = t.app.ok(&t.ada, ONE, again).await;
    assert_eq!(first, second);
    assert_eq!(t.count("invitation").await, 2, "Bob's and Carol's");
    let sink = crate::smtp_sink::SmtpSink::start();
    let mut config = invitations::mail::SmtpConfig::parse(&sink.url()).unwrap();
    config.timeout = std::time::Duration::from_secs(5);
    t.app
        .worker(invitations::mail::Mailer::Smtp(config))
        .drain(invitations::clock::now())
        .await
        .unwrap();
    assert_eq!(sink.received().len(), 1, "one email at the SMTP server");
}

#[tokio::test]
async fn a_key_used_with_other_arguments_is_idempotency_key_reused() {
    let t = Team::on(spawn_app().await).await;
    t.app
        .ok(
            &t.ada,
            ONE,
            json!({ "ws": t.ws, "email": "carol@acme.test", "key": "k" }),
        )
        .await;
    let body = t
        .app
        .gql(
            Some(&t.ada),
            ONE,
            json!({ "ws": t.ws, "email": "dan@acme.test", "key": "k" }),
        )
        .await;
    assert_eq!(
        (code(&body), reason(&body)),
        ("CONFLICT", "IDEMPOTENCY_KEY_REUSED")
    );
    let body = t
        .bulk(&t.ada, &["carol@acme.test"], json!({ "key": "k" }))
        .await;
    assert_eq!(reason(&body), "IDEMPOTENCY_KEY_REUSED", "another operation");
}

#[tokio::test]
async fn five_concurrent_repeats_of_one_key_create_once() {
    let t = Team::on(spawn_app().await).await;
    let vars = json!({ "ws": t.ws, "email": "carol@acme.test", "key": "same" });
    let bodies =
        futures_util::future::join_all((0..5).map(|_| t.app.gql(Some(&t.ada), ONE, vars.clone())))
            .await;
    let ids: Vec<&Value> = bodies
        .iter()
        .map(|b| &b["data"]["createInvitation"]["id"])
        .collect();
    assert!(
        ids.iter().all(|id| id.is_string() && *id == ids[0]),
        "{bodies:#?}"
    );
    assert_eq!(t.count("invitation").await, 2);
}

#[tokio::test]
async fn a_repeat_returns_the_invitations_as_they_are_now() {
    let t = Team::on(spawn_app().await).await;
    let vars = json!({ "ws": t.ws, "emails": ["carol@acme.test", "bad"], "key": "b" });
    let first = t.app.ok(&t.ada, BULK, vars.clone()).await;
    let id = first["createInvitations"]["results"][0]["invitation"]["id"].clone();
    t.app.ok(&t.ada, WITHDRAW, json!({ "id": id })).await;
    let again = t.app.ok(&t.ada, BULK, vars).await;
    let results = &again["createInvitations"]["results"];
    assert_eq!(results[0]["outcome"], "INVITED");
    assert_eq!(results[0]["invitation"]["status"], "REVOKED");
    assert_eq!(results[1]["outcome"], "INVALID_EMAIL");
    assert_eq!(again["createInvitations"]["invitedCount"], 1);
}

#[tokio::test]
async fn a_refused_call_and_a_dry_run_keep_nothing_under_their_key() {
    let t = Team::on(spawn_app().await).await;
    let refused = t
        .app
        .gql(
            Some(&t.ada),
            ONE,
            json!({ "ws": t.ws, "email": "x@evil.test", "key": "r" }),
        )
        .await;
    assert_eq!(reason(&refused), "DOMAIN_NOT_ALLOWED");
    t.bulk(
        &t.ada,
        &["y@acme.test"],
        json!({ "key": "d", "dryRun": true }),
    )
    .await;
    for key in ["r", "d"] {
        let body = t
            .app
            .ok(
                &t.ada,
                ONE,
                json!({ "ws": t.ws, "email": format!("{key}@acme.test"), "key": key }),
            )
            .await;
        assert_eq!(body["createInvitation"]["status"], "PENDING", "{key}");
    }
}

#[tokio::test]
async fn keys_are_per_caller_and_kept_24_hours() {
    let t = Team::on(spawn_app().await).await;
    let a = t
        .app
        .ok(
            &t.ada,
            ONE,
            json!({ "ws": t.ws, "email": "carol@acme.test", "key": "k" }),
        )
        .await;
    let b = t
        .app
        .ok(
            &t.bob,
            ONE,
            json!({ "ws": t.ws, "email": "dan@acme.test", "key": "k" }),
        )
        .await;
    assert_ne!(a["createInvitation"]["id"], b["createInvitation"]["id"]);
    // A day later: the worker's sweep forgets the key; it can be used anew.
    let later = invitations::clock::now() + chrono::Duration::hours(25);
    let forgotten = invitations::domain::idempotency::forget_expired(&t.app.db, later)
        .await
        .unwrap();
    assert_eq!(forgotten, 2);
    let body = t
        .app
        .ok(
            &t.ada,
            ONE,
            json!({ "ws": t.ws, "email": "erin@acme.test", "key": "k" }),
        )
        .await;
    assert_eq!(body["createInvitation"]["email"], "erin@acme.test");
}

#[tokio::test]
async fn a_key_that_is_not_1_to_255_printable_characters_is_bad_user_input() {
    let t = Team::on(spawn_app().await).await;
    for key in [String::new(), "k".repeat(256), "new\nline".into()] {
        let body = t
            .app
            .gql(
                Some(&t.ada),
                ONE,
                json!({ "ws": t.ws, "email": "c@acme.test", "key": key }),
            )
            .await;
        assert_eq!(reason(&body), "INVALID_IDEMPOTENCY_KEY");
        assert_eq!(body["errors"][0]["extensions"]["field"], "idempotencyKey");
    }
}

#[tokio::test]
async fn two_concurrent_bulks_over_the_same_addresses_invite_each_once() {
    let t = Team::on(spawn_app_with(|s| s.invite_rate_per_inviter = 0).await).await;
    let emails: Vec<String> = (0..20).map(|i| format!("c{i}@acme.test")).collect();
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    let (a, b) = tokio::join!(
        t.bulk(&t.ada, &refs, json!({})),
        t.bulk(&t.ada, &refs, json!({})),
    );
    let (a, b) = (outcomes(&a), outcomes(&b));
    for (x, y) in a.iter().zip(&b) {
        let mut pair = [x.as_str(), y.as_str()];
        pair.sort();
        assert_eq!(pair, ["ALREADY_INVITED", "INVITED"], "{a:?} {b:?}");
    }
    assert_eq!(t.count("invitation").await, 21);
}

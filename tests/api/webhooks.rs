//! SPEC Part 2 "Webhooks": against a real HTTP receiver on port 0, with
//! the delivery engine's webhook worker driven step by step.

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};
use std::time::Duration;

use invitations::delivery::Worker;
use invitations::domain::values::webhook_url::Reach;
use invitations::startup::WebhookWorker;
use invitations::webhook::WebhookChannel;

use crate::helpers::{code, reason, spawn_app_with, team, worker_config, Team, ACCEPT};
use crate::receiver::{Received, Receiver};

const CREATE: &str = "mutation($ws: ID!, $url: String!, $events: [InvitationEventKind!]) {
  createWebhook(workspaceId: $ws, url: $url, events: $events) { secret webhook { id url events enabled } }
}";

const HOOKS: &str = "query($ws: ID!) { workspace(id: $ws) { webhooks {
  id enabled events
  deliveries { totalCount nodes { id eventKind status attempts lastAttempt lastStatus lastError } }
} } }";

/// A webhook worker on the test's database, reaching `reach`, with fixed
/// jitter so retry times are exact.
fn worker(t: &Team, reach: Reach) -> WebhookWorker {
    worker_with_timeout(t, reach, Duration::from_secs(2))
}

fn worker_with_timeout(t: &Team, reach: Reach, timeout: Duration) -> WebhookWorker {
    Worker::new(
        t.app.db.clone(),
        WebhookChannel::new(reach, timeout).unwrap(),
        worker_config(8),
    )
    .with_jitter(|| 0.5)
}

/// Delivers what is due `secs` seconds from now.
async fn deliver_at(t: &Team, secs: i64) {
    worker(t, Reach::Anywhere)
        .drain(invitations::clock::now() + chrono::Duration::seconds(secs))
        .await
        .unwrap();
}

/// Ada's webhook on the team's workspace: its id and secret.
async fn hook(t: &Team, url: &str, events: Option<&[&str]>) -> (String, String) {
    let data = t
        .app
        .ok(
            &t.ada,
            CREATE,
            json!({ "ws": t.ws, "url": url, "events": events }),
        )
        .await;
    let created = &data["createWebhook"];
    (
        created["webhook"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

async fn hooks(t: &Team) -> Value {
    t.app.ok(&t.ada, HOOKS, json!({ "ws": t.ws })).await["workspace"]["webhooks"].clone()
}

/// Checks a request's signature as a Standard Webhooks receiver would,
/// with nothing of the server's code: HMAC-SHA256 of "id.timestamp.body"
/// keyed with the secret's decoded bytes.
fn verify(secret: &str, r: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let signed = format!("{}.{}.{}", r.id, r.timestamp, r.body);
    r.signature.split(' ').any(|s| {
        s.strip_prefix("v1,")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .is_some_and(|tag| ring::hmac::verify(&key, signed.as_bytes(), &tag).is_ok())
    })
}

#[tokio::test]
async fn a_manager_creates_a_webhook_whose_secret_is_whsec_and_32_random_bytes() {
    let t = team().await;
    let (id, secret) = hook(&t, "https://hooks.example.com/in", None).await;
    assert!(secret.starts_with("whsec_"));
    assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);
    let listed = hooks(&t).await;
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["enabled"], true);
    assert_eq!(
        listed[0]["events"].as_array().unwrap().len(),
        10,
        "all kinds"
    );
}

#[tokio::test]
async fn a_plain_member_may_not_manage_webhooks_and_a_stranger_is_told_nothing() {
    let t = team().await;
    let vars = json!({ "ws": t.ws, "url": "https://hooks.example.com/in" });
    let as_bob = t.app.gql(Some(&t.bob), CREATE, vars.clone()).await;
    assert_eq!(code(&as_bob), "FORBIDDEN");
    let eve = t.app.user("eve@elsewhere.test");
    let as_eve = t.app.gql(Some(&eve), CREATE, vars).await;
    assert_eq!(code(&as_eve), "NOT_FOUND");

    let (id, _) = hook(&t, "https://hooks.example.com/in", None).await;
    let listed_to_bob = t.app.gql(Some(&t.bob), HOOKS, json!({ "ws": t.ws })).await;
    assert_eq!(listed_to_bob["data"]["workspace"]["webhooks"], Value::Null);
    assert_eq!(code(&listed_to_bob), "FORBIDDEN");
    let delete = "mutation($id: ID!) { deleteWebhook(id: $id) }";
    assert_eq!(
        code(&t.app.gql(Some(&t.bob), delete, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&t.app.gql(Some(&eve), delete, json!({ "id": id })).await),
        "NOT_FOUND"
    );
    assert_eq!(
        t.app.ok(&t.ada, delete, json!({ "id": id })).await["deleteWebhook"],
        id
    );
    assert_eq!(hooks(&t).await, json!([]));
}

#[tokio::test]
async fn a_kind_named_twice_is_listed_once() {
    let t = team().await;
    hook(
        &t,
        "https://hooks.example.com/in",
        Some(&["ACCEPTED", "CREATED", "ACCEPTED"]),
    )
    .await;
    assert_eq!(hooks(&t).await[0]["events"], json!(["ACCEPTED", "CREATED"]));
}

#[tokio::test]
async fn an_empty_list_of_events_is_bad_input() {
    let t = team().await;
    let body = t
        .app
        .gql(
            Some(&t.ada),
            CREATE,
            json!({ "ws": t.ws, "url": "https://hooks.example.com/in", "events": [] }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "events");
}

#[tokio::test]
async fn urls_that_are_not_https_to_a_public_address_are_refused() {
    let app = spawn_app_with(|s| s.webhook_allow_private = false).await;
    let t = Team::on(app).await;
    for url in [
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://10.0.0.8/in",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/in",
        "https://[::ffff:10.0.0.1]/in",
        "https://localhost/in",
        "https://user:pw@hooks.example.com/in",
        "not a url",
    ] {
        let body = t
            .app
            .gql(Some(&t.ada), CREATE, json!({ "ws": t.ws, "url": url }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{url}: {body}");
        assert_eq!(reason(&body), "INVALID_URL", "{url}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "url");
    }
}

#[tokio::test]
async fn a_delivery_is_signed_as_standard_webhooks_say_and_carries_the_event() {
    let t = team().await;
    let receiver = Receiver::start();
    let (_, secret) = hook(&t, &receiver.url, None).await;
    let id = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    deliver_at(&t, 0).await;

    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert!(verify(&secret, r), "the signature verifies: {r:?}");
    assert!(!verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", r));
    let now = chrono::Utc::now().timestamp();
    assert!((now - r.timestamp.parse::<i64>().unwrap()).abs() < 60);
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["type"], "invitation.created");
    assert_eq!(body["data"]["event"]["kind"], "CREATED");
    assert_eq!(body["data"]["invitation"]["id"], id);
    assert_eq!(body["data"]["invitation"]["email"], "carol@acme.test");
    assert_eq!(body["data"]["invitation"]["status"], "PENDING");
    assert_eq!(body["data"]["invitation"]["workspaceId"], t.ws);

    let delivery = &hooks(&t).await[0]["deliveries"]["nodes"][0];
    assert_eq!(
        delivery["id"],
        r.id.as_str(),
        "webhook-id is the delivery's id"
    );
    assert_eq!(delivery["status"], "SENT");
    assert_eq!(delivery["lastStatus"], 200);
    assert_eq!(delivery["eventKind"], "CREATED");
    // Trace context goes along only when tracing (tests/api/otlp.rs).
    assert_eq!(r.traceparent, "", "no trace, no traceparent");
}

#[tokio::test]
async fn a_500_500_200_sequence_is_delivered_once_on_the_third_attempt_with_one_id() {
    let t = team().await;
    let receiver = Receiver::start();
    receiver.answer_with(&[500, 500]);
    hook(&t, &receiver.url, Some(&["CREATED"])).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;

    deliver_at(&t, 0).await;
    let after_one = &hooks(&t).await[0]["deliveries"]["nodes"][0];
    assert_eq!(after_one["status"], "QUEUED");
    assert_eq!(after_one["lastStatus"], 500);
    assert!(after_one["lastError"].as_str().unwrap().contains("500"));
    // Backoff: about 1 s, then 2 s.
    deliver_at(&t, 2).await;
    deliver_at(&t, 10).await;
    deliver_at(&t, 60).await;

    let got = receiver.received();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.id == got[0].id), "one webhook-id");
    assert_eq!(got[0].body, got[2].body, "the same body on every try");
    let d = &hooks(&t).await[0]["deliveries"]["nodes"][0];
    assert_eq!(d["status"], "SENT");
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["lastStatus"], 200);
}

#[tokio::test]
async fn a_410_gone_fails_the_delivery_and_disables_the_webhook() {
    let t = team().await;
    let receiver = Receiver::start();
    receiver.answer_with(&[410]);
    hook(&t, &receiver.url, None).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    deliver_at(&t, 0).await;
    let h = &hooks(&t).await[0];
    assert_eq!(h["enabled"], false);
    assert_eq!(h["deliveries"]["nodes"][0]["status"], "FAILED");
    assert_eq!(h["deliveries"]["nodes"][0]["lastStatus"], 410);

    // Disabled: no more deliveries.
    t.app.invited(&t.ada, &t.ws, "dan@acme.test").await;
    deliver_at(&t, 60).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(hooks(&t).await[0]["deliveries"]["totalCount"], 1);
}

#[tokio::test]
async fn a_webhook_hears_only_the_kinds_it_asked_for() {
    let t = team().await;
    let receiver = Receiver::start();
    hook(&t, &receiver.url, Some(&["ACCEPTED"])).await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.ada, &t.ws, &carol.email).await;
    t.app.ok(&carol, ACCEPT, json!({ "id": id })).await;
    deliver_at(&t, 0).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "invitation.accepted");
    assert_eq!(body["data"]["invitation"]["status"], "ACCEPTED");
    assert_eq!(
        body["data"]["event"]["actorId"],
        t.app.profile_id(&carol).await
    );
}

#[tokio::test]
async fn a_name_resolving_to_a_private_address_at_delivery_is_never_connected_to() {
    let t = team().await;
    let receiver = Receiver::start();
    // This machine's own name, which resolves to this machine.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let resolved: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 80))
        .await
        .map(|a| a.collect())
        .unwrap_or_default();
    if resolved.is_empty()
        || resolved
            .iter()
            .any(|a| invitations::domain::values::webhook_url::is_public(a.ip()))
    {
        eprintln!("{host} does not resolve to a private address here: nothing to test");
        return;
    }
    // Made while private addresses were allowed; delivered when not.
    let port = receiver.url.split(':').nth(2).unwrap();
    hook(&t, &format!("https://{host}:{port}"), None).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    worker(&t, Reach::PublicOnly)
        .drain(invitations::clock::now())
        .await
        .unwrap();
    assert!(receiver.received().is_empty(), "never connected");
    let d = &hooks(&t).await[0]["deliveries"]["nodes"][0];
    assert_eq!(d["status"], "QUEUED", "retried: DNS may change back");
    assert!(
        d["lastError"]
            .as_str()
            .unwrap()
            .contains("not a public address"),
        "{d}"
    );
    t.app.expect_undelivered();
}

#[tokio::test]
async fn a_server_killed_mid_delivery_resumes_it_in_the_next_one() {
    let t = team().await;
    let receiver = Receiver::start();
    receiver.hang(true);
    hook(&t, &receiver.url, Some(&["CREATED"])).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let settings = [
        ("WEBHOOK_ALLOW_PRIVATE", "true"),
        // Short, so the test is quick; long enough that a busy machine's
        // heartbeat renews it in time.
        ("MAIL_LEASE", "3s"),
        ("MAIL_POLL_INTERVAL", "1s"),
        ("MAIL_DIR", "/tmp/invitations-test-mail"),
    ];
    let first = crate::helpers::ServerProcess::start(&t.app.db_url, &settings);
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "the first server is delivering");
    drop(first); // SIGKILL, mid-delivery: the receiver has not answered.
    receiver.hang(false);

    let _second = crate::helpers::ServerProcess::start(&t.app.db_url, &settings);
    let got = receiver.wait_for(2, Duration::from_secs(20)).await;
    assert!(got.len() >= 2, "the second server delivered it again");
    assert!(got.iter().all(|r| r.id == got[0].id), "the same delivery");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let d = hooks(&t).await[0]["deliveries"]["nodes"][0].clone();
        if d["status"] == "SENT" {
            assert_eq!(d["attempts"].as_i64(), Some(got.len() as i64), "{d}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{d}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_but_retried() {
    let t = team().await;
    let receiver = Receiver::start();
    receiver.answer_with(&[307]);
    hook(&t, &receiver.url, Some(&["CREATED"])).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    deliver_at(&t, 0).await;
    assert_eq!(receiver.received().len(), 1, "only the webhook's own URL");
    let d = &hooks(&t).await[0]["deliveries"]["nodes"][0];
    assert_eq!(d["status"], "QUEUED");
    assert_eq!(d["lastStatus"], 307);
    deliver_at(&t, 10).await;
    assert_eq!(
        hooks(&t).await[0]["deliveries"]["nodes"][0]["status"],
        "SENT"
    );
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_is_retried() {
    let t = team().await;
    let receiver = Receiver::start();
    receiver.hang(true);
    hook(&t, &receiver.url, Some(&["CREATED"])).await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    worker_with_timeout(&t, Reach::Anywhere, Duration::from_millis(300))
        .drain(invitations::clock::now())
        .await
        .unwrap();
    let d = &hooks(&t).await[0]["deliveries"]["nodes"][0];
    assert_eq!(d["status"], "QUEUED");
    assert_eq!(d["lastStatus"], Value::Null);
    assert!(
        d["lastError"]
            .as_str()
            .unwrap()
            .contains("no answer in time"),
        "{d}"
    );
    receiver.hang(false);
    deliver_at(&t, 10).await;
    assert_eq!(
        hooks(&t).await[0]["deliveries"]["nodes"][0]["status"],
        "SENT"
    );
}

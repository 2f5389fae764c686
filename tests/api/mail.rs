//! SPEC "The invitation email": delivery through a real SMTP server, faults,
//! and the outbox's guarantees. The worker is driven step by step.

use crate::helpers::{email_worker, spawn_app, spawn_app_with, TestApp, User, WITHDRAW};
use crate::smtp_sink::SmtpSink;
use chrono::{DateTime, Utc};
use invitations::clock::now;
use invitations::delivery::{
    outbox::{self, EMAILS},
    Outcome, SendError, Worker, WorkerConfig,
};
use invitations::mail::{Captured, Mailer, SmtpConfig};
use invitations::startup::EmailWorker;
use serde_json::{json, Value};
use std::time::Duration;

fn smtp(url: &str) -> Mailer {
    let mut c = SmtpConfig::parse(url).unwrap();
    c.timeout = Duration::from_secs(5);
    Mailer::Smtp(c)
}

fn worker(app: &TestApp, mailer: Mailer) -> EmailWorker {
    app.worker(mailer)
}

fn later(secs: i64) -> DateTime<Utc> {
    now() + chrono::Duration::seconds(secs)
}

/// Ada owns "Acme" (acme.test) and invites Carol.
async fn invitation(app: &TestApp) -> (User, String) {
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    let id = app.invited(&ada, &ws, "carol@acme.test").await;
    (ada, id)
}

async fn delivery(app: &TestApp, user: &User, id: &str) -> Value {
    let q = "query($id: ID!) { invitation(id: $id) { emailDelivery { status attempts lastAttempt sentAt lastError } } }";
    app.ok(user, q, json!({ "id": id })).await["invitation"]["emailDelivery"].clone()
}

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(bytes)
        .expect("a parseable message")
}

#[tokio::test]
async fn the_email_reaches_the_smtp_server_with_subject_parts_link_and_message_id() {
    let app = spawn_app().await;
    let sink = SmtpSink::start();
    let ada = app.user("ada@acme.test");
    let ws = app
        .create_workspace(&ada, "<script>alert(1)</script> & Co", &["acme.test"])
        .await;
    let id = app.invited(&ada, &ws, "Carol@acme.test").await;
    // Names cannot hold control characters through the API; the email must
    // hold even if one got into the database.
    {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = app.db.get_database_backend();
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => "UPDATE profile SET name = $1",
            _ => "UPDATE profile SET name = ?",
        };
        app.db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                ["Ada\r\nBcc: eve@evil.test".into()],
            ))
            .await
            .unwrap();
    }

    let report = worker(&app, smtp(&sink.url())).step(now()).await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1));

    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["carol@acme.test"]);
    assert_eq!(got[0].from, "invitations@acme.test");
    let raw = String::from_utf8_lossy(&got[0].data).into_owned();
    let headers = raw.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
    assert!(
        !headers.contains("\nbcc:") && !headers.starts_with("bcc:"),
        "no header was added: {headers}"
    );

    let msg = parse(&got[0].data);
    assert_eq!(
        msg.subject(),
        Some("Ada  Bcc: eve@evil.test invited you to <script>alert(1)</script> & Co")
    );
    let text = msg.body_text(0).unwrap();
    let link = format!("https://app.acme.test/invitations/{id}");
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("ada@acme.test"), "{text}");
    let html = msg.body_html(0).unwrap();
    assert!(html.contains(&link), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; Co"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");

    let outbox_id = {
        use sea_orm::EntityTrait;
        entity::email_outbox::Entity::find()
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    assert_eq!(
        msg.message_id(),
        Some(format!("{outbox_id}@acme.test").as_str())
    );

    let d = delivery(&app, &ada, &id).await;
    assert_eq!(d["status"], "SENT");
    assert_eq!(d["attempts"], 1);
    assert!(d["sentAt"].is_string() && d["lastAttempt"].is_string());
    assert!(d["lastError"].is_null());
}

#[tokio::test]
async fn a_4xx_refusal_is_retried_and_then_sent() {
    let app = spawn_app().await;
    let sink = SmtpSink::start();
    sink.refuse_next_messages(1, 451);
    let (ada, id) = invitation(&app).await;
    let w = worker(&app, smtp(&sink.url()));

    let first = w.step(now()).await.unwrap();
    assert_eq!(first.retried, 1);
    let d = delivery(&app, &ada, &id).await;
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone()),
        (json!("QUEUED"), json!(1))
    );
    assert!(d["lastError"].as_str().unwrap().contains("451"), "{d}");

    assert_eq!(
        w.step(now()).await.unwrap().claimed,
        0,
        "not due before its backoff"
    );
    let second = w.step(later(2)).await.unwrap();
    assert_eq!(second.sent, 1);
    let d = delivery(&app, &ada, &id).await;
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone()),
        (json!("SENT"), json!(2))
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_5xx_refusal_of_the_recipient_fails_at_once() {
    let app = spawn_app().await;
    app.expect_undelivered();
    let sink = SmtpSink::start();
    sink.refuse_recipients(550);
    let (ada, id) = invitation(&app).await;
    let report = worker(&app, smtp(&sink.url())).step(now()).await.unwrap();
    assert_eq!(report.failed, 1);
    let d = delivery(&app, &ada, &id).await;
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone()),
        (json!("FAILED"), json!(1))
    );
    assert!(d["lastError"].as_str().unwrap().contains("550"), "{d}");
}

#[tokio::test]
async fn an_email_is_failed_after_the_last_attempt() {
    let app = spawn_app().await;
    app.expect_undelivered();
    let sink = SmtpSink::start();
    sink.refuse_next_messages(100, 421);
    let (ada, id) = invitation(&app).await;
    let w = email_worker(&app.db, smtp(&sink.url()), 3);
    for (i, at) in [now(), later(10), later(100)].into_iter().enumerate() {
        let r = w.step(at).await.unwrap();
        assert_eq!(r.claimed, 1, "attempt {}", i + 1);
    }
    let d = delivery(&app, &ada, &id).await;
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone()),
        (json!("FAILED"), json!(3))
    );
    assert_eq!(w.step(later(10_000)).await.unwrap().claimed, 0);
}

#[tokio::test]
async fn a_server_that_is_down_and_comes_back_gets_the_email() {
    let app = spawn_app().await;
    let (ada, id) = invitation(&app).await;
    // A port with nothing listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let w = worker(&app, smtp(&format!("smtp://127.0.0.1:{port}?tls=none")));
    assert_eq!(w.step(now()).await.unwrap().retried, 1);
    assert_eq!(delivery(&app, &ada, &id).await["status"], "QUEUED");

    let sink = SmtpSink::start_on(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
    assert_eq!(w.step(later(2)).await.unwrap().sent, 1);
    assert_eq!(sink.received().len(), 1);
    assert_eq!(delivery(&app, &ada, &id).await["status"], "SENT");
}

#[tokio::test]
async fn an_email_claimed_by_a_worker_that_crashed_is_sent_after_its_lease() {
    let app = spawn_app().await;
    let sink = SmtpSink::start();
    let (ada, id) = invitation(&app).await;
    // A worker claims the row and dies before sending.
    let claimed = outbox::claim(&app.db, &EMAILS, now(), later(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let w = worker(&app, smtp(&sink.url()));
    assert_eq!(w.step(now()).await.unwrap().claimed, 0, "held by the lease");
    assert_eq!(w.step(later(61)).await.unwrap().sent, 1);
    assert_eq!(sink.received().len(), 1);
    let d = delivery(&app, &ada, &id).await;
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone()),
        (json!("SENT"), json!(2))
    );
}

#[tokio::test]
async fn two_workers_on_one_database_send_each_of_200_emails_exactly_once() {
    let app = spawn_app_with(|s| s.invite_rate_per_inviter = 0).await;
    let sink = SmtpSink::start();
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    for i in 0..200 {
        app.invited(&ada, &ws, &format!("u{i}@acme.test")).await;
    }
    // Two processes' worth: separate connection pools, same database.
    let other_db = invitations::startup::connect_with(&app.db_url, Duration::from_secs(5))
        .await
        .unwrap();
    let workers = [
        email_worker(&app.db, smtp(&sink.url()), 8),
        email_worker(&other_db, smtp(&sink.url()), 8),
    ];
    let (a, b) = tokio::join!(drain_all(&workers[0]), drain_all(&workers[1]));
    assert_eq!(a + b, 200, "a={a} b={b}");
    let got = sink.received();
    assert_eq!(got.len(), 200);
    let mut ids: Vec<String> = got
        .iter()
        .map(|m| parse(&m.data).message_id().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200, "every message once");
}

async fn drain_all(w: &EmailWorker) -> usize {
    let mut sent = 0;
    loop {
        let r = w.step(now()).await.unwrap();
        if r.claimed == 0 {
            return sent;
        }
        sent += r.sent;
    }
}

#[tokio::test]
async fn an_email_withdrawn_before_sending_is_not_sent_and_shows_cancelled() {
    let app = spawn_app().await;
    let sink = SmtpSink::start();
    let (ada, id) = invitation(&app).await;
    app.ok(&ada, WITHDRAW, json!({ "id": id })).await;
    assert_eq!(
        worker(&app, smtp(&sink.url()))
            .step(now())
            .await
            .unwrap()
            .claimed,
        0
    );
    assert!(sink.received().is_empty());
    assert_eq!(delivery(&app, &ada, &id).await["status"], "CANCELLED");
}

#[tokio::test]
async fn an_email_deleted_before_sending_is_not_sent() {
    let app = spawn_app().await;
    let sink = SmtpSink::start();
    let (ada, id) = invitation(&app).await;
    app.ok(&ada, crate::helpers::DELETE_INVITATION, json!({ "id": id }))
        .await;
    assert_eq!(
        worker(&app, smtp(&sink.url()))
            .step(now())
            .await
            .unwrap()
            .claimed,
        0
    );
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn an_email_withdrawn_while_in_flight_is_not_retried() {
    let app = spawn_app().await;
    let (ada, id) = invitation(&app).await;
    let captured = Captured::default();
    let w = worker(&app, Mailer::Memory(captured.clone()));
    let rows = w.claim(now()).await.unwrap();
    app.ok(&ada, WITHDRAW, json!({ "id": id })).await;
    // The attempt in flight fails; the invitation is withdrawn by now.
    let refused = Outcome::Refused(SendError::Transient("SMTP 421".into()));
    w.record(&rows[0], now(), &refused).await.unwrap();
    let r = w.step(later(3600)).await.unwrap();
    assert_eq!((r.cancelled, r.sent), (1, 0));
    assert!(captured.lock().unwrap().is_empty());
    assert_eq!(delivery(&app, &ada, &id).await["status"], "CANCELLED");
}

#[tokio::test]
async fn the_file_transport_writes_a_parseable_eml_per_invitation() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("invitations-mail-{}", uuid::Uuid::new_v4()));
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    for who in ["carol", "dan"] {
        app.invited(&ada, &ws, &format!("{who}@acme.test")).await;
    }
    let r = worker(&app, Mailer::File(dir.clone()))
        .step(now())
        .await
        .unwrap();
    assert_eq!(r.sent, 2);
    let mut recipients = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let msg = parse(&bytes);
        assert_eq!(msg.subject(), Some("ada invited you to Acme"));
        recipients.push(
            msg.to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_owned(),
        );
    }
    recipients.sort();
    assert_eq!(recipients, ["carol@acme.test", "dan@acme.test"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_served_app_sends_a_new_invitation_at_once_without_waiting_for_a_poll() {
    let dir = std::env::temp_dir().join(format!("invitations-mail-{}", uuid::Uuid::new_v4()));
    let mail_dir = dir.clone();
    let app = spawn_app_with(move |s| {
        s.mail_worker = true;
        s.mail_dir = mail_dir.clone();
        // Only a wake-up can make it this fast.
        s.mail_poll_interval = Duration::from_secs(3600);
    })
    .await;
    let (ada, id) = invitation(&app).await;
    let mut status = Value::Null;
    for _ in 0..100 {
        status = delivery(&app, &ada, &id).await["status"].clone();
        if status == "SENT" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "SENT");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_5xx_to_mail_from_is_the_senders_fault_and_is_retried_like_a_4xx() {
    let app = spawn_app().await;
    let sink = SmtpSink::start();
    sink.refuse_senders(Some(550));
    let (ada, id) = invitation(&app).await;
    let w = worker(&app, smtp(&sink.url()));
    assert_eq!(w.step(now()).await.unwrap().retried, 1);
    let d = delivery(&app, &ada, &id).await;
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone()),
        (json!("QUEUED"), json!(1))
    );
    assert!(
        d["lastError"].as_str().unwrap().contains("MAIL_FROM"),
        "{d}"
    );
    // The operator fixes the setup; the email goes out.
    sink.refuse_senders(None);
    assert_eq!(w.step(later(2)).await.unwrap().sent, 1);
    assert_eq!(sink.received().len(), 1);
}

fn with_config(app: &TestApp, mailer: Mailer, change: impl Fn(&mut WorkerConfig)) -> EmailWorker {
    let mut config = crate::helpers::worker_config(8);
    change(&mut config);
    Worker::new(
        app.db.clone(),
        crate::helpers::email_channel(mailer),
        config,
    )
}

async fn statuses(app: &TestApp) -> Vec<String> {
    use sea_orm::EntityTrait;
    let mut s: Vec<String> = entity::email_outbox::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| format!("{:?}", r.status))
        .collect();
    s.sort();
    s
}

#[tokio::test]
async fn each_email_is_recorded_as_soon_as_the_relay_answers_it() {
    let app = spawn_app().await;
    let sink = SmtpSink::start();
    sink.answer_after(Duration::from_millis(400));
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    for who in ["carol", "dan", "erin"] {
        app.invited(&ada, &ws, &format!("{who}@acme.test")).await;
    }
    let w = worker(&app, smtp(&sink.url()));
    let step = tokio::spawn(async move { w.step(now()).await.unwrap() });
    // While the batch is still going, the first email is already SENT.
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = statuses(&app).await;
        if seen.iter().any(|s| s == "Sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen, ["Queued", "Queued", "Sent"], "recorded one at a time");
    assert_eq!(step.await.unwrap().sent, 3);
    assert_eq!(statuses(&app).await, ["Sent", "Sent", "Sent"]);
}

#[tokio::test]
async fn emails_go_out_over_several_connections_at_once() {
    let app = spawn_app_with(|s| s.invite_rate_per_inviter = 0).await;
    let sink = SmtpSink::start();
    sink.answer_after(Duration::from_millis(300));
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    for i in 0..8 {
        app.invited(&ada, &ws, &format!("u{i}@acme.test")).await;
    }
    let w = with_config(&app, smtp(&sink.url()), |c| {
        c.concurrency = 4;
        c.batch_size = 2;
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(w.run(invitations::delivery::Wakeup::default(), stopped));
    for _ in 0..200 {
        if sink.distinct() == 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(
        (sink.distinct(), sink.received().len()),
        (8, 8),
        "each once"
    );
    assert!(sink.most_at_once() >= 2, "at once: {}", sink.most_at_once());
}

#[tokio::test]
async fn a_lease_is_renewed_while_a_slow_email_is_sent_so_no_other_worker_takes_it() {
    let app = spawn_app().await;
    let sink = SmtpSink::start();
    sink.answer_after(Duration::from_millis(2500));
    let (ada, id) = invitation(&app).await;
    let lease = |c: &mut WorkerConfig| c.lease = Duration::from_secs(1);
    let first = with_config(&app, smtp(&sink.url()), lease);
    let sending = tokio::spawn(async move { first.step(now()).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(1800)).await;
    // Past the first lease: a second worker would take the email if the
    // lease had not been renewed.
    let second = with_config(&app, smtp(&sink.url()), lease);
    assert_eq!(second.step(now()).await.unwrap().claimed, 0);
    assert_eq!(sending.await.unwrap().sent, 1);
    assert_eq!(sink.received().len(), 1);
    assert_eq!(delivery(&app, &ada, &id).await["status"], "SENT");
}

#[tokio::test]
async fn a_claim_takes_at_most_its_batch() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    for i in 0..5 {
        app.invited(&ada, &ws, &format!("u{i}@acme.test")).await;
    }
    let w = with_config(&app, Mailer::Memory(Captured::default()), |c| {
        c.batch_size = 2
    });
    assert_eq!(w.claim(now()).await.unwrap().len(), 2);
    assert_eq!(w.claim(now()).await.unwrap().len(), 2);
    assert_eq!(w.claim(now()).await.unwrap().len(), 1);
    app.expect_undelivered();
}

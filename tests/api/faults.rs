//! Faults: the database going away and coming back, and a graceful stop.

use crate::helpers::{code, second_instance, spawn_app, SECRET};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Mutex,
};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A TCP proxy in front of PostgreSQL that the test can cut and restore.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (is_cut, conns) = (cut.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if is_cut.load(Ordering::SeqCst) {
                    continue; // dropped: the "database" is down
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns.lock().unwrap().push(task.abort_handle());
            }
        });
        Self {
            port,
            cut,
            connections,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// `postgres://user@host:port/db` with host and port replaced.
fn through(url: &str, port: u16) -> String {
    let scheme_end = url.find("://").unwrap() + 3;
    let rest = &url[scheme_end..];
    let (userinfo, hostpart) = match rest.split_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), rest),
    };
    let path = &hostpart[hostpart.find('/').unwrap()..];
    format!("{}{userinfo}127.0.0.1:{port}{path}", &url[..scheme_end])
}

#[tokio::test]
async fn the_database_going_away_fails_requests_at_once_and_coming_back_heals() {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("runs with TEST_DATABASE_URL (PostgreSQL) only");
        return;
    };
    let target: SocketAddr = {
        let host = admin.split('@').nth(1).unwrap().split('/').next().unwrap();
        let host = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:5432")
        };
        tokio::net::lookup_host(host).await.unwrap().next().unwrap()
    };
    let app = spawn_app().await;
    let proxy = Proxy::start(target).await;
    let url = through(&app.db_url, proxy.port);
    let base = second_instance(&app, |s| {
        s.database_url = invitations::config::Secret::new(url.clone());
        // Long, so that a request waiting for a connection would show.
        s.db_acquire_timeout = Duration::from_secs(5);
    })
    .await;
    let ada = app.user("ada@acme.test");
    let me = || {
        app.client
            .post(format!("{base}/graphql"))
            .bearer_auth(&ada.token)
            .json(&json!({ "query": "{ me { id } }" }))
            .send()
    };
    let ready = || app.client.get(format!("{base}/readyz")).send();
    assert_eq!(ready().await.unwrap().status(), 200);
    assert!(me()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()
        .get("errors")
        .is_none());

    proxy.cut();
    let body: serde_json::Value = me().await.unwrap().json().await.unwrap();
    assert_eq!(code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string());
    let mut noticed = false;
    for _ in 0..40 {
        if ready().await.unwrap().status() == 503 {
            noticed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(noticed, "/readyz says the database is away");
    // Known to be away: requests fail at once, not after the acquire timeout.
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        let res = me().await.unwrap();
        slowest = slowest.max(started.elapsed());
        assert_eq!(res.status(), 503);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    }
    eprintln!("during the outage the slowest refusal took {slowest:?}");
    assert!(
        slowest < Duration::from_millis(2500),
        "half the acquire timeout at most: {slowest:?}"
    );

    proxy.restore();
    let mut healed = false;
    for _ in 0..50 {
        if ready().await.unwrap().status() == 200 {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(healed, "the same process serves again");
    let body: serde_json::Value = me().await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
}

#[test]
fn sigterm_finishes_the_request_in_flight_and_exits_0() {
    let dir = std::env::temp_dir().join(format!("invitations-sigterm-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_invitations"))
        .arg("serve")
        // Only the settings below: a developer's own environment stays out.
        .env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/inv.db?mode=rwc", dir.display()),
        )
        .env("AUTH_JWT_SECRET", SECRET)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("MAIL_DIR", dir.join("mail"))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the server logs its address").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if event["message"] == "serving" {
            break event["address"].as_str().unwrap().to_owned();
        }
    };
    let health = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // A request in flight: headers and half its body sent before SIGTERM.
    use std::io::{Read, Write};
    let token = crate::helpers::token(&crate::helpers::claims("s", "ada@acme.test"));
    let body = r#"{"query":"{ me { email } }"}"#;
    let (first, rest) = body.split_at(10);
    let mut in_flight = std::net::TcpStream::connect(&address).unwrap();
    write!(
        in_flight,
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    in_flight.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    in_flight.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("ada@acme.test"),
        "the request in flight was finished: {answer}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(status.success(), "exit {status:?}; log: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("delivery worker stopped")),
        "{rest:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// The server binary serving `db_url` and sending through `smtp_url`, its
/// log discarded.
fn server_process(db_url: &str, smtp_url: &str) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_invitations"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", db_url)
        .env("SMTP_URL", smtp_url)
        .env("MAIL_FROM", "Acme <invitations@acme.test>")
        .env("AUTH_JWT_SECRET", SECRET)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// A child process killed when dropped, so a failing test leaves none.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn after_kill_9_mid_delivery_a_restarted_server_sends_the_rest_within_seconds() {
    let app = crate::helpers::spawn_app_with(|s| s.invite_rate_per_inviter = 0).await;
    let sink = crate::smtp_sink::SmtpSink::start();
    // A relay that takes its time over each message.
    sink.answer_after(Duration::from_millis(150));
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    const EMAILS: usize = 40;
    for i in 0..EMAILS {
        app.invited(&ada, &ws, &format!("u{i}@acme.test")).await;
    }
    let mut first = Killed(server_process(&app.db_url, &sink.url()));
    let wait_for = |n: usize, within: Duration| {
        let sink = &sink;
        async move {
            let deadline = Instant::now() + within;
            while sink.distinct() < n && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            sink.distinct() >= n
        }
    };
    assert!(
        wait_for(4, Duration::from_secs(30)).await,
        "delivery started"
    );
    first.0.kill().unwrap(); // SIGKILL: no chance to finish anything
    first.0.wait().unwrap();
    let before = sink.distinct();
    assert!(before < EMAILS, "killed mid-delivery ({before} sent)");

    let restarted = Instant::now();
    let second = Killed(server_process(&app.db_url, &sink.url()));
    let done = wait_for(EMAILS, Duration::from_secs(60)).await;
    let took = restarted.elapsed();
    // Let it record what it sent before it goes.
    for _ in 0..300 {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let unsent = entity::email_outbox::Entity::find()
            .filter(
                entity::email_outbox::Column::Status.ne(entity::email_outbox::DeliveryStatus::Sent),
            )
            .count(&app.db)
            .await
            .unwrap();
        if unsent == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(second);
    eprintln!(
        "kill -9 after {before} of {EMAILS}: the rest sent {took:?} after the restart \
         ({} messages received, {} distinct)",
        sink.received().len(),
        sink.distinct()
    );
    assert!(
        done,
        "all {EMAILS} sent after the restart ({} were)",
        sink.distinct()
    );
}

/// A channel whose rendering panics: a worker bug.
struct Broken;

struct Nowhere;

impl invitations::delivery::Session<()> for Nowhere {
    async fn send(&mut self, _: &()) -> Result<(), invitations::delivery::SendError> {
        Ok(())
    }
    async fn close(self) {}
}

impl invitations::delivery::Channel for Broken {
    type Loaded = ();
    type Message = ();
    type Session = Nowhere;

    fn name(&self) -> &'static str {
        "broken"
    }
    fn queue(&self) -> &'static invitations::delivery::outbox::Queue {
        &invitations::delivery::outbox::EMAILS
    }
    fn describe(&self) -> String {
        "nowhere".into()
    }
    async fn load(
        &self,
        _: &sea_orm::DatabaseConnection,
        _: &[invitations::delivery::outbox::Claimed],
    ) -> invitations::error::Result<()> {
        Ok(())
    }
    fn render(
        &self,
        _: &invitations::delivery::outbox::Claimed,
        _: &(),
    ) -> invitations::delivery::Prepared<()> {
        panic!("a bug in rendering")
    }
    fn open(&self) -> Nowhere {
        Nowhere
    }
}

#[tokio::test]
async fn a_dead_delivery_worker_makes_readyz_fail() {
    let app = spawn_app().await;
    app.expect_undelivered();
    let ready = || app.client.get(format!("{}/readyz", app.base)).send();
    assert_eq!(ready().await.unwrap().status(), 200);
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    app.invited(&ada, &ws, "carol@acme.test").await;
    // A worker run as `serve` runs one, with the app's health, dies.
    let worker = invitations::delivery::Worker::new(
        app.db.clone(),
        Broken,
        crate::helpers::worker_config(8),
    );
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    invitations::startup::run_worker(
        worker,
        invitations::delivery::Wakeup::default(),
        stopped,
        app.health.clone(),
    )
    .await;
    let res = ready().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.text().await.unwrap(), "delivery worker not running");
}

//! The live paths, measured on PostgreSQL with release servers as their
//! own processes (see README, "Performance"):
//!
//! 1. commit to subscriber on another process: one subscriber on server B,
//!    invitations created one at a time through server A;
//! 2. fan-out: `--subscribers N` sockets (default 1,000) split over A and
//!    B, each hearing every event of `--events N` invitations (default 50);
//! 3. webhook latency: from `createInvitation`'s answer to a local
//!    receiver's receipt of the signed POST;
//! 4. webhook throughput: `--deliveries N` (default 1,000) queued while no
//!    worker runs, then drained by one server's worker.
//!
//! Run with `bench/live.sh` (it builds the binaries in release mode).
//! `BENCH_PG_URL` names the PostgreSQL server (default
//! `postgres://postgres@127.0.0.1:5432/postgres`).

// The package's two binaries share its dependencies; each uses some.
#![allow(unused_crate_dependencies)]

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use invitations::auth::{self, Claims};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue, Message};

const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
const DB: &str = "invitations_live_bench";

struct Options {
    subscribers: usize,
    events: usize,
    deliveries: usize,
    /// MAIL_CONCURRENCY of the server that drains the emails.
    mail_lanes: usize,
    pg_url: String,
}

fn options() -> Options {
    let mut o = Options {
        subscribers: 1000,
        events: 50,
        deliveries: 1000,
        mail_lanes: 4,
        pg_url: std::env::var("BENCH_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--subscribers" => o.subscribers = value.parse().expect("--subscribers N"),
            "--events" => o.events = value.parse().expect("--events N"),
            "--deliveries" => o.deliveries = value.parse().expect("--deliveries N"),
            "--mail-lanes" => o.mail_lanes = value.parse().expect("--mail-lanes N"),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// A release server process on `url`, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    _mail: TempDir,
}

/// A directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("invitations-live-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    fn start(url: &str, worker: bool) -> Server {
        Server::start_with(url, worker, &[])
    }

    fn start_with(url: &str, worker: bool, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let exe = std::env::current_exe()
            .unwrap()
            .with_file_name("invitations");
        let mail = TempDir::new();
        let child = Command::new(&exe)
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("AUTH_JWT_SECRET", SECRET)
            .env("MAIL_WORKER", worker.to_string())
            .env("MAIL_DIR", &mail.0)
            .env("WEBHOOK_ALLOW_PRIVATE", "true")
            .env("GRAPHQL_MAX_SUBSCRIPTIONS", "10")
            .env("INVITE_RATE_PER_INVITER", "0")
            .env("INVITE_RATE_PER_WORKSPACE", "0")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (run bench/live.sh)", exe.display()));
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        Server {
            child,
            base,
            _mail: mail,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn token(email: &str) -> String {
    auth::mint(
        SECRET.as_bytes(),
        &Claims {
            sub: format!("sub|{email}"),
            email: email.into(),
            name: None,
            email_verified: None,
            exp: auth::expiry_in(Duration::from_secs(3600)),
            iss: None,
            aud: None,
        },
    )
}

async fn gql(client: &reqwest::Client, base: &str, token: &str, query: &str, vars: Value) -> Value {
    let body: Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

const INVITE: &str =
    "mutation($ws: ID!, $email: String!) { createInvitation(workspaceId: $ws, email: $email) { id } }";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket on `base`, signed in, subscribed to `ws`'s events, confirmed
/// by a pong sent after the subscribe was read.
async fn subscriber(base: &str, token: &str, ws: &str) -> Socket {
    let mut request = format!("{}/graphql", base.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut s, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |v: Value| Message::text(v.to_string());
    s.send(send(
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}),
    ))
    .await
    .unwrap();
    s.send(send(json!({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription($ws: ID) { invitationEvents(workspaceId: $ws) { kind invitation { email } } }",
        "variables": {"ws": ws}}})))
        .await
        .unwrap();
    s.send(send(json!({"type": "ping"}))).await.unwrap();
    while let Some(Ok(m)) = s.next().await {
        if let Message::Text(t) = m {
            if t.contains("\"pong\"") {
                break;
            }
        }
    }
    s
}

/// The email of the invitation in a `next` message.
fn email_of(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    let e = &v["payload"]["data"]["invitationEvents"];
    (e["kind"] == "CREATED").then(|| e["invitation"]["email"].as_str().map(str::to_owned))?
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).unwrap()
}

fn report(name: &str, h: &Histogram<u64>) {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
        h.len(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        h.max() as f64 / 1000.0
    );
}

/// A local webhook receiver: records when each request arrived, answers 200.
/// A bare SMTP server on port 0 that accepts every message (no TLS, no
/// auth) and counts them: the other end of a real SMTP conversation, as
/// fast as a local relay can be.
async fn smtp_sink() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncBufReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}?tls=none", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                return;
            };
            let counted = counted.clone();
            // As SMTP servers do: replies are small and must not wait.
            let _ = conn.set_nodelay(true);
            tokio::spawn(async move {
                let (read, mut write) = conn.into_split();
                let mut lines = tokio::io::BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        counted.fetch_add(1, Ordering::Relaxed);
                        b"250 queued\r\n"
                    } else {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        match verb.as_str() {
                            "EHLO" => b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 ok\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, count)
}

async fn receiver() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Ok(n) = conn.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    // One request: headers, then Content-Length bytes.
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if buf.len() < end + 4 + length {
                            break;
                        }
                        buf.drain(..end + 4 + length);
                        record.lock().unwrap().push(Instant::now());
                        let _ = conn
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                            .await;
                    }
                }
            });
        }
    });
    (url, seen)
}

#[tokio::main]
async fn main() {
    let o = options();
    let admin = sea_orm::Database::connect(&o.pg_url)
        .await
        .expect("PostgreSQL answers");
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {DB}"))
        .await
        .unwrap();
    let base_url = o
        .pg_url
        .rsplit_once('/')
        .map_or(o.pg_url.as_str(), |(b, _)| b);
    let url = format!("{base_url}/{DB}");

    let client = reqwest::Client::new();
    let ada = token("ada@acme.test");
    let a = Server::start(&url, true);
    // B migrates nothing A has not (A finished before B's first request).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let b = Server::start(&url, false);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ws = gql(
        &client,
        &a.base,
        &ada,
        r#"mutation { createWorkspace(input: { name: "Live", domains: ["acme.test"] }) { id } }"#,
        json!({}),
    )
    .await["createWorkspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    println!(
        "| path (PostgreSQL, 2 server processes) | samples | p50 ms | p90 ms | p99 ms | max ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|");

    // 1. Commit to a subscriber on the other process.
    {
        let mut s = subscriber(&b.base, &ada, &ws).await;
        let (mut from_request, mut from_answer) = (histogram(), histogram());
        for i in 0..200 {
            let email = format!("one{i}@acme.test");
            let sent = Instant::now();
            gql(
                &client,
                &a.base,
                &ada,
                INVITE,
                json!({ "ws": ws, "email": email }),
            )
            .await;
            let answered = Instant::now();
            loop {
                let Some(Ok(Message::Text(t))) = s.next().await else {
                    panic!("socket closed")
                };
                if email_of(&t).as_deref() == Some(email.as_str()) {
                    break;
                }
            }
            let heard = Instant::now();
            from_request
                .record(heard.duration_since(sent).as_micros() as u64)
                .unwrap();
            from_answer
                .record(heard.saturating_duration_since(answered).as_micros() as u64)
                .unwrap();
        }
        report("request sent (A) -> event heard (B)", &from_request);
        report("response received (A) -> event heard (B)", &from_answer);
    }

    // 2. Fan-out.
    {
        let per_side = o.subscribers / 2;
        let mut sockets = Vec::new();
        for i in 0..o.subscribers {
            let base = if i < per_side { &a.base } else { &b.base };
            sockets.push(subscriber(base, &ada, &ws).await);
        }
        let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let heard = Arc::new(Mutex::new(histogram()));
        let expected = o.events;
        let listeners: Vec<_> = sockets
            .into_iter()
            .map(|mut s| {
                let sent_at = sent_at.clone();
                let heard = heard.clone();
                tokio::spawn(async move {
                    let mut got = 0;
                    while got < expected {
                        let Some(Ok(Message::Text(t))) = s.next().await else {
                            return;
                        };
                        let Some(email) = email_of(&t) else { continue };
                        let Some(at) = sent_at.lock().unwrap().get(&email).copied() else {
                            continue;
                        };
                        heard
                            .lock()
                            .unwrap()
                            .record(at.elapsed().as_micros() as u64)
                            .unwrap();
                        got += 1;
                    }
                })
            })
            .collect();
        for i in 0..o.events {
            let email = format!("fan{i}@acme.test");
            sent_at
                .lock()
                .unwrap()
                .insert(email.clone(), Instant::now());
            gql(
                &client,
                &a.base,
                &ada,
                INVITE,
                json!({ "ws": ws, "email": email }),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = tokio::time::timeout(
            Duration::from_secs(60),
            futures_util::future::join_all(listeners),
        )
        .await;
        let h = heard.lock().unwrap().clone();
        report(
            &format!(
                "fan-out: request sent -> heard by each of {} subscribers",
                o.subscribers
            ),
            &h,
        );
    }

    // 3. Webhook latency.
    let (hook_url, seen) = receiver().await;
    let hook = gql(
        &client,
        &a.base,
        &ada,
        "mutation($ws: ID!, $url: String!) { createWebhook(workspaceId: $ws, url: $url, events: [CREATED]) { webhook { id } } }",
        json!({ "ws": ws, "url": hook_url }),
    )
    .await["createWebhook"]["webhook"]["id"]
        .clone();
    {
        let mut h = histogram();
        for i in 0..100 {
            let before = seen.lock().unwrap().len();
            let email = format!("hook{i}@acme.test");
            gql(
                &client,
                &a.base,
                &ada,
                INVITE,
                json!({ "ws": ws, "email": email }),
            )
            .await;
            let answered = Instant::now();
            let deadline = Instant::now() + Duration::from_secs(10);
            let at = loop {
                if let Some(at) = seen.lock().unwrap().get(before).copied() {
                    break at;
                }
                assert!(Instant::now() < deadline, "no webhook delivery");
                tokio::time::sleep(Duration::from_micros(200)).await;
            };
            h.record(at.saturating_duration_since(answered).as_micros() as u64)
                .unwrap();
        }
        report("webhook: response received -> POST received", &h);
    }
    drop(a);
    drop(b);

    // 4. Webhook throughput: queue while no worker runs, then drain.
    let queued = Server::start(&url, false);
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = Vec::new();
    for i in 0..o.deliveries {
        let (client, base, ada, ws, sem) = (
            client.clone(),
            queued.base.clone(),
            ada.clone(),
            ws.clone(),
            sem.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let email = format!("bulk{i}@acme.test");
            gql(
                &client,
                &base,
                &ada,
                INVITE,
                json!({ "ws": ws, "email": email }),
            )
            .await;
        }));
    }
    futures_util::future::join_all(tasks).await;
    drop(queued);
    let before = seen.lock().unwrap().len();
    let started = Instant::now();
    let drain = Server::start(&url, true);
    let deadline = Instant::now() + Duration::from_secs(300);
    while seen.lock().unwrap().len() < before + o.deliveries && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let done = seen.lock().unwrap().len() - before;
    let secs = started.elapsed().as_secs_f64();
    println!();
    println!(
        "webhook throughput: {done} of {} queued deliveries in {secs:.2} s from server start = {:.0} deliveries/s (4 lanes, its emails sent to files meanwhile)",
        o.deliveries,
        done as f64 / secs
    );
    drop(drain);

    // 5. Email: how fast createInvitation fills the outbox at full speed
    // (32 at a time, no worker), then how fast one server's worker drains
    // it through a real SMTP conversation with a local SMTP server.
    let (smtp_url, sent) = smtp_sink().await;
    let filler = Server::start(&url, false);
    // Emails only: no webhook deliveries beside them.
    gql(
        &client,
        &filler.base,
        &ada,
        "mutation($id: ID!) { deleteWebhook(id: $id) }",
        json!({ "id": hook }),
    )
    .await;
    let n = o.deliveries * 2;
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        let (client, base, ada, ws, sem) = (
            client.clone(),
            filler.base.clone(),
            ada.clone(),
            ws.clone(),
            sem.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            gql(
                &client,
                &base,
                &ada,
                INVITE,
                json!({ "ws": ws, "email": format!("mail{i}@acme.test") }),
            )
            .await;
        }));
    }
    futures_util::future::join_all(tasks).await;
    let fill = n as f64 / started.elapsed().as_secs_f64();
    drop(filler);
    // Everything queued, these and any left from the earlier parts.
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let queued: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM email_outbox WHERE status = 'QUEUED'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    db.close().await.ok();
    let n = queued as usize;
    let started = Instant::now();
    let lanes = o.mail_lanes.to_string();
    let drain = Server::start_with(
        &url,
        true,
        &[("SMTP_URL", &smtp_url), ("MAIL_CONCURRENCY", &lanes)],
    );
    let deadline = Instant::now() + Duration::from_secs(300);
    let sent_count = || sent.load(std::sync::atomic::Ordering::Relaxed);
    while sent_count() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let drained = sent_count() as f64 / secs;
    println!(
        "email: createInvitation fills the outbox at {fill:.0} emails/s (32 at a time); one server's worker sent {} of the {n} queued over SMTP in {secs:.2} s from its start = {drained:.0} emails/s with {} lanes ({})",
        sent_count(),
        o.mail_lanes,
        if drained >= fill { "drains at least as fast as it fills" } else { "slower than it fills: the queue grows under sustained load" }
    );
    drop(drain);
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        .await
        .ok();
}

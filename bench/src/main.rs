//! The load benchmark (see README, "Performance"): for PostgreSQL and for
//! SQLite it makes a fresh database seeded deterministically (1,000
//! profiles, 100 workspaces of 10 members, 20,000 invitations), starts the
//! release server as its own process, drives it over HTTP from this process
//! at a fixed concurrency, and prints a table. The ceiling row issues the
//! SQL statements of `sentInvitations` directly, through the same driver
//! and pool settings, at the same concurrency.
//!
//! On PostgreSQL, the peers in `bench/peers/` (PostGraphile 4; Apollo
//! Server 4 with DataLoader) answer the same listing on the same database,
//! one at a time, when `npm ci` has been run in their folders.
//!
//! Run with `bench/run.sh` (it builds both binaries in release mode).
//! Options: `--seconds N` (measured time per row, default 10), `--warmup N`
//! (default 2), `--concurrency N` (default 32), `--only postgres|sqlite`;
//! `BENCH_PG_URL` names the PostgreSQL server (default
//! `postgres://postgres@127.0.0.1:5432/postgres`).

// The package's two binaries share its dependencies; each uses some.
#![allow(unused_crate_dependencies)]

use hdrhistogram::Histogram;
use invitations::auth::{self, Claims};
use invitations::domain::{
    caller::Identity,
    ids::{self, ProfileId, WorkspaceId},
    invitations as inv, paging, profiles, workspaces,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
const PROFILES: u128 = 1_000;
const WORKSPACES: u128 = 100;
const INVITATIONS: u128 = 20_000;
/// Profile 0 owns workspace 0 and sent this many of its invitations.
const BUSY: u128 = 2_000;

struct Options {
    seconds: u64,
    warmup: u64,
    concurrency: usize,
    only: Option<String>,
    /// Seed this backend's database, keep it, and stop (bench/profile.sh).
    prepare_only: Option<String>,
    pg_url: String,
}

fn options() -> Options {
    let mut o = Options {
        seconds: 10,
        warmup: 2,
        concurrency: 32,
        only: None,
        prepare_only: None,
        pg_url: std::env::var("BENCH_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--seconds" => o.seconds = value.parse().expect("--seconds N"),
            "--warmup" => o.warmup = value.parse().expect("--warmup N"),
            "--concurrency" => o.concurrency = value.parse().expect("--concurrency N"),
            "--only" => o.only = Some(value),
            "--prepare-only" => o.prepare_only = Some(value),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

fn id(kind: u128, n: u128) -> Uuid {
    Uuid::from_u128(kind << 64 | n)
}

fn profile_id(n: u128) -> Uuid {
    id(1, n)
}

fn workspace_id(n: u128) -> Uuid {
    id(2, n)
}

/// A fresh, seeded database; returns its URL.
async fn prepare(backend: &str, pg_url: &str) -> String {
    let url = match backend {
        "postgres" => {
            let admin = sea_orm::Database::connect(pg_url)
                .await
                .expect("PostgreSQL answers");
            admin
                .execute_unprepared("DROP DATABASE IF EXISTS invitations_bench WITH (FORCE)")
                .await
                .unwrap();
            admin
                .execute_unprepared("CREATE DATABASE invitations_bench")
                .await
                .unwrap();
            let base = pg_url.rsplit_once('/').map_or(pg_url, |(b, _)| b);
            format!("{base}/invitations_bench")
        }
        _ => {
            let path = std::env::temp_dir().join("invitations-bench.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}?mode=rwc", path.display())
        }
    };
    let db = invitations::startup::connect_with(&url, Duration::from_secs(5))
        .await
        .unwrap();
    use migration::MigratorTrait;
    migration::Migrator::up(&db, None).await.unwrap();
    seed(&db).await;
    // Fresh statistics, as autovacuum would have after such a load.
    db.execute_unprepared("ANALYZE").await.unwrap();
    db.close().await.ok();
    url
}

async fn seed(db: &DatabaseConnection) {
    use entity::{invitation, membership, profile, workspace};
    use sea_orm::Set;
    let started = Instant::now();
    let base = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap();
    let at = |secs: u128| base + chrono::Duration::seconds(secs as i64);

    let profiles: Vec<profile::ActiveModel> = (0..PROFILES)
        .map(|i| profile::ActiveModel {
            id: Set(profile_id(i)),
            subject: Set(format!("bench|{i}")),
            email: Set(format!("user{i}@bench.test")),
            name: Set(format!("User {i}")),
            handle: Set(format!("@user_{i}")),
            phone: Set(None),
            default_workspace_id: Set(None),
            created: Set(at(i)),
            last_modified: Set(at(i)),
        })
        .collect();
    for chunk in profiles.chunks(500) {
        profile::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    let workspaces: Vec<workspace::ActiveModel> = (0..WORKSPACES)
        .map(|w| workspace::ActiveModel {
            id: Set(workspace_id(w)),
            alias: Set(format!("ws_{w}")),
            name: Set(format!("Workspace {w}")),
            domains: Set(workspace::DomainList(vec!["bench.test".into()])),
            repository_url: Set(None),
            pipelines_image: Set(None),
            image_url: Set(None),
            status: Set(workspace::WorkspaceStatus::Ready),
            owner_id: Set(profile_id(w * 10)),
            invitation_expiry_secs: Set(7 * 86_400),
            created: Set(at(w)),
            last_modified: Set(at(w)),
        })
        .collect();
    workspace::Entity::insert_many(workspaces)
        .exec(db)
        .await
        .unwrap();
    let memberships: Vec<membership::ActiveModel> = (0..WORKSPACES)
        .flat_map(|w| {
            (0..10).map(move |m| membership::ActiveModel {
                workspace_id: Set(workspace_id(w)),
                profile_id: Set(profile_id(w * 10 + m)),
                role: Set(if m == 0 {
                    membership::Role::Owner
                } else {
                    membership::Role::Member
                }),
                created: Set(at(w * 10 + m)),
                invitation_id: Set(None),
            })
        })
        .collect();
    for chunk in memberships.chunks(500) {
        membership::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    // BUSY invitations by profile 0 in workspace 0; the rest spread over
    // every workspace and its members.
    let invitations: Vec<invitation::ActiveModel> = (0..INVITATIONS)
        .map(|n| {
            let (w, creator) = if n < BUSY {
                (0, 0)
            } else {
                let w = n % WORKSPACES;
                (w, w * 10 + n % 10)
            };
            let status = match n % 10 {
                0 => invitation::InvitationStatus::Accepted,
                7 => invitation::InvitationStatus::Revoked,
                _ => invitation::InvitationStatus::Pending,
            };
            invitation::ActiveModel {
                id: Set(id(3, n)),
                created: Set(at(10_000 + n)),
                last_modified: Set(at(10_000 + n)),
                status: Set(status),
                email: Set(format!("invitee{n}@bench.test")),
                creator_id: Set(profile_id(creator)),
                workspace_id: Set(workspace_id(w)),
                role: Set(membership::Role::Member),
                expiry_secs: Set(7 * 86_400),
                expires_at: Set(None),
                resends: Set(0),
                last_resent_at: Set(None),
            }
        })
        .collect();
    for chunk in invitations.chunks(1000) {
        invitation::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    eprintln!("  seeded in {:.1} s", started.elapsed().as_secs_f64());
}

/// Drops what `prepare` made.
async fn cleanup(backend: &str, pg_url: &str) {
    if backend == "postgres" {
        if let Ok(admin) = sea_orm::Database::connect(pg_url).await {
            let _ = admin
                .execute_unprepared("DROP DATABASE IF EXISTS invitations_bench WITH (FORCE)")
                .await;
        }
    } else {
        let path = std::env::temp_dir().join("invitations-bench.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

struct Server {
    child: Child,
    base: String,
    ready_ms: f64,
}

impl Server {
    /// A peer (`bench/peers/<peer>/server.mjs`) on the database at `url`,
    /// or `None` when its packages are not installed (`npm ci` there).
    fn start_peer(peer: &str, url: &str) -> Option<Server> {
        use std::io::{BufRead, BufReader};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("peers")
            .join(peer);
        if !dir.join("node_modules").is_dir() {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = Instant::now();
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("DATABASE_URL", url)
            .env("PORT", port.to_string())
            .env("NODE_ENV", "production")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.trim() == "ready" {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        Some(Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            ready_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    fn start(url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let exe = std::env::current_exe()
            .unwrap()
            .with_file_name("invitations");
        let started = Instant::now();
        let child = Command::new(&exe)
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("AUTH_JWT_SECRET", SECRET)
            .env("MAIL_WORKER", "false")
            .env("INVITE_RATE_PER_INVITER", "0")
            .env("INVITE_RATE_PER_WORKSPACE", "0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (run bench/run.sh)", exe.display()));
        let base = format!("http://127.0.0.1:{port}");
        let ready = format!("{base}/readyz");
        loop {
            let up = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && blocking_status(&ready) == Some(200);
            if up {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        Server {
            child,
            base,
            ready_ms: started.elapsed().as_secs_f64() * 1000.0,
        }
    }

    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// A tiny blocking GET for the readiness poll.
fn blocking_status(url: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/')?;
    let mut s = std::net::TcpStream::connect(host).ok()?;
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split(' ').nth(1)?.parse().ok()
}

type Call = Arc<dyn Fn(u64) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

struct Row {
    name: String,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    rss_mib: Option<f64>,
    /// Cores the server process used while measured.
    server_cores: Option<f64>,
    /// Cores PostgreSQL's processes used meanwhile.
    db_cores: f64,
    /// Cores this process (the load generator) used meanwhile.
    client_cores: f64,
}

/// CPU seconds a process has used (Linux: utime + stime in clock ticks of
/// 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds used by every `postgres` process.
fn postgres_cpu_seconds() -> f64 {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}

/// Runs `call` from `concurrency` tasks for warm-up plus `seconds`.
async fn drive(o: &Options, name: &str, call: Call, server: Option<&Server>) -> Row {
    let counter = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let merged = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap(),
    ));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..o.concurrency {
        let (call, counter, measuring, stop, merged, errors) = (
            call.clone(),
            counter.clone(),
            measuring.clone(),
            stop.clone(),
            merged.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
            while !stop.load(Ordering::Relaxed) {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let t0 = Instant::now();
                let ok = call(i).await;
                if measuring.load(Ordering::Relaxed) {
                    hist.saturating_record(t0.elapsed().as_micros() as u64);
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            merged.lock().unwrap().add(&hist).unwrap();
        }));
    }
    tokio::time::sleep(Duration::from_secs(o.warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let server_cpu = server.map(|s| cpu_seconds(s.child.id()));
    let db_cpu = postgres_cpu_seconds();
    let client_cpu = cpu_seconds(std::process::id());
    let mut peak_rss: f64 = 0.0;
    while started.elapsed() < Duration::from_secs(o.seconds) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(s) = server {
            peak_rss = peak_rss.max(s.rss_mib());
        }
    }
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let server_cores = server
        .zip(server_cpu)
        .map(|(s, before)| (cpu_seconds(s.child.id()) - before) / elapsed);
    let db_cores = (postgres_cpu_seconds() - db_cpu) / elapsed;
    let client_cores = (cpu_seconds(std::process::id()) - client_cpu) / elapsed;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let hist = merged.lock().unwrap();
    Row {
        name: name.to_owned(),
        rps: hist.len() as f64 / elapsed,
        p50_ms: hist.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: hist.value_at_quantile(0.99) as f64 / 1000.0,
        errors: errors.load(Ordering::Relaxed),
        rss_mib: server.map(|_| peak_rss),
        server_cores,
        db_cores,
        client_cores,
    }
}

fn token() -> String {
    auth::mint(
        SECRET.as_bytes(),
        &Claims {
            sub: "bench|0".into(),
            email: "user0@bench.test".into(),
            name: None,
            email_verified: None,
            exp: auth::expiry_in(Duration::from_secs(24 * 3600)),
            iss: None,
            aud: None,
        },
    )
}

fn graphql_call(
    client: &reqwest::Client,
    base: &str,
    body: impl Fn(u64) -> Value + Send + Sync + 'static,
) -> Call {
    post_call(client, format!("{base}/graphql"), Some(token()), body)
}

/// POSTs `body(i)` to `url`; true for a 200 without `errors`.
fn post_call(
    client: &reqwest::Client,
    url: String,
    token: Option<String>,
    body: impl Fn(u64) -> Value + Send + Sync + 'static,
) -> Call {
    let client = client.clone();
    let bearer = token.map(|t| format!("Bearer {t}"));
    Arc::new(move |i| {
        let mut req = client.post(&url).json(&body(i));
        if let Some(b) = &bearer {
            req = req.header("authorization", b);
        }
        Box::pin(async move {
            match req.send().await {
                Ok(res) if res.status() == 200 => match res.bytes().await {
                    Ok(b) => !b.windows(9).any(|w| w == b"\"errors\":"),
                    Err(_) => false,
                },
                _ => false,
            }
        })
    })
}

const SENT: &str = "{ sentInvitations(first: 50) { nodes { id status email created creator { name handle } workspace { name } } } }";
const OWNER: &str = "query($ws: ID!) { workspace(id: $ws) { invitations(first: 50) { totalCount nodes { email creator { name } } } } }";
const CREATE: &str = "mutation($ws: ID!, $email: String!) { createInvitation(workspaceId: $ws, email: $email) { id } }";
const CREATE_MANY: &str = "mutation($ws: ID!, $emails: [String!]!) { createInvitations(workspaceId: $ws, emails: $emails) { invitedCount } }";

/// 100 new addresses for call `i` of `tag`.
fn hundred(tag: &str, i: u64) -> Vec<String> {
    (0..100)
        .map(|k| format!("{tag}{i}x{k}@bench.test"))
        .collect()
}

/// The server's SQL statement counter.
async fn statements(client: &reqwest::Client, base: &str) -> u64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("invitations_sql_statements_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// One `createInvitations` of 100 addresses against 100 `createInvitation`
/// calls one after another: statements and wall time of each.
async fn bulk_against_single(client: &reqwest::Client, base: &str) -> String {
    let ws = workspace_id(0).to_string();
    let call = |body: Value| {
        let req = client
            .post(format!("{base}/graphql"))
            .header("authorization", format!("Bearer {}", token()))
            .json(&body);
        async move {
            let res: Value = req.send().await.unwrap().json().await.unwrap();
            assert!(res.get("errors").is_none(), "{res}");
        }
    };
    let before = statements(client, base).await;
    let started = Instant::now();
    for email in hundred("single", 0) {
        call(json!({ "query": CREATE, "variables": { "ws": ws, "email": email } })).await;
    }
    let single_ms = started.elapsed().as_secs_f64() * 1000.0;
    let single = statements(client, base).await - before;
    let before = statements(client, base).await;
    let started = Instant::now();
    call(json!({ "query": CREATE_MANY, "variables": { "ws": ws, "emails": hundred("many", 0) } }))
        .await;
    let bulk_ms = started.elapsed().as_secs_f64() * 1000.0;
    let bulk = statements(client, base).await - before;
    format!(
        "100 addresses: one createInvitations {bulk} statements, {bulk_ms:.1} ms; 100 createInvitation calls {single} statements, {single_ms:.1} ms\n"
    )
}

/// The statements of `sentInvitations` without HTTP or GraphQL: the
/// viewer's profile, the page, the creators, the workspaces.
fn ceiling_call(db: DatabaseConnection) -> Call {
    let identity = Identity {
        subject: "bench|0".into(),
        email: "user0@bench.test".into(),
        name: None,
        email_verified: true,
    };
    Arc::new(move |_| {
        let (db, identity) = (db.clone(), identity.clone());
        Box::pin(async move {
            let run = async {
                let caller = profiles::sign_in(&db, &identity).await?;
                let req = paging::PageRequest {
                    direction: paging::Direction::Forward,
                    limit: 50,
                    after: None,
                    before: None,
                };
                let now = invitations::clock::now();
                let query = inv::listing_query(&caller, inv::Listing::Sent, None, now)?;
                let page = inv::page(&db, query, &req, now).await?;
                let rows = || page.items.iter().map(|(_, i)| i);
                let creators = ids::distinct(rows(), |i| ProfileId(i.creator_id));
                let spaces = ids::distinct(rows(), |i| WorkspaceId(i.workspace_id));
                profiles::by_ids(&db, &creators).await?;
                workspaces::by_ids(&db, &spaces).await?;
                Ok::<_, invitations::error::Error>(page.items.len() == 50)
            };
            run.await.unwrap_or(false)
        })
    })
}

/// PostGraphile's form of request 2: the busy creator's 50 newest
/// invitations with creator and workspace (it checks no token).
fn postgraphile_listing() -> Value {
    json!({ "query": format!(
        "{{ allInvitations(first: 50, orderBy: [CREATED_DESC, ID_DESC], condition: {{ creatorId: \"{}\" }}) {{ nodes {{ id status email created creator: profileByCreatorId {{ name handle }} workspace: workspaceByWorkspaceId {{ name }} }} }} }}",
        profile_id(0)
    ) })
}

/// Apollo Server's form of request 2 (it checks no token either).
fn apollo_listing() -> Value {
    json!({ "query": format!(
        "{{ sentInvitations(creatorId: \"{}\", first: 50) {{ nodes {{ id status email created creator {{ name handle }} workspace {{ name }} }} }} }}",
        profile_id(0)
    ) })
}

/// A request body of a benchmark row.
type Body = fn() -> Value;

/// The peers' rows: `{ __typename }` and the listing, one peer at a time.
async fn peers(o: &Options, url: &str, client: &reqwest::Client) -> Vec<Row> {
    let mut rows = Vec::new();
    let peers: [(&str, &str, Body); 2] = [
        ("PostGraphile 4", "postgraphile", postgraphile_listing),
        ("Apollo Server 4 + DataLoader", "apollo", apollo_listing),
    ];
    for (name, folder, listing) in peers {
        let Some(peer) = Server::start_peer(folder, url) else {
            eprintln!("postgres: {name} skipped (run `npm ci` in bench/peers/{folder})");
            continue;
        };
        let endpoint = format!("{}/graphql", peer.base);
        for (what, body) in [
            (
                "{ __typename }",
                (|| json!({ "query": "{ __typename }" })) as Body,
            ),
            ("listing as request 2", listing),
        ] {
            eprintln!("postgres: {name}, {what}");
            let call = post_call(client, endpoint.clone(), None, move |_| body());
            rows.push(drive(o, &format!("peer: {name}, {what}"), call, Some(&peer)).await);
        }
        peer.stop();
    }
    rows
}

async fn bench_backend(o: &Options, backend: &str) -> (Vec<Row>, f64, f64, String) {
    eprintln!("{backend}: preparing the database");
    let url = prepare(backend, &o.pg_url).await;
    // Once to warm the files, then the measured start on an existing database.
    Server::start(&url).stop();
    let server = Server::start(&url);
    let ready_ms = server.ready_ms;
    eprintln!("{backend}: server ready in {ready_ms:.0} ms");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.concurrency)
        .build()
        .unwrap();
    let ws0 = workspace_id(0).to_string();
    let mut rows = Vec::new();
    let scenarios: Vec<(&str, Call)> = vec![
        (
            "1. { __typename }",
            graphql_call(
                &client,
                &server.base,
                |_| json!({ "query": "{ __typename }" }),
            ),
        ),
        (
            "2. sentInvitations(first: 50)",
            graphql_call(&client, &server.base, |_| json!({ "query": SENT })),
        ),
        ("3. workspace { invitations(first: 50) }", {
            let ws = ws0.clone();
            graphql_call(
                &client,
                &server.base,
                move |_| json!({ "query": OWNER, "variables": { "ws": ws } }),
            )
        }),
        ("4. createInvitation", {
            let ws = ws0.clone();
            graphql_call(
                &client,
                &server.base,
                move |i| json!({ "query": CREATE, "variables": { "ws": ws, "email": format!("load{i}@bench.test") } }),
            )
        }),
        ("5. createInvitations (100 addresses a call)", {
            let ws = ws0.clone();
            graphql_call(
                &client,
                &server.base,
                move |i| json!({ "query": CREATE_MANY, "variables": { "ws": ws, "emails": hundred("bulk", i) } }),
            )
        }),
    ];
    for (name, call) in scenarios {
        if name.starts_with('4') && backend == "postgres" {
            // The peers, on the same data, before the writes change it.
            rows.extend(peers(o, &url, &client).await);
        }
        if name.starts_with('4') {
            // Before the writes, which grow the busy creator's listing.
            eprintln!("{backend}: ceiling (the SQL of request 2, same driver and pool)");
            let db = invitations::startup::connect_with(&url, Duration::from_secs(5))
                .await
                .unwrap();
            let ceiling = drive(
                o,
                "ceiling: SQL of request 2",
                ceiling_call(db.clone()),
                None,
            )
            .await;
            db.close().await.ok();
            rows.push(ceiling);
        }
        eprintln!("{backend}: {name}");
        rows.push(drive(o, name, call, Some(&server)).await);
    }
    let bulk = bulk_against_single(&client, &server.base).await;
    let idle_rss = server.rss_mib();
    server.stop();
    cleanup(backend, &o.pg_url).await;
    (rows, ready_ms, idle_rss, bulk)
}

#[tokio::main]
async fn main() {
    let o = options();
    if let Some(backend) = &o.prepare_only {
        println!("{}", prepare(backend, &o.pg_url).await);
        return;
    }
    let backends: Vec<&str> = ["postgres", "sqlite"]
        .into_iter()
        .filter(|b| o.only.as_deref().is_none_or(|only| only == *b))
        .collect();
    let mut report = String::new();
    for backend in backends {
        let (rows, ready_ms, idle_rss, bulk) = bench_backend(&o, backend).await;
        let ceiling = rows
            .iter()
            .find(|r| r.name.starts_with("ceiling"))
            .map_or(0.0, |r| r.rps);
        report.push_str(&format!(
            "\n{backend}: {} connections, {} s per row after {} s warm-up; ready {ready_ms:.0} ms after start; RSS after the run {idle_rss:.1} MiB\n\n",
            o.concurrency, o.seconds, o.warmup
        ));
        report.push_str("| request | req/s | p50 ms | p99 ms | p99/p50 | errors | server RSS MiB (peak) | server cores | PostgreSQL cores | load generator cores |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for r in &rows {
            report.push_str(&format!(
                "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} | {} | {:.2} | {:.2} |\n",
                r.name,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                r.p99_ms / r.p50_ms.max(0.001),
                r.errors,
                r.rss_mib.map_or("-".into(), |m| format!("{m:.1}")),
                r.server_cores.map_or("-".into(), |c| format!("{c:.2}")),
                r.db_cores,
                r.client_cores,
            ));
        }
        if let Some(sent) = rows.get(1) {
            report.push_str(&format!(
                "\nrequest 2 reaches {:.0} % of its SQL ceiling\n",
                100.0 * sent.rps / ceiling.max(1.0)
            ));
            for peer in rows
                .iter()
                .filter(|r| r.name.starts_with("peer:") && r.name.ends_with("request 2"))
            {
                report.push_str(&format!(
                    "request 2 makes {:.2}x the requests per second of {}\n",
                    sent.rps / peer.rps.max(1.0),
                    peer.name
                ));
            }
        }
        report.push_str(&bulk);
    }
    println!("{report}");
}

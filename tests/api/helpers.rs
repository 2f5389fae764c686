//! One-line setup: `let app = spawn_app().await; let ada = app.user("ada@acme.test");`
//!
//! Like crates.io's test app, a [`TestApp`] checks when it is dropped that
//! every delivery the test left can be delivered: it sends what is still
//! due (to memory) and fails the test if anything is left queued or failed,
//! unless the test said so with [`TestApp::expect_undelivered`].

use invitations::auth::{self, Claims};
use invitations::config::{Secret, Settings};
use invitations::delivery::{Worker, WorkerConfig};
use invitations::mail::{message::Sender, Captured, EmailChannel, Mailer, Outgoing};
use invitations::startup::{Application, EmailWorker};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

pub struct TestApp {
    pub base: String,
    /// The test database, for a second connection pool (a second worker).
    pub db_url: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub metrics: std::sync::Arc<invitations::metrics::Metrics>,
    /// The app's own health, as `/readyz` reports it.
    pub health: invitations::health::Health,
    /// Where `/metrics` is served apart (`METRICS_ADDR`), if it is.
    pub metrics_base: Option<String>,
    undelivered_expected: AtomicBool,
    _database: TestDatabase,
}

/// A caller with a valid token.
#[derive(Clone)]
pub struct User {
    pub email: String,
    pub token: String,
}

/// Builds the app as `main` does, on port 0, with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl Fn(&mut Settings)) -> TestApp {
    let database = TestDatabase::create().await;
    let settings = test_settings(&database.url, &tweak);
    let app = Application::build(&settings).await.expect("the app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    let metrics = app.metrics();
    let health = app.health();
    let metrics_base = app.metrics_addr().map(|a| format!("http://{a}"));
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        metrics_base,
        db_url: database.url.clone(),
        client: reqwest::Client::new(),
        db,
        metrics,
        health,
        undelivered_expected: AtomicBool::new(false),
        _database: database,
    }
}

/// The settings every test starts from: the defaults (never the
/// developer's environment) and these.
fn test_settings(url: &str, tweak: &impl Fn(&mut Settings)) -> Settings {
    let mut settings = Settings::for_database(url);
    settings.bind_addr = "127.0.0.1:0".parse().unwrap();
    // As the SPEC's black-box tests run it: short expiries and cooldowns.
    settings.invitation_expiry_min = Duration::from_secs(1);
    settings.invitation_resend_cooldown = Duration::from_secs(1);
    settings.auth_clock_skew = Duration::ZERO;
    // Webhook tests call a receiver on 127.0.0.1.
    settings.webhook_allow_private = true;
    // As the SPEC's black-box tests run it: a federation subgraph.
    settings.graphql_federation = true;
    settings.auth_jwt_secret = Some(Secret::new(SECRET));
    settings.http_workers = Some(2);
    // Mail tests drive the worker step by step; most tests need no worker.
    settings.mail_worker = false;
    tweak(&mut settings);
    settings
}

/// Another server process's worth on the same database (its own pool and
/// HTTP server): returns its base URL.
pub async fn second_instance(app: &TestApp, tweak: impl Fn(&mut Settings)) -> String {
    let settings = test_settings(&app.db_url, &tweak);
    let other = Application::build(&settings)
        .await
        .expect("the second app builds");
    let base = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    base
}

/// The sender and link base of test emails.
pub fn email_channel(mailer: Mailer) -> EmailChannel {
    EmailChannel {
        mailer,
        sender: Sender::parse("Acme Invitations <invitations@acme.test>").unwrap(),
        public_app_url: "https://app.acme.test".into(),
    }
}

pub fn worker_config(max_attempts: i32) -> WorkerConfig {
    WorkerConfig {
        batch_size: 20,
        max_attempts,
        lease: Duration::from_secs(60),
        poll_interval: Duration::from_millis(50),
        concurrency: 1,
    }
}

/// An email worker on `db`, with fixed jitter so retry times are exact.
pub fn email_worker(db: &DatabaseConnection, mailer: Mailer, max_attempts: i32) -> EmailWorker {
    Worker::new(
        db.clone(),
        email_channel(mailer),
        worker_config(max_attempts),
    )
    .with_jitter(|| 0.5)
}

pub fn token(claims: &Claims) -> String {
    auth::mint(SECRET.as_bytes(), claims)
}

pub fn claims(sub: &str, email: &str) -> Claims {
    Claims {
        sub: sub.to_owned(),
        email: email.to_owned(),
        name: None,
        email_verified: None,
        exp: auth::expiry_in(Duration::from_secs(3600)),
        iss: None,
        aud: None,
    }
}

impl TestApp {
    /// An email worker on this app's database.
    pub fn worker(&self, mailer: Mailer) -> EmailWorker {
        email_worker(&self.db, mailer, 8)
    }

    /// Sends every email that is due, to memory, and returns them.
    pub async fn deliver_all(&self) -> Vec<Outgoing> {
        let captured = Captured::default();
        self.worker(Mailer::Memory(captured.clone()))
            .drain(invitations::clock::now())
            .await
            .expect("delivery runs");
        let sent = captured.lock().unwrap().clone();
        sent
    }

    /// This test means to leave deliveries queued or failed.
    pub fn expect_undelivered(&self) {
        self.undelivered_expected.store(true, Ordering::SeqCst);
    }

    /// A user whose subject is derived from the email.
    pub fn user(&self, email: &str) -> User {
        self.user_with(claims(&format!("sub|{email}"), email))
    }

    pub fn user_with(&self, claims: Claims) -> User {
        User {
            email: claims.email.clone(),
            token: token(&claims),
        }
    }

    /// POSTs one GraphQL operation and returns the response body.
    pub async fn gql(&self, user: Option<&User>, query: &str, variables: Value) -> Value {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(u) = user {
            req = req.bearer_auth(&u.token);
        }
        let res = req.send().await.expect("the server answers");
        assert_eq!(res.status(), 200, "GraphQL responses are 200");
        res.json().await.expect("a JSON body")
    }

    /// As `gql`, asserting there are no errors, and returning `data`.
    pub async fn ok(&self, user: &User, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(user), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    pub async fn create_workspace(&self, owner: &User, name: &str, domains: &[&str]) -> String {
        let data = self
            .ok(
                owner,
                "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }",
                json!({ "input": { "name": name, "domains": domains } }),
            )
            .await;
        data["createWorkspace"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn profile_id(&self, user: &User) -> String {
        let data = self.ok(user, "{ me { id } }", json!({})).await;
        data["me"]["id"].as_str().unwrap().to_owned()
    }

    /// Makes `user` a plain member of a workspace, straight in the database
    /// (invitations are the real way in; this keeps workspace tests apart).
    pub async fn add_member(&self, workspace_id: &str, user: &User) {
        use sea_orm::{ActiveModelTrait, Set};
        let profile_id = self.profile_id(user).await.parse().unwrap();
        entity::membership::ActiveModel {
            workspace_id: Set(workspace_id.parse().unwrap()),
            profile_id: Set(profile_id),
            role: Set(entity::membership::Role::Member),
            created: Set(invitations::domain::now()),
            invitation_id: Set(None),
        }
        .insert(&self.db)
        .await
        .unwrap();
    }
}

/// The first error's `extensions.code`.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body:#}"))
}

/// The first error's `extensions.reason`.
pub fn reason(body: &Value) -> &str {
    body["errors"][0]["extensions"]["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("no reason in {body:#}"))
}

/// A database only this test uses, removed when the test ends.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// An empty database (no migrations applied).
    pub async fn create() -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                assert!(
                    admin_url.starts_with("postgres"),
                    "TEST_DATABASE_URL must be postgres://..."
                );
                let name = format!("invitations_test_{unique}");
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL points at a running PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("can create a test database");
                admin.close().await.ok();
                let url = replace_database(&admin_url, &name);
                Self {
                    url,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("invitations-test-{unique}.db"));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Cleanup::SqliteFile(path),
                }
            }
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() || self.undelivered_expected.load(Ordering::SeqCst) {
            return;
        }
        let url = self.db_url.clone();
        // Drop runs inside the test's runtime: use a thread of its own.
        let left = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let db = invitations::startup::connect_with(&url, Duration::from_secs(5))
                    .await
                    .expect("the test database is still there");
                email_worker(&db, Mailer::Memory(Captured::default()), 8)
                    .drain(invitations::clock::now())
                    .await
                    .expect("delivery runs");
                let left = invitations::delivery::outbox::count_by_status(
                    &db,
                    &invitations::delivery::outbox::EMAILS,
                )
                .await
                .expect("the outbox can be counted");
                db.close().await.ok();
                left
            })
        })
        .join()
        .unwrap();
        let stuck: Vec<_> = left
            .iter()
            .filter(|(status, n)| *n > 0 && ["QUEUED", "FAILED"].contains(&status.as_str()))
            .collect();
        assert!(
            stuck.is_empty(),
            "deliveries left undelivered: {stuck:?} (call app.expect_undelivered() if the test means it)"
        );
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm", ".jwt-secret"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                            admin.close().await.ok();
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub const INVITE: &str = "mutation($ws: ID!, $email: String!) {
  createInvitation(workspaceId: $ws, email: $email) {
    id status email created lastModified
    creator { id handle }
    workspace { id name }
    emailDelivery { status attempts lastAttempt sentAt lastError }
  }
}";

pub const ACCEPT: &str = "mutation($id: ID!) { acceptInvitation(id: $id) { id status lastModified workspace { id viewerRole } } }";
pub const WITHDRAW: &str = "mutation($id: ID!) { withdrawInvitation(id: $id) { id status lastModified emailDelivery { status } } }";
pub const DELETE_INVITATION: &str = "mutation($id: ID!) { deleteInvitation(id: $id) }";

impl TestApp {
    /// Sends `createInvitation` and returns the whole response.
    pub async fn invite(&self, creator: &User, workspace_id: &str, email: &str) -> Value {
        self.gql(
            Some(creator),
            INVITE,
            json!({ "ws": workspace_id, "email": email }),
        )
        .await
    }

    /// Invites and returns the new invitation's id, asserting success.
    pub async fn invited(&self, creator: &User, workspace_id: &str, email: &str) -> String {
        let body = self.invite(creator, workspace_id, email).await;
        assert!(body.get("errors").is_none(), "invite failed: {body:#}");
        body["data"]["createInvitation"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The real way in: invited by `by`, accepted by `user`.
    pub async fn join(&self, workspace_id: &str, by: &User, user: &User) -> String {
        let id = self.invited(by, workspace_id, &user.email).await;
        self.ok(user, ACCEPT, json!({ "id": id })).await;
        id
    }

    pub fn statements(&self) -> u64 {
        self.metrics.sql_statements.get()
    }

    /// SQL statements one request makes: the fewest of five runs, since a
    /// loader batch that the scheduler splits in two (its 1 ms window
    /// closing early on a busy machine) adds a statement by timing, not by
    /// the request's shape.
    pub async fn fewest_statements(&self, user: &User, query: &str, vars: Value) -> u64 {
        let mut fewest = u64::MAX;
        for _ in 0..5 {
            let before = self.statements();
            self.ok(user, query, vars.clone()).await;
            fewest = fewest.min(self.statements() - before);
        }
        fewest
    }
}

/// The usual cast: Ada owns the workspace Acme (domains acme.test and
/// bücher.example); Bob is a member who joined through an invitation.
pub struct Team {
    pub app: TestApp,
    pub ada: User,
    pub bob: User,
    pub ws: String,
}

impl Team {
    pub async fn on(app: TestApp) -> Self {
        let ada = app.user("ada@acme.test");
        let bob = app.user("bob@acme.test");
        let ws = app
            .create_workspace(&ada, "Acme", &["acme.test", "bücher.example"])
            .await;
        app.join(&ws, &ada, &bob).await;
        Team { app, ada, bob, ws }
    }
}

/// A [`Team`] on a fresh app with the test settings.
pub async fn team() -> Team {
    Team::on(spawn_app().await).await
}

/// The server binary as another process on a test database, killed when
/// dropped: `let b = ServerProcess::start(&app.db_url, &[]);`.
pub struct ServerProcess {
    child: std::process::Child,
    pub base: String,
    /// What it has logged (JSON lines).
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Serves `db_url` with the test secret and these settings besides.
    pub fn start(db_url: &str, env: &[(&str, &str)]) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_invitations"))
            .arg("serve")
            // Only the settings below: a developer's own environment stays out.
            .env_clear()
            .env("DATABASE_URL", db_url)
            .env("AUTH_JWT_SECRET", SECRET)
            .env("AUTH_CLOCK_SKEW", "0s")
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut said = Vec::new();
        let address = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("the server logs its address; it said: {said:?}"))
                .unwrap();
            said.push(line.clone());
            let event: Value = serde_json::from_str(&line).unwrap_or_default();
            if event["message"] == "serving" {
                break event["address"].as_str().unwrap().to_owned();
            }
        };
        // Keep reading, so a full pipe never stalls the server.
        let log = std::sync::Arc::new(std::sync::Mutex::new(said));
        let keep = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                keep.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            base: format!("http://{address}"),
            log,
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

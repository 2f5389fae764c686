//! Builds the application one way for `main` and for tests: database,
//! migrations, auth, the delivery worker, the schema, and an HTTP server on
//! a bound listener (tests bind port 0 and read the port back).

use actix_web::{
    dev::Server,
    middleware::{from_fn, Compress},
    web, App, HttpServer,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::{net::TcpListener, sync::Arc, time::Duration};
use tokio::sync::watch;

use crate::auth;
use crate::config::Settings;
use crate::delivery::{Channel, Wakeup, Worker, WorkerConfig};
use crate::domain::rate_limit::RateLimits;
use crate::domain::values::webhook_url::Reach;
use crate::graphql::{self, limits::ShapeLimits, Limits, Policy, Services};
use crate::health::Health;
use crate::http::{self, middleware, AppState, HttpLimits};
use crate::live::Feed;
use crate::mail::{message::Sender, EmailChannel, Mailer, SmtpConfig};
use crate::metrics::Metrics;
use crate::webhook::WebhookChannel;

/// The worker that sends invitation emails.
pub type EmailWorker = Worker<EmailChannel>;
/// The worker that calls webhooks.
pub type WebhookWorker = Worker<WebhookChannel>;

pub struct Application {
    port: u16,
    server: Server,
    /// `/metrics` on `METRICS_ADDR`, when set.
    metrics_server: Option<(std::net::SocketAddr, Server)>,
    db: DatabaseConnection,
    metrics: Arc<Metrics>,
    worker: Option<(EmailWorker, WebhookWorker)>,
    wakeup: Wakeup,
    feed: Feed,
    health: Health,
    pub dev_mode: bool,
}

/// A plain message for the operator; the process exits with it.
#[derive(Debug)]
pub struct StartupError(pub String);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<DbErr> for StartupError {
    fn from(e: DbErr) -> Self {
        StartupError(format!("database: {e}"))
    }
}

impl From<std::io::Error> for StartupError {
    fn from(e: std::io::Error) -> Self {
        StartupError(e.to_string())
    }
}

/// TLS (SMTP, the OpenID key set) uses ring, whatever else the build has
/// linked in: with two crypto providers in a build (test builds have
/// aws-lc-rs too), rustls cannot choose and panics at the first handshake.
pub fn use_ring_for_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Opens the pool, waiting at most `acquire_timeout` for a connection so
/// requests fail quickly while the database is away. SQLite gets WAL and a
/// busy timeout; it keeps its default of one connection, which serialises
/// writers (see the README).
pub async fn connect_with(
    url: &str,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    connect_pool(url, acquire_timeout, None).await
}

/// As [`connect_with`], with at most `max_connections` to PostgreSQL
/// (`DB_MAX_CONNECTIONS`; the driver's default of 10 when `None`).
pub async fn connect_pool(
    url: &str,
    acquire_timeout: Duration,
    max_connections: Option<u32>,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    if let Some(n) = max_connections.filter(|_| url.starts_with("postgres")) {
        options.max_connections(n.max(2));
    }
    options
        .sqlx_logging(false)
        .acquire_timeout(acquire_timeout)
        .connect_timeout(acquire_timeout)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// The database the settings name, counting every statement into
/// `metrics`, migrated unless `--no-migrate`.
pub async fn database(
    settings: &Settings,
    metrics: &Metrics,
) -> Result<DatabaseConnection, StartupError> {
    let mut db = connect_pool(
        settings.database_url.expose(),
        settings.db_acquire_timeout,
        Some(settings.db_max_connections),
    )
    .await?;
    // Set before the handle is cloned, so every clone counts.
    let statements = metrics.sql_statements.clone();
    db.set_metric_callback(move |_| {
        statements.inc();
    });
    if !settings.no_migrate {
        Migrator::up(&db, None).await?;
    }
    Ok(db)
}

/// The mailer the settings ask for: SMTP with `SMTP_URL`, files otherwise.
pub fn mailer(settings: &Settings) -> Result<Mailer, StartupError> {
    match &settings.smtp_url {
        Some(url) => Ok(Mailer::Smtp(
            SmtpConfig::parse(url.expose()).map_err(StartupError)?,
        )),
        None => Ok(Mailer::File(settings.mail_dir.clone())),
    }
}

/// The email channel the settings describe, over `mailer`.
pub fn email_channel(settings: &Settings, mailer: Mailer) -> Result<EmailChannel, StartupError> {
    Ok(EmailChannel {
        mailer,
        sender: Sender::parse(&settings.mail_from).map_err(StartupError)?,
        public_app_url: settings.public_app_url.clone(),
    })
}

pub fn worker_config(settings: &Settings) -> WorkerConfig {
    WorkerConfig {
        batch_size: settings.mail_batch_size.max(1),
        max_attempts: settings.mail_max_attempts.max(1),
        lease: settings.mail_lease,
        poll_interval: settings.mail_poll_interval,
        concurrency: settings.mail_concurrency.max(1),
    }
}

/// The email worker, as `serve` and `worker` run it.
pub fn email_worker(
    settings: &Settings,
    db: DatabaseConnection,
    metrics: &Metrics,
) -> Result<EmailWorker, StartupError> {
    let channel = email_channel(settings, mailer(settings)?)?;
    Ok(Worker::new(db, channel, worker_config(settings)).with_metrics(metrics.email_delivery()))
}

/// The webhook worker, as `serve` and `worker` run it: one delivery per
/// claim, so a slow receiver holds one lane for at most `WEBHOOK_TIMEOUT`.
pub fn webhook_worker(
    settings: &Settings,
    db: DatabaseConnection,
    metrics: &Metrics,
) -> Result<WebhookWorker, StartupError> {
    let channel = WebhookChannel::new(
        Reach::from_allow_private(settings.webhook_allow_private),
        settings.webhook_timeout,
    )
    .map_err(StartupError)?;
    let config = WorkerConfig {
        batch_size: 1,
        max_attempts: settings.webhook_max_attempts.max(1),
        ..worker_config(settings)
    };
    Ok(Worker::new(db, channel, config).with_metrics(metrics.webhooks.clone()))
}

/// Runs a worker until `stop`, on a task of its own so that a panic in it
/// is reported rather than taking the caller down; `health` knows whether
/// it runs.
pub async fn run_worker<C: Channel>(
    worker: Worker<C>,
    wakeup: Wakeup,
    stop: watch::Receiver<bool>,
    health: Health,
) {
    health.worker_started();
    let ended = tokio::spawn(worker.run(wakeup, stop.clone())).await;
    health.worker_ended();
    match ended {
        Err(e) => tracing::error!(error = %e, "delivery worker ended abnormally"),
        Ok(()) if !*stop.borrow() => tracing::error!("delivery worker ended before the server"),
        Ok(()) => {}
    }
}

/// The background chores, every few seconds: writing down expired
/// invitations with their `EXPIRED` events (no read depends on it: an
/// invitation is expired from its `expires_at` on, but the history and its
/// subscribers hear of it), and forgetting idempotency keys past 24 hours.
pub async fn run_sweeper(db: DatabaseConnection, mut stop: watch::Receiver<bool>) {
    use crate::domain::{
        idempotency,
        invitations::expiry::{materialize, Scope},
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => break,
        }
        let now = crate::clock::now();
        if let Err(e) = materialize(&db, Scope::Due(500), now).await {
            tracing::warn!(error = ?e, "could not write down expired invitations");
        }
        if let Err(e) = idempotency::forget_expired(&db, now).await {
            tracing::warn!(error = ?e, "could not forget old idempotency keys");
        }
    }
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        use_ring_for_tls();
        let (verifier, dev_mode) = auth::verifier_from(settings).map_err(StartupError)?;
        if dev_mode && !settings.bind_addr.ip().is_loopback() {
            return Err(StartupError(format!(
                "refusing to listen on {} in development mode: set AUTH_JWT_SECRET or AUTH_JWKS_URL",
                settings.bind_addr
            )));
        }
        let metrics = Arc::new(Metrics::new());
        let db = database(settings, &metrics).await?;
        let wakeup = Wakeup::default();
        let feed = Feed::default();
        let health = Health::default();
        let worker = if settings.mail_worker {
            Some((
                email_worker(settings, db.clone(), &metrics)?,
                webhook_worker(settings, db.clone(), &metrics)?,
            ))
        } else {
            None
        };
        if worker.is_some() && settings.smtp_url.is_none() && !settings.bind_addr.ip().is_loopback()
        {
            tracing::warn!(
                mail_dir = %settings.mail_dir.display(),
                "NO EMAIL LEAVES THIS SERVER: SMTP_URL is not set, so invitation emails are only written as files"
            );
        }
        let schema = graphql::build_schema(
            db.clone(),
            Limits {
                max_depth: settings.graphql_max_depth,
                max_complexity: settings.graphql_max_complexity,
                max_directives: settings.graphql_max_directives,
                introspection: settings.graphql_introspection,
                resolver_spans: settings.graphql_resolver_spans,
                federation: settings.graphql_federation,
            },
            Services {
                wakeup: wakeup.clone(),
                feed: feed.clone(),
                policy: Policy {
                    rate_limits: RateLimits {
                        per_inviter: settings.invite_rate_per_inviter,
                        per_workspace: settings.invite_rate_per_workspace,
                        window: settings.invite_rate_window,
                    },
                    expiry_min: settings.invitation_expiry_min,
                    resend_cooldown: settings.invitation_resend_cooldown,
                    webhook_reach: Reach::from_allow_private(settings.webhook_allow_private),
                },
            },
        );
        let limits = HttpLimits {
            shape: ShapeLimits {
                max_aliases: settings.graphql_max_aliases,
                max_root_fields: settings.graphql_max_root_fields,
            },
            max_body_bytes: settings.max_body_bytes,
            body_timeout: settings.request_body_timeout,
            max_batch: settings.graphql_max_batch,
            request_timeout: settings.request_timeout,
            max_subscriptions: settings.graphql_max_subscriptions.max(1),
        };
        let state = web::Data::new(
            AppState::new(
                db.clone(),
                schema,
                Arc::new(verifier),
                metrics.clone(),
                health.clone(),
                limits,
                settings.graphql_trusted_documents.as_deref(),
                settings.graphql_persisted_queries,
                settings.cors_allowed_origins.clone(),
            )
            .map_err(StartupError)?,
        );
        let origins = settings.cors_allowed_origins.clone();
        // With METRICS_ADDR, /metrics is served there only.
        let metrics_server = match settings.metrics_addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr)?;
                let bound = listener.local_addr()?;
                let state = state.clone();
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(state.clone())
                        .configure(http::metrics_routes)
                })
                .workers(1)
                .disable_signals()
                .listen(listener)?
                .run();
                Some((bound, server))
            }
            None => None,
        };
        let public_metrics = metrics_server.is_none();

        let listener = TcpListener::bind(settings.bind_addr)?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(Compress::default())
                .wrap(middleware::cors(&origins))
                .wrap(from_fn(middleware::request_id))
                .configure(|cfg| http::routes(cfg, public_metrics))
        })
        .shutdown_timeout(30)
        // Subscriptions push small frames one at a time: Nagle's algorithm
        // would hold one back until the client's delayed ACK (tens of ms).
        .tcp_nodelay(true)
        .listen(listener)?;
        if let Some(n) = settings.http_workers {
            server = server.workers(n.max(1));
        }
        Ok(Self {
            port,
            server: server.run(),
            metrics_server,
            db,
            metrics,
            worker,
            wakeup,
            feed,
            health,
            dev_mode,
        })
    }

    /// Where `/metrics` is served apart (`METRICS_ADDR`), if it is.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_server.as_ref().map(|(addr, _)| *addr)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// What the app knows of its health (shared: it keeps watching after
    /// `run`).
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// The app's metrics (shared: they keep counting after `run`).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests and
    /// the delivery in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let watcher = tokio::spawn(self.health.clone().watch(self.db.clone()));
        // The feed's own reads (SQLite's tail, polled) stay out of the
        // statement counter, which measures requests and deliveries.
        let mut feed_db = self.db.clone();
        feed_db.set_metric_callback(|_| {});
        let feed = tokio::spawn(self.feed.run(feed_db, stopped.clone()));
        let metrics_server = self.metrics_server.map(|(_, server)| server);
        let metrics_handle = metrics_server.as_ref().map(Server::handle);
        if let Some(server) = metrics_server {
            tokio::spawn(server);
        }
        let serve = async {
            let served = self.server.await;
            let _ = stop.send(true);
            if let Some(handle) = metrics_handle {
                handle.stop(true).await;
            }
            served
        };
        let deliver = async {
            if let Some((emails, webhooks)) = self.worker {
                tokio::join!(
                    run_worker(
                        emails,
                        self.wakeup.clone(),
                        stopped.clone(),
                        self.health.clone()
                    ),
                    run_worker(webhooks, self.wakeup, stopped.clone(), self.health),
                    run_sweeper(self.db.clone(), stopped),
                );
            }
        };
        let (served, ()) = tokio::join!(serve, deliver);
        watcher.abort();
        feed.abort();
        served
    }
}

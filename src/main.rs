//! `invitations`: serve, migrate, mint a development token, print the SDL.

// The binary shares the library's dependency list; it uses few of them.
#![allow(unused_crate_dependencies)]

use clap::Parser;
use migration::{Migrator, MigratorTrait};
use std::process::ExitCode;

use invitations::auth::{self, Claims};
use invitations::config::{Cli, Command, MigrateAction, Settings, TokenArgs};
use invitations::delivery::Wakeup;
use invitations::metrics::Metrics;
use invitations::startup::{self, Application, StartupError};
use invitations::{graphql, telemetry};

/// mimalloc: the server allocates many small short-lived objects per
/// request (GraphQL values, futures); glibc's malloc spent a fifth of the
/// CPU on them (see README, Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    startup::use_ring_for_tls();
    let cli = Cli::parse();
    let _telemetry = telemetry::init(cli.settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.settings).await,
        Command::Migrate { action } => migrate(&cli.settings, action).await,
        Command::Token(args) => token(&cli.settings, &args),
        Command::Schema { federation } => {
            if federation {
                print!("{}", graphql::federation_sdl());
            } else {
                print!("{}", graphql::sdl());
            }
            Ok(())
        }
        Command::Worker => worker(&cli.settings).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("invitations: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: &Settings) -> Result<(), StartupError> {
    let app = Application::build(settings).await?;
    let addr = format!("{}:{}", settings.bind_addr.ip(), app.port());
    tracing::info!(
        address = %addr,
        metrics = %app.metrics_addr().map_or_else(|| format!("http://{addr}/metrics"), |m| format!("http://{m}/metrics")),
        graphiql = %format!("http://{addr}/graphql"),
        dev_mode = app.dev_mode,
        "serving"
    );
    if app.dev_mode {
        tracing::warn!(
            "development mode: tokens are signed with a generated secret; mint one with `invitations token --email you@example.com`"
        );
    }
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Only the delivery worker, until SIGINT or SIGTERM.
async fn worker(settings: &Settings) -> Result<(), StartupError> {
    let metrics = Metrics::new();
    let db = startup::database(settings, &metrics).await?;
    let emails = startup::email_worker(settings, db.clone(), &metrics)?;
    let webhooks = startup::webhook_worker(settings, db.clone(), &metrics)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let health = invitations::health::Health::default();
    let running = async {
        tokio::join!(
            startup::run_worker(emails, Wakeup::default(), stopped.clone(), health.clone()),
            startup::run_worker(webhooks, Wakeup::default(), stopped.clone(), health),
            startup::run_sweeper(db, stopped),
        )
    };
    let signal = async {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    tokio::join!(running, signal);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn migrate(settings: &Settings, action: MigrateAction) -> Result<(), StartupError> {
    let db =
        startup::connect_with(settings.database_url.expose(), settings.db_acquire_timeout).await?;
    match action {
        MigrateAction::Up => Migrator::up(&db, None).await?,
        MigrateAction::Down => Migrator::down(&db, Some(1)).await?,
        MigrateAction::Status => Migrator::status(&db).await?,
        MigrateAction::Fresh => Migrator::fresh(&db).await?,
    }
    Ok(())
}

fn token(settings: &Settings, args: &TokenArgs) -> Result<(), StartupError> {
    let source = auth::secret_source(settings).map_err(StartupError)?;
    let claims = Claims {
        sub: args
            .sub
            .clone()
            .unwrap_or_else(|| format!("dev|{}", args.email)),
        email: args.email.clone(),
        name: args.name.clone(),
        email_verified: None,
        exp: auth::expiry_in(args.ttl),
        iss: settings.auth_issuer.clone(),
        aud: settings.auth_audience.clone().map(Into::into),
    };
    println!("{}", auth::mint(&source.secret, &claims));
    Ok(())
}
